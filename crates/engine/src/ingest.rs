//! The ingest pipeline: decode, attribute on the decoding threads, and (optionally) write into
//! the store — one loop for the CLI and for tests.

use std::sync::{Arc, Mutex};

use acrlens_attrib::{Attributor, VerdictMemo, reads_attribution};
use acrlens_events::{
    BatchTransform, ColumnSet, DecodeOptions, Decoded, Decoder, InputSource, TransformError,
};
use acrlens_netmap::{LazyTopology, LoadError, Topology};

use crate::store::{RunSummary, Store, StoreError, StoreOptions, StoreRun};

/// Attribution as a batch transform for the decoder, building `columns` of the attributed
/// schema (the decoder must build [`decode_columns`](acrlens_attrib::decode_columns) of them,
/// with [`DecodeOptions::attribution`] set when [`reads_attribution`] of them).
/// A transform that reads an attribution column starts loading the topology as it is made
/// (the first batch waits for what is left of the load); one that reads none never loads it.
pub fn attribution(topology: LazyTopology, columns: ColumnSet) -> BatchTransform {
    // One memo per decoding thread at a time, handed back after each batch: decisions outlive
    // the batch that made them.
    let memos: Mutex<Vec<VerdictMemo>> = Mutex::new(Vec::new());
    if reads_attribution(columns) {
        topology.preload();
    }
    Arc::new(move |batch, callers| {
        let topology: &Topology = if reads_attribution(columns) {
            topology.get()?
        } else {
            Topology::empty()
        };
        let mut memo = lock(&memos).pop().unwrap_or_default();
        let attributed =
            Attributor::new(topology).attribute_columns(&batch, callers, columns, &mut memo);
        lock(&memos).push(memo);
        Ok(attributed?)
    })
}

/// The pool of memos, whatever a panicking batch left it as (a memo is only a cache).
fn lock(memos: &Mutex<Vec<VerdictMemo>>) -> std::sync::MutexGuard<'_, Vec<VerdictMemo>> {
    memos
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Why the observer of an ingest stopped it.
pub type ObserverError = Box<dyn std::error::Error + Send + Sync>;

/// Why an ingest failed.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The store could not be written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The topology could not be loaded.
    #[error(transparent)]
    Topology(#[from] LoadError),
    /// Attribution failed.
    #[error("attribution failed: {0}")]
    Attribution(#[source] TransformError),
    /// The observer stopped the run.
    #[error("{0}")]
    Observer(#[source] ObserverError),
}

/// What an ingest did besides what the observer saw.
#[derive(Debug, Default)]
pub struct IngestOutcome {
    /// The store run, when there is a store.
    pub run: Option<RunSummary>,
    /// Inputs that changed in place and were not re-read.
    pub changed_in_place: Vec<String>,
}

/// Decodes and attributes `sources`, shows every item to `observe`, and writes rows and
/// quarantine into `store` (reading only what is new to it) when one is given. A topology not
/// loaded yet loads on a thread of its own while the first units decode (see [`attribution`]);
/// one that cannot be loaded fails the run, even one with nothing new to read.
pub fn ingest(
    sources: Vec<InputSource>,
    options: DecodeOptions,
    topology: LazyTopology,
    store: Option<(&Store, StoreOptions)>,
    mut observe: impl FnMut(&Decoded) -> Result<(), ObserverError>,
) -> Result<IngestOutcome, IngestError> {
    let mut outcome = IngestOutcome::default();
    let (sources, mut run) = match store {
        Some((store, store_options)) => {
            let plan = store.plan(sources)?;
            let run = store.begin(&plan, store_options)?;
            outcome.changed_in_place = plan.changed_in_place;
            (plan.sources, Some(run))
        }
        None => (sources, None),
    };
    let options = DecodeOptions {
        attribution: true,
        // The merge waits for no row group (they are written in the background), so one unit
        // in flight per thread keeps the threads busy (README, "2026-12-06, 19:00").
        units_per_thread: 1,
        ..options
    };
    let mut decoder = Decoder::new(sources, options)
        .with_transform(attribution(topology.clone(), ColumnSet::ALL));
    if let Some(run) = run.as_mut() {
        run.encode_on(decoder.threads());
    }
    let mut step = |item: Decoded, run: Option<&mut StoreRun>| -> Result<(), IngestError> {
        let item = match item {
            // Attribution fails at once on a topology that did not load: say why.
            Decoded::Failed(e) => {
                return Err(topology
                    .get()
                    .err()
                    .map_or(IngestError::Attribution(e), Into::into));
            }
            item => item,
        };
        observe(&item).map_err(IngestError::Observer)?;
        let Some(run) = run else { return Ok(()) };
        match &item {
            Decoded::Batch(batch) => run.write(batch)?,
            Decoded::Quarantined(q) => run.quarantine(q)?,
            Decoded::SourceDone(stats) => run.source_done(stats)?,
            Decoded::Failed(_) => {}
        }
        Ok(())
    };
    let mut written = || -> Result<(), IngestError> {
        for item in decoder.by_ref() {
            step(item, run.as_mut())?;
        }
        if let Some(open) = run.as_mut() {
            open.finish_parts()?;
        }
        topology.get()?;
        Ok(())
    };
    if let Err(e) = written() {
        if let Some(run) = run {
            run.abandon();
        }
        return Err(e);
    }
    // The decoding threads end here, before the rollups start threads of their own.
    drop(decoder);
    outcome.run = run.map(StoreRun::commit).transpose()?;
    Ok(outcome)
}

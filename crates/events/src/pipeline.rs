//! The decoder: reading on one thread, which starts decoding each unit on the rayon pool as soon
//! as it is read, and a merge in input order that de-duplicates, counts and hands out batches.
//! Memory is bounded by the units read and not yet merged (`units_per_thread × parallelism` of
//! `chunk_bytes` each, at most), whatever the input size.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread;

use arrow_array::{Array, BooleanArray, RecordBatch, TimestampMicrosecondArray};
use arrow_select::filter::filter_record_batch;

use crate::buffers::UnitBuffers;
use crate::builder::{Built, TimeWindow};
use crate::columns::ColumnSet;
use crate::decode::{UnitOutput, decode_unit, panic_message};
use crate::dedup::Dedup;
use crate::error::TransformError;
use crate::format::InputFormat;
use crate::quarantine::Quarantined;
use crate::reader::{Disconnected, MIN_READ, ReaderConfig, Unit, read_all};
use crate::source::InputSource;
use crate::stats::SourceStats;

/// How to decode.
#[derive(Debug, Clone, Copy)]
pub struct DecodeOptions {
    /// The input shape, or [`InputFormat::Auto`] to detect it per input.
    pub format: InputFormat,
    /// Keep only records inside this window.
    pub window: TimeWindow,
    /// Target size of a work unit (and so of a batch): [`DecodeOptions::default`] takes 2 MiB,
    /// about 2,200 records, which keeps the input held in memory small; a consumer with costs
    /// of its own per batch takes larger units ([`INGEST_CHUNK_BYTES`]).
    pub chunk_bytes: usize,
    /// A record longer than this is quarantined without being held whole in memory.
    pub max_record_bytes: usize,
    /// Decoding threads; 0 means one per core.
    pub parallelism: usize,
    /// Units read and not yet merged, per decoding thread (at least one): what bounds the
    /// input held. Two by default, so a thread finishing a unit finds the next one read while
    /// the merge waits for an earlier one; `ingest`, whose merge waits for nothing, takes one
    /// (the same speed, 18–48 MiB less).
    pub units_per_thread: usize,
    /// Drop duplicate records (same correlation id, time, operation and caller).
    pub dedup: bool,
    /// The columns of [`event_schema`](crate::event_schema) to build; the others arrive as
    /// [`placeholder`](crate::placeholder)s. All by default.
    pub columns: ColumnSet,
    /// The batches go on to attribution (the [`BatchTransform`]): it receives each row's caller
    /// address as a number, and the columns it reads only on some rows are built there (see
    /// [`EventBatchBuilder::for_attribution`](crate::EventBatchBuilder::for_attribution)).
    pub attribution: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            format: InputFormat::Auto,
            window: TimeWindow::default(),
            chunk_bytes: 2 << 20,
            max_record_bytes: 16 << 20,
            parallelism: 0,
            units_per_thread: 2,
            dedup: true,
            columns: ColumnSet::ALL,
            attribution: false,
        }
    }
}

/// The unit size of `ingest`: 8 MiB, about 9,000 records a batch. The store writer pays a cost
/// per batch; at 2 MiB units the handing over of four times as many took 13% more time on the
/// 1 M-event benchmark, for 1.5% more instructions (measured when the writer still ran on the
/// decoding threads).
pub const INGEST_CHUNK_BYTES: usize = 8 << 20;

/// A function applied to every decoded batch on the decoding threads (attribution, say), so
/// it runs in parallel with everything else: the rows, and each row's caller address when
/// [`DecodeOptions::attribution`] is set. An error stops the run.
pub type BatchTransform = Arc<
    dyn Fn(
            RecordBatch,
            Option<&[Option<IpAddr>]>,
        ) -> Result<RecordBatch, Box<dyn std::error::Error + Send + Sync>>
        + Send
        + Sync,
>;

/// What the decoder hands out, in input order.
#[derive(Debug)]
pub enum Decoded {
    /// Canonical rows.
    Batch(RecordBatch),
    /// A record that could not become a row.
    Quarantined(Quarantined),
    /// An input is finished; its counts reconcile.
    SourceDone(SourceStats),
    /// The batch transform failed: the run cannot go on.
    Failed(TransformError),
}

/// Decodes inputs into batches of the canonical schema; an iterator of [`Decoded`].
pub struct Decoder {
    /// What the reading thread needs, until the first item is asked for (by then the batch
    /// transform is set).
    start: Option<Start>,
    /// Each unit's result, in input order: a channel of its own that answers once the unit is
    /// decoded.
    decoded: Option<Receiver<Receiver<UnitOutput>>>,
    /// The decoder's own workers: the consumer never is one of them, so waiting for a unit can
    /// never take the thread that should decode it.
    pool: Arc<rayon::ThreadPool>,
    ready: VecDeque<Decoded>,
    stats: Vec<Option<SourceStats>>,
    dedup: Option<Dedup>,
    transform: Option<BatchTransform>,
}

/// The inputs and settings of the reading thread.
struct Start {
    sources: Vec<InputSource>,
    config: ReaderConfig,
    /// Unit buffers shared by the reader and the decoders, which hand theirs back.
    buffers: Arc<UnitBuffers>,
    /// Units read and not yet merged, at most.
    width: usize,
}

impl Decoder {
    /// A decoder of `sources`; reading and decoding start with the first `next`, in the
    /// background.
    ///
    /// # Panics
    /// If the operating system cannot start the decoding threads, or (at the first `next`)
    /// the reading thread.
    pub fn new(sources: Vec<InputSource>, options: DecodeOptions) -> Self {
        let threads = match options.parallelism {
            0 => thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let width = threads * options.units_per_thread.max(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("acrlens-decode-{i}"))
            .build()
            .expect("starting the decoding threads");
        // Units being read, decoded or waiting to be merged each hold a buffer at most.
        let buffers = Arc::new(UnitBuffers::new(
            options.chunk_bytes.max(1) + MIN_READ,
            width + 2,
        ));
        let config = ReaderConfig {
            format: options.format,
            window: options.window,
            chunk_bytes: options.chunk_bytes,
            max_record_bytes: options.max_record_bytes,
            columns: options.columns,
            attribution: options.attribution,
        };
        Decoder {
            stats: vec![None; sources.len()],
            start: Some(Start {
                sources,
                config,
                buffers,
                width,
            }),
            decoded: None,
            ready: VecDeque::new(),
            dedup: options.dedup.then(Dedup::default),
            pool: Arc::new(pool),
            transform: None,
        }
    }

    /// The decoding threads: a consumer with parallel work of its own (the store writer's
    /// encoding) runs it there too, instead of starting more threads. Waiting for such work
    /// from one of those threads can deadlock: a thread waiting inside a job can be handed the
    /// job that waits.
    pub fn threads(&self) -> Arc<rayon::ThreadPool> {
        self.pool.clone()
    }

    /// Applies `transform` to every batch on the decoding threads.
    pub fn with_transform(mut self, transform: BatchTransform) -> Self {
        self.transform = Some(transform);
        self
    }

    /// Decodes everything into memory (tests and small inputs).
    pub fn collect_all(self) -> Collected {
        let mut all = Collected::default();
        for item in self {
            match item {
                Decoded::Batch(b) => all.batches.push(b),
                Decoded::Quarantined(q) => all.quarantined.push(q),
                Decoded::SourceDone(s) => all.stats.push(s),
                Decoded::Failed(e) => all.failures.push(e),
            }
        }
        all
    }

    fn merge(&mut self, out: UnitOutput) {
        if let Some(failure) = out.failure {
            self.ready.push_back(Decoded::Failed(failure));
            return;
        }
        let stats = self.stats[out.meta.index]
            .get_or_insert_with(|| SourceStats::new(out.meta.name.clone(), out.meta.format));
        stats.read += out.read;
        stats.out_of_window += out.out_of_window;
        stats.quarantined += out.quarantined.len() as u64;
        if let Some(Built { batch, keys, .. }) = out.batch {
            let batch = match self.dedup.as_mut() {
                Some(dedup) => drop_duplicates(dedup, batch, &keys),
                None => batch,
            };
            let rows = batch.num_rows() as u64;
            stats.duplicates += keys.len() as u64 - rows;
            stats.accepted += rows;
            if rows > 0 {
                self.ready.push_back(Decoded::Batch(batch));
            }
        }
        self.ready
            .extend(out.quarantined.into_iter().map(Decoded::Quarantined));
        if let Some(end) = out.end
            && let Some(mut done) = self.stats[out.meta.index].take()
        {
            done.bytes = end.bytes;
            done.resume = end.resume;
            done.error = end.error;
            done.interrupted = end.interrupted;
            self.ready.push_back(Decoded::SourceDone(done));
        }
    }
}

/// Removes the rows whose key was seen before.
fn drop_duplicates(dedup: &mut Dedup, batch: RecordBatch, keys: &[Option<u128>]) -> RecordBatch {
    let Some(times) = batch
        .column(0)
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
    else {
        return batch;
    };
    let keep: Vec<bool> = keys
        .iter()
        .zip(times.values())
        .map(|(key, &time)| key.is_none_or(|k| dedup.insert(time, k)))
        .collect();
    if keep.iter().all(|&k| k) {
        return batch;
    }
    let mask = BooleanArray::from(keep);
    filter_record_batch(&batch, &mask).unwrap_or(batch)
}

impl Decoder {
    /// Starts the reading thread. It starts decoding each unit on the pool as soon as the unit
    /// is read, whatever the consumer is doing meanwhile, and passes its result channel on in
    /// input order; it waits only when `width` units are read and not yet merged, which bounds
    /// the memory held, however large the input.
    fn spawn_reader(&self, start: Start) -> Receiver<Receiver<UnitOutput>> {
        let Start {
            sources,
            config,
            buffers,
            width,
        } = start;
        let (order, decoded) = sync_channel(width);
        let pool = Arc::clone(&self.pool);
        let transform = self.transform.clone();
        thread::Builder::new()
            .name("acrlens-reader".into())
            .spawn(move || {
                read_all(sources, config, &buffers, |unit| {
                    let (tx, rx) = sync_channel(1);
                    let transform = transform.clone();
                    let buffers = buffers.clone();
                    pool.spawn(move || {
                        // The receiver is gone only if the decoder was dropped; nothing to
                        // report then.
                        let _ = tx.send(decode_and_transform(unit, &buffers, transform));
                    });
                    order.send(rx).map_err(|_| Disconnected)
                });
            })
            .expect("spawning the reader thread");
        decoded
    }
}

/// Decodes a unit and applies the batch transform, if any, to its rows.
fn decode_and_transform(
    unit: Unit,
    buffers: &UnitBuffers,
    transform: Option<BatchTransform>,
) -> UnitOutput {
    let mut out = decode_unit(unit, buffers);
    if let Some(transform) = transform
        && let Some(built) = out.batch.take()
    {
        // A panic in the transform (attribution) is a failure of the run, reported as one, not
        // an abort of the process.
        let Built {
            batch,
            keys,
            callers,
        } = built;
        let run =
            std::panic::catch_unwind(AssertUnwindSafe(|| transform(batch, callers.as_deref())));
        match run {
            Ok(Ok(batch)) => {
                out.batch = Some(Built {
                    batch,
                    keys,
                    callers: None,
                })
            }
            Ok(Err(e)) => out.failure = Some(TransformError::Failed(e)),
            Err(panic) => {
                out.failure = Some(TransformError::Panicked(panic_message(&*panic).to_owned()));
            }
        }
    }
    out
}

impl Iterator for Decoder {
    type Item = Decoded;

    fn next(&mut self) -> Option<Decoded> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            if let Some(start) = self.start.take() {
                self.decoded = Some(self.spawn_reader(start));
            }
            let out = self.decoded.as_ref()?.recv().ok()?.recv().ok()?;
            self.merge(out);
        }
    }
}

/// Everything one decoding run produced.
#[derive(Debug, Default)]
pub struct Collected {
    /// The rows.
    pub batches: Vec<RecordBatch>,
    /// The quarantine.
    pub quarantined: Vec<Quarantined>,
    /// Per-input counts, in input order.
    pub stats: Vec<SourceStats>,
    /// Transform failures.
    pub failures: Vec<TransformError>,
}

impl Collected {
    /// All rows.
    pub fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// Decodes one in-memory input (tests, fuzzing, one-off blobs).
pub fn decode_bytes(name: &str, bytes: &[u8], options: DecodeOptions) -> Collected {
    let source = InputSource::Memory {
        name: name.to_owned(),
        bytes: Arc::from(bytes),
    };
    Decoder::new(vec![source], options).collect_all()
}

//! `acrlens ingest`: decode exports and account for every record.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use acrlens_engine::ingest;
use acrlens_engine::store::{Store, StoreOptions};
use acrlens_events::{DecodeOptions, Decoded, INGEST_CHUNK_BYTES, Shard};

use crate::decodeargs::DecodeArgs;
use crate::inputs::{BlobArgs, ListingView, discover};
use crate::progress::Progress;
use crate::summary::{OutputFormat, Summary};
use crate::topology::TopologyArgs;

#[derive(Args)]
pub struct IngestArgs {
    /// Export files, folders (walked recursively), globs, and blob containers or prefixes
    /// (`az://<container>/<prefix>`, `abfss://…`, `https://<account>.blob.core.windows.net/…`);
    /// `.gz` is read as it streams.
    #[arg(required = true)]
    inputs: Vec<String>,
    #[command(flatten)]
    decode: DecodeArgs,
    #[command(flatten)]
    blob: BlobArgs,
    /// Read only shard i of n (`0/4`): inputs are split by a stable hash of their path from
    /// the `resourceId=` folder on, so n machines or jobs fill one store without overlap.
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// Write quarantined records here, one JSON object per line.
    #[arg(long)]
    quarantine: Option<PathBuf>,
    /// Write the attributed events into this Parquet store (created if needed). Re-runs add only
    /// what is new: unchanged inputs are skipped, grown append blobs are read from where the last
    /// run stopped.
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// List every input in the summary table, not only those with quarantined records or errors.
    #[arg(long)]
    all_sources: bool,
    #[command(flatten)]
    topology: TopologyArgs,
    /// How to print the summary.
    #[arg(long, default_value = "table")]
    summary: OutputFormat,
}

pub fn run(args: &IngestArgs, quiet: bool) -> Result<ExitCode> {
    // Loaded on a thread of its own while the inputs are listed and the first units decode.
    let topology = args.topology.lazy();
    topology.preload();
    let discovery = discover(&args.inputs, args.decode.window()?, &args.blob)?;
    let mut sources = discovery.sources;
    if let Some(shard) = args.shard {
        sources.retain(|s| shard.holds(s));
    }
    let store = match &args.store {
        Some(dir) => {
            Some(Store::open(dir).with_context(|| format!("opening the store {}", dir.display()))?)
        }
        None => None,
    };
    let mut quarantine = match &args.quarantine {
        Some(path) => {
            Some(BufWriter::new(File::create(path).with_context(|| {
                format!("cannot create {}", path.display())
            })?))
        }
        None => None,
    };
    let mut summary = Summary::default();
    let mut progress = Progress::new(sources.len(), quiet);
    let outcome = ingest(
        sources,
        DecodeOptions {
            chunk_bytes: INGEST_CHUNK_BYTES,
            ..args.decode.options()?
        },
        topology.clone(),
        store.as_ref().map(|s| (s, StoreOptions::default())),
        |item| {
            match item {
                Decoded::Batch(batch) => {
                    progress.rows(batch.num_rows());
                    summary.count_batch(batch);
                }
                Decoded::Quarantined(q) => {
                    if let Some(out) = quarantine.as_mut() {
                        q.write_json_line(out)
                            .map_err(|e| format!("writing the quarantine file: {e}"))?;
                    }
                    summary.count_quarantined(q);
                }
                Decoded::SourceDone(stats) => {
                    progress.input_done(stats.bytes);
                    summary.sources.push(stats.clone());
                }
                Decoded::Failed(_) => {}
            }
            Ok(())
        },
    )?;
    progress.finish();
    // The run has loaded it, or failed.
    if let Ok(topology) = topology.get() {
        args.topology.warn_of_history(topology);
    }
    summary.listings = discovery.listings.iter().map(ListingView::from).collect();
    if let Some(mut out) = quarantine {
        out.flush().context("writing the quarantine file")?;
    }
    for changed in &outcome.changed_in_place {
        eprintln!(
            "warning: {changed} changed in place since it was ingested and cannot be resumed; not re-read"
        );
    }
    let committed = outcome.run;
    let mut stdout = std::io::stdout().lock();
    summary.print(
        args.summary,
        args.quarantine.as_deref(),
        args.all_sources,
        &mut stdout,
    )?;
    if let (Some(run), Some(dir), crate::summary::OutputFormat::Table) =
        (committed, &args.store, args.summary)
    {
        writeln!(
            stdout,
            "\nstore {}: run {} wrote {} rows in {} part files; {} inputs unchanged since earlier runs, {} resumed",
            dir.display(),
            run.run,
            run.written,
            run.parts,
            run.unchanged,
            run.resumed
        )?;
    }
    // Inputs stopped early or replaced since they were read are findings: exit 1.
    let stopped = summary.sources.iter().any(|s| s.error.is_some());
    Ok(if stopped || !outcome.changed_in_place.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

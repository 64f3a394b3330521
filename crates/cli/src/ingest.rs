//! `acrlens ingest`: decode exports and account for every record.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;

use acrlens_attrib::Attributor;
use acrlens_events::{BatchTransform, Decoded, Decoder, discover};

use crate::decodeargs::DecodeArgs;
use crate::summary::{OutputFormat, Summary};
use crate::topology::TopologyArgs;

#[derive(Args)]
pub struct IngestArgs {
    /// Export files, folders (walked recursively) or globs; `.gz` is read as it streams.
    #[arg(required = true)]
    inputs: Vec<String>,
    #[command(flatten)]
    decode: DecodeArgs,
    /// Write quarantined records here, one JSON object per line.
    #[arg(long)]
    quarantine: Option<PathBuf>,
    /// List every input in the summary table, not only those with quarantined records or errors.
    #[arg(long)]
    all_sources: bool,
    #[command(flatten)]
    topology: TopologyArgs,
    /// How to print the summary.
    #[arg(long, default_value = "table")]
    summary: OutputFormat,
}

pub fn run(args: &IngestArgs) -> Result<ExitCode> {
    let topology = Arc::new(args.topology.load()?);
    let attribute: BatchTransform = Arc::new(move |batch| {
        Attributor::new(&topology)
            .attribute(&batch)
            .map_err(|e| e.to_string())
    });
    let sources = discover(&args.inputs, args.decode.window())?;
    let mut quarantine = match &args.quarantine {
        Some(path) => {
            Some(BufWriter::new(File::create(path).with_context(|| {
                format!("cannot create {}", path.display())
            })?))
        }
        None => None,
    };
    let options = args.decode.options();
    let mut summary = Summary::default();
    for item in Decoder::new(sources, options).with_transform(attribute) {
        match item {
            Decoded::Batch(batch) => summary.count_batch(&batch),
            Decoded::Failed(e) => bail!("attribution failed: {e}"),
            Decoded::Quarantined(q) => {
                if let Some(out) = quarantine.as_mut() {
                    q.write_json_line(out)
                        .context("writing the quarantine file")?;
                }
                summary.count_quarantined(&q);
            }
            Decoded::SourceDone(stats) => summary.sources.push(stats),
        }
    }
    if let Some(mut out) = quarantine {
        out.flush().context("writing the quarantine file")?;
    }
    let mut stdout = std::io::stdout().lock();
    summary.print(
        args.summary,
        args.quarantine.as_deref(),
        args.all_sources,
        &mut stdout,
    )?;
    Ok(if summary.sources.iter().any(|s| s.error.is_some()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

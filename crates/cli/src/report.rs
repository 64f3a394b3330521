//! `acrlens report`: judge a period of requests against a policy; exit 1 on violations.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use acrlens_engine::store::{Store, StoreOptions};
use acrlens_engine::{EventSource, ingest};
use acrlens_netmap::LazyTopology;
use acrlens_report::{Policy, Window, build_report, render};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use tempfile::TempDir;

use crate::cluster::ClusterArgs;
use crate::output::write_document;
use crate::runtime::query_runtime;
use crate::sourceargs::SourceArgs;
use crate::topology::TopologyArgs;

#[derive(Args)]
pub struct ReportArgs {
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    topology: TopologyArgs,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// The policy (TOML). Without one: no unexplained requests, and no public requests to
    /// registries whose public access is disabled.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Output format.
    #[arg(long, default_value = "md")]
    format: ReportFormat,
    /// Write the report here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ReportFormat {
    /// Markdown, for a pull-request comment or a wiki.
    Md,
    /// One self-contained HTML page.
    Html,
    /// JSON (schema acrlens.report/v1).
    Json,
}

/// Raw exports are decoded and attributed once, into a temporary store that the report's
/// queries then read: a report runs about twenty queries, and over raw exports each would
/// decode them again. Returns the store's source, what was quarantined, and the folder (removed
/// when dropped).
fn staged(
    source: EventSource,
    topology: &LazyTopology,
) -> Result<(EventSource, u64, Option<TempDir>)> {
    let EventSource::Logs { sources, options } = source else {
        return Ok((source, 0, None));
    };
    let dir = tempfile::Builder::new()
        .prefix("acrlens-report-")
        .tempdir()
        .context("creating a temporary store for the raw exports (set TMPDIR to place it)")?;
    let store = Store::open(dir.path())?;
    let outcome = ingest(
        sources,
        options,
        topology.clone(),
        Some((&store, StoreOptions::default())),
        |_| Ok(()),
    )?;
    let quarantined = outcome.run.map_or(0, |run| run.quarantined);
    Ok((
        EventSource::Store(dir.path().to_path_buf()),
        quarantined,
        Some(dir),
    ))
}

pub fn run(args: &ReportArgs) -> Result<ExitCode> {
    let policy = match &args.policy {
        Some(path) => Policy::load(path)?,
        None => Policy::default_policy(),
    };
    // Here the topology is loaded at once, to warn of its history's problems; a cluster's
    // processes each load their own.
    let topology: LazyTopology = if args.cluster.remote() {
        args.topology.lazy()
    } else {
        Arc::new(args.topology.load()?).into()
    };
    let (source, quarantined, _scratch) = staged(args.source.source()?, &topology)?;
    let window = args.source.decode.window()?;
    let runtime = query_runtime()?;
    let report = runtime.block_on(async {
        let s = args
            .cluster
            .session(source, &args.topology, topology)
            .await?;
        let window = Window {
            since: window.since,
            until: window.until,
        };
        anyhow::Ok(build_report(&s.ctx, &policy, window, quarantined).await?)
    });
    let report = report.map_err(|e| args.cluster.explain(e))?;
    let text = match args.format {
        ReportFormat::Md => render::markdown(&report),
        ReportFormat::Html => render::html(&report),
        ReportFormat::Json => render::json(&report),
    };
    write_document(args.out.as_deref(), &text)?;
    Ok(if report.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

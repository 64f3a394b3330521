//! `acrlens report`: judge a period of requests against a policy; exit 1 on violations.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use acrlens_engine::session;
use acrlens_report::{Policy, Window, build_report, render};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use crate::sourceargs::SourceArgs;
use crate::topology::TopologyArgs;

#[derive(Args)]
pub struct ReportArgs {
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    topology: TopologyArgs,
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

pub fn run(args: &ReportArgs) -> Result<ExitCode> {
    let policy = match &args.policy {
        Some(path) => Policy::load(path)?,
        None => Policy::default_policy(),
    };
    let topology = Arc::new(args.topology.load()?);
    let source = args.source.source()?;
    let window = args.source.decode.window();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the query runtime")?;
    let report = runtime.block_on(async {
        let s = session(source, topology).await?;
        let window = Window {
            since: window.since,
            until: window.until,
        };
        // The raw-export scans count what they quarantine; read it after the first query ran.
        let mut report = build_report(&s.ctx, &policy, window, 0).await?;
        report.inputs.quarantined = s.quarantined.load(Ordering::Relaxed);
        anyhow::Ok(report)
    })?;
    let text = match args.format {
        ReportFormat::Md => render::markdown(&report),
        ReportFormat::Html => render::html(&report),
        ReportFormat::Json => render::json(&report),
    };
    match &args.out {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(if report.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

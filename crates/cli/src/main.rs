//! `acrlens`: by which network path did each request reach an Azure Container Registry?
//!
//! The binary is thin: it parses arguments, calls the library crates and prints.

mod cluster;
mod decodeargs;
mod explain;
mod ingest;
mod inputs;
mod output;
mod progress;
mod query;
mod report;
mod runtime;
mod sourceargs;
mod summary;
mod tags;
mod timearg;
mod timeline;
mod topology;
mod whatif;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// jemalloc rather than the system allocator: a long `ingest` frees and makes multi-megabyte
/// buffers (Arrow columns, row groups being encoded) on several threads, and glibc's arenas keep
/// the gaps between them, so its resident memory rose for the first millions of events and
/// settled ~150 MiB above a short run's. jemalloc returns freed pages after a few seconds: the
/// two stay within 64 MiB, at the same speed (the README's "Memory flat in input size").
/// It also serves the C code's `malloc` (the build's `unprefixed_malloc_on_supported_platforms`):
/// zstd makes a context of a quarter MiB for every Parquet column chunk it reads or writes, and
/// glibc gave each one fresh pages and handed them back to the kernel when it was freed (a
/// page fault a page, then a `madvise`), several milliseconds of a 60 ms query. Its settings
/// (one arena, transparent huge pages) are built in by `.cargo/config.toml`.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The exit status, the same for every verb.
const EXIT_STATUS: &str = "Exit status: 0 done, nothing to report; 1 done, with findings \
(report: violations; whatif: someone would be cut off; ingest: an input stopped early or \
changed in place; topology: warnings); 2 nothing done: bad arguments, unreadable input or topology, or a failure \
(one line on stderr says why).";

#[derive(Parser)]
#[command(name = "acrlens", version, about, long_about = None, after_help = EXIT_STATUS)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Nothing on stderr but errors and warnings: no progress line, no notes.
    #[arg(long, short, global = true)]
    quiet: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Decode ACR diagnostic-log exports (any shape, files, folders, globs, .gz) and account for
    /// every record.
    #[command(after_help = EXIT_STATUS)]
    Ingest(ingest::IngestArgs),
    /// Judge a period of requests against a policy (Markdown, HTML or JSON); exit 1 on
    /// violations, 2 when the report cannot be made.
    #[command(after_help = EXIT_STATUS)]
    Report(report::ReportArgs),
    /// SQL over raw exports or a store: tables events, repository_events, login_events,
    /// service_tags, subnets, registries (and a store's rollups: paths_by_hour, callers_by_day,
    /// callers_by_week, trusted_by_day, trusted_by_week); IP functions such as
    /// service_tags(ip) and ip_in_cidr(ip, cidr).
    #[command(after_help = EXIT_STATUS)]
    Query(query::QueryArgs),
    /// Every fact about one caller address and the verdict a request from it would get.
    #[command(after_help = EXIT_STATUS)]
    Explain(explain::ExplainArgs),
    /// Service tags for firewall changes: `lookup` an address, `diff` two snapshots, the
    /// minimal IPv4 `rules` for tags within the rule limit.
    #[command(after_help = EXIT_STATUS)]
    Tags(tags::TagsArgs),
    /// What the topology holds: each registry's configurations over time and where each came
    /// from (snapshots, Activity Log, Resource Graph), service tags, VNets, private endpoints;
    /// exit 1 on warnings (unreadable history, sources that disagree, periods not known).
    #[command(after_help = EXIT_STATUS)]
    Topology(timeline::TimelineArgs),
    /// Replay a registry's requests against a proposed firewall configuration: who would be
    /// cut off (exit 1), who newly let in.
    #[command(after_help = EXIT_STATUS)]
    Whatif(whatif::WhatIfArgs),
    /// Run a cluster's scheduler (Apache DataFusion Ballista with acrlens's functions and
    /// tables): `query --cluster` and `report --cluster` send their plans here. Stops on
    /// Ctrl-C or SIGTERM.
    #[command(after_help = EXIT_STATUS)]
    Scheduler(cluster::SchedulerArgs),
    /// Run a cluster's executor: it registers with the scheduler and runs its tasks over the
    /// shared store, with its own topology (refusing plans made against another). Stops on
    /// Ctrl-C or SIGTERM.
    #[command(after_help = EXIT_STATUS)]
    Executor(cluster::ExecutorArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ingest(args) => ingest::run(&args, cli.quiet),
        Command::Explain(args) => explain::run(&args),
        Command::Query(args) => query::run(&args, cli.quiet),
        Command::Report(args) => report::run(&args),
        Command::Tags(args) => tags::run(&args),
        Command::Topology(args) => timeline::run(&args),
        Command::Whatif(args) => whatif::run(&args),
        Command::Scheduler(args) => cluster::scheduler(&args, cli.quiet),
        Command::Executor(args) => cluster::executor(&args, cli.quiet),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            ExitCode::from(2)
        }
    }
}

/// An error and its causes on one line, each cause once: a typed error that already names its
/// cause in its own message (`cannot read X: No such file`) does not repeat it.
fn message(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    one_line(&text)
}

/// An error message on one line: causes that span several (an engine's "caused by" chain) are
/// joined with spaces.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

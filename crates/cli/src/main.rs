//! `acrlens`: by which network path did each request reach an Azure Container Registry?
//!
//! The binary is thin: it parses arguments, calls the library crates and prints.

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
mod topology;
mod whatif;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "acrlens", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode ACR diagnostic-log exports (any shape, files, folders, globs, .gz) and account for
    /// every record.
    Ingest(ingest::IngestArgs),
    /// Judge a period of requests against a policy (Markdown, HTML or JSON); exit 1 on
    /// violations, 2 when the report cannot be made.
    Report(report::ReportArgs),
    /// SQL over raw exports: tables events, repository_events, login_events, service_tags,
    /// subnets, registries; IP functions such as service_tags(ip) and ip_in_cidr(ip, cidr).
    Query(query::QueryArgs),
    /// Every fact about one caller address and the verdict a request from it would get.
    Explain(explain::ExplainArgs),
    /// Service tags for firewall changes: `lookup` an address, `diff` two snapshots, the
    /// minimal IPv4 `rules` for tags within the rule limit.
    Tags(tags::TagsArgs),
    /// Replay a registry's requests against a proposed firewall configuration: who would be
    /// cut off (exit 1), who newly let in.
    Whatif(whatif::WhatIfArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ingest(args) => ingest::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Query(args) => query::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Tags(args) => tags::run(&args),
        Command::Whatif(args) => whatif::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

//! `acrlens`: by which network path did each request reach an Azure Container Registry?
//!
//! The binary is thin: it parses arguments, calls the library crates and prints.

mod ingest;
mod summary;
mod timearg;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ingest(args) => ingest::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

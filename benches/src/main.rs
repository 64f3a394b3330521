//! `acrlens-bench`: writes the bundled samples or generated exports of any size.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

use acrlens_bench::generate::{GenSpec, write_storage_layout};
use acrlens_bench::samples::write_samples;

#[derive(Parser)]
#[command(about = "Generators for acrlens benchmarks and samples")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write realistic resource-log exports in the Storage layout.
    Gen {
        /// How many records.
        #[arg(long, default_value_t = 1_000_000)]
        events: u64,
        /// Registries.
        #[arg(long, default_value_t = 4)]
        registries: u32,
        /// Days covered, from 2025-11-03.
        #[arg(long, default_value_t = 3)]
        days: u32,
        /// Seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Where to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Rewrite the bundled `sample-logs/`.
    Samples {
        /// Where to write.
        #[arg(long, default_value = "sample-logs")]
        out: PathBuf,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Gen {
            events,
            registries,
            days,
            seed,
            out,
        } => {
            let spec = GenSpec {
                events,
                registries,
                days,
                seed,
                ..GenSpec::default()
            };
            let (files, bytes) = write_storage_layout(&spec, &out)?;
            println!(
                "wrote {events} records, {bytes} bytes in {} files under {}",
                files.len(),
                out.display()
            );
        }
        Command::Samples { out } => {
            write_samples(&out)?;
            println!("wrote {}", out.display());
        }
    }
    Ok(())
}

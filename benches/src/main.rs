//! `acrlens-bench`: writes the bundled samples or generated exports of any size.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use acrlens_bench::callers::AzurePrefixes;
use acrlens_bench::generate::{GenSpec, write_storage_layout};
use acrlens_bench::samples::write_samples;
use acrlens_bench::topology::write_generated_topology;
use acrlens_bench::truth::Truth;
use acrlens_netmap::ServiceTagSnapshot;

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
        /// Distinct callers (default: one per hundred events, at least a thousand).
        #[arg(long)]
        callers: Option<u64>,
        /// The service-tag file Azure callers are drawn from.
        #[arg(long, default_value = "../shared/data/ServiceTags_Public.json")]
        service_tags: PathBuf,
        /// Where to write the exports.
        #[arg(long)]
        out: PathBuf,
        /// Where to write the matching topology (`acrlens.toml` and the files it names).
        #[arg(long)]
        topology: Option<PathBuf>,
        /// Where to write the peer benchmark's answer for this data (CSV: events and bytes by
        /// day, repository and access path), worked out by the generator itself.
        #[arg(long)]
        truth: Option<PathBuf>,
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
            callers,
            service_tags,
            out,
            topology,
            truth,
        } => {
            let snapshot = ServiceTagSnapshot::load(&service_tags, None)
                .with_context(|| "Azure callers are drawn from a real service-tag file")?;
            let spec = GenSpec {
                events,
                registries,
                days,
                seed,
                callers,
                azure: AzurePrefixes::from_snapshot(&snapshot),
                ..GenSpec::default()
            };
            if let Some(dir) = &topology {
                write_generated_topology(dir, registries, &service_tags)?;
            }
            let mut answer = truth.as_ref().map(|_| Truth::new(&spec.azure));
            let (files, bytes) = write_storage_layout(&spec, &out, answer.as_mut())?;
            if let (Some(path), Some(answer)) = (&truth, &answer) {
                answer.write_csv(path)?;
            }
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

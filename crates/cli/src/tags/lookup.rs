//! `acrlens tags lookup`: which tags hold an address.

use std::io::Write;
use std::net::IpAddr;
use std::process::ExitCode;

use acrlens_events::{format_timestamp_micros, parse_caller_ip};
use acrlens_netmap::ServiceTagSnapshot;
use anyhow::{Result, bail};
use clap::Args;
use serde::Serialize;

use super::SnapshotArgs;
use crate::timearg::parse_time_arg;

#[derive(Args)]
pub struct LookupArgs {
    /// The address (a port is fine).
    ip: String,
    /// Only the snapshot in force at this time.
    #[arg(long, value_parser = parse_time_arg)]
    at: Option<i64>,
    #[command(flatten)]
    snapshots: SnapshotArgs,
    /// Output format.
    #[arg(long, default_value = "text")]
    format: super::TextOrJson,
}

#[derive(Serialize)]
struct Holding {
    name: String,
    prefix: String,
    region: String,
    system_service: String,
}

#[derive(Serialize)]
struct InSnapshot {
    change_number: u64,
    source: String,
    effective_from: Option<String>,
    tags: Vec<Holding>,
}

fn holding(snapshot: &ServiceTagSnapshot, ip: IpAddr) -> InSnapshot {
    let mut tags: Vec<_> = snapshot
        .tags
        .iter()
        .filter_map(|t| t.containing(ip).map(|p| (t, p)))
        .collect();
    tags.sort_by(|(a, pa), (b, pb)| {
        (b.specificity(), pb.prefix_len(), &a.name).cmp(&(
            a.specificity(),
            pa.prefix_len(),
            &b.name,
        ))
    });
    InSnapshot {
        change_number: snapshot.change_number,
        source: snapshot.source.clone(),
        effective_from: snapshot.effective_from.map(format_timestamp_micros),
        tags: tags
            .into_iter()
            .map(|(t, p)| Holding {
                name: t.name.clone(),
                prefix: p.to_string(),
                region: t.region.clone(),
                system_service: t.system_service.clone(),
            })
            .collect(),
    }
}

pub fn run(args: &LookupArgs) -> Result<ExitCode> {
    let Some(ip) = parse_caller_ip(&args.ip) else {
        bail!("{:?} is not an IP address", args.ip);
    };
    let snapshots = args.snapshots.load()?;
    let chosen: Vec<&ServiceTagSnapshot> = match args.at {
        // The latest in force at that time, or the earliest when none was yet.
        Some(at) => {
            let in_force = snapshots
                .all
                .iter()
                .filter(|s| s.effective_from.is_none_or(|f| f <= at))
                .max_by_key(|s| (s.effective_from, s.change_number));
            vec![in_force.unwrap_or(&snapshots.all[0])]
        }
        None => snapshots.all.iter().collect(),
    };
    let found: Vec<InSnapshot> = chosen.into_iter().map(|s| holding(s, ip)).collect();
    let mut out = std::io::stdout().lock();
    if args.format == super::TextOrJson::Json {
        writeln!(out, "{}", sonic_rs::to_string(&found)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    for s in &found {
        let from = s.effective_from.as_deref().unwrap_or("the beginning");
        writeln!(
            out,
            "{ip} in service tags change {} ({}, from {from}):",
            s.change_number, s.source
        )?;
        if s.tags.is_empty() {
            writeln!(out, "  no tag")?;
        }
        let width = s.tags.iter().map(|t| t.name.len()).max().unwrap_or(0);
        for t in &s.tags {
            writeln!(out, "  {:<width$}  {}", t.name, t.prefix)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

//! `acrlens topology`: what the topology holds, as verdicts will see it — each registry's
//! configurations over time (and where each came from), the service-tag snapshots, the VNets and
//! private endpoints — and every warning: history records that could not be read or applied,
//! sources that disagree, periods whose configuration is not known.

use std::fmt::Write as _;
use std::process::ExitCode;

use acrlens_netmap::{Period, Problem, RegistryTimeline, Topology, timelines};
use acrlens_values::format_timestamp_micros;
use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::timearg::parse_time_arg;
use crate::topology::TopologyArgs;

#[derive(Args)]
pub struct TimelineArgs {
    #[command(flatten)]
    topology: TopologyArgs,
    /// Only this registry (login server, name or resource id).
    #[arg(long)]
    registry: Option<String>,
    /// The period events will be judged over, from (a time or a duration back, like `30d`):
    /// warns when a registry's configuration is not known over part of it.
    #[arg(long, value_parser = parse_time_arg)]
    since: Option<i64>,
    /// The end of that period (default: now).
    #[arg(long, value_parser = parse_time_arg)]
    until: Option<i64>,
    /// Output format.
    #[arg(long, default_value = "text")]
    format: TimelineFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TimelineFormat {
    /// For people.
    Text,
    /// One JSON document.
    Json,
}

/// The whole answer, as the JSON format prints it.
#[derive(Serialize)]
struct View {
    registries: Vec<RegistryTimeline>,
    service_tags: Vec<TagSnapshot>,
    vnets: Vec<VnetView>,
    private_endpoints: Vec<EndpointView>,
    history: HistoryView,
    notes: Vec<String>,
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct TagSnapshot {
    change_number: u64,
    cloud: String,
    effective_from: Option<String>,
    tags: usize,
    source: String,
}

#[derive(Serialize)]
struct VnetView {
    name: String,
    address_space: Vec<String>,
    subnets: Vec<String>,
    peerings: usize,
}

#[derive(Serialize)]
struct EndpointView {
    name: String,
    addresses: Vec<String>,
    subnet: String,
    registries: Vec<String>,
}

#[derive(Serialize)]
struct HistoryView {
    files: usize,
    records: usize,
    skipped: usize,
}

pub fn run(args: &TimelineArgs) -> Result<ExitCode> {
    if let (Some(since), Some(until)) = (args.since, args.until)
        && since > until
    {
        bail!("--since is after --until: no period to check");
    }
    let topology = args.topology.load_silently()?;
    let only = args.registry.as_deref().map(|r| {
        if r.starts_with('/') {
            r.to_ascii_lowercase()
        } else {
            acrlens_netmap::login_server(r)
        }
    });
    let registries = timelines(&topology, only.as_deref());
    if let (Some(name), true) = (&args.registry, registries.is_empty()) {
        bail!("the topology holds no configuration of registry {name}");
    }
    let view = view(&topology, registries, args);
    let text = match args.format {
        TimelineFormat::Json => {
            let mut json = sonic_rs::to_string_pretty(&view)?;
            json.push('\n');
            json
        }
        TimelineFormat::Text => text(&view),
    };
    crate::output::write_document(None, &text)?;
    Ok(if view.warnings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn view(topology: &Topology, registries: Vec<RegistryTimeline>, args: &TimelineArgs) -> View {
    let history = topology.history();
    let mut warnings: Vec<String> = history.warnings.iter().map(Problem::to_string).collect();
    if let Some(since) = args.since {
        let until = args.until.unwrap_or(i64::MAX);
        for r in &registries {
            warnings.extend(uncovered(r, since, until));
        }
    }
    View {
        service_tags: topology
            .service_tag_snapshots()
            .iter()
            .map(|s| TagSnapshot {
                change_number: s.change_number,
                cloud: s.cloud.clone(),
                effective_from: s.effective_from.map(format_timestamp_micros),
                tags: s.tags.len(),
                source: s.source.clone(),
            })
            .collect(),
        vnets: topology
            .vnets()
            .iter()
            .map(|v| VnetView {
                name: v.name.clone(),
                address_space: v.address_space.iter().map(ToString::to_string).collect(),
                subnets: v.subnets.iter().map(|s| s.name.clone()).collect(),
                peerings: v.peerings.len(),
            })
            .collect(),
        private_endpoints: topology
            .endpoints()
            .iter()
            .map(|pe| EndpointView {
                name: pe.name.clone(),
                addresses: pe.addresses.iter().map(ToString::to_string).collect(),
                subnet: pe
                    .subnet_id
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                registries: pe
                    .targets
                    .iter()
                    .map(|t| t.rsplit('/').next().unwrap_or_default().to_owned())
                    .collect(),
            })
            .collect(),
        history: HistoryView {
            files: history.files,
            records: history.records,
            skipped: history.skipped,
        },
        notes: history.notes.iter().map(Problem::to_string).collect(),
        warnings,
        registries,
    }
}

/// Warnings for the parts of `[since, until)` over which a registry's configuration is not
/// known (before its first configuration, or in a period marked unknown).
fn uncovered(registry: &RegistryTimeline, since: i64, until: i64) -> Vec<String> {
    let time = |t: &Option<String>| {
        t.as_deref()
            .and_then(acrlens_values::parse_timestamp_micros)
    };
    let mut out = Vec::new();
    let first = registry
        .periods
        .first()
        .map_or(Some(i64::MAX), |p| time(&p.from));
    if let Some(first) = first.filter(|&f| f > since) {
        out.push(format!(
            "{}: no configuration before {}, yet the period begins {}",
            registry.login_server,
            format_timestamp_micros(first.min(until)),
            format_timestamp_micros(since)
        ));
    }
    for p in registry.periods.iter().filter(|p| p.unknown.is_some()) {
        let from = time(&p.from).unwrap_or(i64::MIN);
        let to = time(&p.until).unwrap_or(i64::MAX);
        if from < until && to > since {
            out.push(format!(
                "{}: configuration not known {} within the period: {}",
                registry.login_server,
                span(p),
                p.unknown.as_deref().unwrap_or_default()
            ));
        }
    }
    out
}

fn span(p: &Period) -> String {
    let from = p.from.as_deref().unwrap_or("the beginning");
    match &p.until {
        Some(until) => format!("from {from} until {until}"),
        None => format!("from {from} on"),
    }
}

fn text(view: &View) -> String {
    let mut out = String::new();
    for r in &view.registries {
        let _ = writeln!(out, "{} {}", r.login_server, r.resource_id);
        for p in &r.periods {
            let _ = writeln!(out, "  {}", span(p));
            let from = p.origin.as_deref().unwrap_or(&p.source);
            let _ = writeln!(out, "    source: {from}");
            match &p.unknown {
                Some(why) => {
                    let _ = writeln!(out, "    NOT KNOWN: {why}");
                }
                None => {
                    let tasks = p
                        .tasks_bypass
                        .map_or(String::new(), |t| format!(", tasks bypass={t}"));
                    let _ = writeln!(
                        out,
                        "    publicNetworkAccess={}, defaultAction={}, bypass={}{tasks}",
                        p.public_network_access.unwrap_or_default(),
                        p.default_action.unwrap_or_default(),
                        p.bypass.unwrap_or_default()
                    );
                    let rules = if p.ip_rules.is_empty() {
                        "none".to_owned()
                    } else {
                        p.ip_rules.join(", ")
                    };
                    let _ = writeln!(out, "    IP rules: {rules}");
                }
            }
            if !p.private_endpoints.is_empty() {
                let _ = writeln!(
                    out,
                    "    private endpoints: {}",
                    p.private_endpoints.join(", ")
                );
            }
            for change in &p.changed {
                let _ = writeln!(out, "    changed: {change}");
            }
        }
    }
    let tags: Vec<String> = view
        .service_tags
        .iter()
        .map(|s| {
            format!(
                "change {} ({}), from {}: {} tags, {}",
                s.change_number,
                s.cloud,
                s.effective_from.as_deref().unwrap_or("the beginning"),
                s.tags,
                s.source
            )
        })
        .collect();
    section(&mut out, "Service tags", &tags);
    let vnets: Vec<String> = view
        .vnets
        .iter()
        .map(|v| {
            format!(
                "{} ({}): subnets {}; {} peerings",
                v.name,
                v.address_space.join(", "),
                v.subnets.join(", "),
                v.peerings
            )
        })
        .collect();
    section(&mut out, "VNets", &vnets);
    let endpoints: Vec<String> = view
        .private_endpoints
        .iter()
        .map(|pe| {
            format!(
                "{} ({}) in subnet {}, to {}",
                pe.name,
                pe.addresses.join(", "),
                pe.subnet,
                pe.registries.join(", ")
            )
        })
        .collect();
    section(&mut out, "Private endpoints", &endpoints);
    let h = &view.history;
    let _ = writeln!(
        out,
        "\nHistory: {} files, {} registry changes read, {} other records skipped",
        h.files, h.records, h.skipped
    );
    for (title, lines) in [("Notes", &view.notes), ("Warnings", &view.warnings)] {
        if !lines.is_empty() {
            section(&mut out, title, lines);
        }
    }
    out
}

/// A titled list, one indented line each (`none supplied` when empty).
fn section(out: &mut String, title: &str, lines: &[String]) {
    let _ = writeln!(out, "\n{title}");
    if lines.is_empty() {
        let _ = writeln!(out, "  none supplied");
    }
    for line in lines {
        let _ = writeln!(out, "  {line}");
    }
}

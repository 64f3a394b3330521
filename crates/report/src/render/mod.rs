//! Renderers: Markdown for pull requests and wikis, one self-contained HTML file, JSON for
//! dashboards. Text from the logs is attacker-controlled: each renderer escapes it.

mod charts;
mod html;
pub mod htmlkit;
mod markdown;
pub mod mdkit;

pub use html::html;
pub use markdown::markdown;

use std::collections::BTreeMap;

use acrlens_attrib::AccessPath;
use acrlens_policy::Severity;

use crate::model::{Change, Report};

/// Whether rules were violated, in a few words: how many, by severity.
pub(crate) fn headline(report: &Report) -> String {
    match report.violations.len() {
        0 => "No violations.".to_owned(),
        n => format!(
            "{n} rules violated: {}.",
            by_severity(report.violations.iter().map(|v| v.severity))
        ),
    }
}

/// `1 critical, 2 high`, most severe first.
fn by_severity(severities: impl IntoIterator<Item = Severity>) -> String {
    let mut counts: BTreeMap<std::cmp::Reverse<Severity>, u64> = BTreeMap::new();
    for s in severities {
        *counts.entry(std::cmp::Reverse(s)).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(s, n)| format!("{n} {}", s.0.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One registry at a glance: its requests, the share of each access path, the rules it
/// violates by severity.
pub(crate) struct Glance<'r> {
    pub registry: &'r str,
    pub requests: u64,
    /// (access path, requests), in decision order.
    pub paths: Vec<(&'r str, u64)>,
    /// `1 critical, 2 high`, or empty.
    pub violations: String,
}

/// Every registry of the report at a glance, in registry order.
pub(crate) fn glances(report: &Report) -> Vec<Glance<'_>> {
    let mut by_registry: BTreeMap<&str, Vec<(&str, u64)>> = BTreeMap::new();
    for p in &report.paths_by_registry {
        by_registry
            .entry(&p.registry)
            .or_default()
            .push((&p.access_path, p.requests));
    }
    by_registry
        .into_iter()
        .map(|(registry, mut paths)| {
            paths.sort_by_key(|(p, _)| AccessPath::order_of(p));
            let violated = report.violations.iter().filter(|v| {
                v.registries
                    .iter()
                    .any(|r| r.registry.as_deref() == Some(registry))
            });
            Glance {
                registry,
                requests: paths.iter().map(|(_, n)| n).sum(),
                violations: by_severity(violated.map(|v| v.severity)),
                paths,
            }
        })
        .collect()
}

/// A registry's requests per day and access path (days in order, paths in decision order).
pub(crate) fn series<'r>(
    report: &'r Report,
    registry: &str,
) -> BTreeMap<&'r str, Vec<(&'r str, u64)>> {
    let mut days: BTreeMap<&str, Vec<(&str, u64)>> = BTreeMap::new();
    for d in report
        .paths_by_registry_day
        .iter()
        .filter(|d| d.registry == registry)
    {
        days.entry(&d.day)
            .or_default()
            .push((&d.access_path, d.requests));
    }
    for paths in days.values_mut() {
        paths.sort_by_key(|(p, _)| AccessPath::order_of(p));
    }
    days
}

/// The changes a registry's time series marks: its own and the service tags'.
pub(crate) fn changes_of<'r>(report: &'r Report, registry: &str) -> Vec<&'r Change> {
    report
        .changes
        .iter()
        .filter(|c| c.registry.as_deref().is_none_or(|r| r == registry))
        .collect()
}

/// What the report covers, one plain-text line each (renderers escape them).
pub(crate) fn overview(report: &Report) -> [String; 3] {
    let i = &report.inputs;
    let or_none = |items: Vec<String>, sep: &str| {
        if items.is_empty() {
            "none".to_owned()
        } else {
            items.join(sep)
        }
    };
    let dash = |t: &Option<String>| t.clone().unwrap_or_else(|| "–".to_owned());
    [
        format!(
            "Period: {} – {}",
            dash(&report.period.from),
            dash(&report.period.to)
        ),
        format!(
            "Events: {}; service-tag changes used: {}",
            i.events,
            or_none(
                i.service_tag_versions
                    .iter()
                    .map(|v| v.to_string())
                    .collect(),
                ", "
            )
        ),
        format!(
            "Registry configurations used: {}",
            or_none(i.configurations.clone(), "; ")
        ),
    ]
}

/// The data-quality facts, one plain-text line each: the counts, then each period judged
/// without a known configuration.
pub(crate) fn data_quality(report: &Report) -> Vec<String> {
    let i = &report.inputs;
    let mut lines = vec![
        format!("Records quarantined while reading: {}", i.quarantined),
        format!(
            "Events whose registry had no configuration in force: {}",
            i.events_without_configuration
        ),
        format!(
            "Events without a usable caller IP: {}",
            i.events_without_caller
        ),
    ];
    lines.extend(i.unconfigured_periods.iter().map(|p| {
        format!(
            "Judged without a known configuration: {} from {} to {} ({} events; `acrlens topology` says why)",
            p.registry.as_deref().unwrap_or("(no registry)"),
            p.from,
            p.to,
            p.events
        )
    }));
    lines
}

/// The JSON report (schema `acrlens.report/v1`).
pub fn json(report: &Report) -> String {
    let mut text = sonic_rs::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()));
    text.push('\n');
    text
}

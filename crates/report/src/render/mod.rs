//! Renderers: Markdown for pull requests and wikis, one self-contained HTML file, JSON for
//! dashboards. Text from the logs is attacker-controlled: each renderer escapes it.

mod html;
pub mod htmlkit;
mod markdown;
pub mod mdkit;

pub use html::html;
pub use markdown::markdown;

use crate::model::Report;

/// Whether rules were violated, in a few words.
pub(crate) fn headline(report: &Report) -> String {
    match report.violations.len() {
        0 => "No violations.".to_owned(),
        n => format!("{n} rules violated."),
    }
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

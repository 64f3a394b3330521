//! Renderers: Markdown for pull requests and wikis, one self-contained HTML file, JSON for
//! dashboards. Text from the logs is attacker-controlled: each renderer escapes it.

mod html;
mod markdown;

pub use html::html;
pub use markdown::markdown;

use crate::model::Report;

/// The JSON report (schema `acrlens.report/v1`).
pub fn json(report: &Report) -> String {
    let mut text = sonic_rs::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()));
    text.push('\n');
    text
}

/// An access path's place in the decision table, for stable ordering and colours.
pub fn path_order(path: &str) -> usize {
    acrlens_attrib::AccessPath::ALL
        .iter()
        .position(|p| p.name() == path)
        .unwrap_or(usize::MAX)
}

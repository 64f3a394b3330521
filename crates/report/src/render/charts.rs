//! The HTML report's charts, as inline SVG (no script): one bar of access-path shares per
//! registry, and a registry's requests per day with its configuration and service-tag changes
//! marked where they took effect. Every label goes through [`esc`].

use std::collections::BTreeMap;
use std::fmt::Write;

use super::htmlkit::{colour, esc};
use crate::model::Change;

/// Colour of a configuration change's mark.
const CONFIG_MARK: &str = "#6a1b9a";
/// Colour of a service-tag change's mark.
const TAGS_MARK: &str = "#455a64";

/// One bar the width of its box, split by access path in proportion to requests.
pub fn share_bar(registry: &str, paths: &[(&str, u64)]) -> String {
    let total: u64 = paths.iter().map(|(_, n)| n).sum::<u64>().max(1);
    let mut svg = format!(
        "<svg class=\"shares\" role=\"img\" aria-label=\"access paths of {}\" viewBox=\"0 0 100 10\" preserveAspectRatio=\"none\" width=\"100%\" height=\"18\" xmlns=\"http://www.w3.org/2000/svg\">",
        esc(registry)
    );
    let mut x = 0.0;
    for (path, n) in paths {
        let w = *n as f64 / total as f64 * 100.0;
        let _ = write!(
            svg,
            "<rect class=\"share\" x=\"{x:.3}\" y=\"0\" width=\"{w:.3}\" height=\"10\" fill=\"{}\"><title>{}: {n} ({:.0}%)</title></rect>",
            colour(path),
            esc(path),
            w
        );
        x += w;
    }
    svg.push_str("</svg>");
    svg
}

/// Where a time falls on the day axis: the day's column and the fraction of the day passed.
fn position(days: &[&str], time: &str) -> f64 {
    let day = time.get(..10).unwrap_or(time);
    let column = days.partition_point(|d| *d < day);
    let fraction = if days.get(column) == Some(&day) {
        let clock = |from: usize| -> f64 {
            time.get(from..from + 2)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0)
        };
        (clock(11) * 3600.0 + clock(14) * 60.0 + clock(17)) / 86_400.0
    } else {
        0.0
    };
    column as f64 + fraction
}

/// A registry's requests per day (stacked by access path) with `changes` marked and numbered.
pub fn series(
    registry: &str,
    days: &BTreeMap<&str, Vec<(&str, u64)>>,
    changes: &[&Change],
) -> String {
    if days.is_empty() {
        return "<p>No events.</p>".into();
    }
    let max = days
        .values()
        .map(|v| v.iter().map(|(_, n)| n).sum::<u64>())
        .max()
        .unwrap_or(1)
        .max(1);
    // Columns share at least 480 units, so a short period is not a sliver; a long one scrolls.
    let column = (480.0 / days.len() as f64).clamp(56.0, 120.0);
    let (bar, height, left, top, bottom) = (column * 0.7, 200.0, 44.0, 18.0, 28.0);
    let width = left + days.len() as f64 * column + 8.0;
    let mut svg = format!(
        "<svg class=\"series\" role=\"img\" aria-label=\"requests per day of {}\" viewBox=\"0 0 {width} {}\" width=\"{width}\" height=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        esc(registry),
        height + bottom,
        height + bottom
    );
    let _ = write!(
        svg,
        "<text x=\"2\" y=\"{}\" font-size=\"11\">{max}</text><text x=\"2\" y=\"{height}\" font-size=\"11\">0</text>\
         <line x1=\"{left}\" y1=\"{height}\" x2=\"{width}\" y2=\"{height}\" stroke=\"#999\"/>",
        top + 4.0
    );
    for (i, (day, paths)) in days.iter().enumerate() {
        let x = left + i as f64 * column + (column - bar) / 2.0;
        let mut y = height;
        for (path, n) in paths {
            let h = *n as f64 / max as f64 * (height - top);
            y -= h;
            let _ = write!(
                svg,
                "<rect class=\"bar\" x=\"{x}\" y=\"{y:.1}\" width=\"{bar}\" height=\"{h:.1}\" fill=\"{}\"><title>{} {}: {n}</title></rect>",
                colour(path),
                esc(day),
                esc(path)
            );
        }
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            x + bar / 2.0,
            height + 16.0,
            esc(day.get(5..).unwrap_or(day))
        );
    }
    let columns: Vec<&str> = days.keys().copied().collect();
    for (n, change) in changes.iter().enumerate() {
        let x = left + position(&columns, &change.time) * column;
        let (stroke, dash) = match change.kind {
            "configuration" => (CONFIG_MARK, ""),
            _ => (TAGS_MARK, " stroke-dasharray=\"4 3\""),
        };
        let _ = write!(
            svg,
            "<g class=\"mark\"><line x1=\"{x:.1}\" y1=\"{top}\" x2=\"{x:.1}\" y2=\"{height}\" stroke=\"{stroke}\" stroke-width=\"2\"{dash}/>\
             <text x=\"{x:.1}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\" fill=\"{stroke}\">{}</text><title>{} {}: {}</title></g>",
            top - 4.0,
            n + 1,
            esc(&change.time),
            change.kind,
            esc(&change.detail)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_marked_where_it_took_effect() {
        let days = ["2025-11-03", "2025-11-04", "2025-11-05"];
        assert_eq!(position(&days, "2025-11-03T00:00:00Z"), 0.0);
        assert_eq!(position(&days, "2025-11-04T12:00:00Z"), 1.5);
        // A day without events: the mark sits between its neighbours.
        assert_eq!(
            position(&["2025-11-03", "2025-11-05"], "2025-11-04T06:00:00Z"),
            1.0
        );
        assert_eq!(position(&days, "2025-11-09T00:00:00Z"), 3.0);
    }

    #[test]
    fn labels_from_the_logs_are_escaped() {
        let svg = share_bar("<b>x</b>", &[("public_internet", 3)]);
        assert!(svg.contains("&lt;b&gt;x&lt;/b&gt;") && !svg.contains("<b>"));
    }
}

//! The Markdown report: the same content as tables.

use std::fmt::Write;

use super::mdkit::{cell, opt, table};
use super::{data_quality, glances, headline, overview};
use crate::model::{
    BY_PATH_COLUMNS, Caller, FINDING_COLUMNS, PUBLIC_COLUMNS, Report, SAMPLE_COLUMNS, Sample,
    TRUSTED_COLUMNS,
};
use crate::model::{TOP_CALLERS, TOP_PER_PATH};

fn callers(out: &mut String, callers: &[Caller], with_geo: bool) {
    if callers.is_empty() {
        out.push_str("None.\n\n");
        return;
    }
    let header: &[&str] = if with_geo {
        &PUBLIC_COLUMNS
    } else {
        &TRUSTED_COLUMNS
    };
    let rows = callers
        .iter()
        .map(|c| {
            if with_geo {
                let asn = opt(&c.autonomous_system());
                vec![
                    cell(&c.registry),
                    opt(&c.caller_ip),
                    opt(&c.country),
                    asn,
                    cell(&c.caller_kind),
                    cell(&c.access_path),
                    c.requests.to_string(),
                ]
            } else {
                vec![
                    cell(&c.registry),
                    opt(&c.identity),
                    cell(&c.caller_kind),
                    opt(&c.service_tag),
                    c.requests.to_string(),
                ]
            }
        })
        .collect();
    table(out, header, rows);
}

/// `n` of `total` as a whole percentage; a share too small to round to 1% is `<1%`, not 0%.
fn percent(n: u64, total: u64) -> String {
    match n * 100 / total.max(1) {
        0 if n > 0 => "<1%".to_owned(),
        p => format!("{p}%"),
    }
}

/// Renders the report as Markdown.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# acrlens compliance report\n");
    let _ = writeln!(out, "**{}**\n", headline(report));
    for line in overview(report) {
        let _ = writeln!(out, "- {}", cell(&line));
    }
    out.push('\n');

    let _ = writeln!(out, "## Registries\n");
    let rows = glances(report)
        .iter()
        .map(|g| {
            let shares: Vec<String> = g
                .paths
                .iter()
                .map(|(path, n)| format!("{} {}", cell(path), percent(*n, g.requests)))
                .collect();
            let violated = if g.violations.is_empty() {
                "none".to_owned()
            } else {
                g.violations.clone()
            };
            vec![
                cell(g.registry),
                g.requests.to_string(),
                shares.join(" · "),
                violated,
            ]
        })
        .collect();
    table(
        &mut out,
        &["registry", "requests", "access paths", "rules violated"],
        rows,
    );
    if !report.changes.is_empty() {
        let _ = writeln!(out, "## Changes in the period\n");
        for c in &report.changes {
            let who = c.registry.as_deref().unwrap_or("every registry");
            let _ = writeln!(
                out,
                "- {} — {} ({}): {}",
                cell(&c.time),
                cell(who),
                c.kind,
                cell(&c.detail)
            );
        }
        out.push('\n');
    }

    let _ = writeln!(out, "## Violations\n");
    if report.violations.is_empty() {
        out.push_str("None.\n\n");
    }
    for v in &report.violations {
        let _ = writeln!(out, "### {} ({})\n", cell(&v.rule), v.severity.name());
        let _ = writeln!(
            out,
            "{}: **{}**, first {}, last {}.\n",
            cell(&v.finding),
            v.count,
            opt(&v.first_seen),
            opt(&v.last_seen)
        );
        let (findings, events): (Vec<&Sample>, Vec<&Sample>) =
            v.samples.iter().partition(|s| s.is_finding());
        if !events.is_empty() {
            let rows = events
                .iter()
                .map(|s| s.cells().iter().map(|f| opt(f)).collect())
                .collect();
            table(&mut out, &SAMPLE_COLUMNS, rows);
        }
        if !findings.is_empty() {
            let rows = findings
                .iter()
                .map(|s| vec![opt(&s.registry), opt(&s.time), opt(&s.detail)])
                .collect();
            table(&mut out, &FINDING_COLUMNS, rows);
        }
    }

    let _ = writeln!(out, "## Requests by access path\n");
    let rows = report
        .paths_by_registry
        .iter()
        .map(|p| {
            vec![
                cell(&p.registry),
                cell(&p.access_path),
                p.requests.to_string(),
            ]
        })
        .collect();
    table(&mut out, &["registry", "access path", "requests"], rows);

    let _ = writeln!(
        out,
        "## Callers by access path (busiest {TOP_PER_PATH} per path)\n"
    );
    let rows = report
        .callers_by_path
        .iter()
        .map(|c| {
            vec![
                cell(&c.access_path),
                cell(&c.registry),
                opt(&c.caller_ip),
                opt(&c.identity),
                cell(&c.caller_kind),
                c.requests.to_string(),
            ]
        })
        .collect();
    table(&mut out, &BY_PATH_COLUMNS, rows);
    let _ = writeln!(out, "## Trusted-service bypass (busiest {TOP_CALLERS})\n");
    callers(&mut out, &report.trusted_callers, false);
    let _ = writeln!(out, "## Public callers (busiest {TOP_CALLERS})\n");
    callers(&mut out, &report.public_callers, true);

    let _ = writeln!(out, "## Data quality\n");
    for line in data_quality(report) {
        let _ = writeln!(out, "- {}", cell(&line));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_tables_or_inject_html() {
        assert_eq!(cell("a|b\nc<script>"), "a\\|b c&lt;script&gt;");
        assert_eq!(cell("[x](javascript:1)"), "\\[x\\](javascript:1)");
    }
}

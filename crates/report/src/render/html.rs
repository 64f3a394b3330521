//! One self-contained HTML file: inline CSS, inline SVG charts, no scripts, no requests to the
//! network. Readable on a phone (tables scroll sideways), printable.

use std::fmt::Write;

use super::charts::{series, share_bar};
use super::htmlkit::{STYLE, colour, esc, num, opt, table, text};
use super::{changes_of, data_quality, glances, headline, overview};
use crate::model::{
    BY_PATH_COLUMNS, Caller, FINDING_COLUMNS, PUBLIC_COLUMNS, Report, SAMPLE_COLUMNS, Sample,
    TRUSTED_COLUMNS,
};
use crate::model::{TOP_CALLERS, TOP_PER_PATH};
use acrlens_attrib::AccessPath;

fn callers(out: &mut String, callers: &[Caller], with_geo: bool) {
    if callers.is_empty() {
        out.push_str("<p>None.</p>\n");
        return;
    }
    let rows: Vec<Vec<(String, bool)>> = callers
        .iter()
        .map(|c| {
            if with_geo {
                let asn = opt(&c.autonomous_system());
                vec![
                    text(esc(&c.registry)),
                    text(opt(&c.caller_ip)),
                    text(opt(&c.country)),
                    text(asn),
                    text(esc(&c.caller_kind)),
                    text(esc(&c.access_path)),
                    num(c.requests),
                ]
            } else {
                vec![
                    text(esc(&c.registry)),
                    text(opt(&c.identity)),
                    text(esc(&c.caller_kind)),
                    text(opt(&c.service_tag)),
                    num(c.requests),
                ]
            }
        })
        .collect();
    let header: &[&str] = if with_geo {
        &PUBLIC_COLUMNS
    } else {
        &TRUSTED_COLUMNS
    };
    table(out, header, &rows);
}

/// The legend of the access paths present.
fn legend(report: &Report) -> String {
    let paths = AccessPath::in_order(
        report
            .paths_by_registry
            .iter()
            .map(|p| p.access_path.as_str()),
    );
    let items: String = paths
        .iter()
        .map(|p| {
            format!(
                "<span><i style=\"background:{}\"></i>{}</span>",
                colour(p),
                esc(p)
            )
        })
        .collect();
    format!("<p class=\"legend\">{items}</p>\n")
}

/// Each registry in one row: requests, the share of each path, the rules it violates.
fn summary(out: &mut String, report: &Report) {
    out.push_str("<h2>Registries</h2>\n");
    let glances = glances(report);
    if glances.is_empty() {
        out.push_str("<p>No events.</p>\n");
        return;
    }
    out.push_str(
        "<div class=\"scroll\"><table class=\"summary\"><thead><tr><th>registry</th><th>requests</th>\
         <th class=\"bar\">access paths</th><th>rules violated</th></tr></thead><tbody>",
    );
    for g in &glances {
        let violated = if g.violations.is_empty() {
            "<span class=\"ok\">none</span>".to_owned()
        } else {
            format!("<span class=\"bad\">{}</span>", esc(&g.violations))
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"bar\">{}</td><td>{violated}</td></tr>",
            esc(g.registry),
            g.requests,
            share_bar(g.registry, &g.paths)
        );
    }
    out.push_str("</tbody></table></div>\n");
    out.push_str(&legend(report));
}

/// Each registry's requests per day, its changes marked and listed.
fn over_time(out: &mut String, report: &Report) {
    out.push_str("<h2>Over time</h2>\n");
    for g in glances(report) {
        let changes = changes_of(report, g.registry);
        let _ = writeln!(
            out,
            "<h3>{}</h3><div class=\"scroll\">{}</div>",
            esc(g.registry),
            series(g.registry, &super::series(report, g.registry), &changes)
        );
        if !changes.is_empty() {
            let items: String = changes
                .iter()
                .map(|c| {
                    let what = match c.kind {
                        "configuration" => "configuration",
                        _ => "service tags",
                    };
                    format!("<li>{} — {what}: {}</li>", esc(&c.time), esc(&c.detail))
                })
                .collect();
            let _ = writeln!(out, "<ol class=\"changes\">{items}</ol>");
        }
    }
}

/// A verdict's reason, folded when it is long.
fn detail(text: &Option<String>) -> String {
    const SHORT: usize = 80;
    match text {
        Some(t) if t.chars().count() > SHORT => {
            let head: String = t.chars().take(SHORT).collect();
            format!(
                "<details><summary>{}…</summary>{}</details>",
                esc(&head),
                esc(t)
            )
        }
        other => opt(other),
    }
}

fn violations(out: &mut String, report: &Report) {
    out.push_str("<h2>Violations</h2>\n");
    if report.violations.is_empty() {
        out.push_str("<p>None.</p>\n");
    }
    for v in &report.violations {
        let _ = writeln!(
            out,
            "<h3>{} <span class=\"sev-{}\">({})</span></h3><p>{}: <strong>{}</strong>, first {}, last {}.</p>",
            esc(&v.rule),
            v.severity.name(),
            v.severity.name(),
            esc(&v.finding),
            v.count,
            opt(&v.first_seen),
            opt(&v.last_seen)
        );
        let (findings, events): (Vec<&Sample>, Vec<&Sample>) =
            v.samples.iter().partition(|s| s.is_finding());
        if !events.is_empty() {
            let rows: Vec<Vec<(String, bool)>> = events
                .iter()
                .map(|s| {
                    let cells = s.cells();
                    let mut row: Vec<(String, bool)> =
                        cells[..6].iter().map(|f| text(opt(f))).collect();
                    row.push(text(detail(cells[6])));
                    row
                })
                .collect();
            table(out, &SAMPLE_COLUMNS, &rows);
        }
        if !findings.is_empty() {
            let rows: Vec<Vec<(String, bool)>> = findings
                .iter()
                .map(|s| {
                    vec![
                        text(opt(&s.registry)),
                        text(opt(&s.time)),
                        text(opt(&s.detail)),
                    ]
                })
                .collect();
            table(out, &FINDING_COLUMNS, &rows);
        }
    }
}

/// Renders the report as one HTML page: the verdict and each registry at a glance, each
/// registry over time with its changes, the violations, then the detail tables.
pub fn html(report: &Report) -> String {
    let mut out = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>acrlens compliance report</title><style>{STYLE}</style></head><body>\n<h1>acrlens compliance report</h1>\n"
    );
    let class = if report.violations.is_empty() {
        "ok"
    } else {
        "bad"
    };
    let _ = writeln!(
        out,
        "<p class=\"verdict {class}\"><strong>{}</strong></p>",
        esc(&headline(report))
    );
    let items: String = overview(report)
        .iter()
        .map(|line| format!("<li>{}</li>", esc(line)))
        .collect();
    let _ = writeln!(out, "<ul>{items}</ul>");
    summary(&mut out, report);
    over_time(&mut out, report);
    violations(&mut out, report);
    out.push_str("<h2>Requests by access path</h2>\n");
    let rows: Vec<Vec<(String, bool)>> = report
        .paths_by_registry
        .iter()
        .map(|p| {
            vec![
                text(esc(&p.registry)),
                text(esc(&p.access_path)),
                num(p.requests),
            ]
        })
        .collect();
    table(&mut out, &["registry", "access path", "requests"], &rows);
    let _ = writeln!(
        out,
        "<h2>Callers by access path (busiest {TOP_PER_PATH} per path)</h2>"
    );
    let rows: Vec<Vec<(String, bool)>> = report
        .callers_by_path
        .iter()
        .map(|c| {
            vec![
                text(esc(&c.access_path)),
                text(esc(&c.registry)),
                text(opt(&c.caller_ip)),
                text(opt(&c.identity)),
                text(esc(&c.caller_kind)),
                num(c.requests),
            ]
        })
        .collect();
    table(&mut out, &BY_PATH_COLUMNS, &rows);
    let _ = writeln!(
        out,
        "<h2>Trusted-service bypass (busiest {TOP_CALLERS})</h2>"
    );
    callers(&mut out, &report.trusted_callers, false);
    let _ = writeln!(out, "<h2>Public callers (busiest {TOP_CALLERS})</h2>");
    callers(&mut out, &report.public_callers, true);
    let items: String = data_quality(report)
        .iter()
        .map(|line| format!("<li>{}</li>", esc(line)))
        .collect();
    let _ = writeln!(out, "<h2>Data quality</h2><ul>{items}</ul>");
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_log_text_is_inert() {
        assert_eq!(
            esc("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
    }
}

//! One self-contained HTML file: inline CSS, inline SVG charts, no scripts, no requests to the
//! network. Readable on a phone (tables scroll sideways), printable.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::htmlkit::{STYLE, colour, esc, num, opt, table, text};
use super::{data_quality, headline, overview};
use crate::model::{
    BY_PATH_COLUMNS, Caller, PUBLIC_COLUMNS, Report, SAMPLE_COLUMNS, TRUSTED_COLUMNS,
};
use crate::model::{TOP_CALLERS, TOP_PER_PATH};
use acrlens_attrib::AccessPath;

/// A stacked bar per day, one colour per access path.
fn chart(report: &Report) -> String {
    let mut days: BTreeMap<&str, Vec<(&str, u64)>> = BTreeMap::new();
    for d in &report.paths_by_day {
        days.entry(&d.day)
            .or_default()
            .push((&d.access_path, d.requests));
    }
    if days.is_empty() {
        return "<p>No events.</p>".into();
    }
    let max = days
        .values()
        .map(|v| v.iter().map(|(_, n)| n).sum::<u64>())
        .max()
        .unwrap_or(1)
        .max(1);
    let (bar, gap, height, left, bottom) = (48.0, 16.0, 220.0, 48.0, 28.0);
    let width = left + days.len() as f64 * (bar + gap) + gap;
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"Requests per day by access path\" viewBox=\"0 0 {width} {}\" width=\"{width}\" height=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        height + bottom,
        height + bottom
    );
    let _ = write!(
        svg,
        "<text x=\"4\" y=\"12\" font-size=\"11\">{max}</text><text x=\"4\" y=\"{height}\" font-size=\"11\">0</text>"
    );
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{height}\" x2=\"{width}\" y2=\"{height}\" stroke=\"#999\"/>"
    );
    for (i, (day, paths)) in days.iter_mut().enumerate() {
        paths.sort_by_key(|(p, _)| AccessPath::order_of(p));
        let x = left + gap + i as f64 * (bar + gap);
        let mut y = height;
        for (path, n) in paths.iter() {
            let h = *n as f64 / max as f64 * (height - 16.0);
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
    svg.push_str("</svg>");
    let paths = AccessPath::in_order(report.paths_by_day.iter().map(|d| d.access_path.as_str()));
    let legend: String = paths
        .iter()
        .map(|p| {
            format!(
                "<span><i style=\"background:{}\"></i>{}</span>",
                colour(p),
                esc(p)
            )
        })
        .collect();
    format!("<div class=\"scroll\">{svg}</div><p class=\"legend\">{legend}</p>")
}

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

/// Renders the report as one HTML page.
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
        "<p class=\"{class}\"><strong>{}</strong></p>",
        esc(&headline(report))
    );
    let items: String = overview(report)
        .iter()
        .map(|line| format!("<li>{}</li>", esc(line)))
        .collect();
    let _ = writeln!(out, "<ul>{items}</ul>");
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
        let rows: Vec<Vec<(String, bool)>> = v
            .samples
            .iter()
            .map(|s| s.cells().iter().map(|f| text(opt(f))).collect())
            .collect();
        table(&mut out, &SAMPLE_COLUMNS, &rows);
    }
    out.push_str("<h2>Requests by access path</h2>\n");
    out.push_str(&chart(report));
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

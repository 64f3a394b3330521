//! The replay's outcome as Markdown (a pull-request comment before a firewall change), one
//! self-contained HTML page, or JSON. Caller identities and addresses come from the logs: every
//! renderer escapes them.

use std::collections::BTreeMap;
use std::fmt::Write;

use acrlens_attrib::AccessPath;
use acrlens_report::render::{htmlkit, mdkit};

use crate::model::{CallerChange, TOP_CALLERS, WhatIf};

/// What the proposal does, in one sentence.
pub fn headline(w: &WhatIf) -> String {
    let s = &w.summary;
    let part = |callers: u64, requests: u64, what: &str| match callers {
        0 => format!("nobody would be {what}"),
        1 => format!("1 caller would be {what} ({requests} requests)"),
        n => format!("{n} callers would be {what} ({requests} requests)"),
    };
    let mut text = format!(
        "{}; {}.",
        part(s.callers_cut_off, s.requests_cut_off, "cut off"),
        part(
            s.callers_newly_allowed,
            s.requests_newly_allowed,
            "newly let in"
        )
    );
    if let Some(first) = text.get(..1) {
        text = first.to_uppercase() + &text[1..];
    }
    text
}

/// What was proposed, in a few words.
fn proposal_line(w: &WhatIf) -> String {
    let mut parts = Vec::new();
    if let Some(file) = &w.proposal.registry_config {
        parts.push(format!("the configuration in {file}"));
    }
    parts.extend(w.proposal.settings.iter().cloned());
    if parts.is_empty() {
        "the configurations in force".to_owned()
    } else {
        parts.join(", ")
    }
}

/// The facts of the replay, one plain-text line each (renderers escape them).
fn overview(w: &WhatIf) -> [String; 3] {
    let dash = |t: &Option<String>| t.clone().unwrap_or_else(|| "–".to_owned());
    [
        format!("Period: {} – {}", dash(&w.period.from), dash(&w.period.to)),
        format!(
            "Requests replayed: {}; not judged (no configuration in force): {}; taking another path: {}",
            w.requests - w.not_judged,
            w.not_judged,
            w.summary.requests_changing_path
        ),
        format!("Proposal: {}", proposal_line(w)),
    ]
}

const CALLER_COLUMNS: [&str; 9] = [
    "caller",
    "identity",
    "kind",
    "service tag",
    "today",
    "proposed",
    "requests",
    "first seen",
    "last seen",
];

fn shown_note(shown: usize, total: u64) -> Option<String> {
    (total > shown as u64).then(|| format!("The {TOP_CALLERS} busiest of {total} callers."))
}

/// The two lists of callers, titled, with how many callers each holds in all.
fn caller_lists(w: &WhatIf) -> [(&'static str, &[CallerChange], u64); 2] {
    [
        (
            "Cut off: let in today, denied under the proposal",
            &w.cut_off,
            w.summary.callers_cut_off,
        ),
        (
            "Newly let in: denied today, let in under the proposal",
            &w.newly_allowed,
            w.summary.callers_newly_allowed,
        ),
    ]
}

fn caller_cells(c: &CallerChange) -> [Option<String>; 6] {
    [
        Some(c.caller_ip.clone()),
        c.identity.clone(),
        Some(c.caller_kind.clone()),
        c.service_tag.clone(),
        Some(c.today.join(", ")),
        Some(c.proposed.clone()),
    ]
}

/// The Markdown output.
pub fn markdown(w: &WhatIf) -> String {
    let mut out = format!(
        "# What if {} had {}\n\n**{}**\n\n",
        mdkit::cell(&w.registry),
        mdkit::cell(&proposal_line(w)),
        mdkit::cell(&headline(w))
    );
    for line in overview(w) {
        let _ = writeln!(out, "- {}", mdkit::cell(&line));
    }
    out.push_str("\n## Configurations\n\n");
    let rows = w
        .proposal
        .configurations
        .iter()
        .map(|c| {
            vec![
                mdkit::opt(&c.from),
                mdkit::cell(&c.source),
                mdkit::cell(&c.today),
                mdkit::cell(&c.proposed),
                c.requests.to_string(),
            ]
        })
        .collect();
    mdkit::table(
        &mut out,
        &["in force from", "source", "today", "proposed", "requests"],
        rows,
    );
    for (title, callers, total) in caller_lists(w) {
        let _ = writeln!(out, "## {title}\n");
        if callers.is_empty() {
            out.push_str("Nobody.\n\n");
            continue;
        }
        if let Some(note) = shown_note(callers.len(), total) {
            let _ = writeln!(out, "{note}\n");
        }
        let rows = callers
            .iter()
            .map(|c| {
                let mut row: Vec<String> = caller_cells(c).iter().map(mdkit::opt).collect();
                row.extend([
                    c.requests.to_string(),
                    mdkit::cell(&c.first_seen),
                    mdkit::cell(&c.last_seen),
                ]);
                row
            })
            .collect();
        mdkit::table(&mut out, &CALLER_COLUMNS, rows);
    }
    out.push_str("## Requests by path, today and under the proposal\n\n");
    let rows = w
        .paths
        .iter()
        .map(|p| {
            vec![
                mdkit::cell(&p.today),
                mdkit::cell(&p.proposed),
                p.requests.to_string(),
            ]
        })
        .collect();
    mdkit::table(&mut out, &["today", "proposed", "requests"], rows);
    if !w.proposal.private_endpoints.is_empty() {
        out.push_str("## Private endpoints added\n\n");
        let rows = w
            .proposal
            .private_endpoints
            .iter()
            .map(|e| {
                vec![
                    mdkit::cell(&e.subnet),
                    mdkit::cell(&e.vnets.join(", ")),
                    e.requests_from_served_vnets.to_string(),
                ]
            })
            .collect();
        mdkit::table(
            &mut out,
            &["subnet", "VNets served", "requests from them"],
            rows,
        );
        out.push_str(ENDPOINT_NOTE);
        out.push_str("\n\n");
    }
    out
}

const ENDPOINT_NOTE: &str = "Requests through a private endpoint pass no firewall rule, so a new endpoint changes no verdict above. Callers that reach the registry over the internet today move to it only once their DNS resolves the registry privately; their public egress addresses do not say which VNet they leave from.";

/// The JSON output (schema `acrlens.whatif/v1`).
pub fn json(w: &WhatIf) -> String {
    let mut text = sonic_rs::to_string_pretty(w)
        .unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()));
    text.push('\n');
    text
}

/// Requests per path today and under the proposal, as two stacked bars.
fn bars(w: &WhatIf) -> String {
    let mut today: BTreeMap<(usize, &str), u64> = BTreeMap::new();
    let mut proposed: BTreeMap<(usize, &str), u64> = BTreeMap::new();
    for p in &w.paths {
        *today
            .entry((AccessPath::order_of(&p.today), &p.today))
            .or_default() += p.requests;
        *proposed
            .entry((AccessPath::order_of(&p.proposed), &p.proposed))
            .or_default() += p.requests;
    }
    let total = today.values().sum::<u64>().max(1) as f64;
    let (left, width, bar) = (80.0, 600.0, 28.0);
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"Requests by access path, today and proposed\" viewBox=\"0 0 {} 80\" width=\"{}\" height=\"80\" xmlns=\"http://www.w3.org/2000/svg\">",
        left + width,
        left + width
    );
    for (row, (label, counts)) in [("today", &today), ("proposed", &proposed)]
        .into_iter()
        .enumerate()
    {
        let y = 4.0 + row as f64 * (bar + 12.0);
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{}\" font-size=\"12\">{label}</text>",
            y + bar * 0.65
        );
        let mut x = left;
        for ((_, path), n) in counts {
            let w = *n as f64 / total * width;
            let _ = write!(
                svg,
                "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"{bar}\" fill=\"{}\"><title>{}: {n}</title></rect>",
                htmlkit::colour(path),
                htmlkit::esc(path)
            );
            x += w;
        }
    }
    svg.push_str("</svg>");
    let legend: Vec<String> = today
        .keys()
        .chain(proposed.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|(_, path)| {
            format!(
                "<span><i style=\"background:{}\"></i>{}</span>",
                htmlkit::colour(path),
                htmlkit::esc(path)
            )
        })
        .collect();
    format!("{svg}<p class=\"legend\">{}</p>", legend.join(""))
}

/// The HTML page.
pub fn html(w: &WhatIf) -> String {
    use htmlkit::{esc, num, text};
    let title = format!("What if {} had {}", w.registry, proposal_line(w));
    let verdict = if w.cuts_off_anyone() { "bad" } else { "ok" };
    let mut out = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{}</style></head><body>\n<h1>{}</h1>\n<p class=\"{verdict}\"><strong>{}</strong></p>\n<ul>",
        esc(&title),
        htmlkit::STYLE,
        esc(&title),
        esc(&headline(w))
    );
    for line in overview(w) {
        let _ = write!(out, "<li>{}</li>", esc(&line));
    }
    out.push_str("</ul>\n");
    out.push_str(&bars(w));
    for (title, callers, total) in caller_lists(w) {
        let _ = write!(out, "<h2>{}</h2>", esc(title));
        if callers.is_empty() {
            out.push_str("<p>Nobody.</p>\n");
            continue;
        }
        if let Some(note) = shown_note(callers.len(), total) {
            let _ = write!(out, "<p>{}</p>", esc(&note));
        }
        let rows: Vec<Vec<(String, bool)>> = callers
            .iter()
            .map(|c| {
                let mut row: Vec<(String, bool)> = caller_cells(c)
                    .iter()
                    .map(|v| text(htmlkit::opt(v)))
                    .collect();
                row.extend([
                    num(c.requests),
                    text(esc(&c.first_seen)),
                    text(esc(&c.last_seen)),
                ]);
                row
            })
            .collect();
        htmlkit::table(&mut out, &CALLER_COLUMNS, &rows);
    }
    out.push_str("<h2>Configurations</h2>");
    let rows: Vec<Vec<(String, bool)>> = w
        .proposal
        .configurations
        .iter()
        .map(|c| {
            vec![
                text(htmlkit::opt(&c.from)),
                text(esc(&c.source)),
                text(esc(&c.today)),
                text(esc(&c.proposed)),
                num(c.requests),
            ]
        })
        .collect();
    htmlkit::table(
        &mut out,
        &["in force from", "source", "today", "proposed", "requests"],
        &rows,
    );
    out.push_str("<h2>Requests by path, today and under the proposal</h2>");
    let rows: Vec<Vec<(String, bool)>> = w
        .paths
        .iter()
        .map(|p| vec![text(esc(&p.today)), text(esc(&p.proposed)), num(p.requests)])
        .collect();
    htmlkit::table(&mut out, &["today", "proposed", "requests"], &rows);
    if !w.proposal.private_endpoints.is_empty() {
        out.push_str("<h2>Private endpoints added</h2>");
        let rows: Vec<Vec<(String, bool)>> = w
            .proposal
            .private_endpoints
            .iter()
            .map(|e| {
                vec![
                    text(esc(&e.subnet)),
                    text(esc(&e.vnets.join(", "))),
                    num(e.requests_from_served_vnets),
                ]
            })
            .collect();
        htmlkit::table(
            &mut out,
            &["subnet", "VNets served", "requests from them"],
            &rows,
        );
        let _ = write!(out, "<p>{}</p>", esc(ENDPOINT_NOTE));
    }
    out.push_str("</body></html>\n");
    out
}

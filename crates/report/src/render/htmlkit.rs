//! The pieces every acrlens HTML page is made of: escaping, the stylesheet, the access paths'
//! colours and tables. Text from the logs is attacker-controlled: everything goes through [`esc`].

use std::fmt::Write;

/// Escapes text for HTML element content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Optional text, escaped; a dash when absent.
pub fn opt(text: &Option<String>) -> String {
    text.as_deref().map_or("–".to_owned(), esc)
}

/// The colour of an `access_path` value in every chart and legend (grey for a value that is
/// no path).
pub fn colour(path: &str) -> &'static str {
    acrlens_attrib::AccessPath::from_name(path)
        .map_or("#bdbdbd", acrlens_attrib::AccessPath::colour)
}

/// The stylesheet of every acrlens page: readable on a phone (tables scroll), printable.
pub const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem;color:#212121}\
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}\
.scroll{overflow-x:auto}table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}\
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f5f5f5}\
td.n{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#2e7d32}.bad{color:#c62828}\
.sev-critical,.sev-high{color:#c62828;font-weight:600}.sev-medium{color:#ef6c00}.legend span{display:inline-block;margin-right:1rem}\
.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}\
svg{max-width:100%;height:auto}svg.shares{display:block;min-width:8rem;height:18px}td.bar,th.bar{width:50%}\
.verdict{font-size:1.2rem}details summary{cursor:pointer}ol.changes{font-size:.9rem}@media print{.scroll{overflow:visible}body{max-width:none}}\
@media (max-width:40rem){table.summary,table.summary tbody,table.summary tr,table.summary td{display:block}\
table.summary thead{display:none}table.summary tr{border:1px solid #ddd;margin-bottom:.5rem}table.summary td{border:0}\
table.summary td.n::after{content:\" requests\"}td.bar{width:auto}}";

/// A table of cells already escaped (`true` marks a number, right-aligned).
pub fn table(out: &mut String, header: &[&str], rows: &[Vec<(String, bool)>]) {
    out.push_str("<div class=\"scroll\"><table><thead><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for (value, numeric) in row {
            let _ = write!(
                out,
                "<td{}>{value}</td>",
                if *numeric { " class=\"n\"" } else { "" }
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>\n");
}

/// A text cell (already escaped).
pub fn text(v: String) -> (String, bool) {
    (v, false)
}

/// A number cell.
pub fn num(n: impl ToString) -> (String, bool) {
    (n.to_string(), true)
}

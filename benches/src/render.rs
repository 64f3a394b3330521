//! Renders [`LogEvent`]s in each export shape users hold: resource-log JSON lines, the
//! `{"records":[…]}` envelope, Log Analytics export JSON lines, `az … -o json` output and the
//! portal's CSV export. The spellings follow what Azure writes.

use std::fmt::Write as _;

use acrlens_events::format_timestamp_micros;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::event::{Category, LogEvent};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResourceLog<'a> {
    time: String,
    resource_id: &'a str,
    operation_name: &'a str,
    category: &'a str,
    result_type: &'a str,
    result_description: String,
    duration_ms: &'a str,
    caller_ip_address: &'a str,
    correlation_id: &'a str,
    identity: &'a str,
    level: &'a str,
    location: &'a str,
    properties: Properties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Properties<'a> {
    login_server: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    repository: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    media_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_type: Option<&'a str>,
    user_agent: &'a str,
    tenant_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwt_id: Option<&'a str>,
}

/// Resource logs write seven fractional digits.
fn resource_log_time(micros: i64) -> String {
    let text = format_timestamp_micros(micros);
    match text.strip_suffix('Z') {
        Some(base) if base.contains('.') => format!("{base}0Z"),
        Some(base) => format!("{base}.0000000Z"),
        None => text,
    }
}

fn resource_log(e: &LogEvent) -> ResourceLog<'_> {
    ResourceLog {
        time: resource_log_time(e.time),
        resource_id: &e.resource_id,
        operation_name: e.operation,
        category: e.category.name(),
        result_type: "HttpStatusCode",
        result_description: e.status.to_string(),
        duration_ms: &e.duration_ms,
        caller_ip_address: e.caller_ip.as_deref().unwrap_or(""),
        correlation_id: &e.correlation_id,
        identity: e.identity.as_deref().unwrap_or(""),
        level: "Informational",
        location: e.location,
        properties: Properties {
            login_server: &e.login_server,
            repository: e.repository.as_deref(),
            tag: e.tag.as_deref(),
            digest: e.digest.as_deref(),
            media_type: e.media_type,
            size: e.size,
            artifact_type: e.artifact_type,
            user_agent: e.user_agent.as_deref().unwrap_or(""),
            tenant_id: e.tenant_id,
            jwt_id: e.jwt_id.as_deref(),
        },
    }
}

/// One resource-log JSON line (with its newline), appended to `out`.
pub fn resource_log_line(e: &LogEvent, out: &mut Vec<u8>) {
    // Serializing plain structs of strings and numbers into a Vec cannot fail.
    let _ = sonic_rs::to_writer(&mut *out, &resource_log(e));
    out.push(b'\n');
}

/// A `{"records":[…]}` envelope holding `events`, one record per line.
pub fn records_envelope(events: &[LogEvent]) -> Vec<u8> {
    let mut out = b"{\"records\": [\n".to_vec();
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b",\n");
        }
        let _ = sonic_rs::to_writer(&mut out, &resource_log(e));
    }
    out.extend_from_slice(b"\n]}\n");
    out
}

/// A Log Analytics cell.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Text(String),
    Int(i64),
    Null,
}

fn text(v: Option<&str>) -> Cell {
    v.map_or(Cell::Null, |s| Cell::Text(s.to_owned()))
}

/// The Log Analytics columns of an event, in the tables' order.
fn la_columns(e: &LogEvent, time: String) -> Vec<(&'static str, Cell)> {
    let mut cols = vec![
        (
            "TenantId",
            Cell::Text("00000000-0000-0000-0000-00000000feed".into()),
        ),
        ("TimeGenerated", Cell::Text(time)),
        ("OperationName", Cell::Text(e.operation.into())),
        ("LoginServer", Cell::Text(e.login_server.clone())),
    ];
    if e.category == Category::Repository {
        cols.extend([
            ("Repository", text(e.repository.as_deref())),
            ("Tag", text(e.tag.as_deref())),
            ("Digest", text(e.digest.as_deref())),
        ]);
    }
    cols.extend([
        ("CallerIpAddress", text(e.caller_ip.as_deref())),
        ("Identity", text(e.identity.as_deref())),
        ("DurationMs", Cell::Text(e.duration_ms.clone())),
    ]);
    if e.category == Category::Repository {
        cols.push(("Size", e.size.map_or(Cell::Null, Cell::Int)));
    }
    cols.extend([
        ("ResultType", Cell::Text("HttpStatusCode".into())),
        ("ResultDescription", Cell::Text(e.status.to_string())),
        ("UserAgent", text(e.user_agent.as_deref())),
        ("CorrelationId", Cell::Text(e.correlation_id.clone())),
    ]);
    if e.category == Category::Repository {
        cols.extend([
            ("ArtifactType", text(e.artifact_type)),
            ("MediaType", text(e.media_type)),
        ]);
    }
    cols.extend([
        ("Region", Cell::Text(e.location.into())),
        (
            "_ResourceId",
            Cell::Text(e.resource_id.to_ascii_lowercase()),
        ),
        ("JwtId", text(e.jwt_id.as_deref())),
        ("SourceSystem", Cell::Text("Azure".into())),
        ("Type", Cell::Text(e.category.name().into())),
    ]);
    cols
}

/// Serializes columns as one JSON object; `stringify` renders like `az -o json` (Python `str()`).
struct LaObject<'a> {
    cols: &'a [(&'static str, Cell)],
    stringify: bool,
}

impl Serialize for LaObject<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.cols.len()))?;
        for (key, cell) in self.cols {
            match (cell, self.stringify) {
                (Cell::Text(t), _) => map.serialize_entry(key, t)?,
                (Cell::Int(i), false) => map.serialize_entry(key, i)?,
                (Cell::Int(i), true) => map.serialize_entry(key, &i.to_string())?,
                (Cell::Null, false) => map.serialize_entry(key, &())?,
                (Cell::Null, true) => map.serialize_entry(key, "None")?,
            }
        }
        map.end()
    }
}

/// One Log Analytics data-export JSON line (with its newline), appended to `out`.
pub fn log_analytics_line(e: &LogEvent, out: &mut Vec<u8>) {
    let cols = la_columns(e, resource_log_time(e.time));
    let _ = sonic_rs::to_writer(
        &mut *out,
        &LaObject {
            cols: &cols,
            stringify: false,
        },
    );
    out.push(b'\n');
}

/// `az monitor log-analytics query -o json` output for `events`: an indented array of flat
/// objects whose values are all strings.
pub fn az_query_json(events: &[LogEvent]) -> Vec<u8> {
    let mut out = b"[\n".to_vec();
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b",\n");
        }
        let cols = la_columns(e, format_timestamp_micros(e.time));
        out.extend_from_slice(b"  ");
        let _ = sonic_rs::to_writer(
            &mut out,
            &LaObject {
                cols: &cols,
                stringify: true,
            },
        );
    }
    out.extend_from_slice(b"\n]\n");
    out
}

/// The portal's time spelling: `11/3/2025, 10:15:02.123 AM`.
fn portal_time(micros: i64) -> String {
    let iso = format_timestamp_micros(micros);
    let (date, clock) = iso.split_once('T').unwrap_or((&iso, "00:00:00Z"));
    let mut d = date.split('-').map(|p| p.parse::<u32>().unwrap_or(0));
    let (y, m, day) = (
        d.next().unwrap_or(0),
        d.next().unwrap_or(0),
        d.next().unwrap_or(0),
    );
    let clock = clock.trim_end_matches('Z');
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, "0"));
    let mut t = hms.split(':').map(|p| p.parse::<u32>().unwrap_or(0));
    let (h, min, s) = (
        t.next().unwrap_or(0),
        t.next().unwrap_or(0),
        t.next().unwrap_or(0),
    );
    let (h12, meridiem) = match h {
        0 => (12, "AM"),
        1..=11 => (h, "AM"),
        12 => (12, "PM"),
        _ => (h - 12, "PM"),
    };
    let mut out = format!("{m}/{day}/{y}, {h12}:{min:02}:{s:02}");
    let _ = write!(
        out,
        ".{:03} {meridiem}",
        frac.get(..3).unwrap_or("000").parse::<u32>().unwrap_or(0)
    );
    out
}

/// The portal's "Export to CSV" of `events` (one table's columns; repository events).
pub fn portal_csv(events: &[LogEvent]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let Some(first) = events.first() else {
        return Vec::new();
    };
    let header: Vec<String> = la_columns(first, String::new())
        .iter()
        .map(|(k, _)| {
            if *k == "TimeGenerated" {
                "TimeGenerated [UTC]".to_owned()
            } else {
                (*k).to_owned()
            }
        })
        .collect();
    let _ = w.write_record(&header);
    for e in events {
        let row: Vec<String> = la_columns(e, portal_time(e.time))
            .into_iter()
            .map(|(_, c)| match c {
                Cell::Text(t) => t,
                Cell::Int(i) => i.to_string(),
                Cell::Null => String::new(),
            })
            .collect();
        let _ = w.write_record(&row);
    }
    w.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portal_time_uses_a_twelve_hour_clock() {
        assert_eq!(
            portal_time(1_762_164_902_123_000),
            "11/3/2025, 10:15:02.123 AM"
        );
        assert_eq!(
            portal_time(1_762_128_000_000_000),
            "11/3/2025, 12:00:00.000 AM"
        );
        assert_eq!(
            portal_time(1_762_174_800_000_000),
            "11/3/2025, 1:00:00.000 PM"
        );
    }

    #[test]
    fn resource_log_time_has_seven_digits() {
        assert_eq!(
            resource_log_time(1_762_164_902_123_000),
            "2025-11-03T10:15:02.1230000Z"
        );
        assert_eq!(
            resource_log_time(1_762_164_902_000_000),
            "2025-11-03T10:15:02.0000000Z"
        );
    }
}

//! Reading history files in the shapes Azure writes them, each record to a [`Record`]:
//!
//! 1. the Activity Log as a diagnostic setting exports it to storage
//!    (`insights-activity-logs/…/PT1H.json`): JSON lines, or `{"records": […]}`, with `time`,
//!    `resourceId`, `operationName`, `resultType`, `correlationId`, `properties`;
//! 2. `az monitor activity-log list -o json`: `eventTimestamp`, `operationName.value`,
//!    `status.value`;
//! 3. the `AzureActivity` table from `az monitor log-analytics query -o json`: `TimeGenerated`,
//!    `OperationNameValue`, `ActivityStatusValue`, `_ResourceId`, `Properties_d` (every value a
//!    string, as the CLI prints them);
//! 4. `az graph query` over `resourcechanges`: `{"data": [{"properties": {targetResourceId,
//!    changeType, changeAttributes{timestamp, correlationId, isTruncated}, changes{…}}}]}`.
//!
//! The shape is found per record, so files of several shapes, or one shape per line, all work.
//! A record that cannot be read is a [`Problem`] naming its file and place; the rest are kept.

use std::path::Path;

use sonic_rs::{JsonValueTrait, Value};

use crate::error::{TopologyError, read_file};
use crate::history::{Problem, Record, Status, Write};
use crate::json::Node;

/// The Activity Log operation of a registry write (any case).
const REGISTRY_WRITE: &str = "Microsoft.ContainerRegistry/registries/write";

/// What one file holds.
#[derive(Default)]
pub(crate) struct FileRecords {
    pub records: Vec<Record>,
    pub problems: Vec<Problem>,
    /// Records about other operations or resources, skipped.
    pub skipped: usize,
}

/// Reads every record of a history file.
pub(crate) fn read(path: &Path) -> Result<FileRecords, TopologyError> {
    let file = path.display().to_string();
    let bytes = read_file(path)?;
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut out = FileRecords::default();
    if let Ok(root) = sonic_rs::from_slice::<Value>(text) {
        // One record alone is the first line of a JSON-lines file (an hour with one write).
        let lone = elements_of(&root).is_none();
        let node = Node {
            value: &root,
            file: &file,
            path: if lone { "line 1" } else { "$" }.to_owned(),
        };
        for record in elements(&node) {
            take(&record, &mut out);
        }
        return Ok(out);
    }
    // JSON lines: a bad line (a torn last line of an append blob) is a problem, not the end.
    for (n, line) in text.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let at = format!("line {}", n + 1);
        match sonic_rs::from_slice::<Value>(line) {
            Ok(value) => {
                let node = Node {
                    value: &value,
                    file: &file,
                    path: at,
                };
                for record in elements(&node) {
                    take(&record, &mut out);
                }
            }
            Err(e) => out.problems.push(Problem {
                file: file.clone(),
                at,
                message: format!("not valid JSON: {}", first_line(&e.to_string())),
            }),
        }
    }
    if out.records.is_empty() && out.skipped == 0 && !out.problems.is_empty() && !text.is_empty() {
        // Not one line read: the file is not history at all.
        return Err(TopologyError::invalid(
            &file,
            "$",
            "neither a JSON document nor JSON lines",
        ));
    }
    Ok(out)
}

/// The records a JSON value holds: an array's elements, a `records` or `data` array's, or the
/// value itself.
fn elements<'v>(node: &Node<'v>) -> Vec<Node<'v>> {
    if node.value.is_array() {
        return node.items().unwrap_or_default();
    }
    match elements_of(node.value) {
        Some(key) => node
            .get(key)
            .and_then(|n| n.items().ok())
            .unwrap_or_default(),
        None => vec![node.clone()],
    }
}

/// The member holding an object's records (`records`, `data`, `value`), if it is an envelope.
fn elements_of(value: &Value) -> Option<&'static str> {
    if value.is_array() {
        return Some("");
    }
    ["records", "data", "value"]
        .into_iter()
        .find(|key| value.get(key).is_some_and(JsonValueTrait::is_array))
}

/// Reads one record into `out`.
fn take(node: &Node<'_>, out: &mut FileRecords) {
    let result = if node.get("changeAttributes").is_some()
        || node
            .get("properties")
            .is_some_and(|p| p.get("changeAttributes").is_some())
    {
        crate::history::graph::change(node)
    } else {
        write(node)
    };
    match result {
        Ok(Some(record)) => out.records.push(record),
        Ok(None) => out.skipped += 1,
        Err(TopologyError::Invalid {
            file,
            path,
            message,
        }) => out.problems.push(Problem {
            file,
            at: path,
            message,
        }),
        Err(e) => out.problems.push(Problem {
            file: node.file.to_owned(),
            at: node.path.clone(),
            message: e.to_string(),
        }),
    }
}

/// An Activity Log record in any of its three shapes; `None` for another operation.
fn write(node: &Node<'_>) -> Result<Option<Record>, TopologyError> {
    let field = |names: &[&str]| -> Result<Option<String>, TopologyError> {
        for name in names {
            if let Some(n) = node.get(name) {
                return match n.value.as_str() {
                    Some(s) => Ok(Some(s.to_owned())),
                    // The REST shape nests names and states: `{"value": …, "localizedValue": …}`.
                    None => Ok(n.opt_str("value")?.map(str::to_owned)),
                };
            }
        }
        Ok(None)
    };
    let operation = field(&["operationName", "OperationNameValue"])?.ok_or_else(|| {
        node.error("neither an Activity Log record (no operationName) nor a Resource Graph change")
    })?;
    let registry = field(&["resourceId", "_ResourceId", "ResourceId"])?
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !operation.eq_ignore_ascii_case(REGISTRY_WRITE) || !is_registry(&registry) {
        return Ok(None);
    }
    let time_text = field(&["time", "eventTimestamp", "TimeGenerated"])?
        .ok_or_else(|| node.error("a registry write without a time"))?;
    let time = acrlens_values::parse_timestamp_micros(&time_text)
        .ok_or_else(|| node.error(format!("time {time_text:?} is not an RFC 3339 time")))?;
    let status_text = field(&["resultType", "status", "ActivityStatusValue"])?.unwrap_or_default();
    let properties = node.get_any(&["properties", "Properties_d", "Properties"]);
    let parsed;
    let properties = match &properties {
        Some(p) if p.value.as_str() == Some("") => None,
        Some(p) if p.value.is_str() => {
            parsed = embedded(p)?;
            Some(Node {
                value: &parsed,
                file: p.file,
                path: p.path.clone(),
            })
        }
        other => other.clone(),
    };
    let body = |key: &str| -> Option<Result<String, String>> {
        let p = properties.as_ref()?;
        let n = p.get_any(&[key, &key.to_ascii_lowercase()])?;
        Some(match n.value.as_str() {
            Some(s) => Ok(s.to_owned()),
            None if n.value.is_object() => Ok(n.value.to_string()),
            None => Err(format!("{} is neither text nor an object", n.path)),
        })
    };
    Ok(Some(Record::Write(Write {
        time,
        registry,
        status: Status::parse(&status_text),
        status_text,
        correlation: field(&["correlationId", "CorrelationId"])?.filter(|c| !c.is_empty()),
        request: body("requestbody"),
        response: body("responseBody"),
        status_code: properties
            .as_ref()
            .and_then(|p| p.get("statusCode"))
            .map(|n| n.value.as_str().map_or(n.value.to_string(), str::to_owned)),
        file: node.file.to_owned(),
        at: node.path.clone(),
    })))
}

/// Whether a resource id (lower case) names a container registry itself.
pub(crate) fn is_registry(id: &str) -> bool {
    id.rsplit_once("/providers/microsoft.containerregistry/registries/")
        .is_some_and(|(_, name)| !name.is_empty() && !name.contains('/'))
}

/// A JSON document held in a string (the CLI prints dynamic columns so).
pub(crate) fn embedded(node: &Node<'_>) -> Result<Value, TopologyError> {
    let text = node.as_str()?;
    sonic_rs::from_str(text)
        .map_err(|e| node.error(format!("not valid JSON: {}", first_line(&e.to_string()))))
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_owned()
}

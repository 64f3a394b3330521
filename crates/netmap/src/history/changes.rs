//! From records to changes: the Activity Log records of one write (any shape, same registry
//! and correlation id) become one change at the time it succeeded, with what its body says;
//! Resource Graph's record of the same write is joined to it, others stand alone.

use std::collections::HashMap;
use std::path::Path;

use crate::history::{Change, Delta, HistoryReport, Problem, Record, Status, Step, Write};
use crate::json::Node;
use crate::registry::{RegistryConfig, from_node};
use crate::settings::Settings;

/// The changes the records make: the Activity Log records of one write (same registry and
/// correlation id) are one change at the time it succeeded, joined with Resource Graph's record
/// of it when there is one.
pub(crate) fn changes(records: Vec<Record>, report: &mut HistoryReport) -> Vec<Change> {
    let mut writes: Vec<Vec<Write>> = Vec::new();
    let mut deltas: Vec<Delta> = Vec::new();
    let mut by_correlation: HashMap<(String, String), usize> = HashMap::new();
    for record in records {
        match record {
            Record::Write(w) => match &w.correlation {
                Some(c) => {
                    let key = (w.registry.clone(), c.clone());
                    match by_correlation.get(&key) {
                        Some(&i) => writes[i].push(w),
                        None => {
                            by_correlation.insert(key, writes.len());
                            writes.push(vec![w]);
                        }
                    }
                }
                None => writes.push(vec![w]),
            },
            Record::Delta(d) => deltas.push(d),
        }
    }
    let mut out: Vec<Change> = writes
        .into_iter()
        .map(|group| from_writes(group, report))
        .collect();
    for delta in deltas {
        // The writes' changes are at their groups' positions in `out`.
        let joined = delta
            .correlation
            .clone()
            .and_then(|c| by_correlation.get(&(delta.registry.clone(), c)).copied());
        match joined {
            Some(i) => join(&mut out[i], delta, report),
            None => out.push(from_delta(delta)),
        }
    }
    out.sort_by_key(|c| c.time);
    out
}

fn origin(kind: &str, file: &str, at: &str, correlation: Option<&str>) -> String {
    // Every hour of a storage export is a `PT1H.json`: its folders say which.
    let name = match file.find("/y=") {
        Some(i) => file[i + 1..].to_owned(),
        None => Path::new(file)
            .file_name()
            .map_or(file.to_owned(), |n| n.to_string_lossy().into_owned()),
    };
    match correlation {
        Some(c) => format!("{kind} {name} {at}, correlation {c}"),
        None => format!("{kind} {name} {at}"),
    }
}

/// One write from its records: the body of the success, else the request of any of them.
fn from_writes(group: Vec<Write>, report: &mut HistoryReport) -> Change {
    let success = group
        .iter()
        .filter(|w| w.status == Status::Success)
        .min_by_key(|w| w.time);
    let first = success.unwrap_or(&group[0]);
    let mut change = Change {
        time: first.time,
        registry: first.registry.clone(),
        origin: origin(
            "Activity Log",
            &first.file,
            &first.at,
            first.correlation.as_deref(),
        ),
        file: first.file.clone(),
        forward: Step::default(),
        backward: Step::default(),
        forget: Settings::default(),
        resource: None,
        unusable: None,
        ignored: None,
    };
    let Some(success) = success else {
        let failed = group.iter().find(|w| w.status == Status::Failure);
        let why = match failed {
            Some(f) => format!(
                "a failed write{} changes nothing",
                f.status_code
                    .as_ref()
                    .map_or(String::new(), |c| format!(" (status {c})"))
            ),
            None => format!(
                "a write with no outcome recorded ({}) changes nothing",
                group
                    .iter()
                    .map(|w| w.status_text.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let place = failed.unwrap_or(first);
        report.notes.push(Problem {
            file: place.file.clone(),
            at: place.at.clone(),
            message: why.clone(),
        });
        change.ignored = Some(why);
        return change;
    };
    let mut errors = Vec::new();
    let bodies = std::iter::once((success, &success.response, "responseBody"))
        .chain(group.iter().map(|w| (w, &w.request, "requestbody")));
    for (write, body, key) in bodies {
        let Some(body) = body else { continue };
        match body
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|text| parse_body(text, write, key))
        {
            Ok(Body::Full(config)) => {
                change.forward.set = config.settings();
                change.forget = config.settings();
                change.resource = Some(config);
                return change;
            }
            Ok(Body::Patch(settings)) => {
                change.forget = settings.clone();
                change.forward.set = settings;
                return change;
            }
            Err(e) => errors.push(e),
        }
    }
    change.unusable = Some(if errors.is_empty() {
        "the write succeeded, but no record of it holds its request or response body".to_owned()
    } else {
        format!(
            "the write succeeded, but its body cannot be read: {}",
            errors.join("; ")
        )
    });
    change
}

/// What a request or response body says.
enum Body {
    Full(Box<RegistryConfig>),
    Patch(Settings),
}

fn parse_body(text: &str, write: &Write, key: &str) -> Result<Body, String> {
    let value: sonic_rs::Value = sonic_rs::from_str(text).map_err(|e| {
        format!(
            "{key} is not valid JSON (truncated?): {}",
            e.to_string().lines().next().unwrap_or_default()
        )
    })?;
    let node = Node {
        value: &value,
        file: &write.file,
        path: format!("{} properties.{key}", write.at),
    };
    let props = node.get("properties").unwrap_or_else(|| node.clone());
    if props.get("loginServer").is_some() && node.get("name").is_some() {
        return from_node(&node, Some(write.time), &write.file)
            .map(|c| Body::Full(Box::new(c)))
            .map_err(|e| e.to_string());
    }
    Settings::named_in(&props)
        .map(Body::Patch)
        .map_err(|e| e.to_string())
}

fn from_delta(delta: Delta) -> Change {
    let ignored = match delta.change_type.to_ascii_lowercase().as_str() {
        "create" => {
            Some("Resource Graph records the registry's creation, without its settings".to_owned())
        }
        "delete" => Some("Resource Graph records the registry's deletion".to_owned()),
        _ => None,
    };
    Change {
        time: delta.time,
        registry: delta.registry,
        origin: origin(
            "Resource Graph",
            &delta.file,
            &delta.at,
            delta.correlation.as_deref(),
        ),
        file: delta.file,
        forward: delta.forward,
        backward: delta.backward,
        forget: Settings::default(),
        resource: None,
        unusable: delta.unusable,
        ignored,
    }
}

/// Joins Resource Graph's record of a write to the Activity Log's: the Activity Log's body says
/// what the configuration became, Resource Graph what it was; where both say what it became and
/// differ, the change cannot be trusted.
fn join(write: &mut Change, delta: Delta, report: &mut HistoryReport) {
    write.origin = format!(
        "{} and {}",
        write.origin,
        origin("Resource Graph", &delta.file, &delta.at, None)
    );
    if write.ignored.is_some() {
        // Resource Graph saw a change the Activity Log says failed: trust neither.
        write.ignored = None;
        write.unusable = Some(
            "the Activity Log says the write failed, Resource Graph that it changed the registry"
                .into(),
        );
    }
    if let Some(why) = delta.unusable {
        write.unusable.get_or_insert(why);
        return;
    }
    let (_, clashes) = write.forward.set.merge(&delta.forward.set);
    let rules_clash = delta.forward.rules.iter().any(|(i, rule)| {
        write
            .forward
            .set
            .ip_rules
            .as_ref()
            .is_some_and(|rules| rules.get(*i) != rule.as_ref())
    });
    if !clashes.is_empty() || rules_clash {
        let mut names = clashes;
        if rules_clash {
            names.push("networkRuleSet.ipRules");
        }
        let why = format!(
            "the Activity Log and Resource Graph disagree on {} after this write",
            names.join(", ")
        );
        report.warnings.push(Problem {
            file: write.file.clone(),
            at: write.origin.clone(),
            message: why.clone(),
        });
        write.unusable = Some(why);
        return;
    }
    if write.forward.set.ip_rules.is_none() {
        write.forward.rules = delta.forward.rules;
    }
    write.forward.set = delta.forward.set.overlay(&write.forward.set);
    // Resource Graph lists every property that changed: the rest were as after.
    write.backward = delta.backward;
    write.forget = Settings::default();
}

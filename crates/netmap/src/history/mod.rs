//! A registry's configuration history, rebuilt from the Activity Log and Resource Graph.
//!
//! Azure keeps what `az acr show` snapshots rarely do: every successful
//! `Microsoft.ContainerRegistry/registries/write` in the Activity Log (with the request and,
//! usually, the whole resource as the response), and every changed property with its previous
//! and new value in Resource Graph's `resourcechanges`. From these and any snapshot files, each
//! registry gets a sequence of configurations, each with the time it took effect and the record
//! it came from. Where the sources cannot say (a body not recorded, a truncated change, a path
//! acrlens does not know) or disagree, the period is marked as not known instead of guessed.

mod changes;
mod graph;
mod read;
mod rebuild;

use std::path::{Path, PathBuf};

use ipnet::IpNet;

use crate::error::TopologyError;
use crate::registry::RegistryConfig;
use crate::settings::Settings;

use rebuild::rebuild;

/// A record that could not be read or applied, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file.
    pub file: String,
    /// Where in it: `line 7`, a JSON path.
    pub at: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.at, self.message)
    }
}

/// What the history files held and what could not be used.
#[derive(Debug, Clone, Default)]
pub struct HistoryReport {
    /// Files read.
    pub files: usize,
    /// Registry writes and changes read.
    pub records: usize,
    /// Records about other operations or resources.
    pub skipped: usize,
    /// Records that could not be read or applied, sources that disagree, periods left unknown.
    pub warnings: Vec<Problem>,
    /// Records that change nothing (a failed write, one started with no outcome recorded).
    pub notes: Vec<Problem>,
}

/// The outcome of an Activity Log record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Start,
    Success,
    Failure,
    Other,
}

impl Status {
    /// `resultType` (`Success`), `status.value` (`Succeeded`) or `ActivityStatusValue`.
    fn parse(text: &str) -> Status {
        match text.to_ascii_lowercase().as_str() {
            "start" | "started" => Status::Start,
            "success" | "succeeded" => Status::Success,
            "failure" | "failed" => Status::Failure,
            _ => Status::Other,
        }
    }
}

/// One Activity Log record of a registry write.
#[derive(Debug, Clone)]
pub(crate) struct Write {
    time: i64,
    registry: String,
    status: Status,
    status_text: String,
    correlation: Option<String>,
    /// The request body as text, or why it could not be taken.
    request: Option<Result<String, String>>,
    response: Option<Result<String, String>>,
    status_code: Option<String>,
    file: String,
    at: String,
}

/// Element edits of the IP rules: the rule at each position after the step (`None`: none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Step {
    set: Settings,
    rules: Vec<(usize, Option<IpNet>)>,
}

/// One Resource Graph change of a registry.
#[derive(Debug, Clone)]
pub(crate) struct Delta {
    time: i64,
    registry: String,
    correlation: Option<String>,
    change_type: String,
    forward: Step,
    backward: Step,
    unusable: Option<String>,
    file: String,
    at: String,
}

/// A record of either kind.
#[derive(Debug, Clone)]
pub(crate) enum Record {
    Write(Write),
    Delta(Delta),
}

/// One change of one registry's configuration, whatever sources recorded it.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub time: i64,
    pub registry: String,
    /// The record it came from, for reasons.
    pub origin: String,
    pub file: String,
    /// Applied to the configuration before, gives the one after.
    pub forward: Step,
    /// Applied to the configuration after (with `forget`), gives the one before.
    pub backward: Step,
    /// Settings the change set without saying what they were before.
    pub forget: Settings,
    /// A whole resource (login server, private endpoints) when the change carried one.
    pub resource: Option<Box<RegistryConfig>>,
    /// Why the change cannot be applied: the configuration after it is not known.
    pub unusable: Option<String>,
    /// Why the change changes nothing.
    pub ignored: Option<String>,
}

/// Each registry's configurations: `snapshots` of registries without history as they are, the
/// others rebuilt from the history files `patterns` name (files, folders, globs) and their
/// snapshots; with what the history held and could not use. An unreadable record is reported,
/// not an error; a file that is not history at all, or a pattern that names nothing, is.
pub fn registry_history(
    snapshots: Vec<RegistryConfig>,
    patterns: &[PathBuf],
) -> Result<(Vec<RegistryConfig>, HistoryReport), TopologyError> {
    let (changes, mut report) = load(patterns)?;
    let registries = rebuild(snapshots, changes, &mut report);
    Ok((registries, report))
}

/// Reads every history file `patterns` name (files, folders, globs).
fn load(patterns: &[PathBuf]) -> Result<(Vec<Change>, HistoryReport), TopologyError> {
    let mut report = HistoryReport::default();
    let mut records = Vec::new();
    for path in files(patterns)? {
        let read = read::read(&path)?;
        report.files += 1;
        report.records += read.records.len();
        report.skipped += read.skipped;
        report.warnings.extend(read.problems);
        records.extend(read.records);
    }
    let changes = changes::changes(records, &mut report);
    Ok((changes, report))
}

/// The files a list of paths, folders and globs names, each once, in order.
pub(crate) fn files(patterns: &[PathBuf]) -> Result<Vec<PathBuf>, TopologyError> {
    let mut out = Vec::new();
    for pattern in patterns {
        let text = pattern.display().to_string();
        if pattern.is_dir() {
            walk(pattern, &mut out)?;
        } else if pattern.exists() {
            out.push(pattern.clone());
        } else {
            let matches = glob::glob(&text)
                .map_err(|e| TopologyError::invalid(&text, "$", format!("not a glob: {e}")))?;
            let before = out.len();
            for m in matches.flatten() {
                if m.is_file() {
                    out.push(m);
                }
            }
            if out.len() == before {
                return Err(TopologyError::invalid(
                    &text,
                    "$",
                    "no history file is there (a file, folder or glob)",
                ));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(p.clone()));
    Ok(out)
}

/// Every file under a folder (hidden ones skipped), sorted.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), TopologyError> {
    let entries = std::fs::read_dir(dir).map_err(|source| TopologyError::Read {
        file: dir.display().to_string(),
        source,
    })?;
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

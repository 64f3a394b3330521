//! `acrlens.toml`: the project file that names the topology inputs and their effective times.
//! Paths are relative to the file. Unknown keys are errors, so a typo never drops an input.

use std::path::{Path, PathBuf};

use acrlens_values::parse_timestamp_micros;
use serde::Deserialize;

use crate::error::{TopologyError, read_text};

/// One input file, optionally with the time it took effect.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The file, relative to `acrlens.toml`.
    pub path: PathBuf,
    /// RFC 3339 time or date.
    pub effective_from: Option<String>,
}

/// Registry configuration history: Activity Log exports, `az monitor activity-log list`,
/// `AzureActivity` query results, Resource Graph `resourcechanges` (the shape is found per file).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HistoryEntry {
    /// A file, folder or glob, relative to `acrlens.toml`.
    pub path: PathBuf,
}

/// MaxMind databases.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GeoEntry {
    /// A City or Country database.
    pub city: Option<PathBuf>,
    /// An ASN database.
    pub asn: Option<PathBuf>,
}

/// The parsed project file, paths resolved.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProjectFile {
    /// Service-tag snapshots.
    #[serde(default)]
    pub service_tags: Vec<Entry>,
    /// Registry configuration snapshots.
    #[serde(default)]
    pub registry: Vec<Entry>,
    /// Registry configuration history.
    #[serde(default)]
    pub registry_history: Vec<HistoryEntry>,
    /// VNet files.
    #[serde(default)]
    pub vnets: Vec<Entry>,
    /// Private-endpoint files.
    #[serde(default)]
    pub private_endpoints: Vec<Entry>,
    /// Named-range CSVs.
    #[serde(default)]
    pub ranges: Vec<Entry>,
    /// MaxMind databases.
    #[serde(default)]
    pub geoip: GeoEntry,
}

impl ProjectFile {
    /// Reads `acrlens.toml` and resolves its paths against the file's folder.
    pub fn load(path: &Path) -> Result<ProjectFile, TopologyError> {
        let file = path.display().to_string();
        let text = read_text(path)?;
        let mut project: ProjectFile = toml::from_str(&text).map_err(|e| {
            let at = e
                .span()
                .map(|s| format!("line {}", text[..s.start].matches('\n').count() + 1))
                .unwrap_or_else(|| "$".to_owned());
            TopologyError::invalid(&file, at, e.message().to_owned())
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        for entry in project
            .service_tags
            .iter_mut()
            .chain(&mut project.registry)
            .chain(&mut project.vnets)
            .chain(&mut project.private_endpoints)
            .chain(&mut project.ranges)
        {
            resolve(&mut entry.path);
            if let Some(t) = &entry.effective_from
                && parse_timestamp_micros(t).is_none()
            {
                return Err(TopologyError::invalid(
                    &file,
                    entry.path.display().to_string(),
                    format!("effective_from {t:?} is not an RFC 3339 time or date"),
                ));
            }
        }
        for entry in &mut project.registry_history {
            resolve(&mut entry.path);
        }
        if let Some(p) = project.geoip.city.as_mut() {
            resolve(p);
        }
        if let Some(p) = project.geoip.asn.as_mut() {
            resolve(p);
        }
        Ok(project)
    }
}

impl Entry {
    /// The effective time in µs (validated when the file was loaded).
    pub fn effective_micros(&self) -> Option<i64> {
        self.effective_from
            .as_deref()
            .and_then(parse_timestamp_micros)
    }
}

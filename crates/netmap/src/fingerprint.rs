//! A topology's fingerprint: what processes that must judge alike (a cluster's client,
//! scheduler and executors) compare before they work together.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::config::ProjectFile;
use crate::error::{TopologyError, read_file};
use crate::history;

/// The fingerprint of the empty topology (no project file).
pub const EMPTY: &str = "empty";

/// The fingerprint of the topology a project file names: SHA-256, in hex, over every file it
/// names — service tags, registries, history, VNets, private endpoints, ranges and the MaxMind
/// databases, in that order and each with its `effective_from` — by content, not by path, so
/// copies of the same files on other machines agree; [`EMPTY`] without a project file.
pub fn fingerprint(config: Option<&Path>) -> Result<String, TopologyError> {
    let Some(config) = config else {
        return Ok(EMPTY.to_owned());
    };
    let project = ProjectFile::load(config)?;
    let mut hash = Sha256::new();
    let mut add = |section: &str, effective: Option<&str>, path: &Path| {
        let bytes = read_file(path)?;
        for part in [
            section.as_bytes(),
            effective.unwrap_or("").as_bytes(),
            &bytes,
        ] {
            // Each part with its length, so no two different inputs hash the same bytes.
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        Ok::<_, TopologyError>(())
    };
    for (section, entries) in [
        ("service_tags", &project.service_tags),
        ("registry", &project.registry),
    ] {
        for e in entries {
            add(section, e.effective_from.as_deref(), &e.path)?;
        }
    }
    let patterns: Vec<_> = project
        .registry_history
        .iter()
        .map(|e| e.path.clone())
        .collect();
    for path in history::files(&patterns)? {
        add("registry_history", None, &path)?;
    }
    for (section, entries) in [
        ("vnets", &project.vnets),
        ("private_endpoints", &project.private_endpoints),
        ("ranges", &project.ranges),
    ] {
        for e in entries {
            add(section, e.effective_from.as_deref(), &e.path)?;
        }
    }
    for (section, path) in [("city", &project.geoip.city), ("asn", &project.geoip.asn)] {
        if let Some(path) = path {
            add(section, None, path)?;
        }
    }
    Ok(hash.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(dir: &Path, tags: &str, effective: &str) -> std::path::PathBuf {
        std::fs::write(dir.join("tags.json"), tags).unwrap();
        let config = dir.join("acrlens.toml");
        std::fs::write(
            &config,
            format!("[[service_tags]]\npath = \"tags.json\"\neffective_from = \"{effective}\"\n"),
        )
        .unwrap();
        config
    }

    #[test]
    fn same_files_elsewhere_agree_and_any_change_differs() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let tags = r#"{"changeNumber":1,"values":[]}"#;
        let first = fingerprint(Some(&project(a.path(), tags, "2025-01-01"))).unwrap();
        assert_eq!(first.len(), 64);
        // The same content at another path: the same fingerprint.
        assert_eq!(
            fingerprint(Some(&project(b.path(), tags, "2025-01-01"))).unwrap(),
            first
        );
        // Another effective time, or one byte of content more: another fingerprint.
        let later = fingerprint(Some(&project(b.path(), tags, "2025-02-01"))).unwrap();
        assert_ne!(later, first);
        let changed = fingerprint(Some(&project(b.path(), &format!("{tags} "), "2025-01-01")));
        assert_ne!(changed.unwrap(), first);
        assert_eq!(fingerprint(None).unwrap(), EMPTY);
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let config = project(dir.path(), "{}", "2025-01-01");
        std::fs::remove_file(dir.path().join("tags.json")).unwrap();
        let error = fingerprint(Some(&config)).unwrap_err().to_string();
        assert!(error.contains("tags.json"), "{error}");
    }
}

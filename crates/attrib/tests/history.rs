//! Verdicts judged against a rebuilt history equal those judged against a snapshot per change:
//! the sample exports attributed with the sample topology (a snapshot for each of contoso's
//! changes) and with contoso's history in each shape Azure keeps it (only today's snapshot)
//! get the same access path, row for row.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use acrlens_attrib::{Attributor, col};
use acrlens_netmap::Topology;
use arrow_array::{Array, RecordBatch, StringArray};
use common::{root, sample_events};

fn samples() -> PathBuf {
    root().join("sample-logs")
}

/// The history sample's project file with its history entries replaced by `shapes`.
fn history_topology(dir: &Path, shapes: &[&str]) -> Topology {
    let history = samples().join("history");
    let text = std::fs::read_to_string(history.join("acrlens.toml")).unwrap();
    let mut toml = text
        .replace(
            "\"../topology/",
            &format!("\"{}/", samples().join("topology").display()),
        )
        .replace("[[registry_history]]\npath = \"activity-log\"\n", "");
    for shape in shapes {
        toml.push_str(&format!(
            "[[registry_history]]\npath = {:?}\n",
            history.join(shape).display().to_string()
        ));
    }
    let config = dir.join("acrlens.toml");
    std::fs::write(&config, toml).unwrap();
    Topology::load(&config).unwrap()
}

fn text<'a>(batch: &'a RecordBatch, name: &str) -> &'a StringArray {
    batch
        .column_by_name(name)
        .unwrap()
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap()
}

#[test]
fn history_in_every_shape_gives_the_verdicts_of_a_snapshot_per_change() {
    let events = sample_events();
    let snapshots = Topology::load(&samples().join("topology/acrlens.toml")).unwrap();
    let want = Attributor::new(&snapshots).attribute(&events).unwrap();
    let registries = text(&want, acrlens_events::col::REGISTRY);
    let contoso = (0..want.num_rows())
        .filter(|&r| registries.is_valid(r) && registries.value(r).starts_with("contoso"))
        .count();
    assert!(
        contoso > 100,
        "the samples exercise contoso's history: {contoso} rows"
    );
    // Today's snapshot alone judges last month's events wrongly: the history is what matters.
    let dir = tempfile::tempdir().unwrap();
    let today_only = Attributor::new(&history_topology(dir.path(), &[]))
        .attribute(&events)
        .unwrap();
    assert_ne!(
        today_only
            .column_by_name(col::ACCESS_PATH)
            .unwrap()
            .as_ref(),
        want.column_by_name(col::ACCESS_PATH).unwrap().as_ref()
    );
    for shapes in [
        &["activity-log"][..],
        &["activity-log-list.json"],
        &["azure-activity.json"],
        &["resource-graph.json"],
        &[
            "activity-log",
            "activity-log-list.json",
            "azure-activity.json",
            "resource-graph.json",
        ],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let topology = history_topology(dir.path(), shapes);
        let got = Attributor::new(&topology).attribute(&events).unwrap();
        assert_eq!(
            got.column_by_name(col::ACCESS_PATH).unwrap().as_ref(),
            want.column_by_name(col::ACCESS_PATH).unwrap().as_ref(),
            "{shapes:?}: access paths"
        );
        // Each verdict names the record its configuration came from.
        let versions = text(&got, col::CONFIG_VERSION);
        let reasons = text(&got, col::ACCESS_REASON);
        let named = (0..got.num_rows())
            .filter(|&r| {
                versions.is_valid(r)
                    && versions.value(r).contains("correlation 5a0c2e59")
                    && reasons.value(r).contains("correlation 5a0c2e59")
            })
            .count();
        assert!(named > 0, "{shapes:?}: no verdict names its history record");
    }
}

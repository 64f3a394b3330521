//! Registry configuration history: the sample's changes written in each of the four shapes Azure
//! keeps them in, with only today's `az acr show` as a snapshot, rebuild the timeline of the
//! sample topology that has a snapshot per change; records that change nothing change nothing;
//! what cannot be known is marked so.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use acrlens_netmap::{ConfigAt, RegistryConfig, Settings, Topology};
use acrlens_values::parse_timestamp_micros;

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-logs")
}

fn t(s: &str) -> i64 {
    parse_timestamp_micros(s).unwrap()
}

const CONTOSO: &str = "contoso.azurecr.io";
const TODAY: &str = "topology/registries/contoso-2025-11-05T12.json";

/// A topology of `registries` (path, effective_from) and history `files`, written to a folder.
fn load(dir: &Path, registries: &[(&Path, Option<&str>)], files: &[&Path]) -> Topology {
    let mut toml = String::new();
    for (path, from) in registries {
        toml.push_str(&format!(
            "[[registry]]\npath = {:?}\n",
            path.display().to_string()
        ));
        if let Some(from) = from {
            toml.push_str(&format!("effective_from = {from:?}\n"));
        }
    }
    for file in files {
        toml.push_str(&format!(
            "[[registry_history]]\npath = {:?}\n",
            file.display().to_string()
        ));
    }
    let config = dir.join("acrlens.toml");
    std::fs::write(&config, toml).unwrap();
    Topology::load(&config).unwrap()
}

/// What a timeline says: (effective from, settings, known).
fn timeline(topology: &Topology) -> Vec<(Option<i64>, Settings, bool)> {
    topology
        .registry_timeline(CONTOSO)
        .iter()
        .map(|c| (c.effective_from, c.settings(), c.unknown.is_none()))
        .collect()
}

fn snapshot_timeline() -> Vec<(Option<i64>, Settings, bool)> {
    timeline(&Topology::load(&samples().join("topology/acrlens.toml")).unwrap())
}

fn known(entries: &[(Option<i64>, Settings, bool)]) -> Vec<(Option<i64>, Settings, bool)> {
    entries.iter().filter(|e| e.2).cloned().collect()
}

#[test]
fn resource_graph_alone_rebuilds_every_configuration_back_to_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let topology = load(
        dir.path(),
        &[(&samples().join(TODAY), None)],
        &[&samples().join("history/resource-graph.json")],
    );
    assert_eq!(timeline(&topology), snapshot_timeline());
    let report = topology.history();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(report.records, 4, "three network changes and a tag change");
    let first = topology.registry_timeline(CONTOSO)[0];
    assert!(
        first
            .origin
            .as_deref()
            .unwrap()
            .starts_with("the previous values of Resource Graph"),
        "{:?}",
        first.origin
    );
}

#[test]
fn every_activity_log_shape_rebuilds_the_same_timeline() {
    let snapshots = snapshot_timeline();
    for shape in [
        "history/activity-log",
        "history/activity-log-list.json",
        "history/azure-activity.json",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let topology = load(
            dir.path(),
            &[(&samples().join(TODAY), None)],
            &[&samples().join(shape)],
        );
        let got = timeline(&topology);
        // Before the registry's creation nothing is known; from it on, every configuration.
        assert!(!got[0].2 && got[0].0.is_none(), "{shape}: {got:?}");
        assert_eq!(got[1].0, Some(t("2025-06-01T09:00:00Z")), "{shape}");
        assert_eq!(got[1].1, snapshots[0].1, "{shape}: the creation's settings");
        assert_eq!(known(&got)[1..], snapshots[1..], "{shape}");
        assert!(
            topology.history().warnings.is_empty(),
            "{shape}: {:?}",
            topology.history().warnings
        );
        let closed = topology.registry_timeline(CONTOSO).last().copied().unwrap();
        assert!(
            closed
                .origin
                .as_deref()
                .unwrap()
                .contains("correlation 5a0c2e59-0000-4000-8000-000000000004"),
            "{shape}: {:?}",
            closed.origin
        );
    }
}

#[test]
fn the_four_shapes_together_are_one_history() {
    let dir = tempfile::tempdir().unwrap();
    let history = samples().join("history");
    let topology = load(
        dir.path(),
        &[(&samples().join(TODAY), None)],
        &[
            &history.join("activity-log"),
            &history.join("activity-log-list.json"),
            &history.join("azure-activity.json"),
            &history.join("resource-graph.json"),
        ],
    );
    let (got, snapshots) = (timeline(&topology), snapshot_timeline());
    assert!(!got[0].2, "nothing is known before the creation: {got:?}");
    assert_eq!(got[1].1, snapshots[0].1);
    assert_eq!(got[2..], snapshots[1..]);
    assert!(
        topology.history().warnings.is_empty(),
        "{:?}",
        topology.history().warnings
    );
    let notes: Vec<String> = topology
        .history()
        .notes
        .iter()
        .map(|n| n.message.clone())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("failed write (status BadRequest)")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.contains("no outcome recorded")),
        "{notes:?}"
    );
}

/// A history file of JSON lines in the storage shape.
fn lines(dir: &Path, name: &str, records: &[String]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, records.join("\n")).unwrap();
    path
}

const ID: &str = "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG-SYNTHETIC/PROVIDERS/MICROSOFT.CONTAINERREGISTRY/REGISTRIES/CONTOSO";

fn write(time: &str, status: &str, correlation: &str, properties: &str) -> String {
    format!(
        r#"{{"time":"{time}","resourceId":"{ID}","operationName":"MICROSOFT.CONTAINERREGISTRY/REGISTRIES/WRITE","category":"Administrative","resultType":"{status}","correlationId":"{correlation}","properties":{properties}}}"#
    )
}

fn body(json: &str) -> String {
    sonic_rs::to_string(json).unwrap()
}

/// The restricted sample snapshot, in force from 2025-11-01.
fn restricted() -> (PathBuf, Option<&'static str>) {
    (
        samples().join("topology/registries/contoso-2025-11-04T12.json"),
        Some("2025-11-01T00:00:00Z"),
    )
}

/// What is in force at a time.
#[derive(Debug)]
enum At {
    Known(Box<RegistryConfig>),
    /// The configuration is not known, and why.
    NotKnown(String),
    Nothing,
}

fn at(topology: &Topology, time: &str) -> At {
    match topology.registry_at(CONTOSO, t(time)) {
        ConfigAt::InForce(c) => At::Known(Box::new(c.clone())),
        ConfigAt::NotKnown(c) => At::NotKnown(c.unknown.clone().unwrap()),
        _ => At::Nothing,
    }
}

fn in_force(config: At) -> RegistryConfig {
    match config {
        At::Known(c) => *c,
        other => panic!("expected a known configuration, got {other:?}"),
    }
}

fn not_known(config: At) -> String {
    match config {
        At::NotKnown(why) => why,
        other => panic!("expected a configuration not known, got {other:?}"),
    }
}

#[test]
fn a_patch_naming_public_access_keeps_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let request = body(r#"{"properties":{"publicNetworkAccess":"Disabled"}}"#);
    let file = lines(
        dir.path(),
        "PT1H.json",
        &[
            write(
                "2025-11-02T10:00:00Z",
                "Start",
                "c1",
                &format!(r#"{{"requestbody":{request}}}"#),
            ),
            write(
                "2025-11-02T10:00:03Z",
                "Success",
                "c1",
                r#"{"statusCode":"OK"}"#,
            ),
        ],
    );
    let (snapshot, from) = restricted();
    let topology = load(dir.path(), &[(&snapshot, from)], &[&file]);
    let before = in_force(at(&topology, "2025-11-02T09:00:00Z"));
    let after = in_force(at(&topology, "2025-11-02T11:00:00Z"));
    assert!(before.public_network_access && !after.public_network_access);
    assert_eq!(after.ip_rules, before.ip_rules);
    assert!(!after.default_allow);
    assert_eq!(
        after.effective_from,
        Some(t("2025-11-02T10:00:03Z")),
        "at its success"
    );
    assert_eq!(
        after.origin.as_deref(),
        Some("Activity Log PT1H.json line 2, correlation c1")
    );
}

#[test]
fn failed_and_unfinished_writes_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let open = body(r#"{"properties":{"networkRuleSet":{"defaultAction":"Allow"}}}"#);
    let file = lines(
        dir.path(),
        "PT1H.json",
        &[
            write(
                "2025-11-02T10:00:00Z",
                "Start",
                "f1",
                &format!(r#"{{"requestbody":{open}}}"#),
            ),
            write(
                "2025-11-02T10:00:01Z",
                "Failure",
                "f1",
                r#"{"statusCode":"Forbidden"}"#,
            ),
            write(
                "2025-11-03T10:00:00Z",
                "Start",
                "s1",
                &format!(r#"{{"requestbody":{open}}}"#),
            ),
            write("2025-11-03T10:00:01Z", "Accept", "s1", "{}"),
        ],
    );
    let (snapshot, from) = restricted();
    let topology = load(dir.path(), &[(&snapshot, from)], &[&file]);
    let timeline = timeline(&topology);
    assert_eq!(known(&timeline).len(), 1, "{timeline:?}");
    assert!(!in_force(at(&topology, "2025-11-04T00:00:00Z")).default_allow);
    let notes = &topology.history().notes;
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[0].message.contains("failed write (status Forbidden)"));
    assert!(
        notes[1]
            .message
            .contains("no outcome recorded (Start, Accept)")
    );
    assert!(topology.history().warnings.is_empty());
}

#[test]
fn records_out_of_order_are_applied_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let disable = body(r#"{"properties":{"publicNetworkAccess":"Disabled"}}"#);
    let enable = body(r#"{"properties":{"publicNetworkAccess":"Enabled"}}"#);
    let file = lines(
        dir.path(),
        "PT1H.json",
        &[
            write(
                "2025-11-03T10:00:00Z",
                "Success",
                "b",
                &format!(r#"{{"requestbody":{enable}}}"#),
            ),
            write(
                "2025-11-02T10:00:00Z",
                "Success",
                "a",
                &format!(r#"{{"requestbody":{disable}}}"#),
            ),
        ],
    );
    let (snapshot, from) = restricted();
    let topology = load(dir.path(), &[(&snapshot, from)], &[&file]);
    assert!(!in_force(at(&topology, "2025-11-02T12:00:00Z")).public_network_access);
    assert!(in_force(at(&topology, "2025-11-03T12:00:00Z")).public_network_access);
}

fn graph(time: &str, truncated: bool, changes: &str) -> String {
    format!(
        r#"{{"properties":{{"targetResourceId":"{ID}","changeType":"Update","changeAttributes":{{"timestamp":"{time}","isTruncated":"{truncated}"}},"changes":{changes}}}}}"#
    )
}

#[test]
fn a_truncated_change_leaves_the_period_after_it_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("changes.json");
    let rows = [
        graph("2025-11-02T10:00:00Z", true, "{}"),
        graph(
            "2025-11-03T10:00:00Z",
            false,
            r#"{"properties.publicNetworkAccess":{"previousValue":"Enabled","newValue":"Disabled"}}"#,
        ),
    ];
    std::fs::write(&file, format!(r#"{{"data":[{}]}}"#, rows.join(","))).unwrap();
    let (snapshot, from) = restricted();
    let topology = load(dir.path(), &[(&snapshot, from)], &[&file]);
    in_force(at(&topology, "2025-11-01T12:00:00Z"));
    for time in ["2025-11-02T12:00:00Z", "2025-11-03T12:00:00Z"] {
        let why = not_known(at(&topology, time));
        assert!(why.contains("truncated"), "{time}: {why}");
    }
    let warnings = &topology.history().warnings;
    assert!(
        warnings
            .iter()
            .any(|w| w.message.contains("not known from 2025-11-02T10:00:00Z")),
        "{warnings:?}"
    );
}

#[test]
fn sources_that_disagree_leave_the_period_unknown() {
    let dir = tempfile::tempdir().unwrap();
    // Resource Graph says the default action was Allow before this change; the snapshot in
    // force until then says Deny.
    let file = dir.path().join("changes.json");
    let row = graph(
        "2025-11-03T10:00:00Z",
        false,
        r#"{"properties.networkRuleSet.defaultAction":{"previousValue":"Allow","newValue":"Deny"}}"#,
    );
    std::fs::write(&file, format!("[{row}]")).unwrap();
    let (snapshot, from) = restricted();
    let today = samples().join(TODAY);
    let topology = load(dir.path(), &[(&snapshot, from), (&today, None)], &[&file]);
    let why = not_known(at(&topology, "2025-11-02T12:00:00Z"));
    assert!(
        why.contains("disagree on networkRuleSet.defaultAction"),
        "{why}"
    );
    assert!(!topology.history().warnings.is_empty());
}

#[test]
fn a_bad_record_is_reported_and_the_rest_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let disable = body(r#"{"properties":{"publicNetworkAccess":"Disabled"}}"#);
    let file = lines(
        dir.path(),
        "PT1H.json",
        &[
            write(
                "2025-11-02T10:00:00Z",
                "Success",
                "a",
                &format!(r#"{{"requestbody":{disable}}}"#),
            ),
            r#"{"time":"2025-11-02T11:00:00Z","resourceId":"#.to_owned(),
            write("not a time", "Success", "b", "{}"),
        ],
    );
    let (snapshot, from) = restricted();
    let topology = load(dir.path(), &[(&snapshot, from)], &[&file]);
    assert!(!in_force(at(&topology, "2025-11-02T12:00:00Z")).public_network_access);
    let warnings: Vec<String> = topology
        .history()
        .warnings
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].contains("PT1H.json: line 2: not valid JSON"),
        "{warnings:?}"
    );
    assert!(
        warnings[1].contains("PT1H.json: line 3: time \"not a time\""),
        "{warnings:?}"
    );
}

#[test]
fn a_file_that_is_not_history_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "these are not records\n").unwrap();
    let config = dir.path().join("acrlens.toml");
    std::fs::write(
        &config,
        format!(
            "[[registry_history]]\npath = {:?}\n",
            file.display().to_string()
        ),
    )
    .unwrap();
    let err = Topology::load(&config).unwrap_err().to_string();
    assert!(
        err.contains("notes.txt") && err.contains("neither a JSON document nor JSON lines"),
        "{err}"
    );
    std::fs::write(&config, "[[registry_history]]\npath = \"nowhere/*.json\"\n").unwrap();
    let err = Topology::load(&config).unwrap_err().to_string();
    assert!(
        err.contains("nowhere/*.json") && err.contains("no history file"),
        "{err}"
    );
}

#[test]
fn a_records_envelope_reads_like_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = Vec::new();
    let mut folders = vec![samples().join("history/activity-log")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                let text = std::fs::read_to_string(path).unwrap();
                records.extend(text.lines().map(str::to_owned));
            }
        }
    }
    let envelope = dir.path().join("PT1H.json");
    std::fs::write(
        &envelope,
        format!("{{\"records\": [{}]}}", records.join(",\n")),
    )
    .unwrap();
    let today = samples().join(TODAY);
    let from_envelope = load(dir.path(), &[(&today, None)], &[&envelope]);
    let from_lines = load(
        dir.path(),
        &[(&today, None)],
        &[&samples().join("history/activity-log")],
    );
    assert_eq!(timeline(&from_envelope), timeline(&from_lines));
    assert_eq!(known(&timeline(&from_envelope)).len(), 4);
    assert_eq!(from_envelope.history().notes.len(), 2);
}

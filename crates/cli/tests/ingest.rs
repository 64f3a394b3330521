//! The `ingest` verb on the bundled samples, as a user runs it.

#![allow(clippy::unwrap_used)]

mod common;

use common::{acrlens, assert_exit, stdout};

#[test]
fn ingest_of_the_samples_accounts_for_every_record() {
    let out = acrlens(&[
        "ingest",
        "sample-logs/exports",
        "--config",
        "sample-logs/topology/acrlens.toml",
    ]);
    assert_exit(&out, 0);
    insta::assert_snapshot!("ingest_sample_exports", stdout(&out));
}

#[test]
fn quarantine_file_holds_each_bad_record_with_source_line_reason_and_text() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("q.jsonl");
    let out = acrlens(&[
        "ingest",
        "sample-logs/exports",
        "--quarantine",
        file.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    let text = std::fs::read_to_string(&file).unwrap();
    let records: Vec<sonic_rs::Value> = text
        .lines()
        .map(|l| sonic_rs::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 3);
    use sonic_rs::JsonValueTrait;
    let reasons: Vec<&str> = records
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert!(reasons[0].starts_with("invalid JSON"), "{reasons:?}");
    assert_eq!(reasons[1], "record has no time");
    assert!(
        reasons[2].starts_with("truncated final line"),
        "{reasons:?}"
    );
    for r in &records {
        assert!(r["source"].as_str().unwrap().ends_with("PT1H.json"));
        assert!(r["line"].as_u64().unwrap() >= 1);
        assert!(!r["raw"].as_str().unwrap().is_empty());
    }
}

#[test]
fn json_summary_reconciles_and_the_window_is_counted() {
    let out = acrlens(&[
        "ingest",
        "sample-logs/exports",
        "--since",
        "2025-11-04T00:00:00Z",
        "--until",
        "2025-11-05",
        "--summary",
        "json",
    ]);
    assert_exit(&out, 0);
    use sonic_rs::JsonValueTrait;
    let v: sonic_rs::Value = sonic_rs::from_str(&stdout(&out)).unwrap();
    let totals = &v["totals"];
    let n = |k: &str| totals[k].as_u64().unwrap();
    assert_eq!(
        n("read"),
        n("accepted") + n("duplicates") + n("out_of_window") + n("quarantined")
    );
    assert!(
        n("out_of_window") > 0,
        "records of day 3 and 5 in blobs kept for the 48 h margin"
    );
    assert!(n("accepted") > 0 && n("accepted") < 280);
    assert_eq!(totals["reconciles"].as_bool(), Some(true));
}

#[test]
fn a_missing_input_exits_2_with_a_clear_error() {
    let out = acrlens(&["ingest", "sample-logs/no-such-folder"]);
    assert_exit(&out, 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no input matches \"sample-logs/no-such-folder\""),
        "{err}"
    );
}

#[test]
fn a_bad_time_argument_is_rejected() {
    let out = acrlens(&["ingest", "sample-logs/exports", "--since", "last tuesday"]);
    assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither a time"));
}

#[test]
fn explain_prints_the_attribution_columns_as_json() {
    let out = acrlens(&[
        "explain",
        "20.42.66.17:443",
        "--registry",
        "contoso.azurecr.io",
        "--at",
        "2025-11-04T18:00:00Z",
        "--status",
        "403",
        "--config",
        "sample-logs/topology/acrlens.toml",
        "--format",
        "json",
    ]);
    assert_exit(&out, 0);
    insta::assert_snapshot!("explain_task_denied_json", stdout(&out));
}

#[test]
fn explain_without_topology_still_answers() {
    let out = acrlens(&["explain", "not-an-ip", "--at", "2025-11-04"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("ip_scope         invalid"), "{text}");
    assert!(text.contains("access_path      unknown"), "{text}");
}

#[test]
fn a_broken_topology_exits_2_naming_the_file() {
    let out = acrlens(&["explain", "1.2.3.4", "--config", "sample-logs/exports"]);
    assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("sample-logs/exports"));
}

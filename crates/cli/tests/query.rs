//! The `query` verb: canned queries, bound parameters, and outputs that stay inert and parse.

#![allow(clippy::unwrap_used)]

use std::path::Path;

mod common;

use common::{acrlens, assert_exit};

const HOSTILE_UA: &str = "evil \"agent\", with\nnewline";
const FORMULA_REPO: &str = "=cmd|' /C calc'!A0";

fn hostile_export(dir: &Path) -> String {
    let record = format!(
        r#"{{"time":"2025-11-03T10:00:00Z","operationName":"Pull","resultDescription":"200","callerIpAddress":"not-an-ip","properties":{{"repository":{},"userAgent":{}}}}}"#,
        sonic_rs::to_string(FORMULA_REPO).unwrap(),
        sonic_rs::to_string(HOSTILE_UA).unwrap()
    );
    let path = dir.join("PT1H.json");
    std::fs::write(&path, record + "\n").unwrap();
    path.display().to_string()
}

#[test]
fn csv_output_survives_hostile_text_and_defuses_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let logs = hostile_export(dir.path());
    let out = acrlens(&[
        "query",
        "--logs",
        &logs,
        "--format",
        "csv",
        "SELECT repository, user_agent, ip_scope(caller_ip) AS scope FROM events",
    ]);
    assert_exit(&out, 0);
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        &rows[0][0],
        format!("'{FORMULA_REPO}"),
        "a formula is made inert"
    );
    assert_eq!(
        &rows[0][1], HOSTILE_UA,
        "quotes, commas and newlines survive a round trip"
    );
    assert_eq!(&rows[0][2], "", "a bad IP gives NULL, not a failed query");
}

#[test]
fn json_lines_and_parquet_outputs_parse() {
    let dir = tempfile::tempdir().unwrap();
    let logs = hostile_export(dir.path());
    let out = acrlens(&[
        "query",
        "--logs",
        &logs,
        "--format",
        "json",
        "SELECT repository, user_agent FROM events",
    ]);
    let line = String::from_utf8(out.stdout).unwrap();
    let value: sonic_rs::Value = sonic_rs::from_str(line.trim()).unwrap();
    use sonic_rs::JsonValueTrait;
    assert_eq!(value["user_agent"].as_str(), Some(HOSTILE_UA));
    let parquet = dir.path().join("out.parquet");
    let out = acrlens(&[
        "query",
        "--logs",
        &logs,
        "--format",
        "parquet",
        "--out",
        parquet.to_str().unwrap(),
        "SELECT * FROM events",
    ]);
    assert_exit(&out, 0);
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(&parquet).unwrap(),
    )
    .unwrap()
    .build()
    .unwrap();
    let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, 1);
}

#[test]
fn canned_query_with_a_bound_parameter() {
    let out = acrlens(&[
        "query",
        "--logs",
        "sample-logs/exports",
        "--config",
        "sample-logs/topology/acrlens.toml",
        "--file",
        "queries/who_pulled_image.sql",
        "--param",
        "image=prod/batch",
        "--format",
        "csv",
    ]);
    assert_exit(&out, 0);
    let text = String::from_utf8(out.stdout).unwrap();
    let callers: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(callers, ["4.156.10.20", "4.156.10.20"], "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("3 records could not be decoded"));
}

#[test]
fn a_parameter_is_bound_not_spliced() {
    let out = acrlens(&[
        "query",
        "--logs",
        "sample-logs/exports",
        "--param",
        "image=x' OR '1'='1",
        "--format",
        "csv",
        "SELECT count(*) AS n FROM repository_events WHERE repository = $image",
    ]);
    assert_exit(&out, 0);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "n\n0\n");
}

#[test]
fn bad_sql_exits_2_with_the_engine_message() {
    let out = acrlens(&[
        "query",
        "--logs",
        "sample-logs/exports",
        "SELECT nope FROM events",
    ]);
    assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
}

#[test]
fn the_topology_is_loaded_only_by_a_query_that_needs_it() {
    let dir = tempfile::tempdir().unwrap();
    let logs = hostile_export(dir.path());
    let broken = dir.path().join("acrlens.toml");
    std::fs::write(&broken, "[[service_tags]]\npath = \"missing.json\"\n").unwrap();
    let query = |sql: &str| {
        acrlens(&[
            "query",
            "--logs",
            &logs,
            "--config",
            broken.to_str().unwrap(),
            "--format",
            "csv",
            sql,
        ])
    };
    // Neither the decoded columns nor ip_scope need the topology: the broken file is not read.
    let out = query("SELECT repository, ip_scope(caller_ip) AS scope FROM events");
    assert_exit(&out, 0);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("repository,scope\n"));
    // Attribution, the topology functions and tables do, and say which file is wrong.
    for sql in [
        "SELECT access_path FROM events",
        "SELECT service_tag(caller_ip) FROM events",
        "SELECT count(*) FROM registries",
    ] {
        let out = query(sql);
        assert_exit(&out, 2);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("loading the topology named by") && err.contains("missing.json"),
            "{sql}: {err}"
        );
    }
}

#[test]
fn the_registries_table_holds_the_rebuilt_history() {
    let out = acrlens(&[
        "query",
        "--logs",
        "sample-logs/exports",
        "--config",
        "sample-logs/history/acrlens.toml",
        "--format",
        "csv",
        "SELECT effective_from, public_network_access, default_allow, cardinality(ip_rules) AS rules, \
         unknown IS NOT NULL AS not_known, origin LIKE '%correlation%' AS from_history, changed \
         FROM registries WHERE login_server = 'contoso.azurecr.io' ORDER BY effective_from NULLS FIRST",
    ]);
    assert_exit(&out, 0);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "effective_from,public_network_access,default_allow,rules,not_known,from_history,changed\n\
         ,,,,true,true,\n\
         2025-06-01T09:00:00Z,true,true,0,false,true,\n\
         2025-11-04T12:00:00Z,true,false,1,false,true,defaultAction Allow → Deny; IP rules added: 203.0.113.10/32\n\
         2025-11-05T00:00:00Z,true,false,4,false,true,\"IP rules added: 20.42.66.0/24, 20.42.67.0/24, 20.62.128.0/26\"\n\
         2025-11-05T12:00:00Z,false,false,4,false,true,publicNetworkAccess Enabled → Disabled\n"
    );
}

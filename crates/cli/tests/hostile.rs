//! Every verb driven with hostile arguments — non-ASCII text, huge numbers, empty strings,
//! reversed windows, missing files, folders where files belong, SQL that overflows — exits 0, 1
//! or 2 (never a panic or an abort) and, when it fails, says why in one line.

#![allow(clippy::unwrap_used)]

mod common;

use common::acrlens;

const TOPOLOGY: &str = "sample-logs/topology/acrlens.toml";
const LOGS: &str = "sample-logs/exports";

/// Argument lists, each with the exit code it must give (`None`: 0 or 1, whichever it finds).
fn cases() -> Vec<(Vec<&'static str>, Option<i32>)> {
    let ingest = |extra: &[&'static str]| [&["ingest", LOGS][..], extra].concat();
    let query = |extra: &[&'static str]| [&["query", "--logs", LOGS][..], extra].concat();
    let report = |extra: &[&'static str]| {
        [&["report", "--logs", LOGS, "--config", TOPOLOGY][..], extra].concat()
    };
    let explain = |extra: &[&'static str]| [&["explain"][..], extra].concat();
    let tags = |extra: &[&'static str]| [&["tags"][..], extra, &["--config", TOPOLOGY]].concat();
    let whatif = |extra: &[&'static str]| {
        [
            &["whatif", "--logs", LOGS, "--config", TOPOLOGY, "--registry"][..],
            extra,
        ]
        .concat()
    };
    let topology = |extra: &[&'static str]| [&["topology"][..], extra].concat();
    let bad = Some(2);
    vec![
        (topology(&["--config", "/nonexistent/acrlens.toml"]), bad),
        (topology(&["--config", "sample-logs"]), bad),
        (topology(&["--config", TOPOLOGY, "--since", "1é"]), bad),
        (
            topology(&[
                "--config",
                TOPOLOGY,
                "--since",
                "2025-11-05",
                "--until",
                "2025-11-03",
            ]),
            bad,
        ),
        (topology(&["--config", TOPOLOGY, "--registry", "é"]), bad),
        (topology(&["--config", TOPOLOGY, "--registry", ""]), bad),
        (topology(&["--config", TOPOLOGY, "--format", "é"]), bad),
        (
            topology(&["--config", TOPOLOGY, "--since", "200000000000d"]),
            bad,
        ),
        (ingest(&["--since", "1é"]), bad),
        (ingest(&["--until", "é"]), bad),
        (
            ingest(&["--since", "2025-11-05", "--until", "2025-11-03"]),
            bad,
        ),
        (
            ingest(&["--since", "2025-11-05", "--until", "2025-11-05"]),
            bad,
        ),
        (ingest(&["--since", "200000000000d"]), bad),
        (ingest(&["--since", "99999-12-31"]), bad),
        (ingest(&["--since", ""]), bad),
        (ingest(&["--threads", "😀"]), bad),
        (ingest(&["--threads", "0"]), bad),
        (ingest(&["--threads", "99999999999"]), bad),
        (ingest(&["--shard", "1é/2"]), bad),
        (ingest(&["--shard", "3/2"]), bad),
        (ingest(&["--shard", "0/0"]), bad),
        (ingest(&["--blob-retries", "99999999999999999999"]), bad),
        (ingest(&["--blob-retry-timeout", "1e400"]), bad),
        (ingest(&["--input-format", "é"]), bad),
        (ingest(&["--config", "/nonexistent/acrlens.toml"]), bad),
        (ingest(&["--config", "sample-logs"]), bad),
        (ingest(&["--quarantine", "sample-logs"]), bad),
        (ingest(&["--store", "sample-logs/policy.toml"]), bad),
        (vec!["ingest", "/nonexistent/x.json"], bad),
        (vec!["ingest", ""], bad),
        (query(&[""]), bad),
        (query(&["SELECT"]), bad),
        (query(&["SELECT 1/0"]), bad),
        (query(&["SELECT 1", "--param", "x"]), bad),
        (query(&["SELECT 1", "--param", "=1"]), bad),
        (query(&["SELECT 1", "--out", "sample-logs"]), bad),
        (query(&["SELECT 1", "--out", "/nonexistent/dir/x.csv"]), bad),
        (query(&["--file", "sample-logs"]), bad),
        (query(&["--file", "/nonexistent.sql"]), bad),
        (
            query(&["SELECT service_tags(caller_ip, 9) FROM events"]),
            bad,
        ),
        (
            query(&["SELECT ip_in_cidr(caller_ip, 'é/99') FROM events"]),
            None,
        ),
        (
            query(&[
                "--config",
                TOPOLOGY,
                "SELECT access_path_at('1.2.3.4', 'x', TIMESTAMP '9999-12-31T00:00:00')",
            ]),
            bad,
        ),
        (vec!["query", "--store", "/nonexistent", "SELECT 1"], bad),
        (report(&["--policy", "sample-logs"]), bad),
        (report(&["--policy", "/nonexistent"]), bad),
        (report(&["--out", "sample-logs"]), bad),
        (
            report(&["--since", "2025-11-05", "--until", "2025-11-03"]),
            bad,
        ),
        (explain(&[""]), None),
        (explain(&["é"]), None),
        (explain(&["１.２.３.４"]), None),
        (explain(&["10.0.0.1", "--at", "99999-99-99"]), bad),
        (explain(&["10.0.0.1", "--status", "99999999999"]), bad),
        (explain(&["10.0.0.1", "--registry", ""]), None),
        (explain(&["10.0.0.1", "--config", "sample-logs"]), bad),
        (tags(&["lookup", ""]), bad),
        (tags(&["lookup", "10.0.0.1", "--at", "é"]), bad),
        (
            tags(&["lookup", "10.0.0.1", "--service-tags", "sample-logs"]),
            bad,
        ),
        (
            tags(&["diff", "--from", "99999999999999999999", "--to", "1"]),
            bad,
        ),
        (tags(&["diff", "--from", "", "--to", ""]), bad),
        (tags(&["diff", "--tag", "["]), bad),
        (tags(&["rules", ""]), bad),
        (tags(&["rules", "é"]), bad),
        (tags(&["rules", "AzureCloud", "--max", "0"]), bad),
        (
            tags(&["rules", "AzureCloud", "--max", "18446744073709551616"]),
            bad,
        ),
        (
            whatif(&["", "--set", "public_network_access=Disabled"]),
            bad,
        ),
        (whatif(&["contoso", "--set", ""]), bad),
        (whatif(&["contoso", "--set", "ip_rules=999.1.1.1/33"]), bad),
        (whatif(&["contoso", "--set", "ip_rules=+é"]), bad),
        (
            whatif(&["contoso", "--registry-config", "sample-logs"]),
            bad,
        ),
        (
            whatif(&[
                "contoso",
                "--set",
                "default_action=Deny",
                "--since",
                "2025-11-05",
                "--until",
                "2025-11-03",
            ]),
            bad,
        ),
    ]
}

#[test]
fn hostile_arguments_give_an_exit_code_and_one_line_of_why() {
    let mut failures = Vec::new();
    for (args, want) in cases() {
        let out = acrlens(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
        let ok_code = match want {
            Some(want) => code == Some(want),
            None => matches!(code, Some(0 | 1)),
        };
        let ok_text = !stderr.contains("panicked")
            && match code {
                Some(2) => errors.len() == 1 && stderr.lines().next() == errors.first().copied(),
                _ => errors.is_empty(),
            };
        if !ok_code || !ok_text {
            failures.push(format!("{args:?}: exit {code:?} (want {want:?})\n{stderr}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn quiet_silences_notes_on_every_verb() {
    // The samples hold malformed lines: `query` notes them on stderr unless told to be quiet.
    let loud = acrlens(&["query", "--logs", LOGS, "SELECT count(*) FROM events"]);
    assert!(String::from_utf8_lossy(&loud.stderr).contains("note:"));
    for args in [
        vec![
            "query",
            "--logs",
            LOGS,
            "SELECT count(*) FROM events",
            "--quiet",
        ],
        vec!["-q", "query", "--logs", LOGS, "SELECT count(*) FROM events"],
        vec!["ingest", LOGS, "--quiet"],
        vec!["explain", "10.0.0.1", "--config", TOPOLOGY, "-q"],
        vec![
            "tags",
            "lookup",
            "20.42.66.1",
            "--config",
            TOPOLOGY,
            "--quiet",
        ],
    ] {
        let out = acrlens(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{args:?}");
    }
}

#[test]
fn every_verb_lists_the_exit_status_in_its_help() {
    for verb in [
        &["--help"][..],
        &["ingest", "--help"],
        &["query", "--help"],
        &["report", "--help"],
        &["explain", "--help"],
        &["tags", "--help"],
        &["whatif", "--help"],
        &["topology", "--help"],
    ] {
        let out = acrlens(verb);
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            help.contains("Exit status: 0") && help.contains("; 2 nothing done"),
            "{verb:?}:\n{help}"
        );
    }
}

#[test]
fn an_error_names_its_cause_once() {
    let out = acrlens(&["topology", "--config", "/nonexistent/acrlens.toml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    assert!(err.contains("/nonexistent/acrlens.toml"), "{err}");
}

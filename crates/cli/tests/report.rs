//! The `report` verb: pinned Markdown and JSON on the samples, exit codes, inert HTML.

#![allow(clippy::unwrap_used)]

mod common;

use common::{SAMPLE_REPORT, acrlens, assert_exit, sample_report, stdout};

#[test]
fn markdown_report_of_the_samples_is_pinned_and_exits_1() {
    let out = sample_report("md", &[]);
    assert_exit(&out, 1);
    insta::assert_snapshot!("report_sample_md", stdout(&out));
}

#[test]
fn json_report_of_the_samples_is_pinned() {
    let out = sample_report("json", &[]);
    assert_exit(&out, 1);
    let text = stdout(&out);
    let value: sonic_rs::Value = sonic_rs::from_str(&text).unwrap();
    use sonic_rs::JsonValueTrait;
    assert_eq!(value["schema"].as_str(), Some("acrlens.report/v1"));
    insta::assert_snapshot!("report_sample_json", text);
}

#[test]
fn a_clean_policy_exits_0_and_a_bad_one_exits_2_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let clean = dir.path().join("clean.toml");
    std::fs::write(&clean, "[[rule]]\nname = \"bypass only for ACI\"\nkind = \"trusted_bypass\"\ncaller_kinds = [\"aci\"]\n").unwrap();
    let out = acrlens(&[&SAMPLE_REPORT[..], &["--policy", clean.to_str().unwrap()]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("**No violations.**"));

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[rule]]\nname = \"x\"\nkind = \"allowed_paths\"\npaths = [\"vpn\"]\n",
    )
    .unwrap();
    let out = acrlens(&[
        "report",
        "--logs",
        "sample-logs/exports",
        "--policy",
        bad.to_str().unwrap(),
    ]);
    assert_exit(&out, 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml: line 4: unknown access path \"vpn\""),
        "{err}"
    );
}

#[test]
fn the_default_policy_flags_the_unexplained_pull() {
    let out = acrlens(&[&SAMPLE_REPORT[..], &["--format", "json"]].concat());
    assert_exit(&out, 1);
    let value: sonic_rs::Value = sonic_rs::from_str(&stdout(&out)).unwrap();
    use sonic_rs::{JsonContainerTrait, JsonValueTrait};
    let rules: Vec<&str> = value["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        [
            "no unexplained access",
            "no public access while public network access is disabled"
        ]
    );
}

#[test]
fn html_and_markdown_keep_hostile_log_text_inert() {
    let dir = tempfile::tempdir().unwrap();
    let record = format!(
        r#"{{"time":"2025-11-03T10:00:00Z","operationName":"Pull","resultDescription":"200","callerIpAddress":"198.51.100.7","properties":{{"loginServer":"x.azurecr.io","repository":{},"userAgent":{}}}}}"#,
        sonic_rs::to_string("<script>alert(1)</script>").unwrap(),
        sonic_rs::to_string("ua\" onload=\"x\n=cmd|' /C calc'!A0 | ![img](http://e)").unwrap()
    );
    let logs = dir.path().join("PT1H.json");
    std::fs::write(&logs, record + "\n").unwrap();
    let policy = dir.path().join("p.toml");
    std::fs::write(&policy, "[[rule]]\nname = \"only private\"\nkind = \"allowed_paths\"\npaths = [\"private_endpoint\"]\n").unwrap();
    let render = |format: &str| {
        stdout(&acrlens(&[
            "report",
            "--logs",
            logs.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
            "--format",
            format,
        ]))
    };
    let html = render("html");
    assert!(!html.contains("<script"), "no markup from the logs");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("ua&quot; onload=&quot;x"));
    assert!(
        html.contains("<svg") && html.contains("class=\"bar\""),
        "the chart is drawn"
    );
    let md = render("md");
    assert!(md.contains("&lt;script&gt;") && !md.contains("<script"));
    assert!(
        md.contains("\\| \\!\\[img\\](http://e)"),
        "no table break, no image: {md}"
    );
}

#[test]
fn periods_judged_without_a_known_configuration_are_listed() {
    // contoso's history holds only the write that disabled public access: before it, nothing
    // says what the configuration was.
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-logs");
    let last_write = root.join(
        "history/activity-log/insights-activity-logs/resourceId=/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/y=2025/m=11/d=05/h=12/m=00/PT1H.json",
    );
    let text = std::fs::read_to_string(root.join("history/acrlens.toml"))
        .unwrap()
        .replace("\"../topology/", &format!("\"{}/topology/", root.display()))
        .replace(
            "path = \"activity-log\"",
            &format!("path = {:?}", last_write.display().to_string()),
        );
    let config = dir.path().join("acrlens.toml");
    std::fs::write(&config, text).unwrap();
    let out = acrlens(&[
        "report",
        "--logs",
        "sample-logs/exports",
        "--config",
        config.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_exit(&out, 1);
    let report: sonic_rs::Value = sonic_rs::from_str(&stdout(&out)).unwrap();
    use sonic_rs::{JsonContainerTrait, JsonValueTrait};
    let periods = report["inputs"]["unconfigured_periods"].as_array().unwrap();
    assert_eq!(periods.len(), 1, "{periods:?}");
    let p = &periods[0];
    assert_eq!(p["registry"].as_str(), Some("contoso.azurecr.io"));
    assert!(p["to"].as_str().unwrap() < "2025-11-05T12:00:00Z", "{p:?}");
    assert_eq!(
        p["events"].as_u64(),
        report["inputs"]["events_without_configuration"].as_u64()
    );
    assert!(p["events"].as_u64().unwrap() > 0);
    let md = acrlens(&[
        "report",
        "--logs",
        "sample-logs/exports",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(
        stdout(&md)
            .contains("Judged without a known configuration: contoso.azurecr.io from 2025-11-0"),
        "{}",
        stdout(&md)
    );
}

#[test]
fn a_rebuilt_history_finds_the_violations_of_a_snapshot_per_change() {
    let violations = |config: &str| {
        let out = acrlens(&[
            "report",
            "--logs",
            "sample-logs/exports",
            "--config",
            config,
            "--policy",
            "sample-logs/policy.toml",
            "--format",
            "json",
        ]);
        assert_exit(&out, 1);
        let report: sonic_rs::Value = sonic_rs::from_str(&stdout(&out)).unwrap();
        use sonic_rs::{JsonContainerTrait, JsonValueTrait};
        report["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["rule"].as_str().unwrap().to_owned(),
                    v["count"].as_u64().unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    let snapshots = violations("sample-logs/topology/acrlens.toml");
    assert!(
        snapshots
            .iter()
            .any(|(rule, _)| rule == "no public access while public network access is disabled"),
        "{snapshots:?}"
    );
    assert_eq!(violations("sample-logs/history/acrlens.toml"), snapshots);
}

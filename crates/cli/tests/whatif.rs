//! The `whatif` verb on the samples: the configuration in force changes nothing, disabling public
//! access cuts off the laptops and keeps Container Instances, the Tasks' service-tag rules let
//! in the Tasks and nobody else; exit codes; hostile log text stays inert.

#![allow(clippy::unwrap_used)]

mod common;

use common::{acrlens, assert_exit, stdout};
use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

const CONFIG: &str = "sample-logs/topology/acrlens.toml";

/// `acrlens whatif` of contoso's sample requests, with `extra` arguments.
fn whatif(extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "whatif",
        "--logs",
        "sample-logs/exports",
        "--config",
        CONFIG,
        "--registry",
        "contoso",
    ];
    args.extend(extra);
    acrlens(&args)
}

fn json(out: &std::process::Output) -> Value {
    sonic_rs::from_str(&stdout(out)).unwrap()
}

/// The callers of a list, as `address kind today->proposed requests`.
fn callers(v: &Value, list: &str) -> Vec<String> {
    v[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {} {}->{} {}",
                c["caller_ip"].as_str().unwrap(),
                c["caller_kind"].as_str().unwrap(),
                c["today"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(","),
                c["proposed"].as_str().unwrap(),
                c["requests"].as_u64().unwrap()
            )
        })
        .collect()
}

fn assert_nothing_changes(v: &Value) {
    assert!(callers(v, "cut_off").is_empty() && callers(v, "newly_allowed").is_empty());
    assert_eq!(v["summary"]["requests_changing_path"].as_u64(), Some(0));
    for p in v["paths"].as_array().unwrap().iter() {
        assert_eq!(p["today"].as_str(), p["proposed"].as_str());
    }
}

#[test]
fn replaying_the_configuration_in_force_changes_nothing() {
    // A setting every configuration of contoso already has.
    let out = whatif(&["--set", "bypass=AzureServices", "--format", "json"]);
    assert_exit(&out, 0);
    let v = json(&out);
    assert_nothing_changes(&v);
    let replayed: u64 = v["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(v["requests"].as_u64(), Some(replayed));
    assert!(
        replayed > 200,
        "every contoso request is replayed: {replayed}"
    );
    assert_eq!(v["proposal"]["configurations"].as_array().unwrap().len(), 4);

    // The last snapshot as a whole configuration, over the period it was in force.
    let out = whatif(&[
        "--registry-config",
        "sample-logs/topology/registries/contoso-2025-11-05T12.json",
        "--since",
        "2025-11-05T12:00:00Z",
        "--format",
        "json",
    ]);
    assert_exit(&out, 0);
    assert_nothing_changes(&json(&out));
}

#[test]
fn disabling_public_access_keeps_container_instances_and_cuts_off_the_laptops() {
    let args = ["--set", "public_network_access=Disabled"];
    let out = whatif(&[&args[..], &["--format", "json"]].concat());
    assert_exit(&out, 1);
    let v = json(&out);
    let cut = callers(&v, "cut_off");
    assert!(
        cut.iter()
            .any(|c| c.starts_with("203.0.113.10 docker_cli ip_rule,public_internet->denied"))
    );
    assert!(cut.iter().all(|c| !c.starts_with("4.156.10.20")), "{cut:?}");
    assert!(callers(&v, "newly_allowed").is_empty());
    let paths = v["paths"].as_array().unwrap();
    let aci_kept = paths.iter().any(|p| {
        p["today"].as_str() == Some("trusted_service")
            && p["proposed"].as_str() == Some("trusted_service")
    });
    assert!(aci_kept, "Container Instances keep the bypass");
    insta::assert_snapshot!("whatif_public_access_off_json", stdout(&out));

    let out = whatif(&args);
    assert_exit(&out, 1);
    insta::assert_snapshot!("whatif_public_access_off_md", stdout(&out));
}

#[test]
fn the_tasks_service_tag_rules_let_in_the_denied_tasks_and_nobody_else() {
    // While contoso allowed only the laptop (2025-11-04 12:00 to 2025-11-05 00:00), its ACR Tasks
    // were denied. `tags rules` gives the IP rules of the Tasks' service tag...
    let rules = acrlens(&[
        "tags",
        "rules",
        "AzureContainerRegistry.EastUS",
        "--config",
        CONFIG,
        "--format",
        "json",
    ]);
    assert_exit(&rules, 0);
    let list: Vec<String> = json(&rules)["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("+{}", r.as_str().unwrap()))
        .collect();
    assert!(!list.is_empty());
    // ...and `whatif` with them lets the Tasks in, and nobody else.
    let set = format!("ip_rules={}", list.join(","));
    let window = [
        "--since",
        "2025-11-04T12:00:00Z",
        "--until",
        "2025-11-05T00:00:00Z",
    ];
    let out = whatif(&[&window[..], &["--set", &set, "--format", "json"]].concat());
    assert_exit(&out, 0);
    let v = json(&out);
    let newly = callers(&v, "newly_allowed");
    assert!(!newly.is_empty());
    assert!(
        newly
            .iter()
            .all(|c| c.starts_with("20.42.66.17 acr_tasks denied->ip_rule")),
        "{newly:?}"
    );
    assert!(callers(&v, "cut_off").is_empty());
    let out = whatif(&[&window[..], &["--set", &set]].concat());
    assert_exit(&out, 0);
    insta::assert_snapshot!("whatif_task_rules_md", stdout(&out));
}

#[test]
fn bad_proposals_are_one_line_errors_with_exit_2() {
    let cases: [(&[&str], &str); 5] = [
        (&["--set", "firewall=off"], "unknown key"),
        (&["--set", "ip_rules=+2001:db8::/32"], "IPv4 only"),
        (
            &["--set", "ip_rules=-192.0.2.1"],
            "is not an IP rule of contoso.azurecr.io",
        ),
        (
            &["--set", "private_endpoint=nowhere"],
            "no subnet of the topology",
        ),
        (
            &[
                "--registry-config",
                "sample-logs/topology/registries/fabrikam.json",
            ],
            "is the configuration of fabrikam.azurecr.io, not of contoso.azurecr.io",
        ),
    ];
    for (args, message) in cases {
        let out = whatif(args);
        assert_exit(&out, 2);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(message), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    let out = acrlens(&[
        "whatif",
        "--logs",
        "sample-logs/exports",
        "--registry",
        "nobody",
        "--set",
        "bypass=None",
    ]);
    assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no configuration of nobody.azurecr.io"));
}

#[test]
fn a_private_endpoint_names_the_vnets_it_serves() {
    let out = whatif(&[
        "--set",
        "private_endpoint=vnet-prod/snet-containerapps",
        "--format",
        "json",
    ]);
    assert_exit(&out, 0);
    let v = json(&out);
    assert_nothing_changes(&v);
    let pe = &v["proposal"]["private_endpoints"][0];
    assert_eq!(pe["subnet"].as_str(), Some("vnet-prod/snet-containerapps"));
    assert!(pe["requests_from_served_vnets"].as_u64().unwrap() > 0);
}

#[test]
fn hostile_identities_stay_inert_in_html_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("PT1H.json");
    std::fs::write(
        &log,
        format!(
            r#"{{"time":"2025-11-04T08:00:00Z","operationName":"Pull","resultDescription":"200","callerIpAddress":"198.51.100.7","identity":{},"properties":{{"loginServer":"contoso.azurecr.io","repository":"app","userAgent":"docker/27.3.1"}}}}"#,
            sonic_rs::to_string("<script>alert(1)</script>|[x](http://e)").unwrap()
        ) + "\n",
    )
    .unwrap();
    let run = |format: &str| {
        acrlens(&[
            "whatif",
            "--logs",
            log.to_str().unwrap(),
            "--config",
            CONFIG,
            "--registry",
            "contoso",
            "--set",
            "default_action=Deny",
            "--format",
            format,
        ])
    };
    let html = run("html");
    assert_exit(&html, 1);
    let html = stdout(&html);
    assert!(!html.contains("<script"), "no markup from the logs");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let md = run("md");
    let md = stdout(&md);
    assert!(md.contains("&lt;script&gt;") && !md.contains("<script"));
    assert!(md.contains("\\|\\[x\\](http://e)"), "{md}");
}

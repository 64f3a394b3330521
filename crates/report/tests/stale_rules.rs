//! An IP rule copied from a service tag goes stale when a later snapshot drops the prefix.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use acrlens_engine::{EventSource, session};
use acrlens_events::{DecodeOptions, InputSource};
use acrlens_netmap::Topology;
use acrlens_report::{Policy, Window, build_report};

fn tags(change: u64, prefixes: &[&str]) -> String {
    let list: Vec<String> = prefixes.iter().map(|p| format!("\"{p}\"")).collect();
    format!(
        r#"{{"changeNumber":{change},"cloud":"Public","values":[{{"name":"AzureContainerRegistry.EastUS","id":"x","properties":{{"changeNumber":1,"region":"eastus","systemService":"AzureContainerRegistry","addressPrefixes":[{}]}}}}]}}"#,
        list.join(",")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_whose_prefix_left_its_tag_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("ServiceTags_Public_20251006.json"),
        tags(372, &["20.42.66.0/24", "20.42.68.0/24"]),
    )
    .unwrap();
    std::fs::write(
        d.join("ServiceTags_Public_20251103.json"),
        tags(375, &["20.42.66.0/24"]),
    )
    .unwrap();
    std::fs::write(
        d.join("acr.json"),
        r#"{"name":"c","loginServer":"c.azurecr.io","networkRuleSet":{"defaultAction":"Deny","ipRules":[{"ipAddressOrRange":"20.42.66.0/24"},{"ipAddressOrRange":"20.42.68.0/24"}]}}"#,
    )
    .unwrap();
    std::fs::write(
        d.join("acrlens.toml"),
        "[[service_tags]]\npath = \"ServiceTags_Public_20251006.json\"\n[[service_tags]]\npath = \"ServiceTags_Public_20251103.json\"\n[[registry]]\npath = \"acr.json\"\n",
    )
    .unwrap();
    let topology = Arc::new(Topology::load(&d.join("acrlens.toml")).unwrap());
    let log = br#"{"time":"2025-11-10T10:00:00Z","operationName":"Pull","resultDescription":"200","callerIpAddress":"20.42.66.9","properties":{"loginServer":"c.azurecr.io"}}"#;
    let sources = vec![InputSource::Memory {
        name: "PT1H.json".into(),
        bytes: Arc::from(&log[..]),
    }];
    let s = session(
        EventSource::Logs {
            sources,
            options: DecodeOptions::default(),
        },
        topology,
    )
    .await
    .unwrap();
    let policy = Policy::parse(
        "[[rule]]\nname = \"rules\"\nkind = \"ip_rules\"\n",
        "p.toml",
    )
    .unwrap();
    let report = build_report(&s.ctx, &policy, Window::default(), 0)
        .await
        .unwrap();
    let details: Vec<String> = report.violations[0]
        .samples
        .iter()
        .filter_map(|s| s.detail.clone())
        .collect();
    assert_eq!(
        details,
        [
            "IP rule 20.42.68.0/24 matched no caller in the period",
            "IP rule 20.42.68.0/24 was copied from AzureContainerRegistry.EastUS, which no longer holds it (service tags change 375)",
        ]
    );
}

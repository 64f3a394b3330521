//! `acrlens topology`: each registry's configurations over time and where they came from, with
//! exit 1 on warnings and 2 on a topology that cannot be loaded.

#![allow(clippy::unwrap_used)]

mod common;

use common::{acrlens, assert_exit, stdout};
use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

const HISTORY: &str = "sample-logs/history/acrlens.toml";

#[test]
fn the_history_sample_shows_every_configuration_and_what_changed() {
    let out = acrlens(&["topology", "--config", HISTORY, "--registry", "contoso"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    for line in [
        "contoso.azurecr.io /subscriptions/",
        "  from 2025-06-01T09:00:00Z until 2025-11-04T12:00:00Z",
        "    changed: defaultAction Allow → Deny",
        "    changed: IP rules added: 203.0.113.10/32",
        "    changed: IP rules added: 20.42.66.0/24, 20.42.67.0/24, 20.62.128.0/26",
        "  from 2025-11-05T12:00:00Z on",
        "    changed: publicNetworkAccess Enabled → Disabled",
        "correlation 5a0c2e59-0000-4000-8000-000000000004",
        "a failed write (status BadRequest) changes nothing",
        "change 375 (Public), from 2025-11-03T00:00:00Z: 4 tags",
        "pe-contoso-acr (10.0.1.5, 10.0.1.6) in subnet snet-private-endpoints, to contoso",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert!(!text.contains("fabrikam"), "--registry shows one registry");
}

#[test]
fn json_lists_the_periods_with_their_sources() {
    let out = acrlens(&["topology", "--config", HISTORY, "--format", "json"]);
    assert_exit(&out, 0);
    let doc: Value = sonic_rs::from_str(&stdout(&out)).unwrap();
    let registries = doc["registries"].as_array().unwrap();
    let contoso = registries
        .iter()
        .find(|r| r["login_server"].as_str() == Some("contoso.azurecr.io"))
        .unwrap();
    let periods = contoso["periods"].as_array().unwrap();
    assert_eq!(periods.len(), 5);
    assert!(
        periods[0]["unknown"]
            .as_str()
            .unwrap()
            .contains("the history begins there")
    );
    let closed = &periods[4];
    assert_eq!(closed["public_network_access"].as_str(), Some("Disabled"));
    assert_eq!(closed["ip_rules"].as_array().unwrap().len(), 4);
    assert!(closed["until"].is_null());
    assert!(
        closed["origin"]
            .as_str()
            .unwrap()
            .starts_with("Activity Log y=2025/m=11/d=05/h=12/m=00/PT1H.json line 1")
    );
    assert_eq!(doc["history"]["files"].as_u64(), Some(10));
    assert_eq!(doc["notes"].as_array().unwrap().len(), 2);
    assert!(doc["warnings"].as_array().unwrap().is_empty());
}

#[test]
fn a_period_without_known_configuration_is_a_warning() {
    // The history begins with contoso's creation on 2025-06-01: May is not covered.
    let out = acrlens(&["topology", "--config", HISTORY, "--since", "2025-05-01"]);
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(
        text.contains("contoso.azurecr.io: configuration not known from the beginning until 2025-06-01T09:00:00Z within the period"),
        "{text}"
    );
    let out = acrlens(&["topology", "--config", HISTORY, "--since", "2025-07-01"]);
    assert_exit(&out, 0);
    // A snapshot without a date covers any period.
    let out = acrlens(&[
        "topology",
        "--config",
        "sample-logs/topology/acrlens.toml",
        "--since",
        "2025-01-01",
    ]);
    assert_exit(&out, 0);
}

#[test]
fn a_bad_history_record_is_a_warning_naming_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("PT1H.json");
    std::fs::write(
        &history,
        concat!(
            r#"{"time":"2025-11-02T10:00:00Z","resourceId":"/SUBSCRIPTIONS/S/RESOURCEGROUPS/R/PROVIDERS/MICROSOFT.CONTAINERREGISTRY/REGISTRIES/CONTOSO","operationName":"MICROSOFT.CONTAINERREGISTRY/REGISTRIES/WRITE","resultType":"Success","correlationId":"a","properties":{"requestbody":"{\"properties\":{\"publicNetworkAccess\":\"Disabled\"}}"}}"#,
            "\n",
            r#"{"time":"2025-11-02T11:00:00Z","resourceId":"/SUBSCRIPTIONS/S/RESOUR"#,
        ),
    )
    .unwrap();
    let config = dir.path().join("acrlens.toml");
    std::fs::write(
        &config,
        format!(
            "[[registry_history]]\npath = {:?}\n",
            history.display().to_string()
        ),
    )
    .unwrap();
    let out = acrlens(&["topology", "--config", config.to_str().unwrap()]);
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(text.contains("PT1H.json: line 2: not valid JSON"), "{text}");
    // The good record still counts: a registry known only by its resource id.
    assert!(
        text.contains("contoso.azurecr.io /subscriptions/s/resourcegroups/r/"),
        "{text}"
    );
}

#[test]
fn other_verbs_warn_when_the_history_had_problems() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("PT1H.json");
    std::fs::write(
        &history,
        "{\"time\":\"2025-11-02T10:00:00Z\",\"operationName\":\"MICROSOFT.RESOURCES/DEPLOYMENTS/WRITE\"}\n\
         {\"time\":\"2025-11-02T11:00:00Z\",\"resourceId\":\n",
    )
    .unwrap();
    let config = dir.path().join("acrlens.toml");
    std::fs::write(
        &config,
        format!(
            "[[registry_history]]\npath = {:?}\n",
            history.display().to_string()
        ),
    )
    .unwrap();
    let out = acrlens(&[
        "explain",
        "203.0.113.7",
        "--config",
        config.to_str().unwrap(),
        "--quiet",
    ]);
    assert_exit(&out, 0);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: the registry history has 1 problem(s); `acrlens topology --config"),
        "{err}"
    );
}

//! `acrlens tags` on the published service-tag files (`../shared/data/`) and on the samples:
//! the rule lists, diffs and look-ups an engineer copies into a firewall change, pinned.

#![allow(clippy::unwrap_used)]

mod common;

use common::{acrlens, assert_exit, stdout};

const NEWER: &str = "../shared/data/ServiceTags_Public.json";
const OLDER: &str = "../shared/data/ServiceTags_Public.older.json";

fn tags(args: &[&str]) -> std::process::Output {
    let out = acrlens(&[&["tags"], args].concat());
    assert_exit(&out, 0);
    out
}

#[test]
fn the_acr_east_us_rules_are_exact_and_few() {
    let out = tags(&[
        "rules",
        "AzureContainerRegistry.EastUS",
        "--service-tags",
        NEWER,
    ]);
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(summary.contains("exactly the tags' addresses"), "{summary}");
    insta::assert_snapshot!("rules_acr_eastus", format!("{summary}{}", stdout(&out)));
}

#[test]
fn azure_cloud_east_us_cannot_be_exact_in_200_rules_and_says_how_far_off() {
    let out = tags(&[
        "rules",
        "AzureCloud.eastus",
        "--max",
        "200",
        "--service-tags",
        NEWER,
        "--format",
        "json",
    ]);
    let json: sonic_rs::Value = sonic_rs::from_slice(&out.stdout).unwrap();
    use sonic_rs::{JsonContainerTrait, JsonValueTrait};
    assert_eq!(json["rules"].as_array().unwrap().len(), 200);
    assert_eq!(json["exact"].as_bool(), Some(false));
    assert!(json["extra_addresses"].as_u64().unwrap() > 0);
    insta::assert_snapshot!("rules_azurecloud_eastus_200", stdout(&out));
}

#[test]
fn the_acr_tags_changed_between_372_and_375_by_the_published_prefixes() {
    let out = tags(&[
        "diff",
        "--service-tags",
        OLDER,
        "--service-tags",
        NEWER,
        "--tag",
        "azurecontainerregistry*",
    ]);
    insta::assert_snapshot!("diff_acr_372_375", stdout(&out));
    // Change numbers name the same snapshots as files do.
    let by_number = tags(&[
        "diff",
        "--from",
        "372",
        "--to",
        NEWER,
        "--service-tags",
        OLDER,
        "--tag",
        "AzureContainerRegistry*",
    ]);
    assert_eq!(stdout(&by_number), stdout(&out));
}

#[test]
fn lookup_lists_every_tag_most_specific_first_in_every_snapshot() {
    let out = tags(&[
        "lookup",
        "20.42.66.17:443",
        "--service-tags",
        OLDER,
        "--service-tags",
        NEWER,
    ]);
    insta::assert_snapshot!("lookup_acr_eastus_address", stdout(&out));
    let none = tags(&["lookup", "203.0.113.10", "--service-tags", NEWER]);
    assert!(stdout(&none).contains("no tag"));
    let bad = acrlens(&["tags", "lookup", "not-an-ip", "--service-tags", NEWER]);
    assert_exit(&bad, 2);
}

#[test]
fn rules_against_a_registry_keep_its_own_addresses_and_change_only_what_differs() {
    let config = ["--config", "sample-logs/topology/acrlens.toml"];
    let registry = ["--registry", "contoso.azurecr.io"];
    // contoso already holds the East US prefixes (cut differently): nothing to change.
    let out = tags(
        &[
            &["rules", "AzureContainerRegistry.EastUS"],
            &registry[..],
            &config,
            &["--format", "az"],
        ]
        .concat(),
    );
    insta::assert_snapshot!("rules_contoso_eastus_az", stdout(&out));
    // The global tag holds more: add what is missing, keep the laptop's address.
    let out = tags(
        &[
            &["rules", "AzureContainerRegistry"],
            &registry[..],
            &config,
            &["--format", "json"],
        ]
        .concat(),
    );
    insta::assert_snapshot!("rules_contoso_global_json", stdout(&out));
    let out = tags(
        &[
            &["rules", "AzureContainerRegistry"],
            &registry[..],
            &config,
            &["--format", "arm"],
        ]
        .concat(),
    );
    insta::assert_snapshot!("rules_contoso_global_arm", stdout(&out));
    let out = tags(&[&["diff"], &registry[..], &config].concat());
    insta::assert_snapshot!("diff_contoso_samples", stdout(&out));
    let unknown = acrlens(&[&["tags", "rules", "NoSuchTag"], &config[..]].concat());
    assert_exit(&unknown, 2);
}

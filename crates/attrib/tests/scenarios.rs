//! The support-case scenarios in `sample-logs/exports`, decoded and attributed end to end: every
//! caller lands on the path its scenario says, and the summary is pinned.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;

use acrlens_attrib::Attributor;
use acrlens_events::{DecodeOptions, Decoder, TimeWindow, discover};
use acrlens_netmap::Topology;
use arrow_array::{Array, StringArray};

fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// (registry, caller_ip_raw-or-scope, access_path, caller_kind) → rows.
fn attributed_sample() -> BTreeMap<(String, String, String, String), u64> {
    let topology = Topology::load(&root().join("sample-logs/topology/acrlens.toml")).unwrap();
    let attributor = Attributor::new(&topology);
    let inputs = discover(
        &[root().join("sample-logs/exports").display().to_string()],
        TimeWindow::default(),
    )
    .unwrap();
    let mut counts = BTreeMap::new();
    for batch in Decoder::new(inputs, DecodeOptions::default())
        .collect_all()
        .batches
    {
        let out = attributor.attribute(&batch).unwrap();
        let text = |name: &str| {
            out.column_by_name(name)
                .unwrap()
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap()
                .clone()
        };
        let (registry, caller, path, kind) = (
            text("registry"),
            text("caller_ip"),
            text("access_path"),
            text("caller_kind"),
        );
        for i in 0..out.num_rows() {
            let caller = if caller.is_valid(i) {
                caller.value(i).to_owned()
            } else {
                "(none)".to_owned()
            };
            let key = (
                registry.value(i).to_owned(),
                caller,
                path.value(i).to_owned(),
                kind.value(i).to_owned(),
            );
            *counts.entry(key).or_insert(0) += 1;
        }
    }
    counts
}

fn paths_of(counts: &BTreeMap<(String, String, String, String), u64>, caller: &str) -> Vec<String> {
    let mut paths: Vec<String> = counts
        .keys()
        .filter(|k| k.1 == caller)
        .map(|k| k.2.clone())
        .collect();
    paths.dedup();
    paths
}

#[test]
fn every_scenario_takes_its_path() {
    let counts = attributed_sample();
    // Container Apps and App Service over the VNet.
    assert_eq!(paths_of(&counts, "10.0.2.4"), ["private_endpoint"]);
    assert_eq!(paths_of(&counts, "10.0.3.7"), ["private_endpoint"]);
    // On-premises over ExpressRoute: private, in no known subnet.
    assert_eq!(paths_of(&counts, "192.168.10.25"), ["private_unmapped"]);
    // Container Instances: open registry first, then the trusted-service bypass.
    assert_eq!(
        paths_of(&counts, "4.156.10.20"),
        ["public_azure", "trusted_service"]
    );
    // ACR Tasks: open, denied, allowed by the tag's prefixes as IP rules, denied again.
    assert_eq!(
        paths_of(&counts, "20.42.66.17"),
        ["denied", "ip_rule", "public_azure"]
    );
    // The laptop: open, then its IP rule, then denied — and the one unexplained pull.
    assert_eq!(
        paths_of(&counts, "203.0.113.10"),
        ["denied", "ip_rule", "public_internet", "unexplained"]
    );
    // The CI runner: open, then denied.
    assert_eq!(
        paths_of(&counts, "198.51.100.23"),
        ["denied", "public_internet"]
    );
    // Logins without a usable caller IP.
    assert_eq!(paths_of(&counts, "(none)"), ["unknown"]);
    let unexplained: u64 = counts
        .iter()
        .filter(|(k, _)| k.2 == "unexplained")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(unexplained, 1);
}

#[test]
fn the_attributed_sample_summary_is_pinned() {
    let lines: Vec<String> = attributed_sample()
        .into_iter()
        .map(|((registry, caller, path, kind), n)| {
            format!("{registry:<20} {caller:<30} {path:<17} {kind:<15} {n:>3}")
        })
        .collect();
    insta::assert_snapshot!("attributed_sample", lines.join("\n"));
}

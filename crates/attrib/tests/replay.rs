//! The decision table replayed against proposed configurations, on the sample topology: the
//! configuration in force gives every verdict back, and each proposal moves exactly the callers
//! its change concerns.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use acrlens_attrib::{AccessPath, Attributor, CallerKind, Request, replay};
use acrlens_netmap::{ConfigAt, Proposal, RegistryConfig, Topology};
use acrlens_values::{parse_caller_ip, parse_timestamp_micros};

fn topology() -> Topology {
    Topology::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-logs/topology/acrlens.toml"),
    )
    .unwrap()
}

const CONTOSO: &str = "contoso.azurecr.io";
const TIMES: [&str; 4] = [
    "2025-11-04T08:00:00Z", // open to all networks
    "2025-11-04T18:00:00Z", // the laptop's IP rule, bypass on
    "2025-11-05T06:00:00Z", // plus AzureContainerRegistry.EastUS as rules
    "2025-11-05T18:00:00Z", // public network access disabled
];
/// (caller, user agent) of every sample scenario.
const CALLERS: [(&str, &str); 8] = [
    ("10.0.2.4", "containerd/1.7.20-azure"), // Container Apps over the private endpoint
    ("192.168.10.25", "docker/27.3.1"),      // on-premises, no known subnet
    ("198.51.100.23", "GitHub-Actions docker/26.1.3"), // a CI runner
    ("20.42.66.17", "acr-builder/1.0"),      // an ACR Task
    ("203.0.113.10", "docker/27.3.1"),       // the laptop with an IP rule
    ("4.156.10.20", "containerd/1.6.26"),    // Container Instances
    ("1.128.0.1", "crane/0.20"),             // the internet
    ("<nil>", "docker/27.3.1"),              // no caller
];

/// The path a request takes today and the one it would take under `change` applied to the
/// configuration in force at its time.
fn before_after(
    t: &Topology,
    caller: &str,
    agent: &str,
    at: &str,
    status: i32,
    change: &[&str],
) -> (AccessPath, AccessPath) {
    let a = Attributor::new(t);
    let time = parse_timestamp_micros(at).unwrap();
    let ip = parse_caller_ip(caller);
    let got = a.attribute_one(
        ip,
        Some(caller),
        Some(CONTOSO),
        time,
        Some(status),
        Some(agent),
        None,
    );
    let ConfigAt::InForce(met) = got.config else {
        panic!("no configuration of contoso in force at {at}");
    };
    let settings: Vec<String> = change.iter().map(|s| s.to_string()).collect();
    let proposed: RegistryConfig = Proposal::parse(&settings, t.subnets())
        .unwrap()
        .apply(met)
        .unwrap();
    let request = Request {
        caller_raw: Some(caller),
        facts: got.facts.as_ref(),
        registry: Some(CONTOSO),
        config: got.config,
        endpoint: got.endpoint,
        status: Some(status),
        time,
        is_task: got.caller_kind == CallerKind::AcrTasks,
    };
    let after = replay(
        &request,
        got.verdict.path,
        met,
        &proposed,
        got.caller_kind.name(),
    );
    (got.verdict.path, after)
}

#[test]
fn the_configuration_in_force_replays_to_every_verdict_unchanged() {
    let t = topology();
    let mut seen = std::collections::BTreeSet::new();
    for at in TIMES {
        for (caller, agent) in CALLERS {
            for status in [200, 401, 403, 404] {
                // A setting every contoso snapshot already has is the configuration in force.
                let (before, after) =
                    before_after(&t, caller, agent, at, status, &["bypass=AzureServices"]);
                assert_eq!(before, after, "{caller} at {at} answered {status}");
                seen.insert(before);
            }
        }
    }
    // Every path of the decision table that contoso's history can produce was replayed.
    assert_eq!(seen.len(), 9, "{seen:?}");
}

#[test]
fn disabling_public_access_keeps_container_instances_and_cuts_off_the_laptop() {
    let t = topology();
    let off = ["public_network_access=Disabled"];
    let aci = ("4.156.10.20", "containerd/1.6.26");
    let laptop = ("203.0.113.10", "docker/27.3.1");
    let restricted = TIMES[1];
    let open = TIMES[0];
    assert_eq!(
        before_after(&t, aci.0, aci.1, restricted, 200, &off),
        (AccessPath::TrustedService, AccessPath::TrustedService)
    );
    // Container Instances pulled over open access before; the bypass admits them.
    assert_eq!(
        before_after(&t, aci.0, aci.1, open, 200, &off),
        (AccessPath::PublicAzure, AccessPath::TrustedService)
    );
    assert_eq!(
        before_after(&t, laptop.0, laptop.1, restricted, 200, &off),
        (AccessPath::IpRule, AccessPath::Denied)
    );
    assert_eq!(
        before_after(&t, laptop.0, laptop.1, open, 200, &off),
        (AccessPath::PublicInternet, AccessPath::Denied)
    );
    // Private callers pass no firewall rule.
    assert_eq!(
        before_after(
            &t,
            "10.0.2.4",
            "containerd/1.7.20-azure",
            restricted,
            200,
            &off
        ),
        (AccessPath::PrivateEndpoint, AccessPath::PrivateEndpoint)
    );
    // A request the rules denied stays denied.
    assert_eq!(
        before_after(&t, "198.51.100.23", "docker/27.3.1", restricted, 403, &off),
        (AccessPath::Denied, AccessPath::Denied)
    );
}

#[test]
fn the_tasks_get_in_by_their_tags_rules_or_by_their_flag() {
    let t = topology();
    let task = ("20.42.66.17", "acr-builder/1.0");
    let restricted = TIMES[1];
    assert_eq!(
        before_after(
            &t,
            task.0,
            task.1,
            restricted,
            403,
            &["ip_rules=+20.42.66.0/24"]
        ),
        (AccessPath::Denied, AccessPath::IpRule)
    );
    assert_eq!(
        before_after(&t, task.0, task.1, restricted, 403, &["tasks_bypass=true"]),
        (AccessPath::Denied, AccessPath::TrustedService)
    );
    // The rule for the Tasks lets in nobody else.
    assert_eq!(
        before_after(
            &t,
            "198.51.100.23",
            "docker/27.3.1",
            restricted,
            403,
            &["ip_rules=+20.42.66.0/24"]
        ),
        (AccessPath::Denied, AccessPath::Denied)
    );
    // Removing the Tasks' rules later cuts them off again.
    assert_eq!(
        before_after(
            &t,
            task.0,
            task.1,
            TIMES[2],
            200,
            &["ip_rules=-20.42.66.0/24"]
        ),
        (AccessPath::IpRule, AccessPath::Denied)
    );
}

#[test]
fn without_the_bypass_trusted_services_are_denied_and_opening_up_admits_everyone() {
    let t = topology();
    let aci = ("4.156.10.20", "containerd/1.6.26");
    assert_eq!(
        before_after(&t, aci.0, aci.1, TIMES[1], 200, &["bypass=None"]),
        (AccessPath::TrustedService, AccessPath::Denied)
    );
    assert_eq!(
        before_after(
            &t,
            "198.51.100.23",
            "docker/27.3.1",
            TIMES[1],
            403,
            &["default_action=Allow"]
        ),
        (AccessPath::Denied, AccessPath::PublicInternet)
    );
    // An unexplained request stays unexplained while the rules still deny it.
    assert_eq!(
        before_after(
            &t,
            "203.0.113.10",
            "docker/27.3.1",
            TIMES[3],
            200,
            &["tasks_bypass=true"]
        ),
        (AccessPath::Unexplained, AccessPath::Unexplained)
    );
}

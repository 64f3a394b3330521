//! Each row of the decision table, snapshot boundaries, overlapping tags, IPv6 and ports, on the
//! sample topology (`sample-logs/topology/`).

#![allow(clippy::unwrap_used)]

use std::path::Path;

use acrlens_attrib::{AccessPath, Attribution, Attributor};
use acrlens_netmap::Topology;
use acrlens_values::{parse_caller_ip, parse_timestamp_micros};

fn topology() -> Topology {
    Topology::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-logs/topology/acrlens.toml"),
    )
    .unwrap()
}

fn ask<'t>(
    a: &Attributor<'t>,
    caller: &str,
    registry: &str,
    at: &str,
    status: i32,
    agent: &str,
) -> Attribution<'t> {
    let time = parse_timestamp_micros(at).unwrap();
    a.attribute_one(
        parse_caller_ip(caller),
        Some(caller),
        Some(registry),
        time,
        Some(status),
        Some(agent),
        None,
    )
}

const CONTOSO: &str = "contoso.azurecr.io";
const OPEN: &str = "2025-11-04T08:00:00Z"; // contoso open to all networks
const RESTRICTED: &str = "2025-11-04T18:00:00Z"; // IP rule for the laptop, bypass on
const TASK_RULES: &str = "2025-11-05T06:00:00Z"; // plus AzureContainerRegistry.EastUS as rules
const PUBLIC_OFF: &str = "2025-11-05T18:00:00Z"; // public network access disabled

#[test]
fn unknown_when_the_caller_is_missing_or_not_an_address() {
    let t = topology();
    let a = Attributor::new(&t);
    let missing = a.attribute_one(None, None, Some(CONTOSO), 0, Some(200), None, None);
    assert_eq!(missing.verdict.path, AccessPath::Unknown);
    assert_eq!(
        missing.verdict.reason,
        "unknown: the record has no caller IP"
    );
    let junk = ask(&a, "not-an-ip", CONTOSO, OPEN, 200, "");
    assert_eq!(
        junk.verdict.reason,
        "unknown: caller \"not-an-ip\" is not an IP address"
    );
}

#[test]
fn private_endpoint_from_a_known_subnet() {
    let t = topology();
    let a = Attributor::new(&t);
    let aca = ask(
        &a,
        "10.0.2.4",
        CONTOSO,
        PUBLIC_OFF,
        200,
        "containerd/1.7.20-azure",
    );
    assert_eq!(aca.verdict.path, AccessPath::PrivateEndpoint);
    assert_eq!(
        aca.verdict.reason,
        "private_endpoint: 10.0.2.4 is in subnet vnet-prod/snet-containerapps (10.0.2.0/24); came over the VNet via private endpoint pe-contoso-acr"
    );
    assert_eq!(aca.caller_kind.name(), "container_apps");
    let app_service = ask(
        &a,
        "10.0.3.7:49822",
        CONTOSO,
        OPEN,
        200,
        "docker/20.10.24+azure-1",
    );
    assert_eq!(app_service.verdict.path, AccessPath::PrivateEndpoint);
    assert_eq!(app_service.caller_kind.name(), "app_service");
}

#[test]
fn private_unmapped_outside_every_subnet() {
    let t = topology();
    let a = Attributor::new(&t);
    let v = ask(&a, "172.16.5.5", CONTOSO, OPEN, 200, "").verdict;
    assert_eq!(v.path, AccessPath::PrivateUnmapped);
    assert!(
        v.reason.contains("private address in no known subnet"),
        "{}",
        v.reason
    );
    let ula = ask(&a, "fd12:3456::1", CONTOSO, OPEN, 200, "").verdict;
    assert_eq!(ula.path, AccessPath::PrivateUnmapped);
}

#[test]
fn denied_by_the_firewall() {
    let t = topology();
    let a = Attributor::new(&t);
    let ci = ask(
        &a,
        "198.51.100.23",
        CONTOSO,
        RESTRICTED,
        403,
        "GitHub-Actions docker/26.1.3",
    );
    assert_eq!(ci.verdict.path, AccessPath::Denied);
    assert!(ci.verdict.reason.starts_with("denied: 403 from 198.51.100.23, which the rules do not allow; registry contoso.azurecr.io had publicNetworkAccess=Enabled, defaultAction=Deny, 1 IP rules, bypass=AzureServices, tasks bypass=false (config contoso-2025-11-04T12.json, from 2025-11-04T12:00:00Z)"), "{}", ci.verdict.reason);
    assert_eq!(ci.caller_kind.name(), "github_actions");
    let task = ask(
        &a,
        "20.42.66.17",
        CONTOSO,
        RESTRICTED,
        403,
        "acr-builder/1.0",
    );
    assert_eq!(
        task.verdict.path,
        AccessPath::Denied,
        "az acr build denied from AzureContainerRegistry.EastUS"
    );
    assert_eq!(task.caller_kind.name(), "acr_tasks");
}

#[test]
fn ip_rule_for_the_laptop_and_for_the_task_once_its_prefixes_are_rules() {
    let t = topology();
    let a = Attributor::new(&t);
    let laptop = ask(
        &a,
        "203.0.113.10:54321",
        CONTOSO,
        RESTRICTED,
        200,
        "docker/27.3.1",
    );
    assert_eq!(laptop.verdict.path, AccessPath::IpRule);
    assert!(
        laptop
            .verdict
            .reason
            .starts_with("ip_rule: 203.0.113.10 matches IP rule 203.0.113.10/32;"),
        "{}",
        laptop.verdict.reason
    );
    assert_eq!(laptop.caller_kind.name(), "docker_cli");
    let task = ask(
        &a,
        "20.42.66.17",
        CONTOSO,
        TASK_RULES,
        200,
        "acr-builder/1.0",
    );
    assert_eq!(task.verdict.path, AccessPath::IpRule);
    assert!(
        task.verdict
            .reason
            .contains("matches IP rule 20.42.66.0/24"),
        "{}",
        task.verdict.reason
    );
}

#[test]
fn trusted_service_for_container_instances_while_public_access_is_off() {
    let t = topology();
    let a = Attributor::new(&t);
    let aci = ask(
        &a,
        "4.156.10.20",
        CONTOSO,
        PUBLIC_OFF,
        200,
        "containerd/1.6.26",
    );
    assert_eq!(aci.verdict.path, AccessPath::TrustedService);
    assert_eq!(
        aci.verdict.reason,
        "trusted_service: 4.156.10.20 is in AzureCloud.eastus (4.156.0.0/15; service tags change 375); registry contoso.azurecr.io had publicNetworkAccess=Disabled, defaultAction=Deny, 4 IP rules, bypass=AzureServices, tasks bypass=false (config contoso-2025-11-05T12.json, from 2025-11-05T12:00:00Z)"
    );
    assert_eq!(aci.caller_kind.name(), "aci");
}

#[test]
fn public_azure_and_public_internet_when_open_or_unconfigured() {
    let t = topology();
    let a = Attributor::new(&t);
    assert_eq!(
        ask(&a, "4.156.10.20", CONTOSO, OPEN, 200, "").verdict.path,
        AccessPath::PublicAzure
    );
    assert_eq!(
        ask(&a, "198.51.100.23", CONTOSO, OPEN, 200, "")
            .verdict
            .path,
        AccessPath::PublicInternet
    );
    let v6 = ask(
        &a,
        "[2001:db8:85a3::8a2e:370:7334]:443",
        "fabrikam.azurecr.io",
        OPEN,
        200,
        "oras/1.2.0",
    )
    .verdict;
    assert_eq!(v6.path, AccessPath::PublicInternet);
    assert!(v6.reason.starts_with("public_internet: 2001:db8:85a3::8a2e:370:7334 is in no service tag (service tags change 375); registry fabrikam.azurecr.io"), "{}", v6.reason);
    let unknown = ask(&a, "4.156.10.20", "other.azurecr.io", OPEN, 200, "").verdict;
    assert_eq!(unknown.path, AccessPath::PublicAzure);
    assert!(
        unknown
            .reason
            .ends_with("configuration of other.azurecr.io not supplied"),
        "{}",
        unknown.reason
    );
}

#[test]
fn unexplained_success_that_no_rule_or_bypass_explains() {
    let t = topology();
    let a = Attributor::new(&t);
    let laptop = ask(
        &a,
        "203.0.113.10",
        CONTOSO,
        PUBLIC_OFF,
        200,
        "docker/27.3.1",
    )
    .verdict;
    assert_eq!(laptop.path, AccessPath::Unexplained);
    assert!(
        laptop
            .reason
            .contains("which the rules deny and no bypass explains"),
        "{}",
        laptop.reason
    );
    let task = ask(
        &a,
        "20.42.66.17",
        CONTOSO,
        PUBLIC_OFF,
        200,
        "acr-builder/1.0",
    )
    .verdict;
    assert_eq!(
        task.path,
        AccessPath::Unexplained,
        "a Task needs networkRuleBypassAllowedForTasks since 2025-03-08"
    );
    assert!(
        task.reason.contains("networkRuleBypassAllowedForTasks"),
        "{}",
        task.reason
    );
}

#[test]
fn a_second_either_side_of_a_configuration_change() {
    let t = topology();
    let a = Attributor::new(&t);
    let ci = |at: &str, status| {
        ask(&a, "198.51.100.23", CONTOSO, at, status, "")
            .verdict
            .path
    };
    assert_eq!(ci("2025-11-04T11:59:59Z", 200), AccessPath::PublicInternet);
    assert_eq!(ci("2025-11-04T12:00:00Z", 403), AccessPath::Denied);
    assert_eq!(ci("2025-11-04T12:00:00Z", 200), AccessPath::Unexplained);
    let laptop = |at: &str| ask(&a, "203.0.113.10", CONTOSO, at, 200, "").verdict.path;
    assert_eq!(laptop("2025-11-05T11:59:59Z"), AccessPath::IpRule);
    assert_eq!(laptop("2025-11-05T12:00:00Z"), AccessPath::Unexplained);
}

#[test]
fn a_request_before_every_snapshot_says_so() {
    let t = topology();
    let a = Attributor::new(&t);
    let v = ask(&a, "20.42.66.17", CONTOSO, "2025-01-01T00:00:00Z", 200, "").verdict;
    assert_eq!(v.path, AccessPath::PublicAzure);
    assert!(
        v.reason
            .contains("service tags change 372, the earliest supplied, later than the request"),
        "{}",
        v.reason
    );
}

//! Loading real topology: the published service-tag files, the sample topology in every CLI
//! shape, and clear errors for bad input.

#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use acrlens_netmap::{ConfigAt, GeoDb, ServiceTagSnapshot, Topology, TopologyError, TopologyParts};
use acrlens_values::parse_timestamp_micros;

fn shared(file: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(file);
    assert!(
        path.exists(),
        "{} is missing: ../shared/data must sit beside the checkout",
        path.display()
    );
    path
}

fn sample_topology() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-logs/topology/acrlens.toml")
}

fn t(s: &str) -> i64 {
    parse_timestamp_micros(s).unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn the_published_files_load_with_every_tag_and_prefix() {
    let current = ServiceTagSnapshot::load(&shared("ServiceTags_Public.json"), None).unwrap();
    assert_eq!(current.change_number, 375);
    assert_eq!(current.tags.len(), 3039);
    let (v4, v6): (Vec<&ipnet::IpNet>, Vec<&ipnet::IpNet>) = current
        .tags
        .iter()
        .flat_map(|t| &t.prefixes)
        .partition(|p| matches!(p, ipnet::IpNet::V4(_)));
    assert_eq!((v4.len(), v6.len()), (68_933, 24_429));
    let acr = current
        .tags
        .iter()
        .filter(|t| t.name.starts_with("AzureContainerRegistry"))
        .count();
    assert_eq!(acr, 70);
    let fc = current.tag("AzureContainerRegistry.FranceCentral").unwrap();
    assert_eq!(
        fc.region, "francecentral",
        "the region comes from the name, not the file's `centralfrance`"
    );
    assert_eq!(current.effective_from, None);
}

#[test]
fn overlapping_tags_of_the_real_file_most_specific_first() {
    let older = ServiceTagSnapshot::load(
        &shared("ServiceTags_Public.older.json"),
        parse_timestamp_micros("2025-10-06"),
    )
    .unwrap();
    let current = ServiceTagSnapshot::load(
        &shared("ServiceTags_Public.json"),
        parse_timestamp_micros("2025-11-03"),
    )
    .unwrap();
    let topology = Topology::compile(TopologyParts {
        service_tags: vec![current, older],
        ..TopologyParts::default()
    });
    let facts = topology.facts(ip("20.42.66.17"), t("2025-11-10T00:00:00Z"));
    let names: Vec<&str> = facts.tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "AzureContainerRegistry.EastUS",
            "AzureContainerRegistry",
            "AzureCloud.eastus",
            "AzureCloud"
        ]
    );
    assert_eq!(facts.snapshot.unwrap().change_number, 375);

    // 48.198.84.192/26 joined the global ACR tag in change 375: a lookup as of October does
    // not see it there.
    let new_prefix = ip("48.198.84.200");
    let in_tag = |at: &str| {
        topology
            .facts(new_prefix, t(at))
            .tags
            .iter()
            .any(|t| t.name == "AzureContainerRegistry")
    };
    assert!(in_tag("2025-11-03T00:00:00Z"));
    assert!(!in_tag("2025-11-02T23:59:59Z"));
    let before_any = topology.facts(new_prefix, t("2025-01-01T00:00:00Z"));
    assert!(
        before_any.snapshot_is_later,
        "no snapshot was in force: the earliest is used and said so"
    );
    assert_eq!(before_any.snapshot.unwrap().change_number, 372);

    let v6 = topology.facts(ip("2603:1030:f05::1"), t("2025-11-10T00:00:00Z"));
    assert!(
        v6.tags.iter().any(|t| t.name == "AzureCloud"),
        "{:?}",
        v6.tags.iter().map(|t| &t.name).collect::<Vec<_>>()
    );
}

#[test]
fn the_sample_topology_loads_in_every_cli_shape() {
    let topology = Topology::load(&sample_topology()).unwrap();
    assert_eq!(topology.service_tag_snapshots().len(), 2);
    assert_eq!(topology.registries().len(), 5);
    assert_eq!(topology.subnets().len(), 3);

    let aca = topology.facts(ip("10.0.2.4"), t("2025-11-04T00:00:00Z"));
    let subnet = aca.subnet.unwrap();
    assert_eq!(
        (subnet.vnet.as_str(), subnet.name.as_str()),
        ("vnet-prod", "snet-containerapps")
    );
    assert_eq!(subnet.delegations, ["Microsoft.App/environments"]);
    let ConfigAt::InForce(contoso) =
        topology.registry_at("Contoso.AzureCR.io", t("2025-11-04T00:00:00Z"))
    else {
        panic!()
    };
    assert_eq!(
        topology.endpoint_for(subnet, contoso).unwrap().name,
        "pe-contoso-acr"
    );

    let laptop = topology.facts(ip("203.0.113.10"), t("2025-11-04T00:00:00Z"));
    assert_eq!(laptop.range.unwrap().name, "developer laptops (synthetic)");

    let fabrikam = topology.registry_at("fabrikam.azurecr.io", t("2025-11-04T00:00:00Z"));
    assert!(
        matches!(fabrikam, ConfigAt::InForce(c) if c.open_to_all() && c.resource_id.ends_with("/registries/fabrikam"))
    );
    assert!(matches!(
        topology.registry_at("unknown.azurecr.io", 0),
        ConfigAt::Unknown
    ));
}

#[test]
fn registry_snapshots_switch_exactly_at_their_effective_time() {
    let topology = Topology::load(&sample_topology()).unwrap();
    let at = |s: &str| match topology.registry_at("contoso.azurecr.io", t(s)) {
        ConfigAt::InForce(c) => (c.public_network_access, c.default_allow, c.ip_rules.len()),
        other => panic!("{other:?}"),
    };
    assert_eq!(at("2025-11-04T11:59:59Z"), (true, true, 0));
    assert_eq!(at("2025-11-04T12:00:00Z"), (true, false, 1));
    assert_eq!(at("2025-11-05T00:00:00Z"), (true, false, 4));
    assert_eq!(at("2025-11-05T11:59:59.999999Z"), (true, false, 4));
    assert_eq!(at("2025-11-05T12:00:00Z"), (false, false, 4));
}

#[test]
fn geoip_from_maxmind_test_databases() {
    let geo = GeoDb::open(
        Some(&shared("GeoLite2-City-Test.mmdb")),
        Some(&shared("GeoLite2-ASN-Test.mmdb")),
    )
    .unwrap();
    let gb = geo.lookup(ip("2.125.160.216"));
    assert_eq!(gb.country.as_deref(), Some("GB"));
    let telstra = geo.lookup(ip("1.128.0.1"));
    assert_eq!(
        (telstra.asn, telstra.as_org.as_deref()),
        (Some(1221), Some("Telstra Pty Ltd"))
    );
    assert_eq!(geo.lookup(ip("10.0.0.1")), Default::default());
    let err = GeoDb::open(Some(&shared("ServiceTags_Public.json")), None).unwrap_err();
    assert!(err.to_string().contains("not a MaxMind database"), "{err}");
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn bad_topology_is_a_clear_error_naming_file_and_place() {
    let dir = tempfile::tempdir().unwrap();
    let tags = write(
        dir.path(),
        "tags.json",
        r#"{"changeNumber":"12","values":[{"name":"A","properties":{"addressPrefixes":["10.0.0.0/8","10.0.0.0/33"]}}]}"#,
    );
    let err = ServiceTagSnapshot::load(&tags, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("tags.json: values[0].properties.addressPrefixes[1]: \"10.0.0.0/33\" is not an IP prefix"), "{err}");

    let reg = write(
        dir.path(),
        "acr.json",
        r#"{"name":"x","loginServer":"x.azurecr.io","networkRuleSet":{"defaultAction":"Maybe"}}"#,
    );
    let err = acrlens_netmap::RegistryConfig::load(&reg, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("acr.json: networkRuleSet: defaultAction \"Maybe\""),
        "{err}"
    );

    let not_acr = write(
        dir.path(),
        "vm.json",
        r#"{"name":"vm1","properties":{"hardwareProfile":{}}}"#,
    );
    let err = acrlens_netmap::RegistryConfig::load(&not_acr, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing loginServer"), "{err}");

    let toml = write(
        dir.path(),
        "acrlens.toml",
        "[[service_tags]]\npath = \"tags.json\"\nefective_from = \"2025-01-01\"\n",
    );
    let err = Topology::load(&toml).unwrap_err().to_string();
    assert!(
        err.contains("acrlens.toml: line 3") && err.contains("efective_from"),
        "{err}"
    );

    let missing = write(
        dir.path(),
        "missing.toml",
        "[[vnets]]\npath = \"nope.json\"\n",
    );
    assert!(matches!(
        Topology::load(&missing).unwrap_err(),
        TopologyError::Read { .. }
    ));

    let garbage = write(dir.path(), "garbage.json", "{not json");
    let err = ServiceTagSnapshot::load(&garbage, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("garbage.json: $: not valid JSON"), "{err}");
}

#[test]
fn an_empty_topology_file_is_an_error_not_an_empty_index() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.json", "[]");
    assert!(
        acrlens_netmap::Vnet::load(&empty)
            .unwrap_err()
            .to_string()
            .contains("holds no virtual network")
    );
    assert!(
        acrlens_netmap::PrivateEndpoint::load(&empty)
            .unwrap_err()
            .to_string()
            .contains("holds no private endpoint")
    );
    assert!(
        acrlens_netmap::RegistryConfig::load(&empty, None)
            .unwrap_err()
            .to_string()
            .contains("holds no registry")
    );
    let csv = write(dir.path(), "ranges.csv", "cidr,name\n# nothing yet\n");
    assert!(
        acrlens_netmap::NamedRange::load(&csv)
            .unwrap_err()
            .to_string()
            .contains("holds no range")
    );
    let tags = write(dir.path(), "tags.json", r#"{"changeNumber":1,"values":[]}"#);
    assert!(
        ServiceTagSnapshot::load(&tags, None)
            .unwrap_err()
            .to_string()
            .contains("no service tags")
    );
}

#[test]
fn cli_and_arm_spellings_of_the_same_facts() {
    let dir = tempfile::tempdir().unwrap();
    // `az network list-service-tags`: change numbers as strings, extra top-level keys.
    let discovery = write(
        dir.path(),
        "discovery_20251103.json",
        r#"{"changeNumber":"375","cloud":"Public","id":"/subscriptions/x/providers/Microsoft.Network/serviceTags/Public","name":"Public","type":"Microsoft.Network/serviceTags",
            "values":[{"id":"AzureContainerRegistry.EastUS","name":"AzureContainerRegistry.EastUS","properties":{"addressPrefixes":["20.42.66.0/24"],"changeNumber":"10","region":"eastus","state":"GA","systemService":"AzureContainerRegistry"},"serviceTagChangeNumber":"375"}]}"#,
    );
    let tags = ServiceTagSnapshot::load(&discovery, None).unwrap();
    assert_eq!(
        (tags.change_number, tags.effective_from),
        (375, parse_timestamp_micros("2025-11-03"))
    );
    // ARM form: IP rules under properties, spelled `value`.
    let arm = write(
        dir.path(),
        "arm.json",
        r#"{"id":"/SUBSCRIPTIONS/X/REGISTRIES/ARMREG","name":"armreg","properties":{"loginServer":"ArmReg.azurecr.io","publicNetworkAccess":"Enabled",
            "networkRuleSet":{"defaultAction":"Deny","ipRules":[{"action":"Allow","value":"198.51.100.0/24"}]},"networkRuleBypassOptions":"None",
            "privateEndpointConnections":[{"properties":{"privateEndpoint":{"id":"/PE/1"}}}]}}"#,
    );
    let config = &acrlens_netmap::RegistryConfig::load(&arm, None).unwrap()[0];
    assert_eq!(config.login_server, "armreg.azurecr.io");
    assert_eq!(config.resource_id, "/subscriptions/x/registries/armreg");
    assert_eq!(config.ip_rules[0].to_string(), "198.51.100.0/24");
    assert!(!config.bypass_azure_services && !config.default_allow);
    assert_eq!(config.private_endpoints, ["/pe/1"]);
    // `az network vnet show`: one object; a subnet with addressPrefixes; a peering.
    let vnet = write(
        dir.path(),
        "vnet.json",
        r#"{"name":"hub","id":"/V/HUB","addressSpace":{"addressPrefixes":["10.1.0.0/16","fd00:1::/48"]},
            "subnets":[{"name":"dual","id":"/V/HUB/subnets/dual","addressPrefixes":["10.1.1.0/24","fd00:1:0:1::/64"]}],
            "virtualNetworkPeerings":[{"name":"to-spoke","remoteVirtualNetwork":{"id":"/V/SPOKE"}}]}"#,
    );
    let hub = &acrlens_netmap::Vnet::load(&vnet).unwrap()[0];
    assert_eq!(hub.subnets[0].prefixes.len(), 2);
    assert_eq!(hub.peerings, ["/v/spoke"]);
    let topology = Topology::compile(TopologyParts {
        vnets: vec![hub.clone()],
        ..TopologyParts::default()
    });
    let facts = topology.facts(ip("fd00:1:0:1::42"), 0);
    assert_eq!(facts.subnet.unwrap().name, "dual");
}

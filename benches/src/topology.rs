//! The sample topology (`sample-logs/topology/`): the registries' network rules over the sample
//! period, the VNet and private endpoint of the scenarios, named ranges, and an excerpt of two
//! weekly service-tag files — just the tags the samples' addresses fall in, so the samples run
//! without the full 4 MB downloads. Everything is in the shapes the Azure CLI prints.

use std::fs;
use std::io;
use std::path::Path;

use sonic_rs::{JsonContainerTrait, Value, json};

pub(crate) const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000000";

pub(crate) fn registry_id(name: &str) -> String {
    format!(
        "{SUB}/resourceGroups/rg-synthetic/providers/Microsoft.ContainerRegistry/registries/{name}"
    )
}

fn vnet_id() -> String {
    format!(
        "{SUB}/resourceGroups/rg-synthetic/providers/Microsoft.Network/virtualNetworks/vnet-prod"
    )
}

pub(crate) fn pe_id() -> String {
    format!(
        "{SUB}/resourceGroups/rg-synthetic/providers/Microsoft.Network/privateEndpoints/pe-contoso-acr"
    )
}

/// `az acr show` output (the CLI's flattened form).
fn acr_show(
    name: &str,
    public: bool,
    default_action: &str,
    ip_rules: &[&str],
    tasks_bypass: bool,
) -> Value {
    let rules: Vec<Value> = ip_rules
        .iter()
        .map(|r| json!({"action": "Allow", "ipAddressOrRange": r}))
        .collect();
    json!({
        "adminUserEnabled": false,
        "dataEndpointEnabled": false,
        "id": registry_id(name),
        "location": "eastus",
        "loginServer": format!("{name}.azurecr.io"),
        "name": name,
        "networkRuleBypassAllowedForTasks": tasks_bypass,
        "networkRuleBypassOptions": "AzureServices",
        "networkRuleSet": {"defaultAction": default_action, "ipRules": rules},
        "privateEndpointConnections": [{
            "id": format!("{}/privateEndpointConnections/pe-contoso-acr.synthetic", registry_id(name)),
            "privateEndpoint": {"id": pe_id(), "resourceGroup": "rg-synthetic"},
            "privateLinkServiceConnectionState": {"status": "Approved"},
        }],
        "provisioningState": "Succeeded",
        "publicNetworkAccess": if public { "Enabled" } else { "Disabled" },
        "resourceGroup": "rg-synthetic",
        "sku": {"name": "Premium", "tier": "Premium"},
        "type": "Microsoft.ContainerRegistry/registries",
        "zoneRedundancy": "Disabled",
    })
}

/// `az resource show` (ARM) form, for the registry that is open to all networks.
fn arm_registry(name: &str) -> Value {
    json!({
        "id": registry_id(name),
        "name": name,
        "type": "Microsoft.ContainerRegistry/registries",
        "location": "westeurope",
        "sku": {"name": "Premium", "tier": "Premium"},
        "properties": {
            "loginServer": format!("{name}.azurecr.io"),
            "publicNetworkAccess": "Enabled",
            "networkRuleBypassOptions": "AzureServices",
            "networkRuleSet": {"defaultAction": "Allow", "ipRules": []},
            "privateEndpointConnections": [],
        },
    })
}

fn subnet(name: &str, prefix: &str, delegation: Option<&str>) -> Value {
    let delegations: Vec<Value> = delegation
        .map(|d| json!({"name": "delegation", "serviceName": d, "type": "Microsoft.Network/virtualNetworks/subnets/delegations"}))
        .into_iter()
        .collect();
    json!({
        "addressPrefix": prefix,
        "delegations": delegations,
        "id": format!("{}/subnets/{name}", vnet_id()),
        "name": name,
        "privateEndpointNetworkPolicies": "Disabled",
        "provisioningState": "Succeeded",
        "type": "Microsoft.Network/virtualNetworks/subnets",
    })
}

fn vnets() -> Value {
    json!([{
        "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
        "id": vnet_id(),
        "location": "eastus",
        "name": "vnet-prod",
        "subnets": [
            subnet("snet-private-endpoints", "10.0.1.0/24", None),
            subnet("snet-containerapps", "10.0.2.0/24", Some("Microsoft.App/environments")),
            subnet("snet-appservice-integration", "10.0.3.0/24", Some("Microsoft.Web/serverFarms")),
        ],
        "type": "Microsoft.Network/virtualNetworks",
        "virtualNetworkPeerings": [],
    }])
}

fn private_endpoints() -> Value {
    json!([{
        "customDnsConfigs": [
            {"fqdn": "contoso.azurecr.io", "ipAddresses": ["10.0.1.5"]},
            {"fqdn": "contoso.eastus.data.azurecr.io", "ipAddresses": ["10.0.1.6"]},
        ],
        "id": pe_id(),
        "location": "eastus",
        "name": "pe-contoso-acr",
        "privateLinkServiceConnections": [{
            "groupIds": ["registry"],
            "name": "pe-contoso-acr",
            "privateLinkServiceConnectionState": {"status": "Approved"},
            "privateLinkServiceId": registry_id("contoso"),
        }],
        "subnet": {"id": format!("{}/subnets/snet-private-endpoints", vnet_id())},
        "type": "Microsoft.Network/privateEndpoints",
    }])
}

fn tag(name: &str, change: u64, region: &str, service: &str, prefixes: &[&str]) -> Value {
    json!({
        "name": name,
        "id": name,
        "properties": {
            "changeNumber": change,
            "region": region,
            "regionId": 0,
            "platform": "Azure",
            "systemService": service,
            "addressPrefixes": prefixes,
            "networkFeatures": null,
        },
    })
}

/// An excerpt of a weekly service-tag file (change 372 of 2025-10-06 or 375 of 2025-11-03):
/// the prefixes of the real files that hold the samples' Azure addresses, and the global ACR
/// tag's additions between the two.
fn service_tags(change: u64) -> Value {
    let mut acr_global = vec!["20.42.66.0/23", "20.62.128.0/26"];
    if change >= 375 {
        acr_global.extend(["48.198.84.192/26", "48.198.96.128/26"]);
    }
    json!({
        "changeNumber": change,
        "cloud": "Public",
        "values": [
            tag("AzureCloud", change, "", "", &["4.156.0.0/15", "20.42.0.0/17", "20.62.128.0/17", "48.198.0.0/16"]),
            tag("AzureCloud.eastus", change, "eastus", "", &["4.156.0.0/15", "20.42.0.0/17", "20.62.128.0/17"]),
            tag("AzureContainerRegistry", 96, "", "AzureContainerRegistry", &acr_global),
            tag("AzureContainerRegistry.EastUS", 10, "eastus", "AzureContainerRegistry", &["20.42.66.0/24", "20.42.67.0/24", "20.62.128.0/26"]),
        ],
    })
}

const ACRLENS_TOML: &str = r#"# The topology of the sample logs. Paths are relative to this file.
# The two service-tag files are excerpts of the real weekly downloads (just the tags the
# samples' addresses fall in); point these entries at the full files for real logs.

[[service_tags]]
path = "ServiceTags_Public_20251006.json"   # effective from the date in its name

[[service_tags]]
path = "ServiceTags_Public_20251103.json"

# contoso: open to all networks, then restricted to its IP rule and trusted services,
# then the AzureContainerRegistry.EastUS prefixes added as IP rules (for ACR Tasks),
# then public network access disabled.
[[registry]]
path = "registries/contoso-2025-06-01.json"

[[registry]]
path = "registries/contoso-2025-11-04T12.json"
effective_from = "2025-11-04T12:00:00Z"

[[registry]]
path = "registries/contoso-2025-11-05T00.json"
effective_from = "2025-11-05T00:00:00Z"

[[registry]]
path = "registries/contoso-2025-11-05T12.json"
effective_from = "2025-11-05T12:00:00Z"

# fabrikam: open to all networks (ARM form, from `az resource show`).
[[registry]]
path = "registries/fabrikam.json"

[[vnets]]
path = "vnets.json"

[[private_endpoints]]
path = "private-endpoints.json"

[[ranges]]
path = "ranges.csv"

# MaxMind databases are optional:
# [geoip]
# city = "GeoLite2-City.mmdb"
# asn = "GeoLite2-ASN.mmdb"
"#;

const RANGES_CSV: &str = "cidr,name\n203.0.113.0/24,developer laptops (synthetic)\n198.51.100.0/24,ci runners (synthetic)\n";

/// JSON with keys in alphabetical order (deterministic), pretty as the Azure CLI prints it at
/// `Some(indent)`, on one line at `None`.
fn sorted(value: &Value, indent: Option<usize>, out: &mut String) {
    let inner = indent.map(|n| n + 1);
    // Before an element, and before the closing bracket.
    let lead = |n: Option<usize>| n.map_or(String::new(), |n| format!("\n{}", "  ".repeat(n)));
    let items: Vec<(Option<String>, &Value)> = if let Some(object) = value.as_object() {
        let mut entries: Vec<(&str, &Value)> = object.iter().collect();
        entries.sort_by_key(|(k, _)| *k);
        entries
            .into_iter()
            .map(|(k, v)| (Some(sonic_rs::to_string(k).unwrap_or_default()), v))
            .collect()
    } else if let Some(array) = value.as_array() {
        array.iter().map(|v| (None, v)).collect()
    } else {
        out.push_str(&sonic_rs::to_string(value).unwrap_or_default());
        return;
    };
    let (open, close) = if value.as_object().is_some() {
        ('{', '}')
    } else {
        ('[', ']')
    };
    out.push(open);
    for (i, (key, v)) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&lead(inner));
        if let Some(key) = key {
            out.push_str(key);
            out.push_str(if indent.is_some() { ": " } else { ":" });
        }
        sorted(v, inner, out);
    }
    if !items.is_empty() {
        out.push_str(&lead(indent));
    }
    out.push(close);
}

/// One line of JSON, keys sorted.
pub(crate) fn compact(value: &Value) -> String {
    let mut text = String::new();
    sorted(value, None, &mut text);
    text
}

pub(crate) fn write_json(path: &Path, value: &Value) -> io::Result<()> {
    let mut text = String::new();
    sorted(value, Some(0), &mut text);
    text.push('\n');
    fs::write(path, text)
}

/// Writes the sample topology under `dir`.
pub fn write_topology(dir: &Path) -> io::Result<()> {
    let registries = dir.join("registries");
    fs::create_dir_all(&registries)?;
    let laptop = "203.0.113.10";
    let acr_eastus = ["20.42.66.0/24", "20.42.67.0/24", "20.62.128.0/26"];
    let with_tasks: Vec<&str> = std::iter::once(laptop).chain(acr_eastus).collect();
    write_json(
        &registries.join("contoso-2025-06-01.json"),
        &acr_show("contoso", true, "Allow", &[], false),
    )?;
    write_json(
        &registries.join("contoso-2025-11-04T12.json"),
        &acr_show("contoso", true, "Deny", &[laptop], false),
    )?;
    write_json(
        &registries.join("contoso-2025-11-05T00.json"),
        &acr_show("contoso", true, "Deny", &with_tasks, false),
    )?;
    write_json(
        &registries.join("contoso-2025-11-05T12.json"),
        &acr_show("contoso", false, "Deny", &with_tasks, false),
    )?;
    write_json(&registries.join("fabrikam.json"), &arm_registry("fabrikam"))?;
    write_json(&dir.join("vnets.json"), &vnets())?;
    write_json(&dir.join("private-endpoints.json"), &private_endpoints())?;
    write_json(
        &dir.join("ServiceTags_Public_20251006.json"),
        &service_tags(372),
    )?;
    write_json(
        &dir.join("ServiceTags_Public_20251103.json"),
        &service_tags(375),
    )?;
    fs::write(dir.join("ranges.csv"), RANGES_CSV)?;
    fs::write(dir.join("acrlens.toml"), ACRLENS_TOML)
}

/// Writes the topology of generated data (`acrlens-bench gen --topology`) under `dir`: every
/// generated registry restricted to the IP-rule ranges with the trusted-service bypass on, the
/// sample VNet and private endpoint, and the service-tag file the Azure callers came from
/// (referenced where it is, not copied).
pub fn write_generated_topology(
    dir: &Path,
    registries: u32,
    service_tags: &Path,
) -> io::Result<()> {
    let folder = dir.join("registries");
    fs::create_dir_all(&folder)?;
    let mut toml = String::from(
        "# The topology of data written by `acrlens-bench gen`. Paths are relative to this file.\n\n",
    );
    let tags = fs::canonicalize(service_tags)?;
    toml.push_str(&format!(
        "[[service_tags]]\npath = {}\n\n",
        sonic_rs::to_string(&tags.display().to_string()).unwrap_or_default()
    ));
    for r in 0..registries.max(1) {
        let name = format!("registry{r:02}");
        write_json(
            &folder.join(format!("{name}.json")),
            &acr_show(&name, true, "Deny", &crate::callers::IP_RULES, true),
        )?;
        toml.push_str(&format!(
            "[[registry]]\npath = \"registries/{name}.json\"\n\n"
        ));
    }
    write_json(&dir.join("vnets.json"), &vnets())?;
    write_json(&dir.join("private-endpoints.json"), &private_endpoints())?;
    toml.push_str("[[vnets]]\npath = \"vnets.json\"\n\n[[private_endpoints]]\npath = \"private-endpoints.json\"\n");
    fs::write(dir.join("acrlens.toml"), toml)
}

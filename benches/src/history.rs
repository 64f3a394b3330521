//! The sample configuration history (`sample-logs/history/`): contoso's changes of the sample
//! topology (created open, restricted to an IP rule, the ACR Tasks prefixes added, public access
//! disabled) as Azure records them — the Activity Log as a diagnostic setting exports it to
//! storage, as `az monitor activity-log list` prints it, as the `AzureActivity` table comes out of
//! `az monitor log-analytics query`, and Resource Graph's `resourcechanges` — beside only today's
//! `az acr show`. Field names follow Microsoft's published schemas.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use sonic_rs::{JsonValueTrait, Value, json};

use crate::topology::{SUB, compact, pe_id, registry_id, write_json};

const CALLER: &str = "platform-admin@contoso.example";
const TENANT: &str = "11111111-1111-1111-1111-111111111111";
const WRITE: &str = "Microsoft.ContainerRegistry/registries/write";
const LAPTOP: &str = "203.0.113.10";
const TASKS: [&str; 3] = ["20.42.66.0/24", "20.42.67.0/24", "20.62.128.0/26"];

/// The registry as ARM returns it from a write (`responseBody`).
fn resource(public: bool, default_action: &str, rules: &[&str]) -> Value {
    let id = registry_id("contoso");
    let rules: Vec<Value> = rules
        .iter()
        .map(|r| json!({"action": "Allow", "value": r}))
        .collect();
    json!({
        "id": id,
        "name": "contoso",
        "type": "Microsoft.ContainerRegistry/registries",
        "location": "eastus",
        "sku": {"name": "Premium", "tier": "Premium"},
        "properties": {
            "loginServer": "contoso.azurecr.io",
            "adminUserEnabled": false,
            "publicNetworkAccess": if public { "Enabled" } else { "Disabled" },
            "networkRuleSet": {"defaultAction": default_action, "ipRules": rules},
            "networkRuleBypassOptions": "AzureServices",
            "networkRuleBypassAllowedForTasks": false,
            "privateEndpointConnections": [{
                "id": format!("{id}/privateEndpointConnections/pe-contoso-acr.synthetic"),
                "properties": {
                    "privateEndpoint": {"id": pe_id()},
                    "privateLinkServiceConnectionState": {"status": "Approved"},
                },
            }],
            "provisioningState": "Succeeded",
        },
    })
}

/// One registry write: started, succeeded, its correlation id, request and response bodies.
struct Write {
    start: &'static str,
    done: &'static str,
    correlation: String,
    request: Value,
    response: Value,
}

fn correlation(n: u32) -> String {
    format!("5a0c2e59-0000-4000-8000-{n:012x}")
}

fn rule_list(rules: &[&str]) -> Value {
    let rules: Vec<Value> = rules
        .iter()
        .map(|r| json!({"action": "Allow", "ipAddressOrRange": r}))
        .collect();
    json!({"properties": {"networkRuleSet": {"defaultAction": "Deny", "ipRules": rules}}})
}

fn writes() -> Vec<Write> {
    let with_tasks: Vec<&str> = std::iter::once(LAPTOP).chain(TASKS).collect();
    vec![
        Write {
            start: "2025-06-01T08:59:40Z",
            done: "2025-06-01T09:00:00Z",
            correlation: correlation(1),
            request: json!({"location": "eastus", "sku": {"name": "Premium"}, "properties": {"adminUserEnabled": false}}),
            response: resource(true, "Allow", &[]),
        },
        Write {
            start: "2025-11-04T11:59:57Z",
            done: "2025-11-04T12:00:00Z",
            correlation: correlation(2),
            request: rule_list(&[LAPTOP]),
            response: resource(true, "Deny", &[LAPTOP]),
        },
        Write {
            start: "2025-11-04T23:59:58Z",
            done: "2025-11-05T00:00:00Z",
            correlation: correlation(3),
            request: rule_list(&with_tasks),
            response: resource(true, "Deny", &with_tasks),
        },
        Write {
            start: "2025-11-05T11:59:56Z",
            done: "2025-11-05T12:00:00Z",
            correlation: correlation(4),
            request: json!({"properties": {"publicNetworkAccess": "Disabled"}}),
            response: resource(false, "Deny", &with_tasks),
        },
    ]
}

fn text(value: &Value) -> String {
    compact(value)
}

/// A record of the storage export (`insights-activity-logs`).
fn storage(time: &str, status: &str, correlation: &str, properties: Value) -> Value {
    let id = registry_id("contoso");
    let signature = match status {
        "Start" => "Started.",
        "Success" => "Succeeded.OK",
        _ => "Failed.BadRequest",
    };
    json!({
        "time": time,
        "resourceId": id.to_ascii_uppercase(),
        "operationName": WRITE.to_ascii_uppercase(),
        "category": "Administrative",
        "resultType": status,
        "resultSignature": signature,
        "durationMs": "0",
        "callerIpAddress": "198.51.100.7",
        "correlationId": correlation,
        "identity": {"authorization": {"action": WRITE, "scope": id}, "claims": {"name": CALLER}},
        "level": if status == "Failure" { "Error" } else { "Information" },
        "location": "global",
        "properties": properties,
    })
}

/// The storage export: JSON lines in one `PT1H.json` per hour. The Tasks change's success
/// carries no response body (the request's PATCH applies); a failed write, a write with no
/// outcome and another operation change nothing.
fn storage_export(dir: &Path) -> io::Result<()> {
    let entity = registry_id("contoso");
    let mut records = Vec::new();
    for (i, w) in writes().iter().enumerate() {
        records.push(storage(
            w.start,
            "Start",
            &w.correlation,
            json!({"requestbody": text(&w.request), "eventCategory": "Administrative", "entity": entity}),
        ));
        let mut done =
            json!({"statusCode": "OK", "eventCategory": "Administrative", "entity": entity});
        if i != 2 {
            done["responseBody"] = Value::from(text(&w.response).as_str());
        }
        records.push(storage(w.done, "Success", &w.correlation, done));
    }
    let failed = correlation(0xf1);
    let bad = json!({"properties": {"publicNetworkAccess": "Disabled", "networkRuleSet": {"defaultAction": "Allow"}}});
    records.push(storage(
        "2025-11-04T18:00:00Z",
        "Start",
        &failed,
        json!({"requestbody": text(&bad)}),
    ));
    records.push(storage(
        "2025-11-04T18:00:02Z",
        "Failure",
        &failed,
        json!({"statusCode": "BadRequest", "statusMessage": "{\"error\":{\"code\":\"InvalidRequest\"}}"}),
    ));
    let open = json!({"properties": {"networkRuleSet": {"defaultAction": "Allow", "ipRules": []}}});
    records.push(storage(
        "2025-11-04T18:30:00Z",
        "Start",
        &correlation(0xf2),
        json!({"requestbody": text(&open)}),
    ));
    let mut other = storage(
        "2025-11-04T13:00:00Z",
        "Success",
        &correlation(0xc1),
        json!({"statusCode": "OK"}),
    );
    other["operationName"] =
        Value::from("MICROSOFT.CONTAINERREGISTRY/REGISTRIES/LISTCREDENTIALS/ACTION");
    records.push(other);
    let mut hours: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for r in records {
        let time = r["time"].as_str().unwrap_or_default().to_owned();
        let (y, m, d, h) = (&time[0..4], &time[5..7], &time[8..10], &time[11..13]);
        hours
            .entry(format!("y={y}/m={m}/d={d}/h={h}/m=00"))
            .or_default()
            .push((time.clone(), text(&r)));
    }
    let base = dir.join(format!(
        "insights-activity-logs/resourceId={}",
        SUB.to_ascii_uppercase()
    ));
    for (hour, mut lines) in hours {
        lines.sort();
        let folder = base.join(hour);
        fs::create_dir_all(&folder)?;
        let body: String = lines.into_iter().map(|(_, l)| l + "\n").collect();
        fs::write(folder.join("PT1H.json"), body)?;
    }
    Ok(())
}

/// `az monitor activity-log list -o json`: the REST shape, newest first.
fn activity_log_list() -> Value {
    let id = registry_id("contoso");
    let mut events = Vec::new();
    for w in writes() {
        for (time, status, properties) in [
            (w.start, "Started", json!({"requestbody": text(&w.request)})),
            (
                w.done,
                "Succeeded",
                json!({"statusCode": "OK", "responseBody": text(&w.response)}),
            ),
        ] {
            let c = &w.correlation;
            events.push(json!({
                "authorization": {"action": WRITE, "scope": id},
                "caller": CALLER,
                "category": {"localizedValue": "Administrative", "value": "Administrative"},
                "correlationId": c,
                "eventTimestamp": time.replace('Z', ".0000000Z"),
                "id": format!("{id}/events/{c}/ticks/{}", if status == "Started" { 1 } else { 2 }),
                "level": "Informational",
                "operationId": c,
                "operationName": {"localizedValue": "Create or Update Container Registry", "value": WRITE},
                "properties": properties,
                "resourceGroup": "rg-synthetic",
                "resourceId": id,
                "resourceProviderName": {"localizedValue": "Microsoft.ContainerRegistry", "value": "Microsoft.ContainerRegistry"},
                "status": {"localizedValue": status, "value": status},
                "subStatus": {"localizedValue": "", "value": ""},
                "submissionTimestamp": time,
                "subscriptionId": "00000000-0000-0000-0000-000000000000",
            }));
        }
    }
    events.reverse();
    Value::from(events)
}

/// `az monitor log-analytics query` over `AzureActivity`: every value a string.
fn azure_activity() -> Value {
    let id = registry_id("contoso").to_ascii_lowercase();
    let mut rows = Vec::new();
    for w in writes() {
        for (time, status, properties) in [
            (w.start, "Start", json!({"requestbody": text(&w.request)})),
            (
                w.done,
                "Success",
                json!({"statusCode": "OK", "responseBody": text(&w.response)}),
            ),
        ] {
            rows.push(json!({
                "TenantId": TENANT,
                "SourceSystem": "Azure",
                "CallerIpAddress": "198.51.100.7",
                "CorrelationId": w.correlation,
                "Level": "Informational",
                "OperationNameValue": WRITE.to_ascii_uppercase(),
                "ActivityStatusValue": status,
                "Caller": CALLER,
                "TimeGenerated": time.replace('Z', ".000Z"),
                "SubscriptionId": "00000000-0000-0000-0000-000000000000",
                "CategoryValue": "Administrative",
                "ResourceGroup": "RG-SYNTHETIC",
                "ResourceProviderValue": "MICROSOFT.CONTAINERREGISTRY",
                "Properties_d": text(&properties),
                "_ResourceId": id,
                "Type": "AzureActivity",
                "TableName": "PrimaryResult",
            }));
        }
    }
    Value::from(rows)
}

/// One `resourcechanges` row: each changed property path with its previous and new value.
fn change(
    time: &str,
    correlation: &str,
    changes: &[(String, Option<&str>, Option<&str>)],
) -> Value {
    let id = registry_id("contoso");
    let mut paths = json!({});
    for (path, before, after) in changes {
        let kind = match (before, after) {
            (None, _) => "Insert",
            (_, None) => "Remove",
            _ => "Update",
        };
        paths[path.as_str()] = json!({
            "previousValue": before,
            "newValue": after,
            "changeCategory": "User",
            "propertyChangeType": kind,
        });
    }
    let name = format!("08584{}", &correlation[correlation.len() - 4..]);
    json!({
        "id": format!("{id}/providers/Microsoft.Resources/changes/{name}"),
        "name": name,
        "type": "microsoft.resources/changes",
        "tenantId": TENANT,
        "resourceGroup": "rg-synthetic",
        "subscriptionId": "00000000-0000-0000-0000-000000000000",
        "properties": {
            "targetResourceId": id,
            "targetResourceType": "microsoft.containerregistry/registries",
            "changeType": "Update",
            "changeAttributes": {
                "timestamp": time.replace('Z', ".000Z"),
                "correlationId": correlation,
                "changesCount": changes.len(),
                "changedBy": CALLER,
                "changedByType": "User",
                "clientType": "Azure CLI",
                "operation": WRITE.to_ascii_lowercase(),
                "previousResourceSnapshotId": format!("{name}a"),
                "newResourceSnapshotId": format!("{name}b"),
            },
            "changes": paths,
        },
    })
}

/// `az graph query -q "resourcechanges | …" -o json`, newest first; a tag change among them.
fn resource_graph() -> Value {
    let rule = |i: usize, field: &str| format!("properties.networkRuleSet.ipRules[{i}].{field}");
    let mut tasks = Vec::new();
    for (i, prefix) in TASKS.iter().enumerate() {
        tasks.push((rule(i + 1, "value"), None, Some(*prefix)));
        tasks.push((rule(i + 1, "action"), None, Some("Allow")));
    }
    let rows = vec![
        change(
            "2025-11-05T12:00:00Z",
            &correlation(4),
            &[(
                "properties.publicNetworkAccess".into(),
                Some("Enabled"),
                Some("Disabled"),
            )],
        ),
        change("2025-11-05T00:00:00Z", &correlation(3), &tasks),
        change(
            "2025-11-04T12:00:00Z",
            &correlation(2),
            &[
                (
                    "properties.networkRuleSet.defaultAction".into(),
                    Some("Allow"),
                    Some("Deny"),
                ),
                (rule(0, "value"), None, Some(LAPTOP)),
                (rule(0, "action"), None, Some("Allow")),
            ],
        ),
        change(
            "2025-11-03T09:00:00Z",
            "5a0c2e59-0000-4000-8000-0000000000d1",
            &[("tags.owner".into(), None, Some("platform"))],
        ),
    ];
    json!({"count": rows.len(), "data": rows, "skip_token": null, "total_records": rows.len()})
}

const ACRLENS_TOML: &str = r#"# The sample topology again, with contoso's configuration history rebuilt from its Activity Log
# (as a diagnostic setting exports it to storage) and only today's `az acr show` as a snapshot.
# The same changes are here in the three other shapes acrlens reads:
#   activity-log-list.json  `az monitor activity-log list --resource-id … -o json`
#   azure-activity.json     `az monitor log-analytics query` over the AzureActivity table
#   resource-graph.json     `az graph query -q "resourcechanges | …"`
# Point `[[registry_history]]` at any of them (or at all: a change found in several is one).

[[service_tags]]
path = "../topology/ServiceTags_Public_20251006.json"

[[service_tags]]
path = "../topology/ServiceTags_Public_20251103.json"

# Today's configuration (no effective_from: `az acr show` prints the current one).
[[registry]]
path = "../topology/registries/contoso-2025-11-05T12.json"

[[registry]]
path = "../topology/registries/fabrikam.json"

[[registry_history]]
path = "activity-log"

[[vnets]]
path = "../topology/vnets.json"

[[private_endpoints]]
path = "../topology/private-endpoints.json"

[[ranges]]
path = "../topology/ranges.csv"
"#;

/// Writes the sample history under `dir`.
pub fn write_history(dir: &Path) -> io::Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    fs::create_dir_all(dir)?;
    storage_export(&dir.join("activity-log"))?;
    write_json(&dir.join("activity-log-list.json"), &activity_log_list())?;
    write_json(&dir.join("azure-activity.json"), &azure_activity())?;
    write_json(&dir.join("resource-graph.json"), &resource_graph())?;
    fs::write(dir.join("acrlens.toml"), ACRLENS_TOML)
}

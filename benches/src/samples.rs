//! The bundled `sample-logs/`: a few days of two synthetic registries, written for the scenarios
//! of the attribution table, in the Storage export layout, plus the same handful of events in every other
//! export shape (`sample-logs/shapes/`). Identities and tenants are marked synthetic; addresses
//! are documentation ranges except where a scenario needs a real Azure prefix (2025-11 service
//! tags, change 375) or an entry of MaxMind's test databases.

use std::fs;
use std::io;
use std::path::Path;

use acrlens_events::parse_timestamp_micros;

use crate::event::{Category, LogEvent};
use crate::generate::Rng;
use crate::render;

const HOUR: i64 = 3_600_000_000;
const SUBSCRIPTION: &str = "00000000-0000-0000-0000-000000000000";
const TENANT: &str = "00000000-0000-0000-0000-0000000000aa";

/// A registry of the samples.
struct Registry {
    name: &'static str,
    location: &'static str,
}

const CONTOSO: Registry = Registry {
    name: "contoso",
    location: "eastus",
};
const FABRIKAM: Registry = Registry {
    name: "fabrikam",
    location: "westeurope",
};

impl Registry {
    fn resource_id(&self) -> String {
        format!(
            "/SUBSCRIPTIONS/{SUBSCRIPTION}/RESOURCEGROUPS/RG-SYNTHETIC/PROVIDERS/MICROSOFT.CONTAINERREGISTRY/REGISTRIES/{}",
            self.name.to_ascii_uppercase()
        )
    }
    fn login_server(&self) -> String {
        format!("{}.azurecr.io", self.name)
    }
}

/// Who calls, from where, and how the registry answers at a given time.
struct Caller {
    registry: &'static Registry,
    ip: &'static str,
    identity: &'static str,
    user_agent: &'static str,
    repository: &'static str,
    /// The HTTP status at a time (µs).
    status: fn(i64) -> u16,
    /// Also pushes after pulling.
    pushes: bool,
}

fn t(s: &str) -> i64 {
    parse_timestamp_micros(s).unwrap_or_default()
}

/// contoso's network rules over the sample period (the snapshots in `topology/`):
/// open to all networks until `RESTRICTED`; then only its IP rule (the laptop) and trusted
/// services; from `TASK_RULES` also the AzureContainerRegistry.EastUS prefixes as IP rules; from
/// `PUBLIC_OFF` public network access disabled.
const RESTRICTED: &str = "2025-11-04T12:00:00Z";
const TASK_RULES: &str = "2025-11-05T00:00:00Z";
const PUBLIC_OFF: &str = "2025-11-05T12:00:00Z";

fn always_ok(_: i64) -> u16 {
    200
}

fn ok_until_restricted(at: i64) -> u16 {
    if at < t(RESTRICTED) { 200 } else { 403 }
}

fn ok_until_public_off(at: i64) -> u16 {
    if at < t(PUBLIC_OFF) { 200 } else { 403 }
}

fn task_status(at: i64) -> u16 {
    if at < t(RESTRICTED) || (t(TASK_RULES) <= at && at < t(PUBLIC_OFF)) {
        200
    } else {
        403
    }
}

const CALLERS: &[Caller] = &[
    // Container Apps in subnet 10.0.2.0/24, through the private endpoint.
    Caller {
        registry: &CONTOSO,
        ip: "10.0.2.4",
        identity: "synthetic-mi-containerapps",
        user_agent: "containerd/1.7.20-azure",
        repository: "prod/web",
        status: always_ok,
        pushes: false,
    },
    // Container Instances with a managed identity: a Microsoft public address (AzureCloud.eastus),
    // let in by the trusted-service bypass once public access is off.
    Caller {
        registry: &CONTOSO,
        ip: "4.156.10.20",
        identity: "synthetic-mi-aci-batch",
        user_agent: "containerd/1.6.26",
        repository: "prod/batch",
        status: always_ok,
        pushes: false,
    },
    // ACR Tasks (`az acr build`) from AzureContainerRegistry.EastUS: denied once the registry is
    // restricted, allowed when that tag's prefixes became IP rules, denied when public access is off.
    Caller {
        registry: &CONTOSO,
        ip: "20.42.66.17",
        identity: "synthetic-acr-task-system-mi",
        user_agent: "acr-builder/1.0 docker/24.0.7",
        repository: "prod/api",
        status: task_status,
        pushes: true,
    },
    // App Service over VNet integration (subnet 10.0.3.0/24).
    Caller {
        registry: &CONTOSO,
        ip: "10.0.3.7:49822",
        identity: "synthetic-mi-appservice",
        user_agent: "docker/20.10.24+azure-1 go/go1.20.10 (App Service)",
        repository: "prod/web",
        status: always_ok,
        pushes: false,
    },
    // A developer laptop allowed by an IP rule (documentation range), until public access is off.
    Caller {
        registry: &CONTOSO,
        ip: "203.0.113.10:54321",
        identity: "dev.user@contoso.example",
        user_agent: "docker/27.3.1 go/go1.22.7 git-commit/41ca978 kernel/6.8.0 os/linux arch/amd64",
        repository: "dev/tools",
        status: ok_until_public_off,
        pushes: true,
    },
    // A CI runner on the internet: fine while the registry was open, denied after.
    Caller {
        registry: &CONTOSO,
        ip: "198.51.100.23",
        identity: "synthetic-sp-github-ci",
        user_agent: "GitHub-Actions docker/26.1.3 go/go1.21.10",
        repository: "prod/web",
        status: ok_until_restricted,
        pushes: true,
    },
    // An on-premises build agent over ExpressRoute: a private address in no subnet of the topology.
    Caller {
        registry: &CONTOSO,
        ip: "192.168.10.25",
        identity: "synthetic-sp-onprem-build",
        user_agent: "docker/24.0.9 go/go1.20.13 os/linux arch/amd64",
        repository: "prod/api",
        status: always_ok,
        pushes: false,
    },
    // An open registry: public callers over IPv4 (MaxMind test entries) and IPv6.
    Caller {
        registry: &FABRIKAM,
        ip: "2.125.160.216",
        identity: "synthetic-sp-partner",
        user_agent: "docker/25.0.3 go/go1.21.6",
        repository: "public/base",
        status: always_ok,
        pushes: false,
    },
    Caller {
        registry: &FABRIKAM,
        ip: "[2001:db8:85a3::8a2e:370:7334]:443",
        identity: "synthetic-anonymous",
        user_agent: "oras/1.2.0",
        repository: "public/charts",
        status: always_ok,
        pushes: false,
    },
    Caller {
        registry: &FABRIKAM,
        ip: "1.128.0.1",
        identity: "synthetic-sp-mobile",
        user_agent: "crane/0.19.1",
        repository: "public/base",
        status: always_ok,
        pushes: false,
    },
];

/// A small deterministic hash, for ids and sizes.
fn mix(x: u64) -> u64 {
    Rng::new(x).next_u64()
}

fn guid(n: u64) -> String {
    let h = mix(n);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        (h >> 20) & 0xfff,
        mix(h) & 0xffff_ffff_ffff
    )
}

fn event(c: &Caller, at: i64, seq: u64, operation: &'static str) -> LogEvent {
    let digest = format!(
        "sha256:{:016x}{:016x}{:016x}{:016x}",
        mix(seq),
        mix(seq + 1),
        mix(seq + 2),
        mix(seq + 3)
    );
    let login = operation == "Login";
    let by_digest = seq % 7 == 3 && operation == "Pull";
    LogEvent {
        time: at,
        category: if login {
            Category::Login
        } else {
            Category::Repository
        },
        operation,
        login_server: c.registry.login_server(),
        resource_id: c.registry.resource_id(),
        location: c.registry.location,
        repository: (!login).then(|| c.repository.to_owned()),
        tag: (!login).then(|| {
            if by_digest {
                digest.clone()
            } else {
                format!("v1.{}", seq % 5)
            }
        }),
        digest: (!login).then_some(digest),
        media_type: (!login).then_some("application/vnd.docker.distribution.manifest.v2+json"),
        artifact_type: None,
        size: (!login).then(|| (mix(seq) % 200_000) as i64 + 1_000),
        duration_ms: format!("{}.{:06}", mix(seq) % 900, mix(seq + 9) % 1_000_000),
        status: (c.status)(at),
        identity: Some(c.identity.to_owned()),
        user_agent: Some(c.user_agent.to_owned()),
        correlation_id: guid(seq),
        jwt_id: Some(guid(seq + 1_000_000)),
        caller_ip: Some(c.ip.to_owned()),
        tenant_id: TENANT,
    }
}

/// The events of the Storage export: every caller every four hours over three days, logins
/// alongside, and a few records with missing or odd caller values.
pub fn storage_events() -> Vec<LogEvent> {
    let start = t("2025-11-03T00:00:00Z");
    let mut events = Vec::new();
    let mut seq = 0u64;
    for slot in 0..18 {
        let base = start + slot * 4 * HOUR;
        for (i, c) in CALLERS.iter().enumerate() {
            let at = base + (i as i64 * 7 + 3) * 60_000_000 + (seq as i64 % 1000) * 1000;
            seq += 1;
            if slot % 3 == 0 {
                events.push(event(c, at - 30_000_000, seq, "Login"));
                seq += 1;
            }
            events.push(event(c, at, seq, "Pull"));
            seq += 1;
            if c.pushes && slot % 2 == 1 {
                events.push(event(c, at + 90_000_000, seq, "Push"));
                seq += 1;
            }
        }
        // Logins with no usable caller address: kept, their verdict is `unknown`.
        let mut odd = event(&CALLERS[4], base + 50 * 60_000_000, seq, "Login");
        odd.caller_ip = match slot % 3 {
            0 => Some("<nil>".to_owned()),
            1 => None,
            _ => Some("not-an-ip".to_owned()),
        };
        odd.status = 401;
        events.push(odd);
        seq += 1;
    }
    // The anomaly a compliance report must surface: a pull that succeeded from the laptop after
    // public access was disabled, which no rule or bypass explains.
    let mut odd = event(&CALLERS[4], t("2025-11-05T18:30:00Z"), seq, "Pull");
    odd.status = 200;
    events.push(odd);
    events.sort_by_key(|e| e.time);
    events
}

/// The events every shape in `sample-logs/shapes/` holds: one of each caller's pulls.
pub fn shape_events() -> Vec<LogEvent> {
    let at = t("2025-11-04T15:00:00Z");
    CALLERS
        .iter()
        .enumerate()
        .map(|(i, c)| event(c, at + i as i64 * 61_001_000, 10_000 + i as u64, "Pull"))
        .collect()
}

fn storage_path(root: &Path, e: &LogEvent) -> std::path::PathBuf {
    let day = acrlens_events::format_timestamp_micros(e.time);
    let (y, m, d, h) = (&day[0..4], &day[5..7], &day[8..10], &day[11..13]);
    root.join(format!(
        "insights-logs-{}",
        e.category.name().to_ascii_lowercase()
    ))
    .join(format!("resourceId={}", e.resource_id))
    .join(format!("y={y}/m={m}/d={d}/h={h}/m=00/PT1H.json"))
}

/// Writes `sample-logs/` under `root`: `exports/` (Storage layout, with the bad records a real
/// export has), `shapes/` (the same events in every other shape), `topology/` and `history/`
/// (contoso's changes as the Activity Log and Resource Graph record them).
pub fn write_samples(root: &Path) -> io::Result<()> {
    let exports = root.join("exports");
    if exports.exists() {
        fs::remove_dir_all(&exports)?;
    }
    let mut files: std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> = Default::default();
    for e in storage_events() {
        render::resource_log_line(&e, files.entry(storage_path(&exports, &e)).or_default());
    }
    // What real exports also hold: a line that is not JSON, a record without a time, and the
    // last blob still being appended (its final line cut short, no newline).
    let keys: Vec<_> = files.keys().cloned().collect();
    if let (Some(first), Some(second), Some(last)) = (keys.first(), keys.get(1), keys.last()) {
        files.entry(first.clone()).or_default().extend_from_slice(
            b"{\"time\": \"2025-11-03T01:00:00Z\", \"operationName\": \"Pull\", broken\n",
        );
        files.entry(second.clone()).or_default().extend_from_slice(
            b"{\"operationName\":\"Pull\",\"resultDescription\":\"200\",\"callerIpAddress\":\"10.0.2.4\",\"properties\":{\"repository\":\"prod/web\"}}\n",
        );
        let tail = files.entry(last.clone()).or_default();
        let mut cut = Vec::new();
        render::resource_log_line(
            &event(&CALLERS[0], t("2025-11-05T23:59:00Z"), 99_999, "Pull"),
            &mut cut,
        );
        tail.extend_from_slice(&cut[..cut.len() / 2]);
    }
    for (path, bytes) in &files {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(path, bytes)?;
    }
    let shapes = root.join("shapes");
    fs::create_dir_all(&shapes)?;
    let events = shape_events();
    let mut lines = Vec::new();
    let mut la = Vec::new();
    for e in &events {
        render::resource_log_line(e, &mut lines);
        render::log_analytics_line(e, &mut la);
    }
    fs::write(shapes.join("resource-log.PT1H.json"), lines)?;
    fs::write(
        shapes.join("records-envelope.json"),
        render::records_envelope(&events),
    )?;
    fs::write(shapes.join("log-analytics.PT05M.json"), la)?;
    fs::write(
        shapes.join("az-query-output.json"),
        render::az_query_json(&events),
    )?;
    fs::write(
        shapes.join("portal-export.csv"),
        render::portal_csv(&events),
    )?;
    crate::topology::write_topology(&root.join("topology"))?;
    crate::history::write_history(&root.join("history"))
}

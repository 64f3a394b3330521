//! The report's content, independent of how it is rendered. Serialized as the JSON report
//! (schema `acrlens.report/v1`, documented in the README).

use serde::Serialize;

use acrlens_policy::Severity;

/// The version of the JSON report's shape.
pub const SCHEMA: &str = "acrlens.report/v1";

/// How many callers the caller tables show (the busiest).
pub const TOP_CALLERS: usize = 50;

/// How many callers per access path the callers-by-path table shows.
pub const TOP_PER_PATH: usize = 10;

/// A compliance report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The period the events cover.
    pub period: Period,
    /// What the report was made from.
    pub inputs: Inputs,
    /// Requests per registry and access path.
    pub paths_by_registry: Vec<PathCount>,
    /// Requests per day and access path (all registries).
    pub paths_by_day: Vec<DayCount>,
    /// Requests per registry, day and access path: each registry's time series.
    pub paths_by_registry_day: Vec<RegistryDayCount>,
    /// Configuration and service-tag changes that took effect within the period, in time order.
    pub changes: Vec<Change>,
    /// The busiest callers of each access path: every scenario under its path.
    pub callers_by_path: Vec<Caller>,
    /// Who used the trusted-service bypass.
    pub trusted_callers: Vec<Caller>,
    /// Public callers, with country and AS.
    pub public_callers: Vec<Caller>,
    /// Rule violations, most severe first.
    pub violations: Vec<Violation>,
}

/// First and last event time (RFC 3339), or the requested window.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Period {
    /// Start.
    pub from: Option<String>,
    /// End.
    pub to: Option<String>,
}

/// The data behind the report.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Inputs {
    /// Events considered.
    pub events: u64,
    /// Records quarantined while reading the exports (raw-export reports only).
    pub quarantined: u64,
    /// Events whose registry had no configuration in force (their verdicts say so).
    pub events_without_configuration: u64,
    /// Events without a usable caller IP.
    pub events_without_caller: u64,
    /// Service-tag change numbers used.
    pub service_tag_versions: Vec<i64>,
    /// Registry configuration snapshots used: `registry @ effective time`.
    pub configurations: Vec<String>,
    /// The periods judged without a known configuration, per registry (runs of days with such
    /// events): their verdicts could not weigh the firewall.
    pub unconfigured_periods: Vec<UnconfiguredPeriod>,
}

/// Events of one registry judged without a known configuration, over consecutive days.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UnconfiguredPeriod {
    /// Registry login server (none when the events name no registry).
    pub registry: Option<String>,
    /// The first such event's time (RFC 3339).
    pub from: String,
    /// The last such event's time (RFC 3339).
    pub to: String,
    /// How many events.
    pub events: u64,
}

/// A count per registry, day and access path.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RegistryDayCount {
    /// Registry login server.
    pub registry: String,
    /// UTC day, `YYYY-MM-DD`.
    pub day: String,
    /// Access path.
    pub access_path: String,
    /// Requests.
    pub requests: u64,
}

/// A change that took effect within the period: a registry's configuration, or the service
/// tags (for every registry).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Change {
    /// The registry (none for a service-tag change).
    pub registry: Option<String>,
    /// When it took effect (RFC 3339).
    pub time: String,
    /// `configuration` or `service_tags`.
    pub kind: &'static str,
    /// What changed, in a few words.
    pub detail: String,
}

/// A count per registry.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RegistryCount {
    /// Registry login server (none when the events name none).
    pub registry: Option<String>,
    /// How many.
    pub count: u64,
}

/// A count per registry and access path.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PathCount {
    /// Registry login server.
    pub registry: String,
    /// Access path.
    pub access_path: String,
    /// Requests.
    pub requests: u64,
}

/// A count per day and access path.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DayCount {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Access path.
    pub access_path: String,
    /// Requests.
    pub requests: u64,
}

/// A caller, aggregated.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Caller {
    /// Registry.
    pub registry: String,
    /// Caller address.
    pub caller_ip: Option<String>,
    /// Identity.
    pub identity: Option<String>,
    /// Caller kind guess.
    pub caller_kind: String,
    /// Most specific service tag.
    pub service_tag: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// AS number.
    pub asn: Option<i64>,
    /// AS organisation.
    pub as_org: Option<String>,
    /// Access path.
    pub access_path: String,
    /// Requests.
    pub requests: u64,
}

impl Caller {
    /// The autonomous system as shown: `AS1221 Telstra Pty Ltd`.
    pub fn autonomous_system(&self) -> Option<String> {
        match (&self.asn, &self.as_org) {
            (Some(n), Some(org)) => Some(format!("AS{n} {org}")),
            (Some(n), None) => Some(format!("AS{n}")),
            _ => None,
        }
    }
}

/// One rule's violation.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Violation {
    /// Rule name.
    pub rule: String,
    /// Severity.
    pub severity: Severity,
    /// What was found, in one sentence.
    pub finding: String,
    /// How many events (or hours, or IP rules) violate it.
    pub count: u64,
    /// First occurrence.
    pub first_seen: Option<String>,
    /// Last occurrence.
    pub last_seen: Option<String>,
    /// The count per registry.
    pub registries: Vec<RegistryCount>,
    /// A few examples.
    pub samples: Vec<Sample>,
}

/// An example of a violation.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Sample {
    /// Time (or hour).
    pub time: Option<String>,
    /// Registry.
    pub registry: Option<String>,
    /// Repository.
    pub repository: Option<String>,
    /// Caller.
    pub caller_ip: Option<String>,
    /// Identity.
    pub identity: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
    /// Access path.
    pub access_path: Option<String>,
    /// The verdict's reason, or the finding for non-event samples.
    pub detail: Option<String>,
}

impl Sample {
    /// A sample that is a finding about a registry (an hour, an IP rule), not an event.
    pub fn note(
        registry: &str,
        time: Option<String>,
        access_path: Option<&str>,
        detail: String,
    ) -> Sample {
        Sample {
            time,
            registry: Some(registry.to_owned()),
            repository: None,
            caller_ip: None,
            identity: None,
            user_agent: None,
            access_path: access_path.map(str::to_owned),
            detail: Some(detail),
        }
    }

    /// Whether it is a finding about a registry (an hour, an IP rule) rather than an event.
    pub fn is_finding(&self) -> bool {
        self.repository.is_none()
            && self.caller_ip.is_none()
            && self.identity.is_none()
            && self.user_agent.is_none()
    }

    /// The cells shown for a sample, in the order of [`SAMPLE_COLUMNS`].
    pub fn cells(&self) -> [&Option<String>; 7] {
        [
            &self.time,
            &self.registry,
            &self.repository,
            &self.caller_ip,
            &self.identity,
            &self.user_agent,
            &self.detail,
        ]
    }
}

/// Column headings of a violation's samples.
pub const SAMPLE_COLUMNS: [&str; 7] = [
    "time",
    "registry",
    "repository",
    "caller",
    "identity",
    "user agent",
    "detail",
];

/// Column headings of a violation's findings that are not events.
pub const FINDING_COLUMNS: [&str; 3] = ["registry", "when", "finding"];

/// Column headings of the caller tables: trusted-service callers, then public callers.
pub const TRUSTED_COLUMNS: [&str; 5] = ["registry", "identity", "kind", "service tag", "requests"];
/// Column headings of the callers-by-path table.
pub const BY_PATH_COLUMNS: [&str; 6] = [
    "access path",
    "registry",
    "caller",
    "identity",
    "kind",
    "requests",
];
/// See [`TRUSTED_COLUMNS`].
pub const PUBLIC_COLUMNS: [&str; 7] = [
    "registry", "caller", "country", "AS", "kind", "path", "requests",
];

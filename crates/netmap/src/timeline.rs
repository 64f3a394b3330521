//! Each registry's configurations as periods a person reads: from, until, where the
//! configuration came from, and what changed from the one before.

use acrlens_values::format_timestamp_micros;
use serde::Serialize;

use crate::registry::RegistryConfig;
use crate::topology::Topology;

/// One registry's configurations, oldest first.
#[derive(Debug, Clone, Serialize)]
pub struct RegistryTimeline {
    /// Login server.
    pub login_server: String,
    /// ARM id, lower-case (empty when no source named it).
    pub resource_id: String,
    /// Its configurations.
    pub periods: Vec<Period>,
}

/// One configuration and the period it was in force.
#[derive(Debug, Clone, Serialize)]
pub struct Period {
    /// When it took effect (RFC 3339); `None` for the beginning.
    pub from: Option<String>,
    /// When the next took effect; `None` while it is in force.
    pub until: Option<String>,
    /// The file it came from.
    pub source: String,
    /// The history record it was rebuilt from, when not a snapshot file.
    pub origin: Option<String>,
    /// Why the configuration is not known in this period, when it is not.
    pub unknown: Option<String>,
    /// `publicNetworkAccess`.
    pub public_network_access: Option<&'static str>,
    /// `networkRuleSet.defaultAction`.
    pub default_action: Option<&'static str>,
    /// `networkRuleSet.ipRules`.
    pub ip_rules: Vec<String>,
    /// `networkRuleBypassOptions`.
    pub bypass: Option<&'static str>,
    /// `networkRuleBypassAllowedForTasks`, when known and set.
    pub tasks_bypass: Option<bool>,
    /// Private endpoints connected (names).
    pub private_endpoints: Vec<String>,
    /// What differs from the last known configuration before it.
    pub changed: Vec<String>,
}

/// A registry configuration and what differs from the last known configuration before it:
/// `None` when there is none, or when this one is not known.
pub type Changed<'t> = (&'t RegistryConfig, Option<Vec<String>>);

/// Every registry's configurations, registry by registry in the order they were first named,
/// each oldest first, with what changed: the one account of changes that `topology`, the SQL
/// table `registries` and the report show.
pub fn configurations(topology: &Topology) -> Vec<Vec<Changed<'_>>> {
    let mut seen: Vec<&str> = Vec::new();
    for r in topology.registries() {
        if !seen.contains(&r.login_server.as_str()) {
            seen.push(&r.login_server);
        }
    }
    seen.into_iter()
        .map(|login| {
            let mut last_known: Option<&RegistryConfig> = None;
            topology
                .registry_timeline(login)
                .into_iter()
                .map(|c| {
                    let changed = match (c.unknown.is_none(), last_known) {
                        (true, Some(before)) => Some(changes(before, c)),
                        _ => None,
                    };
                    if c.unknown.is_none() {
                        last_known = Some(c);
                    }
                    (c, changed)
                })
                .collect()
        })
        .collect()
}

/// The timeline of every registry in the topology, in the order they were first named, or of
/// the one `only` names (login server or resource id).
pub fn timelines(topology: &Topology, only: Option<&str>) -> Vec<RegistryTimeline> {
    configurations(topology)
        .iter()
        .map(|configs| timeline(configs))
        .filter(|t| {
            only.is_none_or(|o| {
                let o = o.to_ascii_lowercase();
                t.login_server == o || t.resource_id == o
            })
        })
        .collect()
}

fn timeline(configs: &[Changed<'_>]) -> RegistryTimeline {
    let mut periods = Vec::with_capacity(configs.len());
    for (i, (c, changed)) in configs.iter().enumerate() {
        let known = c.unknown.is_none();
        let when = |t: Option<i64>| t.map(format_timestamp_micros);
        periods.push(Period {
            from: when(c.effective_from),
            until: configs.get(i + 1).and_then(|(n, _)| when(n.effective_from)),
            source: c.source.clone(),
            origin: c.origin.clone(),
            unknown: c.unknown.clone(),
            public_network_access: known
                .then(|| switch(c.public_network_access, "Enabled", "Disabled")),
            default_action: known.then(|| switch(c.default_allow, "Allow", "Deny")),
            ip_rules: if known {
                c.ip_rules.iter().map(ToString::to_string).collect()
            } else {
                Vec::new()
            },
            bypass: known.then(|| switch(c.bypass_azure_services, "AzureServices", "None")),
            tasks_bypass: if known { c.bypass_for_tasks } else { None },
            private_endpoints: c
                .private_endpoints
                .iter()
                .map(|id| last_segment(id))
                .collect(),
            changed: changed.clone().unwrap_or_default(),
        });
    }
    RegistryTimeline {
        login_server: configs
            .first()
            .map(|(c, _)| c.login_server.clone())
            .unwrap_or_default(),
        resource_id: configs
            .iter()
            .map(|(c, _)| c.resource_id.as_str())
            .find(|id| !id.is_empty())
            .unwrap_or_default()
            .to_owned(),
        periods,
    }
}

fn switch<'a>(on: bool, yes: &'a str, no: &'a str) -> &'a str {
    if on { yes } else { no }
}

fn last_segment(id: &str) -> String {
    id.rsplit('/').next().unwrap_or(id).to_owned()
}

/// What differs between two configurations, one phrase per setting.
pub fn changes(before: &RegistryConfig, after: &RegistryConfig) -> Vec<String> {
    let mut out = Vec::new();
    let mut flag = |name: &str, a: bool, b: bool, (yes, no): (&str, &str)| {
        if a != b {
            out.push(format!(
                "{name} {} → {}",
                switch(a, yes, no),
                switch(b, yes, no)
            ));
        }
    };
    flag(
        "publicNetworkAccess",
        before.public_network_access,
        after.public_network_access,
        ("Enabled", "Disabled"),
    );
    flag(
        "defaultAction",
        before.default_allow,
        after.default_allow,
        ("Allow", "Deny"),
    );
    flag(
        "bypass",
        before.bypass_azure_services,
        after.bypass_azure_services,
        ("AzureServices", "None"),
    );
    if before.bypass_for_tasks != after.bypass_for_tasks {
        let show = |v: Option<bool>| v.map_or("unset".to_owned(), |b| b.to_string());
        out.push(format!(
            "networkRuleBypassAllowedForTasks {} → {}",
            show(before.bypass_for_tasks),
            show(after.bypass_for_tasks)
        ));
    }
    let listed = |verb: &str, items: Vec<String>, out: &mut Vec<String>| {
        if !items.is_empty() {
            out.push(format!("{verb} {}", items.join(", ")));
        }
    };
    let (added, removed) = difference(&before.ip_rules, &after.ip_rules);
    listed("IP rules added:", added, &mut out);
    listed("IP rules removed:", removed, &mut out);
    let (added, removed) = difference(&before.private_endpoints, &after.private_endpoints);
    let names = |ids: Vec<String>| ids.iter().map(|id| last_segment(id)).collect();
    listed("private endpoints connected:", names(added), &mut out);
    listed("private endpoints removed:", names(removed), &mut out);
    out
}

/// What `after` has that `before` lacks, and the other way round.
fn difference<T: PartialEq + ToString>(before: &[T], after: &[T]) -> (Vec<String>, Vec<String>) {
    let only = |a: &[T], b: &[T]| {
        a.iter()
            .filter(|x| !b.contains(x))
            .map(ToString::to_string)
            .collect()
    };
    (only(after, before), only(before, after))
}

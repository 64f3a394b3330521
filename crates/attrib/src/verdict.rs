//! The access-path decision table (see the README), applied to one request: its caller's facts as of
//! its time, the registry's configuration in force, and its status. Every verdict carries one
//! sentence that names the prefix, tag version and rule that decided it.

use std::borrow::Cow;

use acrlens_netmap::{ConfigAt, IpFacts, PrivateEndpoint, RegistryConfig, ServiceTag};
use acrlens_values::format_timestamp_micros;

/// By which path a request reached the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccessPath {
    /// The caller IP is missing or unparseable.
    Unknown,
    /// A private caller inside a known VNet subnet.
    PrivateEndpoint,
    /// A private caller in no known subnet (peered VNet, on-premises, stale topology).
    PrivateUnmapped,
    /// Refused by the registry's firewall.
    Denied,
    /// Let in by one of the registry's IP rules.
    IpRule,
    /// Let in by the trusted-service bypass.
    TrustedService,
    /// A Microsoft-owned address, with the registry open to all networks (or its rules unknown).
    PublicAzure,
    /// Any other public address, with the registry open to all networks (or its rules unknown).
    PublicInternet,
    /// Let in although the rules deny it and no bypass explains it.
    Unexplained,
}

impl AccessPath {
    /// Every path, in decision order.
    pub const ALL: [AccessPath; 9] = [
        AccessPath::Unknown,
        AccessPath::PrivateEndpoint,
        AccessPath::PrivateUnmapped,
        AccessPath::Denied,
        AccessPath::IpRule,
        AccessPath::TrustedService,
        AccessPath::PublicAzure,
        AccessPath::PublicInternet,
        AccessPath::Unexplained,
    ];

    /// The value of the `access_path` column.
    pub fn name(self) -> &'static str {
        match self {
            AccessPath::Unknown => "unknown",
            AccessPath::PrivateEndpoint => "private_endpoint",
            AccessPath::PrivateUnmapped => "private_unmapped",
            AccessPath::Denied => "denied",
            AccessPath::IpRule => "ip_rule",
            AccessPath::TrustedService => "trusted_service",
            AccessPath::PublicAzure => "public_azure",
            AccessPath::PublicInternet => "public_internet",
            AccessPath::Unexplained => "unexplained",
        }
    }

    /// The path an `access_path` value names.
    pub fn from_name(name: &str) -> Option<AccessPath> {
        AccessPath::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Its colour in every chart and legend: greens for the VNet, blues for the firewall's
    /// exceptions, ambers for the open internet, red for what nothing explains.
    pub fn colour(self) -> &'static str {
        match self {
            AccessPath::PrivateEndpoint => "#2e7d32",
            AccessPath::PrivateUnmapped => "#81c784",
            AccessPath::TrustedService => "#1565c0",
            AccessPath::IpRule => "#64b5f6",
            AccessPath::PublicAzure => "#f9a825",
            AccessPath::PublicInternet => "#ef6c00",
            AccessPath::Denied => "#9e9e9e",
            AccessPath::Unexplained => "#c62828",
            AccessPath::Unknown => "#bdbdbd",
        }
    }

    /// An `access_path` value's place in decision order (a name that is no path comes last):
    /// tables and charts list paths in this order.
    pub fn order_of(name: &str) -> usize {
        AccessPath::ALL
            .iter()
            .position(|p| p.name() == name)
            .unwrap_or(usize::MAX)
    }

    /// The distinct values among `names`, in decision order.
    pub fn in_order<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        let mut names: Vec<&str> = names.into_iter().collect();
        names.sort_by_key(|n| AccessPath::order_of(n));
        names.dedup();
        names
    }
}

/// A verdict and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The path.
    pub path: AccessPath,
    /// One sentence a human can check.
    pub reason: String,
}

/// ACR Tasks left the trusted-services list on this day (2025-03-08T00:00:00Z, in µs); after it,
/// a Task passes the firewall only with `networkRuleBypassAllowedForTasks`. A constant, not a
/// parse: every attributed event compares its time with it.
pub const TASKS_LEFT_TRUSTED_SERVICES: i64 = 1_741_392_000_000_000;

/// What is known about one request.
pub struct Request<'a, 't> {
    /// The caller as logged (for the reason when it is not an address).
    pub caller_raw: Option<&'a str>,
    /// The caller's facts as of the request's time; `None` when the caller IP is missing or bad.
    pub facts: Option<&'a IpFacts<'t>>,
    /// The registry's login server (or resource id) as logged.
    pub registry: Option<&'a str>,
    /// Its configuration at the request's time.
    pub config: ConfigAt<'t>,
    /// The private endpoint connecting the caller's VNet to the registry, if known.
    pub endpoint: Option<&'t PrivateEndpoint>,
    /// HTTP status.
    pub status: Option<i32>,
    /// Request time, µs.
    pub time: i64,
    /// Whether the caller looks like ACR Tasks.
    pub is_task: bool,
}

fn tag_phrase(tag: Option<&ServiceTag>, facts: &IpFacts<'_>) -> String {
    let version = match facts.snapshot {
        Some(s) if facts.snapshot_is_later => format!(
            "service tags change {}, the earliest supplied, later than the request",
            s.change_number
        ),
        Some(s) => format!("service tags change {}", s.change_number),
        None => "no service tags supplied".to_owned(),
    };
    match tag {
        Some(tag) => match tag.containing(facts.ip) {
            Some(p) => format!("{} is in {} ({p}; {version})", facts.ip, tag.name),
            None => format!("{} is in {} ({version})", facts.ip, tag.name),
        },
        None => format!("{} is in no service tag ({version})", facts.ip),
    }
}

fn config_phrase(config: &RegistryConfig) -> String {
    let file = config.provenance();
    let from = config
        .effective_from
        .map_or("the beginning".to_owned(), format_timestamp_micros);
    format!(
        "registry {} had {} (config {file}, from {from})",
        config.login_server,
        config.describe()
    )
}

/// Applies the decision table.
pub fn decide(r: &Request<'_, '_>) -> Verdict {
    decide_with(r, true)
}

/// The status as far as [`decide_with`] decides by it: the path asks only whether the
/// firewall answered 403, and the sentence names the status only where it opens an
/// `unexplained` one ([`reason_with_status`] writes another request's there). Requests whose
/// statuses share a class get the same verdict, but for that word.
pub fn status_class(status: Option<i32>) -> Option<i32> {
    match status {
        Some(s) if s != 403 => Some(0),
        other => other,
    }
}

/// A status as a sentence names it.
fn status_text(status: Option<i32>) -> String {
    status.map_or("a request".to_owned(), |s| s.to_string())
}

/// The reason (or its opening part) of a verdict on `path`, decided for a request of status
/// `decided`, as a request of status `status` in the same [`status_class`] gets it: the same
/// sentence, but for an `unexplained` one, which opens with the status.
pub fn reason_with_status(
    path: AccessPath,
    reason: &str,
    decided: Option<i32>,
    status: Option<i32>,
) -> Cow<'_, str> {
    if path != AccessPath::Unexplained || decided == status {
        return Cow::Borrowed(reason);
    }
    let opening = format!("{}: ", path.name());
    let rest = reason
        .strip_prefix(&opening)
        .and_then(|rest| rest.strip_prefix(&status_text(decided)));
    match rest {
        Some(rest) => Cow::Owned(format!("{opening}{}{rest}", status_text(status))),
        None => Cow::Borrowed(reason),
    }
}

/// Applies the decision table; with `explain` false the reason is left empty. The path is
/// decided the same way either way: only the sentence, the costly part when most requests come
/// from distinct callers, is skipped for readers that do not show it.
pub fn decide_with(r: &Request<'_, '_>, explain: bool) -> Verdict {
    let Judged { path, head, config } = judge(r, explain);
    let reason = match config {
        Some(config) if explain => head + &config_tail(config),
        _ => head,
    };
    Verdict { path, reason }
}

/// A verdict whose sentence is in two parts: what is particular to the request, and, where the
/// sentence ends by naming the registry's configuration, that configuration: its phrase
/// ([`config_tail`]) is the same for every request judged against it — 150 of the ~250 bytes
/// of a sentence, which a memo of tens of thousands of decisions holds once.
#[derive(Debug, PartialEq)]
pub(crate) struct Judged<'t> {
    pub path: AccessPath,
    /// The sentence up to the configuration's phrase (all of it when `config` is `None`);
    /// empty when not explained.
    pub head: String,
    pub config: Option<&'t RegistryConfig>,
}

/// How a sentence that names `config` ends.
pub(crate) fn config_tail(config: &RegistryConfig) -> String {
    format!("; {}", config_phrase(config))
}

/// [`decide_with`], its sentence in two parts.
pub(crate) fn judge<'t>(r: &Request<'_, 't>, explain: bool) -> Judged<'t> {
    let judged = |path: AccessPath, why: &dyn Fn() -> String, config| Judged {
        path,
        head: if explain {
            format!("{}: {}", path.name(), why())
        } else {
            String::new()
        },
        config,
    };
    let verdict = |path, why: &dyn Fn() -> String| judged(path, why, None);
    let Some(facts) = r.facts else {
        return verdict(AccessPath::Unknown, &|| match r.caller_raw {
            None => "the record has no caller IP".to_owned(),
            Some(raw) => format!("caller {raw:?} is not an IP address"),
        });
    };
    let ip = facts.ip;
    if facts.scope.is_internal() {
        return match facts.subnet {
            Some(subnet) => verdict(AccessPath::PrivateEndpoint, &|| {
                let prefix = subnet
                    .prefixes
                    .iter()
                    .find(|p| p.contains(&ip))
                    .map(|p| p.to_string())
                    .unwrap_or_default();
                let via = match r.endpoint {
                    Some(pe) => format!("private endpoint {}", pe.name),
                    None => "a private endpoint or service endpoint not in the topology".to_owned(),
                };
                format!(
                    "{ip} is in subnet {}/{} ({prefix}); came over the VNet via {via}",
                    subnet.vnet, subnet.name
                )
            }),
            None => verdict(AccessPath::PrivateUnmapped, &|| {
                format!(
                    "{ip} is a {} address in no known subnet (peered VNet, on-premises, or stale topology)",
                    facts.scope.name()
                )
            }),
        };
    }
    let status = || status_text(r.status);
    let azure = || {
        if facts.is_azure() {
            AccessPath::PublicAzure
        } else {
            AccessPath::PublicInternet
        }
    };
    let config = match r.config {
        ConfigAt::InForce(c) => c,
        ConfigAt::NotYet(c) => {
            return verdict(azure(), &|| {
                let from = c
                    .effective_from
                    .map(format_timestamp_micros)
                    .unwrap_or_default();
                format!(
                    "{}; no configuration of {} in force yet (the first is from {from})",
                    tag_phrase(facts.service_tag(), facts),
                    c.login_server
                )
            });
        }
        ConfigAt::NotKnown(c) => {
            return verdict(azure(), &|| {
                let from = c
                    .effective_from
                    .map_or("the beginning".to_owned(), format_timestamp_micros);
                format!(
                    "{}; configuration of {} not known from {from} ({}): {}",
                    tag_phrase(facts.service_tag(), facts),
                    c.login_server,
                    c.provenance(),
                    c.unknown.as_deref().unwrap_or_default()
                )
            });
        }
        ConfigAt::Unknown => {
            let registry = r.registry.unwrap_or("(no registry in the record)");
            return verdict(azure(), &|| {
                format!(
                    "{}; configuration of {registry} not supplied",
                    tag_phrase(facts.service_tag(), facts)
                )
            });
        }
    };
    let rule = config.allows_public(ip);
    let allowed = config.open_to_all() || rule.is_some();
    // From here on every sentence ends by naming the configuration.
    let verdict = |path, why: &dyn Fn() -> String| judged(path, why, Some(config));
    if r.status == Some(403) && !allowed {
        return verdict(AccessPath::Denied, &|| {
            format!("403 from {ip}, which the rules do not allow")
        });
    }
    if let Some(rule) = rule {
        return verdict(AccessPath::IpRule, &|| {
            format!("{ip} matches IP rule {rule}")
        });
    }
    if config.open_to_all() {
        return verdict(azure(), &|| tag_phrase(facts.service_tag(), facts));
    }
    // The rules deny this address, yet it got an answer other than the firewall's 403.
    if !facts.is_azure() {
        return verdict(AccessPath::Unexplained, &|| {
            format!(
                "{} from {ip}, which the rules deny and no bypass explains: {}",
                status(),
                tag_phrase(None, facts),
            )
        });
    }
    let tag = facts.service().or(facts.service_tag());
    if !config.bypass_azure_services {
        return verdict(AccessPath::Unexplained, &|| {
            format!(
                "{} from {}; the trusted-service bypass is off",
                status(),
                tag_phrase(tag, facts),
            )
        });
    }
    if r.is_task && r.time >= TASKS_LEFT_TRUSTED_SERVICES && config.bypass_for_tasks != Some(true) {
        return verdict(AccessPath::Unexplained, &|| {
            format!(
                "{} from {}, an ACR Task, which since 2025-03-08 passes the firewall only with networkRuleBypassAllowedForTasks",
                status(),
                tag_phrase(tag, facts),
            )
        });
    }
    verdict(AccessPath::TrustedService, &|| tag_phrase(tag, facts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_share_a_class_but_for_403_and_none() {
        assert_eq!(status_class(Some(200)), status_class(Some(404)));
        assert_ne!(status_class(Some(200)), status_class(Some(403)));
        assert_ne!(status_class(Some(200)), status_class(None));
    }

    #[test]
    fn the_tasks_change_is_the_start_of_2025_03_08_utc() {
        assert_eq!(
            acrlens_values::parse_timestamp_micros("2025-03-08T00:00:00Z"),
            Some(TASKS_LEFT_TRUSTED_SERVICES)
        );
    }
}

//! Replays requests one by one: today's verdict against the configuration in force, the
//! proposal's against that configuration changed as proposed, and the tallies of both.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

use acrlens_attrib::{AccessPath, CallerKind, Request, decide_with, replay};
use acrlens_netmap::{IpFacts, Proposal, RegistryConfig, Topology, config_in, in_force_index};
use acrlens_values::format_timestamp_micros;

use crate::WhatIfError;
use crate::model::{
    CallerChange, ConfigurationChange, EndpointView, PathChange, Period, ProposalView, SCHEMA,
    Summary, TOP_CALLERS, WhatIf,
};

/// What the proposal replaces the configurations in force with.
pub struct Target {
    /// The registry, by name (`contoso`) or login server.
    pub registry: String,
    /// `--set` changes (applied after `registry_config`, if any).
    pub proposal: Proposal,
    /// A whole configuration that replaces every one in force (`--registry-config`; its
    /// `source` names the file).
    pub registry_config: Option<RegistryConfig>,
}

/// One request, as read from the events.
pub struct Row<'a> {
    /// Time, µs.
    pub time: i64,
    /// The caller address (canonical), if usable.
    pub caller_ip: Option<&'a str>,
    /// The caller as logged.
    pub caller_raw: Option<&'a str>,
    /// HTTP status.
    pub status: Option<i32>,
    /// Identity.
    pub identity: Option<&'a str>,
    /// Caller kind.
    pub caller_kind: &'a str,
}

#[derive(PartialEq, Eq, Hash)]
struct CallerKey {
    caller_ip: String,
    identity: Option<String>,
    caller_kind: String,
    proposed: AccessPath,
}

struct CallerTally {
    today: BTreeSet<AccessPath>,
    service_tag: Option<String>,
    requests: u64,
    first: i64,
    last: i64,
}

/// A proposed private endpoint: the subnets of the VNets it serves.
struct Endpoint {
    view: EndpointView,
    subnets: HashSet<String>,
}

/// Replays requests to one registry and tallies what would change.
pub struct Replayer<'t> {
    topology: &'t Topology,
    login_server: String,
    timeline: Vec<&'t RegistryConfig>,
    /// The proposal in place of each configuration of the timeline.
    proposed: Vec<RegistryConfig>,
    endpoints: Vec<Endpoint>,
    facts: HashMap<(IpAddr, usize, bool), IpFacts<'t>>,
    paths: BTreeMap<(AccessPath, AccessPath), u64>,
    per_config: Vec<u64>,
    callers: HashMap<CallerKey, CallerTally>,
    requests: u64,
    not_judged: u64,
    first: Option<i64>,
    last: Option<i64>,
    settings: Vec<String>,
    registry_config: Option<String>,
}

impl<'t> Replayer<'t> {
    /// Checks the target against the topology and prepares the proposed configurations.
    pub fn new(topology: &'t Topology, target: &Target) -> Result<Replayer<'t>, WhatIfError> {
        let login_server = acrlens_netmap::login_server(&target.registry);
        let timeline = topology.registry_timeline(&login_server);
        if timeline.is_empty() {
            return Err(WhatIfError::NoConfiguration(login_server));
        }
        if let Some(base) = &target.registry_config
            && base.login_server != login_server
        {
            return Err(WhatIfError::OtherRegistry {
                file: base.source.clone(),
                found: base.login_server.clone(),
                registry: login_server,
            });
        }
        for rule in target.proposal.removed_rules() {
            let known = timeline
                .iter()
                .copied()
                .chain(target.registry_config.as_ref())
                .any(|c| c.ip_rules.contains(rule));
            if !known {
                return Err(WhatIfError::UnknownRule {
                    rule: rule.to_string(),
                    registry: login_server,
                });
            }
        }
        let proposed = timeline
            .iter()
            .map(|met| {
                let base = target.registry_config.as_ref().unwrap_or(met);
                target.proposal.apply(base).map_err(WhatIfError::Proposal)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let endpoints = target
            .proposal
            .endpoint_subnets()
            .map(|subnet_id| endpoint(topology, subnet_id))
            .collect();
        Ok(Replayer {
            topology,
            per_config: vec![0; timeline.len()],
            login_server,
            timeline,
            proposed,
            endpoints,
            facts: HashMap::new(),
            paths: BTreeMap::new(),
            callers: HashMap::new(),
            requests: 0,
            not_judged: 0,
            first: None,
            last: None,
            settings: target.proposal.settings.clone(),
            registry_config: target.registry_config.as_ref().map(|c| c.source.clone()),
        })
    }

    /// The registry's login server.
    pub fn login_server(&self) -> &str {
        &self.login_server
    }

    /// The registry's ARM id, when a configuration names it.
    pub fn resource_id(&self) -> Option<&str> {
        self.timeline
            .iter()
            .map(|c| c.resource_id.as_str())
            .find(|id| !id.is_empty())
    }

    /// Forgets the address facts looked up so far: called between batches, so memory follows
    /// the callers of a batch, not of the whole period.
    pub fn end_batch(&mut self) {
        self.facts.clear();
    }

    /// Replays one request.
    pub fn push(&mut self, row: &Row<'_>) {
        self.requests += 1;
        self.first = Some(self.first.map_or(row.time, |t| t.min(row.time)));
        self.last = Some(self.last.map_or(row.time, |t| t.max(row.time)));
        let Some(at) = in_force_index(&self.timeline, row.time) else {
            self.not_judged += 1;
            return;
        };
        if self.proposed[at].unknown.is_some() {
            // The history does not say what the configuration was: nothing to compare with.
            self.not_judged += 1;
            return;
        }
        let met = self.timeline[at];
        let config = config_in(&self.timeline, Some(at));
        self.per_config[at] += 1;
        let topology = self.topology;
        let facts = row
            .caller_ip
            .and_then(|ip| ip.parse::<IpAddr>().ok())
            .map(|ip| {
                let (snapshot, later) = topology.snapshot_at(row.time);
                &*self
                    .facts
                    .entry((ip, snapshot, later))
                    .or_insert_with(|| topology.facts(ip, row.time))
            });
        if let Some(subnet) = facts.and_then(|f| f.subnet) {
            for e in &mut self.endpoints {
                if e.subnets.contains(&subnet.id) {
                    e.view.requests_from_served_vnets += 1;
                }
            }
        }
        let request = Request {
            caller_raw: row.caller_raw,
            facts,
            registry: Some(&self.login_server),
            config,
            endpoint: None,
            status: row.status,
            time: row.time,
            is_task: row.caller_kind == CallerKind::AcrTasks.name(),
        };
        let today = decide_with(&request, false).path;
        let proposed = replay(&request, today, met, &self.proposed[at], row.caller_kind);
        *self.paths.entry((today, proposed)).or_default() += 1;
        let denied = |p: AccessPath| p == AccessPath::Denied;
        if denied(today) == denied(proposed) {
            return;
        }
        let key = CallerKey {
            caller_ip: row.caller_ip.or(row.caller_raw).unwrap_or("").to_owned(),
            identity: row.identity.map(str::to_owned),
            caller_kind: row.caller_kind.to_owned(),
            proposed,
        };
        let tally = self.callers.entry(key).or_insert_with(|| CallerTally {
            today: BTreeSet::new(),
            service_tag: facts.and_then(|f| f.service_tag()).map(|t| t.name.clone()),
            requests: 0,
            first: row.time,
            last: row.time,
        });
        tally.today.insert(today);
        tally.requests += 1;
        tally.first = tally.first.min(row.time);
        tally.last = tally.last.max(row.time);
    }

    /// The outcome, for the window asked for (µs; `None` for open ends).
    pub fn finish(self, since: Option<i64>, until: Option<i64>) -> WhatIf {
        let mut summary = Summary {
            requests_changing_path: self
                .paths
                .iter()
                .filter(|((today, proposed), _)| today != proposed)
                .map(|(_, n)| n)
                .sum(),
            ..Summary::default()
        };
        let (mut cut_off, mut newly_allowed) = (Vec::new(), Vec::new());
        for (key, tally) in self.callers {
            let change = CallerChange {
                caller_ip: key.caller_ip,
                identity: key.identity,
                caller_kind: key.caller_kind,
                service_tag: tally.service_tag,
                today: tally.today.iter().map(|p| p.name().to_owned()).collect(),
                proposed: key.proposed.name().to_owned(),
                requests: tally.requests,
                first_seen: format_timestamp_micros(tally.first),
                last_seen: format_timestamp_micros(tally.last),
            };
            if key.proposed == AccessPath::Denied {
                summary.requests_cut_off += change.requests;
                summary.callers_cut_off += 1;
                cut_off.push(change);
            } else {
                summary.requests_newly_allowed += change.requests;
                summary.callers_newly_allowed += 1;
                newly_allowed.push(change);
            }
        }
        for list in [&mut cut_off, &mut newly_allowed] {
            list.sort_by(|a, b| {
                (b.requests, &a.caller_ip, &a.identity, &a.caller_kind).cmp(&(
                    a.requests,
                    &b.caller_ip,
                    &b.identity,
                    &b.caller_kind,
                ))
            });
            list.truncate(TOP_CALLERS);
        }
        let configurations = self
            .timeline
            .iter()
            .zip(&self.proposed)
            .zip(&self.per_config)
            .filter(|(_, n)| **n > 0)
            .map(|((met, proposed), n)| ConfigurationChange {
                from: met.effective_from.map(format_timestamp_micros),
                source: met.source.clone(),
                today: met.describe(),
                proposed: proposed.describe(),
                requests: *n,
            })
            .collect();
        WhatIf {
            schema: SCHEMA,
            registry: self.login_server,
            period: Period {
                from: since.or(self.first).map(format_timestamp_micros),
                to: until.or(self.last).map(format_timestamp_micros),
            },
            proposal: ProposalView {
                settings: self.settings,
                registry_config: self.registry_config,
                configurations,
                private_endpoints: self.endpoints.into_iter().map(|e| e.view).collect(),
            },
            requests: self.requests,
            not_judged: self.not_judged,
            cut_off,
            newly_allowed,
            paths: self
                .paths
                .into_iter()
                .map(|((today, proposed), requests)| PathChange {
                    today: today.name().to_owned(),
                    proposed: proposed.name().to_owned(),
                    requests,
                })
                .collect(),
            summary,
        }
    }
}

/// A proposed endpoint in a subnet (checked to exist when the proposal was parsed).
fn endpoint(topology: &Topology, subnet_id: &str) -> Endpoint {
    let reached = topology.vnets_reached_from(subnet_id);
    let subnet = topology
        .subnets()
        .iter()
        .find(|s| s.id == subnet_id)
        .map_or(subnet_id.to_owned(), |s| format!("{}/{}", s.vnet, s.name));
    Endpoint {
        view: EndpointView {
            subnet,
            vnets: reached.iter().map(|v| v.name.clone()).collect(),
            requests_from_served_vnets: 0,
        },
        subnets: reached
            .iter()
            .flat_map(|v| v.subnets.iter().map(|s| s.id.clone()))
            .collect(),
    }
}

//! What a replay found, independent of how it is rendered; serialized as the JSON output
//! (schema `acrlens.whatif/v1`: fields are only ever added within v1).

pub use acrlens_report::Period;
use serde::Serialize;

/// The version of the JSON output's shape.
pub const SCHEMA: &str = "acrlens.whatif/v1";

/// How many callers each list shows (the busiest); the summary counts them all.
pub const TOP_CALLERS: usize = 100;

/// The outcome of replaying a registry's requests against a proposal.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WhatIf {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The registry's login server.
    pub registry: String,
    /// The period replayed: the window asked for, else the first and last request.
    pub period: Period,
    /// What was proposed.
    pub proposal: ProposalView,
    /// Requests to the registry in the period.
    pub requests: u64,
    /// Requests made while no configuration of the registry was in force: the firewall's
    /// decision then is not known, so nothing can be replayed against it.
    pub not_judged: u64,
    /// Callers let in today whom the proposal would deny, busiest first.
    pub cut_off: Vec<CallerChange>,
    /// Callers denied today whom the proposal would let in, busiest first.
    pub newly_allowed: Vec<CallerChange>,
    /// Requests per access path today and under the proposal, in decision-table order.
    pub paths: Vec<PathChange>,
    /// The totals.
    pub summary: Summary,
}

/// The proposal as replayed.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ProposalView {
    /// The `--set` settings, in order.
    pub settings: Vec<String>,
    /// The configuration file that replaced the ones in force (`--registry-config`), if any.
    pub registry_config: Option<String>,
    /// Each configuration in force during the period and what the proposal makes of it.
    pub configurations: Vec<ConfigurationChange>,
    /// Private endpoints the proposal adds.
    pub private_endpoints: Vec<EndpointView>,
}

/// One configuration in force, today and proposed.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConfigurationChange {
    /// From when it was in force (RFC 3339); `None` for the beginning.
    pub from: Option<String>,
    /// The file it came from.
    pub source: String,
    /// Its settings (`publicNetworkAccess=…, defaultAction=…, N IP rules, bypass=…`).
    pub today: String,
    /// The settings proposed in its place.
    pub proposed: String,
    /// Requests made while it was in force.
    pub requests: u64,
}

/// A private endpoint the proposal adds.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EndpointView {
    /// The subnet it sits in (`vnet/subnet`).
    pub subnet: String,
    /// The VNets it serves: its own and those peered with it.
    pub vnets: Vec<String>,
    /// Requests in the period from callers in those VNets (they come privately either way).
    pub requests_from_served_vnets: u64,
}

/// One caller whose outcome would change.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CallerChange {
    /// The caller address.
    pub caller_ip: String,
    /// The identity, when logged.
    pub identity: Option<String>,
    /// The caller kind (a best guess).
    pub caller_kind: String,
    /// The most specific service tag holding the address, if any.
    pub service_tag: Option<String>,
    /// The paths its requests took today, in decision-table order.
    pub today: Vec<String>,
    /// The path they would take under the proposal.
    pub proposed: String,
    /// Its requests in the period.
    pub requests: u64,
    /// First request (RFC 3339).
    pub first_seen: String,
    /// Last request (RFC 3339).
    pub last_seen: String,
}

/// Requests that took one path today and would take another (or the same) under the proposal.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PathChange {
    /// Today's path.
    pub today: String,
    /// The proposal's.
    pub proposed: String,
    /// Requests.
    pub requests: u64,
}

/// The totals.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Summary {
    /// Requests let in today that the proposal would deny.
    pub requests_cut_off: u64,
    /// Requests denied today that the proposal would let in.
    pub requests_newly_allowed: u64,
    /// Distinct callers cut off (address, identity and kind).
    pub callers_cut_off: u64,
    /// Distinct callers newly let in (address, identity, kind and the path they would take).
    pub callers_newly_allowed: u64,
    /// Requests that would take another path (whether or not they get in).
    pub requests_changing_path: u64,
}

impl WhatIf {
    /// Whether anybody let in today would be cut off: the exit code's question.
    pub fn cuts_off_anyone(&self) -> bool {
        self.summary.requests_cut_off > 0
    }
}

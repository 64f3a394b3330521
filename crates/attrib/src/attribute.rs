//! Batch in, batch out: the canonical columns plus the attribution columns. Facts are looked up
//! once per distinct (caller, service-tag snapshot) in a batch, configurations once per distinct
//! registry, and verdicts once per distinct combination of the inputs they depend on.

use std::net::IpAddr;
use std::sync::Arc;

use acrlens_events::col as ev;
use acrlens_netmap::{ConfigAt, IpFacts, PrivateEndpoint, RegistryConfig, Topology, config_at};
use acrlens_values::format_timestamp_micros;
use arrow_array::builder::{Int64Builder, ListBuilder, StringBuilder};
use arrow_array::{
    Array, ArrayRef, Int32Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};

use crate::kind::{agent_kind, caller_kind, with_identity};
use crate::schema::attributed_schema;
use crate::verdict::{AccessPath, Request, Verdict, decide, tasks_left_trusted_services};

type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Why a batch could not be attributed: it is not of the canonical schema.
#[derive(Debug, thiserror::Error)]
pub enum AttribError {
    /// A canonical column is missing or of the wrong type.
    #[error("column {0} is missing or not of the canonical type")]
    Column(&'static str),
    /// Arrow refused the result.
    #[error(transparent)]
    Arrow(#[from] arrow_schema::ArrowError),
}

fn column<'b, T: 'static>(
    batch: &'b RecordBatch,
    name: &'static str,
) -> Result<&'b T, AttribError> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or(AttribError::Column(name))
}

fn text_at(a: &StringArray, i: usize) -> Option<&str> {
    a.is_valid(i).then(|| a.value(i))
}

/// Adds attribution to event batches against one topology.
pub struct Attributor<'t> {
    topology: &'t Topology,
}

/// The attribution of one request, before it is written into columns.
#[derive(Debug, Clone)]
pub struct Attribution<'t> {
    /// The caller's facts (none without a usable caller IP).
    pub facts: Option<IpFacts<'t>>,
    /// The registry configuration in force.
    pub config: ConfigAt<'t>,
    /// The private endpoint the request came through, if any.
    pub endpoint: Option<&'t PrivateEndpoint>,
    /// The caller kind.
    pub caller_kind: &'static str,
    /// The verdict.
    pub verdict: Verdict,
}

/// What a row is, for the `ip_scope` column when there are no facts.
fn scope_name(facts: Option<&IpFacts<'_>>, raw: Option<&str>) -> &'static str {
    match (facts, raw) {
        (Some(f), _) => f.scope.name(),
        (None, Some(_)) => "invalid",
        (None, None) => "missing",
    }
}

/// The `config_version` column: the effective time of the configuration in force, `initial`
/// for one in force from the beginning.
fn config_version(config: ConfigAt<'_>) -> Option<String> {
    match config {
        ConfigAt::InForce(c) => Some(
            c.effective_from
                .map_or("initial".to_owned(), format_timestamp_micros),
        ),
        _ => None,
    }
}

/// Identifies a configuration snapshot within a batch (its address; 0 when there is none).
fn config_key(config: ConfigAt<'_>) -> (u8, usize) {
    match config {
        ConfigAt::InForce(c) => (1, c as *const RegistryConfig as usize),
        ConfigAt::NotYet(c) => (2, c as *const RegistryConfig as usize),
        ConfigAt::Unknown => (0, 0),
    }
}

/// The request-independent inputs of a verdict: the same key always gives the same verdict.
type VerdictKey<'b> = (
    Option<usize>,
    Option<&'b str>,
    Option<&'b str>,
    (u8, usize),
    Option<i32>,
    bool,
    bool,
);

impl<'t> Attributor<'t> {
    /// An attributor over a compiled topology.
    pub fn new(topology: &'t Topology) -> Self {
        Attributor { topology }
    }

    /// Attributes one hypothetical or logged request.
    #[allow(clippy::too_many_arguments)]
    pub fn attribute_one(
        &self,
        ip: Option<IpAddr>,
        caller_raw: Option<&str>,
        registry: Option<&str>,
        time: i64,
        status: Option<i32>,
        user_agent: Option<&str>,
        identity: Option<&str>,
    ) -> Attribution<'t> {
        let facts = ip.map(|ip| self.topology.facts(ip, time));
        let timeline = registry
            .map(|r| self.topology.registry_timeline(r))
            .unwrap_or_default();
        let config = config_at(&timeline, time);
        let endpoint = self.endpoint(facts.as_ref(), config);
        let caller_kind = caller_kind(facts.as_ref(), user_agent, identity);
        let verdict = decide(&Request {
            caller_raw,
            facts: facts.as_ref(),
            registry,
            config,
            endpoint,
            status,
            time,
            is_task: caller_kind == "acr_tasks",
        });
        Attribution {
            facts,
            config,
            endpoint,
            caller_kind,
            verdict,
        }
    }

    fn endpoint(
        &self,
        facts: Option<&IpFacts<'t>>,
        config: ConfigAt<'t>,
    ) -> Option<&'t PrivateEndpoint> {
        match (facts.and_then(|f| f.subnet), config) {
            (Some(subnet), ConfigAt::InForce(c) | ConfigAt::NotYet(c)) => {
                self.topology.endpoint_for(subnet, c)
            }
            _ => None,
        }
    }

    /// The batch with the attribution columns appended.
    pub fn attribute(&self, batch: &RecordBatch) -> Result<RecordBatch, AttribError> {
        let times = column::<TimestampMicrosecondArray>(batch, ev::TIME)?;
        let ips = column::<StringArray>(batch, ev::CALLER_IP)?;
        let raws = column::<StringArray>(batch, ev::CALLER_IP_RAW)?;
        let registries = column::<StringArray>(batch, ev::REGISTRY)?;
        let resource_ids = column::<StringArray>(batch, ev::RESOURCE_ID)?;
        let statuses = column::<Int32Array>(batch, ev::STATUS)?;
        let agents = column::<StringArray>(batch, ev::USER_AGENT)?;
        let identities = column::<StringArray>(batch, ev::IDENTITY)?;

        // Everything below is computed once per distinct input in the batch.
        let mut timelines: HashMap<&str, Vec<&'t RegistryConfig>> = HashMap::default();
        let mut fact_ids: HashMap<(&str, usize, bool), Option<usize>> = HashMap::default();
        let mut facts: Vec<IpFacts<'t>> = Vec::new();
        let mut verdict_ids: HashMap<VerdictKey<'_>, usize> = HashMap::default();
        let mut agent_kinds: HashMap<(Option<usize>, Option<&str>), &'static str> =
            HashMap::default();
        let mut config_versions: HashMap<(u8, usize), Option<String>> = HashMap::default();
        let mut verdicts: Vec<(Verdict, Option<&'t PrivateEndpoint>)> = Vec::new();
        let mut out = Columns::with_capacity(batch.num_rows());
        for row in 0..batch.num_rows() {
            let time = times.value(row);
            let raw = text_at(raws, row);
            let registry = text_at(registries, row).or_else(|| text_at(resource_ids, row));
            let timeline = timelines
                .entry(registry.unwrap_or(""))
                .or_insert_with(|| self.topology.registry_timeline(registry.unwrap_or("")));
            let config = config_at(timeline, time);
            let fact = text_at(ips, row).and_then(|ip| {
                let (snapshot, later) = self.topology.snapshot_at(time);
                *fact_ids.entry((ip, snapshot, later)).or_insert_with(|| {
                    let addr = ip.parse::<IpAddr>().ok()?;
                    facts.push(self.topology.facts(addr, time));
                    Some(facts.len() - 1)
                })
            });
            let f = fact.map(|i| &facts[i]);
            let agent = text_at(agents, row);
            let kind = *agent_kinds
                .entry((fact, agent))
                .or_insert_with(|| agent_kind(f, agent));
            let kind = with_identity(kind, text_at(identities, row));
            let status = statuses.is_valid(row).then(|| statuses.value(row));
            let before_tasks_change = time < tasks_left_trusted_services();
            let key = (
                fact,
                raw.filter(|_| fact.is_none()),
                registry,
                config_key(config),
                status,
                kind == "acr_tasks",
                before_tasks_change,
            );
            let v = *verdict_ids.entry(key).or_insert_with(|| {
                let endpoint = self.endpoint(f, config);
                let verdict = decide(&Request {
                    caller_raw: raw,
                    facts: f,
                    registry,
                    config,
                    endpoint,
                    status,
                    time,
                    is_task: kind == "acr_tasks",
                });
                verdicts.push((verdict, endpoint));
                verdicts.len() - 1
            });
            let (verdict, endpoint) = &verdicts[v];
            let version = config_versions
                .entry(config_key(config))
                .or_insert_with(|| config_version(config));
            out.push(f, raw, version.as_deref(), *endpoint, kind, verdict);
        }
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        columns.extend(out.finish());
        Ok(RecordBatch::try_new(attributed_schema(), columns)?)
    }
}

/// The attribution columns under construction.
struct Columns {
    ip_scope: StringBuilder,
    vnet: StringBuilder,
    subnet: StringBuilder,
    private_endpoint: StringBuilder,
    named_range: StringBuilder,
    service_tag: StringBuilder,
    service_tags: ListBuilder<StringBuilder>,
    azure_service: StringBuilder,
    azure_region: StringBuilder,
    tags_version: Int64Builder,
    config_version: StringBuilder,
    country: StringBuilder,
    asn: Int64Builder,
    as_org: StringBuilder,
    caller_kind: StringBuilder,
    access_path: StringBuilder,
    access_reason: StringBuilder,
}

impl Columns {
    fn with_capacity(rows: usize) -> Self {
        let text = || StringBuilder::with_capacity(rows, rows * 8);
        Columns {
            ip_scope: text(),
            vnet: text(),
            subnet: text(),
            private_endpoint: text(),
            named_range: text(),
            service_tag: text(),
            service_tags: ListBuilder::with_capacity(StringBuilder::new(), rows),
            azure_service: text(),
            azure_region: text(),
            tags_version: Int64Builder::with_capacity(rows),
            config_version: text(),
            country: text(),
            asn: Int64Builder::with_capacity(rows),
            as_org: text(),
            caller_kind: text(),
            access_path: text(),
            access_reason: StringBuilder::with_capacity(rows, rows * 120),
        }
    }

    fn push(
        &mut self,
        f: Option<&IpFacts<'_>>,
        raw: Option<&str>,
        config_version: Option<&str>,
        endpoint: Option<&PrivateEndpoint>,
        caller_kind: &str,
        verdict: &Verdict,
    ) {
        self.ip_scope.append_value(scope_name(f, raw));
        let subnet = f.and_then(|f| f.subnet);
        self.vnet.append_option(subnet.map(|s| s.vnet.as_str()));
        self.subnet.append_option(subnet.map(|s| s.name.as_str()));
        self.private_endpoint.append_option(
            endpoint
                .filter(|_| verdict.path == AccessPath::PrivateEndpoint)
                .map(|pe| pe.name.as_str()),
        );
        self.named_range
            .append_option(f.and_then(|f| f.range).map(|r| r.name.as_str()));
        self.service_tag
            .append_option(f.and_then(|f| f.service_tag()).map(|t| t.name.as_str()));
        for tag in f.map(|f| f.tags.as_slice()).unwrap_or_default() {
            self.service_tags.values().append_value(&tag.name);
        }
        self.service_tags.append(true);
        self.azure_service.append_option(
            f.and_then(|f| f.service())
                .map(|t| t.system_service.as_str()),
        );
        self.azure_region.append_option(
            f.and_then(|f| f.tags.iter().find(|t| !t.region.is_empty()))
                .map(|t| t.region.as_str()),
        );
        self.tags_version
            .append_option(f.and_then(|f| f.snapshot).map(|s| s.change_number as i64));
        self.config_version.append_option(config_version);
        self.country
            .append_option(f.and_then(|f| f.geo.country.as_deref()));
        self.asn
            .append_option(f.and_then(|f| f.geo.asn).map(i64::from));
        self.as_org
            .append_option(f.and_then(|f| f.geo.as_org.as_deref()));
        self.caller_kind.append_value(caller_kind);
        self.access_path.append_value(verdict.path.name());
        self.access_reason.append_value(&verdict.reason);
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        vec![
            Arc::new(self.ip_scope.finish()),
            Arc::new(self.vnet.finish()),
            Arc::new(self.subnet.finish()),
            Arc::new(self.private_endpoint.finish()),
            Arc::new(self.named_range.finish()),
            Arc::new(self.service_tag.finish()),
            Arc::new(self.service_tags.finish()),
            Arc::new(self.azure_service.finish()),
            Arc::new(self.azure_region.finish()),
            Arc::new(self.tags_version.finish()),
            Arc::new(self.config_version.finish()),
            Arc::new(self.country.finish()),
            Arc::new(self.asn.finish()),
            Arc::new(self.as_org.finish()),
            Arc::new(self.caller_kind.finish()),
            Arc::new(self.access_path.finish()),
            Arc::new(self.access_reason.finish()),
        ]
    }
}

//! Batch in, batch out: the canonical columns plus the attribution columns. Facts are looked up
//! once per distinct (caller, service-tag snapshot) in a batch, configurations once per distinct
//! registry, and verdicts once per distinct combination of the inputs they depend on.

use std::net::IpAddr;
use std::sync::Arc;

use acrlens_events::{ColumnSet, col as ev, event_schema, placeholder, put};
use acrlens_netmap::{ConfigAt, IpFacts, PrivateEndpoint, RegistryConfig, Topology, config_at};
use acrlens_values::format_timestamp_micros;
use arrow_array::builder::{Int64Builder, ListBuilder, StringBuilder};
use arrow_array::{
    Array, ArrayRef, Int32Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};

use crate::kind::{agent_kind, caller_kind, with_identity};
use crate::schema::{attributed_schema, attribution_fields, col};
use crate::verdict::{
    AccessPath, Request, TASKS_LEFT_TRUSTED_SERVICES, Verdict, decide, decide_with,
};

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

/// The canonical columns attribution reads (and [`Attributor::attribute_columns`] takes).
const INPUTS: [&str; 8] = [
    ev::TIME,
    ev::CALLER_IP,
    ev::CALLER_IP_RAW,
    ev::REGISTRY,
    ev::RESOURCE_ID,
    ev::STATUS,
    ev::USER_AGENT,
    ev::IDENTITY,
];

/// The canonical columns to decode for a read of `columns` of [`attributed_schema`]: those read
/// directly, and those attribution reads when any attribution column is read.
pub fn decode_columns(columns: ColumnSet) -> ColumnSet {
    let schema = event_schema();
    let direct = columns.slice(0, schema.fields().len());
    if attribution_columns(columns).is_empty() {
        return direct;
    }
    let inputs = INPUTS.iter().filter_map(|name| schema.index_of(name).ok());
    direct.union(ColumnSet::of(inputs))
}

/// Whether a set of [`attributed_schema`] columns reads any attribution column: when it does
/// not, attribution needs no topology and writes only placeholders.
pub fn reads_attribution(columns: ColumnSet) -> bool {
    !attribution_columns(columns).is_empty()
}

/// The part of a set of [`attributed_schema`] columns that falls on the attribution columns,
/// numbered from the first of them.
fn attribution_columns(columns: ColumnSet) -> ColumnSet {
    columns.slice(event_schema().fields().len(), attribution_fields().len())
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
        self.attribute_columns(batch, ColumnSet::ALL)
    }

    /// The batch with the attribution columns appended, building only those of `columns`
    /// (positions in [`attributed_schema`]); the others are placeholders. The batch needs the
    /// columns [`decode_columns`] names for the same set.
    pub fn attribute_columns(
        &self,
        batch: &RecordBatch,
        columns: ColumnSet,
    ) -> Result<RecordBatch, AttribError> {
        let wanted = attribution_columns(columns);
        if wanted.is_empty() {
            // Nothing of the attribution is read (a count, a repository listing): skip it.
            let rows = batch.num_rows();
            let mut all: Vec<ArrayRef> = batch.columns().to_vec();
            all.extend(attribution_fields().iter().map(|f| placeholder(f, rows)));
            return Ok(RecordBatch::try_new(attributed_schema(), all)?);
        }
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
        let mut out = Columns::new(batch.num_rows(), wanted);
        let explain = out.access_reason.is_some();
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
            let before_tasks_change = time < TASKS_LEFT_TRUSTED_SERVICES;
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
                let verdict = decide_with(
                    &Request {
                        caller_raw: raw,
                        facts: f,
                        registry,
                        config,
                        endpoint,
                        status,
                        time,
                        is_task: kind == "acr_tasks",
                    },
                    explain,
                );
                verdicts.push((verdict, endpoint));
                verdicts.len() - 1
            });
            let (verdict, endpoint) = &verdicts[v];
            let version = config_versions
                .entry(config_key(config))
                .or_insert_with(|| config_version(config));
            out.push(f, raw, version.as_deref(), *endpoint, kind, verdict);
        }
        let mut all: Vec<ArrayRef> = batch.columns().to_vec();
        all.extend(out.finish(batch.num_rows()));
        Ok(RecordBatch::try_new(attributed_schema(), all)?)
    }
}

/// The attribution columns under construction; `None` for a column nobody reads (the batch
/// then carries a placeholder). Scope, caller kind and path are cheap and always built.
struct Columns {
    ip_scope: StringBuilder,
    vnet: Option<StringBuilder>,
    subnet: Option<StringBuilder>,
    private_endpoint: Option<StringBuilder>,
    named_range: Option<StringBuilder>,
    service_tag: Option<StringBuilder>,
    service_tags: Option<ListBuilder<StringBuilder>>,
    azure_service: Option<StringBuilder>,
    azure_region: Option<StringBuilder>,
    tags_version: Option<Int64Builder>,
    config_version: Option<StringBuilder>,
    country: Option<StringBuilder>,
    asn: Option<Int64Builder>,
    as_org: Option<StringBuilder>,
    caller_kind: StringBuilder,
    access_path: StringBuilder,
    access_reason: Option<StringBuilder>,
}

impl Columns {
    /// Builders for `columns` (positions among the attribution columns).
    fn new(rows: usize, columns: ColumnSet) -> Self {
        let fields = attribution_fields();
        let wanted = |name: &str| {
            fields
                .iter()
                .position(|f| f.name() == name)
                .is_some_and(|i| columns.contains(i))
        };
        let text = |name: &str| wanted(name).then(|| StringBuilder::with_capacity(rows, rows * 8));
        let number = |name: &str| wanted(name).then(|| Int64Builder::with_capacity(rows));
        Columns {
            ip_scope: StringBuilder::with_capacity(rows, rows * 8),
            vnet: text(col::VNET),
            subnet: text(col::SUBNET),
            private_endpoint: text(col::PRIVATE_ENDPOINT),
            named_range: text(col::NAMED_RANGE),
            service_tag: text(col::SERVICE_TAG),
            service_tags: wanted(col::SERVICE_TAGS)
                .then(|| ListBuilder::with_capacity(StringBuilder::new(), rows)),
            azure_service: text(col::AZURE_SERVICE),
            azure_region: text(col::AZURE_REGION),
            tags_version: number(col::TAGS_VERSION),
            config_version: text(col::CONFIG_VERSION),
            country: text(col::COUNTRY),
            asn: number(col::ASN),
            as_org: text(col::AS_ORG),
            caller_kind: StringBuilder::with_capacity(rows, rows * 8),
            access_path: StringBuilder::with_capacity(rows, rows * 8),
            access_reason: wanted(col::ACCESS_REASON)
                .then(|| StringBuilder::with_capacity(rows, rows * 120)),
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
        put(&mut self.vnet, subnet.map(|s| s.vnet.as_str()));
        put(&mut self.subnet, subnet.map(|s| s.name.as_str()));
        put(
            &mut self.private_endpoint,
            endpoint
                .filter(|_| verdict.path == AccessPath::PrivateEndpoint)
                .map(|pe| pe.name.as_str()),
        );
        put(
            &mut self.named_range,
            f.and_then(|f| f.range).map(|r| r.name.as_str()),
        );
        put(
            &mut self.service_tag,
            f.and_then(|f| f.service_tag()).map(|t| t.name.as_str()),
        );
        if let Some(list) = &mut self.service_tags {
            for tag in f.map(|f| f.tags.as_slice()).unwrap_or_default() {
                list.values().append_value(&tag.name);
            }
            list.append(true);
        }
        put(
            &mut self.azure_service,
            f.and_then(|f| f.service())
                .map(|t| t.system_service.as_str()),
        );
        put(
            &mut self.azure_region,
            f.and_then(|f| f.tags.iter().find(|t| !t.region.is_empty()))
                .map(|t| t.region.as_str()),
        );
        put(
            &mut self.tags_version,
            f.and_then(|f| f.snapshot).map(|s| s.change_number as i64),
        );
        put(&mut self.config_version, config_version);
        put(&mut self.country, f.and_then(|f| f.geo.country.as_deref()));
        put(&mut self.asn, f.and_then(|f| f.geo.asn).map(i64::from));
        put(&mut self.as_org, f.and_then(|f| f.geo.as_org.as_deref()));
        self.caller_kind.append_value(caller_kind);
        self.access_path.append_value(verdict.path.name());
        put(&mut self.access_reason, Some(&verdict.reason));
    }

    fn finish(mut self, rows: usize) -> Vec<ArrayRef> {
        fn text(b: Option<StringBuilder>) -> Option<ArrayRef> {
            b.map(|mut b| Arc::new(b.finish()) as ArrayRef)
        }
        fn number(b: Option<Int64Builder>) -> Option<ArrayRef> {
            b.map(|mut b| Arc::new(b.finish()) as ArrayRef)
        }
        let built = [
            Some(Arc::new(self.ip_scope.finish()) as ArrayRef),
            text(self.vnet),
            text(self.subnet),
            text(self.private_endpoint),
            text(self.named_range),
            text(self.service_tag),
            self.service_tags
                .map(|mut b| Arc::new(b.finish()) as ArrayRef),
            text(self.azure_service),
            text(self.azure_region),
            number(self.tags_version),
            text(self.config_version),
            text(self.country),
            number(self.asn),
            text(self.as_org),
            Some(Arc::new(self.caller_kind.finish())),
            Some(Arc::new(self.access_path.finish())),
            text(self.access_reason),
        ];
        built
            .into_iter()
            .zip(attribution_fields())
            .map(|(column, field)| column.unwrap_or_else(|| placeholder(field, rows)))
            .collect()
    }
}

//! Batch in, batch out: the canonical columns plus the attribution columns. Configurations are
//! looked up once per distinct registry in a batch; facts once per distinct (caller,
//! service-tag snapshot), and only when a column of them or the caller kind is read; verdicts
//! once per distinct combination of the inputs they depend on. Facts, agents and verdicts are
//! remembered across batches in the decoding thread's [`VerdictMemo`].

use std::borrow::Cow;
use std::net::IpAddr;

use acrlens_events::{ColumnSet, col as ev, event_schema, placeholder};
use acrlens_netmap::{
    ConfigAt, IpFacts, PrivateEndpoint, RegistryConfig, Topology, config_at, config_in,
    in_force_index,
};
use acrlens_values::format_timestamp_micros;
use arrow_array::{
    Array, ArrayRef, Int32Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};

use crate::callers::Callers;
use crate::columns::Columns;
use crate::kind::{AddressTraits, CallerKind, caller_kind, kind_of, with_identity};
use crate::memo::{Found, Inputs, MemoKey, Remembered, Tails, UNSHOWN, VerdictMemo, address_key};
use crate::schema::{attributed_schema, attribution_fields};
use crate::verdict::{
    AccessPath, Request, TASKS_LEFT_TRUSTED_SERVICES, Verdict, decide, decide_with, judge,
    reason_with_status, status_class,
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

/// The canonical columns attribution reads on every row. It also reads the caller's address,
/// the raw caller text where that is no address and the resource ID where the registry is
/// missing: a decoder with [`DecodeOptions::attribution`](acrlens_events::DecodeOptions) set
/// hands the addresses over as numbers and builds the other two on those rows.
const INPUTS: [&str; 5] = [
    ev::TIME,
    ev::REGISTRY,
    ev::STATUS,
    ev::USER_AGENT,
    ev::IDENTITY,
];

/// The canonical columns to decode for a read of `columns` of [`attributed_schema`]: those read
/// directly, and those attribution reads on every row when any attribution column is read (the
/// decoder's options then set `attribution`, see [`reads_attribution`]).
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
    pub caller_kind: CallerKind,
    /// The verdict.
    pub verdict: Verdict,
}

/// The `config_version` column: the effective time of the configuration in force (`initial`
/// for one in force from the beginning), then where it came from: the snapshot file, or the
/// history record it was rebuilt from.
fn config_version(config: ConfigAt<'_>) -> Option<String> {
    match config {
        ConfigAt::InForce(c) => {
            let from = c
                .effective_from
                .map_or("initial".to_owned(), format_timestamp_micros);
            Some(format!("{from} ({})", c.provenance()))
        }
        _ => None,
    }
}

/// Identifies a configuration snapshot within a batch (its address; 0 when there is none).
fn config_key(config: ConfigAt<'_>) -> (u8, usize) {
    match config {
        ConfigAt::InForce(c) => (1, c as *const RegistryConfig as usize),
        ConfigAt::NotYet(c) => (2, c as *const RegistryConfig as usize),
        ConfigAt::NotKnown(c) => (3, c as *const RegistryConfig as usize),
        ConfigAt::Unknown => (0, 0),
    }
}

/// What a batch has looked up so far: each registry's timeline, each caller text's address
/// (when the decoder did not hand the addresses over), and the verdicts of callers that are not
/// addresses. What is known of callers outlives the batch, in the thread's memo.
#[derive(Default)]
struct Seen<'b, 't> {
    timelines: HashMap<&'b str, (u32, Vec<&'t RegistryConfig>)>,
    addresses: HashMap<&'b str, Option<IpAddr>>,
    unknown: HashMap<Option<&'b str>, usize>,
    verdicts: Vec<Verdict>,
    config_versions: HashMap<(u8, usize), Option<String>>,
}

/// Rows whose inputs are made, and their decisions' slots touched, before any of them is
/// decided: the slots of so many rows stay in the cache until their look-ups.
const CHUNK_ROWS: usize = 256;

/// The columns of a batch a decision depends on.
struct BatchInputs<'b> {
    times: &'b TimestampMicrosecondArray,
    ips: &'b StringArray,
    raws: &'b StringArray,
    registries: &'b StringArray,
    resource_ids: &'b StringArray,
    statuses: &'b Int32Array,
}

/// What a row's decision depends on, made before it is looked up.
#[derive(Clone, Copy)]
struct Prepared<'b, 't> {
    time: i64,
    raw: Option<&'b str>,
    registry: Option<&'b str>,
    config: ConfigAt<'t>,
    /// The service-tag snapshot in force, and whether it took effect after the request.
    snapshot: (usize, bool),
    addr: Option<IpAddr>,
    status: Option<i32>,
    /// The key of its decision in the memo: `None` without an address, or for inputs beyond
    /// what a key holds.
    key: Option<MemoKey>,
}

/// The caller kind of a row whose caller's facts are shown at `shown` (none without an
/// address).
fn row_kind(
    callers: &mut Callers,
    shown: Option<u32>,
    agent: Option<&str>,
    identity: Option<&str>,
) -> CallerKind {
    let address = shown.map_or_else(AddressTraits::default, |p| callers.get(p).traits);
    with_identity(kind_of(address, callers.agent(agent)), identity)
}

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
            is_task: caller_kind == CallerKind::AcrTasks,
        });
        Attribution {
            facts,
            config,
            endpoint,
            caller_kind,
            verdict,
        }
    }

    /// The decision for a request as a caller of any kind would get it, and as ACR Tasks would
    /// where that differs: only a request the trusted-service bypass let in can be decided
    /// otherwise for ACR Tasks (the decision table asks about Tasks last, just before that
    /// verdict), so only then is the second decision made.
    fn remember(&self, request: &Request<'_, 't>, explain: bool, tails: &mut Tails) -> Remembered {
        let plain = judge(request, explain);
        let as_task = (plain.path == AccessPath::TrustedService)
            .then(|| {
                judge(
                    &Request {
                        is_task: true,
                        ..*request
                    },
                    explain,
                )
            })
            .filter(|as_task| *as_task != plain);
        Remembered {
            shown: UNSHOWN,
            status: request.status,
            as_task: as_task.map(|judged| tails.keep(judged)),
            plain: tails.keep(plain),
            endpoint: request.endpoint.and_then(|pe| {
                self.topology
                    .endpoints()
                    .iter()
                    .position(|e| std::ptr::eq(e, pe))
            }),
        }
    }

    fn endpoint(
        &self,
        facts: Option<&IpFacts<'t>>,
        config: ConfigAt<'t>,
    ) -> Option<&'t PrivateEndpoint> {
        match (facts.and_then(|f| f.subnet), config) {
            (Some(subnet), ConfigAt::InForce(c) | ConfigAt::NotYet(c) | ConfigAt::NotKnown(c)) => {
                self.topology.endpoint_for(subnet, c)
            }
            _ => None,
        }
    }

    /// What the decision of `row` depends on, and its key in the memo.
    fn prepare<'b>(
        &self,
        inputs: &BatchInputs<'b>,
        row: usize,
        callers: Option<&[Option<IpAddr>]>,
        seen: &mut Seen<'b, 't>,
        memo: &mut VerdictMemo,
    ) -> Prepared<'b, 't> {
        let time = inputs.times.value(row);
        let raw = text_at(inputs.raws, row);
        let registry =
            text_at(inputs.registries, row).or_else(|| text_at(inputs.resource_ids, row));
        let (registry_id, timeline) =
            seen.timelines
                .entry(registry.unwrap_or(""))
                .or_insert_with(|| {
                    let name = registry.unwrap_or("");
                    (memo.registry(name), self.topology.registry_timeline(name))
                });
        let slot = in_force_index(timeline, time);
        let (snapshot, later) = self.topology.snapshot_at(time);
        let addr = match callers {
            Some(callers) => callers.get(row).copied().flatten(),
            None => text_at(inputs.ips, row).and_then(|ip| {
                *seen
                    .addresses
                    .entry(ip)
                    .or_insert_with(|| ip.parse::<IpAddr>().ok())
            }),
        };
        let status = inputs
            .statuses
            .is_valid(row)
            .then(|| inputs.statuses.value(row));
        let key = addr.and_then(|ip| {
            Inputs {
                address: address_key(ip),
                snapshot,
                later,
                registry: *registry_id,
                slot,
                status: status_class(status),
                before_tasks_change: time < TASKS_LEFT_TRUSTED_SERVICES,
            }
            .key()
        });
        Prepared {
            time,
            raw,
            registry,
            config: config_in(timeline, slot),
            snapshot: (snapshot, later),
            addr,
            status,
            key,
        }
    }

    /// The batch with the attribution columns appended.
    pub fn attribute(&self, batch: &RecordBatch) -> Result<RecordBatch, AttribError> {
        self.attribute_columns(batch, None, ColumnSet::ALL, &mut VerdictMemo::new())
    }

    /// The batch with the attribution columns appended, building only those of `columns`
    /// (positions in [`attributed_schema`]); the others are placeholders. `callers` are the
    /// rows' caller addresses as the decoder parsed them; without them each row's caller text
    /// is parsed. The batch needs the columns [`decode_columns`] names for the same set, and
    /// without `callers` the caller text too. `memo` carries decisions from one batch to the
    /// next (a decoding thread keeps one).
    pub fn attribute_columns(
        &self,
        batch: &RecordBatch,
        callers: Option<&[Option<IpAddr>]>,
        columns: ColumnSet,
        memo: &mut VerdictMemo,
    ) -> Result<RecordBatch, AttribError> {
        let wanted = attribution_columns(columns);
        if wanted.is_empty() {
            // Nothing of the attribution is read (a count, a repository listing): skip it.
            let rows = batch.num_rows();
            let mut all: Vec<ArrayRef> = batch.columns().to_vec();
            all.extend(attribution_fields().iter().map(|f| placeholder(f, rows)));
            return Ok(RecordBatch::try_new(attributed_schema(), all)?);
        }
        let inputs = BatchInputs {
            times: column::<TimestampMicrosecondArray>(batch, ev::TIME)?,
            ips: column::<StringArray>(batch, ev::CALLER_IP)?,
            raws: column::<StringArray>(batch, ev::CALLER_IP_RAW)?,
            registries: column::<StringArray>(batch, ev::REGISTRY)?,
            resource_ids: column::<StringArray>(batch, ev::RESOURCE_ID)?,
            statuses: column::<Int32Array>(batch, ev::STATUS)?,
        };
        let agents = column::<StringArray>(batch, ev::USER_AGENT)?;
        let identities = column::<StringArray>(batch, ev::IDENTITY)?;

        let mut out = Columns::new(batch.num_rows(), wanted);
        let explain = out.explains();
        // What the columns show of a caller is looked up when they show it or the kind (with
        // the decision, when the memo holds one); the decision itself is read only for a column
        // that shows it (a sentence, an endpoint): the memo's table alone says the path.
        let shows_caller = out.reads_facts() || out.reads_kind();
        let reads_decision = explain || out.reads_endpoint();
        memo.serve(self.topology, explain);
        let mut seen = Seen::default();
        let mut prepared = Vec::with_capacity(CHUNK_ROWS);
        for row in 0..batch.num_rows() {
            if row % CHUNK_ROWS == 0 {
                // The inputs of this row and the next ones first, then each decision's slot
                // touched in a loop of its own, so that the misses overlap (a loop that also
                // made the inputs held one or two in flight): the look-ups below find their
                // slots in the cache instead of waiting, row after row, for a miss each (a
                // memo of tens of thousands of decisions is past L2).
                prepared.clear();
                for row in row..batch.num_rows().min(row + CHUNK_ROWS) {
                    prepared.push(self.prepare(&inputs, row, callers, &mut seen, memo));
                }
                memo.touch(prepared.iter().filter_map(|p| p.key));
            }
            let Prepared {
                time,
                raw,
                registry,
                config,
                snapshot,
                addr,
                status,
                key,
            } = prepared[row % CHUNK_ROWS];
            let agent = text_at(agents, row);
            let identity = text_at(identities, row);
            let position =
                |callers: &mut Callers, ip| callers.position(self.topology, ip, snapshot, time);
            let mut shown = None;
            let mut kind = None;
            let unmemoized: Remembered;
            let (path, reason, endpoint) = match addr {
                None => {
                    if out.reads_kind() {
                        kind = Some(row_kind(&mut memo.callers, None, agent, identity));
                    }
                    let i = *seen.unknown.entry(raw).or_insert_with(|| {
                        let request = Request {
                            caller_raw: raw,
                            facts: None,
                            registry,
                            config,
                            endpoint: None,
                            status,
                            time,
                            is_task: false,
                        };
                        seen.verdicts.push(decide_with(&request, explain));
                        seen.verdicts.len() - 1
                    });
                    let verdict = &seen.verdicts[i];
                    let reason = Some((Cow::from(verdict.reason.as_str()), ""));
                    (verdict.path, reason, None)
                }
                Some(ip) => {
                    let decide = |tails: &mut Tails| {
                        let facts = self.topology.facts(ip, time);
                        self.remember(
                            &Request {
                                caller_raw: raw,
                                facts: Some(&facts),
                                registry,
                                config,
                                endpoint: self.endpoint(Some(&facts), config),
                                status,
                                time,
                                is_task: false,
                            },
                            explain,
                            tails,
                        )
                    };
                    let (found, here) = match key {
                        Some(key) => {
                            let found = memo.find(key, decide);
                            if shows_caller {
                                shown = Some(memo.shown(found.index, |c| position(c, ip)));
                            }
                            (found, None)
                        }
                        None => {
                            unmemoized = decide(&mut memo.tails);
                            if shows_caller {
                                shown = Some(position(&mut memo.callers, ip));
                            }
                            (Found::of(u32::MAX, &unmemoized), Some(&unmemoized))
                        }
                    };
                    // The kind, when shown or where ACR Tasks would get another verdict.
                    if out.reads_kind() || found.as_task.is_some() {
                        let at = shown.unwrap_or_else(|| position(&mut memo.callers, ip));
                        kind = Some(row_kind(&mut memo.callers, Some(at), agent, identity));
                    }
                    let as_task = found.as_task.filter(|_| kind == Some(CallerKind::AcrTasks));
                    let (reason, endpoint) = if reads_decision {
                        let remembered = match here {
                            Some(remembered) => remembered,
                            None => memo.get(found.index),
                        };
                        let verdict = remembered
                            .as_task
                            .as_ref()
                            .filter(|_| as_task.is_some())
                            .unwrap_or(&remembered.plain);
                        let endpoint = remembered.endpoint.map(|i| &self.topology.endpoints()[i]);
                        let head = reason_with_status(
                            verdict.path,
                            &verdict.head,
                            remembered.status,
                            status,
                        );
                        (Some((head, verdict.tail())), endpoint)
                    } else {
                        (None, None)
                    };
                    (as_task.unwrap_or(found.plain), reason, endpoint)
                }
            };
            let version = if out.reads_config_version() {
                seen.config_versions
                    .entry(config_key(config))
                    .or_insert_with(|| config_version(config))
                    .as_deref()
            } else {
                None
            };
            out.push(
                shown.map(|p| memo.callers.get(p)),
                raw,
                version,
                endpoint,
                kind.map(CallerKind::name),
                (
                    path,
                    reason.as_ref().map(|(head, tail)| (head.as_ref(), *tail)),
                ),
            );
        }
        let mut all: Vec<ArrayRef> = batch.columns().to_vec();
        all.extend(out.finish(batch.num_rows()));
        Ok(RecordBatch::try_new(attributed_schema(), all)?)
    }
}

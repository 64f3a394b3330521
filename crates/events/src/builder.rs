//! Normalizes [`RawRecord`]s into canonical rows and builds the Arrow batch.
//!
//! Every value quirk of the export shapes is applied here, once, for every input shape: status from
//! `resultDescription`, numbers that arrive as strings, the spellings of "no value", the port on
//! the caller address, lower-case registry and resource ids, a digest carried in `tag`.

use std::net::IpAddr;
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int32Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, Int64Array, RecordBatch, TimestampMicrosecondArray};

use crate::columns::{ColumnSet, placeholder, put, repeated_text};
use crate::dedup::dedup_key;
use crate::fast::FieldSet;
use crate::record::{FieldName as F, RawRecord};
use crate::schema::{category, col, event_schema};
use crate::value::{Loose, NullSpelling};
use crate::widths::{finish_text, text_builder};
use acrlens_values::{parse_caller_ip, parse_timestamp_micros, write_ip};

/// A half-open time window `[since, until)` in µs; records outside are counted, not kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeWindow {
    /// Inclusive lower bound.
    pub since: Option<i64>,
    /// Exclusive upper bound.
    pub until: Option<i64>,
}

impl TimeWindow {
    /// Whether a time falls inside the window.
    pub fn contains(&self, t: i64) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }
}

/// What happened to one record offered to the builder.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Appended as a row.
    Accepted,
    /// Valid, but its time is outside the requested window.
    OutOfWindow,
    /// Not a usable record: the reason, for the quarantine.
    Rejected(String),
}

/// What every record of one input shares.
#[derive(Debug, Clone)]
pub struct RecordContext {
    /// How this shape spells "no value".
    pub nulls: NullSpelling,
    /// The category implied by the input's path (`am-ContainerRegistryLoginEvents/…`), used when a
    /// record names none.
    pub category_hint: Option<&'static str>,
    /// The time window to keep.
    pub window: TimeWindow,
}

/// Accumulates canonical rows of one input and finishes them into a [`RecordBatch`].
///
/// A column outside the builder's [`ColumnSet`] has no builder (`None`): nothing is appended to
/// it and the batch carries a [`placeholder`]. Time and line are always built; the source, the
/// same text in every row of an input, only when it is read (a copy of a long blob URL per row
/// is otherwise the largest column of the batch).
pub struct EventBatchBuilder {
    source: Option<Arc<str>>,
    time: Vec<i64>,
    category: Option<StringBuilder>,
    operation: Option<StringBuilder>,
    registry: Option<StringBuilder>,
    resource_id: Option<StringBuilder>,
    region: Option<StringBuilder>,
    repository: Option<StringBuilder>,
    tag: Option<StringBuilder>,
    digest: Option<StringBuilder>,
    media_type: Option<StringBuilder>,
    artifact_type: Option<StringBuilder>,
    size_bytes: Option<Int64Builder>,
    duration_ms: Option<Float64Builder>,
    status: Option<Int32Builder>,
    identity: Option<StringBuilder>,
    user_agent: Option<StringBuilder>,
    correlation_id: Option<StringBuilder>,
    jwt_id: Option<StringBuilder>,
    caller_ip: Option<StringBuilder>,
    caller_ip_raw: Option<StringBuilder>,
    source_line: Vec<i64>,
    dedup_keys: Vec<Option<u128>>,
    /// The columns built, on every row or (the sparse ones) on some.
    columns: ColumnSet,
    /// Each row's caller address, when the rows go on to attribution.
    callers: Option<Vec<Option<IpAddr>>>,
    /// The resource ID is built only where the record names no login server.
    sparse_resource_id: bool,
    /// The raw caller text is built only where it holds no address.
    sparse_caller_raw: bool,
    scratch: String,
}

/// A finished batch and what its rows carry besides their columns.
#[derive(Debug, PartialEq)]
pub struct Built {
    /// The rows.
    pub batch: RecordBatch,
    /// Each row's de-duplication key (`None` where the record has no correlation id).
    pub keys: Vec<Option<u128>>,
    /// Each row's caller address, for attribution (when the builder was made
    /// [`for_attribution`](EventBatchBuilder::for_attribution)).
    pub callers: Option<Vec<Option<IpAddr>>>,
}

impl EventBatchBuilder {
    /// A builder for rows from `source`, with room for `capacity` rows, building every column.
    pub fn new(source: Arc<str>, capacity: usize) -> Self {
        Self::with_columns(source, capacity, ColumnSet::ALL)
    }

    /// A builder that builds only `columns` (positions in [`event_schema`]).
    pub fn with_columns(source: Arc<str>, capacity: usize, columns: ColumnSet) -> Self {
        let schema = event_schema();
        let wanted = |name: &str| schema.index_of(name).is_ok_and(|i| columns.contains(i));
        let text = |name: &'static str| wanted(name).then(|| text_builder(name, capacity, 16));
        EventBatchBuilder {
            source: wanted(col::SOURCE).then_some(source),
            time: Vec::with_capacity(capacity),
            category: text(col::CATEGORY),
            operation: text(col::OPERATION),
            registry: text(col::REGISTRY),
            resource_id: text(col::RESOURCE_ID),
            region: text(col::REGION),
            repository: text(col::REPOSITORY),
            tag: text(col::TAG),
            digest: text(col::DIGEST),
            media_type: text(col::MEDIA_TYPE),
            artifact_type: text(col::ARTIFACT_TYPE),
            size_bytes: wanted(col::SIZE_BYTES).then(|| Int64Builder::with_capacity(capacity)),
            duration_ms: wanted(col::DURATION_MS).then(|| Float64Builder::with_capacity(capacity)),
            status: wanted(col::STATUS).then(|| Int32Builder::with_capacity(capacity)),
            identity: text(col::IDENTITY),
            user_agent: text(col::USER_AGENT),
            correlation_id: text(col::CORRELATION_ID),
            jwt_id: text(col::JWT_ID),
            caller_ip: text(col::CALLER_IP),
            caller_ip_raw: text(col::CALLER_IP_RAW),
            source_line: Vec::with_capacity(capacity),
            dedup_keys: Vec::with_capacity(capacity),
            columns,
            callers: None,
            sparse_resource_id: false,
            sparse_caller_raw: false,
            scratch: String::new(),
        }
    }

    /// A builder whose rows go on to attribution: each row's caller address is kept as a number
    /// ([`Built::callers`]), so attribution never parses the caller text again; and the two
    /// columns attribution reads only on some rows are built only there when the scan does not
    /// read them itself: the resource ID (an upper-case path of 150 bytes, lower-cased per row)
    /// where the record names no login server, the raw caller text where it holds no address.
    pub fn for_attribution(mut self) -> Self {
        let capacity = self.time.capacity();
        self.callers = Some(Vec::with_capacity(capacity));
        let schema = event_schema();
        for (builder, sparse, name) in [
            (
                &mut self.resource_id,
                &mut self.sparse_resource_id,
                col::RESOURCE_ID,
            ),
            (
                &mut self.caller_ip_raw,
                &mut self.sparse_caller_raw,
                col::CALLER_IP_RAW,
            ),
        ] {
            if builder.is_none() {
                *builder = Some(StringBuilder::with_capacity(capacity, 0));
                *sparse = true;
                let built = schema.index_of(name).into_iter();
                self.columns = self.columns.union(ColumnSet::of(built));
            }
        }
        self
    }

    /// The fields of a record this builder reads: what the fast path must decode for it.
    pub fn fields(&self) -> FieldSet {
        FieldSet::for_columns(self.columns)
    }

    /// Rows appended so far.
    pub fn len(&self) -> usize {
        self.time.len()
    }

    /// Whether no row was appended.
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// Normalizes one record and appends it, unless it has no usable time or falls outside the
    /// window.
    pub fn push(&mut self, r: &RawRecord<'_>, line: u64, ctx: &RecordContext) -> Outcome {
        let nulls = ctx.nulls;
        let time = match r.get(F::Time) {
            Loose::Str(s) if !s.trim().is_empty() && s.trim() != "<nil>" => {
                match parse_timestamp_micros(s) {
                    Some(t) => t,
                    None => return Outcome::Rejected(format!("unparseable time {:?}", clip(s))),
                }
            }
            Loose::Int(_) | Loose::Float(_) | Loose::Bool(_) | Loose::Nested => {
                return Outcome::Rejected("time is not a timestamp string".to_owned());
            }
            _ => return Outcome::Rejected("record has no time".to_owned()),
        };
        if !ctx.window.contains(time) {
            return Outcome::OutOfWindow;
        }
        let text = |f: F| r.get(f).text(nulls);

        self.time.push(time);
        let operation = text(F::Operation);
        if self.category.is_some() {
            let category = text(F::Category)
                .map(|c| canonical_category(&c).map_or(c, Into::into))
                .or_else(|| ctx.category_hint.map(Into::into))
                .or_else(|| {
                    operation
                        .as_deref()
                        .and_then(category_of_operation)
                        .map(Into::into)
                });
            put(&mut self.category, category);
        }
        put(&mut self.operation, operation.as_deref());
        let scratch = &mut self.scratch;
        let login_server = text(F::LoginServer);
        let resource_id = if self.sparse_resource_id && login_server.is_some() {
            None
        } else {
            text(F::ResourceId)
        };
        for (builder, value) in [
            (&mut self.registry, login_server),
            (&mut self.resource_id, resource_id),
            (&mut self.region, text(F::Region)),
        ] {
            if let Some(b) = builder {
                append_lower(b, scratch, value.as_deref());
            }
        }
        for (builder, field) in [
            (&mut self.repository, F::Repository),
            (&mut self.media_type, F::MediaType),
            (&mut self.artifact_type, F::ArtifactType),
            (&mut self.identity, F::Identity),
            (&mut self.user_agent, F::UserAgent),
            (&mut self.jwt_id, F::JwtId),
        ] {
            if builder.is_some() {
                put(builder, text(field));
            }
        }
        if self.tag.is_some() || self.digest.is_some() {
            let tag = text(F::Tag);
            let digest = text(F::Digest)
                .or_else(|| tag.as_ref().filter(|t| t.starts_with("sha256:")).cloned());
            put(&mut self.tag, tag);
            put(&mut self.digest, digest);
        }
        put(&mut self.size_bytes, r.get(F::Size).int());
        put(&mut self.duration_ms, r.get(F::DurationMs).float());
        if self.status.is_some() {
            put(&mut self.status, http_status(r));
        }
        let correlation_id = text(F::CorrelationId);
        put(&mut self.correlation_id, correlation_id.as_deref());
        let raw_ip = text(F::CallerIp);
        let address = (self.caller_ip.is_some() || self.callers.is_some())
            .then(|| raw_ip.as_deref().and_then(parse_caller_ip))
            .flatten();
        if let Some(b) = &mut self.caller_ip {
            match address {
                Some(ip) => {
                    self.scratch.clear();
                    write_ip(ip, &mut self.scratch);
                    b.append_value(&self.scratch);
                }
                None => b.append_null(),
            }
        }
        if let Some(callers) = &mut self.callers {
            callers.push(address);
        }
        self.dedup_keys.push(dedup_key(
            correlation_id.as_deref(),
            time,
            operation.as_deref(),
            raw_ip.as_deref(),
        ));
        let sparse = self.sparse_caller_raw && address.is_some();
        put(&mut self.caller_ip_raw, raw_ip.filter(|_| !sparse));
        self.source_line.push(line as i64);
        Outcome::Accepted
    }

    /// The rows as a batch of the canonical schema, with what they carry besides.
    pub fn finish(mut self) -> Built {
        let rows = self.time.len();
        let time =
            TimestampMicrosecondArray::from(std::mem::take(&mut self.time)).with_timezone("UTC");
        let source = self
            .source
            .as_ref()
            .map(|source| repeated_text(source, rows));
        // A batch keeps only what its values use, since batches wait in the store writer's
        // buffers (a shrinking reallocation does not copy).
        let text = |b: Option<StringBuilder>, name| b.map(|b| finish_text(name, b));
        let built: Vec<Option<ArrayRef>> = vec![
            Some(Arc::new(time)),
            text(self.category, col::CATEGORY),
            text(self.operation, col::OPERATION),
            text(self.registry, col::REGISTRY),
            text(self.resource_id, col::RESOURCE_ID),
            text(self.region, col::REGION),
            text(self.repository, col::REPOSITORY),
            text(self.tag, col::TAG),
            text(self.digest, col::DIGEST),
            text(self.media_type, col::MEDIA_TYPE),
            text(self.artifact_type, col::ARTIFACT_TYPE),
            self.size_bytes
                .map(|mut b| Arc::new(b.finish()) as ArrayRef),
            self.duration_ms
                .map(|mut b| Arc::new(b.finish()) as ArrayRef),
            self.status.map(|mut b| Arc::new(b.finish()) as ArrayRef),
            text(self.identity, col::IDENTITY),
            text(self.user_agent, col::USER_AGENT),
            text(self.correlation_id, col::CORRELATION_ID),
            text(self.jwt_id, col::JWT_ID),
            text(self.caller_ip, col::CALLER_IP),
            text(self.caller_ip_raw, col::CALLER_IP_RAW),
            source,
            Some(Arc::new(Int64Array::from(std::mem::take(
                &mut self.source_line,
            )))),
        ];
        let schema = event_schema();
        let columns = built
            .into_iter()
            .zip(schema.fields().iter())
            .map(|(column, field)| column.unwrap_or_else(|| placeholder(field, rows)))
            .collect();
        let batch = RecordBatch::try_new(schema, columns)
            .expect("columns are built in schema order with schema types");
        Built {
            batch,
            keys: self.dedup_keys,
            callers: self.callers,
        }
    }
}

/// The status is the text of `resultDescription` ("200"); `resultType` is usually the constant
/// "HttpStatusCode" but holds the code in some exports.
fn http_status(r: &RawRecord<'_>) -> Option<i32> {
    [F::ResultDescription, F::ResultType]
        .into_iter()
        .filter_map(|f| r.get(f).int())
        .find(|code| (100..=599).contains(code))
        .map(|code| code as i32)
}

fn canonical_category(c: &str) -> Option<&'static str> {
    [category::REPOSITORY_EVENTS, category::LOGIN_EVENTS]
        .into_iter()
        .find(|known| known.eq_ignore_ascii_case(c))
}

fn category_of_operation(op: &str) -> Option<&'static str> {
    if op.eq_ignore_ascii_case("login") {
        Some(category::LOGIN_EVENTS)
    } else if ["pull", "push", "delete", "untag"]
        .iter()
        .any(|o| o.eq_ignore_ascii_case(op))
    {
        Some(category::REPOSITORY_EVENTS)
    } else {
        None
    }
}

fn append_lower(builder: &mut StringBuilder, scratch: &mut String, value: Option<&str>) {
    match value {
        Some(v) if v.bytes().any(|b| b.is_ascii_uppercase()) => {
            scratch.clear();
            scratch.push_str(v);
            scratch.make_ascii_lowercase();
            builder.append_value(scratch);
        }
        other => builder.append_option(other),
    }
}

/// At most 200 characters of a value, for an error message.
fn clip(s: &str) -> &str {
    match s.char_indices().nth(200) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

//! Normalizes [`RawRecord`]s into canonical rows and builds the Arrow batch.
//!
//! Every value quirk of DESIGN §1 is applied here, once, for every input shape: status from
//! `resultDescription`, numbers that arrive as strings, the spellings of "no value", the port on
//! the caller address, lower-case registry and resource ids, a digest carried in `tag`.

use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int32Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};

use crate::dedup::dedup_key;
use crate::record::{FieldName as F, RawRecord};
use crate::schema::{category, event_schema};
use crate::value::{Loose, NullSpelling};
use acrlens_values::parse_caller_ip;
use acrlens_values::parse_timestamp_micros;

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
pub struct EventBatchBuilder {
    source: Arc<str>,
    time: Vec<i64>,
    category: StringBuilder,
    operation: StringBuilder,
    registry: StringBuilder,
    resource_id: StringBuilder,
    region: StringBuilder,
    repository: StringBuilder,
    tag: StringBuilder,
    digest: StringBuilder,
    media_type: StringBuilder,
    artifact_type: StringBuilder,
    size_bytes: Int64Builder,
    duration_ms: Float64Builder,
    status: Int32Builder,
    identity: StringBuilder,
    user_agent: StringBuilder,
    correlation_id: StringBuilder,
    jwt_id: StringBuilder,
    caller_ip: StringBuilder,
    caller_ip_raw: StringBuilder,
    source_line: Vec<i64>,
    dedup_keys: Vec<Option<u128>>,
    scratch: String,
}

impl EventBatchBuilder {
    /// A builder for rows from `source`, with room for `capacity` rows.
    pub fn new(source: Arc<str>, capacity: usize) -> Self {
        let text = || StringBuilder::with_capacity(capacity, capacity * 16);
        EventBatchBuilder {
            source,
            time: Vec::with_capacity(capacity),
            category: text(),
            operation: text(),
            registry: text(),
            resource_id: text(),
            region: text(),
            repository: text(),
            tag: text(),
            digest: text(),
            media_type: text(),
            artifact_type: text(),
            size_bytes: Int64Builder::with_capacity(capacity),
            duration_ms: Float64Builder::with_capacity(capacity),
            status: Int32Builder::with_capacity(capacity),
            identity: text(),
            user_agent: text(),
            correlation_id: text(),
            jwt_id: text(),
            caller_ip: text(),
            caller_ip_raw: text(),
            source_line: Vec::with_capacity(capacity),
            dedup_keys: Vec::with_capacity(capacity),
            scratch: String::new(),
        }
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
        let category = text(F::Category)
            .map(|c| canonical_category(&c).map_or(c, Into::into))
            .or_else(|| ctx.category_hint.map(Into::into))
            .or_else(|| {
                operation
                    .as_deref()
                    .and_then(category_of_operation)
                    .map(Into::into)
            });
        self.category.append_option(category);
        self.operation.append_option(operation.as_deref());
        append_lower(
            &mut self.registry,
            &mut self.scratch,
            text(F::LoginServer).as_deref(),
        );
        append_lower(
            &mut self.resource_id,
            &mut self.scratch,
            text(F::ResourceId).as_deref(),
        );
        append_lower(
            &mut self.region,
            &mut self.scratch,
            text(F::Region).as_deref(),
        );
        self.repository.append_option(text(F::Repository));
        let tag = text(F::Tag);
        let digest =
            text(F::Digest).or_else(|| tag.as_ref().filter(|t| t.starts_with("sha256:")).cloned());
        self.tag.append_option(tag);
        self.digest.append_option(digest);
        self.media_type.append_option(text(F::MediaType));
        self.artifact_type.append_option(text(F::ArtifactType));
        self.size_bytes.append_option(r.get(F::Size).int());
        self.duration_ms.append_option(r.get(F::DurationMs).float());
        self.status.append_option(http_status(r));
        self.identity.append_option(text(F::Identity));
        self.user_agent.append_option(text(F::UserAgent));
        let correlation_id = text(F::CorrelationId);
        self.correlation_id.append_option(correlation_id.as_deref());
        self.jwt_id.append_option(text(F::JwtId));
        let raw_ip = text(F::CallerIp);
        match raw_ip.as_deref().and_then(parse_caller_ip) {
            Some(ip) => {
                use std::fmt::Write;
                self.scratch.clear();
                let _ = write!(self.scratch, "{ip}");
                self.caller_ip.append_value(&self.scratch);
            }
            None => self.caller_ip.append_null(),
        }
        self.dedup_keys.push(dedup_key(
            correlation_id.as_deref(),
            time,
            operation.as_deref(),
            raw_ip.as_deref(),
        ));
        self.caller_ip_raw.append_option(raw_ip);
        self.source_line.push(line as i64);
        Outcome::Accepted
    }

    /// The rows as a batch of the canonical schema, with each row's de-duplication key (`None`
    /// where the record has no correlation id).
    pub fn finish(mut self) -> (RecordBatch, Vec<Option<u128>>) {
        let rows = self.time.len();
        let time =
            TimestampMicrosecondArray::from(std::mem::take(&mut self.time)).with_timezone("UTC");
        let source = StringArray::from_iter_values(std::iter::repeat_n(&*self.source, rows));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(time),
            Arc::new(self.category.finish()),
            Arc::new(self.operation.finish()),
            Arc::new(self.registry.finish()),
            Arc::new(self.resource_id.finish()),
            Arc::new(self.region.finish()),
            Arc::new(self.repository.finish()),
            Arc::new(self.tag.finish()),
            Arc::new(self.digest.finish()),
            Arc::new(self.media_type.finish()),
            Arc::new(self.artifact_type.finish()),
            Arc::new(self.size_bytes.finish()),
            Arc::new(self.duration_ms.finish()),
            Arc::new(self.status.finish()),
            Arc::new(self.identity.finish()),
            Arc::new(self.user_agent.finish()),
            Arc::new(self.correlation_id.finish()),
            Arc::new(self.jwt_id.finish()),
            Arc::new(self.caller_ip.finish()),
            Arc::new(self.caller_ip_raw.finish()),
            Arc::new(source),
            Arc::new(Int64Array::from(std::mem::take(&mut self.source_line))),
        ];
        let batch = RecordBatch::try_new(event_schema(), columns)
            .expect("columns are built in schema order with schema types");
        (batch, self.dedup_keys)
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

//! acrlens-events: the canonical ACR event schema and the decoders that stream every export
//! shape into it.
//!
//! Users hold Azure Container Registry diagnostic logs in four shapes: resource-log JSON lines
//! from a Storage export, `{"records":[…]}` envelopes, Log Analytics exports (JSON lines or
//! `az … -o json` arrays) and the portal's CSV export. [`Decoder`] detects the shape of each
//! input, cuts it into units of whole records, decodes the units in parallel straight into Arrow
//! builders, and hands out [`RecordBatch`](arrow_array::RecordBatch)es of [`event_schema`] in
//! input order. Bad records never stop a run: they are [`Quarantined`] with their source, line
//! and reason, and each input's [`SourceStats`] reconcile (read = accepted + duplicates +
//! out of window + quarantined).
//!
//! ```
//! use acrlens_events::{decode_bytes, DecodeOptions};
//!
//! let export = br#"{"time":"2025-11-03T10:15:02.1234567Z","operationName":"Pull","resultDescription":"200","callerIpAddress":"10.0.2.4:51234","properties":{"loginServer":"Contoso.azurecr.io","repository":"app/web"}}
//! not json
//! "#;
//! let out = decode_bytes("PT1H.json", export, DecodeOptions::default());
//! assert_eq!(out.rows(), 1);
//! assert_eq!(out.quarantined[0].line, 2);
//! assert!(out.stats[0].reconciles());
//! ```

mod buffers;
mod builder;
mod columns;
mod decode;
mod dedup;
mod error;
mod fast;
mod format;
mod pipeline;
mod quarantine;
mod reader;
mod record;
mod remote;
mod schema;
mod shard;
mod slots;
mod source;
mod stats;
mod value;
mod widths;

pub use acrlens_values::{
    date_micros, format_timestamp_micros, parse_caller_ip, parse_timestamp_micros,
};
pub use builder::{Built, EventBatchBuilder, Outcome, RecordContext, TimeWindow};
pub use columns::{ColumnSet, placeholder, put};
pub use dedup::{DEDUP_WINDOW_HOURS, Dedup, dedup_key};
pub use error::{Error, TransformError};
pub use fast::{FieldSet, MAX_DEPTH, scan_record};
pub use format::InputFormat;
pub use pipeline::{
    BatchTransform, Collected, DecodeOptions, Decoded, Decoder, INGEST_CHUNK_BYTES, decode_bytes,
};
pub use quarantine::{MAX_RAW_BYTES, Quarantined};
pub use reader::Resume;
pub use record::{FIELD_COUNT, FieldName, KeyRole, RawRecord};
pub use remote::{InputVersion, RemoteInput, is_content_error};
pub use schema::{category, col, event_schema, time_type};
pub use shard::Shard;
pub use slots::{HashSlots, Vacant};
pub use source::{
    FILING_MARGIN_MICROS, InputSource, discover, in_time_order, looks_like_log,
    partition_may_overlap, partition_span,
};
pub use stats::SourceStats;
pub use value::{Loose, NullSpelling};
pub use widths::{finish_text, text_builder};

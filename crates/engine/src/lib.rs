//! acrlens-engine: SQL over attributed ACR events with DataFusion.
//!
//! [`session`] registers `events` (over raw exports, decoded and attributed on every scan),
//! the `repository_events` and `login_events` views, the topology tables `service_tags`,
//! `subnets` and `registries`, and the IP functions of [`udf`] backed by the compiled index.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use acrlens_engine::{EventSource, session};
//! use acrlens_events::{DecodeOptions, InputSource};
//! use acrlens_netmap::{Topology, TopologyParts};
//!
//! let log = br#"{"time":"2025-11-03T10:00:00Z","operationName":"Pull","callerIpAddress":"10.0.2.4"}"#;
//! let sources = vec![InputSource::Memory { name: "PT1H.json".into(), bytes: Arc::from(&log[..]) }];
//! let topology = Arc::new(Topology::compile(TopologyParts::default()));
//! let s = session(EventSource::Logs { sources, options: DecodeOptions::default() }, topology).await.unwrap();
//! let rows = s.ctx.sql("SELECT access_path, ip_scope(caller_ip) AS scope FROM events").await.unwrap().collect().await.unwrap();
//! assert_eq!(rows[0].num_rows(), 1);
//! # });
//! ```

mod dates;
mod grouping;
mod ingest;
mod interned;
mod output;
mod params;
mod raw;
pub mod rollup;
mod scan;
mod session;
pub mod store;
mod tables;
#[cfg(test)]
mod testing;
pub mod udf;

pub use ingest::{IngestError, IngestOutcome, ObserverError, attribution, ingest};
pub use output::{OutputFormat, ResultWriter, as_text};
pub use params::{bind_params, declared_params};
pub use raw::RawExports;
pub use scan::TopologyScan;
pub use session::{EVENTS, EventSource, Session, register, session, session_state};
pub use tables::{Table, TopologyTable};

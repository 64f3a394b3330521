//! acrlens-attrib: by which network path did each request reach the registry?
//!
//! [`Attributor::attribute`] takes a batch of the canonical event schema and returns it with the
//! attribution columns of [`attribution_fields`]: the caller's scope, subnet, private endpoint,
//! named range, service tags (as of the event's time), GeoIP, a caller-kind guess, and the
//! verdict of the decision table in [`verdict`] with one sentence saying why.
//!
//! ```
//! use acrlens_attrib::{Attributor, AccessPath};
//! use acrlens_netmap::{Topology, TopologyParts};
//!
//! let topology = Topology::compile(TopologyParts::default());
//! let a = Attributor::new(&topology).attribute_one(
//!     None, Some("<nil>"), Some("contoso.azurecr.io"), 0, Some(200), None, None,
//! );
//! assert_eq!(a.verdict.path, AccessPath::Unknown);
//! assert_eq!(a.verdict.reason, "unknown: caller \"<nil>\" is not an IP address");
//! ```

mod attribute;
mod callers;
mod columns;
mod keytable;
mod kind;
mod memo;
mod replay;
mod schema;
pub mod verdict;

pub use attribute::{AttribError, Attribution, Attributor, decode_columns, reads_attribution};
pub use kind::{CallerKind, caller_kind};
pub use memo::VerdictMemo;
pub use replay::{is_trusted_kind, replay};
pub use schema::{attributed_schema, attribution_fields, col};
pub use verdict::{AccessPath, Request, Verdict, decide, decide_with};

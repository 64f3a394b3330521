//! acrlens-bench: deterministic generators of ACR exports (the bundled samples and data of any
//! size) and the benchmarks built on them.
//!
//! ```
//! use acrlens_bench::generate::lines_in_memory;
//!
//! let export = lines_in_memory(64 * 1024, 7);
//! assert!(export.len() >= 64 * 1024);
//! assert_eq!(export, lines_in_memory(64 * 1024, 7), "seeded: the same bytes every time");
//! ```

pub mod callers;
pub mod event;
pub mod generate;
pub mod render;
pub mod samples;
pub mod topology;

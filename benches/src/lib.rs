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
pub mod history;
pub mod render;
pub mod samples;
pub mod topology;
pub mod truth;

/// How many MiB of input a bench generates: `ACRLENS_BENCH_MB` if set, else `benchmarking`
/// under `cargo bench` and 1 under `cargo test` (where each case runs once, as a check).
pub fn input_megabytes(benchmarking: usize) -> usize {
    let bench = std::env::args().any(|a| a == "--bench");
    std::env::var("ACRLENS_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if bench { benchmarking } else { 1 })
}

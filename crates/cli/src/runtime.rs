//! The async runtime the query engine runs on, for the verbs that query (`query`, `report`,
//! `whatif`).

use anyhow::{Context, Result};
use tokio::runtime::Runtime;

/// A multi-threaded runtime with I/O and timers (blob reads need both).
pub fn query_runtime() -> Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the query runtime")
}

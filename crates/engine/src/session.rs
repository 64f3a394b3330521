//! A DataFusion session with acrlens's tables, views and functions registered.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use acrlens_events::{DecodeOptions, InputSource, category};
use acrlens_netmap::LazyTopology;
use arrow_schema::DataType;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::raw::RawExports;
use crate::store::file_schema;
use crate::{tables, udf};

/// Where the `events` table reads from.
#[derive(Debug, Clone)]
pub enum EventSource {
    /// Raw exports, decoded and attributed on every scan.
    Logs {
        /// The inputs.
        sources: Vec<InputSource>,
        /// How to decode them.
        options: DecodeOptions,
    },
    /// An acrlens Parquet store (the folder given to `ingest --store`).
    Store(PathBuf),
}

/// A session and what its scans quarantined.
pub struct Session {
    /// The DataFusion context.
    pub ctx: SessionContext,
    /// Records quarantined while scanning raw exports.
    pub quarantined: Arc<AtomicU64>,
}

/// The store's events: its part files, with `category` and `date` from the hive folders.
async fn store_table(dir: &Path) -> Result<Arc<ListingTable>> {
    let events = dir.join("events");
    if !events.is_dir() {
        return Err(DataFusionError::Plan(format!(
            "{} is not an acrlens store (no events/ folder)",
            dir.display()
        )));
    }
    let url = ListingTableUrl::parse(format!("{}/", events.canonicalize()?.display()))?;
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(vec![
            ("category".to_owned(), DataType::Utf8),
            ("date".to_owned(), DataType::Utf8),
        ]);
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(file_schema(&acrlens_attrib::attributed_schema()));
    Ok(Arc::new(ListingTable::try_new(config)?))
}

/// Builds a session: `events` over `source`, the `repository_events` and `login_events` views,
/// the topology tables and the IP functions. The topology is loaded when a scan, table or
/// function first needs it (pass an `Arc<Topology>` when it is loaded already).
pub async fn session(source: EventSource, topology: impl Into<LazyTopology>) -> Result<Session> {
    let topology: LazyTopology = topology.into();
    let config = SessionConfig::new().with_information_schema(true);
    let ctx = SessionContext::new_with_config(config);
    let quarantined = match source {
        EventSource::Logs { sources, options } => {
            let raw = RawExports::new(sources, options, topology.clone());
            let quarantined = raw.quarantined();
            ctx.register_table("events", Arc::new(raw))?;
            quarantined
        }
        EventSource::Store(dir) => {
            ctx.register_table("events", store_table(&dir).await?)?;
            Arc::default()
        }
    };
    for (view, category) in [
        ("repository_events", category::REPOSITORY_EVENTS),
        ("login_events", category::LOGIN_EVENTS),
    ] {
        // The category names are constants of this program, not user input.
        ctx.sql(&format!(
            "CREATE VIEW {view} AS SELECT * FROM events WHERE category = '{category}'"
        ))
        .await?;
    }
    for table in tables::Table::ALL {
        ctx.register_table(
            table.name(),
            Arc::new(tables::Lazy::new(table, topology.clone())?),
        )?;
    }
    for function in udf::functions(&topology) {
        ctx.register_udf(function);
    }
    Ok(Session { ctx, quarantined })
}

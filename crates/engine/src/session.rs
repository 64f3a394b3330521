//! A DataFusion session with acrlens's tables, views and functions registered.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use acrlens_events::{DecodeOptions, InputSource, category};
use acrlens_netmap::LazyTopology;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::{MemTable, ViewTable, provider_as_source};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::{LogicalPlanBuilder, col, lit};
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::dates::UtcDates;
use crate::grouping::NumberedGrouping;
use crate::raw::RawExports;
use crate::rollup::{self, ROLLUP_VERSION};
use crate::store::{Manifest, file_schema};
use crate::{tables, udf};

/// The table of attributed events in every session.
pub const EVENTS: &str = "events";

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

/// Bytes read from the end of a Parquet file to find its footer in one read. DataFusion's
/// default, 512 KiB, saves a request to an object store; the store's files are local and their
/// footers 7–30 KiB (forty columns, at most eight row groups), so each footer read allocated and
/// filled half a MiB for nothing (the store job's CPU 83.9 → 79.0 ms with 64 KiB, 20 runs each).
const FOOTER_READ: usize = 64 << 10;

/// A table over Parquet files: `urls` name folders (listed for files ending in `extension`) or
/// files, all of `schema`.
fn parquet_table(
    urls: Vec<ListingTableUrl>,
    extension: &str,
    partitions: Vec<(String, DataType)>,
    schema: SchemaRef,
) -> Result<Arc<ListingTable>> {
    let format = ParquetFormat::default().with_metadata_size_hint(Some(FOOTER_READ));
    let options = ListingOptions::new(Arc::new(format))
        .with_file_extension(extension)
        .with_table_partition_cols(partitions);
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(schema);
    Ok(Arc::new(ListingTable::try_new(config)?))
}

/// The URL of a store's folder, for listing.
fn folder_url(dir: &Path) -> Result<ListingTableUrl> {
    ListingTableUrl::parse(format!("{}/", dir.canonicalize()?.display()))
}

/// The store's events: its part files, with `category` and `date` from the hive folders; text
/// as `views` says (see [`text_types`]).
fn store_table(dir: &Path, views: bool) -> Result<Arc<ListingTable>> {
    let events = dir.join("events");
    if !events.is_dir() {
        return Err(DataFusionError::Plan(format!(
            "{} is not an acrlens store (no events/ folder)",
            dir.display()
        )));
    }
    parquet_table(
        vec![folder_url(&events)?],
        ".parquet",
        vec![
            ("category".to_owned(), DataType::Utf8),
            ("date".to_owned(), DataType::Utf8),
        ],
        text_types(&file_schema(&acrlens_attrib::attributed_schema()), views),
    )
}

/// `schema` with its text columns as `Utf8View` when `views`, else as `Utf8`.
///
/// Views are what a session reads by default (DataFusion's
/// `datafusion.execution.parquet.schema_force_view_types`): Parquet pages are read into views of
/// their own buffers instead of being copied value by value, and DataFusion groups and compares
/// views faster. A cluster's sessions turn that setting off, and so get `Utf8`: a batch of views
/// sent over Arrow Flight carries the whole buffers its views point into (60 MB where the limit
/// is 16 MiB, on a 20 M-event store). Dictionary-encoded text (an event's `source`) is read as
/// plain text either way: Arrow Flight sends a dictionary's values instead of the dictionary,
/// so on a cluster a dictionary column would arrive in another type than its plan says.
fn text_types(schema: &SchemaRef, views: bool) -> SchemaRef {
    let text = if views {
        DataType::Utf8View
    } else {
        DataType::Utf8
    };
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8 => f.as_ref().clone().with_data_type(text.clone()),
            DataType::Dictionary(_, value) if value.as_ref() == &DataType::Utf8 => {
                f.as_ref().clone().with_data_type(text.clone())
            }
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// Registers the store's rollup tables when every day of the store has them.
async fn register_rollups(ctx: &SessionContext, dir: &Path, views: bool) -> Result<()> {
    let manifest = Manifest::load(&dir.join("manifest.json"))
        .map_err(|e| DataFusionError::External(Box::new(e)))?;
    if manifest.rollups != ROLLUP_VERSION {
        return Ok(());
    }
    for table in &rollup::TABLES {
        // Text as the events have it: reports union the two.
        let schema = text_types(&table.rollup.schema(), views);
        let folder = rollup::folder(dir, table.name);
        if folder.is_dir() {
            let files = parquet_table(vec![folder_url(&folder)?], ".parquet", Vec::new(), schema)?;
            ctx.register_table(table.name, files)?;
        } else {
            ctx.register_table(
                table.name,
                Arc::new(MemTable::try_new(schema, vec![vec![]])?),
            )?;
        }
    }
    Ok(())
}

/// Builds a session: `events` over `source`, the `repository_events` and `login_events` views,
/// over a store whose every day has them the rollup tables of [`crate::rollup`], the topology
/// tables and the IP functions. The topology is loaded when a scan, table or
/// function first needs it (pass an `Arc<Topology>` when it is loaded already).
pub async fn session(source: EventSource, topology: impl Into<LazyTopology>) -> Result<Session> {
    let ctx = SessionContext::new_with_state(session_state());
    let quarantined = register(&ctx, source, topology.into()).await?;
    Ok(Session { ctx, quarantined })
}

/// The state of a session of acrlens before any table is registered: DataFusion's defaults,
/// the information schema, and acrlens's grouping by numbers (see the README, Performance).
pub fn session_state() -> SessionState {
    let config = SessionConfig::new().with_information_schema(true);
    SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .with_physical_optimizer_rule(Arc::new(NumberedGrouping))
        .build()
}

/// Registers in `ctx` what [`session`] has: the tables, views, functions and the optimizer rule
/// of acrlens. Returns the count of records the scans of raw exports quarantine.
pub async fn register(
    ctx: &SessionContext,
    source: EventSource,
    topology: LazyTopology,
) -> Result<Arc<AtomicU64>> {
    ctx.add_optimizer_rule(Arc::new(UtcDates));
    let quarantined = match source {
        EventSource::Logs { sources, options } => {
            let raw = RawExports::new(sources, options, topology.clone());
            let quarantined = raw.quarantined();
            ctx.register_table(EVENTS, Arc::new(raw))?;
            quarantined
        }
        EventSource::Store(dir) => {
            let views = ctx
                .copied_config()
                .options()
                .execution
                .parquet
                .schema_force_view_types;
            ctx.register_table(EVENTS, store_table(&dir, views)?)?;
            register_rollups(ctx, &dir, views).await?;
            Arc::default()
        }
    };
    // The views are built as plans, not planned from SQL: planning `SELECT *` over the events'
    // forty columns names each of them, text formatted anew, at the start of every query.
    let events = provider_as_source(ctx.table_provider(EVENTS).await?);
    for (view, category) in [
        ("repository_events", category::REPOSITORY_EVENTS),
        ("login_events", category::LOGIN_EVENTS),
    ] {
        let plan = LogicalPlanBuilder::scan(EVENTS, Arc::clone(&events), None)?
            .filter(col(acrlens_events::col::CATEGORY).eq(lit(category)))?
            .build()?;
        // The category names are constants of this program, not user input.
        let definition =
            format!("CREATE VIEW {view} AS SELECT * FROM events WHERE category = '{category}'");
        ctx.register_table(view, Arc::new(ViewTable::new(plan, Some(definition))))?;
    }
    for table in tables::Table::ALL {
        ctx.register_table(
            table.name(),
            Arc::new(tables::TopologyTable::new(table, topology.clone())),
        )?;
    }
    for function in udf::functions(&topology) {
        ctx.register_udf(function);
    }
    Ok(quarantined)
}

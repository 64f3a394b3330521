//! The `events` table over raw exports: every scan decodes and attributes the inputs afresh,
//! streaming batches to DataFusion in bounded memory, and builds only the columns the query
//! reads (decoding and attributing every column costs about twice what a typical query needs).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use acrlens_attrib::{attributed_schema, decode_columns, reads_attribution};
use acrlens_events::{ColumnSet, DecodeOptions, Decoded, Decoder, InputSource};
use acrlens_netmap::LazyTopology;
use arrow_schema::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};

use crate::ingest::attribution;

/// Raw exports as a table of attributed events.
#[derive(Debug)]
pub struct RawExports {
    schema: SchemaRef,
    sources: Vec<InputSource>,
    options: DecodeOptions,
    topology: LazyTopology,
    quarantined: Arc<AtomicU64>,
}

impl RawExports {
    /// A table over `sources`, decoded with `options` and attributed against `topology`.
    pub fn new(sources: Vec<InputSource>, options: DecodeOptions, topology: LazyTopology) -> Self {
        RawExports {
            schema: attributed_schema(),
            sources,
            options,
            topology,
            quarantined: Arc::default(),
        }
    }

    /// Records quarantined by the last complete scan (they are not rows of the table).
    pub fn quarantined(&self) -> Arc<AtomicU64> {
        self.quarantined.clone()
    }
}

#[async_trait]
impl TableProvider for RawExports {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let columns = projection.map_or(ColumnSet::ALL, |p| ColumnSet::of(p.iter().copied()));
        let scan = Scan {
            schema: self.schema.clone(),
            sources: self.sources.clone(),
            options: DecodeOptions {
                columns: decode_columns(columns),
                attribution: reads_attribution(columns),
                ..self.options
            },
            columns,
            topology: self.topology.clone(),
            quarantined: self.quarantined.clone(),
        };
        let exec = StreamingTableExec::try_new(
            self.schema.clone(),
            vec![Arc::new(scan)],
            projection,
            [],
            false,
            limit,
        )?;
        Ok(Arc::new(exec))
    }
}

/// One scan of the exports, building `columns` of the attributed schema.
#[derive(Debug)]
struct Scan {
    schema: SchemaRef,
    sources: Vec<InputSource>,
    options: DecodeOptions,
    columns: ColumnSet,
    topology: LazyTopology,
    quarantined: Arc<AtomicU64>,
}

impl PartitionStream for Scan {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let mut builder = RecordBatchReceiverStreamBuilder::new(self.schema.clone(), 2);
        let tx = builder.tx();
        let (sources, options) = (self.sources.clone(), self.options);
        let (topology, quarantined) = (self.topology.clone(), self.quarantined.clone());
        let transform = attribution(topology, self.columns);
        builder.spawn_blocking(move || {
            let mut seen = 0;
            for item in Decoder::new(sources, options).with_transform(transform) {
                match item {
                    Decoded::Batch(batch) => {
                        // A closed receiver means the query needs no more rows (a LIMIT).
                        if tx.blocking_send(Ok(batch)).is_err() {
                            break;
                        }
                    }
                    Decoded::Quarantined(_) => seen += 1,
                    // A partial answer must not pass for a whole one.
                    Decoded::SourceDone(s) if s.interrupted => {
                        return Err(DataFusionError::Execution(format!(
                            "{} could not be read to its end: {}",
                            s.source,
                            s.error.as_deref().unwrap_or("")
                        )));
                    }
                    Decoded::SourceDone(_) => {}
                    Decoded::Failed(e) => return Err(DataFusionError::External(Box::new(e))),
                }
            }
            // Every scan reads the same inputs: the count is per scan, not a sum over scans.
            quarantined.store(seen, Ordering::Relaxed);
            Ok(())
        });
        builder.build()
    }
}

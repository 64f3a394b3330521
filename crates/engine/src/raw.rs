//! The `events` table over raw exports: every scan decodes and attributes the inputs afresh,
//! streaming batches to DataFusion in bounded memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use acrlens_attrib::attributed_schema;
use acrlens_events::{DecodeOptions, Decoded, Decoder, InputSource};
use acrlens_netmap::Topology;
use arrow_schema::SchemaRef;
use datafusion::error::DataFusionError;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use datafusion::physical_plan::streaming::PartitionStream;

use crate::ingest::attribution;

/// Raw exports as one partition of attributed events.
#[derive(Debug)]
pub struct RawExports {
    schema: SchemaRef,
    sources: Vec<InputSource>,
    options: DecodeOptions,
    topology: Arc<Topology>,
    quarantined: Arc<AtomicU64>,
}

impl RawExports {
    /// A table over `sources`, decoded with `options` and attributed against `topology`.
    pub fn new(sources: Vec<InputSource>, options: DecodeOptions, topology: Arc<Topology>) -> Self {
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

impl PartitionStream for RawExports {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let mut builder = RecordBatchReceiverStreamBuilder::new(self.schema.clone(), 2);
        let tx = builder.tx();
        let (sources, options) = (self.sources.clone(), self.options);
        let (topology, quarantined) = (self.topology.clone(), self.quarantined.clone());
        builder.spawn_blocking(move || {
            let mut seen = 0;
            for item in Decoder::new(sources, options).with_transform(attribution(topology)) {
                match item {
                    Decoded::Batch(batch) => {
                        // A closed receiver means the query needs no more rows (a LIMIT).
                        if tx.blocking_send(Ok(batch)).is_err() {
                            break;
                        }
                    }
                    Decoded::Quarantined(_) => seen += 1,
                    Decoded::SourceDone(_) => {}
                    Decoded::Failed(e) => return Err(DataFusionError::Execution(e)),
                }
            }
            // Every scan reads the same inputs: the count is per scan, not a sum over scans.
            quarantined.store(seen, Ordering::Relaxed);
            Ok(())
        });
        builder.build()
    }
}

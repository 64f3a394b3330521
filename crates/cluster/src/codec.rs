//! What Ballista cannot carry between processes by itself: acrlens's topology tables, its
//! functions and the in-memory tables a report keeps. Everything else goes to Ballista's own
//! codecs.
//!
//! A topology table travels as its name and a scan as the table's name and columns: each
//! process builds the rows from its own topology (the one whose fingerprint the session
//! carries), so no topology row is in a plan. A function travels by name. An in-memory table
//! travels as its rows (Arrow IPC): those a report keeps are small aggregates.

use std::sync::Arc;

use acrlens_engine::{Table, TopologyScan, TopologyTable, udf};
use acrlens_netmap::LazyTopology;
use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan, ScalarUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

/// Marks acrlens's encodings. A protobuf message (Ballista's) never starts with a zero byte,
/// so the two cannot be taken for each other.
const FUNCTION: &[u8] = b"\0acrlens-function";
const TOPOLOGY_TABLE: &[u8] = b"\0acrlens-topology-table:";
const MEMORY_TABLE: &[u8] = b"\0acrlens-memory-table:";
const TOPOLOGY_SCAN: &[u8] = b"\0acrlens-topology-scan:";

/// The topology tables and functions of one process, over its topology.
#[derive(Debug)]
struct Local {
    topology: LazyTopology,
    /// One per [`Table::ALL`], shared by every plan: a table's rows are built once.
    tables: Vec<Arc<TopologyTable>>,
}

impl Local {
    fn new(topology: LazyTopology) -> Local {
        let tables = Table::ALL
            .into_iter()
            .map(|t| Arc::new(TopologyTable::new(t, topology.clone())))
            .collect();
        Local { topology, tables }
    }

    fn table(&self, name: &[u8]) -> Result<&Arc<TopologyTable>> {
        let name = std::str::from_utf8(name).unwrap_or_default();
        Table::named(name)
            .and_then(|t| self.tables.iter().find(|l| l.table() == t))
            .ok_or_else(|| DataFusionError::Plan(format!("no topology table {name:?}")))
    }

    /// The function `buf` marks as acrlens's, over this process's topology; else `otherwise`.
    fn decode_function(
        &self,
        name: &str,
        buf: &[u8],
        otherwise: impl FnOnce() -> Result<Arc<ScalarUDF>>,
    ) -> Result<Arc<ScalarUDF>> {
        if buf != FUNCTION {
            return otherwise();
        }
        udf::named(name, &self.topology)
            .map(Arc::new)
            .ok_or_else(|| DataFusionError::Plan(format!("no acrlens function {name:?}")))
    }
}

/// Writes acrlens's mark for `function` if it is one of acrlens's; else `otherwise` writes.
fn encode_function(
    function: &ScalarUDF,
    buf: &mut Vec<u8>,
    otherwise: impl FnOnce(&mut Vec<u8>) -> Result<()>,
) -> Result<()> {
    if udf::is_acrlens(function) {
        buf.extend_from_slice(FUNCTION);
        return Ok(());
    }
    otherwise(buf)
}

fn ipc_error(e: impl std::error::Error + Send + Sync + 'static) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// An in-memory table's rows as one Arrow IPC stream.
fn encode_memory(table: &MemTable, buf: &mut Vec<u8>) -> Result<()> {
    let mut writer = StreamWriter::try_new(buf, &table.schema()).map_err(ipc_error)?;
    for partition in &table.batches {
        let batches = partition.try_read().map_err(|_| {
            DataFusionError::Execution("an in-memory table is being written".into())
        })?;
        for batch in batches.iter() {
            writer.write(batch).map_err(ipc_error)?;
        }
    }
    writer.finish().map_err(ipc_error)
}

fn decode_memory(bytes: &[u8], schema: SchemaRef) -> Result<MemTable> {
    let reader = StreamReader::try_new(bytes, None).map_err(ipc_error)?;
    let batches = reader
        .collect::<std::result::Result<Vec<RecordBatch>, _>>()
        .map_err(ipc_error)?;
    MemTable::try_new(schema, vec![batches])
}

/// The logical codec of acrlens's clients and schedulers.
#[derive(Debug)]
pub struct LogicalCodec {
    local: Local,
    ballista: BallistaLogicalExtensionCodec,
}

impl LogicalCodec {
    /// The codec of a process whose topology is `topology`.
    pub fn new(topology: LazyTopology) -> LogicalCodec {
        LogicalCodec {
            local: Local::new(topology),
            ballista: BallistaLogicalExtensionCodec::default(),
        }
    }
}

impl LogicalExtensionCodec for LogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.ballista.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        if let Some(name) = buf.strip_prefix(TOPOLOGY_TABLE) {
            return Ok(self.local.table(name)?.clone());
        }
        if let Some(rows) = buf.strip_prefix(MEMORY_TABLE) {
            return Ok(Arc::new(decode_memory(rows, schema)?));
        }
        self.ballista
            .try_decode_table_provider(buf, table_ref, schema, ctx)
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        let any: &dyn std::any::Any = node.as_ref();
        if let Some(table) = any.downcast_ref::<TopologyTable>() {
            buf.extend_from_slice(TOPOLOGY_TABLE);
            buf.extend_from_slice(table.table().name().as_bytes());
            return Ok(());
        }
        if let Some(table) = any.downcast_ref::<MemTable>() {
            buf.extend_from_slice(MEMORY_TABLE);
            return encode_memory(table, buf);
        }
        self.ballista
            .try_encode_table_provider(table_ref, node, buf)
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.ballista.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        self.local
            .decode_function(name, buf, || self.ballista.try_decode_udf(name, buf))
    }

    fn try_encode_udf(&self, function: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_function(function, buf, |buf| {
            self.ballista.try_encode_udf(function, buf)
        })
    }
}

/// The physical codec of acrlens's schedulers and executors.
#[derive(Debug)]
pub struct PhysicalCodec {
    local: Local,
    ballista: BallistaPhysicalExtensionCodec,
}

impl PhysicalCodec {
    /// The codec of a process whose topology is `topology`.
    pub fn new(topology: LazyTopology) -> PhysicalCodec {
        PhysicalCodec {
            local: Local::new(topology),
            ballista: BallistaPhysicalExtensionCodec::default(),
        }
    }
}

/// A scan's columns as text: `*` for all, else their positions joined by commas.
fn encode_projection(projection: Option<&Vec<usize>>) -> String {
    match projection {
        None => "*".to_owned(),
        Some(columns) => columns
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(","),
    }
}

fn decode_projection(text: &str) -> Result<Option<Vec<usize>>> {
    if text == "*" {
        return Ok(None);
    }
    if text.is_empty() {
        return Ok(Some(Vec::new()));
    }
    text.split(',')
        .map(|c| {
            c.parse()
                .map_err(|_| DataFusionError::Plan(format!("{text:?} is not a list of columns")))
        })
        .collect::<Result<Vec<usize>>>()
        .map(Some)
}

impl PhysicalExtensionCodec for PhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if let Some(scan) = buf.strip_prefix(TOPOLOGY_SCAN) {
            let text = std::str::from_utf8(scan).unwrap_or_default();
            let (name, columns) = text.split_once(';').unwrap_or((text, "*"));
            let table = self.local.table(name.as_bytes())?;
            return table.scan_plan(decode_projection(columns)?.as_ref());
        }
        self.ballista.try_decode(buf, inputs, ctx, proto_converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        if let Some(scan) = node.downcast_ref::<TopologyScan>() {
            buf.extend_from_slice(TOPOLOGY_SCAN);
            let text = format!(
                "{};{}",
                scan.table().name(),
                encode_projection(scan.projection())
            );
            buf.extend_from_slice(text.as_bytes());
            return Ok(());
        }
        self.ballista.try_encode(node, buf, proto_converter)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        self.local
            .decode_function(name, buf, || self.ballista.try_decode_udf(name, buf))
    }

    fn try_encode_udf(&self, function: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_function(function, buf, |buf| {
            self.ballista.try_encode_udf(function, buf)
        })
    }
}

#[cfg(test)]
mod tests {
    use acrlens_netmap::{Topology, TopologyParts};
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::execution::TaskContext;
    use datafusion::prelude::SessionContext;
    use datafusion_proto::physical_plan::DefaultPhysicalProtoConverter;

    use super::*;

    fn topology() -> LazyTopology {
        Arc::new(Topology::compile(TopologyParts::default())).into()
    }

    #[test]
    fn a_topology_table_travels_by_name_and_an_in_memory_one_with_its_rows() {
        let codec = LogicalCodec::new(topology());
        let ctx = TaskContext::default();
        let name = TableReference::bare("t");
        let table: Arc<dyn TableProvider> =
            Arc::new(TopologyTable::new(Table::Registries, topology()));
        let mut buf = Vec::new();
        codec
            .try_encode_table_provider(&name, table.clone(), &mut buf)
            .unwrap();
        assert_eq!(buf, b"\0acrlens-topology-table:registries");
        let back = codec
            .try_decode_table_provider(&buf, &name, table.schema(), &ctx)
            .unwrap();
        let any: &dyn std::any::Any = back.as_ref();
        let back = any.downcast_ref::<TopologyTable>().unwrap();
        assert_eq!(back.table(), Table::Registries);

        let schema = Arc::new(Schema::new(vec![
            Field::new("who", DataType::Utf8, true),
            Field::new("n", DataType::Int64, false),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec![Some("=cmd|' /C calc'!A0"), None])),
                Arc::new(Int64Array::from(vec![3, 4])),
            ],
        )
        .unwrap();
        let memory =
            Arc::new(MemTable::try_new(schema.clone(), vec![vec![batch.clone()]]).unwrap());
        let mut buf = Vec::new();
        codec
            .try_encode_table_provider(&name, memory, &mut buf)
            .unwrap();
        let back = codec
            .try_decode_table_provider(&buf, &name, schema, &ctx)
            .unwrap();
        let any: &dyn std::any::Any = back.as_ref();
        let back = any.downcast_ref::<MemTable>().unwrap();
        let rows = back.batches[0].try_read().unwrap().clone();
        assert_eq!(rows, vec![batch]);

        // A name that is no topology table is an error, not a panic.
        let error = codec
            .try_decode_table_provider(
                b"\0acrlens-topology-table:nope",
                &name,
                table.schema(),
                &ctx,
            )
            .unwrap_err();
        assert!(
            error.to_string().contains("no topology table \"nope\""),
            "{error}"
        );
    }

    #[test]
    fn acrlens_functions_travel_by_name_and_others_are_left_to_ballista() {
        let codec = PhysicalCodec::new(topology());
        for name in ["ip_scope", "access_path_at", "utc_date"] {
            let function = udf::named(name, &topology()).unwrap();
            let mut buf = Vec::new();
            codec.try_encode_udf(&function, &mut buf).unwrap();
            assert_eq!(buf, FUNCTION, "{name}");
            assert_eq!(codec.try_decode_udf(name, &buf).unwrap().name(), name);
        }
        // DataFusion's own functions are found by name in the registry: nothing is written.
        let ctx = SessionContext::new();
        let upper = ctx.state().scalar_functions()["upper"].clone();
        let mut buf = Vec::new();
        codec.try_encode_udf(&upper, &mut buf).unwrap();
        assert!(buf.is_empty());
        assert!(codec.try_decode_udf("no_such_function", FUNCTION).is_err());
    }

    #[test]
    fn a_topology_scan_travels_as_its_table_and_columns() {
        let codec = PhysicalCodec::new(topology());
        let ctx = TaskContext::default();
        let converter = DefaultPhysicalProtoConverter {};
        for projection in [None, Some(vec![2, 0]), Some(vec![])] {
            let table = TopologyTable::new(Table::Subnets, topology());
            let scan = table.scan_plan(projection.as_ref()).unwrap();
            let mut buf = Vec::new();
            codec
                .try_encode(scan.clone(), &mut buf, &converter)
                .unwrap();
            let back = codec.try_decode(&buf, &[], &ctx, &converter).unwrap();
            let back = back.downcast_ref::<TopologyScan>().unwrap();
            assert_eq!(back.table(), Table::Subnets);
            assert_eq!(back.projection(), projection.as_ref());
            assert_eq!(back.schema(), scan.schema());
        }
        let bad = codec.try_decode(
            b"\0acrlens-topology-scan:subnets;1,x",
            &[],
            &ctx,
            &converter,
        );
        assert!(
            bad.unwrap_err()
                .to_string()
                .contains("not a list of columns")
        );
    }
}

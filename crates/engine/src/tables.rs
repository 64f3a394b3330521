//! The topology as tables: `service_tags`, `subnets`, `registries`, so SQL can show and join
//! the facts behind every verdict.

use std::sync::{Arc, OnceLock};

use acrlens_netmap::{LazyTopology, Topology};
use arrow_array::builder::{
    BooleanBuilder, Int64Builder, ListBuilder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

use crate::scan::TopologyScan;

fn list_of_text() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
}

fn time_utc() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// One row per service-tag snapshot, tag and prefix.
fn service_tags(topology: &Topology) -> Vec<ArrayRef> {
    let (mut change, mut from, mut tag, mut region, mut service, mut prefix) = (
        Int64Builder::new(),
        TimestampMicrosecondBuilder::new().with_timezone("UTC"),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    for snapshot in topology.service_tag_snapshots() {
        for t in &snapshot.tags {
            for p in &t.prefixes {
                change.append_value(snapshot.change_number as i64);
                from.append_option(snapshot.effective_from);
                tag.append_value(&t.name);
                region.append_value(&t.region);
                service.append_value(&t.system_service);
                prefix.append_value(p.to_string());
            }
        }
    }
    vec![
        Arc::new(change.finish()),
        Arc::new(from.finish()),
        Arc::new(tag.finish()),
        Arc::new(region.finish()),
        Arc::new(service.finish()),
        Arc::new(prefix.finish()),
    ]
}

/// One row per subnet prefix.
fn subnets(topology: &Topology) -> Vec<ArrayRef> {
    let (mut vnet, mut subnet, mut prefix, mut delegations) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        ListBuilder::new(StringBuilder::new()),
    );
    for s in topology.subnets() {
        for p in &s.prefixes {
            vnet.append_value(&s.vnet);
            subnet.append_value(&s.name);
            prefix.append_value(p.to_string());
            for d in &s.delegations {
                delegations.values().append_value(d);
            }
            delegations.append(true);
        }
    }
    vec![
        Arc::new(vnet.finish()),
        Arc::new(subnet.finish()),
        Arc::new(prefix.finish()),
        Arc::new(delegations.finish()),
    ]
}

/// One row per registry configuration (a snapshot file, or a period rebuilt from the history;
/// a period whose configuration is not known has its settings NULL and says why in `unknown`),
/// registry by registry, oldest first; `changed` says what differs from the last known one
/// before it (NULL when there is none).
fn registries(topology: &Topology) -> Vec<ArrayRef> {
    let mut login = StringBuilder::new();
    let mut id = StringBuilder::new();
    let mut from = TimestampMicrosecondBuilder::new().with_timezone("UTC");
    let mut public = BooleanBuilder::new();
    let mut allow = BooleanBuilder::new();
    let mut rules = ListBuilder::new(StringBuilder::new());
    let mut bypass = BooleanBuilder::new();
    let mut tasks = BooleanBuilder::new();
    let mut source = StringBuilder::new();
    let mut origin = StringBuilder::new();
    let mut unknown = StringBuilder::new();
    let mut changed = StringBuilder::new();
    for (r, change) in acrlens_netmap::configurations(topology).iter().flatten() {
        let known = r.unknown.is_none();
        login.append_value(&r.login_server);
        id.append_value(&r.resource_id);
        from.append_option(r.effective_from);
        public.append_option(known.then_some(r.public_network_access));
        allow.append_option(known.then_some(r.default_allow));
        if known {
            for rule in &r.ip_rules {
                rules.values().append_value(rule.to_string());
            }
        }
        rules.append(known);
        bypass.append_option(known.then_some(r.bypass_azure_services));
        tasks.append_option(r.bypass_for_tasks.filter(|_| known));
        source.append_value(&r.source);
        origin.append_option(r.origin.as_deref());
        unknown.append_option(r.unknown.as_deref());
        changed.append_option(change.as_ref().map(|c| c.join("; ")));
    }
    vec![
        Arc::new(login.finish()),
        Arc::new(id.finish()),
        Arc::new(from.finish()),
        Arc::new(public.finish()),
        Arc::new(allow.finish()),
        Arc::new(rules.finish()),
        Arc::new(bypass.finish()),
        Arc::new(tasks.finish()),
        Arc::new(source.finish()),
        Arc::new(origin.finish()),
        Arc::new(unknown.finish()),
        Arc::new(changed.finish()),
    ]
}

/// The topology tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// `service_tags`.
    ServiceTags,
    /// `subnets`.
    Subnets,
    /// `registries`.
    Registries,
}

impl Table {
    /// Every topology table.
    pub const ALL: [Table; 3] = [Table::ServiceTags, Table::Subnets, Table::Registries];

    /// Its name in SQL.
    pub fn name(self) -> &'static str {
        match self {
            Table::ServiceTags => "service_tags",
            Table::Subnets => "subnets",
            Table::Registries => "registries",
        }
    }

    /// The table of that name.
    pub fn named(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The table's columns, whatever the topology: known without loading or compiling one.
    fn schema(self) -> SchemaRef {
        let fields = match self {
            Table::ServiceTags => vec![
                Field::new("change_number", DataType::Int64, false),
                Field::new("effective_from", time_utc(), true),
                Field::new("tag", DataType::Utf8, false),
                Field::new("region", DataType::Utf8, false),
                Field::new("system_service", DataType::Utf8, false),
                Field::new("prefix", DataType::Utf8, false),
            ],
            Table::Subnets => vec![
                Field::new("vnet", DataType::Utf8, false),
                Field::new("subnet", DataType::Utf8, false),
                Field::new("prefix", DataType::Utf8, false),
                Field::new("delegations", list_of_text(), false),
            ],
            Table::Registries => vec![
                Field::new("login_server", DataType::Utf8, false),
                Field::new("resource_id", DataType::Utf8, false),
                Field::new("effective_from", time_utc(), true),
                Field::new("public_network_access", DataType::Boolean, true),
                Field::new("default_allow", DataType::Boolean, true),
                Field::new("ip_rules", list_of_text(), true),
                Field::new("bypass_azure_services", DataType::Boolean, true),
                Field::new("bypass_for_tasks", DataType::Boolean, true),
                Field::new("source", DataType::Utf8, false),
                Field::new("origin", DataType::Utf8, true),
                Field::new("unknown", DataType::Utf8, true),
                Field::new("changed", DataType::Utf8, true),
            ],
        };
        Arc::new(Schema::new(fields))
    }

    /// The table's rows in `topology`, in the columns of [`Table::schema`].
    fn build(self, topology: &Topology) -> Result<RecordBatch> {
        let columns = match self {
            Table::ServiceTags => service_tags(topology),
            Table::Subnets => subnets(topology),
            Table::Registries => registries(topology),
        };
        Ok(RecordBatch::try_new(self.schema(), columns)?)
    }
}

/// A topology table's rows, built from the topology when a scan first reads them, so a query
/// that reads none never loads the topology.
#[derive(Debug)]
pub(crate) struct Rows {
    table: Table,
    topology: LazyTopology,
    built: OnceLock<RecordBatch>,
}

impl Rows {
    /// The table's rows.
    pub(crate) fn get(&self) -> Result<RecordBatch> {
        if let Some(batch) = self.built.get() {
            return Ok(batch.clone());
        }
        let topology = self
            .topology
            .get()
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        let batch = self.table.build(topology)?;
        Ok(self.built.get_or_init(|| batch).clone())
    }

    /// Which table.
    pub(crate) fn table(&self) -> Table {
        self.table
    }
}

/// A topology table. Its scans build the rows where the plan runs — on a cluster, each
/// executor from its own topology — so the rows never travel in a plan.
#[derive(Debug)]
pub struct TopologyTable {
    rows: Arc<Rows>,
    schema: SchemaRef,
}

impl TopologyTable {
    /// The table over a topology that is not loaded yet.
    pub fn new(table: Table, topology: LazyTopology) -> TopologyTable {
        let schema = table.schema();
        let rows = Rows {
            table,
            topology,
            built: OnceLock::new(),
        };
        TopologyTable {
            rows: Arc::new(rows),
            schema,
        }
    }

    /// Which table.
    pub fn table(&self) -> Table {
        self.rows.table
    }

    /// A scan of the columns `projection` names (all without one).
    pub fn scan_plan(&self, projection: Option<&Vec<usize>>) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(TopologyScan::try_new(
            self.rows.clone(),
            self.schema.clone(),
            projection.cloned(),
        )?))
    }
}

#[async_trait]
impl TableProvider for TopologyTable {
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
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // Filters and the limit are only hints: the plan applies them above the scan.
        self.scan_plan(projection)
    }
}

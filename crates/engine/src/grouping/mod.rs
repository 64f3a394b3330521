//! The first stage of a grouping (DataFusion's partial aggregate) done by numbers, for keys of
//! text (views or plain strings) and of integers, dates and times: each key value is numbered
//! once ([`numbers`]) and a group is found by its keys' numbers, then DataFusion's own
//! accumulators take the rows. DataFusion's grouping hashes and compares every row's text
//! (three quarters of the time of a query grouping the store's events by day, repository and
//! path); the store's text columns are Parquet dictionaries, whose rows point at a few places
//! each. Plain strings (the raw exports' columns) are numbered by their text, one hash a row
//! where DataFusion hashes and then compares every key column.
//!
//! [`NumberedGrouping`] replaces an `AggregateExec` in partial mode with [`NumberedAggregateExec`]
//! where every key is of such a type and at least one is text, with one grouping set, no
//! filter, no order or distinct in an aggregate, and accumulators that take groups. The output
//! is the partial aggregate DataFusion's final stage expects, in the same schema. Where the
//! final stage's partitions are merged anyway and its input is stored data, the rule then makes
//! the whole grouping one operator ([`merged`]).

mod merged;
mod numbers;
mod scan;

use std::fmt;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::SchemaRef;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::config::{ConfigOptions, ExecutionOptions};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{EmitTo, GroupsAccumulator};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr_common::utils::evaluate_expressions_to_arrays;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode, evaluate_many};
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, MetricBuilder, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, InputOrderMode, PlanProperties,
};
use futures::{StreamExt, TryStreamExt};

use numbers::{Groups, KeyValues, MAX_KEYS};

/// The rule that puts [`NumberedAggregateExec`] where it can take the place of a partial
/// aggregate.
#[derive(Debug, Default)]
pub struct NumberedGrouping;

impl PhysicalOptimizerRule for NumberedGrouping {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        merged::merged(plan.transform_up(numbered)?.data)
    }

    fn name(&self) -> &str {
        "numbered_grouping"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `node` as a [`NumberedAggregateExec`], where it is a partial aggregate one can take the place of.
fn numbered(node: Arc<dyn ExecutionPlan>) -> Result<Transformed<Arc<dyn ExecutionPlan>>> {
    match node.downcast_ref::<AggregateExec>() {
        Some(aggregate) if NumberedAggregateExec::takes(aggregate)? => Ok(Transformed::yes(
            Arc::new(NumberedAggregateExec::new(aggregate.clone())),
        )),
        _ => Ok(Transformed::no(node)),
    }
}

/// A partial aggregate that finds each row's group by the numbers of its keys.
#[derive(Debug)]
pub struct NumberedAggregateExec {
    /// The aggregate it stands for: its keys, aggregates, input, schema and properties.
    aggregate: AggregateExec,
    /// The rows each partition passed on ungrouped.
    metrics: ExecutionPlanMetricsSet,
}

impl NumberedAggregateExec {
    fn new(aggregate: AggregateExec) -> Self {
        NumberedAggregateExec {
            aggregate,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }

    /// Whether it can take the place of `aggregate`.
    fn takes(aggregate: &AggregateExec) -> Result<bool> {
        let input = aggregate.input_schema();
        let group_by = aggregate.group_expr();
        let mut text = false;
        for (expr, _) in group_by.expr() {
            let data_type = expr.data_type(&input)?;
            match KeyValues::of(&data_type) {
                Some(KeyValues::Text(..)) => text = true,
                Some(_) => {}
                None => return Ok(false),
            }
        }
        Ok(text
            && group_by.expr().len() <= MAX_KEYS
            && *aggregate.mode() == AggregateMode::Partial
            && group_by.is_single()
            && aggregate.filter_expr().iter().all(Option::is_none)
            && aggregate.limit_options().is_none()
            && *aggregate.input_order_mode() == InputOrderMode::Linear
            && aggregate.aggr_expr().iter().all(|a| {
                a.groups_accumulator_supported() && !a.is_distinct() && a.order_bys().is_empty()
            }))
    }
}

impl DisplayAs for NumberedAggregateExec {
    fn fmt_as(&self, format: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "NumberedAggregateExec: ")?;
        self.aggregate.fmt_as(format, f)
    }
}

impl ExecutionPlan for NumberedAggregateExec {
    fn name(&self) -> &'static str {
        "NumberedAggregateExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.aggregate.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![self.aggregate.input()]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        self.aggregate.apply_expressions(f)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let aggregate = with_children(&self.aggregate, children)?;
        Ok(Arc::new(NumberedAggregateExec::new(aggregate)))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let schema = self.aggregate.schema();
        let config = context.session_config();
        let options = &config.options().execution;
        let skipped =
            MetricBuilder::new(&self.metrics).counter("skipped_aggregation_rows", partition);
        let probe = Probe::of(options);
        let mut state = State::new(&self.aggregate, Arc::clone(&schema), config.batch_size())?;
        let input = self.aggregate.input().execute(partition, context)?;
        // Groups the input until the probe finds the rows hardly grouped; from then on each
        // row goes on as its own group's state, for the final stage to group.
        let grouped = futures::stream::once(async move {
            let mut input = input;
            let mut probe = probe;
            while let Some(batch) = input.next().await {
                let batch = batch?;
                state.add(&batch)?;
                if probe.hardly_grouped(batch.num_rows(), state.groups.len()) {
                    return Ok((state.emit()?, Some((state, input))));
                }
            }
            Ok::<_, DataFusionError>((state.emit()?, None))
        });
        let batches = grouped
            .map_ok(move |(batches, rest)| {
                let skipped = skipped.clone();
                let batches = futures::stream::iter(batches.into_iter().map(Ok));
                match rest {
                    None => batches.left_stream(),
                    Some((state, input)) => batches
                        .chain(input.map(move |batch| {
                            let batch = batch?;
                            skipped.add(batch.num_rows());
                            state.states(&batch)
                        }))
                        .right_stream(),
                }
            })
            .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, batches)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// `aggregate` over `children`.
fn with_children(
    aggregate: &AggregateExec,
    children: Vec<Arc<dyn ExecutionPlan>>,
) -> Result<AggregateExec> {
    #[expect(deprecated)]
    let replaced = Arc::new(aggregate.clone()).with_new_children(children)?;
    Ok(replaced
        .downcast_ref::<AggregateExec>()
        .ok_or_else(|| DataFusionError::Internal("not an aggregate".into()))?
        .clone())
}

/// When a partial grouping stops grouping: past `rows` input rows, as soon as there are more
/// groups than `ratio` of the rows (a key such as a correlation id, new on nearly every row),
/// as DataFusion's own partial aggregate does, with the same settings.
struct Probe {
    rows: usize,
    ratio: f64,
    seen: usize,
}

impl Probe {
    /// A probe with the session's settings.
    fn of(options: &ExecutionOptions) -> Probe {
        Probe {
            rows: options.skip_partial_aggregation_probe_rows_threshold,
            ratio: options.skip_partial_aggregation_probe_ratio_threshold,
            seen: 0,
        }
    }

    /// Whether the rows seen, `rows` more, are hardly grouped into `groups`.
    fn hardly_grouped(&mut self, rows: usize, groups: usize) -> bool {
        self.seen += rows;
        self.ratio < 1.0 && self.seen >= self.rows && groups as f64 > self.ratio * self.seen as f64
    }
}

/// A partition's groups and accumulators.
struct State {
    keys: Vec<Arc<dyn PhysicalExpr>>,
    values: Vec<KeyValues>,
    arguments: Vec<Vec<Arc<dyn PhysicalExpr>>>,
    accumulators: Vec<Box<dyn GroupsAccumulator>>,
    groups: Groups,
    /// Reused from batch to batch: the key numbers by column, each row's group.
    numbers: Vec<Vec<u32>>,
    indices: Vec<usize>,
    /// The partial aggregate's schema, and the rows of a batch of it.
    schema: SchemaRef,
    batch_size: usize,
}

impl State {
    fn new(aggregate: &AggregateExec, schema: SchemaRef, batch_size: usize) -> Result<State> {
        let input = aggregate.input_schema();
        let keys: Vec<_> = aggregate
            .group_expr()
            .expr()
            .iter()
            .map(|(e, _)| Arc::clone(e))
            .collect();
        let values = keys
            .iter()
            .map(|e| {
                KeyValues::of(&e.data_type(&input)?)
                    .ok_or_else(|| DataFusionError::Internal("a key not numbered".into()))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(State {
            numbers: vec![Vec::new(); keys.len()],
            groups: Groups::new(keys.len()),
            keys,
            values,
            arguments: aggregate
                .aggr_expr()
                .iter()
                .map(|a| a.expressions())
                .collect(),
            accumulators: aggregate
                .aggr_expr()
                .iter()
                .map(|a| a.create_groups_accumulator())
                .collect::<Result<_>>()?,
            indices: Vec::new(),
            schema,
            batch_size: batch_size.max(1),
        })
    }

    fn add(&mut self, batch: &RecordBatch) -> Result<()> {
        let rows = batch.num_rows();
        let keys = evaluate_expressions_to_arrays(&self.keys, batch)?;
        for ((column, values), numbers) in keys.iter().zip(&mut self.values).zip(&mut self.numbers)
        {
            numbers.clear();
            values.number(column, numbers)?;
        }
        self.indices.clear();
        self.groups.fit(&self.numbers);
        let width = self.numbers.len();
        let mut key = [0; MAX_KEYS];
        for row in 0..rows {
            for (k, numbers) in key.iter_mut().zip(&self.numbers) {
                *k = numbers[row];
            }
            self.indices.push(self.groups.index(&key[..width]));
        }
        let total = self.groups.len();
        let arguments = evaluate_many(&self.arguments, batch)?;
        for (columns, accumulator) in arguments.iter().zip(&mut self.accumulators) {
            accumulator.update_batch(columns, &self.indices, None, total)?;
        }
        Ok(())
    }

    /// The groups so far, as batches of the partial aggregate; forgets them.
    fn emit(&mut self) -> Result<Vec<RecordBatch>> {
        let groups = std::mem::replace(&mut self.groups, Groups::new(0));
        let mut columns: Vec<ArrayRef> = std::mem::take(&mut self.values)
            .iter()
            .enumerate()
            .map(|(i, v)| v.values(groups.column(i)))
            .collect::<Result<_>>()?;
        for accumulator in &mut self.accumulators {
            columns.extend(accumulator.state(EmitTo::All)?);
        }
        self.batches(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }

    /// `all` in batches of the session's size.
    fn batches(&self, all: RecordBatch) -> Result<Vec<RecordBatch>> {
        let rows = all.num_rows();
        Ok((0..rows)
            .step_by(self.batch_size)
            .map(|at| all.slice(at, self.batch_size.min(rows - at)))
            .collect())
    }

    /// Each row of `batch` as its own group's partial state.
    fn states(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let mut columns = evaluate_expressions_to_arrays(&self.keys, batch)?;
        let arguments = evaluate_many(&self.arguments, batch)?;
        for (values, accumulator) in arguments.iter().zip(&self.accumulators) {
            columns.extend(accumulator.convert_to_state(values, None)?);
        }
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }
}

//! The whole grouping by numbers, where its partitions' results are merged anyway: each
//! partition of the input is grouped by numbers on a task of its own, and their groups are
//! merged by number into one, sorted by numbers when the plan sorts by the keys.
//!
//! DataFusion's final stage hashes every partial group's text keys again to send it to a
//! partition, hashes and compares them again to find its final group, then sorts the groups by
//! comparing their texts row by row. Here a partition's groups join the merged ones through
//! their numbers (each distinct text is looked up once a partition), and the groups are sorted
//! by the places of their keys' values in order (each distinct value is compared while the
//! values are sorted, not while the groups are).
//!
//! [`merged`] takes a final aggregate over a [`NumberedAggregateExec`] where the plan merges
//! the final partitions into one (or is the final aggregate itself) and nothing between them
//! needs the partitions: projections, filters and sorts of each partition, one of which,
//! sorting by keys alone, it does itself. Its output is one partition. Where the rows hardly
//! group (the probe of [`Probe`] trips on a partition), it runs the plan it stands for
//! instead, whose final stage works on every core; so it takes only plans that read stored data,
//! which reads the same again (not raw exports). Where its input is a plain scan of local
//! Parquet files, it reads them itself, its text keys as the files' dictionaries
//! ([`DictionaryScan`]).

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arrow_array::{ArrayRef, RecordBatch, UInt32Array};
use arrow_schema::DataType;
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::compute::take;
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::EmitTo;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::utils::collect_columns;
use datafusion::physical_expr::{
    EquivalenceProperties, LexOrdering, PhysicalExpr, PhysicalSortExpr,
};
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType, reset_plan_states};
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::metrics::{
    Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet,
};
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties, replace_children_if_necessary,
};
use futures::{StreamExt, TryStreamExt};
use rayon::prelude::*;

use super::numbers::{MAX_KEYS, pack};
use super::scan::DictionaryScan;
use super::{NumberedAggregateExec, Probe, State};

/// `plan` with each final aggregate over a grouping by numbers whose partitions are merged
/// anyway made a [`MergedAggregateExec`].
pub(super) fn merged(plan: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    // Whoever runs the plan merges the partitions of its root.
    if let Some(whole) = whole(&plan)? {
        return Ok(whole);
    }
    Ok(plan
        .transform_down(|node| {
            let merges =
                node.is::<SortPreservingMergeExec>() || node.is::<CoalescePartitionsExec>();
            let child = match node.children()[..] {
                [child] if merges => whole(child)?,
                _ => None,
            };
            Ok(match child {
                Some(child) => Transformed::new(
                    replace_children_if_necessary(Arc::clone(&node), vec![child])?,
                    true,
                    TreeNodeRecursion::Jump,
                ),
                None => Transformed::no(node),
            })
        })?
        .data)
}

/// `node` with the final aggregate it leads to made a [`MergedAggregateExec`], when it leads
/// to one through operators that work on each partition alone.
fn whole(node: &Arc<dyn ExecutionPlan>) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    if let Some(aggregate) = node.downcast_ref::<AggregateExec>() {
        if !takes(aggregate) {
            return Ok(None);
        }
        let merged: Arc<dyn ExecutionPlan> =
            Arc::new(CoalescePartitionsExec::new(Arc::clone(node)));
        return Ok(MergedAggregateExec::new(merged, Vec::new()).map(|m| Arc::new(m) as _));
    }
    let by_partition = node.is::<ProjectionExec>()
        || node.is::<FilterExec>()
        || node
            .downcast_ref::<SortExec>()
            .is_some_and(SortExec::preserve_partitioning);
    let [child] = node.children()[..] else {
        return Ok(None);
    };
    if !by_partition {
        return Ok(None);
    }
    let Some(child) = whole(child)? else {
        return Ok(None);
    };
    if let Some(sort) = node.downcast_ref::<SortExec>()
        && sort.fetch().is_none()
        && let Some(merged) = child.downcast_ref::<MergedAggregateExec>()
        && let Some(order) = merged.order_of(sort.expr())
    {
        // The sort as DataFusion would make it, for the groups that are not merged.
        let sorted =
            replace_children_if_necessary(Arc::clone(node), vec![Arc::clone(&merged.last)])?;
        let merged = Arc::new(SortPreservingMergeExec::new(sort.expr().clone(), sorted));
        return Ok(MergedAggregateExec::new(merged, order).map(|m| Arc::new(m) as _));
    }
    Ok(Some(replace_children_if_necessary(
        Arc::clone(node),
        vec![child],
    )?))
}

/// Whether `last` is the final stage of a grouping by numbers.
fn takes(last: &AggregateExec) -> bool {
    matches!(
        last.mode(),
        AggregateMode::Final | AggregateMode::FinalPartitioned
    ) && last.limit_options().is_none()
        && last.group_expr().is_single()
        && partial_below(last).is_some()
        && reads_stored(last.input())
}

/// Whether every leaf of `plan` is a scan of stored data (files or memory), which reads the
/// same rows when it runs again, as the operator's fallback makes it. A scan of raw exports
/// would decode, count and quarantine its records twice.
fn reads_stored(plan: &Arc<dyn ExecutionPlan>) -> bool {
    match plan.children()[..] {
        [] => plan.is::<DataSourceExec>(),
        ref children => children.iter().all(|child| reads_stored(child)),
    }
}

/// The grouping by numbers whose states `last` merges.
fn partial_below(last: &AggregateExec) -> Option<&NumberedAggregateExec> {
    let mut below = last.input();
    if below.is::<RepartitionExec>() || below.is::<CoalescePartitionsExec>() {
        below = below.children()[0];
    }
    below.downcast_ref::<NumberedAggregateExec>()
}

/// The input columns of `partial` that are text keys and read by nothing else: they may be
/// read as dictionaries.
fn dictionary_keys(partial: &AggregateExec) -> Vec<usize> {
    let input = partial.input_schema();
    let keys = partial.group_expr().expr().iter().map(|(e, _)| e);
    let text_column = |e: &Arc<dyn PhysicalExpr>| {
        e.downcast_ref::<Column>()
            .filter(|c| input.field(c.index()).data_type() == &DataType::Utf8View)
            .map(Column::index)
    };
    let arguments: Vec<_> = partial
        .aggr_expr()
        .iter()
        .flat_map(|a| a.expressions())
        .collect();
    let others: HashSet<usize> = keys
        .clone()
        .filter(|e| text_column(e).is_none())
        .chain(&arguments)
        .flat_map(|e| collect_columns(e).into_iter().map(|c| c.index()))
        .collect();
    keys.filter_map(text_column)
        .filter(|c| !others.contains(c))
        .collect()
}

/// A key the groups are sorted by.
#[derive(Debug, Clone, Copy)]
struct SortKey {
    column: usize,
    descending: bool,
    nulls_first: bool,
}

/// A final aggregate over a grouping by numbers, done whole: see the module.
#[derive(Debug)]
pub struct MergedAggregateExec {
    /// The plan it stands for: the final aggregate's partitions merged, sorted if `order` is
    /// not empty. It is run instead when the partitions' rows hardly group (most rows a group
    /// of their own), as the two stages do that better on every core.
    merged: Arc<dyn ExecutionPlan>,
    /// The final stage in `merged`: its schema, and the partitions it merges.
    last: Arc<dyn ExecutionPlan>,
    /// The first stage below it: its keys, arguments and input.
    partial: AggregateExec,
    /// The keys the groups are given sorted by, if any.
    order: Vec<SortKey>,
    properties: Arc<PlanProperties>,
    /// How many partitions hardly grouped (any sends the run to `merged`).
    metrics: ExecutionPlanMetricsSet,
    /// The first stage's input read by acrlens, its text keys as Parquet dictionaries, where
    /// it is a plain scan of the store's files.
    scan: Option<Arc<DictionaryScan>>,
}

impl MergedAggregateExec {
    /// The whole grouping `merged` does (the partitions of a final aggregate over a grouping
    /// by numbers merged, and sorted by `order`).
    fn new(merged: Arc<dyn ExecutionPlan>, order: Vec<SortKey>) -> Option<Self> {
        let mut last = Arc::clone(&merged);
        while !last.is::<AggregateExec>() {
            let [child] = last.children()[..] else {
                return None;
            };
            last = Arc::clone(child);
        }
        let partial = partial_below(last.downcast_ref::<AggregateExec>()?)?
            .aggregate
            .clone();
        let schema = last.schema();
        let ordering: Vec<PhysicalSortExpr> = order
            .iter()
            .map(|k| {
                let column = Column::new(schema.field(k.column).name(), k.column);
                let options = SortOptions::new(k.descending, k.nulls_first);
                PhysicalSortExpr::new(Arc::new(column), options)
            })
            .collect();
        let orderings = (!ordering.is_empty()).then_some(ordering);
        let properties = PlanProperties::new(
            EquivalenceProperties::new_with_orderings(Arc::clone(&schema), orderings),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        Some(MergedAggregateExec {
            merged,
            last,
            order,
            properties: Arc::new(properties),
            metrics: ExecutionPlanMetricsSet::new(),
            scan: DictionaryScan::of(partial.input(), &dictionary_keys(&partial)).map(Arc::new),
            partial,
        })
    }

    /// The keys `ordering` sorts by, when it sorts by keys alone.
    fn order_of(&self, ordering: &LexOrdering) -> Option<Vec<SortKey>> {
        let keys = self.partial.group_expr().expr().len();
        let mut order: Vec<SortKey> = Vec::new();
        for sort in ordering.iter() {
            let column = sort.expr.downcast_ref::<Column>()?.index();
            if column >= keys {
                return None;
            }
            if order.iter().all(|k| k.column != column) {
                order.push(SortKey {
                    column,
                    descending: sort.options.descending,
                    nulls_first: sort.options.nulls_first,
                });
            }
        }
        Some(order)
    }
}

impl DisplayAs for MergedAggregateExec {
    fn fmt_as(&self, _format: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "MergedAggregateExec")?;
        if !self.order.is_empty() {
            let schema = self.last.schema();
            let order: Vec<String> = self
                .order
                .iter()
                .map(|k| {
                    let direction = if k.descending { "DESC" } else { "ASC" };
                    let nulls = if k.nulls_first { "FIRST" } else { "LAST" };
                    format!(
                        "{} {direction} NULLS {nulls}",
                        schema.field(k.column).name()
                    )
                })
                .collect();
            write!(f, ": order=[{}]", order.join(", "))?;
        }
        if let Some(scan) = &self.scan {
            let columns: Vec<&str> = scan.dictionaries().collect();
            write!(f, ", dictionaries=[{}]", columns.join(", "))?;
        }
        write!(f, " (else the plan below)")
    }
}

impl ExecutionPlan for MergedAggregateExec {
    fn name(&self) -> &'static str {
        "MergedAggregateExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.merged]
    }

    /// The first stage's keys and arguments, which it evaluates itself.
    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        self.partial.apply_expressions(f)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let [merged] = <[_; 1]>::try_from(children)
            .map_err(|_| DataFusionError::Internal("one child".into()))?;
        Self::new(merged, self.order.clone())
            .map(|m| Arc::new(m) as _)
            .ok_or_else(|| DataFusionError::Internal("no grouping by numbers below".into()))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "MergedAggregateExec has one partition, not {partition}"
            )));
        }
        let config = context.session_config();
        let batch_size = config.batch_size();
        let options = config.options().execution.clone();
        let input = self.partial.input();
        let hardly = Arc::new(AtomicBool::new(false));
        let hardly_grouped =
            MetricBuilder::new(&self.metrics).counter("hardly_grouped_partitions", 0);
        let grouping = || {
            Ok::<_, DataFusionError>(Grouping {
                state: State::new(&self.partial, self.partial.schema(), batch_size)?,
                probe: Probe::of(&options),
                hardly: Arc::clone(&hardly),
                hardly_grouped: hardly_grouped.clone(),
            })
        };
        let partitions = input.output_partitioning().partition_count();
        let units = match &self.scan {
            Some(scan) => scan
                .units(
                    context
                        .runtime_env()
                        .cache_manager
                        .get_file_metadata_cache()
                        .as_ref(),
                )?
                .map(|units| (Arc::clone(scan), Arc::new(units))),
            None => None,
        };
        let tasks = match units {
            Some((scan, units)) => (0..partitions)
                .map(|_| {
                    let mut grouping = grouping()?;
                    let (scan, units) = (Arc::clone(&scan), Arc::clone(&units));
                    Ok(SpawnedTask::spawn_blocking(move || {
                        while !grouping.stopped()
                            && scan.read_next(&units, batch_size, &mut |b| grouping.add(&b))?
                        {
                        }
                        Ok::<_, DataFusionError>(grouping.done())
                    }))
                })
                .collect::<Result<Vec<_>>>()?,
            None => (0..partitions)
                .map(|p| {
                    let mut rows = input.execute(p, Arc::clone(&context))?;
                    let mut grouping = grouping()?;
                    Ok(SpawnedTask::spawn(async move {
                        while let Some(batch) = rows.next().await {
                            if !grouping.add(&batch?)? {
                                break;
                            }
                        }
                        Ok::<_, DataFusionError>(grouping.done())
                    }))
                })
                .collect::<Result<Vec<_>>>()?,
        };
        // The partial stage's keys and accumulators (the final stage's are the same) with the
        // final schema: the whole when no partition has groups, else its schema.
        let mut whole = State::new(&self.partial, self.last.schema(), batch_size)?;
        let order = self.order.clone();
        let merged = Arc::clone(&self.merged);
        let schema = self.last.schema();
        let batches = futures::stream::once(async move {
            let mut parts = Vec::with_capacity(tasks.len());
            for task in tasks {
                let part = task
                    .join_unwind()
                    .await
                    .map_err(|e| DataFusionError::External(Box::new(e)))??;
                parts.push(part);
            }
            let Some(parts) = parts.into_iter().collect::<Option<Vec<_>>>() else {
                // Run afresh: a scan's partitions share the files left to read.
                return reset_plan_states(merged)?.execute(0, context);
            };
            let mut parts = parts.into_iter();
            // The first partition's groups start the whole as they are (its accumulators
            // merge the others' states as the final stage's would): merging them into empty
            // ones copied every group once more.
            if let Some(first) = parts.next() {
                whole = State {
                    schema: whole.schema,
                    ..first
                };
            }
            for part in parts {
                whole.merge(part)?;
            }
            let batches = whole.finish(&order)?;
            Ok(Box::pin(RecordBatchStreamAdapter::new(
                schema,
                futures::stream::iter(batches.into_iter().map(Ok)),
            )) as SendableRecordBatchStream)
        })
        .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.last.schema(),
            batches,
        )))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// One task's grouping of the rows it reads, until the rows of any task are found hardly
/// grouped.
struct Grouping {
    state: State,
    probe: Probe,
    /// Whether any task's rows are hardly grouped.
    hardly: Arc<AtomicBool>,
    hardly_grouped: Count,
}

impl Grouping {
    /// Groups `batch`; whether to go on.
    fn add(&mut self, batch: &RecordBatch) -> Result<bool> {
        self.state.add(batch)?;
        if self
            .probe
            .hardly_grouped(batch.num_rows(), self.state.groups.len())
        {
            self.hardly_grouped.add(1);
            self.hardly.store(true, Ordering::Relaxed);
        }
        Ok(!self.stopped())
    }

    fn stopped(&self) -> bool {
        self.hardly.load(Ordering::Relaxed)
    }

    /// The groups, unless the rows are hardly grouped.
    fn done(self) -> Option<State> {
        (!self.stopped()).then_some(self.state)
    }
}

/// The bits that hold every number below `n`.
fn bits(n: usize) -> u32 {
    usize::BITS - n.saturating_sub(1).leading_zeros()
}

/// The groups `0..count` in the order of their places (`place(g, k)` for key `k`, below
/// `limits[k]`; at most [`MAX_KEYS`] keys), ties in the order of the groups. The places and
/// the group make one word when their bits fit (keys of a few thousand values each), sorted by
/// its digits: a sort of words by comparing took a third of the time of a sort of pairs.
fn in_order(count: usize, limits: &[usize], place: impl Fn(u32, usize) -> u32) -> Vec<u32> {
    let widths: Vec<u32> = limits.iter().map(|&limit| bits(limit)).collect();
    let group_bits = bits(count);
    let word_bits = widths.iter().sum::<u32>() + group_bits;
    if word_bits <= u64::BITS {
        let mut keys: Vec<u64> = (0..count as u32)
            .map(|g| {
                let word =
                    (0..widths.len()).fold(0, |word, k| word << widths[k] | u64::from(place(g, k)));
                word << group_bits | u64::from(g)
            })
            .collect();
        radix_sort(&mut keys, word_bits);
        let group = (1u64 << group_bits) - 1;
        keys.into_iter().map(|k| (k & group) as u32).collect()
    } else {
        let mut keys: Vec<(u128, u32)> = (0..count as u32)
            .map(|g| {
                let mut places = [0; MAX_KEYS];
                for (k, at) in places.iter_mut().enumerate().take(limits.len()) {
                    *at = place(g, k);
                }
                (pack(&places[..limits.len()]), g)
            })
            .collect();
        keys.sort_unstable();
        keys.into_iter().map(|(_, g)| g).collect()
    }
}

/// Sorts `keys`, whose bits above the lowest `bits` are zero, by their digits of 11 bits from
/// the lowest: a pass a digit over the keys, where a sort by comparing took ~17 comparisons a
/// key for the 80,000 groups of the store job.
fn radix_sort(keys: &mut Vec<u64>, bits: u32) {
    const DIGIT: u32 = 11;
    const MASK: u64 = (1 << DIGIT) - 1;
    let mut sorted = vec![0; keys.len()];
    for shift in (0..bits).step_by(DIGIT as usize) {
        let digit = |key: u64| ((key >> shift) & MASK) as usize;
        let mut places = vec![0usize; 1 << DIGIT];
        for &key in keys.iter() {
            places[digit(key)] += 1;
        }
        let mut at = 0;
        for place in &mut places {
            (*place, at) = (at, at + *place);
        }
        for &key in keys.iter() {
            sorted[places[digit(key)]] = key;
            places[digit(key)] += 1;
        }
        std::mem::swap(keys, &mut sorted);
    }
}

impl State {
    /// Takes in the groups of `part`, a partition's grouping of the same keys, merging their
    /// partial states into the accumulators (those of the final stage).
    fn merge(&mut self, mut part: State) -> Result<()> {
        let numbers: Vec<Vec<u32>> = self
            .values
            .iter_mut()
            .zip(&part.values)
            .map(|(here, there)| here.renumbered(there))
            .collect::<Result<_>>()?;
        let width = numbers.len();
        self.groups.fit(&numbers);
        let mut key = [0; MAX_KEYS];
        self.indices.clear();
        for g in 0..part.groups.len() {
            for (c, k) in key[..width].iter_mut().enumerate() {
                *k = numbers[c][part.groups.number(g, c) as usize];
            }
            self.indices.push(self.groups.index(&key[..width]));
        }
        let total = self.groups.len();
        for (here, there) in self.accumulators.iter_mut().zip(&mut part.accumulators) {
            here.merge_batch(&there.state(EmitTo::All)?, &self.indices, total)?;
        }
        Ok(())
    }

    /// The final groups, sorted by `order`, as batches of the final aggregate.
    fn finish(mut self, order: &[SortKey]) -> Result<Vec<RecordBatch>> {
        let count = self.groups.len();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        let sorted: Option<UInt32Array> = (!order.is_empty()).then(|| {
            let ranks: Vec<Vec<u32>> = order
                .iter()
                .map(|k| self.values[k.column].ranks(k.descending, k.nulls_first))
                .collect();
            let limits: Vec<usize> = ranks.iter().map(|r| r.len() + 1).collect();
            let place = |g: u32, k: usize| {
                ranks[k][self.groups.number(g as usize, order[k].column) as usize]
            };
            in_order(count, &limits, place).into()
        });
        let groups: Vec<usize> = match &sorted {
            Some(sorted) => sorted.values().iter().map(|&g| g as usize).collect(),
            None => (0..count).collect(),
        };
        // The columns on every core: each is a pass over every group.
        let (keys, measures) = rayon::join(
            || {
                self.values
                    .par_iter()
                    .enumerate()
                    .map(|(c, values)| {
                        values.values(groups.iter().map(|&g| self.groups.number(g, c)))
                    })
                    .collect::<Result<Vec<_>>>()
            },
            || {
                self.accumulators
                    .par_iter_mut()
                    .map(|accumulator| {
                        let values = accumulator.evaluate(EmitTo::All)?;
                        Ok(match &sorted {
                            Some(sorted) => take(&values, sorted, None)?,
                            None => values,
                        })
                    })
                    .collect::<Result<Vec<_>>>()
            },
        );
        columns.extend(keys?);
        columns.extend(measures?);
        self.batches(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Places of `keys` keys below `limit`, scattered over `count` groups, with ties.
    fn places(count: usize, keys: usize, limit: u64) -> Vec<Vec<u32>> {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        (0..count)
            .map(|_| {
                (0..keys)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1);
                        ((state >> 33) % limit) as u32
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn groups_come_in_the_order_of_their_places_whether_the_places_fit_a_word_or_not() {
        // Few values of each key (one word), and values of 30 bits (pairs); ties by group.
        for (keys, limit) in [(3, 5), (2, 4_000), (4, 1 << 30), (3, 1 << 30)] {
            let count = 2_000;
            let places = places(count, keys, limit);
            let limits = vec![limit as usize; keys];
            let got = in_order(count, &limits, |g, k| places[g as usize][k]);
            let mut want: Vec<u32> = (0..count as u32).collect();
            want.sort_by_key(|&g| (places[g as usize].clone(), g));
            assert_eq!(got, want, "{keys} keys below {limit}");
        }
    }

    #[test]
    fn a_radix_sort_orders_words_of_any_width() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for bits in [1, 11, 12, 35, 63, 64] {
            let mut keys: Vec<u64> = (0..5_000)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state >> (64 - bits)
                })
                .collect();
            let mut want = keys.clone();
            want.sort_unstable();
            radix_sort(&mut keys, bits);
            assert_eq!(keys, want, "{bits} bits");
        }
    }

    #[test]
    fn bits_hold_every_number_below_the_limit() {
        assert_eq!(
            [0, 1, 2, 3, 4, 5, 1 << 20].map(bits),
            [0, 0, 1, 2, 2, 3, 20]
        );
    }
}

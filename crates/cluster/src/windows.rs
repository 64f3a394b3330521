//! Window functions whose PARTITION BY key a filter made constant, on a cluster.
//!
//! `WHERE registry = 'x'` below `row_number() OVER (PARTITION BY registry ORDER BY time)`
//! makes the key constant, and DataFusion sorts the window's input by `time` alone. When the
//! sort and the filter end up in different stages, the executor running the window no longer
//! knows the key is constant and refuses its input ("Expects PARTITION BY expression to be
//! ordered"). Sorting by the key first as well (free for a constant) states the order the window
//! needs in the window's own stage.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::Result;
use datafusion::physical_expr::{LexOrdering, PhysicalExpr, PhysicalSortExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::windows::{BoundedWindowAggExec, WindowAggExec};
use datafusion::physical_plan::{ExecutionPlan, replace_children_if_necessary};

/// Puts a window's PARTITION BY keys at the head of the sort under it, when they are missing.
#[derive(Debug, Default)]
pub struct SortedWindowKeys;

impl PhysicalOptimizerRule for SortedWindowKeys {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let keys = if let Some(w) = node.downcast_ref::<BoundedWindowAggExec>() {
                w.partition_keys()
            } else if let Some(w) = node.downcast_ref::<WindowAggExec>() {
                w.partition_keys()
            } else {
                return Ok(Transformed::no(node));
            };
            let [input] = node.children()[..] else {
                return Ok(Transformed::no(node));
            };
            let Some(sort) = input.downcast_ref::<SortExec>() else {
                return Ok(Transformed::no(node));
            };
            let Some(ordering) = with_keys_first(&keys, sort.expr()) else {
                return Ok(Transformed::no(node));
            };
            let resorted = SortExec::new(ordering, sort.input().clone())
                .with_preserve_partitioning(sort.preserve_partitioning())
                .with_fetch(sort.fetch());
            let window = replace_children_if_necessary(node.clone(), vec![Arc::new(resorted)])?;
            Ok(Transformed::yes(window))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "acrlens_sorted_window_keys"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `ordering` with the keys it lacks put first, or `None` when it has them all.
fn with_keys_first(keys: &[Arc<dyn PhysicalExpr>], ordering: &LexOrdering) -> Option<LexOrdering> {
    let missing: Vec<PhysicalSortExpr> = keys
        .iter()
        .filter(|k| !ordering.iter().any(|e| e.expr.as_ref() == k.as_ref()))
        .map(|k| PhysicalSortExpr::new_default(k.clone()))
        .collect();
    if missing.is_empty() {
        return None;
    }
    LexOrdering::new(missing.into_iter().chain(ordering.iter().cloned()))
}

#[cfg(test)]
mod tests {
    use datafusion::physical_plan::displayable;
    use datafusion::prelude::SessionContext;

    use super::*;

    /// The sort under the window, as the plan shows it.
    async fn window_sort(ctx: &SessionContext) -> String {
        ctx.sql("CREATE TABLE t (s TEXT, v INT) AS VALUES ('a', 1), ('a', 2), ('b', 3)")
            .await
            .unwrap();
        let df = ctx
            .sql("SELECT s, row_number() OVER (PARTITION BY s ORDER BY v DESC) AS k FROM t WHERE s = 'a'")
            .await
            .unwrap();
        let plan = df.create_physical_plan().await.unwrap();
        let text = displayable(plan.as_ref()).indent(false).to_string();
        text.lines()
            .find(|l| l.contains("SortExec"))
            .unwrap_or_default()
            .trim()
            .to_owned()
    }

    #[tokio::test]
    async fn the_partition_key_a_filter_fixed_is_sorted_by_again() {
        // DataFusion drops the constant key from the sort…
        let plain = window_sort(&SessionContext::new()).await;
        assert!(plain.starts_with("SortExec: expr=[v@1 DESC]"), "{plain}");
        // …and the rule puts it back first.
        let ctx = SessionContext::new();
        let state = datafusion::execution::SessionStateBuilder::new_from_existing(ctx.state())
            .with_physical_optimizer_rule(Arc::new(SortedWindowKeys))
            .build();
        let fixed = window_sort(&SessionContext::new_with_state(state)).await;
        assert!(
            fixed.starts_with("SortExec: expr=[s@0 ASC, v@1 DESC]"),
            "{fixed}"
        );
    }
}

//! The date of a UTC timestamp by integer division.
//!
//! `CAST(time AS DATE)` is how events are grouped by day. Arrow's cast kernel converts every
//! row through chrono (a time-zone offset, a calendar date, and back to days since 1970): a fifth
//! of a count by day over the store. For a timestamp in UTC, or without a time zone, the date is
//! simply the number of whole days since 1970, rounded down. An optimizer rule replaces such
//! casts with [`UtcDate`], keeping each expression's name so the plan's schema does not change;
//! casts of timestamps in any other zone are left to Arrow.

use std::sync::{Arc, LazyLock};

use arrow_array::{Array, ArrayRef, Date32Array, Int64Array};
use arrow_schema::{DataType, TimeUnit};
use datafusion::arrow::compute::cast;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::expr::{Cast, TryCast};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ExprSchemable, LogicalPlan, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility,
};
use datafusion::optimizer::{ApplyOrder, OptimizerConfig, OptimizerRule};

/// Replaces `CAST(t AS DATE)` of a UTC (or zone-less) timestamp with [`UtcDate`].
#[derive(Debug, Default)]
pub struct UtcDates;

impl OptimizerRule for UtcDates {
    fn name(&self) -> &str {
        "acrlens_utc_dates"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::BottomUp)
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        // The types of a plan's expressions are those of its input's columns; plans of several
        // inputs (joins, unions) are left alone.
        let schema = match plan.inputs().as_slice() {
            [input] => Arc::clone(input.schema()),
            _ => return Ok(Transformed::no(plan)),
        };
        let names = NamePreserver::new(&plan);
        let rewrite = |expr: Expr| {
            let name = names.save(&expr);
            let rewritten = expr.transform_up(|e| utc_date(e, &schema))?;
            Ok(if rewritten.transformed {
                Transformed::yes(name.restore(rewritten.data))
            } else {
                rewritten
            })
        };
        plan.map_expressions(|expr| match expr {
            // A grouping set names no column of its own: its members keep theirs.
            Expr::GroupingSet(_) => expr.map_children(rewrite),
            _ => rewrite(expr),
        })
    }
}

/// The cast's replacement, if `expr` is a cast to a date of a UTC or zone-less timestamp.
fn utc_date(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let inner = match &expr {
        Expr::Cast(Cast { expr: inner, field }) | Expr::TryCast(TryCast { expr: inner, field })
            if field.data_type() == &DataType::Date32 =>
        {
            inner
        }
        _ => return Ok(Transformed::no(expr)),
    };
    // A type that cannot be worked out here (an outer reference) keeps the cast.
    match inner.get_type(schema) {
        Ok(DataType::Timestamp(_, zone)) if zone.as_deref().is_none_or(is_utc) => Ok(
            Transformed::yes(UTC_DATE.call(vec![inner.as_ref().clone()])),
        ),
        _ => Ok(Transformed::no(expr)),
    }
}

/// Whether a time-zone name is UTC itself.
fn is_utc(zone: &str) -> bool {
    matches!(zone, "UTC" | "utc" | "Z" | "+00:00" | "+00" | "Etc/UTC")
}

pub(crate) static UTC_DATE: LazyLock<ScalarUDF> =
    LazyLock::new(|| ScalarUDF::from(UtcDate::default()));

/// `utc_date(t)`: the date of a timestamp read as UTC. Not registered under its name: only the
/// optimizer puts it into plans.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct UtcDate {
    signature: Signature,
}

impl Default for UtcDate {
    fn default() -> Self {
        UtcDate {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for UtcDate {
    fn name(&self) -> &str {
        "utc_date"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Date32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [arg] = args.args.as_slice() else {
            return Err(DataFusionError::Plan("utc_date takes one argument".into()));
        };
        match arg {
            ColumnarValue::Array(array) => Ok(ColumnarValue::Array(Arc::new(dates(array)?))),
            ColumnarValue::Scalar(value) => {
                let days = dates(&value.to_array()?)?;
                Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                    &days, 0,
                )?))
            }
        }
    }
}

/// Days since 1970 of each timestamp, rounded down (a time before 1970 is on the day before).
fn dates(array: &ArrayRef) -> Result<Date32Array> {
    let per_day: i64 = match array.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => 86_400,
        DataType::Timestamp(TimeUnit::Millisecond, _) => 86_400_000,
        DataType::Timestamp(TimeUnit::Microsecond, _) => 86_400_000_000,
        DataType::Timestamp(TimeUnit::Nanosecond, _) => 86_400_000_000_000,
        other => {
            return Err(DataFusionError::Plan(format!(
                "utc_date takes a timestamp, not {other}"
            )));
        }
    };
    // The timestamp's numbers as they are (a reinterpretation, not a conversion).
    let numbers = cast(array, &DataType::Int64)?;
    let numbers = numbers
        .as_any()
        .downcast_ref::<Int64Array>()
        .ok_or_else(|| DataFusionError::Internal("a timestamp cast to Int64".into()))?;
    // Whole days of an i64 of seconds or finer fit in an i32.
    Ok(numbers.unary(|t| t.div_euclid(per_day) as i32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::TimestampMicrosecondArray;

    #[test]
    fn days_are_rounded_down_as_arrow_casts_them() {
        let times = [
            Some(0),
            Some(86_399_999_999),
            Some(86_400_000_000),
            Some(-1),
            Some(-86_400_000_000),
            Some(-86_400_000_001),
            Some(1_762_166_400_123_456),
            None,
        ];
        for zone in [None, Some("UTC"), Some("+00:00")] {
            let array: ArrayRef =
                Arc::new(TimestampMicrosecondArray::from(times.to_vec()).with_timezone_opt(zone));
            let ours = dates(&array).unwrap_or_else(|e| panic!("{e}"));
            let arrows = cast(&array, &DataType::Date32).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&ours as &dyn Array, arrows.as_ref(), "zone {zone:?}");
        }
    }

    /// Counts by day of the same times in UTC, without a zone and two hours east of UTC, with
    /// the rule and without: the same rows, and the rule's function in the plan only where the
    /// zone is UTC.
    #[tokio::test]
    async fn the_rule_replaces_only_casts_of_utc_times_and_changes_no_result() {
        use datafusion::datasource::MemTable;
        use datafusion::prelude::SessionContext;
        let times = vec![
            Some(-1),
            Some(0),
            Some(86_399_999_999),
            Some(7_200_000_000),
            None,
        ];
        let zoned = |zone: Option<&str>| -> ArrayRef {
            Arc::new(TimestampMicrosecondArray::from(times.clone()).with_timezone_opt(zone))
        };
        let batch = arrow_array::RecordBatch::try_from_iter([
            ("utc", zoned(Some("UTC"))),
            ("naive", zoned(None)),
            ("east", zoned(Some("+02:00"))),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let table =
            MemTable::try_new(batch.schema(), vec![vec![batch]]).unwrap_or_else(|e| panic!("{e}"));
        let table = Arc::new(table);
        let sql = "SELECT CAST(utc AS DATE), TRY_CAST(naive AS DATE) AS naive_day, \
                   CAST(east AS DATE) AS east_day, count(*) AS n \
                   FROM t GROUP BY 1, 2, 3 ORDER BY 1, 2, 3";
        let mut answers = Vec::new();
        for with_rule in [false, true] {
            let ctx = SessionContext::new();
            if with_rule {
                ctx.add_optimizer_rule(Arc::new(UtcDates));
            }
            ctx.register_table("t", table.clone())
                .unwrap_or_else(|e| panic!("{e}"));
            let frame = ctx.sql(sql).await.unwrap_or_else(|e| panic!("{e}"));
            let plan = format!(
                "{}",
                frame
                    .clone()
                    .into_optimized_plan()
                    .unwrap_or_else(|e| panic!("{e}"))
                    .display_indent()
            );
            assert_eq!(
                plan.matches("utc_date(").count(),
                if with_rule { 2 } else { 0 },
                "{plan}"
            );
            let rows = frame.collect().await.unwrap_or_else(|e| panic!("{e}"));
            let text = datafusion::arrow::util::pretty::pretty_format_batches(&rows)
                .unwrap_or_else(|e| panic!("{e}"))
                .to_string();
            answers.push(text);
        }
        assert_eq!(answers[0], answers[1]);
        // An unnamed cast is named after its operand, with the rule as without.
        assert!(answers[1].contains("| t.utc "), "{}", answers[1]);
    }
}

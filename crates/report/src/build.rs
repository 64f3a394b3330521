//! Making the report: the overview, the caller tables and every rule of the policy, over the
//! rollup views of a session's attributed `events` (the events themselves for the samples and
//! the rules scoped to repositories; `registries`, `service_tags` for the rules that read the
//! topology).

use acrlens_attrib::AccessPath;
use acrlens_policy::Policy;
use acrlens_values::format_timestamp_micros;
use datafusion::error::Result;
use datafusion::prelude::SessionContext;

use crate::callers::{CALLERS, busiest_callers, count_callers, trusted_callers};
use crate::changes::changes;
use crate::model::{Inputs, Period, Report, SCHEMA};
use crate::overview::overview;
use crate::rules::evaluate;
use crate::sql::{Window, drop_table};
use crate::views::{drop_views, register_views};

/// Makes the report.
pub async fn build_report(
    ctx: &SessionContext,
    policy: &Policy,
    window: Window,
    quarantined: u64,
) -> Result<Report> {
    register_views(ctx, window).await?;
    let o = overview(ctx).await?;
    count_callers(ctx).await?;
    let paths = AccessPath::in_order(o.by_registry.iter().map(|p| p.access_path.as_str()));
    let (callers_by_path, public_callers) = busiest_callers(ctx, &paths).await?;
    let trusted_callers = trusted_callers(ctx).await?;
    let mut violations = Vec::new();
    for rule in &policy.rules {
        if let Some(v) = evaluate(ctx, rule, window).await? {
            violations.push(v);
        }
    }
    drop_table(ctx, CALLERS)?;
    drop_views(ctx)?;
    violations.sort_by_key(|v| std::cmp::Reverse(v.severity));
    let (from, to) = (window.since.or(o.first), window.until.or(o.last));
    let changes = changes(ctx, from, to).await?;
    Ok(Report {
        schema: SCHEMA,
        period: Period {
            from: from.map(format_timestamp_micros),
            to: to.map(format_timestamp_micros),
        },
        inputs: Inputs {
            quarantined,
            ..o.inputs
        },
        paths_by_registry: o.by_registry,
        paths_by_day: o.by_day,
        paths_by_registry_day: o.by_registry_day,
        changes,
        callers_by_path,
        trusted_callers,
        public_callers,
        violations,
    })
}

//! The rollup views of the report's window. For each rollup, a view `acrlens_report_<rollup>_rollup`
//! holds the rollup of the window's events: the store's rows for the whole weeks inside the
//! window, then for the whole days left, and, computed from the events once and kept in memory,
//! the rollup of the days the window cuts. Over a store without rollups the whole window is
//! computed.

use acrlens_engine::EVENTS;
use acrlens_engine::rollup::{ROLLUPS, Rollup, Span, week_start};
use acrlens_values::MICROS_PER_DAY;
use datafusion::error::Result;
use datafusion::prelude::SessionContext;

use crate::sql::{Filter, Window, drop_table, drop_view, keep, view};

/// A span of time from its start to before its end (µs); `None` is unbounded.
type Range = (Option<i64>, Option<i64>);

/// The view of `rollup` over the report's window.
pub(crate) fn view_name(rollup: Rollup) -> String {
    format!("acrlens_report_{}_rollup", rollup.name)
}

/// The table of the computed part of a view.
fn computed_name(rollup: Rollup) -> String {
    format!("acrlens_report_{}_rollup_computed", rollup.name)
}

/// The whole days inside the window: from the first midnight at or after its start to the last
/// midnight at or before its end; `None` when it holds no whole day.
fn whole_days(window: Window) -> Option<Range> {
    let floor = |t: i64| t.div_euclid(MICROS_PER_DAY) * MICROS_PER_DAY;
    let from = match window.since {
        Some(t) if floor(t) < t => Some(floor(t).checked_add(MICROS_PER_DAY)?),
        since => since,
    };
    let to = window.until.map(floor);
    match (from, to) {
        (Some(from), Some(to)) if from >= to => None,
        range => Some(range),
    }
}

/// The part of `range` (whole days) a table of rows spanning `span` covers: whole weeks for
/// weekly rows.
fn covered(range: Range, span: Span) -> Option<Range> {
    let (from, to) = match span {
        Span::Bucket => range,
        Span::Week => {
            let from = range.0.map(|t| match week_start(t) {
                monday if monday == t => Some(t),
                monday => monday.checked_add(7 * MICROS_PER_DAY),
            });
            let from = match from {
                Some(None) => return None,
                Some(Some(t)) => Some(t),
                None => None,
            };
            (from, range.1.map(week_start))
        }
    };
    match (from, to) {
        (Some(from), Some(to)) if from >= to => None,
        range => Some(range),
    }
}

/// Registers the view of every rollup over `window`.
pub(crate) async fn register_views(ctx: &SessionContext, window: Window) -> Result<()> {
    for rollup in ROLLUPS {
        let mut parts = Vec::new();
        let mut params = Filter::default();
        // The whole days no stored table covers yet.
        let mut pieces: Vec<Range> = whole_days(window).into_iter().collect();
        let mut stored = false;
        for table in rollup.tables() {
            if !ctx.table_exist(table.name)? {
                continue;
            }
            stored = true;
            let mut rest = Vec::new();
            for piece in pieces {
                let Some(part) = covered(piece, table.span) else {
                    rest.push(piece);
                    continue;
                };
                let rows = params.within(rollup.bucket.name(), part.0, part.1);
                parts.push(format!("SELECT * FROM {} WHERE {rows}", table.name));
                let before_and_after = [(piece.0, part.0), (part.1, piece.1)];
                rest.extend(before_and_after.into_iter().filter(|r| r.0 != r.1));
            }
            pieces = rest;
        }
        // The window's events outside the stored rows: before and after its whole days, and
        // the pieces of them no table covers (all of it without stored rows).
        let mut left = pieces;
        match whole_days(window) {
            Some((from, to)) if stored => {
                left.extend(from.map(|from| (None, Some(from))));
                left.extend(to.map(|to| (Some(to), None)));
            }
            _ => left = vec![(None, None)],
        }
        if !left.is_empty() {
            let mut computed = Filter::default();
            window.restrict(&mut computed);
            let outside: Vec<String> = left
                .iter()
                .map(|&(from, to)| computed.within("time", from, to))
                .collect();
            computed.push(format!("({})", outside.join(" OR ")));
            let name = computed_name(rollup);
            let sql = rollup.over(EVENTS, &computed.sql());
            keep(ctx, &name, &sql, &computed.params).await?;
            parts.push(format!("SELECT * FROM {name}"));
        }
        if parts.is_empty() {
            parts.push(rollup.over(EVENTS, "FALSE"));
        }
        view(
            ctx,
            &view_name(rollup),
            &parts.join(" UNION ALL "),
            &params.params,
        )
        .await?;
    }
    Ok(())
}

/// Removes the views and what they kept.
pub(crate) fn drop_views(ctx: &SessionContext) -> Result<()> {
    for rollup in ROLLUPS {
        drop_view(ctx, &view_name(rollup))?;
        if ctx.table_exist(computed_name(rollup))? {
            drop_table(ctx, &computed_name(rollup))?;
        }
    }
    Ok(())
}

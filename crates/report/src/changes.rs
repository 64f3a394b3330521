//! The changes that took effect within the period, for the time series: each registry's new
//! configurations (what changed, as the `registries` table says it) and each new service-tag
//! snapshot.

use acrlens_engine::Table;
use acrlens_values::format_timestamp_micros;
use datafusion::error::Result;
use datafusion::prelude::SessionContext;

use crate::model::Change;
use crate::rows::each;
use crate::sql::query;

/// The changes between `from` and `to` (µs, inclusive; open when `None`), in time order.
pub(crate) async fn changes(
    ctx: &SessionContext,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<Vec<Change>> {
    let within = |t: i64| from.is_none_or(|f| t >= f) && to.is_none_or(|u| t <= u);
    let rows = query(
        ctx,
        &format!(
            "SELECT login_server, effective_from, changed, unknown FROM {} \
             WHERE effective_from IS NOT NULL",
            Table::Registries.name()
        ),
        &Default::default(),
    )
    .await?;
    let mut out = Vec::new();
    for (registry, time, changed, unknown) in each(&rows, |r, i| {
        Ok((
            r.text("login_server", i)?.unwrap_or_default(),
            r.int("effective_from", i)?,
            r.text("changed", i)?,
            r.text("unknown", i)?,
        ))
    })? {
        let Some(time) = time.filter(|&t| within(t)) else {
            continue;
        };
        let detail = match (unknown, changed) {
            (Some(why), _) => format!("configuration not known: {why}"),
            (None, None) => "configuration known from here".to_owned(),
            (None, Some(c)) if c.is_empty() => "configuration rewritten, same settings".to_owned(),
            (None, Some(c)) => c,
        };
        out.push(Change {
            registry: Some(registry),
            time: format_timestamp_micros(time),
            kind: "configuration",
            detail,
        });
    }
    let tags = query(
        ctx,
        &format!(
            "SELECT change_number, min(effective_from) AS effective_from FROM {} \
             WHERE effective_from IS NOT NULL GROUP BY change_number",
            Table::ServiceTags.name()
        ),
        &Default::default(),
    )
    .await?;
    for (number, time) in each(&tags, |r, i| {
        Ok((r.int("change_number", i)?, r.int("effective_from", i)?))
    })? {
        if let (Some(number), Some(time)) = (number, time.filter(|&t| within(t))) {
            out.push(Change {
                registry: None,
                time: format_timestamp_micros(time),
                kind: "service_tags",
                detail: format!("service tags change {number}"),
            });
        }
    }
    // RFC 3339 in one format sorts by time; ties keep registries before service tags.
    out.sort_by(|a, b| a.time.cmp(&b.time));
    Ok(out)
}

//! The report's overview: one scan of the window's requests per hour, grouped by registry,
//! access path, day and versions, gives the inputs, the table per registry and the chart per
//! day.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use acrlens_engine::rollup::PATHS;

use acrlens_values::{MICROS_PER_DAY, format_day};
use datafusion::error::Result;
use datafusion::prelude::SessionContext;

use crate::model::{DayCount, Inputs, PathCount, RegistryDayCount};
use crate::rows::each;
use crate::sql::query;
use crate::unconfigured::Unconfigured;
use crate::views::view_name;

/// Per (registry, access path, day, versions): counts, times and data-quality sums — one scan
/// for the inputs, the per-registry table and the per-day chart. The day is grouped as a number
/// (days since 1970, UTC) and spelled once per group.
pub(crate) struct Overview {
    pub inputs: Inputs,
    pub first: Option<i64>,
    pub last: Option<i64>,
    pub by_registry: Vec<PathCount>,
    pub by_day: Vec<DayCount>,
    pub by_registry_day: Vec<RegistryDayCount>,
}

pub(crate) async fn overview(ctx: &SessionContext) -> Result<Overview> {
    let rows = query(
        ctx,
        &format!(
            "SELECT registry, access_path, arrow_cast(hour, 'Int64') / {MICROS_PER_DAY} AS day, \
             tags_version, config_version, sum(requests) AS events, min(first) AS first, \
             max(last) AS last, \
             sum(CASE WHEN config_version IS NULL THEN requests ELSE 0 END) AS unconfigured, \
             sum(CASE WHEN no_caller THEN requests ELSE 0 END) AS no_caller \
             FROM {} GROUP BY 1, 2, 3, 4, 5",
            view_name(PATHS)
        ),
        &HashMap::new(),
    )
    .await?;
    // Keys sort as SQL's ORDER BY would: NULLs last.
    let key = |v: Option<String>| (v.is_none(), v.unwrap_or_default());
    let mut by_registry: BTreeMap<((bool, String), String), u64> = BTreeMap::new();
    let mut by_day: BTreeMap<(i64, String), u64> = BTreeMap::new();
    let mut by_registry_day: BTreeMap<((bool, String), i64, String), u64> = BTreeMap::new();
    let mut versions = BTreeSet::new();
    let mut configs = BTreeSet::new();
    let mut unconfigured = Unconfigured::default();
    let mut o = Overview {
        inputs: Inputs::default(),
        first: None,
        last: None,
        by_registry: Vec::new(),
        by_day: Vec::new(),
        by_registry_day: Vec::new(),
    };
    each(&rows, |r, i| {
        let n = r.int("events", i)?.unwrap_or(0) as u64;
        let registry = r.text("registry", i)?;
        let path = r.text("access_path", i)?.unwrap_or_default();
        o.inputs.events += n;
        o.inputs.events_without_configuration += r.int("unconfigured", i)?.unwrap_or(0) as u64;
        o.inputs.events_without_caller += r.int("no_caller", i)?.unwrap_or(0) as u64;
        o.first = o.first.into_iter().chain(r.int("first", i)?).min();
        o.last = o.last.into_iter().chain(r.int("last", i)?).max();
        versions.extend(r.int("tags_version", i)?);
        match r.text("config_version", i)? {
            Some(config) => {
                configs.insert((key(registry.clone()), config));
            }
            None => {
                // Grouped by config_version: this row's events are all without one.
                if let (Some(day), Some(first), Some(last)) =
                    (r.int("day", i)?, r.int("first", i)?, r.int("last", i)?)
                {
                    unconfigured.add(registry.clone(), day, n, (first, last));
                }
            }
        }
        if let Some(day) = r.int("day", i)? {
            *by_registry_day
                .entry((key(registry.clone()), day, path.clone()))
                .or_default() += n;
            *by_day.entry((day, path.clone())).or_default() += n;
        }
        *by_registry.entry((key(registry), path)).or_default() += n;
        Ok(())
    })?;
    o.inputs.service_tag_versions = versions.into_iter().collect();
    o.inputs.unconfigured_periods = unconfigured.periods();
    o.inputs.configurations = configs
        .into_iter()
        .map(|((_, registry), config)| format!("{registry} @ {config}"))
        .collect();
    o.by_registry = by_registry
        .into_iter()
        .map(|(((_, registry), access_path), requests)| PathCount {
            registry,
            access_path,
            requests,
        })
        .collect();
    o.by_registry_day = by_registry_day
        .into_iter()
        .map(
            |(((_, registry), day, access_path), requests)| RegistryDayCount {
                registry,
                day: format_day(day),
                access_path,
                requests,
            },
        )
        .collect();
    o.by_day = by_day
        .into_iter()
        .map(|((day, access_path), requests)| DayCount {
            day: format_day(day),
            access_path,
            requests,
        })
        .collect();
    Ok(o)
}

//! The store's rollups: aggregates of the events per hour, day or week that `ingest --store`
//! writes beside the part files, so that a month's report groups a few hundred thousand rows
//! instead of every event.
//!
//! Each rollup is defined once, by its keys and measures: the store builds its files from the
//! events with it, merges a week's days with it, and a report computes with it whatever part of
//! its period the files do not cover (days cut by the report's window, or a store written
//! before rollups existed). Every measure is a count, a minimum or a maximum, so rows of one key
//! from several files merge (`sum`, `min`, `max`) into the rollup of all their events.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use acrlens_attrib::attributed_schema;
use acrlens_values::MICROS_PER_DAY;
use arrow_schema::SchemaRef;
use datafusion::datasource::MemTable;
use datafusion::error::Result;
use datafusion::prelude::SessionContext;

use crate::store::file_schema;

/// The version of the rollups' definitions. A store whose manifest names another version has
/// its rollups rebuilt by its next ingest, and until then reports compute them from its events.
pub const ROLLUP_VERSION: u32 = 1;

/// A column of a rollup computed from the events, and how two of its values merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Measure {
    /// The aggregate over events.
    over_events: &'static str,
    /// The column.
    column: &'static str,
    /// The aggregate that merges rows: `sum`, `min` or `max`.
    merge: &'static str,
}

const fn measure(over_events: &'static str, column: &'static str, merge: &'static str) -> Measure {
    Measure {
        over_events,
        column,
        merge,
    }
}

/// One rollup: its keys and measures per time bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rollup {
    /// What it counts: `paths`, `callers`, `trusted`.
    pub name: &'static str,
    /// The time bucket column (the bucket's start, UTC): `hour` or `day`.
    pub bucket: &'static str,
    /// The keys: expression over the events, column.
    keys: &'static [(&'static str, &'static str)],
    measures: &'static [Measure],
    /// The events it counts.
    only: &'static str,
}

/// Requests per hour, registry, access path, service-tag version, configuration and whether the
/// caller's address was missing: the report's overview, chart, configuration periods and the
/// rules that count requests by path or configuration.
pub const PATHS: Rollup = Rollup {
    name: "paths",
    bucket: "hour",
    keys: &[
        ("registry", "registry"),
        ("access_path", "access_path"),
        ("tags_version", "tags_version"),
        ("config_version", "config_version"),
        ("caller_ip IS NULL", "no_caller"),
    ],
    measures: &[
        measure("count(*)", "requests", "sum"),
        measure("min(time)", "first", "min"),
        measure("max(time)", "last", "max"),
    ],
    only: "TRUE",
};

/// Requests per day, registry, access path and caller address, with the least identity, kind,
/// service tag and GeoIP facts seen: the report's caller tables and IP-rule use.
pub const CALLERS: Rollup = Rollup {
    name: "callers",
    bucket: "day",
    keys: &[
        ("registry", "registry"),
        ("access_path", "access_path"),
        ("caller_ip", "caller_ip"),
    ],
    measures: &[
        measure("count(*)", "requests", "sum"),
        measure("min(identity)", "identity", "min"),
        measure("min(caller_kind)", "caller_kind", "min"),
        measure("min(service_tag)", "service_tag", "min"),
        measure("min(country)", "country", "min"),
        measure("min(asn)", "asn", "min"),
        measure("min(as_org)", "as_org", "min"),
    ],
    only: "TRUE",
};

/// Trusted-service requests per day, registry, identity, caller kind and service tag: who used
/// the firewall bypass.
pub const TRUSTED: Rollup = Rollup {
    name: "trusted",
    bucket: "day",
    keys: &[
        ("registry", "registry"),
        ("access_path", "access_path"),
        ("identity", "identity"),
        ("caller_kind", "caller_kind"),
        ("service_tag", "service_tag"),
    ],
    measures: &[
        measure("count(*)", "requests", "sum"),
        measure("min(time)", "first", "min"),
        measure("max(time)", "last", "max"),
        measure("min(caller_ip)", "caller_ip", "min"),
        measure("min(country)", "country", "min"),
        measure("min(asn)", "asn", "min"),
        measure("min(as_org)", "as_org", "min"),
    ],
    only: "access_path = 'trusted_service'",
};

/// How long a row of a rollup table spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// An hour or a day: the rollup's own bucket, made from the events.
    Bucket,
    /// Seven days from a Monday, merged from the rollup's days.
    Week,
}

/// A table of rollup rows in a store, one file per bucket (`<YYYY-MM-DD>.parquet`, the day, or
/// the Monday of the week).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollupTable {
    /// The table's name in a session over a store.
    pub name: &'static str,
    /// The rollup it holds.
    pub rollup: Rollup,
    /// How long each row spans.
    pub span: Span,
}

/// Every rollup table a store keeps.
pub const TABLES: [RollupTable; 5] = [
    RollupTable {
        name: "paths_by_hour",
        rollup: PATHS,
        span: Span::Bucket,
    },
    RollupTable {
        name: "callers_by_day",
        rollup: CALLERS,
        span: Span::Bucket,
    },
    RollupTable {
        name: "callers_by_week",
        rollup: CALLERS,
        span: Span::Week,
    },
    RollupTable {
        name: "trusted_by_day",
        rollup: TRUSTED,
        span: Span::Bucket,
    },
    RollupTable {
        name: "trusted_by_week",
        rollup: TRUSTED,
        span: Span::Week,
    },
];

/// The folder of a rollup table's files in the store `store`.
pub fn folder(store: &Path, table: &str) -> PathBuf {
    store.join("rollups").join(table)
}

/// The rollups.
pub const ROLLUPS: [Rollup; 3] = [PATHS, CALLERS, TRUSTED];

/// The start (µs) of the week (from Monday, UTC) holding the time `micros`.
pub fn week_start(micros: i64) -> i64 {
    // 1970-01-01 was a Thursday: Mondays are 4 days after a multiple of 7 days.
    let day = micros.div_euclid(MICROS_PER_DAY);
    let monday = (day - 4).div_euclid(7) * 7 + 4;
    // Only a time within a week of the earliest one representable could overflow: it saturates.
    monday.saturating_mul(MICROS_PER_DAY)
}

impl Rollup {
    /// The rollup of the events of table `from` that `filter` (a SQL predicate) selects.
    pub fn over(&self, from: &str, filter: &str) -> String {
        let columns: Vec<String> = self
            .keys
            .iter()
            .map(|(expr, col)| format!("{expr} AS {col}"))
            .chain(
                self.measures
                    .iter()
                    .map(|m| format!("{} AS {}", m.over_events, m.column)),
            )
            .collect();
        format!(
            "SELECT date_trunc('{}', time) AS {}, {} FROM {from} WHERE {} AND {filter} GROUP BY {}",
            self.bucket,
            self.bucket,
            columns.join(", "),
            self.only,
            self.group_by()
        )
    }

    /// The rows of table `from` that `filter` selects merged per key, in the bucket `bucket`
    /// (an expression).
    pub fn merged(&self, from: &str, bucket: &str, filter: &str) -> String {
        let columns: Vec<String> = self
            .keys
            .iter()
            .map(|(_, col)| col.to_string())
            .chain(
                self.measures
                    .iter()
                    .map(|m| format!("{}({}) AS {}", m.merge, m.column, m.column)),
            )
            .collect();
        format!(
            "SELECT {bucket} AS {}, {} FROM {from} WHERE {filter} GROUP BY {}",
            self.bucket,
            columns.join(", "),
            self.group_by()
        )
    }

    /// The columns of the rollup's rows, as its definition gives them over the store's events.
    pub async fn schema(&self) -> Result<SchemaRef> {
        let ctx = SessionContext::new();
        let events = file_schema(&attributed_schema());
        ctx.register_table("events", Arc::new(MemTable::try_new(events, vec![vec![]])?))?;
        let planned = ctx.sql(&self.over("events", "FALSE")).await?;
        Ok(Arc::new(planned.schema().as_arrow().clone()))
    }

    fn group_by(&self) -> String {
        (1..=self.keys.len() + 1)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The rollup's tables, the coarsest first.
    pub fn tables(&self) -> impl Iterator<Item = &'static RollupTable> {
        let this = *self;
        let mut tables: Vec<&'static RollupTable> =
            TABLES.iter().filter(|t| t.rollup == this).collect();
        tables.sort_by_key(|t| t.span != Span::Week);
        tables.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_mondays_before_and_after_1970() {
        let day = |d: i64| d * MICROS_PER_DAY;
        // 2025-11-24 was a Monday (day 20,416); 2025-11-30 the Sunday after.
        assert_eq!(week_start(day(20_416)), day(20_416));
        assert_eq!(week_start(day(20_422) + 5), day(20_416));
        assert_eq!(week_start(day(20_423)), day(20_423));
        // 1969-12-29 was a Monday.
        assert_eq!(week_start(day(-1)), day(-3));
        assert_eq!(week_start(day(3)), day(-3));
        assert_eq!(week_start(day(4)), day(4));
    }
}

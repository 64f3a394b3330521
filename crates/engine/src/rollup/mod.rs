//! The store's rollups: aggregates of the events per hour, day or week that `ingest --store`
//! writes beside the part files, so that a month's report groups a few hundred thousand rows
//! instead of every event.
//!
//! Each rollup is defined once, by its keys and measures, and evaluated two ways: as SQL
//! ([`Rollup::over`]), with which a report computes whatever part of its period the files do
//! not cover (days cut by the report's window, or a store written before rollups existed); and
//! in memory ([`Groups`]), with which the store rolls up a run's batches as they are written and
//! merges days and weeks, without a query engine or a re-read of its part files. Tests hold both
//! to the same rows. Every measure is a count, a minimum or a maximum, so rows of one key from
//! several files merge (`sum`, `min`, `max`) into the rollup of all their events.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use acrlens_attrib::attributed_schema;
use acrlens_values::MICROS_PER_DAY;
use arrow_schema::{DataType, Field, Schema, SchemaRef};

mod groups;
mod keys;

pub use groups::Groups;

/// The version of the rollups' definitions. A store whose manifest names another version has
/// its rollups rebuilt by its next ingest, and until then reports compute them from its events.
pub const ROLLUP_VERSION: u32 = 1;

/// The time bucket of a rollup's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// The hour of the events (`date_trunc('hour', time)`).
    Hour,
    /// The day of the events (`date_trunc('day', time)`).
    Day,
}

impl Bucket {
    /// The bucket's name: its column, and the unit of `date_trunc`.
    pub const fn name(self) -> &'static str {
        match self {
            Bucket::Hour => "hour",
            Bucket::Day => "day",
        }
    }

    /// How long a bucket lasts, in µs.
    pub const fn micros(self) -> i64 {
        match self {
            Bucket::Hour => MICROS_PER_DAY / 24,
            Bucket::Day => MICROS_PER_DAY,
        }
    }

    /// The start of the bucket holding the time `micros`.
    pub const fn start(self, micros: i64) -> i64 {
        micros - micros.rem_euclid(self.micros())
    }
}

/// A key of a rollup: an event column, or whether an event column is NULL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// The event column of that name.
    Column(&'static str),
    /// `(column, name)`: whether the event column `column` is NULL, as the column `name`.
    IsNull(&'static str, &'static str),
}

impl Key {
    /// The key's column in the rollup.
    pub const fn name(self) -> &'static str {
        match self {
            Key::Column(name) | Key::IsNull(_, name) => name,
        }
    }

    /// The event column it reads.
    pub const fn source(self) -> &'static str {
        match self {
            Key::Column(column) | Key::IsNull(column, _) => column,
        }
    }
}

/// A measure of a rollup and how two of its values merge: a count merges by `sum`, a minimum by
/// `min` and a maximum by `max`. Minimum and maximum skip NULLs, as SQL's do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// The events, as the column of that name.
    Count(&'static str),
    /// The least non-NULL value of an event column, under the name given.
    Min(&'static str, &'static str),
    /// The greatest non-NULL value of an event column, under the name given.
    Max(&'static str, &'static str),
}

impl Measure {
    /// The measure's column in the rollup.
    pub const fn name(self) -> &'static str {
        match self {
            Measure::Count(name) | Measure::Min(_, name) | Measure::Max(_, name) => name,
        }
    }

    /// The aggregate over events.
    fn over_events(self) -> String {
        match self {
            Measure::Count(_) => "count(*)".into(),
            Measure::Min(column, _) => format!("min({column})"),
            Measure::Max(column, _) => format!("max({column})"),
        }
    }

    /// The aggregate that merges rollup rows.
    fn merge(self) -> &'static str {
        match self {
            Measure::Count(_) => "sum",
            Measure::Min(..) => "min",
            Measure::Max(..) => "max",
        }
    }
}

/// One rollup: its keys and measures per time bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rollup {
    /// What it counts: `paths`, `callers`, `trusted`.
    pub name: &'static str,
    /// The time bucket (its start, UTC, is the first column).
    pub bucket: Bucket,
    keys: &'static [Key],
    measures: &'static [Measure],
    /// The events it counts: all, or those whose column (first) holds the value (second).
    only: Option<(&'static str, &'static str)>,
}

/// Requests per hour, registry, access path, service-tag version, configuration and whether the
/// caller's address was missing: the report's overview, chart, configuration periods and the
/// rules that count requests by path or configuration.
pub const PATHS: Rollup = Rollup {
    name: "paths",
    bucket: Bucket::Hour,
    keys: &[
        Key::Column("registry"),
        Key::Column("access_path"),
        Key::Column("tags_version"),
        Key::Column("config_version"),
        Key::IsNull("caller_ip", "no_caller"),
    ],
    measures: &[
        Measure::Count("requests"),
        Measure::Min("time", "first"),
        Measure::Max("time", "last"),
    ],
    only: None,
};

/// Requests per day, registry, access path and caller address, with the least identity, kind,
/// service tag and GeoIP facts seen: the report's caller tables and IP-rule use.
pub const CALLERS: Rollup = Rollup {
    name: "callers",
    bucket: Bucket::Day,
    keys: &[
        Key::Column("registry"),
        Key::Column("access_path"),
        Key::Column("caller_ip"),
    ],
    measures: &[
        Measure::Count("requests"),
        Measure::Min("identity", "identity"),
        Measure::Min("caller_kind", "caller_kind"),
        Measure::Min("service_tag", "service_tag"),
        Measure::Min("country", "country"),
        Measure::Min("asn", "asn"),
        Measure::Min("as_org", "as_org"),
    ],
    only: None,
};

/// Trusted-service requests per day, registry, identity, caller kind and service tag: who used
/// the firewall bypass.
pub const TRUSTED: Rollup = Rollup {
    name: "trusted",
    bucket: Bucket::Day,
    keys: &[
        Key::Column("registry"),
        Key::Column("access_path"),
        Key::Column("identity"),
        Key::Column("caller_kind"),
        Key::Column("service_tag"),
    ],
    measures: &[
        Measure::Count("requests"),
        Measure::Min("time", "first"),
        Measure::Max("time", "last"),
        Measure::Min("caller_ip", "caller_ip"),
        Measure::Min("country", "country"),
        Measure::Min("asn", "asn"),
        Measure::Min("as_org", "as_org"),
    ],
    only: Some(("access_path", "trusted_service")),
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
            .map(|key| match key {
                Key::Column(column) => format!("{column} AS {column}"),
                Key::IsNull(column, name) => format!("{column} IS NULL AS {name}"),
            })
            .chain(
                self.measures
                    .iter()
                    .map(|m| format!("{} AS {}", m.over_events(), m.name())),
            )
            .collect();
        let only = match self.only {
            None => "TRUE".to_owned(),
            // Both are constants of the definitions above, never text from the logs.
            Some((column, value)) => format!("{column} = '{value}'"),
        };
        let bucket = self.bucket.name();
        format!(
            "SELECT date_trunc('{bucket}', time) AS {bucket}, {} FROM {from} WHERE {only} AND {filter} GROUP BY {}",
            columns.join(", "),
            self.group_by()
        )
    }

    /// The rows of table `from` that `filter` selects merged per key, in the bucket `bucket`
    /// (an expression).
    pub fn merged(&self, from: &str, bucket: &str, filter: &str) -> String {
        let columns: Vec<String> = self
            .keys
            .iter()
            .map(|key| key.name().to_owned())
            .chain(self.measures.iter().map(|m| {
                let name = m.name();
                format!("{}({name}) AS {name}", m.merge())
            }))
            .collect();
        format!(
            "SELECT {bucket} AS {}, {} FROM {from} WHERE {filter} GROUP BY {}",
            self.bucket.name(),
            columns.join(", "),
            self.group_by()
        )
    }

    /// The columns of the rollup's rows: the bucket's start, the keys, the measures, typed as
    /// the event columns they come from (a test checks that DataFusion plans [`Rollup::over`]
    /// with the same columns).
    pub fn schema(&self) -> SchemaRef {
        let events = attributed_schema();
        let event_field = |column: &str| {
            events
                .field_with_name(column)
                .map(|f| f.as_ref().clone())
                .unwrap_or_else(|_| Field::new(column, DataType::Null, true))
        };
        let time = event_field("time");
        let mut fields = vec![time.with_name(self.bucket.name())];
        fields.extend(self.keys.iter().map(|key| match key {
            Key::Column(column) => event_field(column),
            Key::IsNull(_, name) => Field::new(*name, DataType::Boolean, false),
        }));
        fields.extend(self.measures.iter().map(|m| match m {
            Measure::Count(name) => Field::new(*name, DataType::Int64, false),
            Measure::Min(column, name) | Measure::Max(column, name) => {
                Field::new(*name, event_field(column).data_type().clone(), true)
            }
        }));
        Arc::new(Schema::new(fields))
    }

    /// The event columns it reads.
    pub fn event_columns(&self) -> Vec<&'static str> {
        let mut columns = vec!["time"];
        columns.extend(self.keys.iter().map(|k| k.source()));
        columns.extend(self.measures.iter().filter_map(|m| match m {
            Measure::Count(_) => None,
            Measure::Min(column, _) | Measure::Max(column, _) => Some(*column),
        }));
        columns.extend(self.only.map(|(column, _)| column));
        columns
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

    /// The table holding the rollup's own buckets.
    pub fn bucket_table(&self) -> Option<&'static RollupTable> {
        self.tables().find(|t| t.span == Span::Bucket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use datafusion::datasource::MemTable;
    use datafusion::prelude::SessionContext;

    use crate::store::file_schema;

    #[tokio::test]
    async fn the_schema_is_the_one_datafusion_plans_for_the_sql() {
        let ctx = SessionContext::new();
        let events = file_schema(&attributed_schema());
        let empty = MemTable::try_new(events, vec![vec![]]).unwrap();
        ctx.register_table("events", Arc::new(empty)).unwrap();
        for rollup in ROLLUPS {
            let planned = ctx.sql(&rollup.over("events", "FALSE")).await.unwrap();
            let planned = planned.schema().as_arrow().clone();
            assert_eq!(*rollup.schema(), planned, "{}", rollup.name);
        }
    }

    #[test]
    fn buckets_start_on_the_hour_and_day_before_and_after_1970() {
        let hour = Bucket::Hour.micros();
        assert_eq!(Bucket::Hour.start(5 * hour + 17), 5 * hour);
        assert_eq!(Bucket::Hour.start(-1), -hour);
        assert_eq!(Bucket::Day.start(MICROS_PER_DAY - 1), 0);
        assert_eq!(Bucket::Day.start(-MICROS_PER_DAY - 1), -2 * MICROS_PER_DAY);
    }

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

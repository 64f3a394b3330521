//! A rollup computed in memory, day by day: from attributed batches while they are written, so
//! the store gets its rollups without reading its own part files back, or from rollup rows
//! (`Groups::merging`), so the rows of several batches, files or days become one per key. The
//! rows of one `Groups` may share a key with another's (batches rolled up at different times);
//! merging them gives the rollup of all their events, as SQL's [`Rollup::over`] would (a test
//! compares both, and the week merge with SQL's [`Rollup::merged`], on the same events).

use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::sync::Arc;

use acrlens_values::MICROS_PER_DAY;
use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampMicrosecondType};
use arrow_array::{
    Array, ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{ArrowError, DataType, SchemaRef};
use datafusion::arrow::compute::{cast, is_null};
use datafusion::arrow::row::{RowConverter, SortField};
use hashbrown::HashTable;

use super::{Key, Measure, Rollup};

/// Byte strings stored end to end and numbered, each found again by its bytes. Groups and their
/// texts live in a few large buffers, not in an allocation each: tens of thousands of small
/// allocations outliving the batches around them would keep the allocator's freed memory from
/// being reused.
#[derive(Default)]
struct Interned {
    table: HashTable<usize>,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

/// The bytes numbered `id` among those ending at `ends` in `bytes`.
fn nth<'a>(bytes: &'a [u8], ends: &[usize], id: usize) -> &'a [u8] {
    let start = id.checked_sub(1).map_or(0, |before| ends[before]);
    &bytes[start..ends[id]]
}

impl Interned {
    fn hash(value: &[u8]) -> u64 {
        foldhash::fast::FixedState::default().hash_one(value)
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    /// The bytes numbered `id`.
    fn get(&self, id: usize) -> &[u8] {
        nth(&self.bytes, &self.ends, id)
    }

    /// The number of `value`, given it if it is new.
    fn id(&mut self, value: &[u8]) -> usize {
        let hash = Self::hash(value);
        let Interned { table, bytes, ends } = self;
        if let Some(&id) = table.find(hash, |&id| nth(bytes, ends, id) == value) {
            return id;
        }
        bytes.extend_from_slice(value);
        ends.push(bytes.len());
        table.insert_unique(hash, ends.len() - 1, |&id| Self::hash(nth(bytes, ends, id)));
        ends.len() - 1
    }
}

/// The values of one measure, a place per group.
enum Values {
    /// Events counted.
    Count(Vec<i64>),
    /// The least (`least`) or greatest non-NULL text, by its number among the day's texts.
    Text {
        least: bool,
        values: Vec<Option<usize>>,
    },
    /// The least (`least`) or greatest non-NULL number or time.
    Number {
        least: bool,
        values: Vec<Option<i64>>,
    },
}

impl Values {
    fn push_empty(&mut self) {
        match self {
            Values::Count(counts) => counts.push(0),
            Values::Text { values, .. } => values.push(None),
            Values::Number { values, .. } => values.push(None),
        }
    }
}

/// A measure's event column in one batch.
enum Source<'a> {
    Count,
    Text(&'a StringArray),
    Number(&'a dyn Array, &'a [i64]),
}

/// Whether `value` wins over `held`: it is the least (`least`) or the greatest.
fn wins<T: PartialOrd + ?Sized>(least: bool, value: &T, held: Option<&T>) -> bool {
    match held {
        None => true,
        Some(held) if least => value < held,
        Some(held) => value > held,
    }
}

/// The groups of one day.
#[derive(Default)]
struct Day {
    /// Each group's bucket and keys, encoded: its number is the group's.
    keys: Interned,
    /// The texts the measures hold.
    texts: Interned,
    measures: Vec<Values>,
}

/// What a [`Groups`] is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    /// Attributed events.
    Events,
    /// Rows of the rollup, merged per key into the bucket (µs) given, or into their own.
    Rows(Option<i64>),
}

/// No groups yet, with a place for each measure of `rollup` (whose rows have `schema`).
fn empty_day(rollup: &Rollup, schema: &SchemaRef) -> Day {
    let measures = rollup
        .measures
        .iter()
        .zip(schema.fields().iter().skip(rollup.keys.len() + 1))
        .map(|(m, field)| match (m, field.data_type()) {
            (Measure::Count(_), _) => Values::Count(Vec::new()),
            (m, DataType::Utf8) => Values::Text {
                least: matches!(m, Measure::Min(..)),
                values: Vec::new(),
            },
            (m, _) => Values::Number {
                least: matches!(m, Measure::Min(..)),
                values: Vec::new(),
            },
        })
        .collect();
    Day {
        measures,
        ..Day::default()
    }
}

/// One rollup over the batches added so far, grouped per day.
pub struct Groups {
    rollup: Rollup,
    /// What is added: events, or rows of the rollup to merge.
    input: Input,
    schema: SchemaRef,
    /// Encodes each row's bucket and keys as bytes, and decodes them back.
    keys: RowConverter,
    days: BTreeMap<i64, Day>,
    len: usize,
}

fn missing(column: &str) -> ArrowError {
    ArrowError::SchemaError(format!("the rollups need a {column} column of its type"))
}

impl Groups {
    /// No groups yet, for `rollup` over attributed events.
    pub fn new(rollup: Rollup) -> Result<Self, ArrowError> {
        Self::with_input(rollup, Input::Events)
    }

    /// No groups yet, for merging rows of `rollup` (its files, or what [`Groups::drain`]
    /// gave) per key: counts add up, minimums and maximums stay so. Each row keeps its bucket,
    /// or all go into the one starting at `bucket` (µs), as the days of a week do.
    pub fn merging(rollup: Rollup, bucket: Option<i64>) -> Result<Self, ArrowError> {
        Self::with_input(rollup, Input::Rows(bucket))
    }

    fn with_input(rollup: Rollup, input: Input) -> Result<Self, ArrowError> {
        let schema = rollup.schema();
        let fields = schema.fields().iter().take(rollup.keys.len() + 1);
        let keys = RowConverter::new(
            fields
                .map(|f| SortField::new(f.data_type().clone()))
                .collect(),
        )?;
        Ok(Groups {
            rollup,
            input,
            schema,
            keys,
            days: BTreeMap::new(),
            len: 0,
        })
    }

    /// The columns of the rows it gives.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The groups held, over every day.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no group is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds the events (or the rows, when merging) of `batch`.
    pub fn add(&mut self, batch: &RecordBatch) -> Result<(), ArrowError> {
        let column = |name: &str| batch.column_by_name(name).ok_or_else(|| missing(name));
        let events = self.input == Input::Events;
        let time = if events {
            "time"
        } else {
            self.rollup.bucket.name()
        };
        let times = column(time)?
            .as_primitive_opt::<TimestampMicrosecondType>()
            .ok_or_else(|| missing(time))?;
        let bucket = self.rollup.bucket;
        let starts = TimestampMicrosecondArray::from_iter_values(times.values().iter().map(|&t| {
            match self.input {
                Input::Rows(Some(fixed)) => fixed,
                _ => bucket.start(t),
            }
        }))
        .with_timezone("UTC");
        let start_values = starts.values().clone();
        let mut keys: Vec<ArrayRef> = vec![Arc::new(starts)];
        for key in self.rollup.keys {
            keys.push(match key {
                Key::IsNull(column_name, _) if events => Arc::new(is_null(column(column_name)?)?),
                key if events => column(key.source())?.clone(),
                key => column(key.name())?.clone(),
            });
        }
        let rows = self.keys.convert_columns(&keys)?;
        let only: Option<(&StringArray, &str)> = match self.rollup.only {
            None => None,
            Some((name, value)) => Some((
                column(name)?.as_string_opt().ok_or_else(|| missing(name))?,
                value,
            )),
        };
        let measure_fields = self.schema.fields().iter().skip(self.rollup.keys.len() + 1);
        let sources = self
            .rollup
            .measures
            .iter()
            .zip(measure_fields)
            .map(|(m, field)| -> Result<Source<'_>, ArrowError> {
                let name = match m {
                    Measure::Count(_) if events => return Ok(Source::Count),
                    Measure::Min(name, _) | Measure::Max(name, _) if events => name,
                    m => m.name(),
                };
                let values = column(name)?;
                // A column of another type (a damaged rollup file) is an error, not skipped.
                if values.data_type() != field.data_type() {
                    return Err(missing(name));
                }
                Ok(if let Some(text) = values.as_string_opt() {
                    Source::Text(text)
                } else if let Some(n) = values.as_primitive_opt::<Int64Type>() {
                    Source::Number(n, n.values())
                } else if let Some(t) = values.as_primitive_opt::<TimestampMicrosecondType>() {
                    Source::Number(t, t.values())
                } else {
                    return Err(missing(name));
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        for (row, &start) in start_values.iter().enumerate() {
            if only.is_some_and(|(column, value)| column.is_null(row) || column.value(row) != value)
            {
                continue;
            }
            let (rollup, schema) = (&self.rollup, &self.schema);
            let day = self
                .days
                .entry(start.div_euclid(MICROS_PER_DAY))
                .or_insert_with(|| empty_day(rollup, schema));
            let known = day.keys.len();
            let group = day.keys.id(rows.row(row).as_ref());
            if group == known {
                day.measures.iter_mut().for_each(Values::push_empty);
                self.len += 1;
            }
            let Day {
                texts, measures, ..
            } = day;
            for (values, source) in measures.iter_mut().zip(&sources) {
                match (values, source) {
                    (Values::Count(counts), Source::Count) => counts[group] += 1,
                    (Values::Count(counts), Source::Number(array, numbers))
                        if array.is_valid(row) =>
                    {
                        counts[group] = counts[group].saturating_add(numbers[row]);
                    }
                    (Values::Text { least, values }, Source::Text(text)) if text.is_valid(row) => {
                        let value = text.value(row).as_bytes();
                        if wins(*least, value, values[group].map(|id| texts.get(id))) {
                            values[group] = Some(texts.id(value));
                        }
                    }
                    (Values::Number { least, values }, Source::Number(array, numbers))
                        if array.is_valid(row) =>
                    {
                        let value = numbers[row];
                        if wins(*least, &value, values[group].as_ref()) {
                            values[group] = Some(value);
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// The rows of every day held, a batch per day (the day's number since 1970), and no groups
    /// held any more.
    pub fn drain(&mut self) -> Result<Vec<(i64, RecordBatch)>, ArrowError> {
        self.len = 0;
        let days = std::mem::take(&mut self.days);
        days.into_iter()
            .map(|(number, day)| Ok((number, self.batch(day)?)))
            .collect()
    }

    fn batch(&self, day: Day) -> Result<RecordBatch, ArrowError> {
        let parser = self.keys.parser();
        let groups = (0..day.keys.len()).map(|g| parser.parse(day.keys.get(g)));
        let mut columns = self.keys.convert_rows(groups)?;
        let measure_fields = self.schema.fields().iter().skip(columns.len());
        for (values, field) in day.measures.into_iter().zip(measure_fields) {
            let column: ArrayRef = match values {
                Values::Count(counts) => Arc::new(Int64Array::from(counts)),
                Values::Text { values, .. } => {
                    let texts = values
                        .iter()
                        .map(|id| {
                            id.map(|id| std::str::from_utf8(day.texts.get(id)))
                                .transpose()
                        })
                        .collect::<Result<StringArray, _>>()
                        .map_err(|e| ArrowError::ParseError(e.to_string()))?;
                    Arc::new(texts)
                }
                Values::Number { values, .. } => {
                    cast(&Int64Array::from(values), field.data_type())?
                }
            };
            columns.push(column);
        }
        RecordBatch::try_new(self.schema.clone(), columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollup::ROLLUPS;
    use acrlens_attrib::attributed_schema;
    use datafusion::common::ScalarValue;
    use datafusion::dataframe::DataFrame;
    use datafusion::datasource::MemTable;
    use datafusion::prelude::SessionContext;

    const HOUR: i64 = MICROS_PER_DAY / 24;

    /// An event: time, registry, access path, caller, identity, asn.
    type Event<'a> = (
        i64,
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Option<i64>,
    );

    /// Attributed rows of `rows`, the other columns NULL or a constant.
    fn batch(rows: &[Event<'_>]) -> RecordBatch {
        let text = |values: Vec<Option<&str>>| -> ArrayRef { Arc::new(StringArray::from(values)) };
        crate::testing::attributed_batch(rows.len(), |name| match name {
            "time" => Some(Arc::new(
                TimestampMicrosecondArray::from_iter_values(rows.iter().map(|r| r.0))
                    .with_timezone("UTC"),
            )),
            "registry" => Some(text(rows.iter().map(|r| Some(r.1)).collect())),
            "access_path" => Some(text(rows.iter().map(|r| Some(r.2)).collect())),
            "caller_ip" => Some(text(rows.iter().map(|r| r.3).collect())),
            "identity" => Some(text(rows.iter().map(|r| r.4).collect())),
            "asn" => Some(Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.5)))),
            _ => None,
        })
    }

    /// The rows of `df` as sorted lines of text.
    async fn sorted(df: DataFrame) -> Vec<String> {
        let batches = df.collect().await.unwrap();
        let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        lines.sort();
        lines
    }

    #[tokio::test]
    async fn partial_groups_merged_equal_the_sql_rollup_and_merge_of_the_same_events() {
        let trusted = "trusted_service";
        let (a, b) = (Some("10.0.0.1"), Some("10.0.0.2"));
        let first = batch(&[
            (3 * HOUR + 5, "r1", trusted, a, Some("id-b"), Some(3)),
            (3 * HOUR + 1, "r1", trusted, a, Some("id-a"), None),
            (3 * HOUR + 9, "r1", "public", None, None, Some(9)),
            (MICROS_PER_DAY + 2, "r1", trusted, b, None, Some(1)),
            // Before 1970: the day and hour still start before the time.
            (-5, "r2", trusted, a, Some("id-c"), Some(4)),
        ]);
        let second = batch(&[
            (3 * HOUR + 7, "r1", trusted, a, Some("id-0"), Some(2)),
            (4 * HOUR, "r1", "public", None, Some("id-z"), None),
            (
                MICROS_PER_DAY + HOUR,
                "r1",
                trusted,
                b,
                Some("id-b"),
                Some(8),
            ),
        ]);
        let ctx = SessionContext::new();
        let events = MemTable::try_new(
            attributed_schema(),
            vec![vec![first.clone(), second.clone()]],
        )
        .unwrap();
        ctx.register_table("events", Arc::new(events)).unwrap();
        for rollup in ROLLUPS {
            // Each batch rolled up alone, as writes between batches would leave them.
            let mut partial = Vec::new();
            for b in [&first, &second] {
                let mut groups = Groups::new(rollup).unwrap();
                groups.add(b).unwrap();
                assert!(!groups.is_empty());
                let days = groups.drain().unwrap();
                assert!(groups.is_empty() && groups.drain().unwrap().is_empty());
                partial.extend(days.into_iter().map(|(_, rows)| rows));
            }
            let merge = |bucket| {
                let mut merged = Groups::merging(rollup, bucket).unwrap();
                partial.iter().for_each(|rows| merged.add(rows).unwrap());
                let rows: Vec<RecordBatch> = merged
                    .drain()
                    .unwrap()
                    .into_iter()
                    .map(|(_, r)| r)
                    .collect();
                MemTable::try_new(rollup.schema(), vec![rows]).unwrap()
            };
            // Merged into their own buckets: the SQL rollup of the events.
            let name = format!("merged_{}", rollup.name);
            ctx.register_table(name.as_str(), Arc::new(merge(None)))
                .unwrap();
            let sql = |sql: String| {
                let ctx = ctx.clone();
                async move { ctx.sql(&sql).await.unwrap() }
            };
            let expected = sorted(sql(rollup.over("events", "TRUE")).await).await;
            let merged = sorted(sql(format!("SELECT * FROM {name}")).await).await;
            assert_eq!(merged, expected);
            assert!(expected.len() > 4, "{expected:?}");
            // Merged into one bucket, as a week's days are: SQL's merge of the same rows.
            let monday = -3 * MICROS_PER_DAY;
            let week = format!("week_{}", rollup.name);
            ctx.register_table(week.as_str(), Arc::new(merge(Some(monday))))
                .unwrap();
            let monday = ScalarValue::TimestampMicrosecond(Some(monday), Some("UTC".into()));
            let in_sql = sql(rollup.merged(&name, "$week", "TRUE"))
                .await
                .with_param_values(vec![("week", monday)])
                .unwrap();
            let in_sql = sorted(in_sql).await;
            let week = sorted(sql(format!("SELECT * FROM {week}")).await).await;
            assert_eq!(week, in_sql);
        }
    }

    #[test]
    fn rollup_rows_of_another_type_are_an_error_not_skipped() {
        use arrow_schema::{Field, Schema};
        let rollup = crate::rollup::CALLERS;
        let mut events = Groups::new(rollup).unwrap();
        events
            .add(&batch(&[(
                5,
                "r1",
                "public",
                Some("10.0.0.1"),
                None,
                Some(3),
            )]))
            .unwrap();
        let (_, rows) = events.drain().unwrap().remove(0);
        let mut merging = Groups::merging(rollup, None).unwrap();
        merging.add(&rows).unwrap();
        // The same rows with `requests` as text.
        let place = rows.schema().index_of("requests").unwrap();
        let mut fields: Vec<Field> = rows
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields[place] = Field::new("requests", DataType::Utf8, false);
        let mut columns = rows.columns().to_vec();
        columns[place] = Arc::new(StringArray::from(vec!["1"]));
        let damaged = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
        let error = merging.add(&damaged).unwrap_err();
        assert!(error.to_string().contains("requests"), "{error}");
    }
}

//! A rollup computed in memory, day by day: from attributed batches while they are written, so
//! the store gets its rollups without reading its own part files back, or from rollup rows
//! (`Groups::merging`), so the rows of several batches, files or days become one per key. The
//! rows of one `Groups` may share a key with another's (batches rolled up at different times);
//! merging them gives the rollup of all their events, as SQL's [`Rollup::over`] would (a test
//! compares both, and the week merge with SQL's [`Rollup::merged`], on the same events).
//!
//! Every event looks its group up, among tens of thousands a day (callers × registries), so the
//! look-up is made of numbers and touches little memory: each key column's texts are numbered
//! ([`KeyValues`]) and a group is found by its bucket and key numbers; its measures sit beside
//! them in one record, and a text measure holds the number of its text, so an event whose text
//! is the one held (nearly every one) compares two numbers, not two texts.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use acrlens_events::HashSlots;
use acrlens_values::MICROS_PER_DAY;
use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, TimestampMicrosecondArray};
use arrow_schema::{ArrowError, DataType, SchemaRef};
use datafusion::arrow::compute::{cast, is_null};
use foldhash::fast::FixedState;

use super::keys::KeyValues;
use super::{Key, Measure, Rollup};

/// How a measure is held in a group's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// Events counted: one place.
    Count,
    /// The least (`least`) or greatest non-NULL text: one place, the text's number among the
    /// measure's (0 while none).
    Text { least: bool, place: usize },
    /// The least (`least`) or greatest non-NULL number or time: two places, whether one is
    /// held (0 or 1), then the value.
    Number { least: bool },
}

impl Slot {
    fn width(self) -> usize {
        match self {
            Slot::Count | Slot::Text { .. } => 1,
            Slot::Number { .. } => 2,
        }
    }
}

/// Whether `value` wins over `held`: it is the least (`least`) or the greatest.
fn wins<T: PartialOrd + ?Sized>(least: bool, value: &T, held: &T) -> bool {
    if least { value < held } else { value > held }
}

/// The hash of a group's bucket and key numbers.
fn group_hash(key: &[i64]) -> u64 {
    let mut hasher = FixedState::default().build_hasher();
    key.iter().for_each(|&n| hasher.write_i64(n));
    hasher.finish()
}

/// The groups of one day: each a record of `stride` numbers — its bucket, its key numbers,
/// then its measures' places — found by the hash of its bucket and key numbers.
#[derive(Default)]
struct Day {
    records: Vec<i64>,
    slots: HashSlots<usize>,
}

impl Day {
    /// The place of the record of the group whose bucket and key numbers are `key` (the first
    /// `key.len()` numbers of a record, of `stride`; `hash` is their [`group_hash`]), given an
    /// empty one if it is new, and whether it is.
    fn group(&mut self, key: &[i64], hash: u64, stride: usize) -> (usize, bool) {
        let records = &self.records;
        let found = self
            .slots
            .find(hash, |&g| records[g * stride..][..key.len()] == *key);
        match found {
            Ok(g) => (g * stride, false),
            Err(vacant) => {
                let g = self.records.len() / stride;
                self.records.extend_from_slice(key);
                self.records.resize((g + 1) * stride, 0);
                self.slots.fill(vacant, g);
                (g * stride, true)
            }
        }
    }
}

/// Rows whose groups are found together ([`Chunk::find`]): their slots and records stay in
/// the cache from one pass to the next.
const CHUNK_ROWS: usize = 256;

/// The groups of a few rows of a batch, found in passes so that the cache misses of each pass
/// overlap: a day holds tens of thousands of groups, past L2, and a row found alone waited for
/// two misses in turn (its slot, then its record).
#[derive(Default)]
struct Chunk {
    /// Each row's bucket and key numbers, one after another.
    keys: Vec<i64>,
    hashes: Vec<u64>,
    /// Each row's day, and the place of its group's record in the day.
    found: Vec<(i64, usize)>,
    /// Groups made for the rows.
    new: usize,
}

impl Chunk {
    /// Finds (or makes) the groups of `rows`, whose `width` bucket and key numbers `key`
    /// writes, in records of `stride` numbers: the keys are made and their slots touched, then
    /// the records the slots point at are touched, then the groups found.
    fn find(
        &mut self,
        days: &mut BTreeMap<i64, Day>,
        rows: &[usize],
        (width, stride): (usize, usize),
        key: impl Fn(usize, &mut [i64]),
    ) {
        self.keys.clear();
        self.keys.resize(rows.len() * width, 0);
        self.hashes.clear();
        for (&row, numbers) in rows.iter().zip(self.keys.chunks_exact_mut(width)) {
            key(row, numbers);
            self.hashes.push(group_hash(numbers));
        }
        let mut last = None;
        for (numbers, &hash) in self.keys.chunks_exact(width).zip(&self.hashes) {
            let (number, day) = day_of(days, numbers);
            if last != Some(number) {
                // Room for every row's group: the slots touched are the ones looked up.
                day.slots.reserve(rows.len());
                last = Some(number);
            }
            day.slots.touch(hash);
        }
        for (numbers, &hash) in self.keys.chunks_exact(width).zip(&self.hashes) {
            let (_, day) = day_of(days, numbers);
            if let Some(g) = day.slots.peek(hash) {
                std::hint::black_box(day.records.get(g * stride));
            }
        }
        self.found.clear();
        self.new = 0;
        for (numbers, &hash) in self.keys.chunks_exact(width).zip(&self.hashes) {
            let (number, day) = day_of(days, numbers);
            let (at, new) = day.group(numbers, hash, stride);
            self.new += usize::from(new);
            self.found.push((number, at));
        }
    }
}

/// The number of the day of a group whose bucket and key numbers are `numbers`, and its
/// groups (none yet, if it is new).
fn day_of<'d>(days: &'d mut BTreeMap<i64, Day>, numbers: &[i64]) -> (i64, &'d mut Day) {
    let number = numbers[0].div_euclid(MICROS_PER_DAY);
    (number, days.entry(number).or_default())
}

/// What a [`Groups`] is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    /// Attributed events.
    Events,
    /// Rows of the rollup, merged per key into the bucket (µs) given, or into their own.
    Rows(Option<i64>),
}

/// A measure's column in one batch.
enum Source<'a> {
    /// Each event counts one.
    Count,
    /// Counts to add, or numbers or times.
    Number(&'a dyn Array, &'a [i64]),
    /// Texts, numbered among the measure's.
    Text,
}

/// One rollup over the batches added so far, grouped per day.
pub struct Groups {
    rollup: Rollup,
    /// What is added: events, or rows of the rollup to merge.
    input: Input,
    schema: SchemaRef,
    /// How each measure is held.
    slots: Vec<Slot>,
    /// The numbers of a group's record.
    stride: usize,
    /// The values of each key column, then of each text measure, met since the groups were
    /// last drained.
    values: Vec<KeyValues>,
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
        let fields = schema.fields();
        let mut values = fields
            .iter()
            .skip(1)
            .take(rollup.keys.len())
            .map(|f| KeyValues::new(f.data_type(), f.name()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut slots = Vec::new();
        for (m, field) in rollup
            .measures
            .iter()
            .zip(fields.iter().skip(values.len() + 1))
        {
            let least = matches!(m, Measure::Min(..));
            slots.push(match (m, field.data_type()) {
                (Measure::Count(_), _) => Slot::Count,
                (_, DataType::Utf8) => {
                    values.push(KeyValues::new(field.data_type(), field.name())?);
                    Slot::Text {
                        least,
                        place: values.len() - 1,
                    }
                }
                _ => Slot::Number { least },
            });
        }
        let stride = 1 + rollup.keys.len() + slots.iter().map(|s| s.width()).sum::<usize>();
        Ok(Groups {
            rollup,
            input,
            schema,
            slots,
            stride,
            values,
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
        let bucket = self.rollup.bucket;
        let time = if events { "time" } else { bucket.name() };
        let times = column(time)?
            .as_primitive_opt::<TimestampMicrosecondType>()
            .ok_or_else(|| missing(time))?;
        // The columns to number: the keys, then the text measures.
        let mut numbered: Vec<(ArrayRef, &str)> = Vec::with_capacity(self.values.len());
        for key in self.rollup.keys {
            numbered.push(match key {
                Key::IsNull(name, _) if events => (Arc::new(is_null(column(name)?)?), key.name()),
                key if events => (column(key.source())?.clone(), key.name()),
                key => (column(key.name())?.clone(), key.name()),
            });
        }
        let measure_fields = self.schema.fields().iter().skip(self.rollup.keys.len() + 1);
        let mut sources = Vec::with_capacity(self.slots.len());
        for ((m, field), slot) in self
            .rollup
            .measures
            .iter()
            .zip(measure_fields)
            .zip(&self.slots)
        {
            let name = match m {
                Measure::Count(_) if events => {
                    sources.push(Source::Count);
                    continue;
                }
                Measure::Min(name, _) | Measure::Max(name, _) if events => name,
                m => m.name(),
            };
            let values = column(name)?;
            // A column of another type (a damaged rollup file) is an error, not skipped.
            if values.data_type() != field.data_type() {
                return Err(missing(name));
            }
            sources.push(if let Slot::Text { .. } = slot {
                numbered.push((values.clone(), name));
                Source::Text
            } else if let Some(n) = values.as_primitive_opt::<Int64Type>() {
                Source::Number(n, n.values())
            } else if let Some(t) = values.as_primitive_opt::<TimestampMicrosecondType>() {
                Source::Number(t, t.values())
            } else {
                return Err(missing(name));
            });
        }
        // The events it counts: all, or those of the column and value it is restricted to.
        let wanted: Option<Vec<bool>> = match self.rollup.only {
            Some((name, value)) if events => {
                let only = column(name)?
                    .as_string_opt::<i32>()
                    .ok_or_else(|| missing(name))?;
                Some(
                    (0..only.len())
                        .map(|row| only.is_valid(row) && only.value(row) == value)
                        .collect(),
                )
            }
            _ => None,
        };
        let width = numbered.len();
        let mut numbers = vec![0u32; batch.num_rows() * width];
        for (place, ((values, name), keys)) in numbered.iter().zip(&mut self.values).enumerate() {
            let wanted = wanted.as_deref();
            keys.number(values, name, &mut numbers[place..], width, wanted)?;
        }
        let keys = self.rollup.keys.len();
        let rows: Vec<usize> = (0..batch.num_rows())
            .filter(|&row| wanted.as_ref().is_none_or(|wanted| wanted[row]))
            .collect();
        let key_of = |row: usize, key: &mut [i64]| {
            key[0] = match self.input {
                Input::Rows(Some(fixed)) => fixed,
                _ => bucket.start(times.value(row)),
            };
            for (k, &n) in key[1..].iter_mut().zip(&numbers[row * width..][..width]) {
                *k = i64::from(n);
            }
        };
        let mut chunk = Chunk::default();
        for (i, &row) in rows.iter().enumerate() {
            if i % CHUNK_ROWS == 0 {
                let next = &rows[i..rows.len().min(i + CHUNK_ROWS)];
                chunk.find(&mut self.days, next, (1 + keys, self.stride), key_of);
                self.len += chunk.new;
            }
            let (day, at) = chunk.found[i % CHUNK_ROWS];
            let numbers = &numbers[row * width..][..width];
            let day = self.days.entry(day).or_default();
            let record = &mut day.records[at..][..self.stride];
            let mut place = 1 + keys;
            for (slot, source) in self.slots.iter().zip(&sources) {
                let held = &mut record[place..];
                place += slot.width();
                match (*slot, source) {
                    (Slot::Count, Source::Count) => held[0] += 1,
                    (Slot::Count, Source::Number(array, counts)) if array.is_valid(row) => {
                        held[0] = held[0].saturating_add(counts[row]);
                    }
                    (Slot::Text { least, place: at }, Source::Text) => {
                        let text = i64::from(numbers[at]);
                        let values = &self.values[at];
                        if text != 0
                            && text != held[0]
                            && (held[0] == 0
                                || wins(least, values.bytes(text), values.bytes(held[0])))
                        {
                            held[0] = text;
                        }
                    }
                    (Slot::Number { least }, Source::Number(array, values))
                        if array.is_valid(row) =>
                    {
                        let value = values[row];
                        if held[0] == 0 || wins(least, &value, &held[1]) {
                            held[0] = 1;
                            held[1] = value;
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
        let rows = days
            .into_iter()
            .map(|(number, day)| Ok((number, self.batch(&day)?)))
            .collect();
        self.values.iter_mut().for_each(KeyValues::clear);
        rows
    }

    fn batch(&self, day: &Day) -> Result<RecordBatch, ArrowError> {
        let field = |place: usize| day.records.iter().skip(place).step_by(self.stride).copied();
        let starts = TimestampMicrosecondArray::from_iter_values(field(0)).with_timezone("UTC");
        let mut columns: Vec<ArrayRef> = vec![Arc::new(starts)];
        let keys = self.rollup.keys.len();
        for (place, values) in self.values.iter().take(keys).enumerate() {
            columns.push(values.column(field(1 + place).map(|n| n as u32))?);
        }
        let measure_fields = self.schema.fields().iter().skip(columns.len());
        let mut place = 1 + keys;
        for (slot, field_type) in self.slots.iter().zip(measure_fields) {
            let column: ArrayRef = match *slot {
                Slot::Count => Arc::new(Int64Array::from_iter_values(field(place))),
                Slot::Text { place: values, .. } => {
                    self.values[values].column(field(place).map(|n| n as u32))?
                }
                Slot::Number { .. } => {
                    let held = field(place).zip(field(place + 1));
                    let numbers: Int64Array =
                        held.map(|(set, v)| (set != 0).then_some(v)).collect();
                    cast(&numbers, field_type.data_type())?
                }
            };
            place += slot.width();
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
    use arrow_array::StringArray;
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
            // The keys of the event before, an hour later: another group by the hour.
            (4 * HOUR + 1, "r1", "public", None, None, None),
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

    #[tokio::test]
    async fn batches_of_many_chunks_over_several_days_equal_the_sql_rollup() {
        // Rows in an order that switches day, caller and identity from one row to the next,
        // over several chunks of rows found together, and groups made in one chunk met again
        // in the next.
        let callers: Vec<String> = (0..97).map(|i| format!("10.0.{}.{}", i % 7, i)).collect();
        let identities: Vec<String> = (0..13).map(|i| format!("id-{i}")).collect();
        let paths = ["trusted_service", "public_internet", "denied"];
        let events: Vec<Event<'_>> = (0..3 * CHUNK_ROWS as i64 + 17)
            .map(|i| {
                let time = (i / 7) % 3 * MICROS_PER_DAY + (i * 104_729_000) % MICROS_PER_DAY;
                (
                    time,
                    ["r1", "r2"][(i % 2) as usize],
                    paths[(i % 3) as usize],
                    (i % 11 != 0).then(|| callers[(i * 31 % 97) as usize].as_str()),
                    (i % 5 != 0).then(|| identities[(i * 7 % 13) as usize].as_str()),
                    (i % 4 != 0).then_some(i % 9),
                )
            })
            .collect();
        let all = batch(&events);
        let half = all.slice(0, all.num_rows() / 2);
        let ctx = SessionContext::new();
        let both = MemTable::try_new(attributed_schema(), vec![vec![half.clone(), all.clone()]]);
        ctx.register_table("events", Arc::new(both.unwrap()))
            .unwrap();
        for rollup in ROLLUPS {
            let mut groups = Groups::new(rollup).unwrap();
            // Half the events, then all of them: groups met again in a later batch.
            groups.add(&half).unwrap();
            groups.add(&all).unwrap();
            let rows: Vec<RecordBatch> = groups
                .drain()
                .unwrap()
                .into_iter()
                .map(|(_, r)| r)
                .collect();
            assert!(rows.len() >= 3, "{} days", rows.len());
            let table = MemTable::try_new(rollup.schema(), vec![rows]).unwrap();
            let ours = ctx.read_table(Arc::new(table)).unwrap();
            let expected = ctx.sql(&rollup.over("events", "TRUE")).await.unwrap();
            let expected = sorted(expected).await;
            assert!(expected.len() > 50, "{} rows", expected.len());
            assert_eq!(sorted(ours).await, expected);
        }
    }

    #[test]
    fn a_day_finds_each_group_again_through_its_growth() {
        let mut day = Day::default();
        let stride = 5;
        // Keys that differ in one number only, over many doublings of the slots.
        let key = |i: i64| [7, i % 3, i / 3, 0];
        for i in 0..30_000 {
            let (at, new) = day.group(&key(i), group_hash(&key(i)), stride);
            assert_eq!((at, new), (i as usize * stride, true));
            day.records[at + 4] = i;
        }
        for i in (0..30_000).rev() {
            let (at, new) = day.group(&key(i), group_hash(&key(i)), stride);
            assert_eq!((at, new), (i as usize * stride, false));
            assert_eq!(day.records[at..][..5], [7, i % 3, i / 3, 0, i]);
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

//! Building the rollups of the days a run touched, at its commit: each rollup of a day is the
//! run's rows of it (made while its batches were written) merged with the day's rollup
//! committed before — or, for a store whose rollups are being made for the first time or a day
//! missing one, with the rollup of the day's committed part files. Each week holding such a day
//! is merged anew from its days' rollups, and the new files replace the previous ones through
//! the run's journal, so the rollups hold every committed event exactly once, as the part files
//! do. A scheduled run reads neither its own parts nor the whole day again.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use acrlens_values::{MICROS_PER_DAY, format_day, parse_timestamp_micros};
use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::{ArrowWriter, ProjectionMask};
use rayon::prelude::*;

use super::partition::props;
use crate::rollup::{self, Groups, Span, week_start};
use crate::store::StoreError;
use crate::store::partials::Partials;

/// The day (`YYYY-MM-DD`) of a partition folder `…/date=YYYY-MM-DD`.
fn day_of_folder(folder: &Path) -> Option<String> {
    let name = folder.file_name()?.to_str()?;
    name.strip_prefix("date=").map(str::to_owned)
}

/// The day of a part file, from its partition folder.
pub(super) fn day_of(part: &Path) -> Option<String> {
    day_of_folder(part.parent()?)
}

/// The committed part files of every day, in every category: one walk of the events folder.
pub(super) fn committed_parts(events: &Path) -> Result<BTreeMap<String, Vec<PathBuf>>, StoreError> {
    let io = |path: &Path, e| StoreError::Io(path.display().to_string(), e);
    let mut parts: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for category in fs::read_dir(events).map_err(|e| io(events, e))? {
        let category = category.map_err(|e| io(events, e))?.path();
        let Ok(days) = fs::read_dir(&category) else {
            continue;
        };
        for folder in days {
            let folder = folder.map_err(|e| io(&category, e))?.path();
            let (Some(day), Ok(files)) = (day_of_folder(&folder), fs::read_dir(&folder)) else {
                continue;
            };
            let list = parts.entry(day).or_default();
            for file in files {
                let file = file.map_err(|e| io(&folder, e))?.path();
                if file.extension().is_some_and(|e| e == "parquet") {
                    list.push(file);
                }
            }
        }
    }
    Ok(parts)
}

/// Writes every rollup table of each of `days` and of their weeks under a temporary name, from
/// the run's `partials` and, for each day, its committed rollups or, where there are none or
/// `from_scratch`, its committed parts; returns the renames that put them in place.
pub(super) fn build(
    store: &Path,
    days: &BTreeSet<String>,
    partials: &Partials,
    from_scratch: bool,
    run: &str,
) -> Result<Vec<(PathBuf, PathBuf)>, StoreError> {
    let mut files: BTreeMap<&str, DaySources> = days
        .iter()
        .map(|day| {
            let merge = !from_scratch && daily_files(store, day).all(|f| f.exists());
            (
                day.as_str(),
                DaySources {
                    parts: Vec::new(),
                    merge,
                },
            )
        })
        .collect();
    // The events folder is walked only for days that are made from all their parts: a
    // scheduled run into a store with rollups lists nothing.
    if files.values().any(|s| !s.merge) {
        let mut committed = committed_parts(&store.join("events"))?;
        for (day, sources) in files.iter_mut().filter(|(_, s)| !s.merge) {
            sources.parts = committed.remove(*day).unwrap_or_default();
        }
    }
    let weeks: BTreeSet<i64> = files
        .keys()
        .filter_map(|d| parse_day(d))
        .map(week_start)
        .collect();
    // One rollup of one day at a time per thread: its groups are what the build holds. A run
    // of a few days has as many tasks as rollups of them, so both cores merge to the end.
    let tasks: Vec<(&str, &DaySources, usize)> = files
        .iter()
        .flat_map(|(&day, sources)| (0..rollup::ROLLUPS.len()).map(move |r| (day, sources, r)))
        .collect();
    let days: Vec<Option<(PathBuf, PathBuf)>> = tasks
        .into_par_iter()
        .map(|(day, sources, r)| build_day(store, day, sources, partials, r, run))
        .collect::<Result<_, _>>()?;
    let mut renames: Vec<(PathBuf, PathBuf)> = days.into_iter().flatten().collect();
    let week_tables = rollup::TABLES.iter().filter(|t| t.span == Span::Week);
    let week_tasks: Vec<(i64, &rollup::RollupTable)> = weeks
        .iter()
        .flat_map(|&monday| week_tables.clone().map(move |t| (monday, t)))
        .collect();
    let built: Vec<Option<(PathBuf, PathBuf)>> = week_tasks
        .into_par_iter()
        .map(|(monday, table)| build_week(store, monday, table, &renames, run))
        .collect::<Result<_, _>>()?;
    renames.extend(built.into_iter().flatten());
    Ok(renames)
}

/// A day (`YYYY-MM-DD`) as the time of its start.
fn parse_day(day: &str) -> Option<i64> {
    parse_timestamp_micros(&format!("{day}T00:00:00Z"))
}

/// Reads the batches of the Parquet file `path` (only the columns named, when `columns` is
/// given) into `each`.
fn read(
    path: &Path,
    columns: Option<&[&str]>,
    mut each: impl FnMut(&RecordBatch) -> Result<(), ArrowError>,
) -> Result<(), StoreError> {
    let file = File::open(path).map_err(|e| StoreError::Io(path.display().to_string(), e))?;
    let mut builder = ParquetRecordBatchReaderBuilder::try_new(file)?;
    if let Some(columns) = columns {
        let roots = columns
            .iter()
            .filter_map(|c| builder.schema().index_of(c).ok())
            .collect::<Vec<_>>();
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
        builder = builder.with_projection(mask);
    }
    for batch in builder.build()? {
        each(&batch?)?;
    }
    Ok(())
}

/// Writes the rows of `groups` as the temporary file of `table`'s `bucket`; returns the rename
/// that puts it in place.
fn write(
    mut groups: Groups,
    store: &Path,
    table: &str,
    bucket: &str,
    run: &str,
) -> Result<(PathBuf, PathBuf), StoreError> {
    let rows = groups.drain()?;
    let batches: Vec<RecordBatch> = rows.into_iter().map(|(_, batch)| batch).collect();
    write_rows(&groups.schema(), &batches, store, table, bucket, run)
}

/// Writes `rows` (of `schema`) as the temporary file of `table`'s `bucket`; returns the rename
/// that puts it in place.
fn write_rows(
    schema: &SchemaRef,
    rows: &[RecordBatch],
    store: &Path,
    table: &str,
    bucket: &str,
    run: &str,
) -> Result<(PathBuf, PathBuf), StoreError> {
    let folder = rollup::folder(store, table);
    fs::create_dir_all(&folder).map_err(|e| StoreError::Io(folder.display().to_string(), e))?;
    let tmp = folder.join(format!(".{bucket}-{run}.parquet.tmp"));
    let file = File::create(&tmp).map_err(|e| StoreError::Io(tmp.display().to_string(), e))?;
    let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props(schema)))?;
    for batch in rows {
        writer.write(batch)?;
    }
    writer
        .into_inner()?
        .sync_all()
        .map_err(|e| StoreError::Io(tmp.display().to_string(), e))?;
    Ok((tmp, folder.join(format!("{bucket}.parquet"))))
}

/// What a day's rollups are made from: the run's rows, and what the store held before.
struct DaySources {
    /// The day's committed part files, when its rollups are made from them (not `merge`).
    parts: Vec<PathBuf>,
    /// Whether the run's rows are merged into the day's committed rollup files.
    merge: bool,
}

/// The committed files of a day's per-hour and per-day rollups.
fn daily_files<'a>(store: &'a Path, day: &'a str) -> impl Iterator<Item = PathBuf> + 'a {
    rollup::TABLES
        .iter()
        .filter(|t| t.span == Span::Bucket)
        .map(move |t| rollup::folder(store, t.name).join(format!("{day}.parquet")))
}

/// Writes the per-hour or per-day table of rollup `place` (in [`rollup::ROLLUPS`]) of one day,
/// if it has one, from the run's rows of it in `partials`. Where those are one batch, held in
/// memory, and the store has nothing of the day, the batch is the table (one row per key,
/// as a merge would give them, in the same order), written as it is.
fn build_day(
    store: &Path,
    day: &str,
    sources: &DaySources,
    partials: &Partials,
    place: usize,
    run: &str,
) -> Result<Option<(PathBuf, PathBuf)>, StoreError> {
    let rollup = rollup::ROLLUPS[place];
    let Some(table) = rollup.bucket_table() else {
        return Ok(None);
    };
    let (files, held) = (partials.files(place, day), partials.rows(place, day));
    if let ([], [only]) = (files, held)
        && !sources.merge
        && sources.parts.is_empty()
    {
        return write_rows(&only.schema(), held, store, table.name, day, run).map(Some);
    }
    let mut rows = Groups::merging(rollup, None)?;
    for file in files {
        read(file, None, |batch| rows.add(batch))?;
    }
    for batch in held {
        rows.add(batch)?;
    }
    if sources.merge {
        let committed = rollup::folder(store, table.name).join(format!("{day}.parquet"));
        read(&committed, None, |batch| rows.add(batch))?;
    } else if !sources.parts.is_empty() {
        let mut events = Groups::new(rollup)?;
        let columns = rollup.event_columns();
        for part in &sources.parts {
            read(part, Some(&columns), |batch| events.add(batch))?;
        }
        for (_, batch) in events.drain()? {
            rows.add(&batch)?;
        }
    }
    write(rows, store, table.name, day, run).map(Some)
}

/// Writes the per-week `table` of the week from `monday` (µs), merged from the per-day files
/// of its days: those written by this run (`written`) and those committed before; nothing if
/// none of its days has one.
fn build_week(
    store: &Path,
    monday: i64,
    table: &rollup::RollupTable,
    written: &[(PathBuf, PathBuf)],
    run: &str,
) -> Result<Option<(PathBuf, PathBuf)>, StoreError> {
    let Some(daily) = table.rollup.bucket_table() else {
        return Ok(None);
    };
    let first = monday.div_euclid(MICROS_PER_DAY);
    let folder = rollup::folder(store, daily.name);
    let files: Vec<PathBuf> = (first..first + 7)
        .filter_map(|day| {
            let committed = folder.join(format!("{}.parquet", format_day(day)));
            written
                .iter()
                .find(|(_, done)| *done == committed)
                .map(|(tmp, _)| tmp.clone())
                .or_else(|| committed.exists().then_some(committed))
        })
        .collect();
    if files.is_empty() {
        return Ok(None);
    }
    let mut rows = Groups::merging(table.rollup, Some(monday))?;
    for file in &files {
        read(file, None, |batch| rows.add(batch))?;
    }
    write(rows, store, table.name, &format_day(first), run).map(Some)
}

//! Building the rollups of the days a run touched, at its commit: each rollup of a day is the
//! rollup of the run's own part files (still under temporary names) merged with the day's rollup
//! committed before — or, for a store whose rollups are being made for the first time or a day
//! missing one, made from all of that day's part files. Each week holding such a day is merged
//! anew from its days' rollups, and the new files replace the previous ones through the run's
//! journal, so the rollups hold every committed event exactly once, as the part files do. A
//! scheduled run reads only what it wrote, not the whole day again.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use acrlens_attrib::attributed_schema;
use acrlens_values::{MICROS_PER_DAY, format_day, parse_timestamp_micros};
use arrow_schema::SchemaRef;
use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::listing::ListingTableUrl;
use datafusion::prelude::SessionContext;
use parquet::arrow::ArrowWriter;

use super::partition::{file_schema, props};
use crate::parquet_table;
use crate::rollup::{self, Span, week_start};
use crate::store::StoreError;

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
/// the run's `new_parts` (temporary path, final path) and, for each day, its committed rollups
/// or, where there are none or `from_scratch`, its committed parts; returns the renames that put
/// them in place.
pub(super) fn build(
    store: &Path,
    days: &BTreeSet<String>,
    new_parts: &[(PathBuf, PathBuf)],
    from_scratch: bool,
    run: &str,
) -> Result<Vec<(PathBuf, PathBuf)>, StoreError> {
    let mut files: BTreeMap<&str, DaySources> = days
        .iter()
        .map(|day| {
            let merge = !from_scratch && daily_files(store, day).all(|f| f.exists());
            let parts = Vec::new();
            (day.as_str(), DaySources { parts, merge })
        })
        .collect();
    // The events folder is walked only for days that are made from all their parts: a
    // scheduled run into a store with rollups lists nothing but what it wrote.
    if files.values().any(|s| !s.merge) {
        let mut committed = committed_parts(&store.join("events"))?;
        for (day, sources) in files.iter_mut().filter(|(_, s)| !s.merge) {
            sources.parts = committed.remove(*day).unwrap_or_default();
        }
    }
    for (tmp, final_path) in new_parts {
        if let Some(sources) = day_of(final_path).and_then(|d| files.get_mut(d.as_str())) {
            sources.parts.push(tmp.clone());
        }
    }
    files.retain(|_, sources| !sources.parts.is_empty());
    let weeks: BTreeSet<i64> = files
        .keys()
        .filter_map(|d| parse_day(d))
        .map(week_start)
        .collect();
    // DataFusion runs on a runtime of its own, on a thread of its own, so a caller already
    // inside a runtime (a report staging raw exports, a test) can commit too.
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| StoreError::Io("the rollups' runtime".into(), e))?;
                runtime.block_on(async {
                    let mut renames = Vec::new();
                    // Two days at a time: one day's queries keep about one core busy.
                    let mut days = tokio::task::JoinSet::new();
                    for (day, sources) in files {
                        if days.len() >= DAYS_AT_ONCE
                            && let Some(done) = days.join_next().await
                        {
                            renames.extend(joined(done)?);
                        }
                        let (store, day, run) =
                            (store.to_path_buf(), day.to_owned(), run.to_owned());
                        days.spawn(async move { build_day(&store, &day, &sources, &run).await });
                    }
                    while let Some(done) = days.join_next().await {
                        renames.extend(joined(done)?);
                    }
                    for monday in weeks {
                        renames.extend(build_week(store, monday, &renames, run).await?);
                    }
                    Ok(renames)
                })
            })
            .join()
            .unwrap_or_else(|_| {
                Err(StoreError::Corrupt(
                    "rollups".into(),
                    "building them panicked".into(),
                ))
            })
    })
}

/// Days whose rollups are built at once.
const DAYS_AT_ONCE: usize = 2;

/// The rollup files of a day built on a task of its own.
fn joined(
    done: Result<Result<Vec<(PathBuf, PathBuf)>, StoreError>, tokio::task::JoinError>,
) -> Result<Vec<(PathBuf, PathBuf)>, StoreError> {
    done.map_err(|e| StoreError::Corrupt("rollups".into(), format!("building a day's: {e}")))?
}

/// A day (`YYYY-MM-DD`) as the time of its start.
fn parse_day(day: &str) -> Option<i64> {
    parse_timestamp_micros(&format!("{day}T00:00:00Z"))
}

/// The table `name` over `files` (temporary or not: every file named is read).
fn files_table(
    ctx: &SessionContext,
    name: &str,
    files: &[PathBuf],
    schema: SchemaRef,
) -> Result<(), StoreError> {
    let urls = files
        .iter()
        .map(|p| ListingTableUrl::parse(p.display().to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    ctx.register_table(name, parquet_table(urls, "", Vec::new(), schema)?)?;
    Ok(())
}

/// Writes the rows of `df` as the temporary file of `table`'s `bucket`; returns the rename that
/// puts it in place.
async fn write(
    df: DataFrame,
    store: &Path,
    table: &str,
    bucket: &str,
    run: &str,
) -> Result<(PathBuf, PathBuf), StoreError> {
    let schema = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await?;
    let folder = rollup::folder(store, table);
    fs::create_dir_all(&folder).map_err(|e| StoreError::Io(folder.display().to_string(), e))?;
    let tmp = folder.join(format!(".{bucket}-{run}.parquet.tmp"));
    let file = File::create(&tmp).map_err(|e| StoreError::Io(tmp.display().to_string(), e))?;
    let mut writer = ArrowWriter::try_new(file, schema, Some(props()))?;
    for batch in &batches {
        writer.write(batch)?;
    }
    writer
        .into_inner()?
        .sync_all()
        .map_err(|e| StoreError::Io(tmp.display().to_string(), e))?;
    Ok((tmp, folder.join(format!("{bucket}.parquet"))))
}

/// What a day's rollups are made from.
struct DaySources {
    /// Part files: all of the day's, or the run's alone when `merge`.
    parts: Vec<PathBuf>,
    /// Whether the rollups of `parts` are merged into the day's committed rollup files.
    merge: bool,
}

/// The committed files of a day's per-hour and per-day rollups.
fn daily_files<'a>(store: &'a Path, day: &'a str) -> impl Iterator<Item = PathBuf> + 'a {
    rollup::TABLES
        .iter()
        .filter(|t| t.span == Span::Bucket)
        .map(move |t| rollup::folder(store, t.name).join(format!("{day}.parquet")))
}

/// Writes every per-hour and per-day rollup of one day.
async fn build_day(
    store: &Path,
    day: &str,
    sources: &DaySources,
    run: &str,
) -> Result<Vec<(PathBuf, PathBuf)>, StoreError> {
    let ctx = SessionContext::new();
    files_table(
        &ctx,
        "events",
        &sources.parts,
        file_schema(&attributed_schema()),
    )?;
    let mut renames = Vec::new();
    for table in rollup::TABLES.iter().filter(|t| t.span == Span::Bucket) {
        let rows = table.rollup.over("events", "TRUE");
        let sql = if sources.merge {
            let committed = rollup::folder(store, table.name).join(format!("{day}.parquet"));
            files_table(&ctx, table.name, &[committed], table.rollup.schema().await?)?;
            let both = format!(
                "(SELECT * FROM {} UNION ALL {rows}) AS both_runs",
                table.name
            );
            table.rollup.merged(&both, table.rollup.bucket, "TRUE")
        } else {
            rows
        };
        let df = ctx.sql(&sql).await?;
        renames.push(write(df, store, table.name, day, run).await?);
    }
    Ok(renames)
}

/// Writes every per-week rollup of the week from `monday` (µs), merged from the per-day files
/// of its days: those written by this run (`written`) and those committed before.
async fn build_week(
    store: &Path,
    monday: i64,
    written: &[(PathBuf, PathBuf)],
    run: &str,
) -> Result<Vec<(PathBuf, PathBuf)>, StoreError> {
    let first = monday.div_euclid(MICROS_PER_DAY);
    let week = format_day(first);
    let days: Vec<String> = (first..first + 7).map(format_day).collect();
    let mut renames = Vec::new();
    for table in rollup::TABLES.iter().filter(|t| t.span == Span::Week) {
        let Some(daily) = table.rollup.tables().find(|t| t.span == Span::Bucket) else {
            continue;
        };
        let folder = rollup::folder(store, daily.name);
        let files: Vec<PathBuf> = days
            .iter()
            .filter_map(|day| {
                let committed = folder.join(format!("{day}.parquet"));
                written
                    .iter()
                    .find(|(_, done)| *done == committed)
                    .map(|(tmp, _)| tmp.clone())
                    .or_else(|| committed.exists().then_some(committed))
            })
            .collect();
        if files.is_empty() {
            continue;
        }
        let ctx = SessionContext::new();
        files_table(&ctx, "days", &files, table.rollup.schema().await?)?;
        let sql = table.rollup.merged("days", "$week", "TRUE");
        let week_start = ScalarValue::TimestampMicrosecond(Some(monday), Some("UTC".into()));
        let df = ctx
            .sql(&sql)
            .await?
            .with_param_values(vec![("week", week_start)])?;
        renames.push(write(df, store, table.name, &week, run).await?);
    }
    Ok(renames)
}

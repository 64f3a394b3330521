//! The enriched Parquet store: `DIR/events/category=…/date=YYYY-MM-DD/part-….parquet` (zstd,
//! row groups of up to 64 Ki rows sorted by time, page statistics), `DIR/quarantine/`,
//! `DIR/rollups/<rollup>/YYYY-MM-DD.parquet` (the aggregates of [`crate::rollup`], one file per
//! rollup and day), `DIR/manifest.json` and `DIR/runs.jsonl`.
//!
//! A run commits atomically: parts, quarantine and the rollup rows the run could not hold in
//! memory (made from its batches as they are written) are written under temporary names; then
//! the rollups of the days the run touched are made anew from its rows and the days'
//! committed rollups (a day new to the store straight from the rows the run held), also under
//! temporary names; then a journal naming every rename and the
//! new manifest is written (atomically); then the renames are done, the manifest replaced, the
//! run appended to `runs.jsonl`, the journal removed. A run killed before its journal leaves
//! only temporaries, removed by the next run, which re-reads the same inputs; a run killed
//! after it is rolled forward by the next. Either way every record is in the store exactly
//! once.

mod fsutil;
mod manifest;
mod partials;
mod partition;
mod rolling;
mod rollups;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use acrlens_attrib::attributed_schema;
use acrlens_events::{InputSource, InputVersion, Quarantined, SourceStats};
use arrow_array::{RecordBatch, StringArray};
use serde::{Deserialize, Serialize};

use crate::rollup::ROLLUP_VERSION;
use fsutil::{read_json, remove_temporaries, write_atomically};
pub use manifest::{InputRecord, Manifest};
use partials::Partials;
use partition::PartitionWriters;
pub use partition::{ROW_GROUP_ROWS, file_schema, hive_value};
use rolling::Rolling;

/// Why the store could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file operation failed.
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
    /// A store file does not hold what it should.
    #[error("{0} is damaged: {1}")]
    Corrupt(String, String),
    /// Writing Parquet failed.
    #[error(transparent)]
    Parquet(#[from] parquet::errors::ParquetError),
    /// Arrow refused a batch.
    #[error(transparent)]
    Arrow(#[from] arrow_schema::ArrowError),
    /// A failure injected by a test (`StoreOptions::fail_after_parts`).
    #[error("simulated crash after {0} part files")]
    Simulated(usize),
    /// An input could not be read to its end (network, storage): the run is not committed,
    /// so the next one reads it again and nothing is lost or written twice.
    #[error(
        "{0} could not be read to its end ({1}); nothing was committed, the store is as it was: run again"
    )]
    Interrupted(String, String),
}

/// Test hooks that stop a run part-way, as a crash would.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreOptions {
    /// Stop once this many part files were written, before the commit begins.
    pub fail_after_parts: Option<usize>,
    /// Stop after the journal is written and the parts renamed, before the manifest is replaced.
    pub fail_before_manifest: bool,
    /// The groups each rollup holds in memory before writing them out (128 Ki when `None`): a
    /// few make a run write its rollups out many times a day, as a long run does.
    pub held_rollup_groups: Option<usize>,
}

/// An opened store.
pub struct Store {
    dir: PathBuf,
    manifest: Manifest,
}

/// What a run is to read: inputs new or grown since the last run.
#[derive(Debug, Default)]
pub struct Plan {
    /// The inputs to decode (whole, or resumed after their last whole line).
    pub sources: Vec<InputSource>,
    /// Inputs unchanged since they were ingested.
    pub unchanged: usize,
    /// Inputs that grew and are read from where the last run stopped.
    pub resumed: usize,
    /// Inputs that changed in a way that cannot be resumed (rewritten, shrunk, compressed, a
    /// blob replaced): not re-read, so nothing is written twice.
    pub changed_in_place: Vec<String>,
    states: BTreeMap<String, InputVersion>,
}

/// The journal of a commit in progress.
#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    renames: Vec<(PathBuf, PathBuf)>,
    manifest: Manifest,
    run: RunSummary,
}

/// One run's summary, as appended to `runs.jsonl`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Run id.
    pub run: String,
    /// Inputs read (whole or resumed).
    pub inputs: usize,
    /// Inputs skipped as unchanged.
    pub unchanged: usize,
    /// Inputs resumed.
    pub resumed: usize,
    /// Records read.
    pub read: u64,
    /// Records written.
    pub written: u64,
    /// Duplicates dropped.
    pub duplicates: u64,
    /// Records outside the time window.
    pub out_of_window: u64,
    /// Records quarantined.
    pub quarantined: u64,
    /// Rows written per category.
    pub categories: BTreeMap<String, u64>,
    /// Rows written per access path.
    pub access_paths: BTreeMap<String, u64>,
    /// Part files written.
    pub parts: usize,
}

impl Store {
    /// Opens (or creates) a store, finishing or discarding whatever an interrupted run left.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        for sub in ["events", "quarantine", "rollups"] {
            let path = dir.join(sub);
            fs::create_dir_all(&path).map_err(|e| StoreError::Io(path.display().to_string(), e))?;
        }
        let journal = dir.join("journal.json");
        if journal.exists() {
            let pending: Journal = read_json(&journal)?;
            apply(dir, &pending)?;
        }
        remove_temporaries(&dir.join("events"))?;
        remove_temporaries(&dir.join("quarantine"))?;
        remove_temporaries(&dir.join("rollups"))?;
        let manifest = Manifest::load(&dir.join("manifest.json"))?;
        Ok(Store {
            dir: dir.to_path_buf(),
            manifest,
        })
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The folder of the event files.
    pub fn events_dir(&self) -> PathBuf {
        self.dir.join("events")
    }

    /// Decides what to read of `inputs` (files and blobs): new ones whole, grown ones from
    /// where they stopped, unchanged ones not at all.
    pub fn plan(&self, inputs: Vec<InputSource>) -> Result<Plan, StoreError> {
        let mut plan = Plan::default();
        for input in inputs {
            let key = input.name();
            let Some(version) = input
                .version()
                .map_err(|e| StoreError::Io(key.clone(), e))?
            else {
                plan.sources.push(input);
                continue;
            };
            let seen = self.manifest.inputs.get(&key);
            let resumed = seen
                .filter(|seen| seen.grew_into(&version))
                .and_then(InputRecord::resume)
                .and_then(|at| input.resumed_at(at));
            plan.states.insert(key.clone(), version.clone());
            match (seen, resumed) {
                (None, _) => plan.sources.push(input),
                (Some(seen), _) if seen.version() == version => plan.unchanged += 1,
                (Some(_), Some(resumed)) => {
                    plan.resumed += 1;
                    plan.sources.push(resumed);
                }
                (Some(_), None) => plan.changed_in_place.push(key),
            }
        }
        Ok(plan)
    }

    /// Starts a run that will read `plan`.
    pub fn begin(&self, plan: &Plan, options: StoreOptions) -> Result<StoreRun, StoreError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        let run = format!("{now}-{}", std::process::id());
        let quarantine_tmp = self
            .dir
            .join("quarantine")
            .join(format!(".{run}.jsonl.tmp"));
        let quarantine = BufWriter::new(
            File::create(&quarantine_tmp)
                .map_err(|e| StoreError::Io(quarantine_tmp.display().to_string(), e))?,
        );
        Ok(StoreRun {
            dir: self.dir.clone(),
            partitions: PartitionWriters::new(&self.events_dir(), &run, &attributed_schema())?,
            rollups: Rolling::start(Partials::new(&self.dir, &run, options.held_rollup_groups)?)?,
            quarantine,
            quarantine_tmp,
            manifest: self.manifest.clone(),
            states: plan.states.clone(),
            summary: RunSummary {
                run,
                unchanged: plan.unchanged,
                resumed: plan.resumed,
                ..RunSummary::default()
            },
            options,
        })
    }
}

/// Finishes a commit from its journal; safe to repeat.
fn apply(dir: &Path, journal: &Journal) -> Result<(), StoreError> {
    for (tmp, final_path) in &journal.renames {
        if tmp.exists() {
            fs::rename(tmp, final_path)
                .map_err(|e| StoreError::Io(tmp.display().to_string(), e))?;
        } else if !final_path.exists() {
            return Err(StoreError::Corrupt(
                final_path.display().to_string(),
                "committed part file missing".into(),
            ));
        }
    }
    journal.manifest.save(&dir.join("manifest.json"))?;
    let line = sonic_rs::to_string(&journal.run)
        .map_err(|e| StoreError::Corrupt("run summary".into(), e.to_string()))?;
    let runs = dir.join("runs.jsonl");
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&runs)
        .map_err(|e| StoreError::Io(runs.display().to_string(), e))?;
    writeln!(file, "{line}").map_err(|e| StoreError::Io(runs.display().to_string(), e))?;
    let journal_path = dir.join("journal.json");
    fs::remove_file(&journal_path)
        .map_err(|e| StoreError::Io(journal_path.display().to_string(), e))
}

/// A run writing into the store.
pub struct StoreRun {
    dir: PathBuf,
    partitions: PartitionWriters,
    /// The run's rollups, made from the batches as they are written.
    rollups: Rolling,
    quarantine: BufWriter<File>,
    quarantine_tmp: PathBuf,
    manifest: Manifest,
    states: BTreeMap<String, InputVersion>,
    summary: RunSummary,
    options: StoreOptions,
}

impl StoreRun {
    /// Encodes the part files' row groups on `threads` (the decoding threads) rather than on
    /// rayon's global pool, while the run goes on.
    pub fn encode_on(&mut self, threads: Arc<rayon::ThreadPool>) {
        self.partitions.encode_on(threads);
    }

    /// Writes an attributed batch.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), StoreError> {
        count_values(
            batch,
            acrlens_events::col::CATEGORY,
            &mut self.summary.categories,
        );
        count_values(
            batch,
            acrlens_attrib::col::ACCESS_PATH,
            &mut self.summary.access_paths,
        );
        self.rollups.add(batch)?;
        self.partitions.write(batch)?;
        self.maybe_crash()
    }

    /// The test hook: stop as a crash would once enough part files exist.
    fn maybe_crash(&self) -> Result<(), StoreError> {
        match self.options.fail_after_parts {
            Some(limit) if self.partitions.parts() >= limit => Err(StoreError::Simulated(limit)),
            _ => Ok(()),
        }
    }

    /// Keeps a quarantined record.
    pub fn quarantine(&mut self, q: &Quarantined) -> Result<(), StoreError> {
        q.write_json_line(&mut self.quarantine)
            .map_err(|e| StoreError::Io(self.quarantine_tmp.display().to_string(), e))
    }

    /// Records an input as read as far as its stats say; an input interrupted before its end
    /// fails the run, which must then be [abandoned](StoreRun::abandon).
    pub fn source_done(&mut self, stats: &SourceStats) -> Result<(), StoreError> {
        let key = stats.source.to_string();
        if stats.interrupted {
            let reason = stats.error.clone().unwrap_or_default();
            return Err(StoreError::Interrupted(key, reason));
        }
        self.summary.inputs += 1;
        self.summary.read += stats.read;
        self.summary.written += stats.accepted;
        self.summary.duplicates += stats.duplicates;
        self.summary.out_of_window += stats.out_of_window;
        self.summary.quarantined += stats.quarantined;
        let Some(version) = self.states.get(&key) else {
            return Ok(());
        };
        let record = self.manifest.inputs.entry(key).or_default();
        record.size = version.size;
        record.mtime_ns = version.modified_ns;
        record.etag.clone_from(&version.etag);
        record.resume_offset = stats.resume.map(|r| r.offset);
        record.resume_line = stats.resume.map(|r| r.line);
        record.written += stats.accepted;
        record.quarantined += stats.quarantined;
        Ok(())
    }

    /// Gives the run up: its temporary files are removed and the store is as it was.
    pub fn abandon(mut self) {
        // Its thread joined, whatever it stopped on: its files are among the temporaries.
        let _ = self.rollups.finish();
        let temporaries = self
            .partitions
            .temporaries()
            .chain(
                self.rollups
                    .partials()
                    .into_iter()
                    .flat_map(Partials::temporaries),
            )
            .map(Path::to_path_buf)
            .chain([self.quarantine_tmp.clone()])
            .collect::<Vec<_>>();
        drop(self);
        for tmp in temporaries {
            // A file already gone is what we want; the next run removes any left.
            let _ = fs::remove_file(tmp);
        }
    }

    /// Writes every row still buffered and closes the run's part files (under temporary names);
    /// `commit` does it too, for what is written after.
    pub fn finish_parts(&mut self) -> Result<(), StoreError> {
        self.partitions.finish()?;
        self.rollups.finish()
    }

    /// Commits the run: after this, its rows are in the store exactly once.
    pub fn commit(mut self) -> Result<RunSummary, StoreError> {
        self.finish_parts()?;
        self.maybe_crash()?;
        self.quarantine
            .flush()
            .map_err(|e| StoreError::Io(self.quarantine_tmp.display().to_string(), e))?;
        let mut renames = std::mem::take(&mut self.partitions.finished);
        self.summary.parts = renames.len();
        let mut days: BTreeSet<String> = renames
            .iter()
            .filter_map(|(_, part)| rollups::day_of(part))
            .collect();
        let from_scratch = self.manifest.rollups != ROLLUP_VERSION;
        if from_scratch {
            // A store written before these rollups gets them for every day.
            days.extend(rollups::committed_parts(&self.dir.join("events"))?.into_keys());
            self.manifest.rollups = ROLLUP_VERSION;
        }
        let partials = self.rollups.partials().ok_or_else(|| {
            StoreError::Corrupt("rollups".into(), "their thread was not joined".into())
        })?;
        let rollups = rollups::build(&self.dir, &days, partials, from_scratch, &self.summary.run)?;
        renames.extend(rollups);
        let quarantine_final = self
            .dir
            .join("quarantine")
            .join(format!("{}.jsonl", self.summary.run));
        if self.summary.quarantined > 0 {
            renames.push((self.quarantine_tmp.clone(), quarantine_final));
        }
        let journal = Journal {
            renames,
            manifest: self.manifest,
            run: self.summary.clone(),
        };
        let bytes = sonic_rs::to_vec(&journal)
            .map_err(|e| StoreError::Corrupt("journal".into(), e.to_string()))?;
        write_atomically(&self.dir.join("journal.json"), &bytes)?;
        if self.options.fail_before_manifest {
            for (tmp, final_path) in &journal.renames {
                fs::rename(tmp, final_path)
                    .map_err(|e| StoreError::Io(tmp.display().to_string(), e))?;
            }
            return Err(StoreError::Simulated(journal.renames.len()));
        }
        apply(&self.dir, &journal)?;
        for tmp in partials.temporaries() {
            // Committed: the run's rollup rows are in the rollup files now. A file left is
            // removed by the next run, with any other temporary.
            let _ = fs::remove_file(tmp);
        }
        if journal
            .renames
            .iter()
            .all(|(tmp, _)| *tmp != self.quarantine_tmp)
        {
            let _ = fs::remove_file(&self.quarantine_tmp);
        }
        Ok(self.summary)
    }
}

/// Adds the values of a text column to counts (NULL counted as `(none)`). A batch holds a few
/// distinct values (categories, access paths): they are counted in a short list, the value of
/// the row before first, and the counts looked up by name once per value, not once per row.
pub fn count_values(batch: &RecordBatch, column: &str, counts: &mut BTreeMap<String, u64>) {
    let Some(values) = batch
        .column_by_name(column)
        .and_then(|c| c.as_any().downcast_ref::<StringArray>())
    else {
        return;
    };
    let mut seen: Vec<(&str, u64)> = Vec::new();
    let mut last = 0;
    for value in values.iter() {
        let name = value.unwrap_or("(none)");
        if seen.get(last).is_none_or(|(n, _)| *n != name) {
            last = match seen.iter().position(|(n, _)| *n == name) {
                Some(place) => place,
                None => {
                    seen.push((name, 0));
                    seen.len() - 1
                }
            };
        }
        seen[last].1 += 1;
    }
    for (name, n) in seen {
        match counts.get_mut(name) {
            Some(count) => *count += n,
            None => {
                counts.insert(name.to_owned(), n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn values_are_counted_onto_what_was_counted_before() {
        let column = StringArray::from(vec![
            Some("a"),
            Some("b"),
            Some("a"),
            None,
            Some("b"),
            Some("b"),
            Some("c"),
        ]);
        let batch = RecordBatch::try_from_iter([("k", Arc::new(column) as _)]).unwrap();
        let mut counts = BTreeMap::from([("a".to_owned(), 10)]);
        count_values(&batch, "k", &mut counts);
        count_values(&batch, "missing", &mut counts);
        let counts: Vec<(&str, u64)> = counts.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(counts, [("(none)", 1), ("a", 12), ("b", 3), ("c", 1)]);
    }
}

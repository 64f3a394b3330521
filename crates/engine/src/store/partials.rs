//! The run's rollups, made from its batches while they are written: each rollup's groups are
//! kept in memory and, when they pass a bound, written to a temporary file per day and dropped.
//! What is held when the run ends stays in memory, a batch of rows per rollup and day. At the
//! commit each day's files and rows are merged with what the store already holds, so the
//! rollups never read the run's part files back, and memory stays bounded however long the run.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use acrlens_values::format_day;
use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use rayon::prelude::*;

use crate::rollup::{self, Groups, ROLLUPS};
use crate::store::StoreError;

/// Groups a rollup holds before they are written out, unless told otherwise: about 100 bytes
/// each, so 10–15 MiB per rollup. A day of a large estate has some 100,000 groups (callers ×
/// registries × paths); held in fewer, a run writes each day's groups out several times and
/// makes them again from the next events, and its commit merges the copies (16 Ki made a
/// 5 M-event ingest 10% slower). The commit holds a day's groups of one rollup anyway.
const HELD_GROUPS: usize = 128 * 1024;

/// The rollups of one run.
pub(super) struct Partials {
    store: PathBuf,
    run: String,
    groups: Vec<Groups>,
    /// Groups a rollup holds before they are written out.
    held: usize,
    /// The files written, per rollup (its place in [`ROLLUPS`]) and day (`YYYY-MM-DD`).
    files: BTreeMap<(usize, String), Vec<PathBuf>>,
    /// The rows held when the run ended, per rollup and day: written once, by the commit, rather
    /// than written here, read back and merged there (a run of a few days is held whole).
    rows: BTreeMap<(usize, String), Vec<RecordBatch>>,
    written: usize,
}

impl Partials {
    /// No rows yet, for run `run` of the store `store`, holding up to `held` groups per rollup
    /// ([`HELD_GROUPS`] when `None`).
    pub fn new(store: &Path, run: &str, held: Option<usize>) -> Result<Self, StoreError> {
        Ok(Partials {
            store: store.to_path_buf(),
            run: run.to_owned(),
            groups: ROLLUPS
                .iter()
                .map(|&r| Groups::new(r))
                .collect::<Result<_, _>>()?,
            held: held.unwrap_or(HELD_GROUPS),
            files: BTreeMap::new(),
            rows: BTreeMap::new(),
            written: 0,
        })
    }

    /// Adds the events of an attributed batch to every rollup, one after the other: the run
    /// makes its rollups on a thread of their own (see `rolling`).
    pub fn add(&mut self, batch: &RecordBatch) -> Result<(), StoreError> {
        self.groups
            .iter_mut()
            .try_for_each(|groups| groups.add(batch))?;
        for place in 0..self.groups.len() {
            if self.groups[place].len() > self.held {
                self.write(place)?;
            }
        }
        Ok(())
    }

    /// Turns every group still held into rows, a batch per rollup and day, the rollups in
    /// parallel.
    pub fn finish(&mut self) -> Result<(), StoreError> {
        let drained = self
            .groups
            .par_iter_mut()
            .map(Groups::drain)
            .collect::<Result<Vec<_>, _>>()?;
        for (place, days) in drained.into_iter().enumerate() {
            for (day, rows) in days {
                self.rows
                    .entry((place, format_day(day)))
                    .or_default()
                    .push(rows);
            }
        }
        Ok(())
    }

    /// The files holding the run's rows of rollup `place` (in [`ROLLUPS`]) on `day`.
    pub fn files(&self, place: usize, day: &str) -> &[PathBuf] {
        self.files
            .get(&(place, day.to_owned()))
            .map_or(&[], Vec::as_slice)
    }

    /// The run's rows of rollup `place` on `day` held in memory when it ended.
    pub fn rows(&self, place: usize, day: &str) -> &[RecordBatch] {
        self.rows
            .get(&(place, day.to_owned()))
            .map_or(&[], Vec::as_slice)
    }

    /// Every file written: temporaries, removed once the run is committed or abandoned.
    pub fn temporaries(&self) -> impl Iterator<Item = &Path> {
        self.files.values().flatten().map(PathBuf::as_path)
    }

    /// Writes the groups of rollup `place` held, a file per day, and drops them.
    fn write(&mut self, place: usize) -> Result<(), StoreError> {
        let groups = &mut self.groups[place];
        if groups.is_empty() {
            return Ok(());
        }
        let Some(table) = ROLLUPS[place].bucket_table() else {
            return Ok(());
        };
        let folder = rollup::folder(&self.store, table.name);
        fs::create_dir_all(&folder).map_err(|e| StoreError::Io(folder.display().to_string(), e))?;
        // Read once by this run's commit: neither compressed nor given statistics.
        let props = WriterProperties::builder()
            .set_statistics_enabled(EnabledStatistics::None)
            .build();
        for (day, rows) in groups.drain()? {
            let day = format_day(day);
            let tmp = folder.join(format!(".{day}-{}-{}.rows.tmp", self.run, self.written));
            self.written += 1;
            let file =
                File::create(&tmp).map_err(|e| StoreError::Io(tmp.display().to_string(), e))?;
            let mut writer = ArrowWriter::try_new(file, rows.schema(), Some(props.clone()))?;
            writer.write(&rows)?;
            writer.close()?;
            self.files.entry((place, day)).or_default().push(tmp);
        }
        Ok(())
    }
}

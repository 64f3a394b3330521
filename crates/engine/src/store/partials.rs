//! The run's rollups, made from its batches while they are written: each rollup's groups are
//! kept in memory and, when they pass a bound, written to a temporary file per day and dropped.
//! At the commit each day's files are merged with what the store already holds, so the rollups
//! never read the run's part files back, and memory stays bounded however long the run.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use acrlens_values::format_day;
use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use rayon::prelude::*;

use crate::rollup::{self, Groups, ROLLUPS, Rollup};
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
            written: 0,
        })
    }

    /// Adds the events of an attributed batch to every rollup, the rollups in parallel.
    pub fn add(&mut self, batch: &RecordBatch) -> Result<(), StoreError> {
        self.groups
            .par_iter_mut()
            .try_for_each(|groups| groups.add(batch))?;
        for place in 0..self.groups.len() {
            if self.groups[place].len() > self.held {
                self.write(place)?;
            }
        }
        Ok(())
    }

    /// Writes out every group still held.
    pub fn finish(&mut self) -> Result<(), StoreError> {
        (0..self.groups.len()).try_for_each(|place| self.write(place))
    }

    /// The files holding the run's rows of `rollup` on `day`.
    pub fn files(&self, rollup: Rollup, day: &str) -> &[PathBuf] {
        ROLLUPS
            .iter()
            .position(|&r| r == rollup)
            .and_then(|place| self.files.get(&(place, day.to_owned())))
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

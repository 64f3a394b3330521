//! Writing attributed batches into hive partitions `category=…/date=YYYY-MM-DD/`: rows are
//! grouped per partition, sorted by time, and written as row groups of up to `ROW_GROUP_ROWS`
//! into one temporary part file per partition and run.

use std::collections::HashMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use acrlens_events::col;
use acrlens_values::{MICROS_PER_DAY, format_day};
use arrow_array::{Array, RecordBatch, StringArray, TimestampMicrosecondArray, UInt32Array};
use arrow_schema::{Schema, SchemaRef};
use datafusion::arrow::compute::{interleave_record_batch, take_record_batch};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{ArrowColumnChunk, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use rayon::prelude::*;

use crate::store::StoreError;

/// Rows per row group.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;
/// Rows buffered across all partitions before the largest buffer is written early: one row
/// group's worth, since a flush makes one more copy of it (sorted).
const BUFFERED_ROWS: usize = ROW_GROUP_ROWS;

/// The hive value of a partition: characters other than `[A-Za-z0-9_-]` percent-encoded, so a
/// category from the logs can never name another folder.
pub fn hive_value(value: Option<&str>) -> String {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return "__HIVE_DEFAULT_PARTITION__".to_owned();
    };
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The rows of `batches` in one batch, in time order (ties in the order given), gathered
/// straight from the buffered batches without concatenating them first.
fn sorted_by_time(batches: &[RecordBatch]) -> Result<RecordBatch, StoreError> {
    let mut order: Vec<(i64, usize, usize)> = Vec::new();
    for (b, batch) in batches.iter().enumerate() {
        let times = batch
            .column(0)
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .ok_or_else(|| StoreError::Corrupt("batch".into(), "time is not a timestamp".into()))?;
        order.extend(times.values().iter().enumerate().map(|(r, &t)| (t, b, r)));
    }
    order.sort_by_key(|&(t, _, _)| t);
    let indices: Vec<(usize, usize)> = order.into_iter().map(|(_, b, r)| (b, r)).collect();
    let refs: Vec<&RecordBatch> = batches.iter().collect();
    Ok(interleave_record_batch(&refs, &indices)?)
}

/// The schema of the part files: the attributed schema without `category`, which the path holds.
pub fn file_schema(attributed: &SchemaRef) -> SchemaRef {
    let fields: Vec<_> = attributed
        .fields()
        .iter()
        .filter(|f| f.name() != col::CATEGORY)
        .cloned()
        .collect();
    Arc::new(Schema::new(fields))
}

struct OpenPart {
    writer: SerializedFileWriter<File>,
    /// Column writers for each new row group (with the Arrow schema in the file's metadata).
    columns: ArrowRowGroupWriterFactory,
    row_groups: usize,
    tmp: PathBuf,
    final_path: PathBuf,
}

impl OpenPart {
    /// Writes `batch` as one row group, its columns encoded and compressed in parallel: on the
    /// ingest path the writer would otherwise be one thread behind decoders that are faster.
    fn write_row_group(&mut self, schema: &Schema, batch: &RecordBatch) -> Result<(), StoreError> {
        let mut writers = self
            .columns
            .create_column_writers(self.row_groups)?
            .into_iter();
        let mut jobs = Vec::with_capacity(batch.num_columns());
        for (field, column) in schema.fields().iter().zip(batch.columns()) {
            for leaf in compute_leaves(field, column)? {
                let writer = writers.next().ok_or_else(|| {
                    StoreError::Corrupt("schema".into(), "more leaves than columns".into())
                })?;
                jobs.push((writer, leaf));
            }
        }
        let chunks: Vec<ArrowColumnChunk> = jobs
            .into_par_iter()
            .map(|(mut writer, leaf)| {
                writer.write(&leaf)?;
                writer.close()
            })
            .collect::<Result<_, ParquetError>>()?;
        let mut row_group = self.writer.next_row_group()?;
        for chunk in chunks {
            chunk.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
        self.row_groups += 1;
        Ok(())
    }
}

#[derive(Default)]
struct Partition {
    buffered: Vec<RecordBatch>,
    rows: usize,
    part: Option<OpenPart>,
}

/// The partitions of one run.
pub struct PartitionWriters {
    events_dir: PathBuf,
    run: String,
    file_schema: SchemaRef,
    category_index: usize,
    partitions: HashMap<(String, String), Partition>,
    buffered: usize,
    parts: usize,
    /// Parts finished: (temporary name, final name).
    pub finished: Vec<(PathBuf, PathBuf)>,
}

/// How the store's Parquet files are written.
pub(super) fn props() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_statistics_enabled(EnabledStatistics::Page)
        .build()
}

impl PartitionWriters {
    /// Writers for one run into `events_dir`.
    pub fn new(events_dir: &Path, run: &str, attributed: &SchemaRef) -> Result<Self, StoreError> {
        let category_index = attributed
            .index_of(col::CATEGORY)
            .map_err(|e| StoreError::Corrupt("schema".into(), e.to_string()))?;
        Ok(PartitionWriters {
            events_dir: events_dir.to_path_buf(),
            run: run.to_owned(),
            file_schema: file_schema(attributed),
            category_index,
            partitions: HashMap::new(),
            buffered: 0,
            parts: 0,
            finished: Vec::new(),
        })
    }

    /// Parts opened so far.
    pub fn parts(&self) -> usize {
        self.parts
    }

    /// Adds an attributed batch.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), StoreError> {
        let categories = batch
            .column(self.category_index)
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| StoreError::Corrupt("batch".into(), "category is not text".into()))?;
        let times = batch
            .column_by_name(col::TIME)
            .and_then(|c| c.as_any().downcast_ref::<TimestampMicrosecondArray>())
            .ok_or_else(|| StoreError::Corrupt("batch".into(), "time is not a timestamp".into()))?;
        let mut days: HashMap<i64, String> = HashMap::new();
        let mut groups: HashMap<(String, String), Vec<u32>> = HashMap::new();
        for row in 0..batch.num_rows() {
            let day = times.value(row).div_euclid(MICROS_PER_DAY);
            let date = days.entry(day).or_insert_with(|| format_day(day));
            let category = hive_value(categories.is_valid(row).then(|| categories.value(row)));
            groups
                .entry((category, date.clone()))
                .or_default()
                .push(row as u32);
        }
        let without_category: Vec<usize> = (0..batch.num_columns())
            .filter(|&i| i != self.category_index)
            .collect();
        let projected = batch.project(&without_category)?;
        for (key, rows) in groups {
            let part = if rows.len() == batch.num_rows() {
                projected.clone()
            } else {
                take_record_batch(&projected, &UInt32Array::from(rows))?
            };
            let entry = self.partitions.entry(key.clone()).or_default();
            let rows = part.num_rows();
            entry.rows += rows;
            entry.buffered.push(part);
            self.buffered += rows;
            if entry.rows >= ROW_GROUP_ROWS {
                self.flush(&key)?;
            }
        }
        while self.buffered > BUFFERED_ROWS {
            let Some(largest) = self
                .partitions
                .iter()
                .max_by_key(|(_, p)| p.rows)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            self.flush(&largest)?;
        }
        Ok(())
    }

    /// Writes a partition's buffered rows, sorted by time, as one row group.
    fn flush(&mut self, key: &(String, String)) -> Result<(), StoreError> {
        let Some(partition) = self.partitions.get_mut(key) else {
            return Ok(());
        };
        if partition.rows == 0 {
            return Ok(());
        }
        self.buffered -= partition.rows.min(self.buffered);
        partition.rows = 0;
        let buffered = std::mem::take(&mut partition.buffered);
        let sorted = sorted_by_time(&buffered)?;
        drop(buffered);
        if partition.part.is_none() {
            let dir = self
                .events_dir
                .join(format!("category={}", key.0))
                .join(format!("date={}", key.1));
            fs::create_dir_all(&dir).map_err(|e| StoreError::Io(dir.display().to_string(), e))?;
            let name = format!("part-{}-{:05}.parquet", self.run, self.parts);
            self.parts += 1;
            let (tmp, final_path) = (dir.join(format!(".{name}.tmp")), dir.join(name));
            let file =
                File::create(&tmp).map_err(|e| StoreError::Io(tmp.display().to_string(), e))?;
            let (writer, columns) =
                ArrowWriter::try_new(file, self.file_schema.clone(), Some(props()))?
                    .into_serialized_writer()?;
            partition.part = Some(OpenPart {
                writer,
                columns,
                row_groups: 0,
                tmp,
                final_path,
            });
        }
        if let Some(part) = partition.part.as_mut() {
            part.write_row_group(&self.file_schema, &sorted)?;
        }
        Ok(())
    }

    /// Every temporary file of this run, open or finished: what an abandoned run removes.
    pub fn temporaries(&self) -> impl Iterator<Item = &Path> {
        let open = self
            .partitions
            .values()
            .filter_map(|p| p.part.as_ref().map(|part| part.tmp.as_path()));
        open.chain(self.finished.iter().map(|(tmp, _)| tmp.as_path()))
    }

    /// Writes everything buffered and closes every part (still under temporary names).
    pub fn finish(&mut self) -> Result<(), StoreError> {
        let keys: Vec<_> = self.partitions.keys().cloned().collect();
        for key in keys {
            self.flush(&key)?;
            if let Some(part) = self.partitions.get_mut(&key).and_then(|p| p.part.take()) {
                let file = part.writer.into_inner()?;
                file.sync_all()
                    .map_err(|e| StoreError::Io(part.tmp.display().to_string(), e))?;
                self.finished.push((part.tmp, part.final_path));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hive_values_cannot_escape_their_folder() {
        assert_eq!(
            hive_value(Some("ContainerRegistryRepositoryEvents")),
            "ContainerRegistryRepositoryEvents"
        );
        assert_eq!(hive_value(Some("../../etc")), "%2E%2E%2F%2E%2E%2Fetc");
        assert_eq!(hive_value(Some("a=b/c")), "a%3Db%2Fc");
        assert_eq!(hive_value(None), "__HIVE_DEFAULT_PARTITION__");
        assert_eq!(hive_value(Some("")), "__HIVE_DEFAULT_PARTITION__");
    }
}

//! The store's Parquet files read for a whole grouping by numbers, its text keys as the
//! Parquet dictionaries they are written as.
//!
//! DataFusion's scan gives a text column as views, each row's view made from the column chunk's
//! dictionary; the grouping then numbers every row by its view. Read as an Arrow dictionary, a
//! batch's rows are indices into the chunk's dictionary, which its batches share: each text of
//! a dictionary is numbered once, and a row's number is a look-up by its index.
//!
//! [`DictionaryScan::of`] takes a plain scan of local Parquet files (no filter, no limit, no
//! partition column, columns as they are in the files) and the key columns it may read as
//! dictionaries (text keys read by nothing else). Each row group of each file is a unit of
//! work; the grouping's tasks take the next unit until none is left.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::compute::cast;
use datafusion::datasource::physical_plan::parquet::metadata::CachedParquetMetaData;
use datafusion::datasource::physical_plan::{FileSource, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::cache::cache_manager::FileMetadataCache;
use datafusion::object_store::ObjectMeta;
use datafusion::object_store::local::LocalFileSystem;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_plan::ExecutionPlan;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::file::metadata::ParquetMetaData;

/// A scan's files, read with some text columns as dictionaries.
#[derive(Debug)]
pub(super) struct DictionaryScan {
    /// Each file's path, and what DataFusion's listing knows of it (its footer is cached by
    /// its location when DataFusion has read it).
    files: Vec<(PathBuf, ObjectMeta)>,
    /// The scan's columns, those read as dictionaries typed so: the batches' schema.
    read: SchemaRef,
}

/// One file's reading: its metadata with the dictionary columns hinted, the columns to read,
/// and where each of the scan's columns is among them.
struct FileReading {
    path: PathBuf,
    metadata: ArrowReaderMetadata,
    mask: ProjectionMask,
    places: Vec<usize>,
}

/// The row groups of the files, taken one at a time.
pub(super) struct Units {
    files: Vec<FileReading>,
    /// Each unit's file and row group.
    units: Vec<(usize, usize)>,
    next: AtomicUsize,
}

/// A dictionary of text, as the Parquet reader gives it.
fn dictionary() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

impl DictionaryScan {
    /// The scan `input` is, reading its columns `keys` as dictionaries, when it is a plain scan
    /// of local Parquet files.
    pub(super) fn of(input: &Arc<dyn ExecutionPlan>, keys: &[usize]) -> Option<DictionaryScan> {
        let (config, source) = input
            .downcast_ref::<DataSourceExec>()?
            .downcast_to_file_source::<ParquetSource>()?;
        let plain = source.filter().is_none()
            && config.limit.is_none()
            && config.object_store_url.as_str() == "file:///";
        let schema = input.schema();
        let columns_as_in_files = source.projection().is_none_or(|projection| {
            projection.iter().all(|p| {
                p.expr
                    .downcast_ref::<Column>()
                    .is_some_and(|c| c.name() == p.alias)
            })
        }) && schema
            .fields()
            .iter()
            .all(|f| config.file_schema().field_with_name(f.name()).is_ok());
        if keys.is_empty() || !plain || !columns_as_in_files {
            return None;
        }
        let fields: Vec<Field> = schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| match keys.contains(&i) {
                true => f.as_ref().clone().with_data_type(dictionary()),
                false => f.as_ref().clone(),
            })
            .collect();
        let local = LocalFileSystem::new();
        let mut files: Vec<(PathBuf, ObjectMeta)> = config
            .file_groups
            .iter()
            .flat_map(|group| group.iter())
            .map(|file| {
                let path = local.path_to_filesystem(&file.object_meta.location).ok()?;
                Some((path, file.object_meta.clone()))
            })
            .collect::<Option<_>>()?;
        // A file split into ranges is in several groups: its row groups are read once.
        files.sort_by(|a, b| a.0.cmp(&b.0));
        files.dedup_by(|a, b| a.0 == b.0);
        Some(DictionaryScan {
            files,
            read: Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())),
        })
    }

    /// The columns read as dictionaries.
    pub(super) fn dictionaries(&self) -> impl Iterator<Item = &str> {
        self.read
            .fields()
            .iter()
            .filter(|f| f.data_type() == &dictionary())
            .map(|f| f.name().as_str())
    }

    /// The row groups to read, or `None` when a file is not as the scan expects (a column
    /// missing, or one not text where it reads a dictionary): the plan's own scan reads them.
    /// Footers DataFusion has read already (planning the query) are taken from `footers`.
    pub(super) fn units(&self, footers: &FileMetadataCache) -> Result<Option<Units>> {
        let mut files = Vec::with_capacity(self.files.len());
        let mut units = Vec::new();
        for (path, meta) in &self.files {
            let cached = footers
                .get(&meta.location)
                .filter(|entry| entry.is_valid_for(meta))
                .and_then(|entry| {
                    let footer = entry
                        .file_metadata
                        .as_any()
                        .downcast_ref::<CachedParquetMetaData>()?;
                    Some(Arc::clone(footer.parquet_metadata()))
                });
            let Some(reading) = self.reading(path, cached)? else {
                return Ok(None);
            };
            let row_groups = reading.metadata.metadata().num_row_groups();
            units.extend((0..row_groups).map(|g| (files.len(), g)));
            files.push(reading);
        }
        Ok(Some(Units {
            files,
            units,
            next: AtomicUsize::new(0),
        }))
    }

    /// How to read the file at `path`, whose footer is `footer` if it was read already.
    fn reading(
        &self,
        path: &PathBuf,
        footer: Option<Arc<ParquetMetaData>>,
    ) -> Result<Option<FileReading>> {
        let plain = match footer {
            Some(footer) => ArrowReaderMetadata::try_new(footer, ArrowReaderOptions::new())?,
            // A file that cannot be opened is the plan's own scan's to report.
            None => match File::open(path) {
                Ok(file) => ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())?,
                Err(_) => return Ok(None),
            },
        };
        let in_file = plain.schema();
        let mut hinted: Vec<Field> = in_file
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        for field in self.read.fields() {
            let Ok(at) = in_file.index_of(field.name()) else {
                return Ok(None);
            };
            if field.data_type() == &dictionary() {
                if !matches!(in_file.field(at).data_type(), DataType::Utf8) {
                    return Ok(None);
                }
                hinted[at] = hinted[at].clone().with_data_type(dictionary());
            }
        }
        let hint = Arc::new(Schema::new_with_metadata(
            hinted,
            in_file.metadata().clone(),
        ));
        let metadata = ArrowReaderMetadata::try_new(
            Arc::clone(plain.metadata()),
            ArrowReaderOptions::new().with_schema(hint),
        )?;
        let mut columns: Vec<usize> = self
            .read
            .fields()
            .iter()
            .map(|f| in_file.index_of(f.name()))
            .collect::<Result<_, _>>()?;
        let places = {
            let mut sorted = columns.clone();
            sorted.sort_unstable();
            columns
                .iter()
                .map(|c| sorted.partition_point(|s| s < c))
                .collect()
        };
        columns.sort_unstable();
        let mask = ProjectionMask::roots(metadata.parquet_schema(), columns);
        Ok(Some(FileReading {
            path: path.clone(),
            metadata,
            mask,
            places,
        }))
    }

    /// Reads the next unit of `units` in batches of `batch_size` rows, handing each to `add`;
    /// `false` when none was left.
    pub(super) fn read_next(
        &self,
        units: &Units,
        batch_size: usize,
        add: &mut dyn FnMut(RecordBatch) -> Result<bool>,
    ) -> Result<bool> {
        let Some(&(f, row_group)) = units.units.get(units.next.fetch_add(1, Ordering::Relaxed))
        else {
            return Ok(false);
        };
        let reading = &units.files[f];
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(
            File::open(&reading.path)?,
            reading.metadata.clone(),
        )
        .with_projection(reading.mask.clone())
        .with_row_groups(vec![row_group])
        .with_batch_size(batch_size)
        .build()?;
        for batch in reader {
            let batch = batch?;
            let columns = reading
                .places
                .iter()
                .zip(self.read.fields())
                .map(|(&at, field)| {
                    let column = batch.column(at);
                    match column.data_type() == field.data_type() {
                        true => Ok(Arc::clone(column)),
                        false => cast(column, field.data_type()),
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            let batch = RecordBatch::try_new(Arc::clone(&self.read), columns)
                .map_err(|e| DataFusionError::ArrowError(Box::new(e), None))?;
            if !add(batch)? {
                return Ok(true);
            }
        }
        Ok(true)
    }
}

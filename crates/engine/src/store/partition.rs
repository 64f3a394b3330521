//! Writing attributed batches into hive partitions `category=…/date=YYYY-MM-DD/`: rows are
//! grouped per partition, sorted by time, and written as row groups of up to `ROW_GROUP_ROWS`
//! into a temporary part file per partition and run — closed once the partition has been idle
//! for a while, so a long run keeps only the days in flight open.

use std::collections::HashMap;
use std::fs::{self, File};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};

use acrlens_events::col;
use acrlens_values::{MICROS_PER_DAY, format_day};
use arrow_array::{
    Array, ArrayRef, BooleanArray, RecordBatch, StringArray, TimestampMicrosecondArray,
    UInt32Array, new_empty_array,
};
use arrow_schema::{DataType, Schema, SchemaRef};
use datafusion::arrow::compute::{FilterBuilder, FilterPredicate, interleave, take_record_batch};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{ArrowColumnChunk, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnPath;
use rayon::prelude::*;

use crate::store::StoreError;

/// Rows per row group.
pub const ROW_GROUP_ROWS: usize = 64 * 1024;
/// Rows buffered across all partitions before the largest buffer is written early: one row
/// group's worth.
const BUFFERED_ROWS: usize = ROW_GROUP_ROWS;
/// The most bytes of distinct reason sentences a row group's dictionary holds before the
/// column falls back to plain values: the benchmark's data has 2–4 MiB of them in a row group.
const REASON_DICTIONARY_BYTES: usize = 16 << 20;
/// The most bytes of distinct sizes a row group's dictionary holds before the column falls
/// back to deltas: 8,192 sizes, so a full row group's sizes stay a dictionary while each comes
/// back eight times on average. A registry serves the same layers and manifests again and
/// again, so their sizes repeat; sizes that hardly repeat (the benchmark's, drawn at random)
/// made a dictionary of as many entries as rows (Parquet's 1 MiB default holds 131,072 sizes),
/// which the writer hashed row by row and a query decoded as a dictionary page and a key a row:
/// as deltas, the 1 M-event store's sizes take 3.7 MB instead of 5.2, and the benchmark's query
/// over it 46 ms instead of 52.
const SIZE_DICTIONARY_BYTES: usize = 8192 * 8;
/// Row groups after which a part is finished and the partition's next rows start another: a
/// query over the store reads its files on every core, each taking the next file when it is
/// done with one, so a day's events in one file of 1.5 M rows left one core reading the last
/// day alone while the other waited (a third of a 5 M-event query). Up to 512 Ki rows a part,
/// about 60 MiB.
const PART_ROW_GROUPS: usize = 8;
/// Batches without a row of a partition after which its part is closed: several hours of an
/// estate's events (inputs are read hour by hour, and a record is filed by its receipt, within
/// minutes of its own time), while logs in any other order keep every partition busy and open.
const IDLE_BATCHES: u64 = 64;

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

/// Rows of one attributed batch held for a partition: the batch as decoded with the rows that
/// belong to the partition (all of them when `rows` is `None`), or a copy of just those rows.
struct Held {
    batch: RecordBatch,
    rows: Option<Vec<u32>>,
}

impl Held {
    /// How many of the batch's rows belong to the partition.
    fn selected(&self) -> usize {
        self.rows.as_ref().map_or(self.batch.num_rows(), Vec::len)
    }
}

/// The order in which the rows held are written: by time, ties in the order given.
enum Order {
    /// As held, batch after batch: logs read hour by hour come in time order, and their rows
    /// are written straight from the batches, each picked out of its batch so.
    AsHeld(Vec<Pick>),
    /// The positions (batch, row) of the rows in time order, gathered into one column each.
    Gather(Vec<(usize, usize)>),
}

/// The order of the rows held. Rows already in time order, as logs read hour by hour come, are
/// recognised without making a list of them.
fn time_order(held: &[Held]) -> Result<Order, StoreError> {
    let times = held
        .iter()
        .map(|part| {
            part.batch
                .column(0)
                .as_any()
                .downcast_ref::<TimestampMicrosecondArray>()
                .map(|times| times.values())
                .ok_or_else(|| {
                    StoreError::Corrupt("batch".into(), "time is not a timestamp".into())
                })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    // The positions (batch, row) of the rows held, batch after batch.
    let positions = held.iter().enumerate().flat_map(|(b, part)| {
        let all = part.rows.is_none().then(|| 0..part.batch.num_rows());
        let some = part.rows.iter().flatten().map(|&r| r as usize);
        all.into_iter().flatten().chain(some).map(move |r| (b, r))
    });
    let time = |&(b, r): &(usize, usize)| times[b][r];
    if positions.clone().is_sorted_by_key(|at| time(&at)) {
        return Ok(Order::AsHeld(held.iter().map(Pick::of).collect()));
    }
    let mut order: Vec<(usize, usize)> = positions.collect();
    // Stable: ties stay in the order given.
    order.sort_by_key(time);
    Ok(Order::Gather(order))
}

/// How the rows of a held batch are picked out of each of its columns.
enum Pick {
    /// Every row.
    All,
    /// One run of rows, from the first, so many (a batch cut by midnight): a view, not a copy.
    Run(usize, usize),
    /// Rows here and there (a file of two categories): copied run by run, the selection worked
    /// out once for every column.
    Filter(FilterPredicate),
}

impl Pick {
    fn of(held: &Held) -> Self {
        match held.rows.as_deref() {
            None => Pick::All,
            Some([first, .., last]) if (last - first) as usize + 1 == held.selected() => {
                Pick::Run(*first as usize, held.selected())
            }
            Some(rows) => {
                let mut mask = vec![false; held.batch.num_rows()];
                for &row in rows {
                    mask[row as usize] = true;
                }
                Pick::Filter(
                    FilterBuilder::new(&BooleanArray::from(mask))
                        .optimize()
                        .build(),
                )
            }
        }
    }

    fn apply(&self, column: &ArrayRef) -> Result<ArrayRef, StoreError> {
        Ok(match self {
            Pick::All => column.clone(),
            Pick::Run(first, len) => column.slice(*first, *len),
            Pick::Filter(predicate) => predicate.filter(column)?,
        })
    }
}

/// One column of the rows held (its array in each held batch), in `order`: pieces to write one
/// after the other.
fn column_in_order(arrays: &[ArrayRef], order: &Order) -> Result<Vec<ArrayRef>, StoreError> {
    match order {
        Order::Gather(order) => {
            let columns: Vec<&dyn Array> = arrays.iter().map(AsRef::as_ref).collect();
            Ok(vec![interleave(&columns, order)?])
        }
        Order::AsHeld(picks) => arrays
            .iter()
            .zip(picks)
            .map(|(array, pick)| pick.apply(array))
            .collect(),
    }
}

/// The rows held, column by column: each column's arrays, one per held batch. A column written
/// lets go of its arrays while the others are still being written, so the rows of a row group
/// being written leave memory as its columns are done rather than all at its end — the run
/// goes on holding the next row group's batches meanwhile.
fn by_column(held: Vec<Held>, columns: usize) -> Vec<Vec<ArrayRef>> {
    let mut by_column: Vec<Vec<ArrayRef>> = (0..columns)
        .map(|_| Vec::with_capacity(held.len()))
        .collect();
    for h in held {
        for (arrays, array) in by_column.iter_mut().zip(h.batch.columns()) {
            arrays.push(array.clone());
        }
    }
    by_column
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
    /// Writes the part's footer and syncs it; returns its temporary and final names.
    fn finish(self) -> Result<(PathBuf, PathBuf), StoreError> {
        let file = self.writer.into_inner()?;
        file.sync_all()
            .map_err(|e| StoreError::Io(self.tmp.display().to_string(), e))?;
        Ok((self.tmp, self.final_path))
    }

    /// Writes the rows `held` in `order` as one row group. Each column is put in that order
    /// inside its own encoding job, the jobs in parallel: the writer keeps up with decoders that
    /// are faster than one thread, and only the columns being encoded exist twice in memory, not
    /// the whole row group (none when the rows came in time order).
    fn write_row_group(
        &mut self,
        schema: &Schema,
        leaves: &[usize],
        held: Vec<Held>,
        order: &Order,
    ) -> Result<(), StoreError> {
        let mut writers = self
            .columns
            .create_column_writers(self.row_groups)?
            .into_iter();
        let mut jobs = Vec::with_capacity(schema.fields().len());
        let columns = by_column(held, schema.fields().len());
        for ((field, &leaves), arrays) in schema.fields().iter().zip(leaves).zip(columns) {
            let field_writers: Vec<_> = writers.by_ref().take(leaves).collect();
            if field_writers.len() != leaves {
                return Err(StoreError::Corrupt(
                    "schema".into(),
                    "more leaves than columns".into(),
                ));
            }
            jobs.push((field, field_writers, arrays));
        }
        let chunks: Vec<Vec<ArrowColumnChunk>> = jobs
            .into_par_iter()
            .map(|(field, mut field_writers, arrays)| {
                for piece in column_in_order(&arrays, order)? {
                    for (writer, leaf) in
                        field_writers.iter_mut().zip(compute_leaves(field, &piece)?)
                    {
                        writer.write(&leaf)?;
                    }
                }
                drop(arrays);
                field_writers
                    .into_iter()
                    .map(|writer| Ok(writer.close()?))
                    .collect::<Result<Vec<_>, StoreError>>()
            })
            .collect::<Result<_, StoreError>>()?;
        let mut row_group = self.writer.next_row_group()?;
        for chunk in chunks.into_iter().flatten() {
            chunk.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
        self.row_groups += 1;
        Ok(())
    }
}

#[derive(Default)]
struct Partition {
    /// The last batch (by number) that had rows of it.
    last_batch: u64,
    held: Vec<Held>,
    /// Rows of the partition held: what makes a row group.
    rows: usize,
    /// Rows of batches held, the partition's or not: what memory is bounded by.
    held_rows: usize,
    part: Option<OpenPart>,
}

/// The partitions of one run.
pub struct PartitionWriters {
    events_dir: PathBuf,
    run: String,
    file_schema: SchemaRef,
    /// The Parquet columns (leaves) of each field of `file_schema`.
    leaves: Vec<usize>,
    category_index: usize,
    partitions: HashMap<(String, String), Partition>,
    /// Batches written so far.
    batches: u64,
    buffered: usize,
    parts: usize,
    /// Parts finished: (temporary name, final name).
    pub finished: Vec<(PathBuf, PathBuf)>,
    /// The row group being written, on the decoding threads.
    writing: Option<Writing>,
    /// Parts whose row group failed to be written: temporaries too.
    failed: Vec<PathBuf>,
    /// Where row groups are encoded: rayon's global pool unless told otherwise.
    threads: Option<Arc<rayon::ThreadPool>>,
}

/// A row group being written while the run goes on: its partition, its part's temporary
/// name, and where the part comes back (or why it does not).
struct Writing {
    key: (String, String),
    tmp: PathBuf,
    written: mpsc::Receiver<Result<OpenPart, StoreError>>,
}

/// How the store's Parquet files (parts and rollups, of `schema`) are written. Columns whose
/// values are new in nearly every row (the correlation id, the token's id, the time, the
/// duration, the line) are written without a dictionary: one of them is never smaller, and
/// building it hashes every value before the writer gives up on it. The time and the line,
/// rising within a file, are written as deltas. Statistics (the least and greatest value of each
/// page and row group) are kept for the time and the numbers, not for text: rows are sorted by
/// time, so a row group's range of a text spans nearly all its values and prunes nothing, while
/// working it out compares every value written (5% of an ingest). The reason sentence gets a
/// dictionary of up to [`REASON_DICTIONARY_BYTES`]: a row group has tens of thousands of rows
/// but a few thousand sentences (one per caller and verdict), which overflowed the default
/// 1 MiB, so each row group hashed them until the dictionary was full and then wrote every
/// sentence out whole for zstd to compress — half of what zstd was given. The sizes get a
/// dictionary of up to [`SIZE_DICTIONARY_BYTES`], and deltas past it.
pub(super) fn props(schema: &Schema) -> WriterProperties {
    let column = ColumnPath::from;
    let props = [
        col::CORRELATION_ID,
        col::JWT_ID,
        col::TIME,
        col::DURATION_MS,
        col::SOURCE_LINE,
    ]
    .into_iter()
    .fold(WriterProperties::builder(), |props, name| {
        props.set_column_dictionary_enabled(column(name), false)
    })
    .set_column_dictionary_page_size_limit(
        column(acrlens_attrib::col::ACCESS_REASON),
        REASON_DICTIONARY_BYTES,
    )
    .set_column_dictionary_page_size_limit(column(col::SIZE_BYTES), SIZE_DICTIONARY_BYTES);
    let props = [col::TIME, col::SIZE_BYTES, col::SOURCE_LINE]
        .into_iter()
        .fold(props, |props, name| {
            props.set_column_encoding(column(name), Encoding::DELTA_BINARY_PACKED)
        });
    schema
        .fields()
        .iter()
        .filter(|f| is_text(f.data_type()))
        .fold(props, |props, f| {
            // A list's values are its leaf: `service_tags.list.item`.
            let path = match f.data_type() {
                DataType::List(item) => vec![f.name().clone(), "list".into(), item.name().clone()],
                _ => vec![f.name().clone()],
            };
            props.set_column_statistics_enabled(ColumnPath::new(path), EnabledStatistics::None)
        })
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_statistics_enabled(EnabledStatistics::Page)
        .build()
}

/// Whether a column holds text, or a list of texts.
fn is_text(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 => true,
        DataType::List(item) => is_text(item.data_type()),
        _ => false,
    }
}

impl PartitionWriters {
    /// Writers for one run into `events_dir`.
    pub fn new(events_dir: &Path, run: &str, attributed: &SchemaRef) -> Result<Self, StoreError> {
        let file_schema = file_schema(attributed);
        let leaves = file_schema
            .fields()
            .iter()
            .map(|f| Ok(compute_leaves(f, &new_empty_array(f.data_type()))?.len()))
            .collect::<Result<_, StoreError>>()?;
        let category_index = attributed
            .index_of(col::CATEGORY)
            .map_err(|e| StoreError::Corrupt("schema".into(), e.to_string()))?;
        Ok(PartitionWriters {
            events_dir: events_dir.to_path_buf(),
            run: run.to_owned(),
            leaves,
            file_schema,
            category_index,
            partitions: HashMap::new(),
            batches: 0,
            buffered: 0,
            parts: 0,
            finished: Vec::new(),
            writing: None,
            failed: Vec::new(),
            threads: None,
        })
    }

    /// Encodes row groups on `threads`, while the run goes on; the writers used from one of
    /// those threads write them there and then.
    pub fn encode_on(&mut self, threads: Arc<rayon::ThreadPool>) {
        self.threads = Some(threads);
    }

    /// Parts opened so far.
    pub fn parts(&self) -> usize {
        self.parts
    }

    /// Adds an attributed batch. The partition with most of its rows holds the batch as it is;
    /// the rows of any other partition are copied, so a batch is released once that partition
    /// is written, and most rows are copied only once, into their row group.
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
        // Rows grouped by (category's place in `names`, day): names are made once per group.
        let mut names: Vec<Option<&str>> = Vec::new();
        let mut groups: HashMap<(usize, i64), Vec<u32>> = HashMap::new();
        for (row, &time) in times.values().iter().enumerate() {
            let category = categories.is_valid(row).then(|| categories.value(row));
            let place = match names.iter().position(|&n| n == category) {
                Some(place) => place,
                None => {
                    names.push(category);
                    names.len() - 1
                }
            };
            groups
                .entry((place, time.div_euclid(MICROS_PER_DAY)))
                .or_default()
                .push(row as u32);
        }
        let mut groups: Vec<_> = groups.into_iter().collect();
        groups.sort_by_key(|(group, rows)| (std::cmp::Reverse(rows.len()), *group));
        let without_category: Vec<usize> = (0..batch.num_columns())
            .filter(|&i| i != self.category_index)
            .collect();
        let projected = batch.project(&without_category)?;
        for (first, ((place, day), rows)) in groups.into_iter().enumerate() {
            let key = (hive_value(names[place]), format_day(day));
            let held = if first == 0 {
                let all = rows.len() == projected.num_rows();
                Held {
                    batch: projected.clone(),
                    rows: (!all).then_some(rows),
                }
            } else {
                Held {
                    batch: take_record_batch(&projected, &UInt32Array::from(rows))?,
                    rows: None,
                }
            };
            let entry = self.partitions.entry(key.clone()).or_default();
            entry.last_batch = self.batches;
            entry.rows += held.selected();
            entry.held_rows += held.batch.num_rows();
            self.buffered += held.batch.num_rows();
            entry.held.push(held);
            if entry.rows >= ROW_GROUP_ROWS {
                self.flush(&key)?;
            }
        }
        while self.buffered > BUFFERED_ROWS {
            let Some(largest) = self
                .partitions
                .iter()
                .max_by_key(|(_, p)| p.held_rows)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            self.flush(&largest)?;
        }
        self.batches += 1;
        self.close_idle(self.batches.saturating_sub(IDLE_BATCHES))
    }

    /// Closes the part of every partition that had no rows since batch `since` (its rows
    /// written, its file finished): what an open part keeps in memory (its row groups' metadata
    /// and page indexes) then follows the days in flight, not the days of the run. A row for it
    /// later opens a part file of its own.
    fn close_idle(&mut self, since: u64) -> Result<(), StoreError> {
        let idle: Vec<_> = self
            .partitions
            .iter()
            .filter(|(_, p)| p.last_batch < since)
            .map(|(key, _)| key.clone())
            .collect();
        idle.iter().try_for_each(|key| self.close(key))
    }

    /// Writes a partition's buffered rows, finishes its part and forgets it.
    fn close(&mut self, key: &(String, String)) -> Result<(), StoreError> {
        self.flush(key)?;
        self.settle()?;
        if let Some(part) = self.partitions.remove(key).and_then(|p| p.part) {
            self.finished.push(part.finish()?);
        }
        Ok(())
    }

    /// Writes a partition's buffered rows, sorted by time, as one row group of its part: on
    /// the decoding threads, while the run goes on. The rows go on being merged meanwhile, so
    /// the units decoded do not wait for the row group and the threads that finish decoding
    /// them find more to decode: a row group written before the run went on left one core
    /// idle while the other finished its last columns (an ingest of 1 M events 6–9% faster).
    /// The batches merged meanwhile are held beside the row group's (31–46 MiB more at the
    /// peak, which `ingest` gives back by holding fewer units in flight). One row group is
    /// written at a time; the next waits for it ([`PartitionWriters::settle`]).
    fn flush(&mut self, key: &(String, String)) -> Result<(), StoreError> {
        self.settle()?;
        let Some(partition) = self.partitions.get_mut(key) else {
            return Ok(());
        };
        if partition.held.is_empty() {
            return Ok(());
        }
        self.buffered -= partition.held_rows.min(self.buffered);
        partition.rows = 0;
        partition.held_rows = 0;
        let held = std::mem::take(&mut partition.held);
        let order = time_order(&held)?;
        let mut part = match partition.part.take() {
            Some(part) => part,
            None => self.begin_part(key)?,
        };
        // Called on the threads that would write it, the row group is written here: waiting
        // there for a job of theirs could be waiting for itself.
        let here = match &self.threads {
            Some(threads) => threads.current_thread_index().is_some(),
            None => rayon::current_thread_index().is_some(),
        };
        let tmp = part.tmp.clone();
        if here {
            let wrote = part.write_row_group(&self.file_schema, &self.leaves, held, &order);
            return self.take_back(key.clone(), tmp, wrote.map(|()| part));
        }
        let (schema, leaves) = (self.file_schema.clone(), self.leaves.clone());
        let (done, written) = mpsc::sync_channel(1);
        let job = move || {
            let wrote = panic::catch_unwind(AssertUnwindSafe(|| {
                part.write_row_group(&schema, &leaves, held, &order)
            }));
            let outcome = match wrote {
                Ok(Ok(())) => Ok(part),
                Ok(Err(e)) => Err(e),
                Err(_) => Err(StoreError::Corrupt(
                    part.tmp.display().to_string(),
                    "writing a row group panicked".into(),
                )),
            };
            // The run may have stopped waiting (it failed): then there is no one to tell.
            let _ = done.send(outcome);
        };
        match &self.threads {
            Some(threads) => threads.spawn(job),
            None => rayon::spawn(job),
        }
        self.writing = Some(Writing {
            key: key.clone(),
            tmp,
            written,
        });
        Ok(())
    }

    /// A new part file for partition `key`, under its temporary name.
    fn begin_part(&mut self, key: &(String, String)) -> Result<OpenPart, StoreError> {
        let dir = self
            .events_dir
            .join(format!("category={}", key.0))
            .join(format!("date={}", key.1));
        fs::create_dir_all(&dir).map_err(|e| StoreError::Io(dir.display().to_string(), e))?;
        let name = format!("part-{}-{:05}.parquet", self.run, self.parts);
        self.parts += 1;
        let (tmp, final_path) = (dir.join(format!(".{name}.tmp")), dir.join(name));
        let file = File::create(&tmp).map_err(|e| StoreError::Io(tmp.display().to_string(), e))?;
        let (writer, columns) = ArrowWriter::try_new(
            file,
            self.file_schema.clone(),
            Some(props(&self.file_schema)),
        )?
        .into_serialized_writer()?;
        Ok(OpenPart {
            writer,
            columns,
            row_groups: 0,
            tmp,
            final_path,
        })
    }

    /// Waits for the row group being written, and takes its part back
    /// ([`PartitionWriters::take_back`]).
    fn settle(&mut self) -> Result<(), StoreError> {
        let Some(writing) = self.writing.take() else {
            return Ok(());
        };
        let stopped = || {
            Err(StoreError::Corrupt(
                writing.tmp.display().to_string(),
                "the row group's writer stopped".into(),
            ))
        };
        let outcome = writing.written.recv().unwrap_or_else(|_| stopped());
        self.take_back(writing.key, writing.tmp, outcome)
    }

    /// Takes back the part (temporary name `tmp`) of partition `key` once a row group of it is
    /// written: given back to the partition, or finished once it has [`PART_ROW_GROUPS`] row
    /// groups. A part whose row group failed is left among the run's temporaries.
    fn take_back(
        &mut self,
        key: (String, String),
        tmp: PathBuf,
        outcome: Result<OpenPart, StoreError>,
    ) -> Result<(), StoreError> {
        match outcome {
            Ok(part) if part.row_groups >= PART_ROW_GROUPS => {
                self.finished.push(part.finish()?);
            }
            Ok(part) => self.partitions.entry(key).or_default().part = Some(part),
            Err(e) => {
                self.failed.push(tmp);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Every temporary file of this run, open or finished: what an abandoned run removes.
    pub fn temporaries(&self) -> impl Iterator<Item = &Path> {
        let open = self
            .partitions
            .values()
            .filter_map(|p| p.part.as_ref().map(|part| part.tmp.as_path()));
        let writing = self.writing.iter().map(|w| w.tmp.as_path());
        open.chain(writing)
            .chain(self.failed.iter().map(PathBuf::as_path))
            .chain(self.finished.iter().map(|(tmp, _)| tmp.as_path()))
    }

    /// Writes everything buffered and closes every part (still under temporary names).
    pub fn finish(&mut self) -> Result<(), StoreError> {
        self.close_idle(u64::MAX)?;
        self.settle()
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

    /// A batch of the attributed schema with `rows` of (category, time, id in `source_line`).
    fn batch(rows: &[(Option<&str>, i64, i64)]) -> RecordBatch {
        use arrow_array::{ArrayRef, Int64Array};
        crate::testing::attributed_batch(rows.len(), |name| -> Option<ArrayRef> {
            match name {
                col::TIME => Some(Arc::new(
                    TimestampMicrosecondArray::from_iter_values(rows.iter().map(|r| r.1))
                        .with_timezone("UTC"),
                )),
                col::CATEGORY => Some(Arc::new(StringArray::from_iter(rows.iter().map(|r| r.0)))),
                col::SOURCE_LINE => Some(Arc::new(Int64Array::from_iter_values(
                    rows.iter().map(|r| r.2),
                ))),
                _ => None,
            }
        })
    }

    /// `batches` (of rows: category, time, id) written into a store: the folder and the rows (by
    /// id, the `source_line`) of each part written, checking each holds its rows in time order.
    fn written(batches: &[&[(Option<&str>, i64, i64)]]) -> Vec<(String, Vec<i64>)> {
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let schema = acrlens_attrib::attributed_schema();
        let mut writers = PartitionWriters::new(dir, "run", &schema).unwrap();
        for rows in batches {
            writers.write(&batch(rows)).unwrap();
        }
        writers.finish().unwrap();
        let mut found: Vec<(String, Vec<i64>)> = Vec::new();
        for (tmp, final_path) in &writers.finished {
            let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(tmp).unwrap())
                .unwrap()
                .build()
                .unwrap();
            let mut ids = Vec::new();
            let mut times = Vec::new();
            for batch in reader {
                let batch = batch.unwrap();
                let column = |name| batch.column_by_name(name).unwrap().clone();
                let id = column(col::SOURCE_LINE);
                let id = id
                    .as_any()
                    .downcast_ref::<arrow_array::Int64Array>()
                    .unwrap();
                ids.extend(id.values().iter().copied());
                let time = column(col::TIME);
                let time = time
                    .as_any()
                    .downcast_ref::<TimestampMicrosecondArray>()
                    .unwrap();
                times.extend(time.values().iter().copied());
            }
            assert!(times.is_sorted(), "{final_path:?}: {times:?}");
            let folder = final_path.parent().unwrap().strip_prefix(dir).unwrap();
            found.push((folder.display().to_string(), ids));
        }
        found.sort();
        found
    }

    #[test]
    fn each_part_holds_its_partitions_rows_in_time_order() {
        let (day0, day1) = (0, MICROS_PER_DAY);
        let (repo, login) = (Some("Repository"), Some("Login"));
        let found = written(&[
            // Mostly one partition, out of time order, with rows of three others: the batch is
            // held by its main partition and the other rows are copied.
            &[
                (repo, day0 + 5, 0),
                (login, day0 + 1, 1),
                (repo, day1 + 2, 2),
                (repo, day0 + 3, 3),
                (None, day0 + 4, 4),
                (repo, day0 + 9, 8),
            ],
            &[(repo, day0, 5), (repo, day1 + 1, 6), (login, day0 + 2, 7)],
        ]);
        let expected = [
            ("category=Login/date=1970-01-01", vec![1, 7]),
            ("category=Repository/date=1970-01-01", vec![5, 3, 0, 8]),
            ("category=Repository/date=1970-01-02", vec![6, 2]),
            (
                "category=__HIVE_DEFAULT_PARTITION__/date=1970-01-01",
                vec![4],
            ),
        ]
        .map(|(folder, ids)| (folder.to_owned(), ids));
        assert_eq!(found, expected);
    }

    #[test]
    fn rows_that_come_in_time_order_are_written_as_they_came() {
        let (day0, day1) = (0, MICROS_PER_DAY);
        let (repo, login) = (Some("Repository"), Some("Login"));
        // In time order within each partition, ties included; batches shared by partitions and
        // a batch all of one partition.
        let found = written(&[
            &[
                (repo, day0 + 1, 0),
                (login, day0 + 1, 1),
                (repo, day0 + 2, 2),
                (repo, day0 + 2, 3),
                (repo, day1, 4),
            ],
            &[
                (repo, day0 + 3, 5),
                (login, day0 + 5, 6),
                (repo, day1 + 1, 7),
            ],
            &[(repo, day0 + 6, 8), (repo, day0 + 6, 9)],
            // Cut by midnight: the next day, with most of the rows, holds the batch for a run
            // of them.
            &[
                (repo, day0 + 7, 10),
                (repo, day1 + 2, 11),
                (repo, day1 + 3, 12),
            ],
        ]);
        let expected = [
            ("category=Login/date=1970-01-01", vec![1, 6]),
            (
                "category=Repository/date=1970-01-01",
                vec![0, 2, 3, 5, 8, 9, 10],
            ),
            ("category=Repository/date=1970-01-02", vec![4, 7, 11, 12]),
        ]
        .map(|(folder, ids)| (folder.to_owned(), ids));
        assert_eq!(found, expected);
    }

    #[test]
    fn writers_driven_from_their_own_threads_write_there_and_never_wait_for_themselves() {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        // One thread: a row group handed to it by the job it is running would never be written.
        let threads = Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .unwrap(),
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let (done, outcome) = mpsc::channel();
        let pool = threads.clone();
        std::thread::spawn(move || {
            let schema = acrlens_attrib::attributed_schema();
            let mut writers = PartitionWriters::new(&path, "run", &schema).unwrap();
            writers.encode_on(pool.clone());
            // More than a row group's rows, so one is written while rows still come.
            let rows: Vec<_> = (0..ROW_GROUP_ROWS as i64 + 5)
                .map(|t| (Some("Repository"), t, t))
                .collect();
            let wrote = pool.install(|| {
                rows.chunks(1_000)
                    .try_for_each(|chunk| writers.write(&batch(chunk)))?;
                writers.finish()
            });
            let _ = done.send(wrote.map(|()| writers.finished));
        });
        let finished = outcome
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("the writers waited for a row group of their own")
            .unwrap();
        let rows: i64 = finished
            .iter()
            .map(|(tmp, _)| {
                let reader = SerializedFileReader::new(File::open(tmp).unwrap()).unwrap();
                reader.metadata().file_metadata().num_rows()
            })
            .sum();
        assert_eq!(rows, ROW_GROUP_ROWS as i64 + 5);
    }

    #[test]
    fn reason_sentences_past_the_default_dictionary_stay_in_the_dictionary() {
        // 4,000 distinct sentences of ~300 bytes, each twice: 1.2 MB, past the 1 MiB default.
        let rows = 8_000;
        let sentence = |row: usize| format!("{:0>300}", row % 4_000);
        let reasons = StringArray::from_iter_values((0..rows).map(sentence));
        let (dictionary, pages) =
            page_encodings(rows, acrlens_attrib::col::ACCESS_REASON, Arc::new(reasons));
        // Every data page holds dictionary keys: none fell back to plain sentences.
        assert!(dictionary);
        assert!(pages.is_only(Encoding::RLE_DICTIONARY), "{pages:?}");
    }

    /// Whether `column` has a dictionary page, and the encodings of its data pages, in the first
    /// row group of a part of `rows` rows, one category and day, with `values` of `column` (the
    /// rest placeholders).
    fn page_encodings(
        rows: usize,
        column: &str,
        values: ArrayRef,
    ) -> (bool, parquet::basic::EncodingMask) {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let batch = crate::testing::attributed_batch(rows, |name| -> Option<ArrayRef> {
            match name {
                n if n == column => Some(values.clone()),
                col::CATEGORY => Some(Arc::new(StringArray::from_iter_values(
                    (0..rows).map(|_| "Repository"),
                ))),
                col::TIME => Some(Arc::new(
                    TimestampMicrosecondArray::from_iter_values(0..rows as i64)
                        .with_timezone("UTC"),
                )),
                _ => None,
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let schema = acrlens_attrib::attributed_schema();
        let mut writers = PartitionWriters::new(dir.path(), "run", &schema).unwrap();
        writers.write(&batch).unwrap();
        writers.finish().unwrap();
        let (tmp, _) = &writers.finished[0];
        let reader = SerializedFileReader::new(File::open(tmp).unwrap()).unwrap();
        let row_group = reader.metadata().row_group(0);
        let chunk = row_group
            .columns()
            .iter()
            .find(|c| c.column_path().string() == column)
            .unwrap();
        let pages = *chunk.page_encoding_stats_mask().unwrap();
        (chunk.dictionary_page_offset().is_some(), pages)
    }

    #[test]
    fn sizes_that_repeat_are_a_dictionary_and_sizes_that_do_not_are_deltas() {
        use arrow_array::Int64Array;
        let rows = 40_000;
        // 2,000 layers' sizes, pulled again and again.
        let repeated = Int64Array::from_iter_values((0..rows as i64).map(|r| 1_000 + r % 2_000));
        let (dictionary, pages) = page_encodings(rows, col::SIZE_BYTES, Arc::new(repeated));
        assert!(dictionary);
        assert!(pages.is_only(Encoding::RLE_DICTIONARY), "{pages:?}");
        // A new size nearly every row: past 8,192 of them the pages are deltas.
        let distinct =
            Int64Array::from_iter_values((0..rows as i64).map(|r| r * 7_919 % 50_000_000));
        let (_, pages) = page_encodings(rows, col::SIZE_BYTES, Arc::new(distinct));
        assert!(pages.is_set(Encoding::DELTA_BINARY_PACKED), "{pages:?}");
    }

    #[test]
    fn a_partition_longer_than_a_part_goes_on_in_another_part() {
        let repo = Some("Repository");
        let rows = ROW_GROUP_ROWS * PART_ROW_GROUPS + 3;
        let all: Vec<_> = (0..rows as i64).map(|id| (repo, id, id)).collect();
        let batches: Vec<&[_]> = all.chunks(ROW_GROUP_ROWS / 2).collect();
        let found = written(&batches);
        // Two parts of the one day, the first full: their rows, in order, are every row once.
        let folder = "category=Repository/date=1970-01-01";
        assert_eq!(found.len(), 2, "{:?}", found.iter().map(|f| f.1.len()));
        assert!(found.iter().all(|(f, _)| f == folder));
        let mut parts: Vec<&Vec<i64>> = found.iter().map(|(_, ids)| ids).collect();
        parts.sort_by_key(|ids| ids[0]);
        assert_eq!(parts[0].len(), ROW_GROUP_ROWS * PART_ROW_GROUPS);
        let ids: Vec<i64> = parts.into_iter().flatten().copied().collect();
        assert_eq!(ids, (0..rows as i64).collect::<Vec<_>>());
    }

    #[test]
    fn an_idle_partition_is_closed_and_a_late_row_gets_a_part_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let schema = acrlens_attrib::attributed_schema();
        let mut writers = PartitionWriters::new(dir.path(), "run", &schema).unwrap();
        let repo = Some("Repository");
        writers.write(&batch(&[(repo, 1, 0)])).unwrap();
        for id in 1..=IDLE_BATCHES as i64 {
            writers
                .write(&batch(&[(repo, MICROS_PER_DAY + id, id)]))
                .unwrap();
        }
        let closed: Vec<_> = writers.finished.iter().map(|(_, f)| f.clone()).collect();
        assert_eq!(closed.len(), 1, "{closed:?}");
        assert!(closed[0].parent().unwrap().ends_with("date=1970-01-01"));
        // A late row of the closed day, then the end of the run.
        writers.write(&batch(&[(repo, 2, 100)])).unwrap();
        writers.finish().unwrap();
        let mut first_day: Vec<i64> = Vec::new();
        for (tmp, final_path) in &writers.finished {
            if !final_path.parent().unwrap().ends_with("date=1970-01-01") {
                continue;
            }
            let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                File::open(tmp).unwrap(),
            )
            .unwrap()
            .build()
            .unwrap();
            for batch in reader {
                let batch = batch.unwrap();
                let ids = batch.column_by_name(col::SOURCE_LINE).unwrap();
                let ids = ids
                    .as_any()
                    .downcast_ref::<arrow_array::Int64Array>()
                    .unwrap();
                first_day.extend(ids.values().iter().copied());
            }
        }
        assert_eq!(writers.finished.len(), 3);
        first_day.sort_unstable();
        assert_eq!(first_day, vec![0, 100]);
    }
}

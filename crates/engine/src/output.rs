//! Query results out: an aligned table, RFC 4180 CSV, JSON lines, or Parquet.
//!
//! Values come from the network (repository names, user agents, identities): CSV quotes every
//! field that needs it, and a text cell that a spreadsheet would run as a formula (`=`, `+`, `-`,
//! `@`, tab, carriage return first) gets a leading `'`.

use std::io::Write;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, SchemaRef};
use datafusion::arrow::csv::WriterBuilder;
use datafusion::arrow::json::LineDelimitedWriter;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::error::{DataFusionError, Result};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// An aligned text table.
    Table,
    /// RFC 4180 CSV with a header row.
    Csv,
    /// One JSON object per row.
    Json,
    /// A Parquet file (zstd).
    Parquet,
}

/// Makes a text cell inert in a spreadsheet.
fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

fn defused(batch: &RecordBatch) -> Result<RecordBatch> {
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|c| match c.as_any().downcast_ref::<StringArray>() {
            Some(text) if c.data_type() == &DataType::Utf8 => {
                Arc::new(text.iter().map(|v| v.map(defuse)).collect::<StringArray>()) as ArrayRef
            }
            _ => c.clone(),
        })
        .collect();
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}

/// Writes result batches as they arrive (the table format waits for all: it aligns columns).
pub struct ResultWriter<W: Write + Send> {
    inner: Inner<W>,
}

enum Inner<W: Write + Send> {
    Table(W, Vec<RecordBatch>),
    Csv(datafusion::arrow::csv::Writer<W>),
    Json(LineDelimitedWriter<W>),
    Parquet(ArrowWriter<W>),
}

impl<W: Write + Send> ResultWriter<W> {
    /// A writer of `format` for results of `schema`.
    pub fn new(format: OutputFormat, schema: &SchemaRef, out: W) -> Result<Self> {
        let inner = match format {
            OutputFormat::Table => Inner::Table(out, Vec::new()),
            OutputFormat::Csv => Inner::Csv(WriterBuilder::new().with_header(true).build(out)),
            OutputFormat::Json => Inner::Json(LineDelimitedWriter::new(out)),
            OutputFormat::Parquet => {
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(ZstdLevel::default()))
                    .build();
                Inner::Parquet(ArrowWriter::try_new(out, schema.clone(), Some(props))?)
            }
        };
        Ok(ResultWriter { inner })
    }

    /// Writes one batch.
    pub fn write(&mut self, batch: RecordBatch) -> Result<()> {
        match &mut self.inner {
            Inner::Table(_, batches) => batches.push(batch),
            Inner::Csv(w) => w.write(&defused(&batch)?)?,
            Inner::Json(w) => w.write(&batch)?,
            Inner::Parquet(w) => w.write(&batch)?,
        }
        Ok(())
    }

    /// Finishes the output.
    pub fn finish(self) -> Result<()> {
        match self.inner {
            Inner::Table(mut out, batches) => {
                let text = pretty_format_batches(&batches)?;
                writeln!(out, "{text}").map_err(DataFusionError::from)?;
                out.flush().map_err(DataFusionError::from)?;
            }
            Inner::Csv(w) => w.into_inner().flush().map_err(DataFusionError::from)?,
            Inner::Json(mut w) => {
                w.finish()?;
                w.into_inner().flush().map_err(DataFusionError::from)?;
            }
            Inner::Parquet(w) => {
                w.close()?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_other_text_kept() {
        assert_eq!(defuse("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(defuse("@SUM(1)"), "'@SUM(1)");
        assert_eq!(defuse("docker/27.3.1"), "docker/27.3.1");
    }
}

//! Query results out: an aligned table, RFC 4180 CSV, JSON lines, or Parquet.
//!
//! Values come from the network (repository names, user agents, identities): CSV quotes every
//! field that needs it, and a text cell that a spreadsheet would run as a formula (`=`, `+`, `-`,
//! `@`, tab, carriage return first) gets a leading `'`.

use std::io::Write;

use arrow_array::{Array, ListArray, RecordBatch, StringArray};
use arrow_schema::{DataType, SchemaRef};
use datafusion::arrow::compute::cast;
use datafusion::arrow::json::LineDelimitedWriter;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::error::{DataFusionError, Result};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use csv::CsvWriter;

mod csv;

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

/// Whether a text cell starting with `first` would be run as a formula by a spreadsheet.
fn formula_first(first: u8) -> bool {
    matches!(first, b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
}

/// Makes a text cell inert in a spreadsheet.
fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(&first) if formula_first(first) => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Whether a column holds text in any of Arrow's layouts.
fn is_text(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, values) => is_text(values),
        _ => false,
    }
}

/// A text column in any of Arrow's layouts (`Utf8`, `LargeUtf8`, `Utf8View`, a dictionary of
/// text) as plain `Utf8`; `None` for a column of another type. Whatever reads a result's text
/// reads every layout: the CSV output defuses them all, so a query cannot pass a formula through
/// by casting (`arrow_cast(x, 'Utf8View')`).
pub fn as_text(column: &dyn Array) -> Result<Option<StringArray>> {
    if !is_text(column.data_type()) {
        return Ok(None);
    }
    let text = cast(column, &DataType::Utf8)?;
    Ok(text.as_any().downcast_ref::<StringArray>().cloned())
}

/// A list of texts (`service_tags`) as one CSV cell: a JSON array, which keeps its items apart
/// whatever they hold.
fn list_cells(list: &ListArray) -> Result<Option<StringArray>> {
    let Some(values) = as_text(list.values().as_ref())? else {
        return Ok(None);
    };
    let offsets = list.value_offsets();
    Ok(Some(
        (0..list.len())
            .map(|i| {
                list.is_valid(i).then(|| {
                    let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
                    let items: Vec<Option<&str>> = (start..end)
                        .map(|j| values.is_valid(j).then(|| values.value(j)))
                        .collect();
                    sonic_rs::to_string(&items).unwrap_or_default()
                })
            })
            .collect(),
    ))
}

/// Writes result batches as they arrive (the table format waits for all: it aligns columns).
pub struct ResultWriter<W: Write + Send> {
    inner: Inner<W>,
}

enum Inner<W: Write + Send> {
    Table(W, Vec<RecordBatch>),
    Csv(CsvWriter<W>),
    Json(LineDelimitedWriter<W>),
    Parquet(ArrowWriter<W>),
}

impl<W: Write + Send> ResultWriter<W> {
    /// A writer of `format` for results of `schema`.
    pub fn new(format: OutputFormat, schema: &SchemaRef, out: W) -> Result<Self> {
        let inner = match format {
            OutputFormat::Table => Inner::Table(out, Vec::new()),
            OutputFormat::Csv => Inner::Csv(CsvWriter::new(out)),
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
            Inner::Csv(w) => w.write(&batch)?,
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
            Inner::Csv(w) => w.finish()?,
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
    use std::sync::Arc;

    use arrow_array::{ArrayRef, StringViewArray};

    use super::*;

    /// The batch as the CSV output writes it.
    fn csv_of(batch: RecordBatch) -> String {
        let mut out = Vec::new();
        let mut writer = ResultWriter::new(OutputFormat::Csv, &batch.schema(), &mut out)
            .unwrap_or_else(|e| panic!("{e}"));
        writer.write(batch).unwrap_or_else(|e| panic!("{e}"));
        writer.finish().unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn formulas_are_defused_and_other_text_kept() {
        assert_eq!(defuse("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(defuse("@SUM(1)"), "'@SUM(1)");
        assert_eq!(defuse("docker/27.3.1"), "docker/27.3.1");
    }

    #[test]
    fn formulas_are_defused_in_every_text_layout() {
        use arrow_array::{DictionaryArray, LargeStringArray, types::Int32Type};
        let formula = "=HYPERLINK(\"http://x\")";
        let batch = RecordBatch::try_from_iter([
            (
                "utf8",
                Arc::new(StringArray::from(vec![formula])) as ArrayRef,
            ),
            ("large", Arc::new(LargeStringArray::from(vec![formula]))),
            ("view", Arc::new(StringViewArray::from(vec![formula]))),
            (
                "dictionary",
                Arc::new(DictionaryArray::<Int32Type>::from_iter([formula])),
            ),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let cell = "\"'=HYPERLINK(\"\"http://x\"\")\"";
        assert_eq!(
            csv_of(batch),
            format!("utf8,large,view,dictionary\n{cell},{cell},{cell},{cell}\n")
        );
    }

    #[test]
    fn a_formula_among_plain_views_is_defused_short_or_long() {
        let plain = ["team0/service-172", "ip_rule", "", "trusted_service"];
        for formula in ["=1+1", "-cmd|' /C calc'!A0"] {
            let cells: Vec<Option<&str>> = plain
                .iter()
                .map(|&p| Some(p))
                .chain([None, Some(formula), Some("x")])
                .collect();
            let batch = RecordBatch::try_from_iter([
                (
                    "plain",
                    Arc::new(StringViewArray::from(vec![Some("a"); 7])) as ArrayRef,
                ),
                ("cells", Arc::new(StringViewArray::from(cells))),
            ])
            .unwrap_or_else(|e| panic!("{e}"));
            let want = format!(
                "plain,cells\na,team0/service-172\na,ip_rule\na,\na,trusted_service\na,\na,'{formula}\na,x\n"
            );
            assert_eq!(csv_of(batch), want);
        }
    }

    #[test]
    fn a_list_column_is_one_csv_cell_holding_a_json_array() {
        use arrow_array::builder::{ListBuilder, StringBuilder};
        let mut tags = ListBuilder::new(StringBuilder::new());
        tags.values().append_value("AzureCloud.eastus");
        tags.values().append_value("a,\"b\"");
        tags.append(true);
        tags.append(false);
        let batch =
            RecordBatch::try_from_iter([("service_tags", Arc::new(tags.finish()) as ArrayRef)])
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            csv_of(batch),
            "service_tags\n\"[\"\"AzureCloud.eastus\"\",\"\"a,\\\"\"b\\\"\"\"\"]\"\n\"\"\n"
        );
    }
}

//! RFC 4180 CSV, written cell by cell into one buffer a batch.
//!
//! A field is quoted when it holds a comma, a quote, a carriage return or a line feed, its
//! quotes doubled; a NULL is an empty field; a record of one empty field is `""`, so that it is
//! not an empty line. A text cell a spreadsheet would run as a formula gets a leading `'`
//! ([`defuse`]). Text, integers and dates are written straight from their arrays; other
//! types through Arrow's display of them, as Arrow's CSV writer spells them.

use std::io::Write;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type,
    UInt64Type,
};
use arrow_array::{Array, ListArray, RecordBatch, StringArray, StringViewArray};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::{DataFusionError, Result};
use rayon::prelude::*;

use super::{as_text, defuse, list_cells};

/// The first and last day a date is written as `YYYY-MM-DD` by ([`acrlens_values::format_day`],
/// as Arrow spells them): years 1 to 9999.
const DAYS: std::ops::RangeInclusive<i32> = -719_162..=2_932_896;

/// Rows of a batch below which it is formatted on one thread: splitting costs more than it
/// saves.
const PIECE_ROWS: usize = 2048;

/// A CSV writer of result batches, the header from the first batch's schema. A batch is
/// formatted in pieces on every core while the batch before is written out: a query whose
/// answer is its last step (a grouping, sorted) spent a tenth of its time formatting and
/// writing tens of thousands of rows on one thread.
pub(super) struct CsvWriter<W: Write + Send> {
    out: W,
    header: bool,
    /// The text of the batch before, not yet written.
    pending: Vec<Vec<u8>>,
}

/// One column's cells, as it is written.
enum Cells<'a> {
    Views(&'a StringViewArray),
    Text(StringArray),
    Integers(Vec<Option<Signed>>),
    Days(&'a arrow_array::Date32Array),
    Displayed(ArrayFormatter<'a>, &'a dyn Array),
}

impl<W: Write + Send> CsvWriter<W> {
    pub(super) fn new(out: W) -> Self {
        CsvWriter {
            out,
            header: true,
            pending: Vec::new(),
        }
    }

    /// Formats `batch`, after the header if it is the first, while writing the batch before.
    pub(super) fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let mut text = Vec::new();
        if std::mem::take(&mut self.header) {
            let mut header = Vec::new();
            let schema = batch.schema();
            for (i, field) in schema.fields().iter().enumerate() {
                if i > 0 {
                    header.push(b',');
                }
                field_of(&mut header, field.name().as_bytes());
            }
            end_record(&mut header, batch.num_columns());
            text.push(header);
        }
        let threads = rayon::current_num_threads();
        let rows = batch.num_rows();
        let pieces = (rows / PIECE_ROWS).clamp(1, threads);
        let size = rows.div_ceil(pieces).max(1);
        let slices: Vec<RecordBatch> = (0..rows)
            .step_by(size)
            .map(|start| batch.slice(start, size.min(rows - start)))
            .collect();
        let CsvWriter { out, pending, .. } = self;
        let (formatted, written) = rayon::join(
            || slices.par_iter().map(rows_of).collect::<Result<Vec<_>>>(),
            || write_all(out, pending),
        );
        written?;
        text.extend(formatted?);
        self.pending = text;
        Ok(())
    }

    /// Writes what is left and flushes.
    pub(super) fn finish(mut self) -> Result<()> {
        write_all(&mut self.out, &self.pending)?;
        self.out.flush().map_err(DataFusionError::from)
    }
}

/// Writes `pieces` in order.
fn write_all(out: &mut impl Write, pieces: &[Vec<u8>]) -> Result<()> {
    pieces
        .iter()
        .try_for_each(|piece| out.write_all(piece))
        .map_err(DataFusionError::from)
}

/// The records of `batch`.
fn rows_of(batch: &RecordBatch) -> Result<Vec<u8>> {
    let options = FormatOptions::default();
    let columns = batch
        .columns()
        .iter()
        .map(|c| Cells::of(c.as_ref(), &options))
        .collect::<Result<Vec<_>>>()?;
    let mut buffer = Vec::new();
    let mut shown = String::new();
    let mut last_day = None;
    for row in 0..batch.num_rows() {
        for (i, cells) in columns.iter().enumerate() {
            if i > 0 {
                buffer.push(b',');
            }
            cells.write(row, &mut buffer, &mut shown, &mut last_day)?;
        }
        end_record(&mut buffer, columns.len());
    }
    Ok(buffer)
}

/// Ends a record of `width` fields: a record of one empty field is written `""`.
fn end_record(buffer: &mut Vec<u8>, width: usize) {
    if width == 1 && buffer.last().is_none_or(|&b| b == b'\n') {
        buffer.extend_from_slice(b"\"\"");
    }
    buffer.push(b'\n');
}

/// Appends `bytes` as a field, quoted if it needs to be.
fn field_of(buffer: &mut Vec<u8>, bytes: &[u8]) {
    if !bytes
        .iter()
        .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
    {
        buffer.extend_from_slice(bytes);
        return;
    }
    buffer.push(b'"');
    for &b in bytes {
        if b == b'"' {
            buffer.push(b'"');
        }
        buffer.push(b);
    }
    buffer.push(b'"');
}

/// Appends a text cell: a formula made inert, then as a field.
fn text_of(buffer: &mut Vec<u8>, text: &str) {
    field_of(buffer, defuse(text).as_bytes());
}

impl<'a> Cells<'a> {
    fn of(column: &'a dyn Array, options: &'a FormatOptions<'a>) -> Result<Cells<'a>> {
        if let Some(views) = column.as_any().downcast_ref::<StringViewArray>() {
            return Ok(Cells::Views(views));
        }
        if let Some(list) = column.as_any().downcast_ref::<ListArray>()
            && let Some(cells) = list_cells(list)?
        {
            return Ok(Cells::Text(cells));
        }
        if let Some(text) = as_text(column)? {
            return Ok(Cells::Text(text));
        }
        let integers = |c: &dyn Array| -> Option<Vec<Option<Signed>>> {
            macro_rules! widen {
                ($($t:ty => $sign:expr),*) => {
                    $(if let Some(p) = c.as_primitive_opt::<$t>() {
                        return Some(p.iter().map(|v| v.map($sign)).collect());
                    })*
                };
            }
            let signed = |v: i64| (v < 0, v.unsigned_abs());
            let unsigned = |v: u64| (false, v);
            widen!(
                Int8Type => |v| signed(v.into()),
                Int16Type => |v| signed(v.into()),
                Int32Type => |v| signed(v.into()),
                Int64Type => signed,
                UInt8Type => |v| unsigned(v.into()),
                UInt16Type => |v| unsigned(v.into()),
                UInt32Type => |v| unsigned(v.into()),
                UInt64Type => unsigned
            );
            None
        };
        if let Some(integers) = integers(column) {
            return Ok(Cells::Integers(integers));
        }
        if let Some(days) = column.as_primitive_opt::<Date32Type>()
            && days.iter().flatten().all(|d| DAYS.contains(&d))
        {
            return Ok(Cells::Days(days));
        }
        if column.data_type().is_nested() {
            return Err(DataFusionError::Execution(format!(
                "a column of {} cannot be written as CSV",
                column.data_type()
            )));
        }
        Ok(Cells::Displayed(
            ArrayFormatter::try_new(column, options)?,
            column,
        ))
    }

    /// Appends the cell of `row`; `shown` and `last_day` are scratch space kept between cells.
    fn write(
        &self,
        row: usize,
        buffer: &mut Vec<u8>,
        shown: &mut String,
        last_day: &mut Option<(i32, [u8; 10])>,
    ) -> Result<()> {
        match self {
            Cells::Views(views) => {
                if views.is_valid(row) {
                    text_of(buffer, views.value(row));
                }
            }
            Cells::Text(text) => {
                if text.is_valid(row) {
                    text_of(buffer, text.value(row));
                }
            }
            Cells::Integers(values) => {
                if let Some(v) = values[row] {
                    let mut digits = [0u8; 24];
                    buffer.extend_from_slice(integer(v, &mut digits));
                }
            }
            Cells::Days(days) => {
                if days.is_valid(row) {
                    let day = days.value(row);
                    let spelled = match last_day {
                        Some((d, spelled)) if *d == day => *spelled,
                        _ => {
                            let mut spelled = [0u8; 10];
                            spelled.copy_from_slice(
                                acrlens_values::format_day(i64::from(day)).as_bytes(),
                            );
                            *last_day = Some((day, spelled));
                            spelled
                        }
                    };
                    buffer.extend_from_slice(&spelled);
                }
            }
            Cells::Displayed(formatter, column) => {
                if column.is_valid(row) {
                    shown.clear();
                    formatter
                        .value(row)
                        .write(shown)
                        .map_err(|e| DataFusionError::Execution(e.to_string()))?;
                    field_of(buffer, shown.as_bytes());
                }
            }
        }
        Ok(())
    }
}

/// An integer as its sign and magnitude: every Arrow integer type fits, and its digits are
/// found in 64 bits.
type Signed = (bool, u64);

/// `value` in decimal digits, at the end of `digits`.
fn integer((negative, magnitude): Signed, digits: &mut [u8; 24]) -> &[u8] {
    let mut at = digits.len();
    let mut rest = magnitude;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if negative {
        at -= 1;
        digits[at] = b'-';
    }
    &digits[at..]
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::types::Int32Type;
    use arrow_array::{
        ArrayRef, BooleanArray, Date32Array, Decimal128Array, DictionaryArray, Float64Array,
        Int8Array, Int64Array, LargeStringArray, Time64MicrosecondArray, TimestampMicrosecondArray,
        UInt64Array,
    };
    use datafusion::arrow::compute::concat_batches;
    use datafusion::arrow::csv::WriterBuilder;

    use super::*;

    fn ours(batches: &[RecordBatch]) -> String {
        let mut out = Vec::new();
        let mut writer = CsvWriter::new(&mut out);
        for batch in batches {
            writer.write(batch).unwrap_or_else(|e| panic!("{e}"));
        }
        writer.finish().unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8(out).unwrap_or_else(|e| panic!("{e}"))
    }

    fn arrows(batches: &[RecordBatch]) -> String {
        let mut out = Vec::new();
        let mut writer = WriterBuilder::new().with_header(true).build(&mut out);
        for batch in batches {
            writer.write(batch).unwrap_or_else(|e| panic!("{e}"));
        }
        drop(writer);
        String::from_utf8(out).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn cells_of_every_type_are_spelled_and_quoted_as_arrows_csv_writer_does() {
        // No text starts like a formula here: those are made inert, which Arrow does not do.
        let texts = [
            Some("plain"),
            Some(""),
            None,
            Some("a,b"),
            Some("say \"hi\""),
            Some("two\nlines"),
            Some("cr\rhere"),
            Some("caf\u{e9} \u{1f600}"),
            Some("a much longer text than twelve bytes, with a comma"),
        ];
        let n = texts.len();
        let column = |name: &str, array: ArrayRef| (name.to_owned(), array);
        let batch = RecordBatch::try_from_iter([
            column("utf8", Arc::new(StringArray::from(texts.to_vec()))),
            column(
                "view, quoted \"name\"",
                Arc::new(StringViewArray::from(texts.to_vec())),
            ),
            column("large", Arc::new(LargeStringArray::from(texts.to_vec()))),
            column(
                "dictionary",
                Arc::new(
                    texts
                        .iter()
                        .copied()
                        .collect::<DictionaryArray<Int32Type>>(),
                ),
            ),
            column(
                "i64",
                Arc::new(Int64Array::from_iter(
                    [Some(i64::MIN), Some(-1), Some(0), None, Some(i64::MAX)]
                        .into_iter()
                        .cycle()
                        .take(n),
                )),
            ),
            column(
                "i8",
                Arc::new(Int8Array::from_iter(
                    [Some(i8::MIN), Some(7), None].into_iter().cycle().take(n),
                )),
            ),
            column(
                "u64",
                Arc::new(UInt64Array::from_iter(
                    [Some(u64::MAX), Some(10), None].into_iter().cycle().take(n),
                )),
            ),
            column(
                "f64",
                Arc::new(Float64Array::from_iter(
                    [
                        Some(1.5),
                        Some(f64::NAN),
                        Some(-0.0),
                        Some(f64::INFINITY),
                        None,
                        Some(1e300),
                    ]
                    .into_iter()
                    .cycle()
                    .take(n),
                )),
            ),
            column(
                "bool",
                Arc::new(BooleanArray::from_iter(
                    [Some(true), None, Some(false)].into_iter().cycle().take(n),
                )),
            ),
            column(
                "day",
                Arc::new(Date32Array::from_iter(
                    [
                        Some(20_395),
                        Some(20_395),
                        None,
                        Some(0),
                        Some(-719_162),
                        Some(2_932_896),
                    ]
                    .into_iter()
                    .cycle()
                    .take(n),
                )),
            ),
            column(
                "far day",
                Arc::new(Date32Array::from_iter(
                    [Some(2_932_897), Some(-719_163), Some(1)]
                        .into_iter()
                        .cycle()
                        .take(n),
                )),
            ),
            column(
                "time",
                Arc::new(
                    TimestampMicrosecondArray::from_iter(
                        [Some(1_762_164_000_123_456), None]
                            .into_iter()
                            .cycle()
                            .take(n),
                    )
                    .with_timezone("UTC"),
                ),
            ),
            column(
                "naive",
                Arc::new(TimestampMicrosecondArray::from_iter(
                    [Some(1_762_164_000_000_000), None]
                        .into_iter()
                        .cycle()
                        .take(n),
                )),
            ),
            column(
                "clock",
                Arc::new(Time64MicrosecondArray::from_iter(
                    [Some(3_600_000_001), None].into_iter().cycle().take(n),
                )),
            ),
            column(
                "decimal",
                Arc::new(
                    Decimal128Array::from_iter([Some(-12_345), None].into_iter().cycle().take(n))
                        .with_precision_and_scale(10, 3)
                        .unwrap_or_else(|e| panic!("{e}")),
                ),
            ),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        // Thousands of rows: formatted in pieces, on every core, put back in order.
        let many = |batch: &RecordBatch| {
            concat_batches(
                &batch.schema(),
                std::iter::repeat_n(batch, 3 * PIECE_ROWS / batch.num_rows() + 1),
            )
            .unwrap_or_else(|e| panic!("{e}"))
        };
        let batches = [batch.clone(), batch.slice(3, 4), many(&batch)];
        assert_eq!(ours(&batches), arrows(&batches));
        // One column: an empty cell and a NULL are each a record of `""`, at the start of a
        // piece too.
        let single = RecordBatch::try_from_iter([column(
            "only",
            Arc::new(StringArray::from(texts.to_vec())),
        )])
        .unwrap_or_else(|e| panic!("{e}"));
        let single = [many(&single)];
        assert_eq!(ours(&single), arrows(&single));
        let empty = RecordBatch::try_from_iter([column(
            "only",
            Arc::new(StringArray::from(vec![Some(""), None])),
        )])
        .unwrap_or_else(|e| panic!("{e}"));
        let empty = [many(&empty)];
        assert_eq!(ours(&empty), arrows(&empty));
    }
}

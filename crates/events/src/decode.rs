//! The decoding stage: one work unit in, one batch of canonical rows (plus its quarantine) out.
//! Pure and independent per unit, so units decode in parallel.

use std::borrow::Cow;
use std::sync::Arc;

use crate::error::TransformError;

use csv::ByteRecord;

use crate::buffers::UnitBuffers;
use crate::builder::{Built, EventBatchBuilder, Outcome};
use crate::fast::{FieldSet, scan_into};
use crate::quarantine::Quarantined;
use crate::reader::{End, Payload, SourceMeta, Span, Unit};
use crate::record::{FieldName, RawRecord};
use crate::value::Loose;

/// What decoding one unit produced.
pub(crate) struct UnitOutput {
    pub meta: Arc<SourceMeta>,
    pub batch: Option<Built>,
    pub quarantined: Vec<Quarantined>,
    pub read: u64,
    pub out_of_window: u64,
    /// Set on the input's last unit: bytes read, where to resume, why reading stopped early.
    pub end: Option<End>,
    /// Set when the batch transform failed.
    pub failure: Option<TransformError>,
}

/// A rough guess of rows per byte, to size the builders.
const BYTES_PER_RECORD_GUESS: usize = 600;

struct Collector<'m> {
    meta: &'m SourceMeta,
    /// The fields the builder reads: all the fast path decodes.
    fields: FieldSet,
    builder: EventBatchBuilder,
    quarantined: Vec<Quarantined>,
    read: u64,
    out_of_window: u64,
}

impl<'m> Collector<'m> {
    fn new(meta: &'m SourceMeta, rows: usize) -> Self {
        let builder = EventBatchBuilder::with_columns(meta.name.clone(), rows, meta.columns);
        let builder = if meta.attribution {
            builder.for_attribution()
        } else {
            builder
        };
        Collector {
            meta,
            fields: builder.fields(),
            builder,
            quarantined: Vec::new(),
            read: 0,
            out_of_window: 0,
        }
    }

    fn quarantine(&mut self, line: u64, reason: String, raw: &[u8]) {
        self.quarantined
            .push(Quarantined::new(&self.meta.name, line, reason, raw));
    }

    fn offer<'r>(&mut self, record: &RawRecord<'_>, line: u64, raw: &dyn Fn() -> Cow<'r, [u8]>) {
        match self.builder.push(record, line, &self.meta.ctx) {
            Outcome::Accepted => {}
            Outcome::OutOfWindow => self.out_of_window += 1,
            Outcome::Rejected(reason) => self.quarantine(line, reason, &raw()),
        }
    }

    /// One JSON text: parse (the fast path, else the strict decoder), then offer.
    fn json(&mut self, text: &[u8], line: u64, truncated: bool) {
        self.read += 1;
        if text.len() > self.meta.max_record_bytes {
            let q = Quarantined::oversized(&self.meta.name, line, self.meta.max_record_bytes, text);
            self.quarantined.push(q);
            return;
        }
        let mut record = RawRecord::default();
        if scan_into(text, self.fields, &mut record) {
            self.offer(&record, line, &|| Cow::Borrowed(text));
            return;
        }
        match RawRecord::from_json(text) {
            Ok(record) => self.offer(&record, line, &|| Cow::Borrowed(text)),
            Err(e) if truncated => self.quarantine(
                line,
                format!(
                    "truncated final line (no newline at end of input; still being written?): {e}"
                ),
                text,
            ),
            Err(e) => self.quarantine(line, e, text),
        }
    }

    fn finish(self, end: Option<End>, meta: Arc<SourceMeta>) -> UnitOutput {
        let batch = (!self.builder.is_empty()).then(|| self.builder.finish());
        UnitOutput {
            meta,
            batch,
            quarantined: self.quarantined,
            read: self.read,
            out_of_window: self.out_of_window,
            end,
            failure: None,
        }
    }
}

/// Decodes one unit. A panic while decoding its records — a bug, never an input's fault —
/// costs only that unit: its records are quarantined with the panic's message and the run goes
/// on, the counts still reconciling. The unit's buffer goes back to `buffers` for the reader
/// to fill again.
pub(crate) fn decode_unit(unit: Unit, buffers: &UnitBuffers) -> UnitOutput {
    guarded(unit, buffers, decode_records)
}

/// Runs `decode` on a unit's records, quarantining them all if it panics.
fn guarded(
    unit: Unit,
    buffers: &UnitBuffers,
    decode: impl FnOnce(&Arc<SourceMeta>, &Payload) -> UnitOutput,
) -> UnitOutput {
    let meta = unit.meta;
    match unit.payload {
        Payload::Quarantine(q) => {
            let mut c = Collector::new(&meta, 0);
            c.read += q.len() as u64;
            c.quarantined = q;
            c.finish(None, meta.clone())
        }
        Payload::End(how) => Collector::new(&meta, 0).finish(Some(how), meta.clone()),
        payload => {
            let run =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| decode(&meta, &payload)));
            let out = run.unwrap_or_else(|panic| {
                let reason = format!(
                    "the decoder failed on this part of the input (a bug; please report it): {}",
                    panic_message(&*panic)
                );
                quarantine_all(&meta, &payload, &reason)
            });
            if let Payload::Lines { buf, .. } | Payload::Elements { buf, .. } = payload {
                buffers.give(buf);
            }
            out
        }
    }
}

/// The text of a panic.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("panic")
}

/// Every record of a unit, quarantined for one reason.
fn quarantine_all(meta: &Arc<SourceMeta>, payload: &Payload, reason: &str) -> UnitOutput {
    let mut c = Collector::new(meta, 0);
    let mut take = |line: u64, raw: &[u8]| {
        c.read += 1;
        c.quarantine(line, reason.to_owned(), raw);
    };
    match payload {
        Payload::Lines {
            buf, first_line, ..
        } => each_line(buf, *first_line, |segment, line, _| take(line, segment)),
        Payload::Elements { buf, spans } => {
            for span in spans {
                take(span.line, &buf[span.start..span.end]);
            }
        }
        Payload::Csv { rows, .. } => {
            for (row, line) in rows {
                take(*line, &csv_line(row));
            }
        }
        Payload::Quarantine(_) | Payload::End(_) => {}
    }
    c.finish(None, meta.clone())
}

/// Decodes the records of a unit of lines, elements or CSV rows.
fn decode_records(meta: &Arc<SourceMeta>, payload: &Payload) -> UnitOutput {
    let rows = match payload {
        Payload::Lines { buf, .. } | Payload::Elements { buf, .. } => {
            buf.len() / BYTES_PER_RECORD_GUESS
        }
        Payload::Csv { rows, .. } => rows.len(),
        Payload::Quarantine(_) | Payload::End(_) => 0,
    };
    let mut c = Collector::new(meta, rows);
    match payload {
        Payload::Lines {
            buf,
            first_line,
            unterminated,
        } => lines(&mut c, buf, *first_line, *unterminated),
        Payload::Elements { buf, spans } => elements(&mut c, buf, spans),
        Payload::Csv { header, rows } => csv_rows(&mut c, header, rows),
        Payload::Quarantine(_) | Payload::End(_) => {}
    }
    c.finish(None, meta.clone())
}

fn lines(c: &mut Collector<'_>, buf: &[u8], first_line: u64, unterminated: bool) {
    each_line(buf, first_line, |segment, line, last| {
        c.json(segment, line, last && unterminated);
    });
}

/// Every non-blank line of a unit (without its `\r`), with its number and whether it is the
/// last, unterminated, piece of the buffer.
fn each_line(buf: &[u8], first_line: u64, mut take: impl FnMut(&[u8], u64, bool)) {
    let mut line = first_line;
    let mut start = 0;
    let mut offer = |segment: &[u8], line: u64, last: bool| {
        let segment = segment.strip_suffix(b"\r").unwrap_or(segment);
        if !segment.iter().all(u8::is_ascii_whitespace) {
            take(segment, line, last);
        }
    };
    for newline in memchr::memchr_iter(b'\n', buf) {
        offer(&buf[start..newline], line, false);
        line += 1;
        start = newline + 1;
    }
    if start < buf.len() {
        offer(&buf[start..], line, true);
    }
}

fn elements(c: &mut Collector<'_>, buf: &[u8], spans: &[Span]) {
    for span in spans {
        c.json(&buf[span.start..span.end], span.line, false);
    }
}

fn csv_rows(c: &mut Collector<'_>, header: &[Option<FieldName>], rows: &[(ByteRecord, u64)]) {
    for (row, line) in rows {
        c.read += 1;
        let raw = || Cow::Owned(csv_line(row));
        if row.len() < header.len() {
            let reason = format!(
                "row has {} fields, the header {} (truncated?)",
                row.len(),
                header.len()
            );
            c.quarantine(*line, reason, &raw());
            continue;
        }
        let mut record = RawRecord::default();
        let mut bad_utf8 = false;
        for (field, cell) in header.iter().zip(row.iter()) {
            let Some(field) = field else { continue };
            match std::str::from_utf8(cell) {
                Ok(text) => record.offer(*field, Loose::Str(Cow::Borrowed(text))),
                Err(_) => bad_utf8 = true,
            }
        }
        if bad_utf8 {
            c.quarantine(*line, "invalid UTF-8 in a field".to_owned(), &raw());
        } else {
            c.offer(&record, *line, &raw);
        }
    }
}

/// A CSV row written back as one CSV line, for the quarantine.
fn csv_line(row: &ByteRecord) -> Vec<u8> {
    let mut out = csv::Writer::from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = out.write_byte_record(row);
    let mut bytes = out.into_inner().unwrap_or_default();
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::{RecordContext, TimeWindow};
    use crate::columns::ColumnSet;
    use crate::format::InputFormat;
    use crate::value::NullSpelling;

    fn unit(text: &str) -> Unit {
        Unit {
            meta: Arc::new(SourceMeta {
                index: 0,
                name: Arc::from("PT1H.json"),
                format: InputFormat::ResourceLog,
                ctx: RecordContext {
                    nulls: NullSpelling::Nil,
                    category_hint: None,
                    window: TimeWindow::default(),
                },
                max_record_bytes: 1 << 20,
                columns: ColumnSet::ALL,
                attribution: false,
            }),
            payload: Payload::Lines {
                buf: text.as_bytes().to_vec(),
                first_line: 7,
                unterminated: false,
            },
        }
    }

    #[test]
    fn a_panic_while_decoding_quarantines_the_unit_and_the_counts_reconcile() {
        let text = "{\"time\":\"2025-11-03T10:00:00Z\"}\n\n{\"time\":\"x\"}\r\n";
        let buffers = UnitBuffers::new(16, 1);
        let out = guarded(unit(text), &buffers, |_, _| panic!("index out of bounds"));
        assert_eq!(out.read, 2);
        assert!(out.batch.is_none());
        let lines: Vec<u64> = out.quarantined.iter().map(|q| q.line).collect();
        assert_eq!(lines, [7, 9]);
        assert_eq!(out.quarantined[1].raw, "{\"time\":\"x\"}");
        assert!(
            out.quarantined[0]
                .reason
                .ends_with("(a bug; please report it): index out of bounds"),
            "{}",
            out.quarantined[0].reason
        );
        // Without the panic the same unit decodes: one row, one bad time.
        let out = decode_unit(unit(text), &buffers);
        assert_eq!((out.read, out.quarantined.len()), (2, 1));
    }
}

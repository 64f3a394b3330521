//! The reading stage: opens each input (gzip by magic bytes), detects its shape, and cuts it into
//! work units of whole records of about `chunk_bytes`, so workers can decode units in parallel
//! while memory stays bounded by the number of units in flight.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::sync::Arc;

use csv::ByteRecord;
use flate2::read::MultiGzDecoder;

use crate::buffers::UnitBuffers;
use crate::builder::{RecordContext, TimeWindow};
use crate::columns::ColumnSet;
use crate::format::{Framing, InputFormat};
use crate::quarantine::Quarantined;
use crate::record::{FieldName, KeyRole};
use crate::remote::is_content_error;
use crate::source::InputSource;

/// How much of an input is read to detect its shape.
const SNIFF_BYTES: usize = 64 * 1024;
/// The smallest read while looking for the end of a record.
pub(crate) const MIN_READ: usize = 64 * 1024;
/// CSV rows per work unit.
const CSV_ROWS_PER_UNIT: usize = 8192;
/// Remote inputs opened before their turn, so several are fetched at once: listing-time
/// latency, not bandwidth, limits a container of many small hourly blobs.
const OPEN_AHEAD: usize = 4;

/// Settings of the reading stage.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReaderConfig {
    pub format: InputFormat,
    pub window: TimeWindow,
    pub chunk_bytes: usize,
    pub max_record_bytes: usize,
    pub columns: ColumnSet,
    pub attribution: bool,
}

/// What every unit of one input shares.
#[derive(Debug)]
pub(crate) struct SourceMeta {
    pub index: usize,
    pub name: Arc<str>,
    pub format: InputFormat,
    pub ctx: RecordContext,
    pub max_record_bytes: usize,
    /// The columns to build.
    pub columns: ColumnSet,
    /// Build what attribution reads (see [`EventBatchBuilder::for_attribution`]).
    ///
    /// [`EventBatchBuilder::for_attribution`]: crate::EventBatchBuilder::for_attribution
    pub attribution: bool,
}

/// Where to pick up an input that is still being appended to: the byte offset after its last
/// whole line, and that line's successor's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume {
    /// Byte offset from the start of the file.
    pub offset: u64,
    /// The 1-based number of the line that starts there.
    pub line: u64,
}

impl Resume {
    /// The beginning of an input.
    pub const START: Resume = Resume { offset: 0, line: 1 };
}

/// A span of one record inside an elements unit's buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
    pub line: u64,
}

/// A piece of work for the decoding stage.
pub(crate) enum Payload {
    /// Whole JSON lines; `unterminated` when the last one had no newline at the end of input.
    Lines {
        buf: Vec<u8>,
        first_line: u64,
        unterminated: bool,
    },
    /// JSON array elements.
    Elements { buf: Vec<u8>, spans: Vec<Span> },
    /// CSV rows with their line numbers, under the input's header.
    Csv {
        header: Arc<[Option<FieldName>]>,
        rows: Vec<(ByteRecord, u64)>,
    },
    /// Records the reader itself had to quarantine (oversized, truncated).
    Quarantine(Vec<Quarantined>),
    /// The input is done.
    End(End),
}

/// How an input ended: bytes read, where a later run may resume (JSON lines only), and, if
/// reading stopped early, why, and whether it was interrupted (not a content problem).
pub(crate) struct End {
    pub bytes: u64,
    pub resume: Option<Resume>,
    pub error: Option<String>,
    pub interrupted: bool,
}

pub(crate) struct Unit {
    pub meta: Arc<SourceMeta>,
    pub payload: Payload,
}

/// The consumer went away; stop reading.
pub(crate) struct Disconnected;

enum Stop {
    Io(io::Error),
    Disconnected,
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Stop::Io(e)
    }
}

impl From<Disconnected> for Stop {
    fn from(_: Disconnected) -> Self {
        Stop::Disconnected
    }
}

/// An input opened before its turn.
type Opened = io::Result<Box<dyn Read + Send>>;

/// Reads every input in order and hands each unit to `send`; returns when done or when `send`
/// finds the consumer gone. The next few remote inputs are opened ahead, so their first bytes
/// are on the way while the current one is read.
pub(crate) fn read_all(
    sources: Vec<InputSource>,
    cfg: ReaderConfig,
    buffers: &UnitBuffers,
    mut send: impl FnMut(Unit) -> Result<(), Disconnected>,
) {
    let mut ahead: VecDeque<Option<Opened>> = VecDeque::with_capacity(OPEN_AHEAD);
    for (index, source) in sources.iter().enumerate() {
        let upto = (index + OPEN_AHEAD).min(sources.len());
        for next in &sources[index + ahead.len()..upto] {
            ahead.push_back(match next {
                InputSource::Remote { input, start } => Some(input.open(start.offset)),
                _ => None,
            });
        }
        let opened = ahead.pop_front().flatten();
        if read_source(index, source, opened, cfg, buffers, &mut send).is_err() {
            return;
        }
    }
}

fn read_source(
    index: usize,
    source: &InputSource,
    opened: Option<Opened>,
    cfg: ReaderConfig,
    buffers: &UnitBuffers,
    send_unit: &mut dyn FnMut(Unit) -> Result<(), Disconnected>,
) -> Result<(), Disconnected> {
    let name: Arc<str> = source.name().into();
    let ctx = RecordContext {
        nulls: cfg.format.nulls(),
        category_hint: source.category_hint(),
        window: cfg.window,
    };
    let mut send = |meta: &Arc<SourceMeta>, payload| {
        send_unit(Unit {
            meta: meta.clone(),
            payload,
        })
    };
    let start = source.start();
    let (mut stream, gzip) = match open(source, opened, start) {
        Ok(opened) => opened,
        Err(e) => {
            let meta = Arc::new(SourceMeta {
                index,
                name,
                format: cfg.format,
                ctx,
                max_record_bytes: cfg.max_record_bytes,
                columns: cfg.columns,
                attribution: cfg.attribution,
            });
            return send(
                &meta,
                Payload::End(End {
                    bytes: 0,
                    resume: None,
                    error: Some(format!("cannot open: {e}")),
                    interrupted: true,
                }),
            );
        }
    };
    let mut prefix = Vec::with_capacity(SNIFF_BYTES);
    let sniffed = (&mut stream)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut prefix);
    let format = match cfg.format {
        InputFormat::Auto => InputFormat::detect(&prefix),
        forced => forced,
    };
    let meta = Arc::new(SourceMeta {
        index,
        name,
        format,
        ctx: RecordContext {
            nulls: format.nulls(),
            ..ctx
        },
        max_record_bytes: cfg.max_record_bytes,
        columns: cfg.columns,
        attribution: cfg.attribution,
    });
    let mut bytes = prefix.len() as u64;
    let result = match sniffed {
        Err(e) => Err(Stop::Io(e)),
        Ok(_) => {
            let mut body = Counting {
                inner: Cursor::new(prefix).chain(&mut stream),
                count: 0,
            };
            let emit = |payload| send(&meta, payload);
            let framed = match format.framing() {
                // Offsets into a decompressed stream cannot be resumed with a seek.
                Framing::Lines => frame_lines(&mut body, &meta, cfg, buffers, start.line, emit)
                    .map(|r| {
                        (!gzip).then_some(Resume {
                            offset: start.offset + r.offset,
                            line: r.line,
                        })
                    }),
                Framing::Elements { depth } => {
                    frame_elements(&mut body, depth, &meta, cfg, buffers, emit).map(|()| None)
                }
                Framing::Csv => frame_csv(&mut body, cfg, emit).map(|()| None),
            };
            bytes = body.count;
            framed
        }
    };
    let (resume, error, interrupted) = match result {
        Ok(resume) => (resume, None, false),
        Err(Stop::Disconnected) => return Err(Disconnected),
        Err(Stop::Io(e)) => (
            None,
            Some(format!("read error: {e}")),
            !is_content_error(&e),
        ),
    };
    send(
        &meta,
        Payload::End(End {
            bytes,
            resume,
            error,
            interrupted,
        }),
    )
}

/// Opens an input (or takes the stream opened ahead); `true` when it is gzip (recognised by its
/// magic bytes, never when resuming mid-input).
fn open(
    source: &InputSource,
    opened: Option<Opened>,
    start: Resume,
) -> io::Result<(Box<dyn Read + Send>, bool)> {
    let raw: Box<dyn Read + Send> = match source {
        InputSource::File(path) => Box::new(File::open(path)?),
        InputSource::Resume { path, offset, .. } => {
            let mut file = File::open(path)?;
            file.seek(SeekFrom::Start(*offset))?;
            Box::new(file)
        }
        InputSource::Memory { bytes, .. } => Box::new(Cursor::new(bytes.clone())),
        InputSource::Remote { input, .. } => match opened {
            Some(stream) => stream?,
            None => input.open(start.offset)?,
        },
    };
    let mut reader = BufReader::with_capacity(256 * 1024, raw);
    if start.offset > 0 {
        return Ok((Box::new(reader), false));
    }
    let head = reader.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok((Box::new(MultiGzDecoder::new(reader)), true))
    } else {
        Ok((Box::new(reader), false))
    }
}

/// A reader that counts the bytes it hands out: those read through it (the CSV reader's) and
/// those [`fill`] reads from the reader inside it.
struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// Appends up to `want` bytes; `true` at the end of input. Read from the counter's inner
/// reader: the standard readers underneath write into the buffer's spare room as it is, where
/// any reader of our own (the counter) would have it zeroed first, a pass over every byte.
fn fill(stream: &mut Counting<impl Read>, buf: &mut Vec<u8>, want: usize) -> io::Result<bool> {
    let n = (&mut stream.inner).take(want as u64).read_to_end(buf)?;
    stream.count += n as u64;
    Ok(n == 0)
}

fn oversized(meta: &SourceMeta, line: u64, bytes: &[u8]) -> Quarantined {
    Quarantined::oversized(&meta.name, line, meta.max_record_bytes, bytes)
}

/// JSON lines: units end at a newline; a line longer than `max_record_bytes` is quarantined and
/// skipped without being held in memory.
fn frame_lines(
    stream: &mut Counting<impl Read>,
    meta: &SourceMeta,
    cfg: ReaderConfig,
    buffers: &UnitBuffers,
    first_line: u64,
    mut emit: impl FnMut(Payload) -> Result<(), Disconnected>,
) -> Result<Resume, Stop> {
    let chunk = cfg.chunk_bytes.max(1);
    let mut buf = buffers.take();
    let mut line = first_line;
    let mut skipping = false;
    // Bytes of whole lines handed on (or skipped as oversized): where a later run resumes.
    let mut consumed = 0u64;
    loop {
        let want = chunk.saturating_sub(buf.len()).max(MIN_READ);
        let eof = fill(stream, &mut buf, want)?;
        if skipping {
            match memchr::memchr(b'\n', &buf) {
                Some(p) => {
                    buf.drain(..=p);
                    consumed += p as u64 + 1;
                    line += 1;
                    skipping = false;
                }
                None => {
                    consumed += buf.len() as u64;
                    buf.clear();
                    if eof {
                        return Ok(Resume {
                            offset: consumed,
                            line,
                        });
                    }
                    continue;
                }
            }
        }
        if eof {
            let whole = memchr::memrchr(b'\n', &buf).map_or(0, |p| p + 1);
            let resume = Resume {
                offset: consumed + whole as u64,
                line: line + memchr::memchr_iter(b'\n', &buf).count() as u64,
            };
            if !buf.is_empty() {
                let unterminated = !buf.ends_with(b"\n");
                emit(Payload::Lines {
                    buf,
                    first_line: line,
                    unterminated,
                })?;
            }
            return Ok(resume);
        }
        match memchr::memrchr(b'\n', &buf) {
            Some(p) if buf.len() >= chunk => {
                let mut tail = buffers.take();
                tail.extend_from_slice(&buf[p + 1..]);
                buf.truncate(p + 1);
                let lines = memchr::memchr_iter(b'\n', &buf).count() as u64;
                consumed += buf.len() as u64;
                emit(Payload::Lines {
                    buf: std::mem::replace(&mut buf, tail),
                    first_line: line,
                    unterminated: false,
                })?;
                line += lines;
            }
            None if buf.len() > cfg.max_record_bytes => {
                emit(Payload::Quarantine(vec![oversized(meta, line, &buf)]))?;
                consumed += buf.len() as u64;
                buf.clear();
                skipping = true;
            }
            _ => {}
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Container,
    Str,
    Scalar,
}

#[derive(Debug, Clone, Copy)]
struct Open {
    start: usize,
    line: u64,
    kind: Kind,
    oversized: bool,
}

/// Finds the values `target` containers deep in a stream of JSON text without parsing them:
/// only strings, escapes and brackets are tracked. Offsets are into the caller's buffer.
struct ElementScanner {
    target: u32,
    depth: u32,
    in_str: bool,
    esc: bool,
    line: u64,
    open: Option<Open>,
    spans: Vec<Span>,
}

impl ElementScanner {
    fn scan(&mut self, buf: &[u8], from: usize) {
        for (i, &b) in buf.iter().enumerate().skip(from) {
            if b == b'\n' {
                self.line += 1;
            }
            if self.in_str {
                if self.esc {
                    self.esc = false;
                } else if b == b'\\' {
                    self.esc = true;
                } else if b == b'"' {
                    self.in_str = false;
                    self.close_if(Kind::Str, i + 1);
                }
                continue;
            }
            let at_target = self.depth == self.target;
            match b {
                b'"' => {
                    self.open_if(at_target, i, Kind::Str);
                    self.in_str = true;
                }
                b'{' | b'[' => {
                    self.open_if(at_target, i, Kind::Container);
                    self.depth += 1;
                }
                b'}' | b']' => {
                    self.close_if(Kind::Scalar, i);
                    self.depth = self.depth.saturating_sub(1);
                    self.close_if(Kind::Container, i + 1);
                }
                b',' | b' ' | b'\t' | b'\r' | b'\n' => self.close_if(Kind::Scalar, i),
                _ => self.open_if(at_target, i, Kind::Scalar),
            }
        }
    }

    fn open_if(&mut self, at_target: bool, start: usize, kind: Kind) {
        if at_target && self.open.is_none() {
            self.open = Some(Open {
                start,
                line: self.line,
                kind,
                oversized: false,
            });
        }
    }

    fn close_if(&mut self, kind: Kind, end: usize) {
        match self.open {
            Some(o) if o.kind == kind && self.depth == self.target => {
                if !o.oversized {
                    self.spans.push(Span {
                        start: o.start,
                        end,
                        line: o.line,
                    });
                }
                self.open = None;
            }
            _ => {}
        }
    }
}

/// JSON arrays of records (`az … -o json`: `target` 1; `{"records":[…]}`: `target` 2).
fn frame_elements(
    stream: &mut Counting<impl Read>,
    target: u32,
    meta: &SourceMeta,
    cfg: ReaderConfig,
    buffers: &UnitBuffers,
    mut emit: impl FnMut(Payload) -> Result<(), Disconnected>,
) -> Result<(), Stop> {
    let chunk = cfg.chunk_bytes.max(1);
    let mut scanner = ElementScanner {
        target,
        depth: 0,
        in_str: false,
        esc: false,
        line: 1,
        open: None,
        spans: Vec::new(),
    };
    let mut buf = buffers.take();
    loop {
        let scanned = buf.len();
        let eof = fill(stream, &mut buf, MIN_READ.max(chunk / 4))?;
        scanner.scan(&buf, scanned);
        let mut quarantine = Vec::new();
        if let Some(open) = scanner.open.as_mut() {
            if !open.oversized && buf.len() - open.start > cfg.max_record_bytes {
                open.oversized = true;
                quarantine.push(oversized(meta, open.line, &buf[open.start..]));
            } else if eof && !open.oversized {
                quarantine.push(Quarantined::new(
                    &meta.name,
                    open.line,
                    "truncated record at end of input (still being written?)",
                    &buf[open.start..],
                ));
            }
        }
        let spanned: usize = scanner.spans.last().map_or(0, |s| s.end);
        if !scanner.spans.is_empty() && (eof || !quarantine.is_empty() || spanned >= chunk) {
            let mut rest = buffers.take();
            rest.extend_from_slice(&buf[spanned..]);
            buf.truncate(spanned);
            let spans = std::mem::take(&mut scanner.spans);
            emit(Payload::Elements {
                buf: std::mem::replace(&mut buf, rest),
                spans,
            })?;
            if let Some(open) = scanner.open.as_mut() {
                open.start -= spanned;
            }
        }
        if !quarantine.is_empty() {
            emit(Payload::Quarantine(quarantine))?;
        }
        if eof {
            return Ok(());
        }
        // Bytes before the open record (or all, with none open) are no longer needed, unless
        // finished records still wait in them.
        if scanner.spans.is_empty() {
            let keep_from = match scanner.open {
                Some(o) if !o.oversized => o.start,
                _ => buf.len(),
            };
            buf.drain(..keep_from);
            if let Some(open) = scanner.open.as_mut() {
                open.start = open.start.saturating_sub(keep_from);
            }
        }
    }
}

/// The canonical field a CSV header cell names: `TimeGenerated [UTC]` is `TimeGenerated`.
fn csv_header_field(cell: &[u8]) -> Option<FieldName> {
    let text = String::from_utf8_lossy(cell);
    let text = text.trim().trim_start_matches('\u{feff}');
    let name = text.split_once(" [").map_or(text, |(name, _)| name).trim();
    match FieldName::from_key(name) {
        Some(KeyRole::Field(f)) => Some(f),
        _ => None,
    }
}

/// CSV under a header row; the csv reader handles quoted newlines, so units hold parsed rows.
fn frame_csv(
    stream: &mut impl Read,
    _cfg: ReaderConfig,
    mut emit: impl FnMut(Payload) -> Result<(), Disconnected>,
) -> Result<(), Stop> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(stream);
    let mut record = ByteRecord::new();
    // Malformed CSV is a content error, which reading the input again would not mend; an I/O
    // error underneath stays what it is.
    let csv_err = |e: csv::Error| {
        let message = e.to_string();
        Stop::Io(match e.into_kind() {
            csv::ErrorKind::Io(io) => io,
            _ => io::Error::new(io::ErrorKind::InvalidData, message),
        })
    };
    if !reader.read_byte_record(&mut record).map_err(csv_err)? {
        return Ok(());
    }
    let header: Arc<[Option<FieldName>]> = record.iter().map(csv_header_field).collect();
    let mut rows = Vec::with_capacity(CSV_ROWS_PER_UNIT);
    while reader.read_byte_record(&mut record).map_err(csv_err)? {
        let line = record.position().map_or(0, csv::Position::line);
        rows.push((record.clone(), line));
        if rows.len() == CSV_ROWS_PER_UNIT {
            emit(Payload::Csv {
                header: header.clone(),
                rows: std::mem::take(&mut rows),
            })?;
        }
    }
    if !rows.is_empty() {
        emit(Payload::Csv { header, rows })?;
    }
    Ok(())
}

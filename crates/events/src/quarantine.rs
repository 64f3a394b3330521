//! Quarantined records: what could not be decoded, kept with where it came from and why.

use std::io::{self, Write};

use serde::Serialize;

/// The longest raw text kept for one quarantined record; longer text is cut with a marker.
pub const MAX_RAW_BYTES: usize = 64 * 1024;

/// How much of an oversized record is kept.
pub const OVERSIZE_SAMPLE: usize = 4096;

/// One record that could not become a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Quarantined {
    /// The input it came from.
    pub source: String,
    /// Its 1-based line in that input (the line it starts on).
    pub line: u64,
    /// Why it was quarantined.
    pub reason: String,
    /// The record's text (lossy UTF-8), cut at [`MAX_RAW_BYTES`].
    pub raw: String,
}

impl Quarantined {
    /// A quarantined record from raw bytes.
    pub fn new(source: &str, line: u64, reason: impl Into<String>, raw: &[u8]) -> Self {
        let kept = &raw[..raw.len().min(MAX_RAW_BYTES)];
        let mut text = String::from_utf8_lossy(kept).into_owned();
        if kept.len() < raw.len() {
            text.push_str(&format!("…[{} more bytes]", raw.len() - kept.len()));
        }
        Quarantined {
            source: source.to_owned(),
            line,
            reason: reason.into(),
            raw: text,
        }
    }

    /// A record over the size limit: only its first [`OVERSIZE_SAMPLE`] bytes are kept.
    pub fn oversized(source: &str, line: u64, limit: usize, bytes: &[u8]) -> Self {
        Quarantined::new(
            source,
            line,
            format!("record longer than {limit} bytes (only its start is kept)"),
            &bytes[..bytes.len().min(OVERSIZE_SAMPLE)],
        )
    }

    /// Writes the record as one JSON line.
    pub fn write_json_line(&self, out: &mut impl Write) -> io::Result<()> {
        let text = sonic_rs::to_string(self).map_err(io::Error::other)?;
        out.write_all(text.as_bytes())?;
        out.write_all(b"\n")
    }
}

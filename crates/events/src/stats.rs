//! Per-input counts that reconcile: every record read is accounted for exactly once.

use std::sync::Arc;

use crate::format::InputFormat;
use crate::reader::Resume;

/// What happened to the records of one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceStats {
    /// The input.
    pub source: Arc<str>,
    /// Its shape (detected or forced).
    pub format: InputFormat,
    /// Bytes read (after decompression).
    pub bytes: u64,
    /// Records seen (non-blank lines, array elements, CSV rows).
    pub read: u64,
    /// Records that became rows.
    pub accepted: u64,
    /// Records dropped as duplicates of an earlier one.
    pub duplicates: u64,
    /// Records outside `--since`/`--until`.
    pub out_of_window: u64,
    /// Records quarantined.
    pub quarantined: u64,
    /// Why reading stopped early, if it did (the records before it are counted).
    pub error: Option<String>,
    /// Reading stopped because the input could not be reached or read (network, storage), not
    /// because of its content: it can be read again, so a store must not record it as read.
    pub interrupted: bool,
    /// Where a later run can pick the input up if it grows (JSON lines in plain files only).
    pub resume: Option<Resume>,
}

impl SourceStats {
    pub(crate) fn new(source: Arc<str>, format: InputFormat) -> Self {
        SourceStats {
            source,
            format,
            bytes: 0,
            read: 0,
            accepted: 0,
            duplicates: 0,
            out_of_window: 0,
            quarantined: 0,
            error: None,
            interrupted: false,
            resume: None,
        }
    }

    /// Whether every record read is accounted for.
    pub fn reconciles(&self) -> bool {
        self.read == self.accepted + self.duplicates + self.out_of_window + self.quarantined
    }

    /// The sum of several inputs' counts, under a name (for totals).
    pub fn total<'a>(name: &str, all: impl IntoIterator<Item = &'a SourceStats>) -> SourceStats {
        let mut total = SourceStats::new(name.into(), InputFormat::Auto);
        for s in all {
            total.add(s);
        }
        total
    }

    fn add(&mut self, other: &SourceStats) {
        self.bytes += other.bytes;
        self.read += other.read;
        self.accepted += other.accepted;
        self.duplicates += other.duplicates;
        self.out_of_window += other.out_of_window;
        self.quarantined += other.quarantined;
    }
}

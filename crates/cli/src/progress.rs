//! A one-line progress display on stderr for long runs; silent when stderr is not a terminal
//! (CI logs, pipes) or with `--quiet`.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Redraws at most this often.
const EVERY: Duration = Duration::from_millis(250);

/// Counts inputs and rows and redraws a status line.
pub struct Progress {
    enabled: bool,
    total_inputs: usize,
    inputs: usize,
    bytes: u64,
    rows: u64,
    started: Instant,
    last: Instant,
}

impl Progress {
    /// A display for `total_inputs` inputs, shown only on a terminal and unless `quiet`.
    pub fn new(total_inputs: usize, quiet: bool) -> Self {
        let now = Instant::now();
        Progress {
            enabled: !quiet && std::io::stderr().is_terminal(),
            total_inputs,
            inputs: 0,
            bytes: 0,
            rows: 0,
            started: now,
            last: now,
        }
    }

    /// Counts rows.
    pub fn rows(&mut self, rows: usize) {
        self.rows += rows as u64;
        self.redraw(false);
    }

    /// Counts a finished input (file or blob) and its bytes.
    pub fn input_done(&mut self, bytes: u64) {
        self.inputs += 1;
        self.bytes += bytes;
        self.redraw(false);
    }

    fn redraw(&mut self, force: bool) {
        if !self.enabled || (!force && self.last.elapsed() < EVERY) {
            return;
        }
        self.last = Instant::now();
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{}/{} inputs, {:.1} MB, {} rows, {:.0} rows/s   ",
            self.inputs,
            self.total_inputs,
            self.bytes as f64 / 1e6,
            self.rows,
            self.rows as f64 / secs
        );
        let _ = err.flush();
    }

    /// Clears the line.
    pub fn finish(&mut self) {
        if self.enabled {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{}\r", " ".repeat(72));
            let _ = err.flush();
        }
    }
}

//! The decoding options `ingest` and `query --logs` share.

use acrlens_events::{DecodeOptions, InputFormat, TimeWindow};
use clap::Args;

use crate::timearg::parse_time_arg;

#[derive(Args, Debug, Clone)]
pub struct DecodeArgs {
    /// The input shape; `auto` detects it per file.
    #[arg(long, default_value = "auto", value_parser = parse_format)]
    input_format: InputFormat,
    /// Keep records at or after this time (RFC 3339 or date) or this long ago (`7d`, `36h`).
    #[arg(long, value_parser = parse_time_arg)]
    since: Option<i64>,
    /// Keep records before this time.
    #[arg(long, value_parser = parse_time_arg)]
    until: Option<i64>,
    /// Keep duplicate records (by default a repeat of correlation id, time, operation and caller
    /// is dropped and counted).
    #[arg(long)]
    keep_duplicates: bool,
    /// Decoding threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

fn parse_format(s: &str) -> Result<InputFormat, String> {
    s.parse()
}

impl DecodeArgs {
    /// The time window.
    pub fn window(&self) -> TimeWindow {
        TimeWindow {
            since: self.since,
            until: self.until,
        }
    }

    /// The decoder's options.
    pub fn options(&self) -> DecodeOptions {
        DecodeOptions {
            format: self.input_format,
            window: self.window(),
            dedup: !self.keep_duplicates,
            parallelism: self.threads.unwrap_or(0),
            ..DecodeOptions::default()
        }
    }
}

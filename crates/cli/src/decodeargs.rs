//! The decoding options `ingest` and `query --logs` share.

use acrlens_events::{DecodeOptions, InputFormat, TimeWindow, format_timestamp_micros};
use anyhow::{Result, bail};
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
    /// Decoding threads, 1 to 1024 (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
}

fn parse_format(s: &str) -> Result<InputFormat, String> {
    s.parse()
}

impl DecodeArgs {
    /// The time window; an error when it ends before it starts (it would hold nothing, which
    /// is never what was meant).
    pub fn window(&self) -> Result<TimeWindow> {
        if let (Some(since), Some(until)) = (self.since, self.until)
            && until <= since
        {
            bail!(
                "--until {} is not after --since {}: the window holds nothing",
                format_timestamp_micros(until),
                format_timestamp_micros(since)
            );
        }
        Ok(TimeWindow {
            since: self.since,
            until: self.until,
        })
    }

    /// The decoder's options.
    pub fn options(&self) -> Result<DecodeOptions> {
        Ok(DecodeOptions {
            format: self.input_format,
            window: self.window()?,
            dedup: !self.keep_duplicates,
            parallelism: self.threads.map_or(0, usize::from),
            ..DecodeOptions::default()
        })
    }
}

//! Finding the inputs named on the command line: local files, folders and globs, and blobs in
//! storage accounts, with the options of the blob client.

use std::time::Duration;

use acrlens_blob::{BlobOptions, Discovery, Listing, discover_inputs};
use acrlens_events::TimeWindow;
use anyhow::Result;
use clap::Args;
use serde::Serialize;

#[derive(Args, Debug, Clone)]
pub struct BlobArgs {
    /// Retries of one blob request on throttling, server errors and timeouts, with exponential
    /// backoff.
    #[arg(long, default_value_t = BlobOptions::default().max_retries, value_name = "N")]
    blob_retries: usize,
    /// No blob request is retried later than this many seconds after its first attempt.
    #[arg(long, default_value_t = BlobOptions::default().retry_timeout.as_secs(), value_name = "SECS")]
    blob_retry_timeout: u64,
}

impl BlobArgs {
    fn options(&self) -> BlobOptions {
        BlobOptions {
            max_retries: self.blob_retries,
            retry_timeout: Duration::from_secs(self.blob_retry_timeout),
            ..BlobOptions::default()
        }
    }
}

/// Lists and expands `inputs`.
pub fn discover(inputs: &[String], window: TimeWindow, blob: &BlobArgs) -> Result<Discovery> {
    Ok(discover_inputs(inputs, window, blob.options())?)
}

/// How a blob input was listed and read, for the summary.
#[derive(Debug, Serialize)]
pub struct ListingView {
    pub input: String,
    pub place: String,
    pub blobs: usize,
    pub bytes: u64,
    pub list_calls: u64,
    pub read_calls: u64,
}

impl From<&Listing> for ListingView {
    fn from(l: &Listing) -> Self {
        ListingView {
            input: l.input.clone(),
            place: l.place.clone(),
            blobs: l.blobs,
            bytes: l.bytes,
            list_calls: l.requests.lists(),
            read_calls: l.requests.reads(),
        }
    }
}

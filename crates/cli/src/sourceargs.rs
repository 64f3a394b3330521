//! Where `query` and `report` read events from: raw exports or a Parquet store.

use std::path::PathBuf;

use acrlens_engine::EventSource;
use anyhow::Result;
use clap::Args;

use crate::decodeargs::DecodeArgs;
use crate::inputs::{BlobArgs, discover};

#[derive(Args, Debug, Clone)]
pub struct SourceArgs {
    /// Raw exports: a file, folder, glob, `.gz`, or blobs (`az://<container>/<prefix>`,
    /// `https://<account>.blob.core.windows.net/<container>/<prefix>`); repeat for more.
    #[arg(long, required_unless_present = "store", conflicts_with = "store")]
    logs: Vec<String>,
    /// A Parquet store written by `acrlens ingest --store`.
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    #[command(flatten)]
    pub decode: DecodeArgs,
    #[command(flatten)]
    pub blob: BlobArgs,
}

impl SourceArgs {
    /// The event source these options name.
    pub fn source(&self) -> Result<EventSource> {
        Ok(match &self.store {
            Some(dir) => EventSource::Store(dir.clone()),
            None => EventSource::Logs {
                sources: discover(&self.logs, self.decode.window()?, &self.blob)?.sources,
                options: self.decode.options()?,
            },
        })
    }
}

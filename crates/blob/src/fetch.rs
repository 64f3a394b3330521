//! Reading one blob: ranged GETs of a few MiB, two at a time, handed to the decoder's reader
//! thread through a channel of one, so a blob in flight holds at most four chunks in memory
//! whatever its size. Reading stops at the size that was listed: an append blob growing
//! meanwhile is read further by the next run, from the last whole line.

use std::io::{self, Read};
use std::ops::Range;
use std::sync::Arc;

use acrlens_events::{InputVersion, RemoteInput};
use bytes::Bytes;
use futures::StreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::sync::mpsc;

use crate::client::{read_error, short_read, spawn};

/// Bytes per ranged read.
pub const CHUNK_BYTES: u64 = 4 << 20;
/// Ranged reads of one blob in flight at once.
const READS_IN_FLIGHT: usize = 2;

/// A blob listed in a container, to be read from an offset up to its listed size.
#[derive(Debug)]
pub struct BlobInput {
    name: String,
    store: Arc<dyn ObjectStore>,
    path: Path,
    version: InputVersion,
}

impl BlobInput {
    pub(crate) fn new(
        name: String,
        store: Arc<dyn ObjectStore>,
        path: Path,
        version: InputVersion,
    ) -> Self {
        BlobInput {
            name,
            store,
            path,
            version,
        }
    }
}

impl RemoteInput for BlobInput {
    fn name(&self) -> &str {
        &self.name
    }

    fn version(&self) -> &InputVersion {
        &self.version
    }

    fn open(&self, offset: u64) -> io::Result<Box<dyn Read + Send>> {
        let (tx, rx) = mpsc::channel(1);
        let ranges = chunks(offset..self.version.size);
        let (store, path, name) = (self.store.clone(), self.path.clone(), self.name.clone());
        spawn(async move {
            let mut reads = futures::stream::iter(ranges)
                .map(|range| {
                    let (store, path, name) = (store.clone(), path.clone(), name.clone());
                    async move { read_range(&*store, &path, &name, range).await }
                })
                .buffered(READS_IN_FLIGHT);
            while let Some(chunk) = reads.next().await {
                let failed = chunk.is_err();
                // A closed channel means the reader needs no more (the query had enough).
                if tx.send(chunk).await.is_err() || failed {
                    return;
                }
            }
        })
        .map_err(|e| read_error(&self.name, e))?;
        Ok(Box::new(BlobStream {
            chunks: rx,
            current: Bytes::new(),
            remaining: self.version.size.saturating_sub(offset),
            name: self.name.clone(),
        }))
    }
}

/// `range` cut into reads of [`CHUNK_BYTES`].
fn chunks(range: Range<u64>) -> Vec<Range<u64>> {
    let mut out = Vec::new();
    let mut at = range.start;
    while at < range.end {
        let end = range.end.min(at.saturating_add(CHUNK_BYTES));
        out.push(at..end);
        at = end;
    }
    out
}

async fn read_range(
    store: &dyn ObjectStore,
    path: &Path,
    name: &str,
    range: Range<u64>,
) -> io::Result<Bytes> {
    let want = (range.end - range.start) as usize;
    let bytes = store
        .get_range(path, range)
        .await
        .map_err(|e| read_error(name, e))?;
    if bytes.len() != want {
        return Err(short_read(name, want, bytes.len()));
    }
    Ok(bytes)
}

/// The decoder's side of a blob being read.
struct BlobStream {
    chunks: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
    /// Bytes still to come: a channel closed before them is an error, never an early end.
    remaining: u64,
    name: String,
}

impl Read for BlobStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            if self.remaining == 0 {
                return Ok(0);
            }
            match self.chunks.blocking_recv() {
                Some(chunk) => self.current = chunk?,
                None => return Err(read_error(&self.name, "the read stopped early")),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        self.remaining = self.remaining.saturating_sub(n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_the_span_in_order_without_overlap() {
        assert!(chunks(5..5).is_empty());
        let parts = chunks(3..3 + 2 * CHUNK_BYTES + 1);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].start, 3);
        assert_eq!(parts[2].end, 3 + 2 * CHUNK_BYTES + 1);
        assert!(parts.windows(2).all(|w| w[0].end == w[1].start));
    }
}

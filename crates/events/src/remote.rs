//! Inputs that live somewhere other than the local file system (blobs in a storage account).
//! The decoder reads them through [`RemoteInput`], so it needs no network code of its own: the
//! crate that lists them also knows how to fetch them.

use std::fmt;
use std::io::{self, Read};

/// What identifies one version of an input, so a later run can tell an input that is unchanged
/// from one that grew (read only its new tail) or was replaced (reported, not re-read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputVersion {
    /// Size in bytes.
    pub size: u64,
    /// Last modification time, in nanoseconds since the epoch.
    pub modified_ns: u128,
    /// The entity tag, where the storage gives one (blobs); files have none.
    pub etag: Option<String>,
}

/// An input fetched from elsewhere, listed with its version.
pub trait RemoteInput: Send + Sync + fmt::Debug {
    /// The name recorded as each record's `source` and as the input's key in a store: a URL.
    fn name(&self) -> &str;
    /// The version that was listed; reading never goes past its size, so what a run records
    /// is exactly what it read.
    fn version(&self) -> &InputVersion;
    /// Starts reading at `offset`. It may fetch ahead in the background; errors while reading
    /// come from the returned reader. An error that is not about the content (see
    /// [`is_content_error`]) marks the input as interrupted: it can be read again later.
    fn open(&self, offset: u64) -> io::Result<Box<dyn Read + Send>>;
}

/// Whether a read error is about the bytes themselves (a corrupt gzip stream, a truncated one,
/// malformed CSV), which reading again would not change, rather than about reaching them.
pub fn is_content_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::UnexpectedEof
    )
}

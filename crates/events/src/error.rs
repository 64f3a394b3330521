//! Errors that stop a run before it starts. Problems inside an input never do: they become
//! quarantined records or a source's `error`.

use std::io;

/// Why inputs could not be found or opened.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A named input is neither a path nor a glob that matches anything.
    #[error("no input matches {0:?}")]
    NoSuchInput(String),
    /// A glob pattern that does not parse.
    #[error("bad glob pattern {0:?}: {1}")]
    BadGlob(String, String),
    /// A path that could not be read.
    #[error("cannot read {0}: {1}")]
    Io(String, #[source] io::Error),
}

/// Why the batch transform (attribution, on the decoding threads) failed: the run cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum TransformError {
    /// The transform returned an error.
    #[error("{0}")]
    Failed(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The transform panicked (a bug): the run stops with its message, the process does not.
    #[error("the batch transform panicked: {0}")]
    Panicked(String),
}

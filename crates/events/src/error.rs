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

//! Topology errors name the file and the place in it, so a bad input is fixed in one look.

use std::io;

/// Why topology could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    /// A file could not be read.
    #[error("cannot read {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A file was read but something in it is wrong.
    #[error("{file}: {path}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// Where in it: a JSON path (`values[3].properties.addressPrefixes[7]`), a line, or a key.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl TopologyError {
    pub(crate) fn invalid(file: &str, path: impl Into<String>, message: impl Into<String>) -> Self {
        TopologyError::Invalid {
            file: file.to_owned(),
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Reads a whole topology file (they are small), naming it in the error.
pub(crate) fn read_file(path: &std::path::Path) -> Result<Vec<u8>, TopologyError> {
    std::fs::read(path).map_err(|source| TopologyError::Read {
        file: path.display().to_string(),
        source,
    })
}

/// Reads a whole topology text file, naming it in the error.
pub(crate) fn read_text(path: &std::path::Path) -> Result<String, TopologyError> {
    String::from_utf8(read_file(path)?)
        .map_err(|_| TopologyError::invalid(&path.display().to_string(), "$", "not UTF-8 text"))
}

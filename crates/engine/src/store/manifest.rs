//! The store's manifest: which input was ingested how far, so a re-run reads only what is new.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use super::fsutil::{read_json, write_atomically};
use crate::store::StoreError;

/// What the store knows of one input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputRecord {
    /// Size when last read.
    pub size: u64,
    /// Modification time when last read (ns since the epoch).
    pub mtime_ns: u128,
    /// Byte offset after the last whole line read, when the input can be resumed.
    pub resume_offset: Option<u64>,
    /// The line that starts at `resume_offset`.
    pub resume_line: Option<u64>,
    /// Records written from it so far.
    pub written: u64,
    /// Records quarantined from it so far.
    pub quarantined: u64,
}

/// All inputs ingested, by path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version of this file.
    pub version: u32,
    /// Inputs by path.
    pub inputs: BTreeMap<String, InputRecord>,
}

/// Size and modification time of a file.
pub fn file_state(path: &Path) -> std::io::Result<(u64, u128)> {
    let meta = std::fs::metadata(path)?;
    let mtime = meta
        .modified()?
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    Ok((meta.len(), mtime))
}

impl Manifest {
    /// Reads the manifest (an empty one when the store is new).
    pub fn load(path: &Path) -> Result<Manifest, StoreError> {
        if !path.exists() {
            return Ok(Manifest {
                version: 1,
                inputs: BTreeMap::new(),
            });
        }
        read_json(path)
    }

    /// Writes the manifest atomically.
    pub fn save(&self, path: &Path) -> Result<(), StoreError> {
        write_atomically(
            path,
            &sonic_rs::to_vec(self)
                .map_err(|e| StoreError::Corrupt(path.display().to_string(), e.to_string()))?,
        )
    }
}

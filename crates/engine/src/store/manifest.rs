//! The store's manifest: which input was ingested how far, so a re-run reads only what is new.

use std::collections::BTreeMap;
use std::path::Path;

use acrlens_events::{InputVersion, Resume};
use serde::{Deserialize, Serialize};

use super::fsutil::{read_json, write_atomically};
use crate::rollup::ROLLUP_VERSION;
use crate::store::StoreError;

/// What the store knows of one input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputRecord {
    /// Size when last read.
    pub size: u64,
    /// Modification time when last read (ns since the epoch).
    pub mtime_ns: u128,
    /// The blob's ETag when last read (files have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
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
    /// The version of the rollups kept beside the events, when every day has them
    /// ([`ROLLUP_VERSION`]); 0 in a store written before rollups existed.
    #[serde(default)]
    pub rollups: u32,
}

impl InputRecord {
    /// The version of the input that was read.
    pub fn version(&self) -> InputVersion {
        InputVersion {
            size: self.size,
            modified_ns: self.mtime_ns,
            etag: self.etag.clone(),
        }
    }

    /// Where a later run picks the input up, if it can.
    pub fn resume(&self) -> Option<Resume> {
        Some(Resume {
            offset: self.resume_offset?,
            line: self.resume_line?,
        })
    }

    /// Whether `now` is the input read before with more appended: a file at least as large
    /// (touched or grown), a blob strictly larger (the same size under a new ETag is a blob
    /// replaced, not grown).
    pub fn grew_into(&self, now: &InputVersion) -> bool {
        match now.etag {
            Some(_) => now.size > self.size,
            None => now.size >= self.size,
        }
    }
}

impl Manifest {
    /// Reads the manifest (an empty one when the store is new).
    pub fn load(path: &Path) -> Result<Manifest, StoreError> {
        if !path.exists() {
            return Ok(Manifest {
                version: 1,
                inputs: BTreeMap::new(),
                rollups: ROLLUP_VERSION,
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

//! File operations the store's crash safety rests on.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use serde::de::DeserializeOwned;

use crate::store::StoreError;

/// Writes a file so that a reader sees the old content or the new, never a part: write a
/// temporary sibling, sync it, rename it over.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let tmp = path.with_extension("tmp");
    let io = |e| StoreError::Io(path.display().to_string(), e);
    let mut file = File::create(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    fs::rename(&tmp, path).map_err(io)
}

/// Reads a JSON file of the store.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, StoreError> {
    let bytes = fs::read(path).map_err(|e| StoreError::Io(path.display().to_string(), e))?;
    sonic_rs::from_slice(&bytes)
        .map_err(|e| StoreError::Corrupt(path.display().to_string(), e.to_string()))
}

/// Removes every `*.tmp` file below `dir`: what an interrupted, uncommitted run left.
pub fn remove_temporaries(dir: &Path) -> Result<usize, StoreError> {
    let mut removed = 0;
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(0);
    };
    for entry in entries {
        let path = entry
            .map_err(|e| StoreError::Io(dir.display().to_string(), e))?
            .path();
        if path.is_dir() {
            removed += remove_temporaries(&path)?;
        } else if path.extension().is_some_and(|e| e == "tmp") {
            fs::remove_file(&path).map_err(|e| StoreError::Io(path.display().to_string(), e))?;
            removed += 1;
        }
    }
    Ok(removed)
}

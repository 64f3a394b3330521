//! Where a verb's document goes: the file named by `--out`, else standard output.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// Writes `text` to `out`, or to standard output without one.
pub fn write_document(out: Option<&Path>, text: &str) -> Result<()> {
    match out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
        }
        None => Ok(std::io::stdout().lock().write_all(text.as_bytes())?),
    }
}

//! The committed `sample-logs/` are exactly what the generator writes, so a change to the
//! scenarios shows up as a reviewed change to the samples.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

fn files_under(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(
                    path.strip_prefix(root).unwrap().to_path_buf(),
                    fs::read(&path).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn committed_samples_match_the_generator() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-logs");
    let fresh = tempfile::tempdir().unwrap();
    acrlens_bench::samples::write_samples(fresh.path()).unwrap();
    for part in ["exports", "shapes", "topology", "history"] {
        let want = files_under(&fresh.path().join(part));
        let have = files_under(&committed.join(part));
        assert_eq!(
            want.keys().collect::<Vec<_>>(),
            have.keys().collect::<Vec<_>>(),
            "sample-logs/{part}: run `cargo run -p acrlens-bench -- samples`"
        );
        for (path, bytes) in &want {
            assert!(
                have[path] == *bytes,
                "sample-logs/{part}/{} is stale: run `cargo run -p acrlens-bench -- samples`",
                path.display()
            );
        }
    }
}

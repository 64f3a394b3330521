//! Running the built `acrlens` binary from the repository root, as a user would.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs `acrlens` with `args` in the repository root.
pub fn acrlens(args: &[&str]) -> Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    Command::new(env!("CARGO_BIN_EXE_acrlens"))
        .args(args)
        .current_dir(root)
        .output()
        .expect("run acrlens")
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts the exit code, showing stderr when it differs.
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `acrlens report` over the bundled samples and their topology, before a policy is named.
pub const SAMPLE_REPORT: [&str; 5] = [
    "report",
    "--logs",
    "sample-logs/exports",
    "--config",
    "sample-logs/topology/acrlens.toml",
];

/// `acrlens report` of the samples against their (violated) policy, in `format`, with `extra`
/// arguments.
pub fn sample_report(format: &str, extra: &[&str]) -> Output {
    let mut args = SAMPLE_REPORT.to_vec();
    args.extend(["--policy", "sample-logs/policy.toml", "--format", format]);
    args.extend(extra);
    acrlens(&args)
}

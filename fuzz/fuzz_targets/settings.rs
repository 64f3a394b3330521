//! Any text as `whatif --set` settings, one a line: a proposal or an error, never a panic.
#![no_main]

use acrlens_netmap::Proposal;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let settings: Vec<String> = text.lines().map(str::to_owned).collect();
    let _ = Proposal::parse(&settings, &[]);
});

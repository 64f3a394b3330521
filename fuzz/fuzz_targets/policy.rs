//! Any text as a report policy (`policy.toml`): a policy or an error that names the file.
#![no_main]

use acrlens_policy::Policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Err(e) = Policy::parse(text, "fuzz-policy.toml") {
        assert!(e.to_string().contains("fuzz-policy.toml"), "{e}");
    }
});

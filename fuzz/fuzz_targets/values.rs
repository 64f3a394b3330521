//! Any text as a time, a caller address and a prefix: a parse gives a value or nothing, and a
//! time it gives formats back into a time it reads again.
#![no_main]

use acrlens_netmap::parse_prefix;
use acrlens_values::{format_timestamp_micros, parse_caller_ip, parse_timestamp_micros};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Some(t) = parse_timestamp_micros(text) {
        assert_eq!(parse_timestamp_micros(&format_timestamp_micros(t)), Some(t));
    }
    if let Some(ip) = parse_caller_ip(text) {
        assert_eq!(parse_caller_ip(&ip.to_string()), Some(ip));
    }
    let _ = parse_prefix(text);
});

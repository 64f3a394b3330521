//! Any text as a time, a time argument (`--since 7d`), a caller address and a prefix: a parse
//! gives a value or nothing, a time it gives formats back into a time it reads again, and a
//! duration counts back from now, never past it.
#![no_main]

use acrlens_netmap::parse_prefix;
use acrlens_values::{
    format_timestamp_micros, parse_caller_ip, parse_time_or_ago, parse_timestamp_micros,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Some(t) = parse_timestamp_micros(text) {
        assert_eq!(parse_timestamp_micros(&format_timestamp_micros(t)), Some(t));
    }
    const NOW: i64 = 1_764_662_400_000_000; // 2025-12-02T08:00:00Z
    if let Some(t) = parse_time_or_ago(text, NOW) {
        assert!(
            t <= NOW || parse_timestamp_micros(text) == Some(t),
            "{text:?}"
        );
    }
    if let Some(ip) = parse_caller_ip(text) {
        assert_eq!(parse_caller_ip(&ip.to_string()), Some(ip));
    }
    let _ = parse_prefix(text);
});

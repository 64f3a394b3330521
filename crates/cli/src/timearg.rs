//! Time arguments: an RFC 3339 time or date (`2025-11-03`, `2025-11-03T10:00:00Z`), or a
//! duration back from now (`90m`, `36h`, `7d`).

use std::time::{SystemTime, UNIX_EPOCH};

use acrlens_values::parse_time_or_ago;

/// Parses a time argument into µs since the epoch.
pub fn parse_time_arg(text: &str) -> Result<i64, String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    parse_time_or_ago(text, now).ok_or_else(|| {
        format!(
            "{text:?} is neither a time (2025-11-03, 2025-11-03T10:00:00Z) nor a duration (90m, 36h, 7d, 2w)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations() {
        assert_eq!(parse_time_arg("2025-11-03"), Ok(1_762_128_000_000_000));
        let day_ago = parse_time_arg("1d").unwrap();
        let hours_ago = parse_time_arg("24h").unwrap();
        assert!((day_ago - hours_ago).abs() < 5_000_000);
        assert!(parse_time_arg("soon").is_err());
        assert!(parse_time_arg("-1d").is_err());
        // Cut inside a character, or too far back to count: errors, not a panic or a wrap.
        assert!(parse_time_arg("1é").is_err());
        assert!(parse_time_arg("é").is_err());
        assert!(parse_time_arg("200000000000d").is_err());
        assert!(parse_time_arg("").is_err());
    }
}

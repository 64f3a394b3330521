//! Time arguments: an RFC 3339 time or date (`2025-11-03`, `2025-11-03T10:00:00Z`), or a
//! duration back from now (`90m`, `36h`, `7d`).

use std::time::{SystemTime, UNIX_EPOCH};

use acrlens_events::parse_timestamp_micros;

/// Parses a time argument into µs since the epoch.
pub fn parse_time_arg(text: &str) -> Result<i64, String> {
    if let Some(t) = parse_timestamp_micros(text) {
        return Ok(t);
    }
    let (amount, unit) = match text.char_indices().last() {
        Some((at, 'm')) => (&text[..at], 60),
        Some((at, 'h')) => (&text[..at], 3_600),
        Some((at, 'd')) => (&text[..at], 86_400),
        Some((at, 'w')) => (&text[..at], 7 * 86_400),
        _ => ("", 0),
    };
    // Checked: an amount too large to count back from now is an error, never a wrapped time.
    let back = amount
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .and_then(|n| n.checked_mul(unit)?.checked_mul(1_000_000));
    match back {
        Some(back) if unit > 0 => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_micros() as i64);
            Ok(now - back)
        }
        _ => Err(format!(
            "{text:?} is neither a time (2025-11-03, 2025-11-03T10:00:00Z) nor a duration (90m, 36h, 7d, 2w)"
        )),
    }
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

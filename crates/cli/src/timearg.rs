//! Time arguments: an RFC 3339 time or date (`2025-11-03`, `2025-11-03T10:00:00Z`), or a
//! duration back from now (`90m`, `36h`, `7d`).

use std::time::{SystemTime, UNIX_EPOCH};

use acrlens_events::parse_timestamp_micros;

/// Parses a time argument into µs since the epoch.
pub fn parse_time_arg(text: &str) -> Result<i64, String> {
    if let Some(t) = parse_timestamp_micros(text) {
        return Ok(t);
    }
    let unit = match text.chars().last() {
        Some('m') => 60,
        Some('h') => 3_600,
        Some('d') => 86_400,
        Some('w') => 7 * 86_400,
        _ => 0,
    };
    let amount = text[..text.len().saturating_sub(1)]
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0);
    match amount {
        Some(n) if unit > 0 => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_micros() as i64);
            Ok(now - n * unit * 1_000_000)
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
    }
}

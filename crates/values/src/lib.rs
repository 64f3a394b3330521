//! acrlens-values: parsing the value spellings that logs and topology files share.
//!
//! Both the event decoders and the topology loaders read timestamps (`2025-11-03T10:15:02.1234567Z`,
//! `11/3/2025, 10:15:02.123 AM`) and caller addresses (`203.0.113.7:51234`, `[2001:db8::1]:443`);
//! this crate is the one place that knows how. It has no dependencies.
//!
//! ```
//! use acrlens_values::{format_timestamp_micros, parse_caller_ip, parse_timestamp_micros};
//!
//! let t = parse_timestamp_micros("2025-11-03T10:15:02.1234567Z").unwrap();
//! assert_eq!(format_timestamp_micros(t), "2025-11-03T10:15:02.123456Z");
//! assert_eq!(parse_caller_ip("[2001:DB8::1]:443").unwrap().to_string(), "2001:db8::1");
//! ```

mod ip;
mod time;

pub use ip::{parse_caller_ip, write_ip};
pub use time::{
    MICROS_PER_DAY, date_micros, format_day, format_timestamp_micros, parse_time_or_ago,
    parse_timestamp_micros,
};

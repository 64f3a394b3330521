//! Dropping the duplicate records that Log Analytics export retries write.
//!
//! A record is a duplicate of another with the same correlation id, time, operation and caller.
//! Keys are 128-bit hashes kept in per-hour sets; an hour is forgotten once the newest record seen
//! is more than [`DEDUP_WINDOW_HOURS`] past it, so memory follows the rate of events, not the size
//! of the input. Retried copies land minutes apart, well inside the window. Inputs that go back in
//! time (another registry's folders after this one's) add sets older than the newest hour; once
//! twice the window's hours are held, the hours farther than the window from the record's own are
//! forgotten, so such inputs are bounded too.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::{HashMap, HashSet};

/// How far behind the newest record a duplicate is still recognised.
pub const DEDUP_WINDOW_HOURS: i64 = 48;

const MICROS_PER_HOUR: i64 = 3_600_000_000;

/// The most hour sets held: twice the window's, for inputs that go back in time.
const MAX_HOURS: i64 = 2 * (DEDUP_WINDOW_HOURS + 1);

/// The de-duplication key of a record; `None` (never a duplicate) without a correlation id.
pub fn dedup_key(
    correlation_id: Option<&str>,
    time: i64,
    operation: Option<&str>,
    caller_ip_raw: Option<&str>,
) -> Option<u128> {
    let correlation_id = correlation_id?;
    let key = (correlation_id, time, operation, caller_ip_raw);
    let half = |seed: u64| FixedState::with_seed(seed).hash_one(key);
    Some(u128::from(half(0x5ac1_e5ee_d0ff_1ce5)) << 64 | u128::from(half(0x0dd_ba11_cafe_f00d)))
}

/// The set of keys seen, bounded to a sliding window of event time.
#[derive(Debug, Default)]
pub struct Dedup {
    hours: HashMap<i64, HashSet<u128>>,
    newest_hour: i64,
}

impl Dedup {
    /// Records a key seen at `time` (µs); `false` when it was seen before (a duplicate).
    pub fn insert(&mut self, time: i64, key: u128) -> bool {
        let hour = time.div_euclid(MICROS_PER_HOUR);
        if hour > self.newest_hour {
            self.newest_hour = hour;
            let horizon = hour - DEDUP_WINDOW_HOURS;
            if self.hours.len() as i64 > DEDUP_WINDOW_HOURS + 1 {
                self.hours.retain(|&h, _| h >= horizon);
            }
        }
        if self.hours.len() as i64 >= MAX_HOURS && !self.hours.contains_key(&hour) {
            self.hours
                .retain(|&h, _| h.abs_diff(hour) <= DEDUP_WINDOW_HOURS.unsigned_abs());
        }
        self.hours.entry(hour).or_default().insert(key)
    }

    /// How many keys are held.
    pub fn len(&self) -> usize {
        self.hours.values().map(HashSet::len).sum()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.hours.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_request_twice_is_a_duplicate_and_other_fields_matter() {
        let k = |c, t, o, ip| dedup_key(Some(c), t, Some(o), Some(ip)).unwrap();
        let mut d = Dedup::default();
        assert!(d.insert(0, k("c1", 0, "Pull", "1.2.3.4")));
        assert!(!d.insert(0, k("c1", 0, "Pull", "1.2.3.4")));
        assert!(d.insert(0, k("c1", 1, "Pull", "1.2.3.4")));
        assert!(d.insert(0, k("c1", 0, "Push", "1.2.3.4")));
        assert!(d.insert(0, k("c1", 0, "Pull", "1.2.3.5")));
        assert!(d.insert(0, k("c2", 0, "Pull", "1.2.3.4")));
        assert_eq!(dedup_key(None, 0, Some("Pull"), None), None);
    }

    #[test]
    fn old_hours_are_forgotten() {
        let mut d = Dedup::default();
        for hour in 0..200 {
            d.insert(hour * MICROS_PER_HOUR, hour as u128);
        }
        assert!(d.len() <= (DEDUP_WINDOW_HOURS + 2) as usize, "{}", d.len());
        assert!(!d.insert(199 * MICROS_PER_HOUR, 199));
    }

    #[test]
    fn inputs_going_back_in_time_stay_bounded_and_keep_their_window() {
        let mut d = Dedup::default();
        // Thirty days of one registry, then thirty days of another, then a third.
        for pass in 0..3u128 {
            for hour in 0..720i64 {
                let key = pass << 32 | hour as u128;
                assert!(d.insert(hour * MICROS_PER_HOUR, key));
                assert!(d.hours.len() as i64 <= MAX_HOURS, "{}", d.hours.len());
                // A retried copy an hour later is still recognised.
                if hour > 0 {
                    let previous = pass << 32 | (hour - 1) as u128;
                    assert!(!d.insert(hour * MICROS_PER_HOUR - 1, previous));
                }
            }
        }
    }
}

//! Dropping the duplicate records that Log Analytics export retries write.
//!
//! A record is a duplicate of another with the same correlation id, time, operation and caller.
//! Keys are hashes kept in per-hour sets; an hour is forgotten once the newest record seen is
//! more than [`DEDUP_WINDOW_HOURS`] past it, so memory follows the rate of events, not the size
//! of the input. Retried copies land minutes apart, well inside the window. Inputs that go back in
//! time (another registry's folders after this one's) add sets older than the newest hour; once
//! twice the window's hours are held, the hours farther than the window from the record's own are
//! forgotten, so such inputs are bounded too.
//!
//! The window holds two days of keys, the largest thing a run keeps: every hour but the newest
//! two is packed into a sorted array of 12-byte keys (96 bits of the hash; with a million
//! requests in one hour, the chance that two of them share those bits is about 10^-17), less
//! than half of what a hash set of 128-bit keys takes at its usual fill.

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

/// The 96 bits of a key that are kept: three words, so that an array of them packs tight.
type Kept = [u32; 3];

fn kept(key: u128) -> Kept {
    [(key >> 64) as u32, (key >> 32) as u32, key as u32]
}

/// The keys of one hour: packed (sorted) and, beside them, those added since it was packed.
#[derive(Debug, Default)]
struct Hour {
    packed: Box<[Kept]>,
    open: HashSet<Kept>,
}

impl Hour {
    fn insert(&mut self, key: Kept) -> bool {
        self.packed.binary_search(&key).is_err() && self.open.insert(key)
    }

    fn len(&self) -> usize {
        self.packed.len() + self.open.len()
    }

    /// Moves the open keys into the packed array, once they are at least an eighth of it, so
    /// that an hour that keeps getting a few late records is not re-sorted for each.
    fn pack(&mut self) {
        if self.open.len() * 8 < self.packed.len() || self.open.is_empty() {
            return;
        }
        let mut all = Vec::with_capacity(self.len());
        all.extend_from_slice(&self.packed);
        all.extend(self.open.drain());
        all.sort_unstable();
        self.packed = all.into_boxed_slice();
        self.open = HashSet::new();
    }
}

/// The set of keys seen, bounded to a sliding window of event time.
#[derive(Debug, Default)]
pub struct Dedup {
    hours: HashMap<i64, Hour>,
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
            // The newest two hours stay open: inputs decoded side by side may be an hour apart.
            self.hours
                .iter_mut()
                .filter(|(h, _)| **h < hour - 1)
                .for_each(|(_, set)| set.pack());
        }
        if self.hours.len() as i64 >= MAX_HOURS && !self.hours.contains_key(&hour) {
            self.hours
                .retain(|&h, _| h.abs_diff(hour) <= DEDUP_WINDOW_HOURS.unsigned_abs());
        }
        if let Some(set) = self.hours.get_mut(&hour) {
            return set.insert(kept(key));
        }
        // A new hour's table has room for as many keys as the busiest hour held, so it is not
        // grown key by key, leaving the allocator each smaller table it outgrew.
        let busiest = self.hours.values().map(Hour::len).max().unwrap_or(0);
        let mut set = Hour {
            packed: Box::default(),
            open: HashSet::with_capacity(busiest),
        };
        let new = set.insert(kept(key));
        self.hours.insert(hour, set);
        new
    }

    /// How many keys are held.
    pub fn len(&self) -> usize {
        self.hours.values().map(Hour::len).sum()
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
    fn a_new_hour_is_sized_for_the_busiest_hour_held() {
        let mut d = Dedup::default();
        for i in 0..5000u128 {
            d.insert(0, i);
        }
        d.insert(MICROS_PER_HOUR, 5000);
        // Room for the first hour's 5,000 keys from its first: the table is not grown and
        // left behind, smaller table after smaller table, as keys come.
        let capacity = d.hours[&1].open.capacity();
        for i in 5001..10_000u128 {
            d.insert(MICROS_PER_HOUR, i);
        }
        assert!(capacity >= 5000, "{capacity}");
        assert_eq!(d.hours[&1].open.capacity(), capacity);
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
    fn hours_left_behind_are_packed_and_still_recognise_their_keys() {
        let mut d = Dedup::default();
        let key = |hour: i64, i: i64| dedup_key(Some("c"), hour * 1000 + i, None, None).unwrap();
        for hour in 0..6 {
            for i in 0..1000 {
                assert!(d.insert(hour * MICROS_PER_HOUR + i, key(hour, i)));
            }
        }
        // All but the two latest hours are packed, with every key.
        for hour in 0..4 {
            let set = &d.hours[&hour];
            assert_eq!((set.packed.len(), set.open.len()), (1000, 0), "hour {hour}");
        }
        assert_eq!(d.hours[&5].open.len(), 1000);
        // A retried copy in a packed hour is a duplicate; a late new record is not, and is
        // remembered while the hour stays open, and after it is packed again.
        assert!(!d.insert(MICROS_PER_HOUR, key(1, 7)));
        assert!(d.insert(MICROS_PER_HOUR, key(1, 5000)));
        assert!(!d.insert(MICROS_PER_HOUR, key(1, 5000)));
        for late in 5001..5200 {
            assert!(d.insert(MICROS_PER_HOUR, key(1, late)));
        }
        assert!(d.insert(6 * MICROS_PER_HOUR, key(6, 0)));
        assert!(d.insert(7 * MICROS_PER_HOUR, key(7, 0)));
        assert_eq!(
            d.hours[&1].open.len(),
            0,
            "packed again: over an eighth was new"
        );
        for i in (0..1000).chain(5000..5200) {
            assert!(!d.insert(MICROS_PER_HOUR, key(1, i)), "{i}");
        }
        assert_eq!(d.len(), 6 * 1000 + 200 + 2);
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

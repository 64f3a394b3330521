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
//! two is packed into a sorted array of 12-byte keys (64 bits of a hash and the time within the
//! hour), less than half of what a hash set of 128-bit keys takes at its usual fill.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::{HashMap, HashSet};

/// How far behind the newest record a duplicate is still recognised.
pub const DEDUP_WINDOW_HOURS: i64 = 48;

const MICROS_PER_HOUR: i64 = 3_600_000_000;

/// The most hour sets held: twice the window's, for inputs that go back in time.
const MAX_HOURS: i64 = 2 * (DEDUP_WINDOW_HOURS + 1);

/// The de-duplication key of a record; `None` (never a duplicate) without a correlation id:
/// a 64-bit hash of its correlation id, operation and caller, then its time. The time is kept as
/// it is rather than hashed: records of one time are few, so two requests are taken for one only
/// when they share their time to the microsecond and 64 bits of a hash.
pub fn dedup_key(
    correlation_id: Option<&str>,
    time: i64,
    operation: Option<&str>,
    caller_ip_raw: Option<&str>,
) -> Option<u128> {
    let correlation_id = correlation_id?;
    let hash = FixedState::with_seed(0x5ac1_e5ee_d0ff_1ce5).hash_one((
        correlation_id,
        operation,
        caller_ip_raw,
    ));
    Some(u128::from(hash) << 64 | u128::from(time as u64))
}

/// What is kept of a key in its hour's set: the hash, and the low 32 bits of the time, which
/// tell apart every microsecond of an hour (2^32 µs is 71 minutes). Three words, so that an
/// array of them packs tight.
type Kept = [u32; 3];

fn kept(key: u128) -> Kept {
    [(key >> 64) as u32, (key >> 96) as u32, key as u32]
}

type KeySet = HashSet<Kept>;

/// The open keys of an hour are kept by the minute of their event time. A retried copy has the
/// time of its original, so only that minute's keys can hold it; and a batch's records, in time
/// order within their file, fall in a minute or two, whose small sets stay in the cache, where
/// one set of an hour's keys (70,000 at five million events in three days) took a cache miss
/// for nearly every record.
const MINUTES: usize = 60;

const MICROS_PER_MINUTE: i64 = MICROS_PER_HOUR / MINUTES as i64;

/// The keys of one hour: packed (sorted) and, beside them, those added since it was packed,
/// by minute (none until a key is added).
#[derive(Debug, Default)]
struct Hour {
    packed: Box<[Kept]>,
    open: Vec<KeySet>,
}

impl Hour {
    /// An hour whose minutes have room for `room` keys each.
    fn with_room(room: usize) -> Self {
        Hour {
            packed: Box::default(),
            open: Self::minutes(room),
        }
    }

    fn minutes(room: usize) -> Vec<KeySet> {
        (0..MINUTES).map(|_| KeySet::with_capacity(room)).collect()
    }

    /// Adds the key of a record at `time` (µs); `false` when the hour held it.
    fn insert(&mut self, time: i64, key: Kept) -> bool {
        if self.packed.binary_search(&key).is_ok() {
            return false;
        }
        if self.open.is_empty() {
            self.open = Self::minutes(0);
        }
        let minute = (time.rem_euclid(MICROS_PER_HOUR) / MICROS_PER_MINUTE) as usize;
        self.open[minute].insert(key)
    }

    fn open_len(&self) -> usize {
        self.open.iter().map(KeySet::len).sum()
    }

    fn len(&self) -> usize {
        self.packed.len() + self.open_len()
    }

    /// The keys an average minute of the hour holds. A new hour's minutes get room for this
    /// many each, not for the busiest minute's: a burst in one minute would make every minute
    /// of the new hour that large.
    fn minute_average(&self) -> usize {
        self.len().div_ceil(MINUTES)
    }

    /// Moves the open keys into the packed array, once they are at least an eighth of it, so
    /// that an hour that keeps getting a few late records is not re-sorted for each.
    fn pack(&mut self) {
        let open = self.open_len();
        if open * 8 < self.packed.len() || open == 0 {
            return;
        }
        let mut all = Vec::with_capacity(self.len());
        all.extend_from_slice(&self.packed);
        all.extend(self.open.drain(..).flatten());
        all.sort_unstable();
        self.packed = all.into_boxed_slice();
    }
}

/// The set of keys seen, bounded to a sliding window of event time.
#[derive(Debug, Default)]
pub struct Dedup {
    hours: HashMap<i64, Hour>,
    newest_hour: i64,
}

impl Dedup {
    /// Records the key of a record at `time` (µs); `false` when it was seen before (a
    /// duplicate). The key is the record's [`dedup_key`], which holds its time: while an hour is
    /// open only keys of the same minute are compared.
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
            return set.insert(time, kept(key));
        }
        // A new hour's minutes have room for the keys of a minute of the busiest hour held, so
        // they are not grown key by key, leaving the allocator each smaller table they outgrew.
        let busiest = self.hours.values().map(Hour::minute_average).max();
        let mut set = Hour::with_room(busiest.unwrap_or(0));
        let new = set.insert(time, kept(key));
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
    fn a_new_hour_is_sized_for_a_minute_of_the_busiest_hour_held() {
        let mut d = Dedup::default();
        let minute = |i: u128| (i % 60) as i64 * MICROS_PER_MINUTE;
        for i in 0..6000u128 {
            d.insert(minute(i), i);
        }
        d.insert(MICROS_PER_HOUR, 6000);
        // Room for a hundred keys a minute from the first: the sets are not grown and left
        // behind, smaller set after smaller set, as keys come.
        let capacities =
            |d: &Dedup| -> Vec<usize> { d.hours[&1].open.iter().map(KeySet::capacity).collect() };
        let before = capacities(&d);
        for i in 6001..12_000u128 {
            d.insert(MICROS_PER_HOUR + minute(i), i);
        }
        assert!(before.iter().all(|&c| c >= 100), "{before:?}");
        assert_eq!(capacities(&d), before);
        // A burst in one minute grows that minute alone.
        for i in 12_000..20_000u128 {
            d.insert(MICROS_PER_HOUR, i);
        }
        let after = capacities(&d);
        assert!(after[0] >= 8000, "{}", after[0]);
        assert_eq!(after[1..], before[1..]);
    }

    #[test]
    fn a_record_is_looked_for_among_its_own_minute() {
        let mut d = Dedup::default();
        let key = |t: i64| dedup_key(Some("c"), t, Some("Pull"), Some("1.2.3.4")).unwrap();
        // One record a second over two hours, each retried once at once and once a few minutes
        // later, when the copy's minute is no longer the newest.
        let times: Vec<i64> = (0..7200).map(|s| s * 1_000_000).collect();
        for (i, &t) in times.iter().enumerate() {
            assert!(d.insert(t, key(t)), "{t}");
            assert!(!d.insert(t, key(t)), "{t}");
            if let Some(&earlier) = i.checked_sub(300).map(|j| &times[j]) {
                assert!(!d.insert(earlier, key(earlier)), "{earlier}");
            }
        }
        assert_eq!(d.len(), times.len());
        // Every minute of both hours holds its own sixty keys.
        for hour in 0..2 {
            let counts: Vec<usize> = d.hours[&hour].open.iter().map(KeySet::len).collect();
            assert_eq!(counts, vec![60; MINUTES], "hour {hour}");
        }
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
        assert_eq!(d.hours[&5].open_len(), 1000);
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
                    assert!(!d.insert((hour - 1) * MICROS_PER_HOUR, previous));
                }
            }
        }
    }
}

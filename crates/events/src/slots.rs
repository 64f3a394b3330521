//! Values found by their hash: the table behind the look-ups that nearly every row makes (the
//! attribution memo's decisions, the rollups' groups, numbered texts).
//!
//! Those look-ups go to tables of tens of thousands of entries, spread over MiBs, so each is a
//! few cache misses. A general hash table keeps the bytes that tell which of its slots are full
//! apart from the slots: a look-up read the control bytes, then the slot, then (where the slot
//! held only a number) the entry to compare. Here a slot holds the whole hash beside the value,
//! the slots are kept at most half full and probed in turn from the hash's, so a look-up reads
//! one slot, most often in one cache line, and compares the value only when the hash matches.

/// The bit every stored hash has: a slot whose hash lacks it is free.
const HELD: u64 = 1 << 63;

/// A value and its hash (with [`HELD`]), or a free slot (hash 0).
#[derive(Debug, Clone, Copy, Default)]
struct Slot<T> {
    hash: u64,
    value: T,
}

/// The fewest slots of a table that holds a value.
const MIN_SLOTS: usize = 1 << 10;

/// Values by their hash (see the module's documentation).
#[derive(Debug)]
pub struct HashSlots<T> {
    slots: Vec<Slot<T>>,
    len: usize,
}

impl<T> Default for HashSlots<T> {
    fn default() -> Self {
        HashSlots {
            slots: Vec::new(),
            len: 0,
        }
    }
}

/// Where a value not found goes: to [`HashSlots::fill`] before the slots change again.
#[derive(Debug)]
pub struct Vacant {
    at: usize,
    hash: u64,
}

impl<T: Copy + Default> HashSlots<T> {
    /// The value whose hash is `hash` and for which `is` holds, or where to add it.
    pub fn find(&mut self, hash: u64, is: impl Fn(&T) -> bool) -> Result<T, Vacant> {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let hash = hash | HELD;
        let mask = self.slots.len() - 1;
        let mut at = hash as usize & mask;
        loop {
            let slot = &self.slots[at];
            if slot.hash == 0 {
                return Err(Vacant { at, hash });
            }
            if slot.hash == hash && is(&slot.value) {
                return Ok(slot.value);
            }
            at = (at + 1) & mask;
        }
    }

    /// Adds `value` where [`HashSlots::find`] did not find it.
    pub fn fill(&mut self, vacant: Vacant, value: T) {
        self.slots[vacant.at] = Slot {
            hash: vacant.hash,
            value,
        };
        self.len += 1;
    }

    /// Forgets every value, keeping the slots.
    pub fn clear(&mut self) {
        self.slots.fill(Slot::default());
        self.len = 0;
    }

    /// Makes room for `additional` more values, so that adding them does not move the slots.
    pub fn reserve(&mut self, additional: usize) {
        while (self.len + additional) * 2 > self.slots.len() {
            self.grow();
        }
    }

    /// Reads the slot where a look-up of `hash` starts, so that the look-up finds it in the
    /// cache. A loop that touches the slots of many values before looking any of them up keeps
    /// a dozen cache misses in flight at once; one that looks each up as it goes waits for every
    /// miss in turn (and the workspace forbids `unsafe`, so no prefetch instruction). Reserve
    /// room for the values first: a slot touched in a table that then grows was read for
    /// nothing.
    pub fn touch(&self, hash: u64) {
        if let Some(slot) = self.first(hash) {
            std::hint::black_box(slot.hash);
        }
    }

    /// The value in the slot where a look-up of `hash` starts, if that slot holds a value of
    /// the same hash: most often the value a look-up would find. A caller whose values point
    /// elsewhere (a record to compare) touches that too before looking up.
    pub fn peek(&self, hash: u64) -> Option<T> {
        let slot = self.first(hash)?;
        (slot.hash == hash | HELD).then_some(slot.value)
    }

    /// The slot where a look-up of `hash` starts (none while there are no slots).
    fn first(&self, hash: u64) -> Option<&Slot<T>> {
        self.slots
            .get((hash | HELD) as usize & self.slots.len().wrapping_sub(1))
    }

    /// How many slots there are: twice the values held, at least.
    pub fn room(&self) -> usize {
        self.slots.len()
    }

    /// Doubles the slots, placing every value afresh by its hash.
    fn grow(&mut self) {
        let room = (self.slots.len() * 2).max(MIN_SLOTS);
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); room]);
        for slot in old.into_iter().filter(|s| s.hash != 0) {
            let mut at = slot.hash as usize & (room - 1);
            while self.slots[at].hash != 0 {
                at = (at + 1) & (room - 1);
            }
            self.slots[at] = slot;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_number_is_found_again_through_growth_and_shared_hashes() {
        let mut slots = HashSlots::default();
        let mut values: Vec<u64> = Vec::new();
        // Values whose hashes collide in threes (and so probe past each other), the first of
        // them 0, over many doublings of the slots.
        let hash = |v: u64| v / 3;
        for v in 0..30_000u64 {
            let vacant = slots.find(hash(v), |&n| values[n] == v).unwrap_err();
            values.push(v);
            slots.fill(vacant, values.len() - 1);
        }
        assert!(slots.slots.len() >= 60_000, "{}", slots.slots.len());
        for v in (0..30_000u64).rev() {
            let found = slots.find(hash(v), |&n| values[n] == v);
            assert_eq!(found.ok(), Some(v as usize));
        }
        let room = slots.room();
        slots.reserve(room / 2 - 30_000);
        assert_eq!(slots.room(), room, "room enough already");
        slots.reserve(room / 2 - 30_000 + 1);
        assert_eq!(slots.room(), room * 2);
        let room = slots.room();
        slots.clear();
        assert_eq!(slots.room(), room);
        assert!(slots.find(hash(7), |&n| values[n] == 7).is_err());
    }
}

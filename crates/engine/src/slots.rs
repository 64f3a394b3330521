//! Numbers found by their hash: the index of the rollups' groups and of numbered texts, which
//! every event looks something up in.
//!
//! Those look-ups go to tables of tens of thousands of entries, spread over MiBs, so each is a
//! few cache misses. A general hash table keeps the bytes that tell which of its slots are full
//! apart from the slots, and a slot there held only the number: a look-up read the control
//! bytes, then the slot, then the entry to compare. Here a slot holds the hash beside the
//! number, the slots are kept at most half full and probed in turn from the hash's, so a look-up
//! reads one slot (most often one cache line) and compares the entry only when the whole hash
//! matches: the entry it then reads is the one the caller reads or updates anyway.

/// A number and the hash of what it numbers, or [`FREE`].
#[derive(Debug, Clone, Copy)]
struct Slot {
    hash: u64,
    number: usize,
}

/// A slot no number holds.
const FREE: Slot = Slot {
    hash: 0,
    number: usize::MAX,
};

/// The fewest slots of a table that holds a number.
const MIN_SLOTS: usize = 1 << 10;

/// Numbers by the hash of what they number (see the module's documentation).
#[derive(Debug, Default)]
pub(crate) struct HashSlots {
    slots: Vec<Slot>,
    len: usize,
}

/// Where a number not found goes: to [`HashSlots::fill`] before the slots change again.
#[derive(Debug)]
pub(crate) struct Vacant {
    at: usize,
    hash: u64,
}

impl HashSlots {
    /// The number whose hash is `hash` and for which `is` holds, or where to add it.
    pub(crate) fn find(&mut self, hash: u64, is: impl Fn(usize) -> bool) -> Result<usize, Vacant> {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut at = hash as usize & mask;
        loop {
            let slot = self.slots[at];
            if slot.number == FREE.number {
                return Err(Vacant { at, hash });
            }
            if slot.hash == hash && is(slot.number) {
                return Ok(slot.number);
            }
            at = (at + 1) & mask;
        }
    }

    /// Adds `number` where [`HashSlots::find`] did not find it. `number` must not be
    /// [`usize::MAX`].
    pub(crate) fn fill(&mut self, vacant: Vacant, number: usize) {
        self.slots[vacant.at] = Slot {
            hash: vacant.hash,
            number,
        };
        self.len += 1;
    }

    /// Doubles the slots, placing every number afresh by its hash.
    fn grow(&mut self) {
        let room = (self.slots.len() * 2).max(MIN_SLOTS);
        let old = std::mem::replace(&mut self.slots, vec![FREE; room]);
        for slot in old.into_iter().filter(|s| s.number != FREE.number) {
            let mut at = slot.hash as usize & (room - 1);
            while self.slots[at].number != FREE.number {
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
        // Values whose hashes collide in threes (and so probe past each other), over many
        // doublings of the slots.
        let hash = |v: u64| v / 3;
        for v in 0..30_000u64 {
            let vacant = slots.find(hash(v), |n| values[n] == v).unwrap_err();
            values.push(v);
            slots.fill(vacant, values.len() - 1);
        }
        assert!(slots.slots.len() >= 60_000, "{}", slots.slots.len());
        for v in (0..30_000u64).rev() {
            let found = slots.find(hash(v), |n| values[n] == v);
            assert_eq!(found.ok(), Some(v as usize));
        }
    }
}

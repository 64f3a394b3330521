//! The memo's table of IPv4 decisions, looked up for nearly every attributed row.
//!
//! A general hash table keeps its keys apart from the bytes that tell which of its slots are
//! full, so a look-up reads two places of a table of several MiB, and misses the cache twice:
//! with the callers of a day spread over the whole table, that was a seventh of the time of a
//! query over five million events. Here each key lies beside its decision in a slot of 32 bytes
//! (two to a cache line), found by probing the slots after its hash's, in a table kept at most
//! half full: a look-up reads one slot, seldom the next, most often in one cache line.

use std::hash::BuildHasher;

use foldhash::fast::RandomState;

use crate::memo::Found;

/// A key and its decision. Aligned to 32 bytes so that no slot straddles two cache lines.
#[derive(Debug, Clone, Copy)]
#[repr(align(32))]
struct Slot {
    key: [u64; 2],
    /// The decision; [`EMPTY`] as its index while the slot is free.
    found: Found,
}

/// The index of a free slot's decision: no decision is at it.
const EMPTY: u32 = u32::MAX;

const FREE: Slot = Slot {
    key: [0; 2],
    found: Found {
        index: EMPTY,
        plain: crate::verdict::AccessPath::Unknown,
        as_task: None,
    },
};

/// The fewest slots a table that holds anything has.
const MIN_SLOTS: usize = 1 << 10;

/// Decisions by key (see the module's documentation).
#[derive(Default)]
pub(crate) struct KeyTable {
    slots: Vec<Slot>,
    len: usize,
    hasher: RandomState,
}

impl KeyTable {
    /// The decision for `key`, or the one `add` makes and the table keeps. `add` must give a
    /// decision whose index is not [`u32::MAX`].
    pub(crate) fn find_or_add(&mut self, key: [u64; 2], add: impl FnOnce() -> Found) -> Found {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let at = self.probe(key);
        let slot = &mut self.slots[at];
        if slot.found.index == EMPTY {
            let found = add();
            *slot = Slot { key, found };
            self.len += 1;
        }
        slot.found
    }

    /// Forgets every key, keeping the table's room.
    pub(crate) fn clear(&mut self) {
        self.slots.fill(FREE);
        self.len = 0;
    }

    /// The slot holding `key`, or the free slot where it goes.
    fn probe(&self, key: [u64; 2]) -> usize {
        let mask = self.slots.len() - 1;
        let mut at = self.hasher.hash_one(key) as usize & mask;
        loop {
            let slot = &self.slots[at];
            if slot.found.index == EMPTY || slot.key == key {
                return at;
            }
            at = (at + 1) & mask;
        }
    }

    /// Doubles the slots, placing every key afresh.
    fn grow(&mut self) {
        let slots = (self.slots.len() * 2).max(MIN_SLOTS);
        let old = std::mem::replace(&mut self.slots, vec![FREE; slots]);
        for slot in old.into_iter().filter(|s| s.found.index != EMPTY) {
            let at = self.probe(slot.key);
            self.slots[at] = slot;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::AccessPath;

    fn decision(index: u32) -> Found {
        Found {
            index,
            plain: AccessPath::ALL[index as usize % AccessPath::ALL.len()],
            as_task: index.is_multiple_of(3).then_some(AccessPath::Denied),
        }
    }

    #[test]
    fn every_key_keeps_its_own_decision_through_growth_and_clearing() {
        let mut table = KeyTable::default();
        // Keys that differ in one word only, and a zero key, over many doublings.
        let key = |i: u64| [i % 7, i / 7];
        for i in 0..20_000u64 {
            let found = table.find_or_add(key(i), || decision(i as u32));
            assert_eq!(found.index, i as u32);
        }
        assert!(table.slots.len() >= 2 * 20_000, "{}", table.slots.len());
        for i in 0..20_000u64 {
            let found = table.find_or_add(key(i), || panic!("{i} was added before"));
            assert_eq!(
                (found.index, found.plain),
                (i as u32, decision(i as u32).plain)
            );
            assert_eq!(found.as_task, decision(i as u32).as_task);
        }
        let room = table.slots.len();
        table.clear();
        assert_eq!(table.slots.len(), room);
        let found = table.find_or_add(key(5), || decision(99));
        assert_eq!(found.index, 99);
    }
}

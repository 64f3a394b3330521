//! The memo's table of IPv4 decisions, looked up for nearly every attributed row: each key
//! lies beside its decision in one slot of [`HashSlots`], so a look-up reads one cache line where
//! a general hash table read its control bytes and then its bucket (the look-up was a seventh of
//! the time of a query over five million events).

use std::hash::BuildHasher;

use acrlens_events::HashSlots;
use foldhash::fast::RandomState;

use crate::memo::Found;

/// Decisions by key (see the module's documentation).
#[derive(Default)]
pub(crate) struct KeyTable {
    slots: HashSlots<([u64; 2], Found)>,
    /// Seeded anew for every table: callers choose their addresses.
    hasher: RandomState,
}

impl KeyTable {
    /// The decision for `key`, or the one `add` makes and the table keeps.
    pub(crate) fn find_or_add(&mut self, key: [u64; 2], add: impl FnOnce() -> Found) -> Found {
        match self
            .slots
            .find(self.hasher.hash_one(key), |(k, _)| *k == key)
        {
            Ok((_, found)) => found,
            Err(vacant) => {
                let found = add();
                self.slots.fill(vacant, (key, found));
                found
            }
        }
    }

    /// Brings the slots of `keys` into the cache ([`HashSlots::touch`]), with room for them all.
    pub(crate) fn touch(&mut self, keys: impl Iterator<Item = [u64; 2]> + Clone) {
        self.slots.reserve(keys.clone().count());
        for key in keys {
            self.slots.touch(self.hasher.hash_one(key));
        }
    }

    /// Forgets every key, keeping the table's room.
    pub(crate) fn clear(&mut self) {
        self.slots.clear();
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
        assert!(table.slots.room() >= 2 * 20_000, "{}", table.slots.room());
        for i in 0..20_000u64 {
            let found = table.find_or_add(key(i), || panic!("{i} was added before"));
            assert_eq!(
                (found.index, found.plain),
                (i as u32, decision(i as u32).plain)
            );
            assert_eq!(found.as_task, decision(i as u32).as_task);
        }
        let room = table.slots.room();
        table.clear();
        assert_eq!(table.slots.room(), room);
        let found = table.find_or_add(key(5), || decision(99));
        assert_eq!(found.index, 99);
    }
}

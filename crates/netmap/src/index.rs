//! The compiled IP index: every prefix of every source split into disjoint intervals, each
//! pointing at an interned set of facts, most specific first.
//!
//! A lookup reads a 64 Ki-entry bucket table by the address's top 16 bits, then searches only
//! the few interval starts inside that bucket: two or three cache lines per lookup, no branches
//! that depend on how deep prefixes nest.

use std::collections::HashMap;

/// A fact id: what an interval is part of (a service tag, a subnet, a named range).
pub type FactId = u32;

/// Interned sets of fact ids; set 0 is the empty set.
#[derive(Debug, Clone)]
pub struct FactSets {
    offsets: Vec<u32>,
    items: Vec<FactId>,
    interned: HashMap<Vec<FactId>, u32>,
}

impl Default for FactSets {
    fn default() -> Self {
        let mut interned = HashMap::new();
        interned.insert(Vec::new(), 0);
        FactSets {
            offsets: vec![0, 0],
            items: Vec::new(),
            interned,
        }
    }
}

impl FactSets {
    fn intern(&mut self, set: Vec<FactId>) -> u32 {
        if let Some(&id) = self.interned.get(&set) {
            return id;
        }
        let id = (self.offsets.len() - 1) as u32;
        self.items.extend_from_slice(&set);
        self.offsets.push(self.items.len() as u32);
        self.interned.insert(set, id);
        id
    }

    /// The facts of a set, most specific first.
    #[inline]
    pub fn get(&self, set: u32) -> &[FactId] {
        let set = set as usize;
        &self.items[self.offsets[set] as usize..self.offsets[set + 1] as usize]
    }

    /// How many distinct sets there are.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether only the empty set exists.
    pub fn is_empty(&self) -> bool {
        self.len() <= 1
    }

    fn heap_bytes(&self) -> usize {
        self.offsets.capacity() * 4 + self.items.capacity() * 4 + self.interned.len() * 48
    }
}

/// An address family's numbers.
pub trait Key: Copy + Ord + Default + std::fmt::Debug {
    /// The largest address.
    const MAX: Self;
    /// The top 16 bits.
    fn bucket(self) -> usize;
    /// Widened, for building.
    fn wide(self) -> u128;
    /// Narrowed back.
    fn narrow(wide: u128) -> Self;
}

impl Key for u32 {
    const MAX: Self = u32::MAX;
    #[inline]
    fn bucket(self) -> usize {
        (self >> 16) as usize
    }
    fn wide(self) -> u128 {
        u128::from(self)
    }
    fn narrow(wide: u128) -> Self {
        wide as u32
    }
}

impl Key for u128 {
    const MAX: Self = u128::MAX;
    #[inline]
    fn bucket(self) -> usize {
        (self >> 112) as usize
    }
    fn wide(self) -> u128 {
        self
    }
    fn narrow(wide: u128) -> Self {
        wide
    }
}

/// Disjoint intervals of one family: `starts[i]..starts[i+1]` has fact set `sets[i]`.
#[derive(Debug, Clone)]
pub struct IntervalIndex<K> {
    starts: Vec<K>,
    sets: Vec<u32>,
    buckets: Vec<u32>,
}

impl<K: Key> IntervalIndex<K> {
    /// The fact set of an address.
    #[inline]
    pub fn lookup(&self, key: K) -> u32 {
        let b = key.bucket();
        let lo = self.buckets[b] as usize;
        let hi = self.buckets[b + 1] as usize;
        let within = self.starts[lo..hi].partition_point(|&s| s <= key);
        // starts[0] is address 0, so an answer always exists.
        self.sets[lo + within - 1]
    }

    /// Intervals held.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Whether only the all-empty interval is held.
    pub fn is_empty(&self) -> bool {
        self.starts.len() <= 1
    }

    fn heap_bytes(&self) -> usize {
        self.starts.capacity() * std::mem::size_of::<K>()
            + self.sets.capacity() * 4
            + self.buckets.capacity() * 4
    }

    /// Sweeps `(first, last, fact, rank)` ranges into disjoint intervals; within a set, facts are
    /// ordered by descending rank, then id.
    fn build(ranges: &[(K, K, FactId, u32)], sets: &mut FactSets) -> Self {
        // (position, +1 start / -1 end, fact, rank); ends are exclusive, none past the last address.
        let mut events: Vec<(u128, i8, FactId, u32)> = Vec::with_capacity(ranges.len() * 2);
        for &(first, last, fact, rank) in ranges {
            events.push((first.wide(), 1, fact, rank));
            if last < K::MAX {
                events.push((last.wide() + 1, -1, fact, rank));
            }
        }
        events.sort_unstable_by_key(|e| e.0);
        let mut active: Vec<(u32, FactId, u32)> = Vec::new(); // (rank, fact, count)
        let mut starts = vec![K::default()];
        let mut set_ids = vec![0u32];
        let mut i = 0;
        while i < events.len() {
            let at = events[i].0;
            while i < events.len() && events[i].0 == at {
                let (_, delta, fact, rank) = events[i];
                match active.iter_mut().position(|a| a.1 == fact && a.0 == rank) {
                    Some(p) if delta < 0 => {
                        active[p].2 -= 1;
                        if active[p].2 == 0 {
                            active.swap_remove(p);
                        }
                    }
                    Some(p) => active[p].2 += 1,
                    None if delta > 0 => active.push((rank, fact, 1)),
                    None => {}
                }
                i += 1;
            }
            let mut ordered: Vec<(u32, FactId)> = active.iter().map(|a| (a.0, a.1)).collect();
            ordered.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            let mut facts: Vec<FactId> = Vec::with_capacity(ordered.len());
            for (_, fact) in ordered {
                if !facts.contains(&fact) {
                    facts.push(fact);
                }
            }
            let set = sets.intern(facts);
            if at == 0 {
                set_ids[0] = set;
            } else if set_ids.last() != Some(&set) {
                starts.push(K::narrow(at));
                set_ids.push(set);
            }
        }
        let mut buckets = vec![0u32; (1 << 16) + 1];
        let mut next = 0usize;
        for (b, slot) in buckets.iter_mut().enumerate() {
            while next < starts.len() && starts[next].bucket() < b {
                next += 1;
            }
            *slot = next as u32;
        }
        IntervalIndex {
            starts,
            sets: set_ids,
            buckets,
        }
    }
}

/// Collects ranges of both families, then compiles them.
#[derive(Debug, Default)]
pub struct IndexBuilder {
    v4: Vec<(u32, u32, FactId, u32)>,
    v6: Vec<(u128, u128, FactId, u32)>,
}

impl IndexBuilder {
    /// Adds a prefix for a fact, with a rank (higher is more specific).
    pub fn add(&mut self, net: &ipnet::IpNet, fact: FactId, rank: u32) {
        match net {
            ipnet::IpNet::V4(n) => {
                self.v4
                    .push((u32::from(n.network()), u32::from(n.broadcast()), fact, rank))
            }
            ipnet::IpNet::V6(n) => self.v6.push((
                u128::from(n.network()),
                u128::from(n.broadcast()),
                fact,
                rank,
            )),
        }
    }

    /// Compiles the index.
    pub fn build(self) -> CompiledIndex {
        let mut sets = FactSets::default();
        let v4 = IntervalIndex::build(&self.v4, &mut sets);
        let v6 = IntervalIndex::build(&self.v6, &mut sets);
        CompiledIndex { v4, v6, sets }
    }
}

/// Both families' intervals and their fact sets.
#[derive(Debug, Clone)]
pub struct CompiledIndex {
    /// IPv4 intervals.
    pub v4: IntervalIndex<u32>,
    /// IPv6 intervals.
    pub v6: IntervalIndex<u128>,
    /// The interned fact sets.
    pub sets: FactSets,
}

impl CompiledIndex {
    /// The facts of an address, most specific first.
    #[inline]
    pub fn lookup(&self, key: crate::prefix::IpKey) -> &[FactId] {
        let set = match key {
            crate::prefix::IpKey::V4(k) => self.v4.lookup(k),
            crate::prefix::IpKey::V6(k) => self.v6.lookup(k),
        };
        self.sets.get(set)
    }

    /// Heap memory held, in bytes (approximate for the interning table).
    pub fn heap_bytes(&self) -> usize {
        self.v4.heap_bytes() + self.v6.heap_bytes() + self.sets.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefix::{IpKey, parse_prefix};

    fn key(s: &str) -> IpKey {
        IpKey::from(s.parse::<std::net::IpAddr>().unwrap())
    }

    #[test]
    fn nested_and_overlapping_prefixes_resolve_most_specific_first() {
        let mut b = IndexBuilder::default();
        b.add(&parse_prefix("20.0.0.0/8").unwrap(), 1, 10);
        b.add(&parse_prefix("20.42.66.0/23").unwrap(), 2, 20);
        b.add(&parse_prefix("20.42.66.0/24").unwrap(), 3, 30);
        b.add(&parse_prefix("20.42.67.0/24").unwrap(), 1, 10); // same fact again, inside its /8
        b.add(&parse_prefix("2603:1030::/32").unwrap(), 4, 10);
        let idx = b.build();
        assert_eq!(idx.lookup(key("20.42.66.17")), [3, 2, 1]);
        assert_eq!(idx.lookup(key("20.42.67.1")), [2, 1]);
        assert_eq!(idx.lookup(key("20.42.68.0")), [1]);
        assert_eq!(idx.lookup(key("20.255.255.255")), [1]);
        assert_eq!(idx.lookup(key("21.0.0.0")), [] as [u32; 0]);
        assert_eq!(idx.lookup(key("19.255.255.255")), [] as [u32; 0]);
        assert_eq!(idx.lookup(key("0.0.0.0")), [] as [u32; 0]);
        assert_eq!(idx.lookup(key("2603:1030::1")), [4]);
        assert_eq!(idx.lookup(key("2603:1031::1")), [] as [u32; 0]);
    }

    #[test]
    fn prefixes_at_the_ends_of_the_address_space() {
        let mut b = IndexBuilder::default();
        b.add(&parse_prefix("0.0.0.0/0").unwrap(), 7, 0);
        b.add(&parse_prefix("255.255.255.255/32").unwrap(), 8, 32);
        b.add(&parse_prefix("::/0").unwrap(), 9, 0);
        let idx = b.build();
        assert_eq!(idx.lookup(key("0.0.0.0")), [7]);
        assert_eq!(idx.lookup(key("255.255.255.255")), [8, 7]);
        assert_eq!(idx.lookup(key("255.255.255.254")), [7]);
        assert_eq!(
            idx.lookup(key("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")),
            [9]
        );
    }

    #[test]
    fn adjacent_intervals_with_the_same_facts_merge() {
        let mut b = IndexBuilder::default();
        b.add(&parse_prefix("10.0.0.0/25").unwrap(), 1, 1);
        b.add(&parse_prefix("10.0.0.128/25").unwrap(), 1, 1);
        let idx = b.build();
        assert_eq!(idx.v4.len(), 3, "empty, 10.0.0.0/24, empty");
    }
}

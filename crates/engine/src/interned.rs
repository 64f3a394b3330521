//! Byte strings numbered as they are met: what the rollups and the grouping by numbers number
//! their texts with.

use std::hash::BuildHasher;
use std::ops::Range;

use acrlens_events::HashSlots;

/// Byte strings stored end to end and numbered, each found again by its bytes. They live in a
/// few large buffers, not in an allocation each: tens of thousands of small allocations
/// outliving the batches around them would keep the allocator's freed memory from being reused.
#[derive(Default)]
pub(crate) struct Interned {
    table: HashSlots<usize>,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

/// Where the bytes numbered `id` lie among those ending at `ends`.
fn span(ends: &[usize], id: usize) -> Range<usize> {
    id.checked_sub(1).map_or(0, |before| ends[before])..ends[id]
}

/// The bytes numbered `id` among those ending at `ends` in `bytes`.
fn nth<'a>(bytes: &'a [u8], ends: &[usize], id: usize) -> &'a [u8] {
    &bytes[span(ends, id)]
}

impl Interned {
    pub(crate) fn hash(value: &[u8]) -> u64 {
        foldhash::fast::FixedState::default().hash_one(value)
    }

    /// The bytes numbered `id`.
    pub(crate) fn get(&self, id: usize) -> &[u8] {
        nth(&self.bytes, &self.ends, id)
    }

    /// Every byte string, end to end in the order of their numbers.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Where the bytes numbered `id` lie in [`Interned::bytes`].
    pub(crate) fn span(&self, id: usize) -> Range<usize> {
        span(&self.ends, id)
    }

    /// How many byte strings are numbered.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Brings into the cache what looking up values of `hashes` reads — their slots, then
    /// where the values those slots hold end, then their bytes — each step's misses overlapping:
    /// the values held are many, and a look-up alone missed the cache up to three times in turn.
    /// Room is made for every value first, so the slots touched are the ones looked up.
    pub(crate) fn touch(&mut self, hashes: impl Iterator<Item = u64> + Clone) {
        self.table.reserve(hashes.clone().count());
        for hash in hashes.clone() {
            self.table.touch(hash);
        }
        for hash in hashes.clone() {
            if let Some(id) = self.table.peek(hash) {
                std::hint::black_box(self.ends.get(id));
            }
        }
        for hash in hashes {
            if let Some(id) = self.table.peek(hash) {
                std::hint::black_box(self.bytes.get(span(&self.ends, id).start));
            }
        }
    }

    /// The number of `value`, given it if it is new.
    pub(crate) fn id(&mut self, value: &[u8]) -> usize {
        self.id_hashed(value, Self::hash(value))
    }

    /// The number of `value`, whose hash is `hash`, given it if it is new.
    pub(crate) fn id_hashed(&mut self, value: &[u8], hash: u64) -> usize {
        let Interned { table, bytes, ends } = self;
        match table.find(hash, |&id| nth(bytes, ends, id) == value) {
            Ok(id) => id,
            Err(vacant) => {
                bytes.extend_from_slice(value);
                ends.push(bytes.len());
                table.fill(vacant, ends.len() - 1);
                ends.len() - 1
            }
        }
    }
}

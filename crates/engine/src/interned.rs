//! Byte strings numbered as they are met: what the rollups and the grouping by numbers number
//! their texts with.

use std::hash::BuildHasher;

use hashbrown::HashTable;

/// Byte strings stored end to end and numbered, each found again by its bytes. They live in a
/// few large buffers, not in an allocation each: tens of thousands of small allocations
/// outliving the batches around them would keep the allocator's freed memory from being reused.
#[derive(Default)]
pub(crate) struct Interned {
    table: HashTable<usize>,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

/// The bytes numbered `id` among those ending at `ends` in `bytes`.
fn nth<'a>(bytes: &'a [u8], ends: &[usize], id: usize) -> &'a [u8] {
    let start = id.checked_sub(1).map_or(0, |before| ends[before]);
    &bytes[start..ends[id]]
}

impl Interned {
    pub(crate) fn hash(value: &[u8]) -> u64 {
        foldhash::fast::FixedState::default().hash_one(value)
    }

    /// The bytes numbered `id`.
    pub(crate) fn get(&self, id: usize) -> &[u8] {
        nth(&self.bytes, &self.ends, id)
    }

    /// How many byte strings are numbered.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// The number of `value`, given it if it is new.
    pub(crate) fn id(&mut self, value: &[u8]) -> usize {
        self.id_hashed(value, Self::hash(value))
    }

    /// The number of `value`, whose hash is `hash`, given it if it is new.
    pub(crate) fn id_hashed(&mut self, value: &[u8], hash: u64) -> usize {
        let Interned { table, bytes, ends } = self;
        if let Some(&id) = table.find(hash, |&id| nth(bytes, ends, id) == value) {
            return id;
        }
        bytes.extend_from_slice(value);
        ends.push(bytes.len());
        table.insert_unique(hash, ends.len() - 1, |&id| Self::hash(nth(bytes, ends, id)));
        ends.len() - 1
    }
}

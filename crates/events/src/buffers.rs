//! The reader's unit buffers, handed back by the decoders when a unit is decoded and reused for
//! a later unit.
//!
//! A unit is a few MiB of input. Allocated afresh for each unit, such buffers are what an
//! allocator handles worst: glibc maps and unmaps each one (or, once its dynamic threshold has
//! risen above them, carves them from its arenas and keeps the gaps between them), jemalloc
//! sends them to its oversize arena. Reused, a run allocates as many as are ever in flight at
//! once and no more.

use std::sync::Mutex;

/// Free unit buffers, all of at least one capacity.
#[derive(Debug)]
pub(crate) struct UnitBuffers {
    free: Mutex<Vec<Vec<u8>>>,
    capacity: usize,
    keep: usize,
}

impl UnitBuffers {
    /// Buffers of `capacity` bytes, at most `keep` of them held while unused: as many as units
    /// can be in flight, so a steady run allocates none.
    pub fn new(capacity: usize, keep: usize) -> Self {
        UnitBuffers {
            free: Mutex::new(Vec::with_capacity(keep)),
            capacity,
            keep,
        }
    }

    /// An empty buffer with room for `capacity` bytes.
    pub fn take(&self) -> Vec<u8> {
        self.lock()
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(self.capacity))
    }

    /// Takes a buffer back for reuse. One that grew far beyond a unit (a long record) or one
    /// too many is freed instead, so the buffers held stay bounded.
    pub fn give(&self, mut buf: Vec<u8>) {
        if buf.capacity() < self.capacity || buf.capacity() > 2 * self.capacity {
            return;
        }
        let mut free = self.lock();
        if free.len() < self.keep {
            buf.clear();
            free.push(buf);
        }
    }

    /// The free list; a decoder that panicked while holding the lock left it whole (a push or
    /// a pop is all that happens under it).
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<u8>>> {
        self.free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_given_back_is_taken_again_empty_and_the_free_list_is_bounded() {
        let buffers = UnitBuffers::new(1024, 2);
        let mut first = buffers.take();
        assert!(first.capacity() >= 1024);
        first.extend_from_slice(b"records");
        let at = first.as_ptr();
        buffers.give(first);
        let again = buffers.take();
        assert_eq!((again.as_ptr(), again.len()), (at, 0));
        // A grown buffer and a small one are not kept; of three right-sized ones, two are.
        buffers.give(Vec::with_capacity(4096));
        buffers.give(Vec::with_capacity(16));
        for _ in 0..3 {
            buffers.give(Vec::with_capacity(1024));
        }
        buffers.give(again);
        assert_eq!(buffers.lock().len(), 2);
    }
}

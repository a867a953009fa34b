//! [`Level`]: one priority level, a FIFO of slots sorted by position, with tombstones for
//! cancelled tasks.

use std::collections::VecDeque;

/// One queued task (32 bytes for a `u64` item). `item` is `None` once the task was cancelled
/// (a tombstone).
#[derive(Debug)]
pub(crate) struct Slot<T> {
    /// Strictly increasing along the level: the key for binary search. It is the task's id,
    /// unless the task was delayed (a delayed task gets a fresh position when it becomes due; the
    /// core maps it back to the id).
    pub(crate) pos: u64,
    /// When the task became ready, in the core's clock ticks (nanoseconds since its epoch).
    /// Non-decreasing along the level.
    pub(crate) ready: u64,
    pub(crate) item: Option<T>,
}

/// A FIFO of slots. Invariant: the first and last slots, if any, are live (not tombstones), so the
/// level is empty exactly when it holds no live task, and `front` is the next task to serve.
#[derive(Debug)]
pub(crate) struct Level<T> {
    slots: VecDeque<Slot<T>>,
    live: usize,
}

/// Below this many slots, tombstones are never compacted away (they leave from the ends anyway).
const COMPACT_MIN: usize = 64;

impl<T> Level<T> {
    pub(crate) fn new() -> Level<T> {
        Level {
            slots: VecDeque::new(),
            live: 0,
        }
    }

    /// Live tasks in this level.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Appends a live slot. Its `pos` must exceed every `pos` already here.
    #[inline]
    pub(crate) fn push(&mut self, pos: u64, ready: u64, item: T) {
        debug_assert!(self.slots.back().is_none_or(|s| s.pos < pos));
        self.slots.push_back(Slot {
            pos,
            ready,
            item: Some(item),
        });
        self.live += 1;
    }

    /// The next task to serve.
    #[inline]
    pub(crate) fn front(&self) -> Option<&Slot<T>> {
        self.slots.front()
    }

    /// Removes and returns the next task to serve as `(pos, ready, item)`.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<(u64, u64, T)> {
        let slot = self.slots.pop_front()?;
        self.live -= 1;
        self.trim_front();
        let item = slot.item.expect("the front slot of a level is live");
        Some((slot.pos, slot.ready, item))
    }

    /// Takes the item of the live task at `pos`, leaving a tombstone.
    pub(crate) fn remove(&mut self, pos: u64) -> Option<T> {
        let (first, last) = (self.slots.front()?.pos, self.slots.back()?.pos);
        if pos < first || pos > last {
            return None;
        }
        let index = self.slots.binary_search_by_key(&pos, |s| s.pos).ok()?;
        let item = self.slots[index].item.take()?;
        self.live -= 1;
        if index == 0 {
            self.trim_front();
        } else if index == self.slots.len() - 1 {
            self.trim_back();
        } else if self.slots.len() >= COMPACT_MIN && self.slots.len() > 2 * self.live {
            // More tombstones than tasks: drop them all (amortised O(1) per cancel).
            self.slots.retain(|s| s.item.is_some());
        }
        Some(item)
    }

    #[inline]
    fn trim_front(&mut self) {
        while self.slots.front().is_some_and(|s| s.item.is_none()) {
            self.slots.pop_front();
        }
    }

    fn trim_back(&mut self) {
        while self.slots.back().is_some_and(|s| s.item.is_none()) {
            self.slots.pop_back();
        }
    }

    /// Slots held, tombstones included (for tests of compaction).
    #[cfg(test)]
    pub(crate) fn slots(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_with_tombstones_skipped() {
        let mut level = Level::new();
        for i in 0..5 {
            level.push(i * 2, i, i * 10);
        }
        assert_eq!(level.remove(2), Some(10));
        assert_eq!(level.remove(2), None, "already cancelled");
        assert_eq!(level.remove(3), None, "no task at that position");
        assert_eq!(level.remove(42), None, "out of range");
        assert_eq!(level.pop().map(|s| s.2), Some(0));
        assert_eq!(level.front().map(|s| s.pos), Some(4), "tombstone trimmed");
        assert_eq!(level.remove(8), Some(40));
        assert_eq!(level.slots(), 2, "tombstone at the back trimmed");
        assert_eq!(level.len(), 2);
        assert_eq!(level.pop().map(|s| (s.1, s.2)), Some((2, 20)));
        assert_eq!(level.pop().map(|s| s.2), Some(30));
        assert!(level.is_empty());
        assert!(level.pop().is_none());
    }

    #[test]
    fn compacts_when_tombstones_dominate() {
        let mut level = Level::new();
        for i in 0..200 {
            level.push(i, 0, i);
        }
        // Cancel everything in the middle; the ends stay live.
        for i in 1..199 {
            assert_eq!(level.remove(i), Some(i));
        }
        assert_eq!(level.len(), 2);
        assert!(
            level.slots() < 200,
            "compaction ran: {} slots",
            level.slots()
        );
        assert_eq!(level.pop().map(|s| s.0), Some(0));
        assert_eq!(level.pop().map(|s| s.0), Some(199));
    }
}

//! A worker slot: the queue submitters push to and the counters its worker writes, and
//! [`Slots`], where they are kept.
//!
//! A pool may have up to `max_workers` slots, allocated as workers first need them (see
//! [`Slots`]); slots `0..active` have a worker. Submitters
//! touch only the slot's queue line (the mutex, the queue, `pushed`, `len`); the worker writes its
//! counters on their own cache lines, each with plain loads and stores (one writer at a time: the
//! slot's current worker), so recording a job costs no read-modify-write.

use std::collections::VecDeque;
use std::sync::atomic::{
    AtomicU64, AtomicUsize,
    Ordering::{Acquire, Relaxed, Release},
};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::Waker;

use crate::balance::Candidates;
use crate::histogram::Histogram;
use crate::job::{Job, OutcomeKind};

/// Keeps a value on its own cache lines (128 bytes covers adjacent-line prefetching).
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// What a slot's mutex protects.
#[derive(Debug, Default)]
pub(crate) struct Queue {
    pub(crate) jobs: VecDeque<Job>,
    /// The worker's waker while it is parked on an empty queue.
    pub(crate) waker: Option<Waker>,
    /// No worker serves this queue (retired or shut down): submitters must go elsewhere.
    pub(crate) closed: bool,
}

/// The submit side of a slot.
#[derive(Debug, Default)]
pub(crate) struct Intake {
    queue: Mutex<Queue>,
    /// Jobs ever assigned to this slot (stolen jobs move with the thief); changed under the lock.
    pushed: AtomicU64,
    /// Jobs ever accepted into this slot's queue by a submitter (never moved); changed under the
    /// lock. The pool's `submitted` is the sum over slots.
    accepted: AtomicU64,
    /// `queue.jobs.len()`, readable without the lock (a hint for thieves).
    len: AtomicUsize,
    /// The worker's `finished` count as of its last batch boundary: balancers read it here, on
    /// the line submitters already own, rather than on the counters line the worker writes per
    /// job. Lags by at most one batch, or one job that waits.
    done: AtomicU64,
}

impl Intake {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Queue> {
        // Only pool code runs under this lock, and it does not panic there.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Call with the lock held, after changing the queue: `delta` jobs added (or removed).
    pub(crate) fn note(&self, q: &Queue, delta: i64) {
        let pushed = self.pushed.load(Relaxed);
        self.pushed
            .store(pushed.wrapping_add_signed(delta), Relaxed);
        self.len.store(q.jobs.len(), Relaxed);
    }

    /// Call with the lock held, after a submitter pushed one job.
    pub(crate) fn note_accepted(&self, q: &Queue) {
        self.note_accepted_many(q, 1);
    }

    /// Call with the lock held, after a submitter pushed `n` jobs.
    pub(crate) fn note_accepted_many(&self, q: &Queue, n: usize) {
        let accepted = self.accepted.load(Relaxed);
        self.accepted.store(accepted + n as u64, Release);
        self.note(q, n as i64);
    }

    pub(crate) fn accepted(&self) -> u64 {
        self.accepted.load(Acquire)
    }

    /// Call with the lock held after jobs left the queue for this slot's own worker.
    pub(crate) fn note_len(&self, q: &Queue) {
        self.len.store(q.jobs.len(), Relaxed);
    }

    pub(crate) fn len_hint(&self) -> usize {
        self.len.load(Relaxed)
    }
}

/// Per-outcome and per-stage counters of one slot, written by its worker only.
#[derive(Debug)]
pub(crate) struct Counters {
    /// Jobs this worker took off a queue to run or discard.
    pub(crate) taken: AtomicU64,
    /// Jobs that reached an outcome on this worker (the sum of the five below).
    pub(crate) finished: AtomicU64,
    pub(crate) succeeded: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) panicked: AtomicU64,
    pub(crate) timed_out: AtomicU64,
    pub(crate) cancelled: AtomicU64,
    pub(crate) queue_wait: Histogram,
    pub(crate) run_time: Histogram,
}

/// Adds one with a plain load and store: only for counters with a single writer.
fn bump(counter: &AtomicU64) {
    counter.store(counter.load(Relaxed) + 1, Release);
}

impl Counters {
    fn new() -> Self {
        Self {
            taken: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            succeeded: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            panicked: AtomicU64::new(0),
            timed_out: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            queue_wait: Histogram::new(),
            run_time: Histogram::new(),
        }
    }

    pub(crate) fn took(&self) {
        bump(&self.taken);
    }

    /// Counts an outcome; `finished` last, so a reader that sees it sees the rest.
    pub(crate) fn ended(&self, kind: OutcomeKind) {
        bump(match kind {
            OutcomeKind::Succeeded => &self.succeeded,
            OutcomeKind::Failed => &self.failed,
            OutcomeKind::Panicked => &self.panicked,
            OutcomeKind::TimedOut => &self.timed_out,
            OutcomeKind::Cancelled => &self.cancelled,
        });
        bump(&self.finished);
    }
}

/// One worker position.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) weight: u32,
    pub(crate) intake: Padded<Intake>,
    pub(crate) counters: Padded<Counters>,
}

impl Slot {
    /// A slot without a worker (its queue closed until one starts).
    pub(crate) fn new(weight: u32) -> Self {
        let intake = Intake::default();
        intake.lock().closed = true;
        Self {
            weight,
            intake: Padded(intake),
            counters: Padded(Counters::new()),
        }
    }

    /// True while a worker serves the slot.
    pub(crate) fn serving(&self) -> bool {
        !self.intake.lock().closed
    }

    /// Jobs assigned to this slot that have not reached an outcome, waiting or running, as of the
    /// worker's last batch boundary (cheap to read on the submit path).
    pub(crate) fn in_flight(&self) -> usize {
        let done = self.intake.done.load(Relaxed);
        let pushed = self.intake.pushed.load(Relaxed);
        pushed.saturating_sub(done) as usize
    }

    /// Publishes the worker's finished count for balancers (called by the slot's worker).
    pub(crate) fn publish_done(&self) {
        let finished = self.counters.finished.load(Relaxed);
        if self.intake.done.load(Relaxed) != finished {
            self.intake.done.store(finished, Relaxed);
        }
    }

    /// True while the worker runs a job.
    pub(crate) fn busy(&self) -> bool {
        let finished = self.counters.finished.load(Acquire);
        self.counters.taken.load(Acquire) > finished
    }
}

/// How many slots the first segment of [`Slots`] holds (a power of two); each next one doubles.
const FIRST: usize = 16;
/// Enough segments for any index a `usize` can hold.
const SEGMENTS: usize = usize::BITS as usize - FIRST.trailing_zeros() as usize;

/// The pool's slots, allocated a segment at a time as workers first need them: segment `k` holds
/// `FIRST << k` slots, so a slot is found with one leading-zeros count, nothing is allocated per
/// configured worker up front, and a pool allowed 10,000 workers that runs 8 holds 16 slots.
/// Segments are allocated in order (workers start at the next index), so the allocated slots
/// are a prefix.
#[derive(Debug)]
pub(crate) struct Slots {
    segments: [OnceLock<Box<[Slot]>>; SEGMENTS],
    /// The weight of each slot that has one set (later slots weigh 1).
    weights: Box<[u32]>,
    /// The most slots there may be.
    max: usize,
}

impl Slots {
    /// Room for `max` slots, slot `i` weighing `weights[i]` (1 past the list); none allocated.
    pub(crate) fn new(max: usize, weights: &[u32]) -> Self {
        Self {
            segments: std::array::from_fn(|_| OnceLock::new()),
            weights: weights.into(),
            max,
        }
    }

    /// The segment of slot `index`, and its place there.
    #[inline]
    fn locate(index: usize) -> (usize, usize) {
        let shifted = index + FIRST;
        let segment =
            (usize::BITS - 1 - shifted.leading_zeros()) as usize - FIRST.trailing_zeros() as usize;
        (segment, shifted - (FIRST << segment))
    }

    /// Slot `index` (below `max`), allocating its segment if no worker needed it yet.
    #[inline]
    pub(crate) fn get(&self, index: usize) -> &Slot {
        let (segment, offset) = Self::locate(index);
        &self.segments[segment].get_or_init(|| self.allocate(segment))[offset]
    }

    #[cold]
    fn allocate(&self, segment: usize) -> Box<[Slot]> {
        let start = (FIRST << segment) - FIRST;
        let end = ((FIRST << (segment + 1)) - FIRST)
            .min(self.max)
            .max(start + 1);
        (start..end)
            .map(|i| Slot::new(self.weights.get(i).copied().unwrap_or(1)))
            .collect()
    }

    /// The slots allocated so far, in index order.
    pub(crate) fn allocated(&self) -> impl Iterator<Item = &Slot> {
        self.segments
            .iter()
            .map_while(OnceLock::get)
            .flat_map(|segment| segment.iter())
    }
}

/// The pool's first `n` slots (the active ones) as balancer candidates, read lazily.
pub(crate) struct SlotView<'a> {
    pub(crate) slots: &'a Slots,
    pub(crate) n: usize,
}

impl Candidates for SlotView<'_> {
    fn len(&self) -> usize {
        self.n
    }
    fn in_flight(&self, index: usize) -> usize {
        self.slots.get(index).in_flight()
    }
    fn weight(&self, index: usize) -> u32 {
        self.slots.get(index).weight
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_found_across_segments_and_allocated_only_when_reached() {
        let slots = Slots::new(10_000, &[5, 6]);
        assert_eq!(slots.allocated().count(), 0);
        assert_eq!(Slots::locate(0), (0, 0));
        assert_eq!(Slots::locate(15), (0, 15));
        assert_eq!(Slots::locate(16), (1, 0));
        assert_eq!(Slots::locate(47), (1, 31));
        assert_eq!(Slots::locate(48), (2, 0));
        assert_eq!(slots.get(1).weight, 6);
        assert_eq!(slots.get(2).weight, 1);
        assert_eq!(slots.allocated().count(), FIRST);
        for i in 0..10_000 {
            assert!(std::ptr::eq(slots.get(i), slots.get(i)));
        }
        assert_eq!(
            slots.allocated().count(),
            10_000,
            "the last segment stops at the maximum"
        );
        let small = Slots::new(3, &[]);
        small.get(2);
        assert_eq!(small.allocated().count(), 3);
    }
}

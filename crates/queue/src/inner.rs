//! [`Core`]: the queue's state and rules, single-threaded. The caller passes `now` when it read
//! the clock; otherwise the core reads it only when a delayed task is waiting. Inside, time is
//! kept in ticks: nanoseconds since the queue's epoch, as `u64` (584 years).
//! [`PriorityQueue`](crate::PriorityQueue) wraps it in a mutex and adds waiting.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Duration;

use tokio::time::Instant;

use crate::level::Level;
use crate::stats::{LevelCounts, QueueStats, WaitStats};

use crate::{Aging, Popped, Priority, PushError, PushOptions, TaskId};

/// A delayed task, waiting for its not-before instant.
#[derive(Debug)]
struct Delayed<T> {
    level: usize,
    due: u64,
    item: T,
}

/// What a push did, so the caller knows whom to wake once the lock is released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pushed {
    pub(crate) id: TaskId,
    pub(crate) wake: Wake,
}

/// Whom to wake after an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wake {
    /// Nobody is waiting, or nothing changed for them.
    Nobody,
    /// One waiter can make progress.
    One,
    /// Every waiter must look again (the earliest due instant moved earlier).
    All,
}

/// Why a pop found nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PopMiss {
    /// Nothing ready; the earliest delayed task is due at `next_due`, if any.
    Empty { next_due: Option<Instant> },
    /// Closed and drained.
    Closed,
}

/// The queue's state. The clock it is handed is clamped to never go backwards, so tasks in each
/// level stay sorted by the instant they became ready.
#[derive(Debug)]
pub(crate) struct Core<T> {
    /// Indexed by `Priority::index` (0 = `Critical`).
    levels: [Level<T>; 5],
    /// Bit `i` is set when `levels[i]` is not empty.
    mask: u8,
    /// `(due, id)` of delayed tasks, earliest first; entries whose id left `delayed` are stale.
    due: BinaryHeap<Reverse<(u64, u64)>>,
    delayed: HashMap<u64, Delayed<T>>,
    /// Tasks that were delayed and are now queued: id -> (level, pos), and back from pos to id.
    /// Every other queued task's position is its id.
    promoted: HashMap<u64, (usize, u64)>,
    promoted_ids: HashMap<u64, u64>,
    /// The next id or position (they share one counter, so no position equals another task's id).
    next: u64,
    /// Tick 0.
    epoch: Instant,
    /// The latest clock reading seen, in ticks (the clock is clamped to never go backwards).
    last_now: u64,
    aging_step: Option<Duration>,
    track_waits: bool,
    capacity: Option<usize>,
    /// Queued plus delayed tasks.
    len: usize,
    closed: bool,
    // Every accepted task is queued, delayed, popped or cancelled: `pushed` is derived.
    popped: u64,
    cancelled: u64,
    /// Sum of the waits of popped tasks, in nanoseconds (a `u128` never overflows here).
    wait_total: u128,
    wait_max: Duration,
    /// Consumers and producers blocked in `pop`/`push`, so that wake-ups are skipped when nobody
    /// waits.
    pub(crate) pop_waiters: usize,
    pub(crate) push_waiters: usize,
}

impl<T> Core<T> {
    pub(crate) fn new(
        capacity: Option<usize>,
        aging: Aging,
        track_waits: bool,
        now: Instant,
    ) -> Core<T> {
        Core {
            levels: std::array::from_fn(|_| Level::new()),
            mask: 0,
            due: BinaryHeap::new(),
            delayed: HashMap::new(),
            promoted: HashMap::new(),
            promoted_ids: HashMap::new(),
            next: 0,
            epoch: now,
            last_now: 0,
            aging_step: aging.step(),
            track_waits,
            capacity,
            len: 0,
            closed: false,
            popped: 0,
            cancelled: 0,
            wait_total: 0,
            wait_max: Duration::ZERO,
            pop_waiters: 0,
            push_waiters: 0,
        }
    }

    /// Whether every push and pop must read the clock (otherwise only delayed tasks need it).
    pub(crate) fn needs_clock(&self) -> bool {
        self.track_waits || self.aging_step.is_some()
    }

    /// The current time if the operation needs it: `now` when the caller read the clock, else a
    /// fresh reading only if a delayed task may be due. Promotes the delayed tasks now due.
    #[inline]
    fn observe(&mut self, now: Option<Instant>) -> Option<u64> {
        match now {
            Some(now) => Some(self.advance(now)),
            None if !self.due.is_empty() => Some(self.advance(Instant::now())),
            None => None,
        }
    }

    /// Moves the clock to `now` (never backwards) and promotes the delayed tasks now due.
    #[inline]
    fn advance(&mut self, now: Instant) -> u64 {
        let t = self.ticks(now).max(self.last_now);
        self.last_now = t;
        if !self.due.is_empty() {
            self.promote_due(t);
        }
        t
    }

    /// `t` in ticks (saturating at both ends).
    #[inline]
    fn ticks(&self, t: Instant) -> u64 {
        let since = t.saturating_duration_since(self.epoch);
        u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
    }

    fn instant(&self, ticks: u64) -> Instant {
        self.epoch + Duration::from_nanos(ticks)
    }

    /// Moves every delayed task due by `t` to the back of its level, earliest due first.
    fn promote_due(&mut self, t: u64) {
        while let Some(&Reverse((due, id))) = self.due.peek() {
            if due > t {
                break;
            }
            self.due.pop();
            if let Some(d) = self.delayed.remove(&id) {
                let pos = self.next;
                self.next += 1;
                self.levels[d.level].push(pos, d.due, d.item);
                self.mask |= 1 << d.level;
                self.promoted.insert(id, (d.level, pos));
                self.promoted_ids.insert(pos, id);
            }
        }
    }

    /// The earliest due instant of a delayed task, dropping stale heap entries on the way.
    fn next_due(&mut self) -> Option<Instant> {
        while let Some(&Reverse((due, id))) = self.due.peek() {
            if self.delayed.contains_key(&id) {
                return Some(self.instant(due));
            }
            self.due.pop();
        }
        None
    }

    #[inline]
    /// Pushes `item`. `now` must be given when the queue `needs_clock` or `opts` has a
    /// not-before instant.
    pub(crate) fn push(
        &mut self,
        item: T,
        opts: PushOptions,
        now: Option<Instant>,
    ) -> Result<Pushed, PushError<T>> {
        if self.closed {
            return Err(PushError::Closed(item));
        }
        if self.capacity.is_some_and(|cap| self.len >= cap) {
            return Err(PushError::Full(item));
        }
        let t = self.observe(now);
        let id = self.next;
        self.next += 1;
        self.len += 1;
        let level = opts.get_priority().index();
        if let Some(not_before) = opts.get_not_before() {
            let t = t.expect("the caller reads the clock for a delayed push");
            let due = self.ticks(not_before);
            if due > t {
                let earliest = self.due.peek().is_none_or(|Reverse((d, _))| due < *d);
                self.due.push(Reverse((due, id)));
                self.delayed.insert(id, Delayed { level, due, item });
                let wake = if earliest && self.pop_waiters > 0 {
                    Wake::All
                } else {
                    Wake::Nobody
                };
                return Ok(Pushed {
                    id: TaskId::from_raw(id),
                    wake,
                });
            }
        }
        // Without a clock reading, `last_now` stands in: it keeps the level sorted, and it is
        // only read back when the queue tracks waits or ages tasks, which always read the clock.
        self.levels[level].push(id, t.unwrap_or(self.last_now), item);
        self.mask |= 1 << level;
        let wake = if self.pop_waiters > 0 {
            Wake::One
        } else {
            Wake::Nobody
        };
        Ok(Pushed {
            id: TaskId::from_raw(id),
            wake,
        })
    }

    /// The level to serve next at time `t`, if any task is ready: the highest non-empty one,
    /// unless tasks age (then see [`pick_aged`](Self::pick_aged)).
    #[inline(always)]
    fn pick(&self, t: Option<u64>) -> Option<usize> {
        if self.mask == 0 {
            return None;
        }
        match (self.aging_step, t) {
            (Some(step), Some(t)) => self.pick_aged(step, t),
            _ => Some(self.mask.trailing_zeros() as usize),
        }
    }

    /// [`pick`](Self::pick) when tasks age.
    fn pick_aged(&self, step: Duration, t: u64) -> Option<usize> {
        // Aging: among level heads, the highest effective priority (lowest index after the
        // boost), then the one ready first, then the higher pushed priority.
        let step = step.as_nanos();
        let mut best: Option<(usize, u64, usize)> = None;
        let mut mask = self.mask;
        while mask != 0 {
            let level = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            let head = self.levels[level]
                .front()
                .expect("mask bit set for empty level");
            let boost = u128::from(t.saturating_sub(head.ready)) / step;
            let effective = level.saturating_sub(usize::try_from(boost).unwrap_or(usize::MAX));
            let key = (effective, head.ready, level);
            if best.is_none_or(|b| key < b) {
                best = Some(key);
            }
        }
        best.map(|(_, _, level)| level)
    }

    #[inline]
    /// Pops the next task. `now` must be given when the queue `needs_clock`.
    pub(crate) fn pop(&mut self, now: Option<Instant>) -> Result<Popped<T>, PopMiss> {
        let t = self.observe(now);
        match self.pick(t) {
            Some(level) => Ok(self.take(level, t)),
            None => Err(self.miss()),
        }
    }

    /// Pops up to `max` ready tasks into `into`, in the order `pop` would, with the clock
    /// observed once: how many, or why none (`max` must not be zero).
    pub(crate) fn pop_many(
        &mut self,
        now: Option<Instant>,
        max: usize,
        into: &mut Vec<Popped<T>>,
    ) -> Result<usize, PopMiss> {
        let t = self.observe(now);
        let mut popped = 0;
        while popped < max {
            let Some(level) = self.pick(t) else { break };
            into.push(self.take(level, t));
            popped += 1;
        }
        if popped == 0 {
            return Err(self.miss());
        }
        Ok(popped)
    }

    /// Why nothing can be popped now.
    #[cold]
    fn miss(&mut self) -> PopMiss {
        if self.closed && self.len == 0 {
            PopMiss::Closed
        } else {
            PopMiss::Empty {
                next_due: self.next_due(),
            }
        }
    }

    /// Takes the next task of `level` (picked at time `t`).
    #[inline]
    fn take(&mut self, level: usize, t: Option<u64>) -> Popped<T> {
        let lvl = &mut self.levels[level];
        let (pos, ready, item) = lvl.pop().expect("picked level is not empty");
        if lvl.is_empty() {
            self.mask &= !(1 << level);
        }
        let id = if self.promoted_ids.is_empty() {
            pos
        } else if let Some(id) = self.promoted_ids.remove(&pos) {
            self.promoted.remove(&id);
            id
        } else {
            pos
        };
        self.len -= 1;
        self.popped += 1;
        let waited = match t {
            Some(t) if self.track_waits => {
                let waited = Duration::from_nanos(t.saturating_sub(ready));
                self.wait_total += waited.as_nanos();
                self.wait_max = self.wait_max.max(waited);
                Some(waited)
            }
            _ => None,
        };
        Popped::new(
            TaskId::from_raw(id),
            Priority::from_index(level),
            item,
            waited,
        )
    }

    /// Removes a queued or delayed task, returning its item.
    pub(crate) fn cancel(&mut self, id: TaskId) -> Option<T> {
        let id = id.get();
        let item = if let Some(d) = self.delayed.remove(&id) {
            // Its heap entry is now stale; rebuild the heap if stale entries dominate.
            if self.due.len() > 2 * self.delayed.len() + 64 {
                self.due = self
                    .delayed
                    .iter()
                    .map(|(id, d)| Reverse((d.due, *id)))
                    .collect();
            }
            d.item
        } else {
            let (levels, pos) = match self.promoted.get(&id) {
                Some(&(level, pos)) => (level..level + 1, pos),
                // A raw id equal to a promoted task's position names no task.
                None if self.promoted_ids.contains_key(&id) => return None,
                None => (0..5, id),
            };
            let (level, item) = levels
                .into_iter()
                .find_map(|l| self.levels[l].remove(pos).map(|item| (l, item)))?;
            if pos != id {
                self.promoted.remove(&id);
                self.promoted_ids.remove(&pos);
            }
            if self.levels[level].is_empty() {
                self.mask &= !(1 << level);
            }
            item
        };
        self.len -= 1;
        self.cancelled += 1;
        Some(item)
    }

    /// Closes the queue; returns whether it was open.
    pub(crate) fn close(&mut self) -> bool {
        !std::mem::replace(&mut self.closed, true)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn capacity(&self) -> Option<usize> {
        self.capacity
    }

    /// Whether a blocked producer should be woken now that a slot was freed.
    pub(crate) fn wake_after_free(&self) -> Wake {
        if self.push_waiters > 0 {
            Wake::One
        } else {
            Wake::Nobody
        }
    }

    /// Queued (not delayed) tasks at `priority` at time `now`.
    pub(crate) fn len_of(&mut self, priority: Priority, now: Instant) -> usize {
        self.advance(now);
        self.levels[priority.index()].len()
    }

    pub(crate) fn stats(&mut self, now: Instant) -> QueueStats {
        self.advance(now);
        let mut depth = LevelCounts::default();
        for p in Priority::ALL {
            depth[p] = self.levels[p.index()].len();
        }
        QueueStats {
            depth,
            delayed: self.delayed.len(),
            capacity: self.capacity,
            closed: self.closed,
            pushed: self.popped + self.cancelled + self.len as u64,
            popped: self.popped,
            cancelled: self.cancelled,
            waits: if self.track_waits {
                WaitStats::from_parts(self.popped, self.wait_total, self.wait_max)
            } else {
                WaitStats::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core(aging: Aging) -> (Core<u32>, Instant) {
        let t0 = Instant::now();
        (Core::new(None, aging, true, t0), t0)
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn strict_priority_then_fifo() {
        let (mut c, t0) = core(Aging::off());
        for (i, p) in [
            Priority::Low,
            Priority::High,
            Priority::Low,
            Priority::Critical,
        ]
        .into_iter()
        .enumerate()
        {
            c.push(i as u32, p.into(), Some(t0)).unwrap();
        }
        let order: Vec<u32> = std::iter::from_fn(|| c.pop(Some(t0)).ok().map(|p| p.item)).collect();
        assert_eq!(order, [3, 1, 0, 2]);
        assert_eq!(c.pop(Some(t0)), Err(PopMiss::Empty { next_due: None }));
    }

    #[test]
    fn delayed_task_joins_its_level_when_due() {
        let (mut c, t0) = core(Aging::off());
        let opts = PushOptions::new().not_before(t0 + ms(10));
        let delayed = c.push(1, opts, Some(t0)).unwrap().id;
        assert_eq!(
            c.pop(Some(t0)),
            Err(PopMiss::Empty {
                next_due: Some(t0 + ms(10))
            })
        );
        c.push(2, Priority::Normal.into(), Some(t0 + ms(5)))
            .unwrap();
        // Pushed later but ready earlier: 2 goes first; then the delayed one once due.
        c.push(3, Priority::Normal.into(), Some(t0 + ms(12)))
            .unwrap();
        let p = c.pop(Some(t0 + ms(20))).unwrap();
        assert_eq!((p.item, p.waited), (2, Some(ms(15))));
        let p = c.pop(Some(t0 + ms(20))).unwrap();
        assert_eq!((p.id, p.item, p.waited), (delayed, 1, Some(ms(10))));
        assert_eq!(c.pop(Some(t0 + ms(20))).unwrap().item, 3);
    }

    #[test]
    fn clock_never_goes_backwards() {
        let (mut c, t0) = core(Aging::off());
        c.push(1, Priority::Normal.into(), Some(t0 + ms(10)))
            .unwrap();
        let p = c.pop(Some(t0 + ms(5))).unwrap();
        assert_eq!(p.waited, Some(Duration::ZERO));
    }

    #[test]
    fn cancel_finds_queued_delayed_and_promoted_tasks() {
        let (mut c, t0) = core(Aging::off());
        let a = c.push(1, Priority::High.into(), Some(t0)).unwrap().id;
        let b = c
            .push(2, PushOptions::new().not_before(t0 + ms(1)), Some(t0))
            .unwrap()
            .id;
        let d = c
            .push(3, PushOptions::new().not_before(t0 + ms(1)), Some(t0))
            .unwrap()
            .id;
        assert_eq!(c.cancel(b), Some(2), "delayed");
        assert_eq!(c.cancel(b), None);
        assert_eq!(c.len_of(Priority::Normal, t0 + ms(2)), 1, "d promoted");
        // `d`'s position is a fresh number; a raw id equal to it must not cancel it.
        let (_, pos) = c.promoted[&d.get()];
        assert_eq!(c.cancel(TaskId::from_raw(pos)), None);
        assert_eq!(c.cancel(d), Some(3), "promoted");
        assert_eq!(c.cancel(a), Some(1), "queued");
        assert_eq!(c.cancel(TaskId::from_raw(999)), None);
        assert_eq!(c.len(), 0);
        assert_eq!(c.mask, 0);
        assert!(c.promoted.is_empty() && c.promoted_ids.is_empty());
        let s = c.stats(t0 + ms(2));
        assert_eq!((s.pushed, s.cancelled, s.popped), (3, 3, 0));
    }

    #[test]
    fn stale_heap_entries_are_rebuilt_away() {
        let (mut c, t0) = core(Aging::off());
        let ids: Vec<TaskId> = (0..1000)
            .map(|i| {
                let opts = PushOptions::new().not_before(t0 + ms(1 + i));
                c.push(i as u32, opts, Some(t0)).unwrap().id
            })
            .collect();
        for id in &ids[..990] {
            c.cancel(*id).unwrap();
        }
        assert!(c.due.len() <= 2 * c.delayed.len() + 64);
        assert_eq!(c.next_due(), Some(t0 + ms(991)));
    }

    #[test]
    fn aging_lifts_old_low_tasks() {
        let (mut c, t0) = core(Aging::every(ms(10)));
        c.push(0, Priority::Background.into(), Some(t0)).unwrap();
        c.push(1, Priority::Critical.into(), Some(t0 + ms(39)))
            .unwrap();
        // At 39 ms the background task has risen 3 levels (to High): critical wins.
        assert_eq!(c.pop(Some(t0 + ms(39))).unwrap().item, 1);
        c.push(2, Priority::Critical.into(), Some(t0 + ms(39)))
            .unwrap();
        // At 40 ms it is effectively Critical and older: it wins the tie.
        let p = c.pop(Some(t0 + ms(40))).unwrap();
        assert_eq!((p.item, p.priority), (0, Priority::Background));
    }

    #[test]
    fn without_wait_tracking_no_clock_is_needed() {
        let t0 = Instant::now();
        let mut c: Core<u32> = Core::new(None, Aging::off(), false, t0);
        assert!(!c.needs_clock());
        c.push(1, Priority::Low.into(), None).unwrap();
        c.push(2, Priority::High.into(), None).unwrap();
        let far = PushOptions::new().not_before(t0 + Duration::from_secs(3600));
        c.push(3, far, Some(t0)).unwrap();
        // With a delayed task waiting, the core reads the clock itself; it is not due.
        let p = c.pop(None).unwrap();
        assert_eq!((p.item, p.waited), (2, None));
        assert_eq!(c.pop(None).unwrap().item, 1);
        assert!(matches!(
            c.pop(None),
            Err(PopMiss::Empty { next_due: Some(_) })
        ));
        let s = c.stats(t0);
        assert_eq!((s.popped, s.waits.count, s.delayed), (2, 0, 1));
        let aging: Core<u32> = Core::new(None, Aging::every(ms(1)), false, t0);
        assert!(aging.needs_clock());
    }

    #[test]
    fn bounded_counts_delayed_tasks() {
        let mut c: Core<u32> = Core::new(Some(2), Aging::off(), true, Instant::now());
        let t0 = c.epoch;
        c.push(1, PushOptions::new().not_before(t0 + ms(5)), Some(t0))
            .unwrap();
        c.push(2, Priority::Low.into(), Some(t0)).unwrap();
        assert_eq!(
            c.push(3, Priority::Low.into(), Some(t0)),
            Err(PushError::Full(3))
        );
        assert!(c.close());
        assert!(!c.close());
        assert_eq!(
            c.push(4, Priority::Low.into(), Some(t0)),
            Err(PushError::Closed(4))
        );
        assert_eq!(c.pop(Some(t0)).unwrap().item, 2);
        assert!(matches!(
            c.pop(Some(t0)),
            Err(PopMiss::Empty { next_due: Some(_) })
        ));
        assert_eq!(c.pop(Some(t0 + ms(5))).unwrap().item, 1);
        assert_eq!(c.pop(Some(t0 + ms(5))), Err(PopMiss::Closed));
    }
}

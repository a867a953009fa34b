//! Lock-free failure-rate windows: the last N calls ([`CallWindow`]) and the last D of time
//! ([`TimeWindow`]).
//!
//! Both keep exact counts when used from one thread at a time. Under concurrency every slot or
//! bucket change is a single atomic step, so no outcome is lost, but a reader may see a rate
//! that is one or two in-flight updates old, and an outcome recorded while the breaker closes
//! may land in the cleared window.

use std::sync::atomic::{AtomicI64, AtomicU8, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Failures and calls currently in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Totals {
    pub(crate) failures: u32,
    pub(crate) calls: u32,
}

impl Totals {
    /// Whether these totals trip a policy with `rate` and `min_calls`.
    pub(crate) fn trips(self, rate: f64, min_calls: u32) -> bool {
        self.calls >= min_calls.max(1) && f64::from(self.failures) / f64::from(self.calls) >= rate
    }
}

const EMPTY: u8 = 0;
const OK: u8 = 1;
const FAIL: u8 = 2;

/// The outcomes of the last `n` calls: a ring of `n` byte slots written at a shared cursor,
/// plus counts of failed and non-empty slots kept in step with every slot change.
#[derive(Debug)]
pub(crate) struct CallWindow {
    slots: Box<[AtomicU8]>,
    cursor: AtomicU64,
    failures: AtomicI64,
    filled: AtomicI64,
}

impl CallWindow {
    pub(crate) fn new(n: u32) -> Self {
        Self {
            slots: (0..n.max(1)).map(|_| AtomicU8::new(EMPTY)).collect(),
            cursor: AtomicU64::new(0),
            failures: AtomicI64::new(0),
            filled: AtomicI64::new(0),
        }
    }

    /// Records one outcome; a success that overwrites a success only reads the slot.
    pub(crate) fn record(&self, failed: bool) {
        let len = self.slots.len() as u64;
        let slot = &self.slots[(self.cursor.fetch_add(1, Relaxed) % len) as usize];
        let new = if failed { FAIL } else { OK };
        if slot.load(Relaxed) != new {
            let old = slot.swap(new, Relaxed);
            self.account(old, new);
        }
    }

    /// Keeps the counts in step with a slot that went from `old` to `new`.
    fn account(&self, old: u8, new: u8) {
        match (old == EMPTY, new == EMPTY) {
            (true, false) => {
                self.filled.fetch_add(1, Relaxed);
            }
            (false, true) => {
                self.filled.fetch_sub(1, Relaxed);
            }
            _ => {}
        }
        match (old == FAIL, new == FAIL) {
            (false, true) => {
                self.failures.fetch_add(1, Relaxed);
            }
            (true, false) => {
                self.failures.fetch_sub(1, Relaxed);
            }
            _ => {}
        }
    }

    pub(crate) fn totals(&self) -> Totals {
        let clamp = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
        let calls = clamp(self.filled.load(Relaxed));
        Totals {
            failures: clamp(self.failures.load(Relaxed)).min(calls),
            calls,
        }
    }

    /// Empties every slot.
    pub(crate) fn clear(&self) {
        for slot in &self.slots {
            if slot.load(Relaxed) != EMPTY {
                let old = slot.swap(EMPTY, Relaxed);
                self.account(old, EMPTY);
            }
        }
    }
}

/// Number of buckets of a [`TimeWindow`] (a power of two, so generation tags wrap cleanly).
pub(crate) const BUCKETS: u64 = 16;

/// The outcomes of the last `d`: 16 buckets of `d / 16`, each one atomic word holding the low
/// 32 bits of its bucket number (the tag) and 16-bit failure and success counts.
#[derive(Debug)]
pub(crate) struct TimeWindow {
    width_nanos: u64,
    buckets: [AtomicU64; BUCKETS as usize],
}

const fn pack(tag: u32, failures: u16, successes: u16) -> u64 {
    ((tag as u64) << 32) | ((failures as u64) << 16) | successes as u64
}

const fn unpack(word: u64) -> (u32, u16, u16) {
    ((word >> 32) as u32, (word >> 16) as u16, word as u16)
}

impl TimeWindow {
    pub(crate) fn new(d: Duration) -> Self {
        Self {
            width_nanos: bucket_width_nanos(d),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// Records one outcome at `now_nanos` (nanoseconds since the breaker was built).
    pub(crate) fn record(&self, now_nanos: u64, failed: bool) {
        let epoch = now_nanos / self.width_nanos;
        let bucket = &self.buckets[(epoch % BUCKETS) as usize];
        let tag = epoch as u32;
        let mut current = bucket.load(Relaxed);
        loop {
            let (old_tag, mut failures, mut successes) = unpack(current);
            if old_tag != tag {
                (failures, successes) = (0, 0);
            }
            let count = if failed { failures } else { successes };
            if count == u16::MAX {
                (failures, successes) = (failures / 2, successes / 2);
            }
            if failed {
                failures += 1;
            } else {
                successes += 1;
            }
            match bucket.compare_exchange_weak(
                current,
                pack(tag, failures, successes),
                Relaxed,
                Relaxed,
            ) {
                Ok(_) => return,
                Err(seen) => current = seen,
            }
        }
    }

    /// The outcomes in the current bucket and the 15 before it.
    pub(crate) fn totals(&self, now_nanos: u64) -> Totals {
        let epoch = now_nanos / self.width_nanos;
        let mut totals = Totals::default();
        for back in 0..BUCKETS.min(epoch + 1) {
            let e = epoch - back;
            let (tag, failures, successes) =
                unpack(self.buckets[(e % BUCKETS) as usize].load(Relaxed));
            if tag == e as u32 {
                totals.failures += u32::from(failures);
                totals.calls += u32::from(failures) + u32::from(successes);
            }
        }
        totals
    }

    pub(crate) fn clear(&self) {
        for bucket in &self.buckets {
            bucket.store(0, Relaxed);
        }
    }
}

/// The width of one of the 16 buckets of a window of `d`: `d / 16` rounded up, at least 1 ns.
pub(crate) fn bucket_width_nanos(d: Duration) -> u64 {
    let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    nanos.div_ceil(BUCKETS).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    #[test]
    fn trips_needs_min_calls_and_rate() {
        let t = Totals {
            failures: 2,
            calls: 4,
        };
        assert!(t.trips(0.5, 4));
        assert!(!t.trips(0.5, 5));
        assert!(!t.trips(0.51, 4));
        assert!(!Totals::default().trips(0.5, 0), "no calls never trips");
        assert!(
            Totals {
                failures: 1,
                calls: 1
            }
            .trips(1.0, 0),
            "min_calls 0 behaves like 1"
        );
    }

    #[test]
    fn call_window_keeps_the_last_n() {
        let w = CallWindow::new(3);
        w.record(true);
        w.record(false);
        assert_eq!(
            w.totals(),
            Totals {
                failures: 1,
                calls: 2
            }
        );
        w.record(false);
        w.record(false); // overwrites the failure
        assert_eq!(
            w.totals(),
            Totals {
                failures: 0,
                calls: 3
            }
        );
        w.clear();
        assert_eq!(w.totals(), Totals::default());
        w.record(true);
        assert_eq!(
            w.totals(),
            Totals {
                failures: 1,
                calls: 1
            }
        );
    }

    #[test]
    fn time_window_forgets_buckets_older_than_16() {
        let w = TimeWindow::new(Duration::from_nanos(160)); // buckets of 10 ns
        w.record(0, true);
        w.record(5, false);
        w.record(155, true);
        assert_eq!(
            w.totals(159),
            Totals {
                failures: 2,
                calls: 3
            }
        );
        assert_eq!(
            w.totals(160),
            Totals {
                failures: 1,
                calls: 1
            },
            "bucket 0 left the window"
        );
        w.record(165, false); // reuses bucket 0's slot with a new tag
        assert_eq!(
            w.totals(165),
            Totals {
                failures: 1,
                calls: 2
            }
        );
        w.clear();
        assert_eq!(w.totals(165), Totals::default());
    }

    #[test]
    fn time_window_halves_a_saturated_bucket() {
        let w = TimeWindow::new(Duration::from_secs(16));
        for _ in 0..u32::from(u16::MAX) {
            w.record(0, false);
        }
        w.record(0, false); // the 65,536th success halves the bucket first
        w.record(0, true);
        let t = w.totals(0);
        assert_eq!(
            t,
            Totals {
                failures: 1,
                calls: u32::from(u16::MAX / 2) + 2
            }
        );
    }

    #[test]
    fn bucket_width_rounds_up() {
        assert_eq!(bucket_width_nanos(Duration::from_nanos(1)), 1);
        assert_eq!(bucket_width_nanos(Duration::from_nanos(17)), 2);
        assert_eq!(bucket_width_nanos(Duration::from_secs(16)), 1_000_000_000);
    }

    #[test]
    fn concurrent_records_are_all_counted() {
        let calls = CallWindow::new(10_000);
        let time = TimeWindow::new(Duration::from_secs(16));
        std::thread::scope(|s| {
            for t in 0..4 {
                let (calls, time) = (&calls, &time);
                s.spawn(move || {
                    for i in 0..2_000 {
                        let failed = (i + t) % 4 == 0;
                        calls.record(failed);
                        time.record(0, failed);
                    }
                });
            }
        });
        assert_eq!(
            calls.totals(),
            Totals {
                failures: 2_000,
                calls: 8_000
            }
        );
        assert_eq!(
            time.totals(0),
            Totals {
                failures: 2_000,
                calls: 8_000
            }
        );
    }

    proptest! {
        #[test]
        fn call_window_matches_a_deque(
            n in 1u32..8,
            ops in proptest::collection::vec(prop_oneof![8 => any::<bool>().prop_map(Some), 1 => Just(None)], 0..60),
        ) {
            let w = CallWindow::new(n);
            let mut model = VecDeque::new();
            for op in ops {
                match op {
                    Some(failed) => {
                        w.record(failed);
                        model.push_back(failed);
                        if model.len() > n as usize {
                            model.pop_front();
                        }
                    }
                    None => {
                        w.clear();
                        model.clear();
                    }
                }
                let failures = model.iter().filter(|f| **f).count() as u32;
                prop_assert_eq!(w.totals(), Totals { failures, calls: model.len() as u32 });
            }
        }

        #[test]
        fn time_window_matches_a_log(
            ops in proptest::collection::vec((0u64..40, any::<bool>()), 0..60),
        ) {
            let w = TimeWindow::new(Duration::from_nanos(160));
            let mut now = 0;
            let mut log: Vec<(u64, bool)> = Vec::new();
            for (step, failed) in ops {
                now += step;
                w.record(now, failed);
                log.push((now / 10, failed));
                let epoch = now / 10;
                let live: Vec<_> = log.iter().filter(|(e, _)| epoch - e < BUCKETS).collect();
                let failures = live.iter().filter(|(_, f)| *f).count() as u32;
                prop_assert_eq!(w.totals(now), Totals { failures, calls: live.len() as u32 });
            }
        }
    }
}

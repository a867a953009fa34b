//! [`Prefetch`]: how many attempts the engine hands the executor beyond its capacity.
//!
//! With none, the queue decides every start (strict priority), but each start waits for the
//! engine to learn that a worker is free: a cross-thread round trip per attempt, which is most of
//! the cost of a task that runs for a microsecond. Attempts handed over early wait beside the
//! workers, so workers never idle and the engine hands over (and learns of ends) in batches; the
//! price is that an urgent task that becomes ready meanwhile waits behind them.
//!
//! [`Prefetch::Adaptive`] (the default) keeps that price under a latency budget: it measures how
//! long attempts take from hand-over to end, and hands over early only as many as the workers get
//! through within the budget. Attempts of a microsecond get a deep prefetch; attempts of a
//! millisecond or more get none, so the queue's order holds exactly where it matters.
//!
//! The time from hand-over to end includes the wait behind attempts handed over earlier, which
//! grows with the prefetch itself; counted as work, it would shrink the allowance the deeper it
//! got. So each sample is scaled by Little's law to the work it stands for: an attempt that ended
//! with `n` attempts in flight on `c` workers took `took × min(n, c) / n` of a worker.

use std::time::Duration;

/// How many attempts the engine hands the executor beyond its
/// [`capacity`](crate::Executor::capacity).
///
/// ```
/// use std::time::Duration;
/// use baton_orchestrator::{Orchestrator, Prefetch};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // Strict priority: every start is the queue's decision.
/// let strict = Orchestrator::builder().prefetch(0).build()?;
/// // Hand over early only while it delays an urgent task by at most 100 µs.
/// let tight = Orchestrator::builder()
///     .prefetch(Prefetch::adaptive(Duration::from_micros(100)))
///     .build()?;
/// assert_eq!(Prefetch::default(), Prefetch::adaptive(Duration::from_millis(1)));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Prefetch {
    /// Always this many (0: strict priority; reported start times are when a worker took the
    /// attempt, give or take the hand-over).
    Fixed(usize),
    /// As many as keep the delay of an urgent task under `budget` (see the module notes), up to
    /// [`Prefetch::MAX_PER_WORKER`] per unit of capacity; none until the first attempts have ended.
    Adaptive {
        /// The most an attempt handed over early may delay a more urgent one.
        budget: Duration,
    },
}

impl Prefetch {
    /// The adaptive prefetch's ceiling, per unit of executor capacity.
    pub const MAX_PER_WORKER: usize = 1024;

    /// [`Prefetch::Adaptive`] with this latency budget. A zero budget hands nothing over early:
    /// the same as `Fixed(0)`.
    pub fn adaptive(budget: Duration) -> Self {
        Self::Adaptive { budget }
    }
}

impl Default for Prefetch {
    /// Adaptive, with a budget of 1 ms.
    fn default() -> Self {
        Self::adaptive(Duration::from_millis(1))
    }
}

impl From<usize> for Prefetch {
    /// A fixed prefetch.
    fn from(n: usize) -> Self {
        Self::Fixed(n)
    }
}

/// The engine's side: the current allowance, from a moving average of the time each attempt
/// takes a worker.
#[derive(Debug, Clone)]
pub(crate) struct Allowance {
    mode: Prefetch,
    capacity: usize,
    /// Exponential moving average (weight 1/8) of the worker time per attempt, in nanoseconds.
    average_ns: u64,
    samples: u64,
    extra: usize,
}

impl Allowance {
    pub(crate) fn new(mode: Prefetch, capacity: usize) -> Self {
        let mut allowance = Self {
            mode,
            capacity: capacity.max(1),
            average_ns: 0,
            samples: 0,
            extra: 0,
        };
        allowance.extra = allowance.compute();
        allowance
    }

    /// Follows the executor's capacity as it changes (agents come and go).
    #[inline]
    pub(crate) fn follow(&mut self, capacity: usize) {
        let capacity = capacity.max(1);
        if capacity != self.capacity {
            self.capacity = capacity;
            self.extra = self.compute();
        }
    }

    /// How many attempts may be with the executor at once.
    pub(crate) fn limit(&self) -> usize {
        self.capacity.saturating_add(self.extra)
    }

    /// An attempt ended `took` nanoseconds after it was handed over, with `in_flight` attempts
    /// (itself included) with the executor; the limit follows at once.
    #[cfg(test)]
    pub(crate) fn record(&mut self, took: u64, in_flight: usize) {
        let scale = self.scale(in_flight);
        self.sample(took, scale);
        self.settle();
    }

    /// The factor by which Little's law scales a sample that ended with `in_flight` attempts
    /// (itself included) with the executor: with more in flight than workers, part of its time
    /// was the wait behind the others, and `min(in_flight, capacity) / in_flight` of it was work.
    /// A fraction in 2^-32ths, rounded up, so that a batch of samples that share it costs one
    /// division, not one each.
    pub(crate) fn scale(&self, in_flight: usize) -> u64 {
        let in_flight = in_flight.max(1) as u128;
        let busy = in_flight.min(self.capacity as u128);
        // At most 2^32: busy <= in_flight.
        u64::try_from((busy << 32).div_ceil(in_flight)).unwrap_or(1 << 32)
    }

    /// As [`record`](Self::record), with the [`scale`](Self::scale) of the batch the sample is
    /// from, and without updating the limit: the engine takes a batch of samples, then
    /// [`settle`](Self::settle)s once (the limit is read only between batches). A multiply and a
    /// shift per attempt.
    pub(crate) fn sample(&mut self, took: u64, scale: u64) {
        if let Prefetch::Fixed(_) = self.mode {
            return;
        }
        let took = u64::try_from((u128::from(took) * u128::from(scale)) >> 32).unwrap_or(u64::MAX);
        self.samples += 1;
        self.average_ns = if self.samples == 1 {
            took
        } else {
            // avg += (took - avg) / 8, in integers without overflow.
            let avg = self.average_ns;
            if took >= avg {
                avg + (took - avg) / 8
            } else {
                avg - (avg - took) / 8
            }
        };
    }

    /// Updates the limit from the samples so far.
    pub(crate) fn settle(&mut self) {
        self.extra = self.compute();
    }

    fn compute(&self) -> usize {
        match self.mode {
            Prefetch::Fixed(n) => n,
            // Until as many attempts as the executor holds have ended, nothing is known.
            Prefetch::Adaptive { .. } if self.samples < self.capacity as u64 => 0,
            Prefetch::Adaptive { budget } => {
                let ceiling = self.capacity.saturating_mul(Prefetch::MAX_PER_WORKER);
                let budget = u64::try_from(budget.as_nanos()).unwrap_or(u64::MAX);
                // Each worker gets through `budget / average` attempts within the budget.
                let per_worker = budget / self.average_ns.max(1);
                let extra = per_worker.saturating_mul(self.capacity as u64);
                usize::try_from(extra).unwrap_or(usize::MAX).min(ceiling)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn fixed_ignores_samples() {
        let mut a = Allowance::new(Prefetch::Fixed(3), 2);
        assert_eq!(a.limit(), 5);
        a.record(1, 2);
        assert_eq!(a.limit(), 5);
    }

    #[test]
    fn adaptive_starts_strict_and_opens_for_short_attempts() {
        let mut a = Allowance::new(Prefetch::default(), 2);
        assert_eq!(a.limit(), 2, "nothing known yet");
        a.record(1_000, 2);
        assert_eq!(a.limit(), 2, "one sample of two");
        a.record(1_000, 2);
        // 1 µs attempts, 1 ms budget: 1000 per worker.
        assert_eq!(a.limit(), 2 + 2 * 1000);
        // 100 ns attempts: 10,000 per worker, capped.
        let mut b = Allowance::new(Prefetch::default(), 2);
        b.record(100, 2);
        b.record(100, 2);
        assert_eq!(b.limit(), 2 + 2 * Prefetch::MAX_PER_WORKER);
    }

    #[test]
    fn a_zero_budget_is_strict() {
        let mut a = Allowance::new(Prefetch::adaptive(Duration::ZERO), 2);
        for _ in 0..4 {
            a.record(0, 2);
        }
        assert_eq!(a.limit(), 2);
    }

    #[test]
    fn adaptive_closes_for_long_attempts() {
        let mut a = Allowance::new(Prefetch::default(), 4);
        for _ in 0..4 {
            a.record(10 * MS, 4);
        }
        assert_eq!(a.limit(), 4, "10 ms attempts: no prefetch");
        // 100 µs attempts: 10 per worker within 1 ms.
        let mut b = Allowance::new(Prefetch::default(), 4);
        for _ in 0..4 {
            b.record(MS / 10, 4);
        }
        assert_eq!(b.limit(), 4 + 40);
    }

    #[test]
    fn the_wait_behind_a_deep_prefetch_is_not_counted_as_work() {
        // 2 workers, 1 µs attempts, 200 in flight: each ends 100 µs after its hand-over, but only
        // 1 µs of that was work. The allowance stays open, where raw times would close it to 20.
        let mut a = Allowance::new(Prefetch::default(), 2);
        for _ in 0..8 {
            a.record(100_000, 200);
        }
        assert_eq!(a.average_ns, 1_000);
        assert_eq!(a.limit(), 2 + 2 * 1000);
        // Fewer in flight than workers: all of the time was work.
        let mut b = Allowance::new(Prefetch::default(), 4);
        for _ in 0..4 {
            b.record(MS / 10, 1);
        }
        assert_eq!(b.limit(), 4 + 40);
    }

    proptest! {
        /// The allowance stays between the capacity and the ceiling, and an urgent task's
        /// expected delay (extra per worker times the average) stays within the budget.
        #[test]
        fn within_bounds(
            capacity in 1_usize..64,
            budget_us in 1_u64..10_000,
            samples in proptest::collection::vec((0_u64..(50 * MS), 0_usize..10_000), 0..200),
        ) {
            let budget = Duration::from_micros(budget_us);
            let mut a = Allowance::new(Prefetch::adaptive(budget), capacity);
            for (took, in_flight) in samples {
                a.record(took, in_flight);
                let extra = a.limit() - capacity;
                prop_assert!(extra <= capacity * Prefetch::MAX_PER_WORKER);
                let per_worker = (extra / capacity) as u64;
                prop_assert!(per_worker.saturating_mul(a.average_ns.max(1)) <= budget_us * 1_000);
            }
        }
    }
}

//! Call counters, sharded per thread so that threads sharing a breaker do not contend on them.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use crate::State;

/// A snapshot of a breaker's counters, from [`Breaker::stats`](crate::Breaker::stats).
///
/// Counts are totals since the breaker was built ([`reset`](crate::Breaker::reset) does not
/// clear them). Read without a lock while calls run, the fields may be a few calls apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct BreakerStats {
    /// Calls let through and finished: `successes + failures + ignored` (trials included).
    /// A permit still out is counted when it is settled or dropped, which keeps the success
    /// path at a single atomic add.
    pub calls: u64,
    /// Permits settled as successes (including errors the classifier did not count).
    pub successes: u64,
    /// Permits settled as failures.
    pub failures: u64,
    /// Permits dropped without being settled (cancelled or panicked calls).
    pub ignored: u64,
    /// Calls rejected with [`CircuitOpen`](crate::CircuitOpen).
    pub rejected: u64,
    /// Times the breaker entered `Open`: trips from `Closed` plus reopenings after a failed
    /// trial.
    pub opened: u64,
    /// The state when the snapshot was taken (`Open` until a call notices the open time has
    /// passed).
    pub state: State,
    /// How long the breaker stays (or would next stay) open: `open_for`, grown by backoff.
    pub open_for: Duration,
}

/// One thread group's counters, on its own pair of cache lines.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Shard {
    pub(crate) successes: AtomicU64,
    pub(crate) failures: AtomicU64,
    pub(crate) ignored: AtomicU64,
    pub(crate) rejected: AtomicU64,
}

/// Per-thread shards of the call counters.
#[derive(Debug)]
pub(crate) struct Counters {
    shards: Box<[Shard]>,
    mask: usize,
}

/// The shard count: the available parallelism rounded up to a power of two, at most 16.
fn shard_count() -> usize {
    static COUNT: OnceLock<usize> = OnceLock::new();
    *COUNT.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, std::num::NonZero::get)
            .next_power_of_two()
            .min(16)
    })
}

thread_local! {
    /// This thread's shard index (threads are numbered as they first touch a breaker).
    static SHARD: usize = {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        NEXT.fetch_add(1, Relaxed)
    };
}

impl Counters {
    pub(crate) fn new() -> Self {
        let count = shard_count();
        Self {
            shards: (0..count).map(|_| Shard::default()).collect(),
            mask: count - 1,
        }
    }

    /// The calling thread's shard (shard 0 while the thread's locals are being destroyed).
    #[inline]
    pub(crate) fn shard(&self) -> &Shard {
        let index = SHARD.try_with(|s| *s).unwrap_or(0);
        &self.shards[index & self.mask]
    }

    /// Sums the shards into `stats`.
    pub(crate) fn add_to(&self, stats: &mut BreakerStats) {
        for shard in &self.shards {
            stats.successes += shard.successes.load(Relaxed);
            stats.failures += shard.failures.load(Relaxed);
            stats.ignored += shard.ignored.load(Relaxed);
            stats.rejected += shard.rejected.load(Relaxed);
        }
        stats.calls = stats.successes + stats.failures + stats.ignored;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_sum_across_threads() {
        let counters = Counters::new();
        assert!(counters.shards.len().is_power_of_two());
        std::thread::scope(|s| {
            for _ in 0..5 {
                s.spawn(|| {
                    for _ in 0..100 {
                        counters.shard().successes.fetch_add(1, Relaxed);
                        counters.shard().rejected.fetch_add(2, Relaxed);
                    }
                });
            }
        });
        let mut stats = BreakerStats::default();
        counters.add_to(&mut stats);
        assert_eq!(
            (stats.calls, stats.rejected, stats.successes),
            (500, 1000, 500)
        );
    }
}

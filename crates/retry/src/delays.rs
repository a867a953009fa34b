//! [`Delays`]: the iterator of a policy's delays, computed in whole nanoseconds without allocating.

use std::hash::{BuildHasher, Hasher, RandomState};
use std::iter::FusedIterator;
use std::time::Duration;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

use crate::policy::Policy;
use crate::strategy::{Jitter, Strategy};

/// The delays before each retry of a [`Policy`], from [`Policy::delays`] or
/// [`Policy::delays_seeded`].
///
/// Yields at most `attempts − 1` delays, each at most `max_delay` (and never above
/// [`Policy::MAX_DURATION`]: arithmetic saturates), and ends before the sum of its delays would pass
/// `max_elapsed`. Each delay costs a few nanoseconds and no allocation.
///
/// ```
/// use std::time::Duration;
/// use baton_retry::{Jitter, Policy};
///
/// let policy = Policy::exponential(Duration::from_millis(100), 2.0)
///     .attempts(100)
///     .max_delay(Duration::from_secs(1))
///     .max_elapsed(Duration::from_secs(3))
///     .jitter(Jitter::Equal)
///     .build()?;
/// let total: Duration = policy.delays().sum();
/// assert!(total <= Duration::from_secs(3));
/// # Ok::<(), baton_retry::PolicyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Delays {
    curve: Curve,
    jitter: Jitter,
    /// The strategy's smallest delay, in nanoseconds.
    floor: u64,
    /// `max_delay` in nanoseconds, or `u64::MAX`.
    cap: u64,
    /// Delays left to yield.
    remaining: u32,
    /// The previous delay (decorrelated jitter), starting at the floor.
    prev: u64,
    /// Sum of the delays yielded so far, and its cap (`max_elapsed`).
    total: u64,
    max_total: Option<u64>,
    rng: Xoshiro256PlusPlus,
}

/// The strategy's state, in nanoseconds.
#[derive(Debug, Clone, Copy)]
enum Curve {
    Fixed,
    /// `next` is kept in floating point so that any `factor` works.
    Exponential {
        next: f64,
        factor: f64,
        /// The floor as a float: while `next` is not above it, the delay is exactly the floor.
        start: f64,
        /// The cap as a float: once `next` reaches it, the curve becomes `Capped`.
        cap: f64,
    },
    /// An exponential curve that reached the cap: every further delay is the cap.
    Capped,
    Linear {
        next: u64,
        increment: u64,
    },
    Random {
        max: u64,
    },
}

/// Whole nanoseconds of a duration, saturating (policies never hold more than `u64::MAX`).
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A seed from the operating system's entropy: `std` seeds `RandomState` keys from the OS once per
/// thread and gives every `RandomState` new keys, so two calls never return the same seed stream.
fn entropy_seed() -> u64 {
    RandomState::new().build_hasher().finish()
}

/// Uniform in `[lo, hi]` (inclusive); `lo` when the range is empty or a single point.
#[inline]
fn uniform(rng: &mut Xoshiro256PlusPlus, lo: u64, hi: u64) -> u64 {
    if lo >= hi {
        lo
    } else {
        rng.random_range(lo..=hi)
    }
}

impl Delays {
    pub(crate) fn new(policy: &Policy, seed: Option<u64>) -> Self {
        let cap = policy.max_delay().map_or(u64::MAX, nanos);
        let (_, floor) = policy.strategy().floor();
        let floor = nanos(floor);
        let curve = match policy.strategy() {
            Strategy::Fixed { .. } => Curve::Fixed,
            Strategy::Exponential { factor, .. } => Curve::Exponential {
                next: floor as f64,
                factor,
                start: floor as f64,
                cap: cap as f64,
            },
            Strategy::Linear { increment, .. } => Curve::Linear {
                next: floor,
                increment: nanos(increment),
            },
            Strategy::Random { max, .. } => Curve::Random { max: nanos(max) },
        };
        let random = policy.jitter() != Jitter::None || matches!(curve, Curve::Random { .. });
        // Seeding from entropy costs a hash: skip it when nothing is random.
        let seed = match seed {
            Some(seed) => seed,
            None if random => entropy_seed(),
            None => 0,
        };
        Self {
            curve,
            jitter: policy.jitter(),
            floor,
            cap,
            remaining: policy.attempts() - 1,
            prev: floor,
            total: 0,
            max_total: policy.max_elapsed().map(nanos),
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        }
    }

    /// The next delay in nanoseconds, limited by attempts only (the retry helper checks elapsed
    /// time on the clock instead of summing delays).
    #[inline]
    pub(crate) fn next_nanos(&mut self) -> Option<u64> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let strategy = match &mut self.curve {
            Curve::Fixed => self.floor,
            Curve::Exponential {
                next,
                factor,
                start,
                cap,
            } => {
                // Exact while the delay has not grown (the first retry, or a factor of 1): a float
                // holds whole nanoseconds exactly only up to 2^53 (104 days). Beyond, `as`
                // saturates and `max` guards against rounding below the floor.
                let delay = if *next <= *start {
                    self.floor
                } else {
                    (*next as u64).max(self.floor)
                };
                *next *= *factor;
                if *next >= *cap {
                    // No more float work: the delays that follow are all the cap.
                    self.curve = Curve::Capped;
                }
                delay
            }
            Curve::Capped => self.cap,
            Curve::Linear { next, increment } => {
                let delay = *next;
                *next = next.saturating_add(*increment);
                delay
            }
            Curve::Random { max } => uniform(&mut self.rng, self.floor, *max),
        };
        let delay = match self.jitter {
            Jitter::None => strategy.min(self.cap),
            Jitter::Full => uniform(&mut self.rng, 0, strategy.min(self.cap)),
            Jitter::Equal => {
                let capped = strategy.min(self.cap);
                let half = capped / 2;
                half + uniform(&mut self.rng, 0, capped - half)
            }
            Jitter::Decorrelated => {
                let high = strategy.max(self.prev.saturating_mul(3));
                let delay = uniform(&mut self.rng, self.floor, high).min(self.cap);
                self.prev = delay;
                delay
            }
        };
        Some(delay)
    }
}

impl Iterator for Delays {
    type Item = Duration;

    #[inline]
    fn next(&mut self) -> Option<Duration> {
        let delay = self.next_nanos()?;
        if let Some(max_total) = self.max_total {
            match self.total.checked_add(delay) {
                Some(total) if total <= max_total => self.total = total,
                _ => {
                    self.remaining = 0;
                    return None;
                }
            }
        }
        Some(Duration::from_nanos(delay))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let remaining = self.remaining as usize;
        if self.max_total.is_none() {
            (remaining, Some(remaining))
        } else {
            (0, Some(remaining))
        }
    }
}

impl FusedIterator for Delays {}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn collect(policy: &Policy) -> Vec<Duration> {
        policy.delays_seeded(1).collect()
    }

    #[test]
    fn counts_attempts_minus_one() {
        for attempts in [1, 2, 7] {
            let p = Policy::fixed(MS).attempts(attempts).build().unwrap();
            assert_eq!(p.delays().count(), attempts as usize - 1);
            assert_eq!(
                p.delays().size_hint(),
                (attempts as usize - 1, Some(attempts as usize - 1))
            );
        }
    }

    #[test]
    fn exact_schedules_without_jitter() {
        let p = Policy::exponential(100 * MS, 1.5)
            .attempts(5)
            .build()
            .unwrap();
        assert_eq!(
            collect(&p),
            [100_000, 150_000, 225_000, 337_500].map(Duration::from_micros)
        );
        let p = Policy::linear(MS, 2 * MS).attempts(4).build().unwrap();
        assert_eq!(collect(&p), [MS, 3 * MS, 5 * MS]);
        let p = Policy::exponential(MS, 10.0)
            .attempts(6)
            .max_delay(500 * MS)
            .build()
            .unwrap();
        assert_eq!(collect(&p), [MS, 10 * MS, 100 * MS, 500 * MS, 500 * MS]);
    }

    #[test]
    fn saturates_instead_of_overflowing() {
        let p = Policy::exponential(Policy::MAX_DURATION / 2, 1e300)
            .attempts(4)
            .build()
            .unwrap();
        assert_eq!(
            collect(&p),
            [
                Policy::MAX_DURATION / 2,
                Policy::MAX_DURATION,
                Policy::MAX_DURATION
            ]
        );
        let p = Policy::linear(Policy::MAX_DURATION, Policy::MAX_DURATION)
            .attempts(3)
            .jitter(Jitter::Decorrelated)
            .build()
            .unwrap();
        assert_eq!(collect(&p), [Policy::MAX_DURATION, Policy::MAX_DURATION]);
        let p = Policy::fixed(Policy::MAX_DURATION)
            .attempts(4)
            .max_elapsed(Policy::MAX_DURATION)
            .build()
            .unwrap();
        assert_eq!(collect(&p), [Policy::MAX_DURATION]);
    }

    #[test]
    fn elapsed_cap_ends_the_sequence() {
        let p = Policy::fixed(10 * MS)
            .attempts(100)
            .max_elapsed(35 * MS)
            .build()
            .unwrap();
        let mut delays = p.delays();
        assert_eq!(delays.size_hint(), (0, Some(99)));
        assert_eq!(delays.by_ref().count(), 3);
        assert_eq!(delays.next(), None, "fused");
    }

    #[test]
    fn jitter_ranges() {
        let base = Policy::fixed(100 * MS).attempts(1000);
        let full = collect(&base.jitter(Jitter::Full).build().unwrap());
        assert!(full.iter().all(|d| *d <= 100 * MS));
        assert!(full.iter().any(|d| *d < 50 * MS));
        let equal = collect(&base.jitter(Jitter::Equal).build().unwrap());
        assert!(equal.iter().all(|d| 50 * MS <= *d && *d <= 100 * MS));
        let decorrelated = base
            .jitter(Jitter::Decorrelated)
            .max_delay(2 * Duration::from_secs(1))
            .build()
            .unwrap();
        let decorrelated = collect(&decorrelated);
        assert!(
            decorrelated
                .iter()
                .all(|d| 100 * MS <= *d && *d <= Duration::from_secs(2))
        );
        assert!(decorrelated.windows(2).all(|w| w[1] <= 3 * w[0]));
        assert!(
            decorrelated.iter().any(|d| *d > 300 * MS),
            "the walk grows past 3 × base"
        );
    }

    #[test]
    fn seeds_reproduce_and_differ() {
        let p = Policy::random(MS, 1000 * MS).attempts(50).build().unwrap();
        assert_eq!(collect(&p), collect(&p));
        assert_ne!(
            p.delays_seeded(1).collect::<Vec<_>>(),
            p.delays_seeded(2).collect::<Vec<_>>()
        );
        assert_ne!(
            p.delays().collect::<Vec<_>>(),
            p.delays().collect::<Vec<_>>()
        );
    }
}

//! [`Policy`], a validated retry policy, and its [`PolicyBuilder`].

use std::time::Duration;

use crate::delays::Delays;
use crate::error::PolicyError;
use crate::strategy::{Jitter, Strategy};

/// A validated retry policy: a [`Strategy`], a [`Jitter`], and caps on attempts, on each delay
/// (`max_delay`) and on the total time spent (`max_elapsed`).
///
/// Built with [`Policy::fixed`], [`Policy::exponential`], [`Policy::linear`], [`Policy::random`] or
/// [`Policy::builder`], or deserialized from a workflow file (see the crate docs for the shape).
/// Every `Policy` is valid: the checks run once, at construction.
///
/// A `Policy` is plain configuration (`Copy`, no random state): [`Policy::delays`] creates an
/// iterator with its own random source each time, and [`retry`](crate::retry) runs an operation
/// under it.
///
/// ```
/// use std::time::Duration;
/// use baton_retry::{Jitter, Policy};
///
/// let policy = Policy::exponential(Duration::from_millis(100), 2.0)
///     .attempts(4)
///     .max_delay(Duration::from_millis(300))
///     .build()?;
/// let delays: Vec<Duration> = policy.delays().collect();
/// assert_eq!(delays, [100, 200, 300].map(Duration::from_millis));
/// # Ok::<(), baton_retry::PolicyError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    strategy: Strategy,
    attempts: u32,
    max_delay: Option<Duration>,
    max_elapsed: Option<Duration>,
    jitter: Jitter,
}

impl Policy {
    /// The longest duration a policy accepts in any field: `u64::MAX` nanoseconds, about 584 years.
    /// Delays are computed in whole nanoseconds and saturate here when there is no `max_delay`.
    pub const MAX_DURATION: Duration = Duration::from_nanos(u64::MAX);

    /// The number of attempts a builder uses when none is given: 3 (the first try and two retries).
    pub const DEFAULT_ATTEMPTS: u32 = 3;

    /// The factor of the default policy, and of an exponential policy read from a file without
    /// `factor`: doubling.
    pub const DEFAULT_FACTOR: f64 = 2.0;

    /// A builder for a policy with the given strategy, [`DEFAULT_ATTEMPTS`](Self::DEFAULT_ATTEMPTS)
    /// attempts, no jitter and no caps.
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_retry::{Policy, Strategy};
    ///
    /// let policy = Policy::builder(Strategy::Linear {
    ///     initial: Duration::from_secs(1),
    ///     increment: Duration::from_secs(2),
    /// })
    /// .build()?;
    /// assert_eq!(policy.delays().collect::<Vec<_>>(), [1, 3].map(Duration::from_secs));
    /// # Ok::<(), baton_retry::PolicyError>(())
    /// ```
    pub fn builder(strategy: Strategy) -> PolicyBuilder {
        PolicyBuilder {
            strategy,
            attempts: Self::DEFAULT_ATTEMPTS,
            max_delay: None,
            max_elapsed: None,
            jitter: Jitter::None,
        }
    }

    /// A builder for the same delay before every retry.
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_retry::Policy;
    ///
    /// let policy = Policy::fixed(Duration::from_secs(1)).attempts(3).build()?;
    /// assert_eq!(policy.delays().count(), 2);
    /// # Ok::<(), baton_retry::PolicyError>(())
    /// ```
    pub fn fixed(delay: Duration) -> PolicyBuilder {
        Self::builder(Strategy::Fixed { delay })
    }

    /// A builder for delays that start at `initial` and are multiplied by `factor` each time.
    /// `factor` must be finite and at least 1; `initial` must be above zero (checked by `build`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_retry::{Policy, PolicyError};
    ///
    /// let policy = Policy::exponential(Duration::from_millis(100), 2.0).attempts(5).build()?;
    /// assert_eq!(policy.delays().last(), Some(Duration::from_millis(800)));
    ///
    /// let err = Policy::exponential(Duration::from_millis(100), 0.5).build().unwrap_err();
    /// assert_eq!(err, PolicyError::InvalidFactor { factor: 0.5 });
    /// # Ok::<(), baton_retry::PolicyError>(())
    /// ```
    pub fn exponential(initial: Duration, factor: f64) -> PolicyBuilder {
        Self::builder(Strategy::Exponential { initial, factor })
    }

    /// A builder for delays that start at `initial` and grow by `increment` each time.
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_retry::Policy;
    ///
    /// let policy = Policy::linear(Duration::from_secs(1), Duration::from_secs(1)).attempts(4).build()?;
    /// assert_eq!(policy.delays().collect::<Vec<_>>(), [1, 2, 3].map(Duration::from_secs));
    /// # Ok::<(), baton_retry::PolicyError>(())
    /// ```
    pub fn linear(initial: Duration, increment: Duration) -> PolicyBuilder {
        Self::builder(Strategy::Linear { initial, increment })
    }

    /// A builder for delays drawn uniformly from `[min, max]`; `min ≤ max` (checked by `build`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_retry::Policy;
    ///
    /// let (min, max) = (Duration::from_millis(100), Duration::from_millis(200));
    /// let policy = Policy::random(min, max).attempts(10).build()?;
    /// assert!(policy.delays().all(|d| min <= d && d <= max));
    /// # Ok::<(), baton_retry::PolicyError>(())
    /// ```
    pub fn random(min: Duration, max: Duration) -> PolicyBuilder {
        Self::builder(Strategy::Random { min, max })
    }

    /// A policy that never retries: one attempt.
    ///
    /// ```
    /// use baton_retry::Policy;
    ///
    /// assert_eq!(Policy::no_retry().attempts(), 1);
    /// assert_eq!(Policy::no_retry().delays().next(), None);
    /// ```
    #[must_use]
    pub fn no_retry() -> Self {
        Self {
            strategy: Strategy::Fixed {
                delay: Duration::ZERO,
            },
            attempts: 1,
            max_delay: None,
            max_elapsed: None,
            jitter: Jitter::None,
        }
    }

    /// The strategy.
    #[must_use]
    pub fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// Total tries, the first one included (at least 1).
    #[must_use]
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The cap on each delay, if any.
    #[must_use]
    pub fn max_delay(&self) -> Option<Duration> {
        self.max_delay
    }

    /// The cap on the total time from the first try to the start of the last retry, if any.
    #[must_use]
    pub fn max_elapsed(&self) -> Option<Duration> {
        self.max_elapsed
    }

    /// The jitter.
    #[must_use]
    pub fn jitter(&self) -> Jitter {
        self.jitter
    }

    /// A builder holding this policy's settings, to derive a variant of it.
    ///
    /// ```
    /// use baton_retry::Policy;
    ///
    /// let five = Policy::default().to_builder().attempts(5).build()?;
    /// assert_eq!(five.attempts(), 5);
    /// # Ok::<(), baton_retry::PolicyError>(())
    /// ```
    pub fn to_builder(&self) -> PolicyBuilder {
        PolicyBuilder {
            strategy: self.strategy,
            attempts: self.attempts,
            max_delay: self.max_delay,
            max_elapsed: self.max_elapsed,
            jitter: self.jitter,
        }
    }

    /// The delays before each retry, `attempts − 1` of them at most, seeded from the operating
    /// system's entropy (through `std`'s `RandomState`) so that concurrent callers do not retry in
    /// step.
    ///
    /// The iterator allocates nothing. It also ends early when the next delay would bring the sum of
    /// its delays above `max_elapsed` (it cannot see the time the operation itself takes; the
    /// [`retry`](crate::retry) helper checks the clock).
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_retry::{Jitter, Policy};
    ///
    /// let policy = Policy::exponential(Duration::from_secs(1), 2.0)
    ///     .attempts(10)
    ///     .max_delay(Duration::from_secs(5))
    ///     .jitter(Jitter::Full)
    ///     .build()?;
    /// assert!(policy.delays().all(|d| d <= Duration::from_secs(5)));
    /// # Ok::<(), baton_retry::PolicyError>(())
    /// ```
    pub fn delays(&self) -> Delays {
        Delays::new(self, None)
    }

    /// The same as [`delays`](Self::delays), with a seeded random source: the same policy and seed
    /// give the same delays (for a given version of this crate), for tests and deterministic runs.
    ///
    /// Give each concurrent caller its own seed: callers sharing one retry in step.
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_retry::{Jitter, Policy};
    ///
    /// let policy = Policy::fixed(Duration::from_secs(1)).attempts(10).jitter(Jitter::Full).build()?;
    /// assert!(policy.delays_seeded(7).eq(policy.delays_seeded(7)));
    /// # Ok::<(), baton_retry::PolicyError>(())
    /// ```
    pub fn delays_seeded(&self, seed: u64) -> Delays {
        Delays::new(self, Some(seed))
    }
}

impl Default for Policy {
    /// Exponential from 100 ms by a factor of 2, 3 attempts, delays capped at 10 s, full jitter.
    fn default() -> Self {
        Self {
            strategy: Strategy::Exponential {
                initial: Duration::from_millis(100),
                factor: Self::DEFAULT_FACTOR,
            },
            attempts: Self::DEFAULT_ATTEMPTS,
            max_delay: Some(Duration::from_secs(10)),
            max_elapsed: None,
            jitter: Jitter::Full,
        }
    }
}

/// Builds a [`Policy`]; [`build`](Self::build) checks every value and names the field at fault.
///
/// Defaults: [`Policy::DEFAULT_ATTEMPTS`] attempts, no `max_delay`, no `max_elapsed`,
/// [`Jitter::None`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[must_use = "a builder does nothing until `.build()`"]
pub struct PolicyBuilder {
    strategy: Strategy,
    attempts: u32,
    max_delay: Option<Duration>,
    max_elapsed: Option<Duration>,
    jitter: Jitter,
}

impl PolicyBuilder {
    /// Replaces the strategy.
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_retry::{Policy, Strategy};
    ///
    /// let slower = Policy::default()
    ///     .to_builder()
    ///     .strategy(Strategy::Fixed { delay: Duration::from_secs(1) })
    ///     .build()?;
    /// assert_eq!(slower.attempts(), Policy::default().attempts());
    /// # Ok::<(), baton_retry::PolicyError>(())
    /// ```
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Total tries, the first one included; must be at least 1.
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// Caps each delay; must not be below the strategy's smallest delay ([`Strategy::min_delay`]).
    pub fn max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = Some(max_delay);
        self
    }

    /// Caps the total time: no retry starts later than `max_elapsed` after the first try started.
    pub fn max_elapsed(mut self, max_elapsed: Duration) -> Self {
        self.max_elapsed = Some(max_elapsed);
        self
    }

    /// Sets the jitter.
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// Checks every value and returns the policy, or the first problem found.
    ///
    /// # Errors
    /// [`PolicyError`] naming the field: zero attempts, a `factor` below 1 or not finite, a zero
    /// exponential `initial`, `min` above `max`, `max_delay` below the strategy's smallest delay, or a
    /// duration above [`Policy::MAX_DURATION`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_retry::Policy;
    ///
    /// let err = Policy::fixed(Duration::from_secs(1)).attempts(0).build().unwrap_err();
    /// assert_eq!(err.field(), Some("attempts"));
    /// ```
    pub fn build(self) -> Result<Policy, PolicyError> {
        if self.attempts == 0 {
            return Err(PolicyError::InvalidAttempts { attempts: 0 });
        }
        match self.strategy {
            Strategy::Fixed { delay } => check_size("delay", delay)?,
            Strategy::Exponential { initial, factor } => {
                check_size("initial", initial)?;
                if !(factor.is_finite() && factor >= 1.0) {
                    return Err(PolicyError::InvalidFactor { factor });
                }
                if initial.is_zero() {
                    return Err(PolicyError::ZeroInitial);
                }
            }
            Strategy::Linear { initial, increment } => {
                check_size("initial", initial)?;
                check_size("increment", increment)?;
            }
            Strategy::Random { min, max } => {
                check_size("min", min)?;
                check_size("max", max)?;
                if min > max {
                    return Err(PolicyError::MinAboveMax { min, max });
                }
            }
        }
        if let Some(max_delay) = self.max_delay {
            check_size("max_delay", max_delay)?;
            let (field, floor) = self.strategy.floor();
            if max_delay < floor {
                return Err(PolicyError::MaxDelayBelowFloor {
                    field,
                    floor,
                    max_delay,
                });
            }
        }
        if let Some(max_elapsed) = self.max_elapsed {
            check_size("max_elapsed", max_elapsed)?;
        }
        Ok(Policy {
            strategy: self.strategy,
            attempts: self.attempts,
            max_delay: self.max_delay,
            max_elapsed: self.max_elapsed,
            jitter: self.jitter,
        })
    }
}

fn check_size(field: &'static str, value: Duration) -> Result<(), PolicyError> {
    if value > Policy::MAX_DURATION {
        return Err(PolicyError::DurationTooLarge { field, value });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn builder_defaults() {
        let p = Policy::fixed(MS).build().unwrap();
        assert_eq!(p.attempts(), Policy::DEFAULT_ATTEMPTS);
        assert_eq!(p.max_delay(), None);
        assert_eq!(p.max_elapsed(), None);
        assert_eq!(p.jitter(), Jitter::None);
        assert_eq!(p.strategy(), Strategy::Fixed { delay: MS });
        assert_eq!(p.to_builder().build(), Ok(p));
    }

    #[test]
    fn default_policy_is_valid() {
        let p = Policy::default();
        assert_eq!(p.to_builder().build(), Ok(p));
        assert_eq!(
            Policy::no_retry().to_builder().build(),
            Ok(Policy::no_retry())
        );
    }

    #[test]
    fn factor_must_be_finite_and_at_least_one() {
        for factor in [0.0, 0.99, -2.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let err = Policy::exponential(MS, factor).build().unwrap_err();
            assert_eq!(err.field(), Some("factor"), "{factor}");
        }
        assert!(Policy::exponential(MS, 1.0).build().is_ok());
    }

    #[test]
    fn zero_initial_exponential_is_rejected() {
        let err = Policy::exponential(Duration::ZERO, 2.0)
            .build()
            .unwrap_err();
        assert_eq!(err, PolicyError::ZeroInitial);
        assert!(Policy::linear(Duration::ZERO, MS).build().is_ok());
        assert!(Policy::fixed(Duration::ZERO).build().is_ok());
    }

    #[test]
    fn min_above_max_is_rejected() {
        let err = Policy::random(2 * MS, MS).build().unwrap_err();
        assert_eq!(
            err,
            PolicyError::MinAboveMax {
                min: 2 * MS,
                max: MS
            }
        );
        assert!(Policy::random(MS, MS).build().is_ok());
    }

    #[test]
    fn max_delay_below_floor_is_rejected() {
        let err = Policy::linear(2 * MS, MS)
            .max_delay(MS)
            .build()
            .unwrap_err();
        assert_eq!(
            err,
            PolicyError::MaxDelayBelowFloor {
                field: "initial",
                floor: 2 * MS,
                max_delay: MS
            }
        );
        assert!(Policy::linear(2 * MS, MS).max_delay(2 * MS).build().is_ok());
    }

    #[test]
    fn huge_durations_are_rejected_not_clamped() {
        let err = Policy::fixed(Duration::MAX).build().unwrap_err();
        assert_eq!(
            err,
            PolicyError::DurationTooLarge {
                field: "delay",
                value: Duration::MAX
            }
        );
        let err = Policy::fixed(MS)
            .max_elapsed(Duration::MAX)
            .build()
            .unwrap_err();
        assert_eq!(err.field(), Some("max_elapsed"));
        assert!(
            Policy::fixed(Policy::MAX_DURATION)
                .max_delay(Policy::MAX_DURATION)
                .build()
                .is_ok()
        );
    }
}

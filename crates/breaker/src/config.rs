//! Trip policies, the builder and its validation.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::state::Transition;
use crate::{Breaker, word};

/// The largest count accepted by [`Trip::consecutive_failures`].
pub const MAX_CONSECUTIVE_FAILURES: u32 = word::MAX_DATA;
/// The largest value accepted by [`BreakerBuilder::half_open_trials`] and
/// [`BreakerBuilder::half_open_successes`].
pub const MAX_TRIALS: u32 = word::MAX_TRIALS;

/// The window over which a failure rate is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Window {
    /// The last `n` calls made while closed.
    Calls(u32),
    /// The calls made while closed in the last `d` (kept in 16 buckets of `d / 16`; see
    /// [`Trip::failure_rate`]).
    Time(Duration),
}

/// When a closed breaker trips open.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Trip {
    /// After `count` failures in a row (a success resets the count).
    ConsecutiveFailures {
        /// Failures in a row that trip the breaker (at least 1).
        count: u32,
    },
    /// When the failure rate over `window` reaches `rate`, once the window holds at least
    /// `min_calls` calls.
    FailureRate {
        /// Failure share in (0, 1] that trips the breaker (compared with `>=`).
        rate: f64,
        /// Which calls count.
        window: Window,
        /// Calls the window must hold before the rate counts (0 behaves like 1).
        min_calls: u32,
    },
}

impl Trip {
    /// Trip after `count` consecutive failures. The success path costs two atomic operations
    /// and no clock read.
    #[must_use]
    pub const fn consecutive_failures(count: u32) -> Self {
        Self::ConsecutiveFailures { count }
    }

    /// Trip when `failures / calls >= rate` over `window`, once the window holds at least
    /// `min_calls` calls. The rate is evaluated after each failure.
    ///
    /// - [`Window::Calls(n)`](Window::Calls): exactly the last `n` outcomes since the breaker
    ///   last closed (a ring of `n` bytes, lock-free).
    /// - [`Window::Time(d)`](Window::Time): outcomes in 16 buckets of `d / 16` (rounded up to
    ///   whole nanoseconds), the current bucket and the 15 before it, so outcomes between
    ///   `d - d/16` and `d` old may already have left the window. Each bucket is one atomic
    ///   word (lock-free); a bucket that reaches 65,535 successes or failures halves both
    ///   counts, which keeps the rate and at least 32,767 calls per bucket. Every call reads
    ///   the clock.
    #[must_use]
    pub const fn failure_rate(rate: f64, window: Window, min_calls: u32) -> Self {
        Self::FailureRate {
            rate,
            window,
            min_calls,
        }
    }
}

impl Default for Trip {
    /// Five consecutive failures.
    fn default() -> Self {
        Self::consecutive_failures(5)
    }
}

/// An invalid breaker configuration; each variant names the builder field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `Trip::consecutive_failures(0)`.
    #[error("trip: consecutive_failures count must be at least 1, got 0")]
    ZeroConsecutiveFailures,
    /// `Trip::consecutive_failures(n)` with `n` above [`MAX_CONSECUTIVE_FAILURES`].
    #[error("trip: consecutive_failures count {count} exceeds the maximum {max}")]
    TooManyConsecutiveFailures {
        /// The count given.
        count: u32,
        /// The largest count accepted.
        max: u32,
    },
    /// `Trip::failure_rate` with a rate outside (0, 1] (or NaN).
    #[error("trip: failure_rate rate must be in (0, 1], got {rate}")]
    RateOutOfRange {
        /// The rate given.
        rate: f64,
    },
    /// `Window::Calls(0)` or `Window::Time(Duration::ZERO)`.
    #[error("trip: failure_rate window must not be empty, got {window:?}")]
    ZeroWindow {
        /// The window given.
        window: Window,
    },
    /// `Window::Calls(n)` with `n < min_calls`: the rate could never count.
    #[error(
        "trip: failure_rate window Calls({window}) is smaller than min_calls ({min_calls}), so the rate would never count"
    )]
    WindowSmallerThanMinCalls {
        /// The window's size in calls.
        window: u32,
        /// The minimum number of calls given.
        min_calls: u32,
    },
    /// `open_for(Duration::ZERO)`.
    #[error("open_for: the open duration must be greater than zero")]
    ZeroOpenDuration,
    /// `backoff(factor, _)` with a factor below 1 or NaN.
    #[error("backoff: factor must be a number >= 1, got {factor}")]
    BackoffFactor {
        /// The factor given.
        factor: f64,
    },
    /// `backoff(_, max)` with `max` below `open_for`.
    #[error("backoff: max ({max:?}) is below open_for ({open_for:?})")]
    BackoffMaxBelowOpenFor {
        /// The cap given.
        max: Duration,
        /// The open duration configured.
        open_for: Duration,
    },
    /// `half_open_trials(0)`.
    #[error("half_open_trials: at least 1 trial call is needed, got 0")]
    ZeroTrials,
    /// `half_open_successes(0)`.
    #[error("half_open_successes: at least 1 success is needed, got 0")]
    ZeroSuccesses,
    /// `half_open_trials(n)` or `half_open_successes(n)` above [`MAX_TRIALS`].
    #[error("{field}: {value} exceeds the maximum {max}")]
    TooManyTrials {
        /// `half_open_trials` or `half_open_successes`.
        field: &'static str,
        /// The value given.
        value: u32,
        /// The largest value accepted.
        max: u32,
    },
}

/// A transition listener.
pub(crate) type Listener = Arc<dyn Fn(&Transition) + Send + Sync + 'static>;

/// The transition listeners, shown in `Debug` by their count (closures have no `Debug`).
#[derive(Clone, Default)]
pub(crate) struct Listeners(pub(crate) Vec<Listener>);

impl fmt::Debug for Listeners {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.len())
    }
}

/// Builds a [`Breaker`]; cheap to clone (a registry clones its template for each key).
///
/// Defaults: [`Trip::consecutive_failures(5)`](Trip::consecutive_failures), open for 30 s, no
/// backoff, 1 half-open trial, successes to close = trials, no listeners, no name.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct BreakerBuilder {
    trip: Trip,
    open_for: Duration,
    backoff: Option<(f64, Duration)>,
    trials: u32,
    successes: Option<u32>,
    listeners: Listeners,
    name: Option<Arc<str>>,
}

impl Default for BreakerBuilder {
    fn default() -> Self {
        Self {
            trip: Trip::default(),
            open_for: Duration::from_secs(30),
            backoff: None,
            trials: 1,
            successes: None,
            listeners: Listeners::default(),
            name: None,
        }
    }
}

impl BreakerBuilder {
    /// A builder with the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// When the breaker trips open.
    pub fn trip(mut self, trip: Trip) -> Self {
        self.trip = trip;
        self
    }

    /// How long the breaker stays open after tripping (and, without backoff, after a failed
    /// trial).
    pub fn open_for(mut self, open_for: Duration) -> Self {
        self.open_for = open_for;
        self
    }

    /// Each failed half-open trial reopens the breaker for the previous open time times
    /// `factor`, capped at `max`. Closing (or [`Breaker::reset`]) goes back to `open_for`.
    pub fn backoff(mut self, factor: f64, max: Duration) -> Self {
        self.backoff = Some((factor, max));
        self
    }

    /// How many trial calls may run at once in `HalfOpen` (further calls are rejected while
    /// they run); also the successes needed to close unless
    /// [`half_open_successes`](Self::half_open_successes) is set.
    pub fn half_open_trials(mut self, trials: u32) -> Self {
        self.trials = trials;
        self
    }

    /// How many successful trials close the breaker (default: the trial limit). May exceed
    /// the trial limit: a finished trial frees its slot for the next one.
    pub fn half_open_successes(mut self, successes: u32) -> Self {
        self.successes = Some(successes);
        self
    }

    /// Adds a listener called after every state change with the [`Transition`].
    ///
    /// Listeners run after the change, outside the breaker's locks, so they may call the
    /// breaker. Every listener sees every transition exactly once and in order; when several
    /// threads change the state at once, one of them delivers the queued transitions for all,
    /// so a listener may run on another thread than the one that caused the change. A listener
    /// that panics is caught (the panic is reported by the panic hook as usual) and the
    /// breaker carries on.
    pub fn on_transition<F>(mut self, listener: F) -> Self
    where
        F: Fn(&Transition) + Send + Sync + 'static,
    {
        self.listeners.0.push(Arc::new(listener));
        self
    }

    /// Names the breaker (shown by `Debug` and [`Breaker::name`]).
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Validates the configuration and builds the breaker, closed.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first invalid field.
    pub fn build(&self) -> Result<Breaker, ConfigError> {
        Ok(Breaker::from_config(self.validate()?, self.name.clone()))
    }

    /// Checks every field; the validated configuration.
    pub(crate) fn validate(&self) -> Result<Config, ConfigError> {
        match self.trip {
            Trip::ConsecutiveFailures { count: 0 } => {
                return Err(ConfigError::ZeroConsecutiveFailures);
            }
            Trip::ConsecutiveFailures { count } if count > MAX_CONSECUTIVE_FAILURES => {
                return Err(ConfigError::TooManyConsecutiveFailures {
                    count,
                    max: MAX_CONSECUTIVE_FAILURES,
                });
            }
            Trip::ConsecutiveFailures { .. } => {}
            Trip::FailureRate {
                rate,
                window,
                min_calls,
            } => {
                if !(rate > 0.0 && rate <= 1.0) {
                    return Err(ConfigError::RateOutOfRange { rate });
                }
                match window {
                    Window::Calls(0) => return Err(ConfigError::ZeroWindow { window }),
                    Window::Time(d) if d.is_zero() => {
                        return Err(ConfigError::ZeroWindow { window });
                    }
                    Window::Calls(n) if n < min_calls => {
                        return Err(ConfigError::WindowSmallerThanMinCalls {
                            window: n,
                            min_calls,
                        });
                    }
                    Window::Calls(_) | Window::Time(_) => {}
                }
            }
        }
        if self.open_for.is_zero() {
            return Err(ConfigError::ZeroOpenDuration);
        }
        if let Some((factor, max)) = self.backoff {
            if factor.is_nan() || factor < 1.0 {
                return Err(ConfigError::BackoffFactor { factor });
            }
            if max < self.open_for {
                return Err(ConfigError::BackoffMaxBelowOpenFor {
                    max,
                    open_for: self.open_for,
                });
            }
        }
        if self.trials == 0 {
            return Err(ConfigError::ZeroTrials);
        }
        if self.trials > MAX_TRIALS {
            return Err(ConfigError::TooManyTrials {
                field: "half_open_trials",
                value: self.trials,
                max: MAX_TRIALS,
            });
        }
        let successes = self.successes.unwrap_or(self.trials);
        if successes == 0 {
            return Err(ConfigError::ZeroSuccesses);
        }
        if successes > MAX_TRIALS {
            return Err(ConfigError::TooManyTrials {
                field: "half_open_successes",
                value: successes,
                max: MAX_TRIALS,
            });
        }
        Ok(Config {
            trip: self.trip,
            open_for: self.open_for,
            backoff: self.backoff,
            trials: self.trials,
            successes,
            listeners: self.listeners.clone(),
        })
    }
}

/// A validated configuration.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) trip: Trip,
    pub(crate) open_for: Duration,
    pub(crate) backoff: Option<(f64, Duration)>,
    pub(crate) trials: u32,
    pub(crate) successes: u32,
    pub(crate) listeners: Listeners,
}

impl Config {
    /// The open time after a failed trial that followed an open time of `previous`.
    pub(crate) fn next_open_for(&self, previous: Duration) -> Duration {
        match self.backoff {
            None => self.open_for,
            Some((factor, max)) => {
                let secs = previous.as_secs_f64() * factor;
                if secs >= max.as_secs_f64() || secs.is_nan() {
                    max
                } else {
                    Duration::from_secs_f64(secs).min(max)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(builder: BreakerBuilder) -> ConfigError {
        builder.validate().expect_err("invalid configuration")
    }

    #[test]
    fn defaults_are_valid() {
        let config = BreakerBuilder::new()
            .validate()
            .expect("defaults are valid");
        assert_eq!(config.trip, Trip::consecutive_failures(5));
        assert_eq!(config.open_for, Duration::from_secs(30));
        assert_eq!((config.trials, config.successes), (1, 1));
        assert!(config.backoff.is_none());
    }

    #[test]
    fn successes_default_to_the_trial_limit() {
        let config = BreakerBuilder::new()
            .half_open_trials(3)
            .validate()
            .expect("valid");
        assert_eq!((config.trials, config.successes), (3, 3));
        let config = BreakerBuilder::new()
            .half_open_trials(3)
            .half_open_successes(7)
            .validate()
            .expect("valid");
        assert_eq!((config.trials, config.successes), (3, 7));
    }

    #[test]
    fn each_invalid_field_is_named() {
        let b = BreakerBuilder::new;
        assert_eq!(
            err(b().trip(Trip::consecutive_failures(0))),
            ConfigError::ZeroConsecutiveFailures
        );
        for rate in [0.0, -0.1, 1.01, f64::NAN] {
            let e = err(b().trip(Trip::failure_rate(rate, Window::Calls(10), 1)));
            assert!(
                matches!(e, ConfigError::RateOutOfRange { .. }),
                "{rate}: {e}"
            );
            assert!(e.to_string().contains("failure_rate"), "{e}");
        }
        assert_eq!(
            err(b().trip(Trip::failure_rate(0.5, Window::Calls(10), 11))),
            ConfigError::WindowSmallerThanMinCalls {
                window: 10,
                min_calls: 11
            }
        );
        assert_eq!(
            err(b().open_for(Duration::ZERO)).to_string(),
            "open_for: the open duration must be greater than zero"
        );
        assert_eq!(
            err(b().half_open_trials(MAX_TRIALS + 1)).to_string(),
            format!(
                "half_open_trials: {} exceeds the maximum {MAX_TRIALS}",
                MAX_TRIALS + 1
            )
        );
        assert_eq!(
            err(b().half_open_successes(MAX_TRIALS + 1)),
            ConfigError::TooManyTrials {
                field: "half_open_successes",
                value: MAX_TRIALS + 1,
                max: MAX_TRIALS
            }
        );
    }

    #[test]
    fn backoff_multiplies_and_caps() {
        let config = BreakerBuilder::new()
            .open_for(Duration::from_secs(1))
            .backoff(2.5, Duration::from_secs(5))
            .validate()
            .expect("valid");
        assert_eq!(
            config.next_open_for(Duration::from_secs(1)),
            Duration::from_millis(2500)
        );
        assert_eq!(
            config.next_open_for(Duration::from_millis(2500)),
            Duration::from_secs(5)
        );
        assert_eq!(
            config.next_open_for(Duration::from_secs(5)),
            Duration::from_secs(5)
        );
        let infinite = BreakerBuilder::new()
            .backoff(f64::INFINITY, Duration::from_secs(60))
            .validate()
            .expect("an infinite factor jumps straight to the cap");
        assert_eq!(
            infinite.next_open_for(Duration::from_secs(30)),
            Duration::from_secs(60)
        );
        let none = BreakerBuilder::new().validate().expect("valid");
        assert_eq!(
            none.next_open_for(Duration::from_secs(7)),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn builder_debug_counts_listeners() {
        let b = BreakerBuilder::new().name("db").on_transition(|_| {});
        let shown = format!("{b:?}");
        assert!(
            shown.contains("listeners: 1") && shown.contains("\"db\""),
            "{shown}"
        );
    }
}

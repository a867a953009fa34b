//! Errors: invalid policies ([`PolicyError`]), invalid budgets ([`BudgetError`]) and giving up
//! ([`RetryError`], with its [`StopReason`]).

use std::error::Error;
use std::fmt;
use std::time::Duration;

use humantime::format_duration;

/// A retry policy that cannot be built: raised by [`PolicyBuilder::build`](crate::PolicyBuilder::build)
/// and, wrapped in the format's own error, when a [`Policy`](crate::Policy) is deserialized.
///
/// Every variant names the offending field with the spelling used in workflow files, so the message
/// can be shown as is; [`PolicyError::field`] returns that name for tools that locate the error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// `attempts` is zero, negative or larger than `u32::MAX`.
    #[error("`attempts` must be between 1 and {max} (it counts the first try too), got {attempts}", max = u32::MAX)]
    InvalidAttempts {
        /// The value given.
        attempts: i64,
    },
    /// The exponential `factor` is below 1, zero, NaN or infinite.
    #[error(
        "`factor` must be a finite number of at least 1 (1 keeps the delay fixed), got {factor}"
    )]
    InvalidFactor {
        /// The value given.
        factor: f64,
    },
    /// An exponential strategy starting at zero would stay at zero.
    #[error(
        "`initial` must be above zero with strategy = \"exponential\" (0 × factor stays 0); \
         use strategy = \"fixed\" with delay = \"0s\" for immediate retries"
    )]
    ZeroInitial,
    /// The random strategy's `min` is above its `max`.
    #[error("`min` ({}) is above `max` ({})", format_duration(*.min), format_duration(*.max))]
    MinAboveMax {
        /// The lower bound given.
        min: Duration,
        /// The upper bound given.
        max: Duration,
    },
    /// `max_delay` is below the strategy's smallest delay, so every delay would be cut to the cap.
    #[error(
        "`max_delay` ({}) is below `{field}` ({}): every delay would be cut to the cap",
        format_duration(*.max_delay),
        format_duration(*.floor)
    )]
    MaxDelayBelowFloor {
        /// The strategy's field that sets the smallest delay (`delay`, `initial` or `min`).
        field: &'static str,
        /// That field's value.
        floor: Duration,
        /// The cap given.
        max_delay: Duration,
    },
    /// A duration above [`Policy::MAX_DURATION`](crate::Policy::MAX_DURATION) (about 584 years).
    #[error(
        "`{field}` ({value:?}) is too large: durations are limited to {}",
        format_duration(crate::Policy::MAX_DURATION)
    )]
    DurationTooLarge {
        /// The field.
        field: &'static str,
        /// The value given.
        value: Duration,
    },
    /// A field that the chosen strategy does not use (workflow files only).
    #[error(
        "`{field}` is only valid with strategy = {valid_with} (this policy has strategy = \"{strategy}\")"
    )]
    FieldNotForStrategy {
        /// The field.
        field: &'static str,
        /// The strategies that use it, quoted, e.g. `"exponential" or "linear"`.
        valid_with: &'static str,
        /// The strategy chosen.
        strategy: &'static str,
    },
    /// A field that the chosen strategy needs is absent (workflow files only).
    #[error("strategy = \"{strategy}\" needs `{field}`")]
    MissingField {
        /// The field.
        field: &'static str,
        /// The strategy chosen.
        strategy: &'static str,
    },
    /// `strategy` is not one of the known names (workflow files only).
    #[error(
        "`strategy` = {value:?} is unknown: expected \"fixed\", \"exponential\", \"linear\" or \"random\""
    )]
    UnknownStrategy {
        /// The value given.
        value: String,
    },
    /// `jitter` is not one of the known names (workflow files only).
    #[error(
        "`jitter` = {value:?} is unknown: expected \"none\", \"full\", \"equal\" or \"decorrelated\""
    )]
    UnknownJitter {
        /// The value given.
        value: String,
    },
    /// A duration that is not a string humantime can parse (workflow files only).
    #[error(
        "`{field}` = {value} is not a duration: {reason} (write it like \"250ms\", \"5s\" or \"2m\")"
    )]
    InvalidDuration {
        /// The field.
        field: &'static str,
        /// The value given, as written (strings quoted).
        value: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A negative duration (workflow files only).
    #[error("`{field}` = {value} is negative: delays and caps cannot be below zero")]
    NegativeDuration {
        /// The field.
        field: &'static str,
        /// The value given, as written (strings quoted).
        value: String,
    },
}

impl PolicyError {
    /// The field the error is about, spelled as in workflow files (`"factor"`, `"max_delay"`...).
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_retry::Policy;
    ///
    /// let err = Policy::exponential(Duration::from_millis(100), 0.5).build().unwrap_err();
    /// assert_eq!(err.field(), Some("factor"));
    /// ```
    #[must_use]
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::InvalidAttempts { .. } => Some("attempts"),
            Self::InvalidFactor { .. } => Some("factor"),
            Self::ZeroInitial => Some("initial"),
            Self::MinAboveMax { .. } => Some("min"),
            Self::MaxDelayBelowFloor { .. } => Some("max_delay"),
            Self::DurationTooLarge { field, .. }
            | Self::FieldNotForStrategy { field, .. }
            | Self::MissingField { field, .. }
            | Self::InvalidDuration { field, .. }
            | Self::NegativeDuration { field, .. } => Some(field),
            Self::UnknownStrategy { .. } => Some("strategy"),
            Self::UnknownJitter { .. } => Some("jitter"),
        }
    }
}

/// A retry budget that cannot be built: raised by
/// [`RetryBudgetBuilder::build`](crate::RetryBudgetBuilder::build).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BudgetError {
    /// `ratio` is negative, above 1, NaN or infinite.
    #[error(
        "`ratio` must be a number between 0 and 1 (the share of calls that may be retried), got {ratio}"
    )]
    InvalidRatio {
        /// The value given.
        ratio: f64,
    },
    /// `ttl` is outside the supported window.
    #[error(
        "`ttl` must be between {} and {}, got {}",
        format_duration(crate::RetryBudget::MIN_TTL),
        format_duration(crate::RetryBudget::MAX_TTL),
        format_duration(*.ttl)
    )]
    InvalidTtl {
        /// The value given.
        ttl: Duration,
    },
}

/// Why [`Retry::run`](crate::Retry::run) stopped retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StopReason {
    /// The classifier returned [`Decision::Permanent`](crate::Decision::Permanent).
    Permanent,
    /// Every attempt the policy allows was made.
    AttemptsExhausted,
    /// The next retry would have started after the policy's `max_elapsed`.
    ElapsedExhausted {
        /// The policy's cap on total elapsed time.
        max_elapsed: Duration,
        /// The delay the next retry would have waited.
        next_delay: Duration,
    },
    /// The [`RetryBudget`](crate::RetryBudget) refused the retry.
    BudgetExhausted,
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Permanent => f.write_str("the error is permanent"),
            Self::AttemptsExhausted => f.write_str("no attempts left"),
            Self::ElapsedExhausted {
                max_elapsed,
                next_delay,
            } => write!(
                f,
                "the next retry, in {}, would pass max_elapsed = {}",
                format_duration(*next_delay),
                format_duration(*max_elapsed)
            ),
            Self::BudgetExhausted => f.write_str("the retry budget is exhausted"),
        }
    }
}

/// The operation failed and will not be retried: the last error, how many attempts were made, and why
/// retrying stopped.
///
/// Its `Display` says what happened without repeating the error's own message, which is its
/// [`source`](Error::source) (when `E` implements [`Error`]), as the Rust API guidelines ask.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryError<E> {
    /// The error of the last attempt.
    pub error: E,
    /// Attempts made, the first try included (at least 1).
    pub attempts: u32,
    /// Why retrying stopped.
    pub reason: StopReason,
}

impl<E> RetryError<E> {
    pub(crate) fn new(error: E, attempts: u32, reason: StopReason) -> Self {
        Self {
            error,
            attempts,
            reason,
        }
    }

    /// The error of the last attempt, dropping the rest.
    #[must_use]
    pub fn into_error(self) -> E {
        self.error
    }
}

impl<E> fmt::Display for RetryError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.attempts;
        let s = if n == 1 { "" } else { "s" };
        match self.reason {
            StopReason::Permanent => write!(f, "attempt {n} failed with a permanent error"),
            StopReason::AttemptsExhausted => write!(f, "all {n} attempt{s} failed"),
            reason => write!(f, "gave up after {n} attempt{s}: {reason}"),
        }
    }
}

impl<E: Error + 'static> Error for RetryError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_error_messages_name_the_reason_and_chain_the_cause() {
        let io = std::io::Error::other("connection refused");
        let err = RetryError::new(io, 5, StopReason::AttemptsExhausted);
        assert_eq!(err.to_string(), "all 5 attempts failed");
        assert_eq!(err.source().unwrap().to_string(), "connection refused");

        let err = RetryError::new("x", 1, StopReason::Permanent);
        assert_eq!(err.to_string(), "attempt 1 failed with a permanent error");

        let err = RetryError::new(
            "x",
            2,
            StopReason::ElapsedExhausted {
                max_elapsed: Duration::from_secs(60),
                next_delay: Duration::from_millis(1500),
            },
        );
        assert_eq!(
            err.to_string(),
            "gave up after 2 attempts: the next retry, in 1s 500ms, would pass max_elapsed = 1m"
        );
        let err = RetryError::new("x", 1, StopReason::BudgetExhausted);
        assert_eq!(
            err.to_string(),
            "gave up after 1 attempt: the retry budget is exhausted"
        );
        assert_eq!(err.into_error(), "x");
    }

    #[test]
    fn policy_error_messages_name_the_field() {
        let cases: Vec<(PolicyError, &str)> = vec![
            (PolicyError::InvalidAttempts { attempts: 0 }, "attempts"),
            (PolicyError::InvalidFactor { factor: 0.5 }, "factor"),
            (PolicyError::ZeroInitial, "initial"),
            (
                PolicyError::MinAboveMax {
                    min: Duration::from_secs(2),
                    max: Duration::from_secs(1),
                },
                "min",
            ),
            (
                PolicyError::MaxDelayBelowFloor {
                    field: "initial",
                    floor: Duration::from_secs(2),
                    max_delay: Duration::from_secs(1),
                },
                "max_delay",
            ),
            (
                PolicyError::FieldNotForStrategy {
                    field: "factor",
                    valid_with: "\"exponential\"",
                    strategy: "fixed",
                },
                "factor",
            ),
            (
                PolicyError::UnknownJitter {
                    value: "half".into(),
                },
                "jitter",
            ),
        ];
        for (err, field) in cases {
            assert_eq!(err.field(), Some(field));
            assert!(
                err.to_string().contains(&format!("`{field}`")),
                "{err} does not name `{field}`"
            );
        }
        assert_eq!(
            PolicyError::FieldNotForStrategy {
                field: "factor",
                valid_with: "\"exponential\"",
                strategy: "fixed"
            }
            .to_string(),
            "`factor` is only valid with strategy = \"exponential\" (this policy has strategy = \"fixed\")"
        );
    }

    #[test]
    fn budget_error_messages_name_the_field() {
        let err = BudgetError::InvalidRatio { ratio: 1.5 };
        assert!(err.to_string().starts_with("`ratio` must be"));
        let err = BudgetError::InvalidTtl {
            ttl: Duration::from_millis(10),
        };
        assert_eq!(err.to_string(), "`ttl` must be between 1s and 1h, got 10ms");
    }
}

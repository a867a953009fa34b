//! Errors returned to callers: [`CircuitOpen`] and [`CallError`].

use std::fmt;
use std::time::Duration;

/// A call was rejected because the breaker is open, or half-open with every trial slot taken.
///
/// `retry_in` is the time left until the breaker lets a trial through. It is zero when the
/// breaker is half-open and all trial slots are taken: a slot frees as soon as a trial ends, but
/// when is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("circuit open: {}", NextTrial(.retry_in))]
pub struct CircuitOpen {
    /// How long until the next trial call is let through (zero: trials are running now).
    pub retry_in: Duration,
}

/// Formats the tail of [`CircuitOpen`]'s message.
struct NextTrial<'a>(&'a Duration);

impl fmt::Display for NextTrial<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_zero() {
            f.write_str("trial calls in progress")
        } else {
            write!(f, "next trial in {:?}", self.0)
        }
    }
}

/// The error of [`Breaker::call`](crate::Breaker::call) and
/// [`Breaker::call_with`](crate::Breaker::call_with): the breaker rejected the call, or the
/// call itself failed.
///
/// Displays as the wrapped error; implements [`std::error::Error`] when `E` does (transparently:
/// `source()` is the inner error's source).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError<E> {
    /// The breaker rejected the call; the future was not polled.
    #[error(transparent)]
    Open(#[from] CircuitOpen),
    /// The call ran and returned this error.
    #[error(transparent)]
    Inner(E),
}

impl<E> CallError<E> {
    /// The call's own error, or `None` if the breaker rejected the call.
    pub fn into_inner(self) -> Option<E> {
        match self {
            Self::Inner(e) => Some(e),
            Self::Open(_) => None,
        }
    }

    /// The rejection, or `None` if the call ran.
    #[must_use]
    pub fn as_open(&self) -> Option<&CircuitOpen> {
        match self {
            Self::Open(open) => Some(open),
            Self::Inner(_) => None,
        }
    }

    /// Whether the breaker rejected the call.
    #[must_use]
    pub fn is_open(&self) -> bool {
        matches!(self, Self::Open(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;
    use std::io;

    #[test]
    fn circuit_open_display_says_when_the_next_trial_is() {
        let open = CircuitOpen {
            retry_in: Duration::from_millis(1500),
        };
        assert_eq!(open.to_string(), "circuit open: next trial in 1.5s");
        let busy = CircuitOpen {
            retry_in: Duration::ZERO,
        };
        assert_eq!(busy.to_string(), "circuit open: trial calls in progress");
    }

    #[derive(Debug, thiserror::Error)]
    #[error("query failed")]
    struct Query(#[source] fmt::Error);

    #[test]
    fn call_error_is_transparent_and_unwraps() {
        let err: CallError<Query> = CallError::Inner(Query(fmt::Error));
        assert_eq!(err.to_string(), "query failed");
        let source = err.source().expect("the inner error's source is forwarded");
        assert_eq!(source.to_string(), fmt::Error.to_string());
        assert!(!err.is_open());
        assert!(err.as_open().is_none());
        assert!(matches!(err.into_inner(), Some(Query(_))));

        let open = CircuitOpen {
            retry_in: Duration::from_secs(2),
        };
        let err: CallError<io::Error> = open.into();
        assert_eq!(err.to_string(), "circuit open: next trial in 2s");
        assert!(err.source().is_none());
        assert_eq!(err.as_open(), Some(&open));
        assert!(err.is_open());
        assert!(err.into_inner().is_none());
    }

    #[test]
    fn call_error_displays_an_error_that_is_only_display() {
        assert_eq!(CallError::Inner("teapot").to_string(), "teapot");
        assert_eq!(
            CallError::<&str>::Open(CircuitOpen {
                retry_in: Duration::ZERO
            })
            .to_string(),
            "circuit open: trial calls in progress"
        );
    }
}

//! Error classification ([`Decision`], [`Classify`]) and retry notification ([`Notify`]).

use std::time::Duration;

/// What to do about a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Decision {
    /// Retry after the policy's next delay (the default for every error).
    #[default]
    Retry,
    /// Retry after exactly this delay instead of the policy's (a server's `Retry-After`). The delay
    /// is not capped by `max_delay` (the server knows best), but `max_elapsed` and the attempt count
    /// still apply, and the policy's schedule advances as if its own delay had been used.
    RetryAfter(Duration),
    /// Do not retry: the error will not go away (bad request, not found, permission denied).
    Permanent,
}

/// Decides whether an error is worth retrying.
///
/// Implemented for every `FnMut(&E) -> Decision` closure and for [`AlwaysRetry`]. Pass closures to
/// [`Retry::when`](crate::Retry::when); implement the trait for a reusable classifier and hand it
/// over with [`Retry::classify`](crate::Retry::classify).
///
/// ```
/// use std::io;
/// use baton_retry::{Classify, Decision};
///
/// #[derive(Debug)]
/// struct Transient;
///
/// impl Classify<io::Error> for Transient {
///     fn classify(&mut self, error: &io::Error) -> Decision {
///         match error.kind() {
///             io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied => Decision::Permanent,
///             _ => Decision::Retry,
///         }
///     }
/// }
///
/// let err = io::Error::from(io::ErrorKind::NotFound);
/// assert_eq!(Transient.classify(&err), Decision::Permanent);
/// ```
pub trait Classify<E> {
    /// The decision for this error.
    fn classify(&mut self, error: &E) -> Decision;
}

impl<E, F: FnMut(&E) -> Decision> Classify<E> for F {
    #[inline]
    fn classify(&mut self, error: &E) -> Decision {
        self(error)
    }
}

/// The default classifier: every error is retryable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AlwaysRetry;

impl<E> Classify<E> for AlwaysRetry {
    #[inline]
    fn classify(&mut self, _error: &E) -> Decision {
        Decision::Retry
    }
}

/// Called before each retry with the number of the attempt that failed (1 for the first try), its
/// error, and the delay before the next attempt.
///
/// Implemented for every `FnMut(u32, &E, Duration)` closure and for [`NoNotify`].
///
/// ```
/// use std::time::Duration;
/// use baton_retry::Notify;
///
/// let mut seen = Vec::new();
/// let mut hook = |attempt: u32, err: &String, delay: Duration| seen.push((attempt, err.clone(), delay));
/// hook.notify(1, &"busy".to_string(), Duration::from_millis(100));
/// assert_eq!(seen, [(1, "busy".to_string(), Duration::from_millis(100))]);
/// ```
pub trait Notify<E> {
    /// A retry is about to wait `delay` after attempt number `attempt` failed with `error`.
    fn notify(&mut self, attempt: u32, error: &E, delay: Duration);
}

impl<E, F: FnMut(u32, &E, Duration)> Notify<E> for F {
    #[inline]
    fn notify(&mut self, attempt: u32, error: &E, delay: Duration) {
        self(attempt, error, delay);
    }
}

/// The default hook: does nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NoNotify;

impl<E> Notify<E> for NoNotify {
    #[inline]
    fn notify(&mut self, _attempt: u32, _error: &E, _delay: Duration) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_retry_everything_and_ignore_retries() {
        assert_eq!(
            Classify::<i32>::classify(&mut AlwaysRetry, &1),
            Decision::Retry
        );
        assert_eq!(Decision::default(), Decision::Retry);
        Notify::<i32>::notify(&mut NoNotify, 1, &1, Duration::ZERO);
    }

    #[test]
    fn closures_classify() {
        let mut by_code = |code: &u16| match code {
            429 => Decision::RetryAfter(Duration::from_secs(1)),
            500.. => Decision::Retry,
            _ => Decision::Permanent,
        };
        assert_eq!(
            by_code.classify(&429),
            Decision::RetryAfter(Duration::from_secs(1))
        );
        assert_eq!(by_code.classify(&503), Decision::Retry);
        assert_eq!(by_code.classify(&404), Decision::Permanent);
    }
}

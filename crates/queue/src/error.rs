//! Errors: [`PushError`] (hands the item back), [`TryPopError`] and [`BuildError`].

use std::convert::Infallible;
use std::fmt;

/// A push that did not enqueue its item. Every variant hands the item back.
///
/// `E` is the backend's error type; the in-memory [`PriorityQueue`](crate::PriorityQueue) never
/// fails that way and uses the default, [`Infallible`].
///
/// ```
/// use baton_queue::{Priority, PriorityQueue, PushError};
///
/// let queue = PriorityQueue::builder().capacity(1).build()?;
/// queue.try_push("a", Priority::Normal)?;
/// let err = queue.try_push("b", Priority::Normal).unwrap_err();
/// assert!(matches!(err, PushError::Full("b")));
/// assert_eq!(err.into_item(), "b");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PushError<T, E = Infallible> {
    /// The queue is closed: it accepts nothing more.
    #[error("cannot push: the queue is closed")]
    Closed(T),
    /// The queue is at its capacity (only from `try_push`; `push` waits for space instead).
    #[error("cannot push: the queue is full")]
    Full(T),
    /// The storage backend failed.
    #[error("cannot push: the queue backend failed: {error}")]
    Backend {
        /// The item that was not stored.
        item: T,
        /// What went wrong.
        #[source]
        error: E,
    },
}

impl<T, E> PushError<T, E> {
    /// The item that was not pushed.
    pub fn into_item(self) -> T {
        match self {
            PushError::Closed(item) | PushError::Full(item) | PushError::Backend { item, .. } => {
                item
            }
        }
    }

    /// The item that was not pushed, by reference.
    pub fn item(&self) -> &T {
        match self {
            PushError::Closed(item) | PushError::Full(item) | PushError::Backend { item, .. } => {
                item
            }
        }
    }
}

// Hand-written so that `T` need not be `Debug` (the item is usually a closure or a large job).
impl<T, E: fmt::Debug> fmt::Debug for PushError<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::Closed(_) => f.write_str("Closed(..)"),
            PushError::Full(_) => f.write_str("Full(..)"),
            PushError::Backend { error, .. } => f
                .debug_struct("Backend")
                .field("error", error)
                .finish_non_exhaustive(),
        }
    }
}

/// Why `try_pop` returned nothing.
///
/// ```
/// use baton_queue::{PriorityQueue, TryPopError};
///
/// let queue = PriorityQueue::<u32>::new();
/// assert_eq!(queue.try_pop().unwrap_err(), TryPopError::Empty);
/// queue.close();
/// assert_eq!(queue.try_pop().unwrap_err(), TryPopError::Closed);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TryPopError<E = Infallible> {
    /// Nothing is ready now (delayed tasks may still become due, even after `close`).
    #[error("nothing to pop: no task is ready")]
    Empty,
    /// The queue is closed and fully drained: nothing will ever be popped again.
    #[error("nothing to pop: the queue is closed and drained")]
    Closed,
    /// The storage backend failed.
    #[error("cannot pop: the queue backend failed: {0}")]
    Backend(#[source] E),
}

/// Invalid queue configuration, reported by [`QueueBuilder::build`](crate::QueueBuilder::build).
///
/// ```
/// use std::time::Duration;
/// use baton_queue::{Aging, BuildError, PriorityQueue};
///
/// let err = PriorityQueue::<u32>::builder().capacity(0).build().unwrap_err();
/// assert_eq!(err, BuildError::ZeroCapacity);
/// let err = PriorityQueue::<u32>::builder().aging(Aging::every(Duration::ZERO)).build().unwrap_err();
/// assert_eq!(err.to_string(), "invalid queue configuration: aging step is 0s; it must be positive");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// `capacity(0)`: such a queue could never accept a task.
    #[error("invalid queue configuration: capacity is 0; it must be at least 1 (or unbounded)")]
    ZeroCapacity,
    /// `Aging::every(Duration::ZERO)`: every task would be critical at once.
    #[error("invalid queue configuration: aging step is 0s; it must be positive")]
    ZeroAgingStep,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("disk on fire")]
    struct DiskError;

    #[test]
    fn backend_error_keeps_item_and_source() {
        let err: PushError<&str, DiskError> = PushError::Backend {
            item: "job",
            error: DiskError,
        };
        assert_eq!(
            err.to_string(),
            "cannot push: the queue backend failed: disk on fire"
        );
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("disk on fire"));
        assert_eq!(format!("{err:?}"), "Backend { error: DiskError, .. }");
        assert_eq!(*err.item(), "job");
        assert_eq!(err.into_item(), "job");
    }

    #[test]
    fn debug_does_not_need_item_debug() {
        struct Opaque;
        let err: PushError<Opaque> = PushError::Closed(Opaque);
        assert_eq!(format!("{err:?}"), "Closed(..)");
        assert_eq!(err.to_string(), "cannot push: the queue is closed");
    }
}

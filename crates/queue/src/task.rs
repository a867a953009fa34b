//! The values that go in and out of a queue: [`TaskId`], [`PushOptions`] and [`Popped`].

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

use crate::Priority;

/// Identifies one pushed task within one queue (ids from different queues may collide).
///
/// Ids increase with push order. Backends other than the in-memory queue build them from their own
/// keys with [`TaskId::from_raw`].
///
/// ```
/// use baton_queue::TaskId;
///
/// let id = TaskId::from_raw(42);
/// assert_eq!(id.get(), 42);
/// assert_eq!(id.to_string(), "#42");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct TaskId(u64);

impl TaskId {
    /// Wraps a raw id (for backends and for ids read back from storage).
    pub const fn from_raw(raw: u64) -> TaskId {
        TaskId(raw)
    }

    /// The raw id.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// How to push a task: its priority and, for delayed work, the instant before which it must not be
/// handed out.
///
/// A `Priority` converts into options with no delay, so `queue.try_push(item, Priority::High)`
/// works wherever options are expected.
///
/// ```
/// use std::time::Duration;
/// use baton_queue::{Priority, PushOptions};
/// use tokio::time::Instant;
///
/// let later = Instant::now() + Duration::from_secs(5);
/// let opts = PushOptions::new().priority(Priority::Low).not_before(later);
/// assert_eq!(opts.get_priority(), Priority::Low);
/// assert_eq!(opts.get_not_before(), Some(later));
/// assert_eq!(PushOptions::from(Priority::High).get_not_before(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct PushOptions {
    priority: Priority,
    not_before: Option<Instant>,
}

impl PushOptions {
    /// `Normal` priority, no delay.
    pub const fn new() -> PushOptions {
        PushOptions {
            priority: Priority::Normal,
            not_before: None,
        }
    }

    /// Sets the priority.
    #[must_use]
    pub const fn priority(mut self, priority: Priority) -> PushOptions {
        self.priority = priority;
        self
    }

    /// Keeps the task out of reach until `instant`. An instant that has already passed means no
    /// delay. When it is due, a delayed task joins the back of its level (its place is decided by
    /// when it became ready, not by when it was pushed).
    #[must_use]
    pub const fn not_before(mut self, instant: Instant) -> PushOptions {
        self.not_before = Some(instant);
        self
    }

    /// Keeps the task out of reach for `delay` from now (reads the clock once). A delay too long
    /// for the clock to represent (a server's absurd retry-after, `Duration::MAX`) means about
    /// thirty years, as tokio's own "far future" does: never a panic.
    #[must_use]
    pub fn delay(self, delay: Duration) -> PushOptions {
        /// Thirty years: what the clock can always add to now.
        const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);
        let now = Instant::now();
        self.not_before(now.checked_add(delay).unwrap_or(now + FAR_FUTURE))
    }

    /// The priority to push at.
    pub const fn get_priority(&self) -> Priority {
        self.priority
    }

    /// The instant before which the task is not handed out, if any.
    pub const fn get_not_before(&self) -> Option<Instant> {
        self.not_before
    }
}

impl From<Priority> for PushOptions {
    fn from(priority: Priority) -> PushOptions {
        PushOptions::new().priority(priority)
    }
}

/// A task taken from a queue: its id, the priority it was pushed at, the item, and how long it
/// waited between becoming ready (pushed, or its not-before instant) and being popped (`None` when
/// the queue does not track wait times).
///
/// ```
/// use std::time::Duration;
/// use baton_queue::{Popped, Priority, TaskId};
///
/// let waited = Some(Duration::from_millis(3));
/// let p = Popped::new(TaskId::from_raw(7), Priority::High, "job", waited);
/// assert_eq!((p.id, p.priority, p.item), (TaskId::from_raw(7), Priority::High, "job"));
/// assert_eq!(p.into_item(), "job");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Popped<T> {
    /// The id `push` returned.
    pub id: TaskId,
    /// The priority the task was pushed at (aging does not change it).
    pub priority: Priority,
    /// The pushed item.
    pub item: T,
    /// Time between becoming ready and being popped; `None` when the queue does not track wait
    /// times (see [`QueueBuilder::track_wait_times`](crate::QueueBuilder::track_wait_times)).
    pub waited: Option<Duration>,
}

impl<T> Popped<T> {
    /// Builds a popped task (for queue backends).
    pub const fn new(
        id: TaskId,
        priority: Priority,
        item: T,
        waited: Option<Duration>,
    ) -> Popped<T> {
        Popped {
            id,
            priority,
            item,
            waited,
        }
    }

    /// The item, dropping the rest.
    pub fn into_item(self) -> T {
        self.item
    }
}

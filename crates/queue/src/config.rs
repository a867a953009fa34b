//! Configuration: [`Aging`] and [`QueueBuilder`].

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use crate::{BuildError, PriorityQueue};

/// How waiting raises a task's priority, so the lowest levels never starve.
///
/// With `Aging::every(step)`, a task's *effective* priority rises one level per `step` it has waited
/// since it became ready, up to `Critical`. The queue serves the highest effective priority first;
/// ties go to the task that became ready first. The task keeps its pushed priority in
/// [`Popped::priority`](crate::Popped::priority). Aging is off by default.
///
/// ```
/// use std::time::Duration;
/// use baton_queue::Aging;
///
/// assert_eq!(Aging::default(), Aging::off());
/// assert_eq!(Aging::every(Duration::from_secs(1)).step(), Some(Duration::from_secs(1)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Aging {
    step: Option<Duration>,
}

impl Aging {
    /// No aging: strict priority order.
    pub const fn off() -> Aging {
        Aging { step: None }
    }

    /// Raise the effective priority one level per `step` waited. A zero step is rejected by
    /// [`QueueBuilder::build`].
    pub const fn every(step: Duration) -> Aging {
        Aging { step: Some(step) }
    }

    /// The step, if aging is on.
    pub const fn step(&self) -> Option<Duration> {
        self.step
    }
}

/// Configures a [`PriorityQueue`]. Defaults: unbounded, no aging, wait times not tracked.
///
/// ```
/// use std::time::Duration;
/// use baton_queue::{Aging, PriorityQueue};
///
/// let queue = PriorityQueue::<String>::builder()
///     .capacity(10_000)
///     .aging(Aging::every(Duration::from_secs(30)))
///     .build()?;
/// assert_eq!(queue.capacity(), Some(10_000));
/// # Ok::<(), baton_queue::BuildError>(())
/// ```
#[must_use]
pub struct QueueBuilder<T> {
    pub(crate) capacity: Option<usize>,
    pub(crate) aging: Aging,
    pub(crate) track_wait_times: bool,
    _item: PhantomData<fn() -> T>,
}

impl<T> QueueBuilder<T> {
    /// The defaults: unbounded, no aging, wait times not tracked.
    pub fn new() -> QueueBuilder<T> {
        QueueBuilder {
            capacity: None,
            aging: Aging::off(),
            track_wait_times: false,
            _item: PhantomData,
        }
    }

    /// Bounds the queue to `capacity` tasks (queued and delayed together). When full, `push`
    /// waits for space and `try_push` returns [`PushError::Full`](crate::PushError::Full).
    /// Zero is rejected by [`build`](Self::build).
    pub fn capacity(mut self, capacity: usize) -> QueueBuilder<T> {
        self.capacity = Some(capacity);
        self
    }

    /// Removes the bound (the default).
    pub fn unbounded(mut self) -> QueueBuilder<T> {
        self.capacity = None;
        self
    }

    /// Sets the aging policy (off by default).
    pub fn aging(mut self, aging: Aging) -> QueueBuilder<T> {
        self.aging = aging;
        self
    }

    /// Whether to measure how long each task waited ([`Popped::waited`](crate::Popped::waited) and
    /// [`QueueStats::waits`](crate::QueueStats::waits)). Off by default.
    ///
    /// Measuring costs one clock read per push and per pop. That is most of the cost of a
    /// push-pop pair where reading the clock is slow (about 35 ns per read on virtual machines,
    /// 40% of the pair there), so it is opt-in: untracked, with no aging and no delayed task
    /// waiting, the hot path reads no clock at all.
    ///
    /// ```
    /// use baton_queue::{Priority, PriorityQueue};
    ///
    /// let queue = PriorityQueue::builder().track_wait_times(true).build()?;
    /// queue.try_push("job", Priority::Normal)?;
    /// assert!(queue.try_pop()?.waited.is_some());
    /// assert_eq!(queue.stats().waits.count, 1);
    ///
    /// let untracked = PriorityQueue::new();
    /// untracked.try_push("job", Priority::Normal)?;
    /// assert_eq!(untracked.try_pop()?.waited, None);
    /// assert_eq!(untracked.stats().waits.count, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn track_wait_times(mut self, enabled: bool) -> QueueBuilder<T> {
        self.track_wait_times = enabled;
        self
    }

    /// Checks the configuration and builds the queue.
    pub fn build(self) -> Result<PriorityQueue<T>, BuildError> {
        if self.capacity == Some(0) {
            return Err(BuildError::ZeroCapacity);
        }
        if self.aging.step == Some(Duration::ZERO) {
            return Err(BuildError::ZeroAgingStep);
        }
        Ok(PriorityQueue::from_builder(self))
    }
}

impl<T> Default for QueueBuilder<T> {
    fn default() -> Self {
        QueueBuilder::new()
    }
}

impl<T> Clone for QueueBuilder<T> {
    fn clone(&self) -> Self {
        QueueBuilder {
            capacity: self.capacity,
            aging: self.aging,
            track_wait_times: self.track_wait_times,
            _item: PhantomData,
        }
    }
}

impl<T> fmt::Debug for QueueBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueBuilder")
            .field("capacity", &self.capacity)
            .field("aging", &self.aging)
            .field("track_wait_times", &self.track_wait_times)
            .finish()
    }
}

//! [`PriorityQueue`]: the in-memory queue, a cloneable handle to a mutex-guarded [`Core`] plus
//! the notifications that let `push` and `pop` wait.

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Poll;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::inner::{Core, PopMiss, Pushed, Wake};
use crate::{
    Popped, Priority, PushError, PushOptions, QueueBuilder, QueueStats, TaskId, TryPopError,
};

/// An in-memory, multi-producer multi-consumer priority queue of `T`.
///
/// Five levels (`Critical` first), FIFO within a level, optional delays ("not before" an
/// instant), cancellation by id, optional bound with backpressure, optional aging, and close
/// semantics that drain what was accepted. Cloning gives another handle to the same queue.
///
/// The synchronous [`try_push`](Self::try_push) and [`try_pop`](Self::try_pop) are the hot
/// path: one uncontended lock each and O(1) work, plus one clock read each when wait times are
/// tracked ([`QueueBuilder::track_wait_times`]) or aging is on. [`push`](Self::push) and
/// [`pop`](Self::pop) wait (for space, for work) and are cancel-safe: dropping a waiting `pop`
/// never loses a task or a wake-up another consumer needed.
///
/// ```
/// use baton_queue::{Priority, PriorityQueue};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let queue = PriorityQueue::new();
/// queue.push("write report", Priority::Low).await?;
/// queue.push("page on-call", Priority::Critical).await?;
/// queue.close();
///
/// let mut order = Vec::new();
/// while let Some(task) = queue.pop().await {
///     order.push(task.item);
/// }
/// assert_eq!(order, ["page on-call", "write report"]);
/// # Ok::<(), baton_queue::PushError<&str>>(())
/// # }).unwrap();
/// ```
pub struct PriorityQueue<T> {
    shared: Arc<Shared<T>>,
}

struct Shared<T> {
    core: Mutex<Core<T>>,
    /// Whether every push and pop reads the clock (wait times or aging); fixed at build.
    needs_clock: bool,
    /// Consumers blocked in `pop` wait here.
    not_empty: Notify,
    /// Producers blocked in `push` (bounded queue) wait here.
    not_full: Notify,
}

impl<T> PriorityQueue<T> {
    /// An unbounded queue without aging.
    ///
    /// ```
    /// use baton_queue::PriorityQueue;
    ///
    /// let queue = PriorityQueue::<u64>::new();
    /// assert!(queue.is_empty());
    /// assert_eq!(queue.capacity(), None);
    /// ```
    pub fn new() -> PriorityQueue<T> {
        QueueBuilder::new()
            .build()
            .expect("the default configuration is valid")
    }

    /// A builder to set a bound or aging.
    ///
    /// ```
    /// use baton_queue::PriorityQueue;
    ///
    /// let queue = PriorityQueue::<u64>::builder().capacity(100).build()?;
    /// assert_eq!(queue.capacity(), Some(100));
    /// # Ok::<(), baton_queue::BuildError>(())
    /// ```
    pub fn builder() -> QueueBuilder<T> {
        QueueBuilder::new()
    }

    pub(crate) fn from_builder(builder: QueueBuilder<T>) -> PriorityQueue<T> {
        let core = Core::new(
            builder.capacity,
            builder.aging,
            builder.track_wait_times,
            Instant::now(),
        );
        PriorityQueue {
            shared: Arc::new(Shared {
                needs_clock: core.needs_clock(),
                core: Mutex::new(core),
                not_empty: Notify::new(),
                not_full: Notify::new(),
            }),
        }
    }

    /// Locks the core. A panic while locked can only come from a bug in this crate (no user code
    /// runs under the lock), and every operation leaves the core consistent before it could
    /// panic, so a poisoned lock is used as is.
    #[inline]
    fn lock(&self) -> MutexGuard<'_, Core<T>> {
        self.shared
            .core
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the clock if this operation needs it (read before locking, to keep the critical
    /// section short).
    #[inline]
    fn now(&self, delayed: bool) -> Option<Instant> {
        (self.shared.needs_clock || delayed).then(Instant::now)
    }

    #[inline]
    fn wake_consumers(&self, wake: Wake) {
        wake_on(&self.shared.not_empty, wake);
    }

    #[inline]
    fn wake_producers(&self, wake: Wake) {
        wake_on(&self.shared.not_full, wake);
    }

    /// Pushes without waiting: fails with [`PushError::Full`] when the queue is at capacity and
    /// [`PushError::Closed`] once it is closed, handing the item back either way.
    ///
    /// `opts` is a [`Priority`] or full [`PushOptions`] (with a not-before instant).
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_queue::{Priority, PriorityQueue, PushOptions};
    ///
    /// let queue = PriorityQueue::new();
    /// let a = queue.try_push("now", Priority::High)?;
    /// let b = queue.try_push("later", PushOptions::new().delay(Duration::from_secs(60)))?;
    /// assert_ne!(a, b);
    /// assert_eq!(queue.try_pop()?.item, "now");
    /// assert!(queue.try_pop().is_err(), "the delayed task is not due yet");
    /// assert_eq!(queue.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn try_push(&self, item: T, opts: impl Into<PushOptions>) -> Result<TaskId, PushError<T>> {
        let opts = opts.into();
        let now = self.now(opts.get_not_before().is_some());
        let Pushed { id, wake } = self.lock().push(item, opts, now)?;
        self.wake_consumers(wake);
        Ok(id)
    }

    /// Pushes, waiting for space while a bounded queue is full. Fails only when the queue is (or
    /// becomes) closed, handing the item back. Cancel-safe: dropping the future before it
    /// completes pushes nothing.
    ///
    /// ```
    /// use baton_queue::{Priority, PriorityQueue};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let queue = PriorityQueue::builder().capacity(1).build().unwrap();
    /// queue.push(1, Priority::Normal).await.unwrap();
    /// let producer = {
    ///     let queue = queue.clone();
    ///     tokio::spawn(async move { queue.push(2, Priority::Normal).await })
    /// };
    /// assert_eq!(queue.pop().await.map(|t| t.item), Some(1)); // makes room
    /// producer.await.unwrap().unwrap();
    /// assert_eq!(queue.pop().await.map(|t| t.item), Some(2));
    /// # });
    /// ```
    pub async fn push(
        &self,
        item: T,
        opts: impl Into<PushOptions>,
    ) -> Result<TaskId, PushError<T>> {
        let opts = opts.into();
        let mut item = match self.try_push(item, opts) {
            Err(PushError::Full(item)) => item,
            done => return done,
        };
        let mut waiter = Waiter::new(self, Role::Producer);
        loop {
            let mut notified = pin!(self.shared.not_full.notified());
            notified.as_mut().enable();
            {
                let now = self.now(opts.get_not_before().is_some());
                let mut core = self.lock();
                waiter.leave(&mut core);
                match core.push(item, opts, now) {
                    Ok(Pushed { id, wake }) => {
                        drop(core);
                        self.wake_consumers(wake);
                        return Ok(id);
                    }
                    Err(PushError::Full(back)) => {
                        item = back;
                        waiter.join(&mut core);
                    }
                    Err(err) => return Err(err),
                }
            }
            notified.await;
        }
    }

    /// Pushes items from the front of `items` in order, as [`try_push`](Self::try_push) would one
    /// at a time, but under one lock and with the clock read once: until all are pushed or one
    /// finds the queue full. Each pushed item leaves `items` and its result (its id, or
    /// [`PushError::Closed`] with the item) is appended to `results`; on a full queue the item
    /// that did not fit stays at the front of `items`, with the rest behind it, and nothing is
    /// appended for them. Returns how many results it appended.
    ///
    /// ```
    /// use baton_queue::{Priority, PriorityQueue, PushOptions};
    ///
    /// let queue = PriorityQueue::builder().capacity(2).build().unwrap();
    /// let mut items = vec![
    ///     ("a", PushOptions::from(Priority::Low)),
    ///     ("b", PushOptions::from(Priority::High)),
    ///     ("c", PushOptions::from(Priority::High)),
    /// ];
    /// let mut results = Vec::new();
    /// assert_eq!(queue.try_push_batch(&mut items, &mut results), 2);
    /// assert!(results.iter().all(Result::is_ok));
    /// assert_eq!(items, [("c", PushOptions::from(Priority::High))], "did not fit");
    /// let mut popped = Vec::new();
    /// assert_eq!(queue.try_pop_batch(10, &mut popped), Ok(2));
    /// assert_eq!(popped.iter().map(|t| t.item).collect::<Vec<_>>(), ["b", "a"]);
    /// ```
    pub fn try_push_batch(
        &self,
        items: &mut Vec<(T, PushOptions)>,
        results: &mut Vec<Result<TaskId, PushError<T>>>,
    ) -> usize {
        if items.is_empty() {
            return 0;
        }
        let before = results.len();
        let now = self.batch_now(items);
        let wake = {
            let mut core = self.lock();
            Self::push_locked(&mut core, items, results, now)
        };
        self.wake_consumers_for(wake);
        results.len() - before
    }

    /// Reads the clock once for a batch, if any of it needs it.
    fn batch_now(&self, items: &[(T, PushOptions)]) -> Option<Instant> {
        self.now(
            items
                .iter()
                .any(|(_, opts)| opts.get_not_before().is_some()),
        )
    }

    /// Pushes from the front of `items` until they are all pushed or the queue is full (the
    /// item that did not fit stays at the front, with the rest); returns whom to wake: how many
    /// consumers, or all of them.
    fn push_locked(
        core: &mut Core<T>,
        items: &mut Vec<(T, PushOptions)>,
        results: &mut Vec<Result<TaskId, PushError<T>>>,
        now: Option<Instant>,
    ) -> (usize, bool) {
        let (mut one, mut all) = (0_usize, false);
        // What did not fit (rare): put back once the drain has let go of `items`, whose
        // allocation the caller keeps.
        let mut left = Vec::new();
        let mut drain = items.drain(..);
        while let Some((item, opts)) = drain.next() {
            match core.push(item, opts, now) {
                Ok(Pushed { id, wake }) => {
                    match wake {
                        Wake::Nobody => {}
                        Wake::One => one += 1,
                        Wake::All => all = true,
                    }
                    results.push(Ok(id));
                }
                Err(PushError::Full(item)) => {
                    left.push((item, opts));
                    left.extend(drain.by_ref());
                    break;
                }
                Err(error) => results.push(Err(error)),
            }
        }
        drop(drain);
        items.append(&mut left);
        // As many consumers as there are new tasks, at most as many as wait.
        (one.min(core.pop_waiters), all)
    }

    fn wake_consumers_for(&self, (one, all): (usize, bool)) {
        if all {
            self.wake_consumers(Wake::All);
        } else {
            for _ in 0..one {
                self.wake_consumers(Wake::One);
            }
        }
    }

    /// Pushes every item of `items` in order (draining it), as [`push`](Self::push) would one at
    /// a time: under one lock while there is room, waiting for space whenever a bounded queue is
    /// full. Appends each result, in order, to `results`.
    ///
    /// Cancel-safe: dropped while it waits for space, it has pushed exactly the items whose
    /// results are in `results`, and the others are still in `items`, in order.
    pub async fn push_batch(
        &self,
        items: &mut Vec<(T, PushOptions)>,
        results: &mut Vec<Result<TaskId, PushError<T>>>,
    ) {
        if items.is_empty() {
            return;
        }
        let mut waiter = Waiter::new(self, Role::Producer);
        loop {
            let mut notified = pin!(self.shared.not_full.notified());
            notified.as_mut().enable();
            let wake = {
                let now = self.batch_now(items);
                let mut core = self.lock();
                waiter.leave(&mut core);
                let wake = Self::push_locked(&mut core, items, results, now);
                if !items.is_empty() {
                    // The front item did not fit: wait for room, keeping it where it is.
                    waiter.join(&mut core);
                }
                wake
            };
            self.wake_consumers_for(wake);
            if items.is_empty() {
                return;
            }
            notified.await;
        }
    }

    /// Pops up to `max` ready tasks under one lock, in the order [`try_pop`](Self::try_pop) would
    /// pop them one at a time, and appends them to `into`. Returns how many, at least one: with
    /// none ready it fails as `try_pop` does ([`TryPopError::Empty`] or
    /// [`TryPopError::Closed`]). `max == 0` pops nothing and returns `Ok(0)`.
    pub fn try_pop_batch(
        &self,
        max: usize,
        into: &mut Vec<Popped<T>>,
    ) -> Result<usize, TryPopError> {
        if max == 0 {
            return Ok(0);
        }
        let now = self.now(false);
        let mut core = self.lock();
        let popped = core.pop_many(now, max, into);
        // As many producers as there are freed slots, at most as many as wait.
        let wake = popped.as_ref().map_or(0, |&n| n.min(core.push_waiters));
        drop(core);
        for _ in 0..wake {
            self.wake_producers(Wake::One);
        }
        popped.map_err(|miss| match miss {
            PopMiss::Closed => TryPopError::Closed,
            PopMiss::Empty { .. } => TryPopError::Empty,
        })
    }

    /// Pops the next ready task without waiting.
    ///
    /// Fails with [`TryPopError::Empty`] when nothing is ready (delayed tasks may still come,
    /// even after `close`) and [`TryPopError::Closed`] once the queue is closed and drained.
    ///
    /// ```
    /// use baton_queue::{Priority, PriorityQueue, TryPopError};
    ///
    /// let queue = PriorityQueue::new();
    /// let id = queue.try_push('x', Priority::Normal)?;
    /// let task = queue.try_pop()?;
    /// assert_eq!((task.id, task.priority, task.item), (id, Priority::Normal, 'x'));
    /// assert_eq!(queue.try_pop().unwrap_err(), TryPopError::Empty);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn try_pop(&self) -> Result<Popped<T>, TryPopError> {
        let now = self.now(false);
        let mut core = self.lock();
        match core.pop(now) {
            Ok(popped) => {
                let wake = core.wake_after_free();
                drop(core);
                self.wake_producers(wake);
                Ok(popped)
            }
            Err(PopMiss::Empty { .. }) => Err(TryPopError::Empty),
            Err(PopMiss::Closed) => Err(TryPopError::Closed),
        }
    }

    /// Pops the next task, waiting for one to be pushed or for a delayed one to become due.
    /// Returns `None` once the queue is closed and everything it accepted (delayed tasks
    /// included, when due) has been popped or cancelled.
    ///
    /// Cancel-safe: a `pop` dropped while waiting (for example under `tokio::time::timeout`)
    /// takes nothing, and passes on any wake-up it had received to another waiting consumer.
    /// Waiting for a delayed task needs a runtime with the time driver enabled.
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_queue::{PriorityQueue, PushOptions};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
    /// let queue = PriorityQueue::new();
    /// queue.try_push("retry", PushOptions::new().delay(Duration::from_secs(5)))?;
    /// let task = queue.pop().await.expect("due in 5 s");
    /// assert_eq!(task.item, "retry");
    /// # Ok::<(), baton_queue::PushError<&str>>(())
    /// # }).unwrap();
    /// ```
    pub async fn pop(&self) -> Option<Popped<T>> {
        match self.try_pop() {
            Ok(popped) => return Some(popped),
            Err(TryPopError::Closed) => return None,
            Err(_) => {}
        }
        let mut waiter = Waiter::new(self, Role::Consumer);
        loop {
            let mut notified = pin!(self.shared.not_empty.notified());
            notified.as_mut().enable();
            let next_due = {
                let now = self.now(false);
                let mut core = self.lock();
                waiter.leave(&mut core);
                match core.pop(now) {
                    Ok(popped) => {
                        let wake = core.wake_after_free();
                        drop(core);
                        self.wake_producers(wake);
                        return Some(popped);
                    }
                    Err(PopMiss::Closed) => return None,
                    Err(PopMiss::Empty { next_due }) => {
                        waiter.join(&mut core);
                        next_due
                    }
                }
            };
            match next_due {
                None => notified.await,
                Some(due) => {
                    let mut sleep = pin!(tokio::time::sleep_until(due));
                    poll_fn(|cx| {
                        if notified.as_mut().poll(cx).is_ready()
                            || sleep.as_mut().poll(cx).is_ready()
                        {
                            Poll::Ready(())
                        } else {
                            Poll::Pending
                        }
                    })
                    .await;
                }
            }
        }
    }

    /// Cancels a queued or delayed task, returning its item; `None` if the id is not in the
    /// queue (already popped or cancelled, or never pushed here). Frees a slot in a bounded queue.
    ///
    /// ```
    /// use baton_queue::{Priority, PriorityQueue};
    ///
    /// let queue = PriorityQueue::new();
    /// let id = queue.try_push("obsolete", Priority::Low)?;
    /// assert_eq!(queue.cancel(id), Some("obsolete"));
    /// assert_eq!(queue.cancel(id), None);
    /// assert!(queue.is_empty());
    /// # Ok::<(), baton_queue::PushError<&str>>(())
    /// ```
    pub fn cancel(&self, id: TaskId) -> Option<T> {
        let mut core = self.lock();
        let item = core.cancel(id)?;
        let wake = core.wake_after_free();
        drop(core);
        self.wake_producers(wake);
        Some(item)
    }

    /// Closes the queue: later pushes fail with [`PushError::Closed`] (waiting pushes too), and
    /// pops drain what was accepted, then return `None`. Wakes every waiting consumer and
    /// producer. Closing twice is harmless.
    ///
    /// ```
    /// use baton_queue::{Priority, PriorityQueue, PushError};
    ///
    /// let queue = PriorityQueue::new();
    /// queue.try_push(1, Priority::Normal)?;
    /// queue.close();
    /// assert!(queue.is_closed());
    /// assert_eq!(queue.try_push(2, Priority::Normal), Err(PushError::Closed(2)));
    /// assert_eq!(queue.try_pop()?.item, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn close(&self) {
        let newly = self.lock().close();
        if newly {
            self.shared.not_empty.notify_waiters();
            self.shared.not_full.notify_waiters();
        }
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.lock().is_closed()
    }

    /// Tasks held: queued at any level plus delayed.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no task is held (queued or delayed).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Tasks queued at `priority`, not counting delayed tasks that are not yet due.
    ///
    /// ```
    /// use baton_queue::{Priority, PriorityQueue};
    ///
    /// let queue = PriorityQueue::new();
    /// queue.try_push((), Priority::High)?;
    /// assert_eq!(queue.len_of(Priority::High), 1);
    /// assert_eq!(queue.len_of(Priority::Low), 0);
    /// # Ok::<(), baton_queue::PushError<()>>(())
    /// ```
    pub fn len_of(&self, priority: Priority) -> usize {
        let now = Instant::now();
        self.lock().len_of(priority, now)
    }

    /// The bound, if any.
    pub fn capacity(&self) -> Option<usize> {
        self.lock().capacity()
    }

    /// A snapshot of depth per level, delayed count, counters and wait times.
    pub fn stats(&self) -> QueueStats {
        let now = Instant::now();
        self.lock().stats(now)
    }
}

impl<T> Clone for PriorityQueue<T> {
    fn clone(&self) -> Self {
        PriorityQueue {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Default for PriorityQueue<T> {
    fn default() -> Self {
        PriorityQueue::new()
    }
}

impl<T> fmt::Debug for PriorityQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let core = self.lock();
        f.debug_struct("PriorityQueue")
            .field("len", &core.len())
            .field("capacity", &core.capacity())
            .field("closed", &core.is_closed())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Consumer,
    Producer,
}

/// Counts a blocked `pop` or `push` in the core while it waits, so that pushes and pops only
/// touch the `Notify` when someone is waiting. Leaves the count on drop (the future was
/// cancelled); the `Notified` future itself passes on a wake-up it received but did not use.
struct Waiter<'a, T> {
    queue: &'a PriorityQueue<T>,
    role: Role,
    counted: bool,
}

impl<'a, T> Waiter<'a, T> {
    fn new(queue: &'a PriorityQueue<T>, role: Role) -> Self {
        Waiter {
            queue,
            role,
            counted: false,
        }
    }

    fn join(&mut self, core: &mut Core<T>) {
        debug_assert!(!self.counted);
        match self.role {
            Role::Consumer => core.pop_waiters += 1,
            Role::Producer => core.push_waiters += 1,
        }
        self.counted = true;
    }

    fn leave(&mut self, core: &mut Core<T>) {
        if std::mem::take(&mut self.counted) {
            match self.role {
                Role::Consumer => core.pop_waiters -= 1,
                Role::Producer => core.push_waiters -= 1,
            }
        }
    }
}

impl<T> Drop for Waiter<'_, T> {
    fn drop(&mut self) {
        if self.counted {
            let queue = self.queue;
            let mut core = queue.lock();
            self.leave(&mut core);
        }
    }
}

/// Wakes the waiters of `notify` that `wake` asks for.
#[inline]
fn wake_on(notify: &Notify, wake: Wake) {
    match wake {
        Wake::Nobody => {}
        Wake::One => notify.notify_one(),
        Wake::All => notify.notify_waiters(),
    }
}

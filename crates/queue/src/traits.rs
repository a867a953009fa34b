//! [`TaskQueue`]: the queue trait at the crate's boundary.

use std::future::Future;

use crate::{Popped, PriorityQueue, PushError, PushOptions, QueueStats, TaskId, TryPopError};

/// A priority task queue, async and fallible so that durable stores (PostgreSQL) can implement it
/// as well as the in-memory [`PriorityQueue`].
///
/// Methods return `impl Future + Send` (implementors may write `async fn`): no boxing on the hot
/// path. Six methods are required; [`try_push`](TaskQueue::try_push),
/// [`push_batch`](TaskQueue::push_batch), [`try_pop_batch`](TaskQueue::try_pop_batch),
/// [`len`](TaskQueue::len) and [`is_empty`](TaskQueue::is_empty) have defaults. Pushes hand the item back on every failure.
///
/// Semantics every implementation keeps: higher priorities first, FIFO within a level (by the
/// instant a task became ready); a task pushed with a not-before instant is not popped before it;
/// after `close`, pushes fail with [`PushError::Closed`] and pops drain what was accepted, then
/// `pop` returns `Ok(None)`.
///
/// Delivery: a popped task has left the queue, so delivery is *exactly once while the process
/// lives*. That is the whole contract of an in-process queue, and all the orchestrator relies on
/// today. A durable store adds what a crash needs (leases renewed by heartbeats, re-delivery of an
/// unacknowledged task, fenced completions) as an extension trait over this one, so code written
/// against `TaskQueue` keeps working and code that wants at-least-once across crashes asks for
/// the extension. Not-before instants are `tokio::time::Instant`s: a durable store converts them
/// to wall-clock time at its boundary.
///
/// ```
/// use baton_queue::{Priority, PriorityQueue, PushOptions, TaskQueue};
///
/// // Code written against the trait works with any backend.
/// async fn drain<Q: TaskQueue<u32>>(queue: &Q) -> Result<Vec<u32>, Q::Error> {
///     queue.close().await?;
///     let mut items = Vec::new();
///     while let Some(task) = queue.pop().await? {
///         items.push(task.item);
///     }
///     Ok(items)
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let queue = PriorityQueue::new();
/// TaskQueue::push(&queue, 1, PushOptions::from(Priority::Low)).await.unwrap();
/// TaskQueue::push(&queue, 2, PushOptions::from(Priority::High)).await.unwrap();
/// assert_eq!(drain(&queue).await, Ok(vec![2, 1]));
/// # });
/// ```
pub trait TaskQueue<T>: Send + Sync {
    /// The backend's own failures (`Infallible` for the in-memory queue).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Pushes a task, waiting for space if the queue is bounded and full.
    fn push(
        &self,
        item: T,
        opts: PushOptions,
    ) -> impl Future<Output = Result<TaskId, PushError<T, Self::Error>>> + Send;

    /// Pushes a task without waiting for space: [`PushError::Full`] when the queue is full.
    ///
    /// The default forwards to [`push`](TaskQueue::push), which is right for backends that are
    /// never full; bounded backends override it.
    fn try_push(
        &self,
        item: T,
        opts: PushOptions,
    ) -> impl Future<Output = Result<TaskId, PushError<T, Self::Error>>> + Send {
        self.push(item, opts)
    }

    /// Pushes every item of `items` in order (draining it), as [`push`](TaskQueue::push) would
    /// one at a time, and appends each result to `results` in the same order.
    ///
    /// The default calls `push` for each; a backend that can push many at once (one lock, one
    /// round trip to a store) overrides it, as [`PriorityQueue`] does. An override must give
    /// every item a result, in order: the orchestrator fails a task whose item gets none.
    ///
    /// Dropped before it completes, the default has pushed the items whose results are in
    /// `results`, lost the one it was pushing (as a dropped [`push`](TaskQueue::push) does), and
    /// left the rest in `items`, in order.
    fn push_batch(
        &self,
        items: &mut Vec<(T, PushOptions)>,
        results: &mut Vec<Result<TaskId, PushError<T, Self::Error>>>,
    ) -> impl Future<Output = ()> + Send
    where
        T: Send,
    {
        async move {
            let rest = std::mem::take(&mut *items).into_iter();
            let mut rest = Rest { items, rest };
            for (item, opts) in rest.rest.by_ref() {
                results.push(self.push(item, opts).await);
            }
        }
    }

    /// Pops the next ready task, waiting for one. `Ok(None)` once the queue is closed and drained.
    fn pop(&self) -> impl Future<Output = Result<Option<Popped<T>>, Self::Error>> + Send;

    /// Pops the next ready task if there is one now.
    fn try_pop(&self) -> impl Future<Output = Result<Popped<T>, TryPopError<Self::Error>>> + Send;

    /// Pops up to `max` ready tasks, appending them to `into` in the order
    /// [`try_pop`](TaskQueue::try_pop) would return them, and returns how many: at least one, or
    /// the error `try_pop` gives when none is ready. `max == 0` pops nothing and returns `Ok(0)`.
    ///
    /// The default calls `try_pop` until it has `max` or one fails (an error after the first
    /// task is left for the next call); [`PriorityQueue`] pops them under one lock.
    fn try_pop_batch(
        &self,
        max: usize,
        into: &mut Vec<Popped<T>>,
    ) -> impl Future<Output = Result<usize, TryPopError<Self::Error>>> + Send
    where
        T: Send,
    {
        async move {
            let mut popped = 0;
            while popped < max {
                match self.try_pop().await {
                    Ok(task) => {
                        into.push(task);
                        popped += 1;
                    }
                    Err(error) if popped == 0 => return Err(error),
                    Err(_) => break,
                }
            }
            Ok(popped)
        }
    }

    /// Cancels a queued or delayed task, returning its item (`None` if it is not in the queue).
    fn cancel(&self, id: TaskId) -> impl Future<Output = Result<Option<T>, Self::Error>> + Send;

    /// Closes the queue to pushes; pops drain what it holds.
    fn close(&self) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// A snapshot of depth, counters and wait times.
    fn stats(&self) -> impl Future<Output = Result<QueueStats, Self::Error>> + Send;

    /// Tasks held (queued plus delayed). The default reads [`stats`](TaskQueue::stats).
    fn len(&self) -> impl Future<Output = Result<usize, Self::Error>> + Send {
        async { Ok(self.stats().await?.len()) }
    }

    /// Whether no task is held. The default reads [`len`](TaskQueue::len).
    fn is_empty(&self) -> impl Future<Output = Result<bool, Self::Error>> + Send {
        async { Ok(self.len().await? == 0) }
    }
}

/// What the default [`TaskQueue::push_batch`] has not pushed yet: put back into the caller's
/// vector when it is dropped, so that a batch dropped midway keeps the rest.
struct Rest<'a, T> {
    items: &'a mut Vec<(T, PushOptions)>,
    rest: std::vec::IntoIter<(T, PushOptions)>,
}

impl<T> Drop for Rest<'_, T> {
    fn drop(&mut self) {
        self.items.extend(self.rest.by_ref());
    }
}

impl<T: Send> TaskQueue<T> for PriorityQueue<T> {
    type Error = std::convert::Infallible;

    async fn push(&self, item: T, opts: PushOptions) -> Result<TaskId, PushError<T>> {
        PriorityQueue::push(self, item, opts).await
    }

    async fn try_push(&self, item: T, opts: PushOptions) -> Result<TaskId, PushError<T>> {
        PriorityQueue::try_push(self, item, opts)
    }

    async fn pop(&self) -> Result<Option<Popped<T>>, Self::Error> {
        Ok(PriorityQueue::pop(self).await)
    }

    async fn try_pop(&self) -> Result<Popped<T>, TryPopError> {
        PriorityQueue::try_pop(self)
    }

    async fn push_batch(
        &self,
        items: &mut Vec<(T, PushOptions)>,
        results: &mut Vec<Result<TaskId, PushError<T>>>,
    ) {
        PriorityQueue::push_batch(self, items, results).await;
    }

    async fn try_pop_batch(
        &self,
        max: usize,
        into: &mut Vec<Popped<T>>,
    ) -> Result<usize, TryPopError> {
        PriorityQueue::try_pop_batch(self, max, into)
    }

    async fn cancel(&self, id: TaskId) -> Result<Option<T>, Self::Error> {
        Ok(PriorityQueue::cancel(self, id))
    }

    async fn close(&self) -> Result<(), Self::Error> {
        PriorityQueue::close(self);
        Ok(())
    }

    async fn stats(&self) -> Result<QueueStats, Self::Error> {
        Ok(PriorityQueue::stats(self))
    }

    async fn len(&self) -> Result<usize, Self::Error> {
        Ok(PriorityQueue::len(self))
    }
}

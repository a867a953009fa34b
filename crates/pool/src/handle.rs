//! [`JobHandle`]: awaits one job's outcome and can cancel it.
//!
//! The handle and the job share a [`Shared`] cell: an atomic lifecycle (waiting, running, done),
//! a cancel flag, and a mutex around the staged result, the outcome and the two wakers (the
//! handle's, and the worker's while the job waits at an await).

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::error::JobError;
use crate::job::{Completion, Finish, JobId, Outcome, Status};

const WAITING: u8 = 0;
const RUNNING: u8 = 1;
const DONE: u8 = 2;

enum Slot<T, E> {
    Empty,
    Ready(Outcome<T, E>),
    Taken,
}

struct Inner<T, E> {
    /// What the job's future returned, kept until the worker has counted the job.
    staged: Option<Result<T, E>>,
    outcome: Slot<T, E>,
    handle_waker: Option<Waker>,
    job_waker: Option<Waker>,
}

/// The cell shared by a job and its handle.
pub(crate) struct Shared<T, E> {
    id: JobId,
    state: AtomicU8,
    cancel: AtomicBool,
    inner: Mutex<Inner<T, E>>,
}

impl<T, E> Shared<T, E> {
    pub(crate) fn new(id: JobId) -> Self {
        Self {
            id,
            state: AtomicU8::new(WAITING),
            cancel: AtomicBool::new(false),
            inner: Mutex::new(Inner {
                staged: None,
                outcome: Slot::Empty,
                handle_waker: None,
                job_waker: None,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<T, E>> {
        // Nothing user-supplied runs under this lock, so poisoning cannot leave it inconsistent.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waiting -> running; false if the job was cancelled before it started.
    fn start(&self) -> bool {
        self.state
            .compare_exchange(WAITING, RUNNING, SeqCst, SeqCst)
            .is_ok()
    }

    /// Polls the job's future unless cancellation was asked for; `None` means cancelled.
    fn poll_running<F: Future>(
        &self,
        fut: Pin<&mut F>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<F::Output>> {
        if self.cancel.load(SeqCst) {
            return Poll::Ready(None);
        }
        if let Poll::Ready(out) = fut.poll(cx) {
            return Poll::Ready(Some(out));
        }
        {
            let mut inner = self.lock();
            match &inner.job_waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => inner.job_waker = Some(cx.waker().clone()),
            }
        }
        // Checked again after registering: `cancel` sets the flag before taking the waker.
        if self.cancel.load(SeqCst) {
            return Poll::Ready(None);
        }
        Poll::Pending
    }

    fn stage(&self, result: Result<T, E>) {
        self.lock().staged = Some(result);
    }

    fn cancel(&self) {
        self.cancel.store(true, SeqCst);
        if self
            .state
            .compare_exchange(WAITING, DONE, SeqCst, SeqCst)
            .is_ok()
        {
            // Never started: the handle resolves now; the worker discards the job when it pops it.
            self.publish(Finish::Cancelled);
        } else {
            let waker = self.lock().job_waker.take();
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

impl<T: Send, E: Send> Completion for Shared<T, E> {
    fn publish(&self, how: Finish) {
        Shared::publish(self, how);
    }
}

impl<T, E> Shared<T, E> {
    /// Stores the outcome (only the first call counts) and wakes the handle.
    fn publish(&self, how: Finish) {
        let waker = {
            let mut inner = self.lock();
            if !matches!(inner.outcome, Slot::Empty) {
                return;
            }
            let outcome = how.into_outcome(inner.staged.take());
            inner.outcome = Slot::Ready(outcome);
            inner.job_waker = None;
            self.state.store(DONE, SeqCst);
            inner.handle_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// The future a worker runs for a job with a handle: honours cancellation before the start and at
/// every await, and stages the result for the handle.
pub(crate) async fn run_with_handle<F, T, E>(fut: F, shared: Arc<Shared<T, E>>) -> Status
where
    F: Future<Output = Result<T, E>>,
{
    if !shared.start() {
        return Status::Cancelled;
    }
    let mut fut = pin!(fut);
    let result = poll_fn(|cx| shared.poll_running(fut.as_mut(), cx)).await;
    match result {
        None => Status::Cancelled,
        Some(Ok(value)) => {
            shared.stage(Ok(value));
            Status::Succeeded
        }
        Some(Err(error)) => {
            shared.stage(Err(error));
            Status::Failed
        }
    }
}

/// Awaits the [`Outcome`] of one job, and can cancel it.
///
/// `handle.await` returns the outcome once the job has ended and the pool has counted it (so
/// [`Pool::stats`](crate::Pool::stats) read afterwards includes it). Awaiting a finished job
/// returns at once; awaiting a cancelled one returns [`Outcome::Cancelled`] (unless it had
/// finished first). Dropping the handle does not cancel the job: it runs on, detached. Polling the
/// handle again after it returned its outcome panics, as for any finished future.
///
/// ```
/// use std::time::Duration;
/// use baton_pool::{Outcome, Pool};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = Pool::builder().max_workers(1).build()?;
/// let slow = pool.submit(async {
///     tokio::time::sleep(Duration::from_secs(60)).await;
///     Ok::<_, String>("done")
/// })?;
/// tokio::time::sleep(Duration::from_secs(1)).await; // it is running now
/// slow.cancel();
/// assert_eq!(slow.await, Outcome::Cancelled);
/// # Ok(())
/// # }
/// ```
pub struct JobHandle<T, E> {
    shared: Arc<Shared<T, E>>,
}

impl<T, E> JobHandle<T, E> {
    pub(crate) fn new(shared: Arc<Shared<T, E>>) -> Self {
        Self { shared }
    }

    /// The job's id.
    pub fn id(&self) -> JobId {
        self.shared.id
    }

    /// Cancels the job. A job still waiting for a worker never starts and its handle resolves
    /// [`Cancelled`](Outcome::Cancelled) at once; a running job's future is dropped at its next
    /// await (its worker is woken for that), then the handle resolves. A job that already ended
    /// keeps its outcome. Cancelling twice is harmless.
    ///
    /// A cancelled job that was waiting keeps its place in its worker's queue (and counts toward
    /// [`queue_capacity`](crate::PoolBuilder::queue_capacity) and the `queued` statistic) until
    /// the worker reaches it and discards it without running it.
    pub fn cancel(&self) {
        self.shared.cancel();
    }

    /// True once the outcome is available (awaiting the handle will not wait).
    pub fn is_finished(&self) -> bool {
        !matches!(self.shared.lock().outcome, Slot::Empty)
    }

    /// The outcome if the job has ended, without waiting; `None` if it has not ended or the
    /// outcome was already taken.
    ///
    /// # Panics
    /// Once this has returned the outcome, the handle is spent: awaiting it (or calling
    /// [`join`](Self::join)) afterwards panics, as polling any future after it completed does.
    pub fn try_outcome(&mut self) -> Option<Outcome<T, E>> {
        let mut inner = self.shared.lock();
        match std::mem::replace(&mut inner.outcome, Slot::Taken) {
            Slot::Ready(outcome) => Some(outcome),
            other => {
                inner.outcome = other;
                None
            }
        }
    }

    /// Awaits the job and returns `Ok(value)` or a [`JobError`] naming the job.
    ///
    /// ```
    /// use baton_pool::{JobError, Pool};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = Pool::builder().build()?;
    /// let h = pool.submit(async { Err::<(), _>("no route to host") })?;
    /// let id = h.id();
    /// assert_eq!(h.join().await, Err(JobError::Failed { id, error: "no route to host" }));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn join(self) -> Result<T, JobError<E>> {
        let id = self.id();
        self.await.into_result(id)
    }
}

impl<T, E> Future for JobHandle<T, E> {
    type Output = Outcome<T, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut inner = self.shared.lock();
        match std::mem::replace(&mut inner.outcome, Slot::Taken) {
            Slot::Ready(outcome) => Poll::Ready(outcome),
            Slot::Empty => {
                inner.outcome = Slot::Empty;
                match &inner.handle_waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => inner.handle_waker = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
            Slot::Taken => panic!(
                "JobHandle for job {} polled after it returned its outcome",
                self.shared.id
            ),
        }
    }
}

impl<T, E> fmt::Debug for JobHandle<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobHandle")
            .field("id", &self.shared.id)
            .field("finished", &self.is_finished())
            .finish()
    }
}

//! Job sources: the [`JobSource`] trait a pool can pull from (a priority queue, later a durable
//! store), the channel-backed [`ChannelSource`], and the feeder task behind
//! [`Pool::feed`](crate::Pool::feed).

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Poll};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::error::{ConfigError, SubmitError};
use crate::handle::JobHandle;
use crate::inner::Core;
use crate::job::{Body, BoxedBody, Finish, Job, Status};

/// Something a pool can pull jobs from.
///
/// `next` returns the next job, waits for one, or returns `None` when the source is exhausted
/// (the feeder then stops). The feeder drops a pending `next` future when the pool shuts down, so
/// `next` must be cancel-safe: a job it had not yet returned must stay in the source.
///
/// ```
/// use std::collections::VecDeque;
/// use baton_pool::{Job, JobSource};
///
/// /// Yields the jobs of a list, in order.
/// struct List(VecDeque<Job>);
///
/// impl JobSource for List {
///     type Job = Job;
///     async fn next(&mut self) -> Option<Job> {
///         self.0.pop_front()
///     }
/// }
/// ```
pub trait JobSource {
    /// What the source yields; anything that converts into a [`Job`].
    type Job: Into<Job>;

    /// The next job, or `None` when there will be no more.
    fn next(&mut self) -> impl Future<Output = Option<Self::Job>> + Send;
}

/// What a feeder returns when it stops: the source (with whatever it still holds), how many jobs
/// it submitted, and the job it had pulled but the pool refused because it was shutting down.
#[derive(Debug)]
#[non_exhaustive]
pub struct Fed<S> {
    /// The source, handed back.
    pub source: S,
    /// Jobs pulled from the source and accepted by the pool.
    pub submitted: u64,
    /// A job pulled from the source that the pool refused (it was shutting down), handed back.
    pub refused: Option<Job>,
}

/// Holds one feed-window permit until the job it wraps ends (when the box is dropped, right after
/// the outcome is published), and delegates everything else.
struct Windowed {
    inner: BoxedBody,
    _permit: OwnedSemaphorePermit,
}

impl Body for Windowed {
    fn poll_job(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Status> {
        self.get_mut().inner.as_mut().poll_job(cx)
    }

    fn drop_future(self: Pin<&mut Self>) {
        self.get_mut().inner.as_mut().drop_future();
    }

    fn publish(self: Pin<&mut Self>, how: Finish) {
        self.get_mut().inner.as_mut().publish(how);
    }
}

/// The feeder: pulls from `source` while fewer than `window` of its jobs are in the pool, and
/// submits them; stops when the source ends or the pool stops accepting jobs.
pub(crate) async fn feed<S>(core: Arc<Core>, mut source: S, window: usize) -> Fed<S>
where
    S: JobSource,
{
    let permits = Arc::new(Semaphore::new(window));
    let mut submitted = 0;
    let mut refused = None;
    loop {
        let Some(Ok(permit)) = core.unless_closed(permits.clone().acquire_owned()).await else {
            break;
        };
        let Some(Some(next)) = core.unless_closed(source.next()).await else {
            break;
        };
        let mut job: Job = next.into();
        job.body = job.body.take().map(|inner| -> BoxedBody {
            Box::pin(Windowed {
                inner,
                _permit: permit,
            })
        });
        match submit_waiting_for_room(&core, job).await {
            Ok(()) => submitted += 1,
            Err(job) => {
                refused = Some(job);
                break;
            }
        }
    }
    Fed {
        source,
        submitted,
        refused,
    }
}

/// Submits `job`, waiting while every queue is full; `Err(job)` if the pool shuts down first.
async fn submit_waiting_for_room(core: &Arc<Core>, mut job: Job) -> Result<(), Job> {
    loop {
        let mut room = pin!(core.room_notify.notified());
        room.as_mut().enable();
        core.room_waiters.fetch_add(1, SeqCst);
        match core.dispatch_job(job) {
            Err(SubmitError::Full { job: back, .. }) => {
                job = back;
                room.await; // a worker took jobs off a queue, or the pool is closing
                core.room_waiters.fetch_sub(1, SeqCst);
            }
            other => {
                core.room_waiters.fetch_sub(1, SeqCst);
                return other.map(drop).map_err(SubmitError::into_job);
            }
        }
    }
}

/// Creates a bounded channel of jobs: a [`JobSender`] for producers and the [`ChannelSource`] to
/// [`feed`](crate::Pool::feed) a pool with. `send` waits while `capacity` jobs are in the channel.
///
/// ```
/// use baton_pool::{channel, Outcome, Pool};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = Pool::builder().max_workers(2).build()?;
/// let (sender, source) = channel(64)?;
/// let feeder = pool.feed(source);
/// let handle = sender.submit(async { Ok::<_, ()>("fed") }).await?;
/// assert_eq!(handle.await, Outcome::Succeeded("fed"));
/// drop(sender); // the source ends, the feeder stops
/// assert_eq!(feeder.await?.submitted, 1);
/// # Ok(())
/// # }
/// ```
pub fn channel(capacity: usize) -> Result<(JobSender, ChannelSource), ConfigError> {
    if capacity == 0 {
        return Err(ConfigError::ZeroCount { field: "capacity" });
    }
    let (tx, rx) = mpsc::channel(capacity);
    Ok((JobSender { tx }, ChannelSource { rx }))
}

/// The sending half of [`channel`]; clone it for more producers.
#[derive(Debug, Clone)]
pub struct JobSender {
    tx: mpsc::Sender<Job>,
}

impl JobSender {
    /// Sends a job, waiting for room in the channel. Fails, handing the job back, when the source
    /// is gone (its feeder stopped because the pool shut down, or it was dropped).
    pub async fn send(&self, job: impl Into<Job>) -> Result<(), SubmitError<Job>> {
        self.tx
            .send(job.into())
            .await
            .map_err(|e| SubmitError::ShuttingDown { job: e.0 })
    }

    /// Wraps `fut` in a [`Job`], sends it and returns its handle. On failure the job comes back
    /// (drop it to resolve its handle, which is lost with it, as `Cancelled`).
    pub async fn submit<F, T, E>(&self, fut: F) -> Result<JobHandle<T, E>, SubmitError<Job>>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let (job, handle) = Job::new(fut);
        self.send(job).await?;
        Ok(handle)
    }
}

/// The receiving half of [`channel`]: a [`JobSource`] yielding jobs in the order they were sent.
#[derive(Debug)]
pub struct ChannelSource {
    rx: mpsc::Receiver<Job>,
}

impl JobSource for ChannelSource {
    type Job = Job;

    fn next(&mut self) -> impl Future<Output = Option<Job>> + Send {
        // `recv` is cancel-safe.
        self.rx.recv()
    }
}

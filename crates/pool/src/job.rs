//! Jobs: ids, options, the type-erased [`Job`] the pool queues, and the [`Outcome`] each job
//! reaches.

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use pin_project_lite::pin_project;

use crate::error::{ConfigError, JobError};
use crate::handle::{JobHandle, Shared, run_with_handle};

/// The id of a job: unique within the process, increasing in creation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobId(u64);

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl JobId {
    pub(crate) fn next() -> Self {
        Self(NEXT_ID.fetch_add(1, Relaxed))
    }

    /// The id as a number.
    pub fn get(self) -> u64 {
        self.0
    }

    /// The id with this number (for tests and for ids read back from logs).
    pub fn from_raw(raw: u64) -> Self {
        Self(raw)
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// How a job's timeout is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) enum TimeoutSetting {
    /// The pool's [`default_timeout`](crate::PoolBuilder::default_timeout), if any.
    #[default]
    PoolDefault,
    /// No timeout, whatever the pool's default.
    Never,
    /// This timeout.
    After(Duration),
}

/// Per-job settings, overriding the pool's defaults.
///
/// ```
/// use std::time::Duration;
/// use baton_pool::JobOptions;
///
/// let opts = JobOptions::new().timeout(Duration::from_secs(5))?;
/// assert_eq!(opts.timeout_override(), Some(Some(Duration::from_secs(5))));
/// assert!(JobOptions::new().timeout(Duration::ZERO).is_err());
/// assert_eq!(JobOptions::new().no_timeout().timeout_override(), Some(None));
/// # Ok::<(), baton_pool::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct JobOptions {
    timeout: TimeoutSetting,
}

impl JobOptions {
    /// The pool's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// End the job [`TimedOut`](Outcome::TimedOut) (dropping its future) if it runs longer than
    /// `timeout`, measured from when a worker starts it. Zero is an error.
    pub fn timeout(self, timeout: Duration) -> Result<Self, ConfigError> {
        if timeout.is_zero() {
            return Err(ConfigError::ZeroDuration { field: "timeout" });
        }
        Ok(Self {
            timeout: TimeoutSetting::After(timeout),
        })
    }

    /// Let the job run as long as it takes, even if the pool has a default timeout.
    pub fn no_timeout(self) -> Self {
        Self {
            timeout: TimeoutSetting::Never,
        }
    }

    /// `None` when the pool's default applies, `Some(None)` for no timeout, `Some(Some(d))` for
    /// timeout `d`.
    pub fn timeout_override(&self) -> Option<Option<Duration>> {
        match self.timeout {
            TimeoutSetting::PoolDefault => None,
            TimeoutSetting::Never => Some(None),
            TimeoutSetting::After(d) => Some(Some(d)),
        }
    }

    /// The timeout that applies, given the pool's default.
    pub(crate) fn resolve(&self, default: Option<Duration>) -> Option<Duration> {
        self.timeout_override().unwrap_or(default)
    }
}

/// What a job's future reports to the worker that polls it. Values and errors stay with the job
/// (staged for its handle); the worker only counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Succeeded,
    Failed,
    /// Cancelled through the handle: before it started, or at an await while running.
    Cancelled,
}

/// How a worker ended a job, passed to the job's handle (if any) after the counters are updated.
#[derive(Debug)]
pub(crate) enum Finish {
    /// The future returned; the handle takes the value or error the job staged.
    Completed,
    Panicked(String),
    TimedOut(Duration),
    Cancelled,
}

impl Finish {
    /// The outcome, given what the job's future staged (a `Completed` job with nothing staged
    /// was cancelled at an await).
    pub(crate) fn into_outcome<T, E>(self, staged: Option<Result<T, E>>) -> Outcome<T, E> {
        match self {
            Finish::Completed => staged.map_or(Outcome::Cancelled, Outcome::from),
            Finish::Panicked(message) => Outcome::Panicked(message),
            Finish::TimedOut(after) => Outcome::TimedOut(after),
            Finish::Cancelled => Outcome::Cancelled,
        }
    }
}

/// The handle side of a job, type-erased: told how the job ended.
pub(crate) trait Completion: Send + Sync {
    /// Publishes the job's outcome to its handle (only the first call counts).
    fn publish(&self, how: Finish);
}

/// A job's work and whoever hears how it ended, type-erased, in one allocation.
///
/// The worker polls it until it is ready (or panics, or times out), then drops the future in
/// place, then publishes how the job ended: in that order, so a handle that resolves sees the
/// future gone.
pub(crate) trait Body: Send {
    /// Polls the job's future (`Cancelled` once the future is gone).
    fn poll_job(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Status>;
    /// Drops the job's future now, if it is still there.
    fn drop_future(self: Pin<&mut Self>);
    /// Tells the job's handle or callback how it ended; only the first call counts.
    fn publish(self: Pin<&mut Self>, how: Finish);
}

/// A body is a future the worker can poll under `catch_unwind` like any other.
impl Future for dyn Body + '_ {
    type Output = Status;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Status> {
        self.poll_job(cx)
    }
}

pub(crate) type BoxedBody = Pin<Box<dyn Body>>;

pin_project! {
    /// A future that reports its own [`Status`], told its end through a separate completion:
    /// detached jobs (none) and jobs with a handle (the state they share with it).
    struct Split<F> {
        #[pin]
        fut: Option<F>,
        completion: Option<Arc<dyn Completion>>,
    }
}

impl<F: Future<Output = Status> + Send> Body for Split<F> {
    fn poll_job(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Status> {
        match self.project().fut.as_pin_mut() {
            Some(fut) => fut.poll(cx),
            None => Poll::Ready(Status::Cancelled),
        }
    }

    fn drop_future(self: Pin<&mut Self>) {
        self.project().fut.set(None);
    }

    fn publish(self: Pin<&mut Self>, how: Finish) {
        if let Some(completion) = self.project().completion.take() {
            completion.publish(how);
        }
    }
}

fn split<F: Future<Output = Status> + Send + 'static>(
    fut: F,
    completion: Option<Arc<dyn Completion>>,
) -> BoxedBody {
    Box::pin(Split {
        fut: Some(fut),
        completion,
    })
}

/// A job ready for a pool, with its type erased: what a [`JobSource`](crate::JobSource) yields and
/// what [`Pool::submit_job`](crate::Pool::submit_job) takes.
///
/// Made with [`Job::new`] (which also returns the [`JobHandle`] to await its outcome),
/// [`Job::detached`] (no handle) or [`Job::blocking`] (a closure for tokio's blocking pool). A job
/// dropped without being run (never submitted, or its pool's runtime went away) ends
/// [`Cancelled`](Outcome::Cancelled) for its handle.
///
/// ```
/// use baton_pool::{Job, Outcome, Pool};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = Pool::builder().max_workers(2).build()?;
/// let (job, handle) = Job::new(async { Ok::<_, String>(6 * 7) });
/// pool.submit_job(job)?;
/// assert_eq!(handle.await, Outcome::Succeeded(42));
/// # Ok(())
/// # }
/// ```
pub struct Job {
    pub(crate) id: JobId,
    pub(crate) options: JobOptions,
    /// When the job joined a queue, in nanoseconds since its pool's epoch.
    pub(crate) enqueued: u64,
    /// The future and its completion (`None` once a worker has settled the job).
    pub(crate) body: Option<BoxedBody>,
}

impl Job {
    pub(crate) fn from_parts(
        id: JobId,
        options: JobOptions,
        enqueued: u64,
        body: BoxedBody,
    ) -> Self {
        Self {
            id,
            options,
            enqueued,
            body: Some(body),
        }
    }

    /// A job running `fut`, and the handle that receives its outcome.
    pub fn new<F, T, E>(fut: F) -> (Self, JobHandle<T, E>)
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let id = JobId::next();
        Self::with_handle(id, Arc::new(Shared::new(id)), JobOptions::new(), 0, fut)
    }

    /// A job running `fut` that reports to `shared`, and the handle that reads it: what
    /// [`Job::new`] and the pool's submit paths build. The caller makes `shared`, so a pool can
    /// allocate it before it takes a worker's queue lock.
    pub(crate) fn with_handle<F, T, E>(
        id: JobId,
        shared: Arc<Shared<T, E>>,
        options: JobOptions,
        enqueued: u64,
        fut: F,
    ) -> (Self, JobHandle<T, E>)
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let run = run_with_handle(fut, Arc::clone(&shared));
        let handle = JobHandle::new(Arc::clone(&shared));
        (
            Self::from_parts(id, options, enqueued, split(run, Some(shared))),
            handle,
        )
    }

    /// A job running `fut` that hands its [`Outcome`] to `on_done`, exactly once, however it ends:
    /// returned, panicked, timed out, aborted by a shutdown, or dropped without being run (a pool
    /// that refused it hands the job back; dropping that job calls `on_done` with
    /// [`Cancelled`](Outcome::Cancelled)).
    ///
    /// This is the building block for schedulers that track many jobs at once: no handle to await
    /// per job, and the outcome arrives on the worker that ended the job (after the pool counted
    /// it), where `on_done` can forward it to one inbox. Keep `on_done` short and non-blocking; a
    /// panic inside it is caught and discarded, so it cannot take the worker down.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use baton_pool::{Job, Outcome, Pool};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = Pool::builder().workers(2).build()?;
    /// let (tx, rx) = mpsc::channel();
    /// for n in 0..3u32 {
    ///     let tx = tx.clone();
    ///     let job = Job::with_callback(async move { if n == 1 { Err("odd") } else { Ok(n) } },
    ///         move |outcome| tx.send(outcome).unwrap());
    ///     pool.submit_job(job)?;
    /// }
    /// pool.idle().await;
    /// let mut outcomes: Vec<Outcome<u32, &str>> = rx.try_iter().collect();
    /// outcomes.sort_by_key(|o| format!("{o:?}"));
    /// assert_eq!(outcomes, [Outcome::Failed("odd"), Outcome::Succeeded(0), Outcome::Succeeded(2)]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_callback<F, T, E, D>(fut: F, on_done: D) -> Self
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
        D: FnOnce(Outcome<T, E>) + Send + 'static,
    {
        // The future, its staged result and the callback share one allocation.
        let body = Box::pin(Callback {
            fut: Some(fut),
            staged: None,
            on_done: Some(on_done),
        });
        Self::from_parts(JobId::next(), JobOptions::new(), 0, body)
    }

    /// A job running `fut` whose outcome is only counted (the fast path: no outcome channel).
    pub fn detached<F, T, E>(fut: F) -> Self
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: 'static,
        E: 'static,
    {
        Self::detached_at(JobId::next(), 0, fut)
    }

    /// A detached job `id` enqueued at `enqueued`: what [`Job::detached`] and
    /// [`Pool::spawn_detached`](crate::Pool::spawn_detached) build.
    pub(crate) fn detached_at<F, T, E>(id: JobId, enqueued: u64, fut: F) -> Self
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: 'static,
        E: 'static,
    {
        Self::from_parts(
            id,
            JobOptions::new(),
            enqueued,
            split(run_detached(fut), None),
        )
    }

    /// A job running the CPU-heavy closure `f` on tokio's blocking pool, and its handle. The pool
    /// counts and times it like any job, and one worker waits for it. A timeout or cancellation
    /// stops the wait (the job ends `TimedOut` or `Cancelled`), but the closure runs on to its end
    /// on its thread: blocking code cannot be interrupted.
    pub fn blocking<C, T, E>(f: C) -> (Self, JobHandle<T, E>)
    where
        C: FnOnce() -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        Self::new(run_blocking(f))
    }

    /// This job with `options` (replacing any set before).
    pub fn with_options(mut self, options: JobOptions) -> Self {
        self.options = options;
        self
    }

    /// The job's id.
    pub fn id(&self) -> JobId {
        self.id
    }

    /// The job's options.
    pub fn options(&self) -> JobOptions {
        self.options
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        if let Some(body) = self.body.take() {
            // Dropped without a worker finishing it: the handle or callback hears `Cancelled`.
            crate::panic::finish(body, Finish::Cancelled, self.id);
        }
    }
}

impl fmt::Debug for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("id", &self.id)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

pub(crate) async fn run_detached<F, T, E>(fut: F) -> Status
where
    F: Future<Output = Result<T, E>>,
{
    match fut.await {
        Ok(_) => Status::Succeeded,
        Err(_) => Status::Failed,
    }
}

pin_project! {
    /// A [`Job::with_callback`] job: its future, the result it staged, and the callback that
    /// receives the outcome (taken by the first publish).
    struct Callback<F, T, E, D> {
        #[pin]
        fut: Option<F>,
        staged: Option<Result<T, E>>,
        on_done: Option<D>,
    }
}

impl<F, T, E, D> Body for Callback<F, T, E, D>
where
    F: Future<Output = Result<T, E>> + Send,
    T: Send,
    E: Send,
    D: FnOnce(Outcome<T, E>) + Send,
{
    fn poll_job(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Status> {
        let this = self.project();
        let Some(fut) = this.fut.as_pin_mut() else {
            return Poll::Ready(Status::Cancelled);
        };
        let result = ready!(fut.poll(cx));
        let status = if result.is_ok() {
            Status::Succeeded
        } else {
            Status::Failed
        };
        *this.staged = Some(result);
        Poll::Ready(status)
    }

    fn drop_future(self: Pin<&mut Self>) {
        self.project().fut.set(None);
    }

    fn publish(self: Pin<&mut Self>, how: Finish) {
        let this = self.project();
        let Some(on_done) = this.on_done.take() else {
            return;
        };
        let outcome = how.into_outcome(this.staged.take());
        if catch_unwind(AssertUnwindSafe(|| on_done(outcome))).is_err() {
            tracing::debug!("a job's completion callback panicked");
        }
    }
}

/// Runs `f` on the blocking pool; its panic is resumed here, where the worker catches it.
pub(crate) async fn run_blocking<C, T, E>(f: C) -> Result<T, E>
where
    C: FnOnce() -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => std::panic::resume_unwind(Box::new(
            "the blocking job was cancelled by its runtime shutting down",
        )),
    }
}

/// The outcome every job reaches exactly once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Outcome<T, E> {
    /// The job returned `Ok(value)`.
    Succeeded(T),
    /// The job returned `Err(error)`.
    Failed(E),
    /// The job panicked; the panic message (`"Box<dyn Any>"` when the payload is not a string).
    Panicked(String),
    /// The job ran past this timeout and its future was dropped.
    TimedOut(Duration),
    /// The job was cancelled before it finished: through its handle, or by a shutdown.
    Cancelled,
}

/// A job's own result: `Ok` is [`Succeeded`](Outcome::Succeeded), `Err` is
/// [`Failed`](Outcome::Failed).
///
/// ```
/// use baton_pool::Outcome;
///
/// assert_eq!(Outcome::from(Ok::<u8, ()>(7)), Outcome::Succeeded(7));
/// assert_eq!(Outcome::from(Err::<u8, _>("no")), Outcome::Failed("no"));
/// ```
impl<T, E> From<Result<T, E>> for Outcome<T, E> {
    fn from(result: Result<T, E>) -> Self {
        match result {
            Ok(value) => Outcome::Succeeded(value),
            Err(error) => Outcome::Failed(error),
        }
    }
}

impl<T, E> Outcome<T, E> {
    /// Which outcome this is, without the payload.
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Self::Succeeded(_) => OutcomeKind::Succeeded,
            Self::Failed(_) => OutcomeKind::Failed,
            Self::Panicked(_) => OutcomeKind::Panicked,
            Self::TimedOut(_) => OutcomeKind::TimedOut,
            Self::Cancelled => OutcomeKind::Cancelled,
        }
    }

    /// True for [`Succeeded`](Outcome::Succeeded).
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Succeeded(_))
    }

    /// `Ok(value)` on success, otherwise a [`JobError`] naming job `id`.
    ///
    /// ```
    /// use baton_pool::{JobError, JobId, Outcome};
    /// let id = JobId::from_raw(3);
    /// let timed_out: Outcome<(), ()> = Outcome::TimedOut(std::time::Duration::from_secs(1));
    /// assert!(matches!(timed_out.into_result(id), Err(JobError::TimedOut { .. })));
    /// assert_eq!(Outcome::<_, ()>::Succeeded(1).into_result(id), Ok(1));
    /// ```
    pub fn into_result(self, id: JobId) -> Result<T, JobError<E>> {
        match self {
            Self::Succeeded(value) => Ok(value),
            Self::Failed(error) => Err(JobError::Failed { id, error }),
            Self::Panicked(message) => Err(JobError::Panicked { id, message }),
            Self::TimedOut(after) => Err(JobError::TimedOut { id, after }),
            Self::Cancelled => Err(JobError::Cancelled { id }),
        }
    }
}

/// The kind of an [`Outcome`], without its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OutcomeKind {
    /// See [`Outcome::Succeeded`].
    Succeeded,
    /// See [`Outcome::Failed`].
    Failed,
    /// See [`Outcome::Panicked`].
    Panicked,
    /// See [`Outcome::TimedOut`].
    TimedOut,
    /// See [`Outcome::Cancelled`].
    Cancelled,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_and_display_with_a_hash() {
        let (a, b) = (JobId::next(), JobId::next());
        assert!(b > a);
        assert_eq!(JobId::from_raw(12).to_string(), "#12");
        assert_eq!(JobId::from_raw(12).get(), 12);
    }

    #[test]
    fn a_queued_job_fits_one_cache_line() {
        // Jobs move through queues by value: one line each from the submitter's core to the
        // worker's.
        assert!(size_of::<Job>() <= 64, "{} bytes", size_of::<Job>());
    }

    #[test]
    fn options_resolve_against_the_pool_default() {
        let d = Some(Duration::from_secs(1));
        assert_eq!(JobOptions::new().resolve(d), d);
        assert_eq!(JobOptions::new().no_timeout().resolve(d), None);
        let own = JobOptions::new().timeout(Duration::from_millis(5)).unwrap();
        assert_eq!(own.resolve(d), Some(Duration::from_millis(5)));
        assert_eq!(own.resolve(None), Some(Duration::from_millis(5)));
        assert_eq!(
            JobOptions::new().timeout(Duration::ZERO),
            Err(ConfigError::ZeroDuration { field: "timeout" })
        );
    }

    #[test]
    fn outcome_kinds() {
        let o: Outcome<u8, ()> = Outcome::Panicked("boom".into());
        assert_eq!(o.kind(), OutcomeKind::Panicked);
        assert!(!o.is_success());
        assert!(Outcome::<u8, ()>::Succeeded(1).is_success());
        assert_eq!(
            Outcome::<(), &str>::Failed("x").into_result(JobId::from_raw(1)),
            Err(JobError::Failed {
                id: JobId::from_raw(1),
                error: "x"
            })
        );
    }

    #[test]
    fn a_dropped_job_whose_future_panics_on_drop_still_tells_its_callback() {
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("bomb");
            }
        }
        let heard = Arc::new(std::sync::Mutex::new(None));
        let bomb = Bomb;
        let job = Job::with_callback(
            async move {
                let _held = bomb;
                Ok::<u8, ()>(1)
            },
            {
                let heard = Arc::clone(&heard);
                move |outcome| *heard.lock().unwrap() = Some(outcome)
            },
        );
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        drop(job);
        std::panic::set_hook(hook);
        assert_eq!(*heard.lock().unwrap(), Some(Outcome::Cancelled));
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_dropped_job_cancels_its_handle() {
        let (job, handle) = Job::new(async { Ok::<_, ()>(1) });
        assert_eq!(job.options(), JobOptions::new());
        assert!(format!("{job:?}").contains(&format!("id: {:?}", job.id())));
        drop(job);
        assert_eq!(handle.await, Outcome::Cancelled);
    }
}

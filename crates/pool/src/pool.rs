//! [`Pool`]: the public handle: submit, feed, observe, shut down.

use std::fmt;
use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::Ordering::Acquire;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::config::PoolBuilder;
use crate::error::SubmitError;
use crate::handle::{JobHandle, Shared};
use crate::inner::Core;
use crate::job::{Job, JobId, JobOptions, run_blocking};
use crate::shutdown::ShutdownReport;
use crate::source::{Fed, JobSource, feed};
use crate::stats::{PoolStats, snapshot};

/// A pool of workers on tokio that runs jobs, one per worker at a time.
///
/// `Pool` is a cheap handle (clone it to share the pool). When the last handle is dropped the pool
/// closes: it accepts nothing more, and its workers finish the jobs already queued, then exit.
/// Call [`shutdown`](Pool::shutdown) to bound that with a deadline and get a report.
///
/// ```
/// use baton_pool::{Outcome, Pool};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = Pool::builder().max_workers(4).build()?;
/// let answer = pool.submit(async { Ok::<_, String>(42) })?;
/// pool.spawn_detached(async { Ok::<_, ()>(()) })?;
/// assert_eq!(answer.await, Outcome::Succeeded(42));
/// pool.idle().await;
/// assert_eq!(pool.stats().succeeded, 2);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Pool {
    owner: Arc<Owner>,
}

/// Closes the pool when the last [`Pool`] handle goes (workers and feeders hold the core only).
struct Owner {
    core: Arc<Core>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.core.close();
    }
}

impl Pool {
    /// A builder with the defaults; see [`PoolBuilder`].
    pub fn builder() -> PoolBuilder {
        PoolBuilder::new()
    }

    pub(crate) fn from_core(core: Arc<Core>) -> Self {
        Self {
            owner: Arc::new(Owner { core }),
        }
    }

    fn core(&self) -> &Arc<Core> {
        &self.owner.core
    }

    /// Submits a job and returns the handle to await its [`Outcome`](crate::Outcome). The job
    /// uses the pool's default timeout. If the pool refuses it (shutting down, or full), the
    /// future comes back in the error.
    pub fn submit<F, T, E>(&self, fut: F) -> Result<JobHandle<T, E>, SubmitError<F>>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        self.submit_with(JobOptions::new(), fut)
    }

    /// [`submit`](Pool::submit) with per-job options (a timeout of its own, or none).
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_pool::{JobOptions, Outcome, Pool};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = Pool::builder().build()?;
    /// let opts = JobOptions::new().timeout(Duration::from_millis(100))?;
    /// let h = pool.submit_with(opts, async {
    ///     tokio::time::sleep(Duration::from_secs(5)).await;
    ///     Ok::<_, ()>(())
    /// })?;
    /// assert_eq!(h.await, Outcome::TimedOut(Duration::from_millis(100)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn submit_with<F, T, E>(
        &self,
        options: JobOptions,
        fut: F,
    ) -> Result<JobHandle<T, E>, SubmitError<F>>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let id = JobId::next();
        let shared = Arc::new(Shared::new(id));
        self.core().dispatch(fut, move |fut, now| {
            Job::with_handle(id, shared, options, now, fut)
        })
    }

    /// Submits a job whose outcome is only counted, not delivered: the fast path (one allocation,
    /// no outcome channel). Returns the job's id.
    ///
    /// ```
    /// use baton_pool::Pool;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = Pool::builder().workers(2).build()?;
    /// for _ in 0..1000 {
    ///     pool.spawn_detached(async { Ok::<_, ()>(()) })?;
    /// }
    /// pool.idle().await;
    /// assert_eq!(pool.stats().succeeded, 1000);
    /// # Ok(())
    /// # }
    /// ```
    pub fn spawn_detached<F, T, E>(&self, fut: F) -> Result<JobId, SubmitError<F>>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: 'static,
        E: 'static,
    {
        // The id is taken before the queue lock, as on the other submit paths.
        let id = JobId::next();
        self.core()
            .dispatch(fut, move |fut, now| (Job::detached_at(id, now, fut), id))
    }

    /// Submits a CPU-heavy closure to run on tokio's blocking pool, counted and timed like any
    /// job (one worker waits for it). See [`Job::blocking`] for timeouts and cancellation.
    ///
    /// ```
    /// use baton_pool::{Outcome, Pool};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = Pool::builder().build()?;
    /// let sum = pool.submit_blocking(|| Ok::<u64, ()>((1..=1_000_000u64).sum()))?;
    /// assert_eq!(sum.await, Outcome::Succeeded(500_000_500_000));
    /// # Ok(())
    /// # }
    /// ```
    pub fn submit_blocking<C, T, E>(&self, f: C) -> Result<JobHandle<T, E>, SubmitError<C>>
    where
        C: FnOnce() -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let id = JobId::next();
        let shared = Arc::new(Shared::new(id));
        self.core().dispatch(f, move |f, now| {
            Job::with_handle(id, shared, JobOptions::new(), now, run_blocking(f))
        })
    }

    /// The most workers this pool runs at once (its [`max_workers`](PoolBuilder::max_workers)):
    /// how many jobs a scheduler should keep in it so that its own queue decides the order.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), baton_pool::ConfigError> {
    /// let pool = baton_pool::Pool::builder().max_workers(3).build()?;
    /// assert_eq!(pool.max_workers(), 3);
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_workers(&self) -> usize {
        self.core().config.max_workers
    }

    /// Submits a prepared [`Job`] (see [`Job::new`], [`Job::detached`], [`Job::blocking`]).
    pub fn submit_job(&self, job: Job) -> Result<JobId, SubmitError<Job>> {
        self.core().dispatch_job(job)
    }

    /// Submits prepared jobs together: each worker queue used is locked once, and its worker
    /// woken at most once, for the whole batch. The jobs are spread over the running workers in
    /// order, least loaded first. Accepted jobs are drained from the front of `jobs`; whatever is
    /// left was refused (the pool is shutting down, or every queue is full) and can be dropped,
    /// which ends each job's handle [`Cancelled`](crate::Outcome::Cancelled), or retried. The
    /// vector keeps its buffer, so a scheduler can reuse it batch after batch.
    ///
    /// ```
    /// use baton_pool::{Job, Outcome, Pool};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = Pool::builder().workers(2).build()?;
    /// let (mut jobs, mut handles) = (Vec::new(), Vec::new());
    /// for i in 0..10_u32 {
    ///     let (job, handle) = Job::new(async move { Ok::<_, ()>(i * i) });
    ///     jobs.push(job);
    ///     handles.push(handle);
    /// }
    /// pool.submit_batch(&mut jobs);
    /// assert!(jobs.is_empty(), "all accepted");
    /// assert_eq!(handles.pop().unwrap().await, Outcome::Succeeded(81));
    /// # Ok(())
    /// # }
    /// ```
    pub fn submit_batch(&self, jobs: &mut Vec<Job>) {
        self.core().dispatch_batch(jobs);
    }

    /// Starts a task that pulls jobs from `source` and submits them, keeping at most twice
    /// `max_workers` of them in the pool at once (so a priority source keeps deciding the order).
    /// It stops when the source returns `None` or the pool stops accepting jobs, and returns the
    /// source with what it did ([`Fed`]). See [`feed_window`](Pool::feed_window).
    ///
    /// ```
    /// use baton_pool::{Job, JobSource, Pool};
    ///
    /// struct Countdown(u32);
    /// impl JobSource for Countdown {
    ///     type Job = Job;
    ///     async fn next(&mut self) -> Option<Job> {
    ///         (self.0 > 0).then(|| {
    ///             self.0 -= 1;
    ///             Job::detached(async { Ok::<_, ()>(()) })
    ///         })
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = Pool::builder().build()?;
    /// let fed = pool.feed(Countdown(10)).await?;
    /// assert_eq!((fed.submitted, fed.source.0), (10, 0));
    /// pool.idle().await;
    /// assert_eq!(pool.stats().succeeded, 10);
    /// # Ok(())
    /// # }
    /// ```
    pub fn feed<S>(&self, source: S) -> JoinHandle<Fed<S>>
    where
        S: JobSource + Send + 'static,
    {
        let window = self.core().config.max_workers.saturating_mul(2);
        self.spawn_feeder(source, window)
    }

    /// [`feed`](Pool::feed) keeping at most `window` of the source's jobs (running or waiting) in
    /// the pool at once.
    pub fn feed_window<S>(&self, source: S, window: NonZeroUsize) -> JoinHandle<Fed<S>>
    where
        S: JobSource + Send + 'static,
    {
        self.spawn_feeder(source, window.get())
    }

    fn spawn_feeder<S>(&self, source: S, window: usize) -> JoinHandle<Fed<S>>
    where
        S: JobSource + Send + 'static,
    {
        let window = window.min(tokio::sync::Semaphore::MAX_PERMITS);
        let core = self.core().clone();
        self.core().runtime.spawn(feed(core, source, window))
    }

    /// A snapshot of the pool's workers, counters and latencies.
    pub fn stats(&self) -> PoolStats {
        snapshot(self.core())
    }

    /// Waits until every job submitted so far has reached an outcome.
    pub async fn idle(&self) {
        self.core().idle().await;
    }

    /// True until a shutdown begins (or the last handle is dropped).
    pub fn is_accepting(&self) -> bool {
        self.core().accepting()
    }

    /// Graceful shutdown: stops taking jobs at once (submits fail with
    /// [`SubmitError::ShuttingDown`], handing the job back), lets running and queued jobs finish
    /// until `drain` has passed, then cancels the rest and waits for the workers to exit.
    ///
    /// Returns what ended during the shutdown. Calling it again (or concurrently) returns the same
    /// report once the first shutdown is complete. A job that blocks its thread without ever
    /// reaching an await cannot be cancelled, and delays the end of the shutdown.
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_pool::Pool;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = Pool::builder().workers(2).build()?;
    /// for secs in [1, 2, 30, 40] {
    ///     pool.spawn_detached(async move {
    ///         tokio::time::sleep(Duration::from_secs(secs)).await;
    ///         Ok::<_, ()>(())
    ///     })?;
    /// }
    /// let report = pool.shutdown(Duration::from_secs(10)).await;
    /// assert_eq!((report.succeeded, report.cancelled), (2, 2));
    /// assert_eq!(report.elapsed, Duration::from_secs(10));
    /// assert!(pool.spawn_detached(async { Ok::<_, ()>(()) }).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn shutdown(&self, drain: Duration) -> ShutdownReport {
        let core = self.core();
        let mut done = core.report.lock().await;
        if let Some(report) = &*done {
            return report.clone();
        }
        let start = Instant::now();
        core.close();
        let drained = core.workers_exited(start.checked_add(drain)).await;
        if !drained {
            core.abort();
            core.workers_exited(None).await;
        }
        let report = core.take_tally().into_report(start.elapsed(), !drained);
        tracing::debug!(
            cancelled = report.cancelled,
            finished = report.finished(),
            "pool shut down"
        );
        *done = Some(report.clone());
        report
    }

    /// Immediate shutdown: stops taking jobs and cancels every running and queued job (running
    /// futures are dropped at their next await), then waits for the workers to exit.
    pub async fn shutdown_now(&self) -> ShutdownReport {
        self.core().abort();
        self.shutdown(Duration::ZERO).await
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let core = self.core();
        f.debug_struct("Pool")
            .field("workers", &core.active.load(Acquire))
            .field("min_workers", &core.config.min_workers)
            .field("max_workers", &core.config.max_workers)
            .field("balancer", &core.balancer)
            .field("accepting", &core.accepting())
            .finish_non_exhaustive()
    }
}

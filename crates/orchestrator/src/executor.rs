//! [`Executor`]: where attempts run. The orchestrator is written against this trait; a
//! [`Pool`] is the in-process implementation, and remote agents will be others.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use baton_dag::NodeId;
use baton_pool::{Job, JobOptions, Outcome, Pool};
use tokio::sync::Notify;
use tokio::time::Instant;

use tracing::{Instrument, Span};

use crate::context::{RunShared, TaskContext};
use crate::error::TaskError;
use crate::faults::Fault;
use crate::nanos::Nanos;
use crate::task::{BoxedAttempt, Handler, Output};

/// Runs attempts. The orchestrator never hands an executor more than
/// [`capacity`](Executor::capacity) attempts at once (plus the
/// [prefetch](crate::Prefetch), adaptive by default), so its own priority queue
/// decides the order, and it learns each attempt's end through the attempt's [`Done`].
pub trait Executor: Send + Sync + 'static {
    /// How many attempts it runs at once. The orchestrator reads it again on every turn of its
    /// loop, so it may change (agents come and go).
    fn capacity(&self) -> usize;

    /// Whether [`capacity`](Executor::capacity) can grow while nothing else happens (an agent
    /// added while every attempt runs): the orchestrator then also looks at it again every
    /// 100 ms while work waits for room. By default, false.
    fn capacity_varies(&self) -> bool {
        false
    }

    /// Runs `attempt` (or refuses it by dropping its [`Done`], which reports it
    /// [`Cancelled`](Outcome::Cancelled)). The attempt's future must be dropped if it runs past
    /// its [`timeout`](Attempt::timeout), reporting [`TimedOut`](Outcome::TimedOut); a panic in
    /// it reports [`Panicked`](Outcome::Panicked).
    fn execute(&self, attempt: Attempt);

    /// Runs every attempt in `attempts`, draining it (the vector keeps its buffer). The engine
    /// hands over what it pops in one go through this; an executor that can take a batch more
    /// cheaply than one attempt at a time (the [`Pool`] locks each worker queue once) overrides
    /// it. By default, [`execute`](Executor::execute) on each.
    fn execute_batch(&self, attempts: &mut Vec<Attempt>) {
        for attempt in attempts.drain(..) {
            self.execute(attempt);
        }
    }
}

/// One attempt of a task (or a compensation), for an [`Executor`] to run.
#[derive(Debug)]
pub struct Attempt {
    pub(crate) future: AttemptFuture,
    /// Kept as [`Nanos`]: eight bytes, which keeps an attempt small enough to move inline.
    pub(crate) timeout: Nanos,
    pub(crate) done: Done,
    /// The capabilities the task requires of the agent that runs it.
    pub(crate) requires: Option<Arc<[String]>>,
}

impl Attempt {
    /// How long the attempt may run, from its start.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout.duration()
    }

    /// The capabilities the task requires of whatever runs it (see [`Task::requires`](crate::Task::requires)).
    pub fn requires(&self) -> &[String] {
        self.requires.as_deref().unwrap_or_default()
    }

    /// The future to run and the [`Done`] to report its outcome to.
    pub fn into_parts(self) -> (AttemptFuture, Done) {
        (self.future, self.done)
    }
}

/// The work of one attempt: resolves to the task's output or its error.
///
/// The handler is looked up and called on the first poll, where the attempt runs (a worker), not
/// where it was dispatched: the orchestrator's engine only packs the task's context.
pub struct AttemptFuture {
    pub(crate) stage: Stage,
}

/// Where an [`AttemptFuture`] is.
pub(crate) enum Stage {
    /// Not polled yet: what the task's handler will be called with.
    Unstarted(Start),
    /// The handler's future, and where its output goes.
    Running(Running),
    /// A future already wrapped (by an executor that adds to the attempt, such as agents).
    Wrapped(Pin<Box<dyn Future<Output = Result<TaskOutput, TaskError>> + Send>>),
    /// Resolved (or its start panicked).
    Spent,
}

/// What the first poll of an attempt calls its task's handler (or compensation) with. The
/// handler's [`TaskContext`] is made there, on the worker, from `run`: its reference to the run
/// is counted on the worker's core, not on the engine's.
pub(crate) struct Start {
    pub(crate) node: NodeId,
    pub(crate) attempt: u32,
    pub(crate) compensating: bool,
    /// The attempt's own reference to its run (for its output and cancellation), taken by the
    /// engine: a worker that runs it does not touch the run's reference count for it, which
    /// both workers and the engine would otherwise write in turn (see [`TaskOutput`]).
    pub(crate) run: Arc<RunShared>,
    pub(crate) fault: Option<Fault>,
    /// What only some attempts carry: a tracing span (tracing on), the agent an executor placed
    /// it on. Boxed: without them (the fast path) an attempt is small enough to move without a
    /// call to `memcpy`.
    pub(crate) extras: Option<Box<StartExtras>>,
}

/// The rare parts of a [`Start`].
#[derive(Default)]
pub(crate) struct StartExtras {
    pub(crate) span: Option<Span>,
    pub(crate) agent: Option<Arc<str>>,
}

/// The agent an attempt was placed on, as its [`Done`] carries it back to the engine: a thin
/// pointer, since an attempt has no room for a wide one.
pub(crate) type Placement = Arc<Arc<str>>;

/// A started attempt.
pub(crate) struct Running {
    work: BoxedAttempt,
    /// Handed back in the [`TaskOutput`] when the attempt succeeds.
    run: Arc<RunShared>,
    node: usize,
    compensating: bool,
    /// Resolves when the run is cancelled; made on the attempt's first wait (an attempt that
    /// never waits never touches the run's cancellation).
    cancelled: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl AttemptFuture {
    /// Says which agent the attempt runs on: its handler reads it from
    /// [`TaskContext::agent`]. Only before the attempt started (a wrapped future is left as is).
    pub(crate) fn place(&mut self, agent: &Arc<str>) {
        if let Stage::Unstarted(start) = &mut self.stage {
            start.extras.get_or_insert_with(Box::default).agent = Some(Arc::clone(agent));
        }
    }

    pub(crate) fn wrapped(
        inner: impl Future<Output = Result<TaskOutput, TaskError>> + Send + 'static,
    ) -> Self {
        Self {
            stage: Stage::Wrapped(Box::pin(inner)),
        }
    }

    /// Calls the handler: the first poll, on the worker.
    fn start(start: Start) -> Result<Running, TaskError> {
        // The handler is looked up here, on the worker: the engine never touches it (and the
        // handlers are a dense column, not a line of each task's spec).
        let run = start.run;
        let node = start.node.index();
        let compensating = start.compensating;
        let handler: &Handler = if compensating {
            run.spec.tasks[node]
                .compensation
                .as_ref()
                .ok_or_else(|| TaskError::permanent("the task has no compensation"))?
        } else {
            run.spec.handlers.get(node)
        };
        let (span, agent) = match start.extras {
            Some(extras) => (extras.span, extras.agent),
            None => (None, None),
        };
        let ctx = TaskContext {
            shared: Arc::clone(&run),
            node: start.node,
            attempt: start.attempt,
            compensating,
            agent,
        };
        let work = handler(ctx, start.fault);
        let work = match span {
            Some(span) => Box::pin(work.instrument(span)),
            None => work,
        };
        Ok(Running {
            work,
            run,
            node,
            compensating,
            cancelled: None,
        })
    }
}

impl Running {
    /// Polls the handler's work, and the run's cancellation once the work has to wait.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<Output, TaskError>> {
        match self.work.as_mut().poll(cx) {
            Poll::Ready(result) => Poll::Ready(result),
            // Compensations run to their end: the run's cancellation is what started them.
            Poll::Pending if self.compensating => Poll::Pending,
            Poll::Pending => {
                let run = &self.run;
                let cancelled = self.cancelled.get_or_insert_with(|| {
                    let token = run.cancel.clone();
                    Box::pin(async move { token.cancelled().await })
                });
                match cancelled.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(TaskError::cancelled())),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    /// The attempt succeeded with `output`: stores it in the run (a task's, not a
    /// compensation's) and hands the run reference back.
    fn succeed(self, output: Output) -> TaskOutput {
        if !self.compensating && !output.is::<()>() {
            // Set here, on the worker, before the outcome is reported: dependents are released
            // only after the engine takes the report, so they see it. A `()` is not stored (no
            // line of the outputs is touched): an empty slot of a task that succeeded reads as
            // `()` (see `TaskContext::output`).
            let _ = self.run.outputs[self.node].set(output);
        }
        TaskOutput {
            run: Some(self.run),
        }
    }
}

impl Future for AttemptFuture {
    type Output = Result<TaskOutput, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Stage::Unstarted(_) = this.stage
            && let Stage::Unstarted(start) = std::mem::replace(&mut this.stage, Stage::Spent)
        {
            match Self::start(start) {
                Ok(running) => this.stage = Stage::Running(running),
                Err(error) => return Poll::Ready(Err(error)),
            }
        }
        let result = match &mut this.stage {
            // Polled in place (a panic in the handler leaves it where the executor drops it),
            // and taken out by value only once it succeeded.
            Stage::Running(running) => match std::task::ready!(running.poll(cx)) {
                Ok(output) => match std::mem::replace(&mut this.stage, Stage::Spent) {
                    Stage::Running(running) => Ok(running.succeed(output)),
                    // Not reachable: matched as running just above.
                    _ => Err(TaskError::permanent("the attempt lost its run")),
                },
                Err(error) => Err(error),
            },
            Stage::Wrapped(future) => std::task::ready!(future.as_mut().poll(cx)),
            // Polled after it resolved: a contract breach by the executor.
            Stage::Unstarted(_) | Stage::Spent => Err(TaskError::permanent(
                "the attempt was polled after it ended",
            )),
        };
        this.stage = Stage::Spent;
        Poll::Ready(result)
    }
}

impl fmt::Debug for AttemptFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AttemptFuture")
    }
}

/// That an attempt succeeded, on its way back to the orchestrator (opaque). The task's output
/// itself is already stored in its run, where dependents read it; this carries the attempt's
/// reference to the run back, so that the engine, not the worker, lets go of it.
pub struct TaskOutput {
    run: Option<Arc<RunShared>>,
}

impl TaskOutput {
    /// The attempt's reference to its run, for the engine to reuse.
    pub(crate) fn take_run(&mut self) -> Option<Arc<RunShared>> {
        self.run.take()
    }
}

impl fmt::Debug for TaskOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TaskOutput")
    }
}

/// Which attempt a [`Done`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    pub(crate) slot: u32,
    pub(crate) run: u64,
    pub(crate) node: u32,
    pub(crate) compensation: bool,
    /// When the attempt was handed over, in nanoseconds since its run started: its run time is
    /// measured from here (carried with it, so the engine's per-task state need not keep it).
    pub(crate) started: u64,
}

/// An attempt's end, as reported.
pub(crate) struct Finished {
    pub(crate) key: Key,
    pub(crate) outcome: Outcome<TaskOutput, TaskError>,
    /// When it ended, in nanoseconds since the inbox's [`epoch`](Inbox::epoch), worked out on the
    /// worker (the engine's times are offsets from the same epoch, and it turns this back into
    /// an instant only when it needs one).
    pub(crate) ended_ns: u64,
    /// The attempt's reference to the inbox, handed back for the engine to reuse (a chunk
    /// keeps one of its own to deliver with).
    pub(crate) inbox: Option<Arc<Inbox>>,
    /// The agent the attempt ran on, if an executor placed it on one.
    pub(crate) agent: Option<Placement>,
}

/// Where [`Done`]s deliver: a batch the engine takes whole.
#[derive(Debug)]
pub(crate) struct Inbox {
    batch: Mutex<Vec<Finished>>,
    pub(crate) notify: Notify,
    /// The instant the engine's times count from (see [`Finished::ended_ns`]).
    pub(crate) epoch: Instant,
}

impl Default for Inbox {
    fn default() -> Self {
        Self {
            batch: Mutex::default(),
            notify: Notify::new(),
            epoch: Instant::now(),
        }
    }
}

impl Inbox {
    fn push(&self, finished: Finished) {
        self.deliver(|batch| batch.push(finished));
    }

    /// Delivers every entry of `finished` (draining it) with one lock and at most one wake-up.
    fn push_all(&self, finished: &mut Vec<Finished>) {
        if !finished.is_empty() {
            self.deliver(|batch| batch.append(finished));
        }
    }

    fn deliver(&self, add: impl FnOnce(&mut Vec<Finished>)) {
        let was_empty = {
            let mut batch = self.batch.lock().unwrap_or_else(PoisonError::into_inner);
            let was_empty = batch.is_empty();
            add(&mut batch);
            was_empty
        };
        if was_empty {
            // One wake-up per batch: the engine takes everything that arrived meanwhile.
            self.notify.notify_one();
        }
    }

    /// Swaps the waiting batch into `into` (which must be empty).
    pub(crate) fn take(&self, into: &mut Vec<Finished>) {
        let mut batch = self.batch.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::swap(&mut *batch, into);
    }
}

impl fmt::Debug for Finished {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Finished")
            .field("key", &self.key)
            .field("outcome", &self.outcome.kind())
            .finish_non_exhaustive()
    }
}

/// Reports one attempt's outcome to its orchestrator, exactly once: call
/// [`finish`](Done::finish), or drop it (which reports [`Cancelled`](Outcome::Cancelled)).
pub struct Done {
    inbox: Option<Arc<Inbox>>,
    key: Key,
    agent: Option<Placement>,
}

impl Done {
    pub(crate) fn new(inbox: Arc<Inbox>, key: Key) -> Self {
        Self {
            inbox: Some(inbox),
            key,
            agent: None,
        }
    }

    /// Records the agent the attempt was placed on, for the engine (its events and report).
    pub(crate) fn place(&mut self, agent: &Placement) {
        self.agent = Some(Arc::clone(agent));
    }

    /// Reports how the attempt ended.
    pub fn finish(mut self, outcome: Outcome<TaskOutput, TaskError>) {
        self.send(outcome);
    }

    fn send(&mut self, outcome: Outcome<TaskOutput, TaskError>) {
        if let Some((inbox, finished)) = self.take(outcome) {
            inbox.push(finished);
        }
    }

    /// The report to deliver and where (`None` if it was delivered already): a chunk delivers
    /// several at once.
    fn take(&mut self, outcome: Outcome<TaskOutput, TaskError>) -> Option<(Arc<Inbox>, Finished)> {
        let inbox = self.inbox.take()?;
        let finished = Finished {
            key: self.key,
            outcome,
            ended_ns: u64::try_from(
                Instant::now()
                    .saturating_duration_since(inbox.epoch)
                    .as_nanos(),
            )
            .unwrap_or(u64::MAX),
            inbox: None,
            agent: self.agent.take(),
        };
        Some((inbox, finished))
    }
}

impl Drop for Done {
    fn drop(&mut self) {
        self.send(Outcome::Cancelled);
    }
}

impl fmt::Debug for Done {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Done").field("key", &self.key).finish()
    }
}

/// The in-process executor: each attempt is a pool job whose outcome goes straight to the
/// orchestrator's inbox ([`Job::with_callback`]). The pool isolates panics, enforces timeouts and
/// scales its workers.
impl Executor for Pool {
    fn capacity(&self) -> usize {
        self.max_workers()
    }

    fn execute(&self, attempt: Attempt) {
        if let Err(refused) = self.submit_job(pool_job(attempt)) {
            // Dropping the refused job reports the attempt Cancelled.
            tracing::debug!(%refused, "the pool refused an attempt");
        }
    }

    fn execute_batch(&self, attempts: &mut Vec<Attempt>) {
        let workers = self.max_workers();
        if attempts.len() <= workers {
            // One job per worker queue at most: one lock per job either way, and no vector.
            for attempt in attempts.drain(..) {
                self.execute(attempt);
            }
            return;
        }
        // A deep batch: the engine prefetches deeply only while attempts end within microseconds.
        // Those without a timeout run in chunks, one pool job per worker, each chunk in the
        // engine's order; the rest are a job each (the pool enforces their timeouts).
        let mut jobs: Vec<Job> = Vec::with_capacity(workers + 1);
        if attempts.iter().any(|a| a.timeout.is_some()) {
            jobs.extend(
                attempts
                    .extract_if(.., |a| a.timeout.is_some())
                    .map(pool_job),
            );
        }
        // Split off from the back (one move of each attempt into its chunk), then put the
        // chunks back in the engine's order.
        let per_chunk = attempts.len().div_ceil(workers).max(1);
        let first_chunk = jobs.len();
        while !attempts.is_empty() {
            // The first chunk (`split_off(0)`) takes the vector itself, not a copy.
            let chunk = attempts.split_off(attempts.len().saturating_sub(per_chunk));
            jobs.push(if chunk.len() == 1 {
                pool_job(chunk.into_iter().next().expect("one attempt"))
            } else {
                // No pool timeout: a chunk's attempts have none, and it may run many.
                Job::detached(run_chunk(chunk, self.clone()))
                    .with_options(JobOptions::new().no_timeout())
            });
        }
        jobs[first_chunk..].reverse();
        self.submit_batch(&mut jobs);
        if !jobs.is_empty() {
            // Dropping the refused jobs reports their attempts Cancelled.
            tracing::debug!(refused = jobs.len(), "the pool refused attempts");
        }
    }
}

/// How many ended attempts a chunk gathers before it delivers them (it also delivers whenever an
/// attempt has to wait, and when it ends): one lock and one wake-up per delivery.
const CHUNK_DELIVERY: usize = 32;

/// Attempts gathered by a chunk and not yet delivered. Delivered when dropped too: a chunk the
/// pool drops (a shutdown) loses no outcome, and its attempts not yet run report `Cancelled`.
struct Gathered {
    inbox: Option<Arc<Inbox>>,
    finished: Vec<Finished>,
}

impl Gathered {
    fn new() -> Self {
        Self {
            inbox: None,
            finished: Vec::with_capacity(CHUNK_DELIVERY),
        }
    }

    fn add(&mut self, done: &mut Done, outcome: Outcome<TaskOutput, TaskError>) {
        let Some((inbox, finished)) = done.take(outcome) else {
            return;
        };
        match &self.inbox {
            Some(ours) if !Arc::ptr_eq(ours, &inbox) => inbox.push(finished),
            Some(_) => {
                // Its reference goes back with it: the engine reuses it for a new attempt
                // instead of this worker writing the inbox's reference count.
                let mut finished = finished;
                finished.inbox = Some(inbox);
                self.finished.push(finished);
            }
            None => {
                self.inbox = Some(inbox);
                self.finished.push(finished);
            }
        }
        if self.finished.len() >= CHUNK_DELIVERY {
            self.deliver();
        }
    }

    fn deliver(&mut self) {
        if let Some(inbox) = &self.inbox {
            inbox.push_all(&mut self.finished);
        }
    }
}

impl Drop for Gathered {
    fn drop(&mut self) {
        self.deliver();
    }
}

/// Runs `attempts` one after another in one pool job, each with its own outcome: a panic in one
/// is that attempt's, and the next runs. Outcomes go out in small batches, and before any wait.
/// An attempt that has to wait hands the attempts behind it back to `pool`, so that nothing
/// waits behind it while another worker could run it.
async fn run_chunk(mut attempts: Vec<Attempt>, pool: Pool) -> Result<(), std::convert::Infallible> {
    let mut gathered = Gathered::new();
    // Each attempt is polled where it lies (its future is `Unpin`): no move per attempt.
    let mut next = 0;
    while next < attempts.len() {
        let ended = std::future::poll_fn(|cx| {
            match baton_pool::poll_unwind(Pin::new(&mut attempts[next].future), cx) {
                Ok(Poll::Pending) => {
                    // The attempt waits: what ended before it must not wait with it, and what
                    // is behind it goes back to the pool.
                    gathered.deliver();
                    if next + 1 < attempts.len() {
                        let mut behind = attempts.split_off(next + 1);
                        pool.execute_batch(&mut behind);
                    }
                    Poll::Pending
                }
                Ok(Poll::Ready(result)) => Poll::Ready(Ok(result)),
                Err(message) => Poll::Ready(Err(message)),
            }
        })
        .await;
        let outcome = ended.map_or_else(Outcome::Panicked, Outcome::from);
        gathered.add(&mut attempts[next].done, outcome);
        next += 1;
    }
    Ok(())
}

/// An attempt as a pool job whose outcome goes to the attempt's [`Done`], with the attempt's
/// timeout (or none, whatever the pool's default).
fn pool_job(attempt: Attempt) -> Job {
    let timeout = attempt.timeout();
    let (future, done) = attempt.into_parts();
    let job = Job::with_callback(future, move |outcome| done.finish(outcome));
    match timeout.and_then(|t| JobOptions::new().timeout(t).ok()) {
        Some(options) => job.with_options(options),
        None => job.with_options(JobOptions::new().no_timeout()),
    }
}

/// A shared executor, or one chosen at run time (`Arc<dyn Executor>`: a pool, or agents).
impl<X: Executor + ?Sized> Executor for Arc<X> {
    fn capacity(&self) -> usize {
        (**self).capacity()
    }

    fn capacity_varies(&self) -> bool {
        (**self).capacity_varies()
    }

    fn execute(&self, attempt: Attempt) {
        (**self).execute(attempt);
    }

    fn execute_batch(&self, attempts: &mut Vec<Attempt>) {
        (**self).execute_batch(attempts);
    }
}

#[cfg(test)]
mod tests {
    use baton_pool::OutcomeKind;

    use super::*;

    fn attempt(inbox: &Arc<Inbox>, node: u32, work: BoxedAttempt) -> Attempt {
        let key = Key {
            slot: 0,
            run: 1,
            node,
            compensation: false,
            started: 0,
        };
        Attempt {
            future: AttemptFuture::wrapped(
                async move { work.await.map(|_| TaskOutput { run: None }) },
            ),
            timeout: Nanos::NONE,
            done: Done::new(Arc::clone(inbox), key),
            requires: None,
        }
    }

    fn ended(inbox: &Inbox) -> Vec<(u32, OutcomeKind)> {
        let mut batch = Vec::new();
        inbox.take(&mut batch);
        batch
            .iter()
            .map(|f| (f.key.node, f.outcome.kind()))
            .collect()
    }

    /// Adds a `Cancelled` report of attempt `node` to `gathered`.
    fn gather_cancelled(gathered: &mut Gathered, inbox: &Arc<Inbox>, node: u32) {
        let mut done = attempt(inbox, node, Box::pin(async { Err(TaskError::msg("x")) })).done;
        gathered.add(&mut done, Outcome::Cancelled);
    }

    fn pool(workers: usize) -> Pool {
        Pool::builder().workers(workers).build().unwrap()
    }

    #[tokio::test]
    async fn a_chunk_gives_each_attempt_its_own_outcome_in_order() {
        let inbox = Arc::new(Inbox::default());
        let chunk = vec![
            attempt(&inbox, 0, Box::pin(async { Ok(Box::new(()) as Output) })),
            attempt(&inbox, 1, Box::pin(async { panic!("boom") })),
            attempt(&inbox, 2, Box::pin(async { Err(TaskError::msg("no")) })),
            attempt(&inbox, 3, Box::pin(async { Ok(Box::new(()) as Output) })),
        ];
        run_chunk(chunk, pool(1)).await.unwrap();
        use OutcomeKind::*;
        assert_eq!(
            ended(&inbox),
            [(0, Succeeded), (1, Panicked), (2, Failed), (3, Succeeded)]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_attempt_delivers_what_ended_and_hands_back_what_is_behind_it() {
        let inbox = Arc::new(Inbox::default());
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let chunk = vec![
            attempt(&inbox, 0, Box::pin(async { Ok(Box::new(()) as Output) })),
            attempt(
                &inbox,
                1,
                Box::pin(async {
                    let _ = released.await;
                    Ok(Box::new(()) as Output)
                }),
            ),
            attempt(&inbox, 2, Box::pin(async { Ok(Box::new(()) as Output) })),
        ];
        let pool = pool(2);
        let waiting = tokio::spawn(run_chunk(chunk, pool.clone()));
        pool.idle().await;
        tokio::task::yield_now().await;
        // The first was delivered before the second began to wait; the third ran elsewhere
        // meanwhile, not behind it.
        use OutcomeKind::*;
        assert_eq!(ended(&inbox), [(0, Succeeded), (2, Succeeded)]);
        release.send(()).unwrap();
        waiting.await.unwrap().unwrap();
        assert_eq!(ended(&inbox), [(1, Succeeded)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_chunk_dropped_mid_way_loses_no_outcome() {
        let inbox = Arc::new(Inbox::default());
        let pending = || -> BoxedAttempt {
            Box::pin(async {
                std::future::pending::<()>().await;
                Ok(Box::new(()) as Output)
            })
        };
        let chunk = vec![
            attempt(&inbox, 0, Box::pin(async { Ok(Box::new(()) as Output) })),
            attempt(&inbox, 1, pending()),
        ];
        let mut running = Box::pin(run_chunk(chunk, pool(1)));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(running.as_mut().poll(&mut cx).is_pending());
        assert_eq!(ended(&inbox), [(0, OutcomeKind::Succeeded)]);
        // Dropped (a pool shutdown): the waiting attempt is cancelled, not lost.
        drop(running);
        assert_eq!(ended(&inbox), [(1, OutcomeKind::Cancelled)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_deep_batch_runs_timed_attempts_as_jobs_and_the_rest_in_chunks() {
        let inbox = Arc::new(Inbox::default());
        let ok = || -> BoxedAttempt { Box::pin(async { Ok(Box::new(()) as Output) }) };
        let hang = || -> BoxedAttempt {
            Box::pin(async {
                std::future::pending::<()>().await;
                Ok(Box::new(()) as Output)
            })
        };
        let mut batch: Vec<Attempt> = (0..7)
            .map(|node| attempt(&inbox, node, if node == 3 { hang() } else { ok() }))
            .collect();
        batch[1].timeout = Nanos::of(Some(Duration::from_secs(1)));
        batch[3].timeout = Nanos::of(Some(Duration::from_secs(1)));
        let pool = pool(2);
        pool.execute_batch(&mut batch);
        assert!(batch.is_empty(), "the batch is drained");
        tokio::time::timeout(Duration::from_secs(60), pool.idle())
            .await
            .expect("the hanging attempt is timed out, not left in a chunk without a timeout");
        let mut seen = ended(&inbox);
        seen.sort_unstable_by_key(|&(node, _)| node);
        use OutcomeKind::*;
        assert_eq!(
            seen,
            [
                (0, Succeeded),
                (1, Succeeded),
                (2, Succeeded),
                (3, TimedOut),
                (4, Succeeded),
                (5, Succeeded),
                (6, Succeeded)
            ],
            "every attempt reports once; the pool timed out the timed one that hung"
        );
    }

    #[test]
    fn an_attempt_is_small_enough_to_move_inline() {
        // Above 128 bytes the compiler moves one with a call to memcpy, on every hand-over.
        assert!(size_of::<Attempt>() <= 128, "{}", size_of::<Attempt>());
    }

    #[test]
    fn a_chunk_hands_each_attempt_s_inbox_reference_back_with_its_report() {
        let inbox = Arc::new(Inbox::default());
        let mut gathered = Gathered::new();
        for node in 0..3 {
            gather_cancelled(&mut gathered, &inbox, node);
        }
        // One reference kept by the chunk, two travelling back: none dropped on the worker.
        assert_eq!(Arc::strong_count(&inbox), 4);
        gathered.deliver();
        let mut batch = Vec::new();
        inbox.take(&mut batch);
        let back = batch.iter().filter(|f| f.inbox.is_some()).count();
        assert_eq!(back, 2);
        drop(batch);
        drop(gathered);
        assert_eq!(Arc::strong_count(&inbox), 1);
    }

    #[test]
    fn a_full_chunk_delivers_in_batches() {
        let inbox = Arc::new(Inbox::default());
        let mut gathered = Gathered::new();
        for node in 0..CHUNK_DELIVERY as u32 - 1 {
            gather_cancelled(&mut gathered, &inbox, node);
        }
        assert!(ended(&inbox).is_empty(), "held until the batch is full");
        gather_cancelled(&mut gathered, &inbox, 99);
        assert_eq!(ended(&inbox).len(), CHUNK_DELIVERY);
    }
}

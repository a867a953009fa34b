//! [`Orchestrator`]: runs workflows, many at once, on one queue and one executor.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use baton_pool::{Pool, PoolBuilder};
use baton_queue::{PriorityQueue, TaskQueue};
use baton_saga::CancelToken;
use tokio::sync::{mpsc, oneshot};

use crate::context::RunShared;
use crate::engine::{Command, Engine, NewRun, QueuedTask};
use crate::error::{BuildError, RunError};
use crate::event::Events;
use crate::executor::{Executor, Inbox};
use crate::prefetch::Prefetch;
use crate::report::RunReport;
use crate::run::{RunHandle, RunId, RunOptions};
use crate::workflow::Workflow;

struct Shared<X> {
    commands: mpsc::UnboundedSender<Command>,
    executor: Arc<X>,
    next_run: AtomicU64,
}

/// Runs workflows: validated DAGs of tasks, on a priority queue and an executor (a worker
/// [`Pool`] by default). Several runs share it at once, and their tasks compete by priority.
///
/// Built inside a tokio runtime (it spawns its engine task there). Cheap to clone: clones share
/// the engine. The engine stops once every clone and every [`RunHandle`] is dropped and every
/// run has ended.
///
/// Generic over the [`TaskQueue`] and the [`Executor`], so that durable queues and remote
/// executors slot in; [`Orchestrator::builder`] makes the in-process defaults.
///
/// ```
/// use std::time::Duration;
/// use baton_orchestrator::{Orchestrator, Policy, Task, TaskError, Workflow};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let flaky = std::sync::atomic::AtomicU32::new(0);
/// let workflow = Workflow::builder("nightly")
///     .task(Task::new("fetch", move |_| {
///         let n = flaky.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
///         async move { if n < 2 { Err(TaskError::msg("503")) } else { Ok(()) } }
///     }).retry(Policy::fixed(Duration::from_secs(1)).attempts(3).build()?))
///     .task(Task::new("report", |_| async { Ok(()) }).needs(["fetch"]))
///     .build()?;
/// let orchestrator = Orchestrator::builder().workers(4).build()?;
/// let report = orchestrator.run(&workflow).await?;
/// assert!(report.is_success());
/// assert_eq!(report.task("fetch").unwrap().attempts, 3);
/// assert_eq!(report.critical_path.tasks, ["fetch", "report"]);
/// # Ok(())
/// # }
/// ```
pub struct Orchestrator<Q = PriorityQueue<QueuedTask>, X = Pool> {
    shared: Arc<Shared<X>>,
    _queue: PhantomData<fn() -> Q>,
}

impl<Q, X> Clone for Orchestrator<Q, X> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            _queue: PhantomData,
        }
    }
}

impl Orchestrator {
    /// A builder for the in-process orchestrator: a [`PriorityQueue`] and a worker [`Pool`].
    pub fn builder() -> OrchestratorBuilder {
        OrchestratorBuilder::default()
    }
}

impl<Q, X> Orchestrator<Q, X>
where
    Q: TaskQueue<QueuedTask> + 'static,
    X: Executor,
{
    /// An orchestrator over your own queue and executor, with the default (adaptive)
    /// [`Prefetch`]. The queue must be empty, used by nothing else, and accept pushes without
    /// waiting (the engine is its only consumer).
    pub fn with_parts(queue: Q, executor: X) -> Result<Self, BuildError> {
        Self::with_parts_and_prefetch(queue, executor, Prefetch::default())
    }

    /// [`with_parts`](Self::with_parts) with the prefetch of your choice (a number for a fixed
    /// one: `0` for strict priority).
    pub fn with_parts_and_prefetch(
        queue: Q,
        executor: X,
        prefetch: impl Into<Prefetch>,
    ) -> Result<Self, BuildError> {
        let prefetch = prefetch.into();
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| BuildError::NoRuntime)?;
        if executor.capacity() == 0 {
            return Err(BuildError::ZeroCapacity);
        }
        let executor = Arc::new(executor);
        let (commands, receiver) = mpsc::unbounded_channel();
        let engine = Engine::new(
            queue,
            Arc::clone(&executor),
            Arc::new(Inbox::default()),
            receiver,
            prefetch,
        );
        runtime.spawn(engine.run());
        Ok(Self {
            shared: Arc::new(Shared {
                commands,
                executor,
                next_run: AtomicU64::new(1),
            }),
            _queue: PhantomData,
        })
    }

    /// Starts a run of `workflow` and returns its handle at once.
    pub fn start(&self, workflow: &Workflow) -> Result<RunHandle, RunError> {
        self.start_with(workflow, RunOptions::new())
    }

    /// Starts a run with options (a seed for retry jitter, a fault plan).
    pub fn start_with(
        &self,
        workflow: &Workflow,
        options: RunOptions,
    ) -> Result<RunHandle, RunError> {
        for task in options.faults.named_tasks() {
            if workflow.dag().node_id(task).is_none() {
                return Err(RunError::UnknownFaultTask(task.to_owned()));
            }
        }
        let id = RunId(self.shared.next_run.fetch_add(1, Relaxed));
        let cancel = CancelToken::new();
        let shared = Arc::new(RunShared {
            id,
            spec: Arc::clone(&workflow.spec),
            outputs: (0..workflow.len()).map(|_| Default::default()).collect(),
            cancel: cancel.clone(),
        });
        let (reply, report) = oneshot::channel();
        let new = NewRun {
            shared,
            options,
            reply,
        };
        self.shared
            .commands
            .send(Command::Start(Box::new(new)))
            .map_err(|_| RunError::Stopped)?;
        Ok(RunHandle {
            id,
            cancel,
            commands: self.shared.commands.clone(),
            report,
        })
    }

    /// Runs `workflow` to its end and returns the report.
    pub async fn run(&self, workflow: &Workflow) -> Result<RunReport, RunError> {
        self.start(workflow)?.await
    }

    /// [`run`](Self::run) with options.
    pub async fn run_with(
        &self,
        workflow: &Workflow,
        options: RunOptions,
    ) -> Result<RunReport, RunError> {
        self.start_with(workflow, options)?.await
    }

    /// Subscribes to the events of every run started from now on (runs already started are not
    /// included, so each run's stream is complete from its `RunStarted`).
    pub fn subscribe(&self) -> Events {
        let (sender, receiver) = mpsc::unbounded_channel();
        let from = self.shared.next_run.load(Relaxed);
        // If the engine has stopped, the stream simply ends.
        let _ = self
            .shared
            .commands
            .send(Command::Subscribe { sender, from });
        Events { receiver }
    }

    /// The executor (for its statistics, say).
    pub fn executor(&self) -> &X {
        &self.shared.executor
    }
}

impl<Q, X> fmt::Debug for Orchestrator<Q, X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Orchestrator")
            .field("runs_started", &(self.shared.next_run.load(Relaxed) - 1))
            .finish_non_exhaustive()
    }
}

/// Builds the in-process [`Orchestrator`].
#[derive(Debug, Default)]
pub struct OrchestratorBuilder {
    pool: Option<PoolBuilder>,
    workers: Option<usize>,
    prefetch: Option<Prefetch>,
}

impl OrchestratorBuilder {
    /// A fixed number of workers (default: one per CPU core).
    #[must_use]
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = Some(n);
        self
    }

    /// How many attempts the engine hands the pool beyond one per worker: a number for a fixed
    /// prefetch (`0`: strict priority, every start decided by the queue), or a [`Prefetch`].
    ///
    /// The default, [`Prefetch::adaptive`] with a 1 ms budget, hands attempts over early only
    /// while they are short enough that an urgent task waits at most about 1 ms behind them:
    /// tasks of a few microseconds run in deep batches, tasks of a millisecond or more start in
    /// strict priority order. Attempts handed over early count as started (their events, start
    /// times and queue waits) when they are handed over.
    #[must_use]
    pub fn prefetch(mut self, prefetch: impl Into<Prefetch>) -> Self {
        self.prefetch = Some(prefetch.into());
        self
    }

    /// A worker pool configured your way (scaling, balancing); `workers` overrides its sizes.
    #[must_use]
    pub fn pool(mut self, pool: PoolBuilder) -> Self {
        self.pool = Some(pool);
        self
    }

    /// Builds the orchestrator and spawns its engine on the current tokio runtime.
    pub fn build(self) -> Result<Orchestrator, BuildError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(BuildError::NoRuntime);
        }
        let mut pool = self.pool.unwrap_or_default();
        if let Some(n) = self.workers {
            pool = pool.workers(n);
        }
        let pool = pool.build()?;
        let prefetch = self.prefetch.unwrap_or_default();
        Orchestrator::with_parts_and_prefetch(PriorityQueue::new(), pool, prefetch)
    }
}

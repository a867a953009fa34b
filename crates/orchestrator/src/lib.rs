//! Baton's orchestrator: workflows that run dependency graphs of async tasks on a worker pool,
//! with priorities, retries, saga compensation, circuit breakers, metrics, events and tracing. It is also Baton's
//! facade: it re-exports what a workflow author needs, so one dependency is enough.
//!
//! ```
//! use std::time::Duration;
//! use baton_orchestrator::{Orchestrator, Policy, Priority, Task, Workflow};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let retry = Policy::exponential(Duration::from_millis(100), 2.0).attempts(4).build()?;
//! let workflow = Workflow::builder("order")
//!     .task(Task::new("reserve", |_| async { Ok(3_u32) }).retry(retry)
//!         .compensate(|_| async { Ok(()) }))           // undone if a later task fails
//!     .task(Task::new("charge", |ctx| async move {
//!         let items: &u32 = ctx.output("reserve")?;     // read a dependency's output
//!         Ok(*items * 250)
//!     }).needs(["reserve"]).priority(Priority::High).timeout(Duration::from_secs(5)))
//!     .task(Task::new("ship", |_| async { Ok(()) }).needs(["charge"]))
//!     .saga(true)
//!     .build()?;                                         // validated: cycles, unknown ids...
//! let orchestrator = Orchestrator::builder().workers(4).build()?;
//! let report = orchestrator.run(&workflow).await?;
//! assert!(report.is_success());
//! assert_eq!(report.totals.succeeded, 3);
//! println!("{}", serde_json::to_string_pretty(&report)?);
//! # Ok(())
//! # }
//! ```
//!
//! # How a run flows
//! 1. [`WorkflowBuilder::build`] validates the workflow once with `baton-dag`: unknown
//!    dependencies, duplicate ids, self-dependencies and cycles (named in order) are reported
//!    together, with bad settings. Nothing runs if it is invalid.
//! 2. [`Orchestrator::start`] hands the run to the orchestrator's engine, one task that owns the
//!    state of every run. Tasks whose dependencies succeeded go to the queue (`baton-queue`) at
//!    their priority; tasks on the critical path are raised one level ([`Boost`]).
//! 3. The engine pops the highest-priority attempt whenever the executor (a `baton-pool` worker
//!    pool) has a free worker, so the queue, not the pool, decides the order across every run.
//!    A run's [`max_parallelism`](WorkflowBuilder::max_parallelism) holds back its extra attempts.
//! 4. An attempt that fails, panics or times out is retried under the task's `baton-retry`
//!    policy: it waits in the queue as a delayed item, holding no worker. When retries run out the
//!    task fails, its dependents are skipped, and in [`FailureMode::FailFast`] the rest of the run
//!    is stopped. A saga then compensates completed tasks in reverse dependency order.
//! 5. Every transition is an [`Event`] (subscribe with [`Orchestrator::subscribe`]), updates the
//!    [metrics](crate#metrics) and is traced (spans `run` → `task` → `attempt`). The run ends with
//!    a [`RunReport`]: each task's state, attempts and timings, the critical path, totals.
//!
//! # Guarantees
//! - Every task of a run ends in exactly one final state: `Succeeded`, `Failed`, `TimedOut`,
//!   `Cancelled`, `Skipped` or (after a rollback) `Compensated`.
//! - No task starts before all its dependencies succeeded; a dependent reads their outputs with
//!   [`TaskContext::output`].
//! - A panic in a handler or a compensation is that attempt's failure; the workers go on.
//! - Under tokio's paused clock, a run with a [`FaultPlan`] and a [seed](RunOptions::seed) is
//!   reproducible, event for event.
//! - With an [`agents::AgentExecutor`], each attempt runs on a healthy agent that has the task's
//!   [required capabilities](Task::requires); the attempts of an agent that turns unhealthy or
//!   expires are interrupted and retried elsewhere, counted by the task's retry policy.
//! - A task protected by a [`Breaker`] ([`Task::breaker`]) fails at once, uncalled and not
//!   retried, while the breaker is open: a saga then compensates instead of hammering the
//!   dependency. Its attempts' outcomes feed the breaker.
//!
//! # Metrics
//! Through the [`metrics`](https://docs.rs/metrics) facade; install a recorder before building
//! the orchestrator. Names: `baton_tasks_total{state}`, `baton_attempts_total`,
//! `baton_retries_total`, `baton_runs_total{outcome}`, `baton_runs_active`, `baton_queue_depth`,
//! `baton_workers_busy`, `baton_task_queue_wait_seconds`, `baton_task_run_seconds`.
#![forbid(unsafe_code)]

pub mod agents;
mod context;
mod engine;
mod error;
mod event;
mod executor;
mod faults;
mod metrics;
mod nanos;
mod orchestrator;
mod prefetch;
mod report;
mod run;
mod task;
mod workflow;

pub use context::TaskContext;
pub use engine::QueuedTask;
pub use error::{BuildError, OutputError, RunError, TaskError, WorkflowError, WorkflowProblem};
pub use event::{Event, EventKind, Events};
pub use executor::{Attempt, AttemptFuture, Done, Executor, TaskOutput};
pub use faults::{Fault, FaultPlan};
pub use orchestrator::{Orchestrator, OrchestratorBuilder};
pub use prefetch::Prefetch;
pub use report::{
    CompensationReport, CriticalPath, Rollback, RunOutcome, RunReport, TaskName, TaskReport, Totals,
};
pub use run::{RunHandle, RunId, RunOptions};
pub use task::Task;
pub use workflow::{Boost, FailureMode, Workflow, WorkflowBuilder};

// What a workflow author needs from the layers below, so one dependency is enough.
pub use baton_breaker::{
    Breaker, BreakerBuilder, CircuitOpen, State as BreakerState, Trip, Window,
};
pub use baton_dag::{Dag, NodeId, Problem};
pub use baton_pool::{Outcome, Pool, PoolBuilder};
pub use baton_queue::{Priority, PriorityQueue, TaskQueue, TaskState};
pub use baton_retry::{Jitter, Policy, PolicyBuilder, PolicyError, RetryBudget, Strategy};
pub use baton_saga::CancelToken;

/// The crates below, whole, for what the re-exports above leave out.
pub mod crates {
    pub use baton_agents as agents;
    pub use baton_breaker as breaker;
    pub use baton_dag as dag;
    pub use baton_pool as pool;
    pub use baton_queue as queue;
    pub use baton_retry as retry;
    pub use baton_saga as saga;
}

/// The workspace README's examples, compiled and run as doc-tests so they cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;

//! [`Workflow`]: a validated set of tasks and the settings of its runs.

use std::any::TypeId;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use baton_breaker::Breaker;
use baton_dag::{Dag, DagBuilder, NodeId};
use baton_queue::Priority;
use baton_retry::{Policy, RetryBudget};
use baton_saga::patient;

use crate::error::{WorkflowError, WorkflowProblem};
use crate::task::{Handler, Task};

/// What a run does when a task fails for good (its retries exhausted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum FailureMode {
    /// Cancel the run's running tasks and skip every task not started yet (the default).
    #[default]
    FailFast,
    /// Skip only the tasks that depend on the failed one; run everything else.
    Continue,
}

/// How scheduling favours the tasks that decide when a run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Boost {
    /// Tasks run at exactly the priority they were given.
    None,
    /// Tasks on the workflow's critical path (the heaviest chain by [`Task::weight`]) are queued
    /// one level higher than they were given, never above `High` (the default): when workers are
    /// scarce, the chain that decides the finish time is not starved by short side tasks.
    #[default]
    CriticalPath,
}

/// One task as a run needs it.
///
/// Laid out so that what an attempt may read (timeout, handler, requirements, breaker) fills the
/// first cache line and nothing else: a run reads its tasks in dependency order, which is random
/// in memory, and one line per task is all a worker then fetches (the engine reads [`TaskHot`]).
#[repr(C, align(64))]
pub(crate) struct TaskSpec {
    pub(crate) timeout: Option<Duration>,
    /// `None` when the task requires nothing (most tasks: no reference count to touch).
    pub(crate) requires: Option<Arc<[String]>>,
    pub(crate) breaker: Option<Breaker>,
    // Read when something goes wrong, for events and spans.
    pub(crate) retry: Policy,
    pub(crate) compensation: Option<Handler>,
    pub(crate) compensation_retry: Policy,
    pub(crate) tags: Vec<String>,
}

/// What the engine reads of a task on every attempt, in three bytes: a run's tasks fit in cache
/// together, and the engine touches a task's [`TaskSpec`] only when `extras` says it must.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TaskHot {
    pub(crate) priority: Priority,
    /// The task has a breaker, a timeout or requirements.
    pub(crate) extras: bool,
    /// The task has tags (the report reads them only then).
    pub(crate) tagged: bool,
}

/// The tasks' handlers.
pub(crate) enum Handlers {
    /// Every task's handler is a stateless one of the same type (a function, or a closure that
    /// captures nothing), so they all behave the same: one handler serves them all, and starting
    /// an attempt reads nothing of the task.
    Shared(Handler),
    /// `Each[i]` is task `i`'s handler, dense (16 bytes a task), so that looking it up does not
    /// cost a cache miss on a `TaskSpec` line.
    Each(Vec<Handler>),
}

impl Handlers {
    /// Task `node`'s handler.
    #[inline]
    pub(crate) fn get(&self, node: usize) -> &Handler {
        match self {
            Self::Shared(handler) => handler,
            Self::Each(handlers) => &handlers[node],
        }
    }

    /// One handler for all if every task's is stateless and of one type, else one each.
    fn new(tasks: Vec<(Handler, Option<TypeId>)>) -> Self {
        let first = tasks.first().and_then(|&(_, stateless)| stateless);
        match tasks.first() {
            Some((handler, _)) if first.is_some() && tasks.iter().all(|t| t.1 == first) => {
                Self::Shared(Arc::clone(handler))
            }
            _ => Self::Each(tasks.into_iter().map(|(handler, _)| handler).collect()),
        }
    }
}

/// A validated workflow, shared by its runs.
pub(crate) struct Spec {
    pub(crate) name: Arc<str>,
    pub(crate) dag: Dag<String>,
    /// In node order: `tasks[i]` is node `i`.
    pub(crate) tasks: Vec<TaskSpec>,
    /// `hot[i]` is what the engine reads of `tasks[i]` on every attempt.
    pub(crate) hot: Vec<TaskHot>,
    /// What a worker reads of a task to start an attempt: see [`Handlers`].
    pub(crate) handlers: Handlers,
    /// `ids[i]` is task `i`'s id, dense for the same reason: every report reads them all (and
    /// its rows share this table: see [`TaskName`](crate::TaskName)).
    pub(crate) ids: Arc<[Arc<str>]>,
    pub(crate) max_parallelism: Option<usize>,
    pub(crate) failure_mode: FailureMode,
    pub(crate) saga: bool,
    pub(crate) timeout: Option<Duration>,
    pub(crate) retry_budget: Option<Arc<RetryBudget>>,
}

/// A workflow: tasks with dependencies, validated once, run any number of times (concurrently
/// too) by an [`Orchestrator`](crate::Orchestrator). Cheap to clone.
///
/// ```
/// use baton_orchestrator::{FailureMode, Task, Workflow};
///
/// let workflow = Workflow::builder("deploy")
///     .task(Task::new("build", |_| async { Ok(()) }))
///     .task(Task::new("test", |_| async { Ok(()) }).needs(["build"]))
///     .task(Task::new("ship", |_| async { Ok(()) }).needs(["test"]))
///     .max_parallelism(4)
///     .failure_mode(FailureMode::Continue)
///     .build()?;
/// assert_eq!(workflow.len(), 3);
/// assert_eq!(workflow.name(), "deploy");
/// # Ok::<(), baton_orchestrator::WorkflowError>(())
/// ```
#[derive(Clone)]
pub struct Workflow {
    pub(crate) spec: Arc<Spec>,
}

impl Workflow {
    /// A builder for a workflow called `name`.
    pub fn builder(name: impl Into<String>) -> WorkflowBuilder {
        WorkflowBuilder::new(name)
    }

    /// The workflow's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// How many tasks it has.
    pub fn len(&self) -> usize {
        self.spec.tasks.len()
    }

    /// Whether it has no task (never true: an empty workflow does not build).
    pub fn is_empty(&self) -> bool {
        self.spec.tasks.is_empty()
    }

    /// The task ids, in declaration order.
    pub fn task_ids(&self) -> impl ExactSizeIterator<Item = &str> {
        self.spec.ids.iter().map(|id| &**id)
    }

    /// The dependency graph (task ids are its node ids), for analysis and export
    /// (`to_dot`, `to_mermaid`, `generations`, `critical_path`).
    pub fn dag(&self) -> &Dag<String> {
        &self.spec.dag
    }

    /// The priority task `id` is queued at, boost included.
    pub fn effective_priority(&self, id: &str) -> Option<Priority> {
        let node = self.spec.dag.node_id(id)?;
        Some(self.spec.hot[node.index()].priority)
    }
}

impl fmt::Debug for Workflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workflow")
            .field("name", &self.spec.name)
            .field("tasks", &self.spec.tasks.len())
            .field("max_parallelism", &self.spec.max_parallelism)
            .field("failure_mode", &self.spec.failure_mode)
            .field("saga", &self.spec.saga)
            .field("timeout", &self.spec.timeout)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Workflow`]; [`build`](WorkflowBuilder::build) validates it and reports every
/// problem at once.
pub struct WorkflowBuilder {
    name: String,
    tasks: Vec<Task>,
    max_parallelism: Option<usize>,
    failure_mode: FailureMode,
    saga: bool,
    timeout: Option<Duration>,
    retry: Policy,
    retry_budget: Option<Arc<RetryBudget>>,
    boost: Boost,
}

impl WorkflowBuilder {
    fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            tasks: Vec::new(),
            max_parallelism: None,
            failure_mode: FailureMode::default(),
            saga: false,
            timeout: None,
            retry: Policy::no_retry(),
            retry_budget: None,
            boost: Boost::default(),
        }
    }

    /// Adds a task.
    #[must_use]
    pub fn task(mut self, task: Task) -> Self {
        self.tasks.push(task);
        self
    }

    /// Adds tasks.
    #[must_use]
    pub fn tasks(mut self, tasks: impl IntoIterator<Item = Task>) -> Self {
        self.tasks.extend(tasks);
        self
    }

    /// At most `n` of a run's tasks (and compensations) run at once. By default a run has no limit
    /// of its own: the orchestrator's workers (plus any prefetch) bound all its runs together.
    #[must_use]
    pub fn max_parallelism(mut self, n: usize) -> Self {
        self.max_parallelism = Some(n);
        self
    }

    /// What a run does when a task fails for good (default [`FailureMode::FailFast`]).
    #[must_use]
    pub fn failure_mode(mut self, mode: FailureMode) -> Self {
        self.failure_mode = mode;
        self
    }

    /// Makes the workflow a saga: when a run does not succeed, the tasks that completed are
    /// compensated in reverse dependency order (a task after every task that depends on it;
    /// independent compensations in parallel), each under its compensation retry policy and its
    /// task's timeout. A rollback is not interrupted by the run's cancellation or timeout (those
    /// are what start it): give compensations a timeout if they could hang.
    #[must_use]
    pub fn saga(mut self, on: bool) -> Self {
        self.saga = on;
        self
    }

    /// Ends a run [`TimedOut`](crate::RunOutcome::TimedOut) if it takes longer than `timeout`:
    /// running tasks end `TimedOut`, tasks not started end `Cancelled` (then a saga compensates).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The retry policy of tasks that set none (default: no retry).
    #[must_use]
    pub fn retry(mut self, policy: Policy) -> Self {
        self.retry = policy;
        self
    }

    /// A retry budget shared by every run of the workflow (and by anything else holding it):
    /// a retry that the budget refuses fails the task instead, so a struggling dependency is not
    /// buried under retries.
    #[must_use]
    pub fn retry_budget(mut self, budget: Arc<RetryBudget>) -> Self {
        self.retry_budget = Some(budget);
        self
    }

    /// How scheduling favours the critical path (default [`Boost::CriticalPath`]).
    #[must_use]
    pub fn boost(mut self, boost: Boost) -> Self {
        self.boost = boost;
        self
    }

    /// Validates the workflow: the dependency graph (unknown dependencies, duplicate ids,
    /// self-dependencies, cycles named in order) and the settings. Every problem is reported.
    pub fn build(self) -> Result<Workflow, WorkflowError> {
        let mut problems = Vec::new();
        if self.tasks.is_empty() {
            problems.push(WorkflowProblem::Empty);
        }
        if self.max_parallelism == Some(0) {
            problems.push(WorkflowProblem::ZeroParallelism);
        }
        if self.timeout == Some(Duration::ZERO) {
            problems.push(WorkflowProblem::ZeroRunTimeout);
        }
        let mut builder = DagBuilder::with_capacity(self.tasks.len());
        for task in &self.tasks {
            if task.timeout == Some(Duration::ZERO) {
                problems.push(WorkflowProblem::ZeroTimeout {
                    task: task.id.clone(),
                });
            }
            builder.add(task.id.clone(), task.needs.iter().cloned(), task.weight);
        }
        let dag = match builder.build() {
            Ok(dag) => Some(dag),
            Err(errors) => {
                problems.extend(
                    errors
                        .into_problems()
                        .into_iter()
                        .map(WorkflowProblem::Graph),
                );
                None
            }
        };
        let (Some(dag), true) = (dag, problems.is_empty()) else {
            return Err(WorkflowError::new(self.name, problems));
        };
        let mut boosted = vec![false; self.tasks.len()];
        if self.boost == Boost::CriticalPath && self.tasks.len() > 1 {
            for node in dag.critical_path().nodes {
                boosted[node.index()] = true;
            }
        }
        let mut hot = Vec::with_capacity(self.tasks.len());
        let mut handlers = Vec::with_capacity(self.tasks.len());
        let mut ids = Vec::with_capacity(self.tasks.len());
        let tasks = self
            .tasks
            .into_iter()
            .enumerate()
            .map(|(i, task)| {
                debug_assert_eq!(dag.id(NodeId::new(i as u32)), &task.id);
                hot.push(TaskHot {
                    priority: if boosted[i] {
                        raise(task.priority)
                    } else {
                        task.priority
                    },
                    extras: task.breaker.is_some()
                        || task.timeout.is_some()
                        || !task.requires.is_empty(),
                    tagged: !task.tags.is_empty(),
                });
                handlers.push((task.handler, task.stateless));
                ids.push(Arc::from(task.id));
                TaskSpec {
                    retry: task.retry.unwrap_or(self.retry),
                    timeout: task.timeout,
                    compensation: task.compensation,
                    compensation_retry: task.compensation_retry.unwrap_or_else(patient),
                    tags: task.tags,
                    breaker: task.breaker,
                    requires: (!task.requires.is_empty()).then(|| task.requires.into()),
                }
            })
            .collect();
        Ok(Workflow {
            spec: Arc::new(Spec {
                name: self.name.into(),
                dag,
                tasks,
                hot,
                handlers: Handlers::new(handlers),
                ids: ids.into(),
                max_parallelism: self.max_parallelism,
                failure_mode: self.failure_mode,
                saga: self.saga,
                timeout: self.timeout,
                retry_budget: self.retry_budget,
            }),
        })
    }
}

impl fmt::Debug for WorkflowBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkflowBuilder")
            .field("name", &self.name)
            .field("tasks", &self.tasks)
            .field("max_parallelism", &self.max_parallelism)
            .field("failure_mode", &self.failure_mode)
            .field("saga", &self.saga)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("boost", &self.boost)
            .finish_non_exhaustive()
    }
}

/// One level up, never above `High` (`Critical` stays for what the user marks critical).
fn raise(priority: Priority) -> Priority {
    match priority {
        Priority::Background => Priority::Low,
        Priority::Low => Priority::Normal,
        Priority::Normal | Priority::High => Priority::High,
        Priority::Critical => Priority::Critical,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noop(id: &str) -> Task {
        Task::new(id, |_| async { Ok(()) })
    }

    #[test]
    fn what_an_attempt_reads_of_its_task_fits_one_cache_line() {
        use std::mem::{align_of, offset_of};
        assert_eq!(align_of::<TaskSpec>(), 64);
        let end = offset_of!(TaskSpec, breaker) + size_of::<Option<Breaker>>();
        assert!(end <= 64, "the hot fields end at byte {end}");
    }

    #[test]
    fn what_the_engine_reads_of_a_task_is_three_bytes_and_says_when_to_read_more() {
        assert_eq!(size_of::<TaskHot>(), 3);
        let wf = Workflow::builder("w")
            .task(noop("plain").priority(Priority::Low))
            .task(noop("timed").timeout(Duration::from_secs(1)))
            .task(noop("picky").requires(["gpu"]))
            .task(noop("guarded").breaker(Breaker::builder().build().unwrap()))
            .boost(Boost::None)
            .build()
            .unwrap();
        let extras: Vec<bool> = wf.spec.hot.iter().map(|h| h.extras).collect();
        assert_eq!(extras, [false, true, true, true]);
        assert_eq!(wf.spec.hot[0].priority, Priority::Low);
        let tagged = Workflow::builder("t")
            .task(noop("bare"))
            .task(noop("labelled").tag("io"))
            .build()
            .unwrap();
        let tagged: Vec<bool> = tagged.spec.hot.iter().map(|h| h.tagged).collect();
        assert_eq!(tagged, [false, true]);
    }

    #[test]
    fn one_handler_serves_all_only_when_every_task_s_is_stateless_and_of_one_type() {
        let shared = |wf: &Workflow| matches!(wf.spec.handlers, Handlers::Shared(_));
        // `noop` makes the same closure type every time, and it captures nothing.
        let same = Workflow::builder("w")
            .tasks((0..3).map(|i| noop(&format!("t{i}"))))
            .build()
            .unwrap();
        assert!(shared(&same));
        let other_type = Workflow::builder("w")
            .task(noop("a"))
            .task(Task::new("b", |_| async { Ok(()) }))
            .build()
            .unwrap();
        assert!(!shared(&other_type));
        let state = String::from("captured");
        let stateful = Workflow::builder("w")
            .task(noop("a"))
            .task(Task::new("b", move |_| {
                let state = state.clone();
                async move { Ok(state) }
            }))
            .build()
            .unwrap();
        assert!(!shared(&stateful));
        let Handlers::Each(each) = &stateful.spec.handlers else {
            unreachable!("checked above")
        };
        assert_eq!(each.len(), 2);
    }

    #[test]
    fn every_problem_is_reported_together() {
        let err = Workflow::builder("w")
            .task(noop("a").timeout(Duration::ZERO))
            .task(noop("a"))
            .task(noop("b").needs(["ghost"]))
            .max_parallelism(0)
            .timeout(Duration::ZERO)
            .build()
            .unwrap_err();
        let text = err.to_string();
        assert_eq!(err.problems().len(), 5, "{text}");
        assert!(text.contains("ghost") && text.contains("`a`"), "{text}");
        assert!(matches!(
            err.problems()[0],
            WorkflowProblem::ZeroParallelism
        ));
    }

    #[test]
    fn an_empty_workflow_is_refused() {
        let err = Workflow::builder("none").build().unwrap_err();
        assert_eq!(err.problems(), [WorkflowProblem::Empty]);
        assert_eq!(err.workflow(), "none");
    }

    #[test]
    fn the_critical_path_is_raised_one_level_below_critical() {
        let wf = Workflow::builder("w")
            .task(noop("long").weight(10))
            .task(noop("short").priority(Priority::Low))
            .task(noop("end").needs(["long"]).priority(Priority::High))
            .build()
            .unwrap();
        assert_eq!(wf.effective_priority("long"), Some(Priority::High));
        assert_eq!(wf.effective_priority("end"), Some(Priority::High));
        assert_eq!(wf.effective_priority("short"), Some(Priority::Low));
        let flat = Workflow::builder("w")
            .task(noop("long").weight(10))
            .boost(Boost::None)
            .build()
            .unwrap();
        assert_eq!(flat.effective_priority("long"), Some(Priority::Normal));
        assert_eq!(raise(Priority::Critical), Priority::Critical);
        assert_eq!(raise(Priority::Background), Priority::Low);
    }
}

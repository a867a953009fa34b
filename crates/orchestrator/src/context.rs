//! [`TaskContext`]: what a task's handler is given for one attempt.

use std::any::{Any, type_name};
use std::fmt;
use std::sync::{Arc, OnceLock};

use baton_dag::NodeId;
use baton_saga::CancelToken;

use crate::error::OutputError;
use crate::run::RunId;
use crate::task::Output;
use crate::workflow::Spec;

/// What a run shares with its tasks' handlers: the workflow, the outputs so far, cancellation.
pub(crate) struct RunShared {
    pub(crate) id: RunId,
    pub(crate) spec: Arc<Spec>,
    /// `outputs[i]` is set once task `i` has succeeded, before any dependent starts.
    pub(crate) outputs: Vec<OnceLock<Output>>,
    pub(crate) cancel: CancelToken,
}

/// What a task's handler receives for one attempt: which task and run this is, the outputs of
/// the tasks it depends on, and whether the run is being cancelled.
///
/// Cloning is cheap (one reference count).
///
/// ```
/// use baton_orchestrator::{Orchestrator, Task, Workflow};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let workflow = Workflow::builder("sum")
///     .task(Task::new("a", |_| async { Ok(2_u32) }))
///     .task(Task::new("b", |_| async { Ok(3_u32) }))
///     .task(Task::new("sum", |ctx| async move {
///         let (a, b): (&u32, &u32) = (ctx.output("a")?, ctx.output("b")?);
///         assert_eq!((ctx.task_id(), ctx.attempt()), ("sum", 1));
///         Ok(a + b)
///     }).needs(["a", "b"]))
///     .build()?;
/// let orchestrator = Orchestrator::builder().workers(2).build()?;
/// let report = orchestrator.run(&workflow).await?;
/// assert!(report.outcome.is_success());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct TaskContext {
    pub(crate) shared: Arc<RunShared>,
    pub(crate) node: NodeId,
    pub(crate) attempt: u32,
    pub(crate) compensating: bool,
    pub(crate) agent: Option<Arc<str>>,
}

impl TaskContext {
    /// The run this attempt belongs to.
    pub fn run_id(&self) -> RunId {
        self.shared.id
    }

    /// The workflow's name.
    pub fn workflow(&self) -> &str {
        &self.shared.spec.name
    }

    /// This task's id.
    pub fn task_id(&self) -> &str {
        &self.shared.spec.ids[self.node.index()]
    }

    /// This task's tags.
    pub fn tags(&self) -> &[String] {
        &self.shared.spec.tasks[self.node.index()].tags
    }

    /// Which attempt this is, from 1.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The agent this attempt runs on, when the executor places attempts on agents (an
    /// [`AgentExecutor`](crate::agents::AgentExecutor)); `None` on a plain pool.
    pub fn agent(&self) -> Option<&str> {
        self.agent.as_deref()
    }

    /// Whether this call is the task's compensation (a saga rolling back) rather than the task.
    pub fn is_compensation(&self) -> bool {
        self.compensating
    }

    /// The output of `task`, one of this task's dependencies (or, in a compensation, this task
    /// itself), as a `T`.
    pub fn output<T: Any>(&self, task: &str) -> Result<&T, OutputError> {
        let spec = &self.shared.spec;
        let allowed = spec.dag.node_id(task).filter(|&dep| {
            spec.dag.dependencies(self.node).contains(&dep)
                || (self.compensating && dep == self.node)
        });
        let Some(dep) = allowed else {
            return Err(OutputError::NotADependency {
                task: self.task_id().to_owned(),
                requested: task.to_owned(),
            });
        };
        // A dependency (or, in a compensation, this task) has succeeded before this attempt
        // started, and its output was stored then, unless it was `()`, which is not stored.
        let output: &dyn Any = match self.shared.outputs[dep.index()].get() {
            Some(output) => &**output,
            None => &(),
        };
        output
            .downcast_ref::<T>()
            .ok_or_else(|| OutputError::WrongType {
                requested: task.to_owned(),
                expected: type_name::<T>(),
            })
    }

    /// Whether the run is being cancelled (by its handle, a failure in fail-fast mode, or its
    /// timeout). A long task may check it between steps; the orchestrator also drops the
    /// attempt's future at its next await.
    pub fn is_cancelled(&self) -> bool {
        self.shared.cancel.is_cancelled()
    }

    /// Resolves when the run is being cancelled.
    pub async fn cancelled(&self) {
        self.shared.cancel.cancelled().await;
    }
}

impl fmt::Debug for TaskContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskContext")
            .field("run", &self.shared.id)
            .field("task", &self.task_id())
            .field("attempt", &self.attempt)
            .field("compensating", &self.compensating)
            .finish()
    }
}

//! Errors: what a task returns ([`TaskError`]), what a workflow definition can get wrong
//! ([`WorkflowError`]), and what reading a dependency's output can get wrong ([`OutputError`]).

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use baton_dag::Problem;

/// Why a task's attempt failed: a message, the error it came from (if any), and whether another
/// attempt may help.
///
/// Any `std::error::Error` converts into a `TaskError` with `?`, as a retryable failure. Mark a
/// failure that no retry can fix with [`TaskError::permanent`] (the task fails at once, whatever
/// its retry policy), or ask for a particular delay before the next attempt with
/// [`TaskError::retry_after`] (a server's `Retry-After`, say).
///
/// `TaskError` deliberately does not implement `std::error::Error` itself, so that the blanket
/// conversion from every error type can exist (as `anyhow::Error` does).
///
/// ```
/// use std::time::Duration;
/// use baton_orchestrator::TaskError;
///
/// fn parse(text: &str) -> Result<u32, TaskError> {
///     let n: u32 = text.parse()?; // any error converts, as a retryable failure
///     if n == 0 {
///         return Err(TaskError::permanent("zero is not a valid count"));
///     }
///     Ok(n)
/// }
/// assert_eq!(parse("7").unwrap(), 7);
/// assert!(parse("x").unwrap_err().is_retryable());
/// assert!(!parse("0").unwrap_err().is_retryable());
/// let later = TaskError::msg("busy").retry_after(Duration::from_secs(2));
/// assert_eq!(later.retry_after_delay(), Some(Duration::from_secs(2)));
/// ```
pub struct TaskError {
    message: Cow<'static, str>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    retry: Retry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// The retry policy decides.
    Policy,
    /// Do not retry.
    Never,
    /// Retry after this delay (if attempts are left).
    After(Duration),
    /// The run was cancelled while the attempt ran (made by the orchestrator only).
    Cancelled,
    /// The handler enforced a timeout of its own and the attempt ran past it: retried under the
    /// policy like any timeout.
    TimedOut,
}

impl TaskError {
    /// A retryable failure with this message.
    pub fn msg(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            message: message.into(),
            source: None,
            retry: Retry::Policy,
        }
    }

    /// A failure no retry can fix: the task fails at once.
    pub fn permanent(message: impl Into<Cow<'static, str>>) -> Self {
        Self::msg(message).not_retryable()
    }

    /// A retryable failure wrapping `error` (its `Display` is the message).
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            message: Cow::Owned(error.to_string()),
            source: Some(Box::new(error)),
            retry: Retry::Policy,
        }
    }

    /// An attempt that ran past a deadline its handler enforces itself, such as a subprocess
    /// given a grace period to exit after its deadline, so that its teardown is part of the
    /// attempt (a [`Task::timeout`](crate::Task::timeout) drops the handler's future at once
    /// instead). It counts as a timeout: it is retried under the task's policy, and the task
    /// ends `TimedOut` if it was the last attempt.
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_orchestrator::TaskError;
    ///
    /// let error = TaskError::timed_out(Duration::from_secs(30));
    /// assert_eq!(error.message(), "timed out after 30s");
    /// assert_eq!(TaskError::timed_out(Duration::from_secs(5400)).message(), "timed out after 1h 30m");
    /// assert!(error.is_retryable() && error.is_timeout());
    /// ```
    pub fn timed_out(after: Duration) -> Self {
        Self {
            retry: Retry::TimedOut,
            ..Self::msg(timed_out_message(after))
        }
    }

    /// Whether this is a timeout reported by the handler ([`TaskError::timed_out`]).
    pub fn is_timeout(&self) -> bool {
        self.retry == Retry::TimedOut
    }

    /// This failure, marked as one no retry can fix.
    #[must_use]
    pub fn not_retryable(mut self) -> Self {
        self.retry = Retry::Never;
        self
    }

    /// This failure, asking for the next attempt after `delay` instead of the policy's delay
    /// (attempts are still counted against the policy).
    #[must_use]
    pub fn retry_after(mut self, delay: Duration) -> Self {
        self.retry = Retry::After(delay);
        self
    }

    /// Whether another attempt may help.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.retry,
            Retry::Policy | Retry::After(_) | Retry::TimedOut
        )
    }

    /// The error an attempt ends with when its run is cancelled under it.
    pub(crate) fn cancelled() -> Self {
        Self {
            retry: Retry::Cancelled,
            ..Self::msg("cancelled: the run is stopping")
        }
    }

    /// Whether this is the error of an attempt interrupted by its run's cancellation.
    pub(crate) fn is_cancellation(&self) -> bool {
        self.retry == Retry::Cancelled
    }

    /// The delay asked for by [`retry_after`](Self::retry_after), if any.
    pub fn retry_after_delay(&self) -> Option<Duration> {
        match self.retry {
            Retry::After(d) => Some(d),
            _ => None,
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The error this failure wraps, if it was made from one.
    pub fn source(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.source.as_deref()
    }
}

/// `timed out after 30m`: the message of every timed-out attempt, whoever enforced the timeout.
pub(crate) fn timed_out_message(after: Duration) -> String {
    format!("timed out after {}", humantime::format_duration(after))
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for TaskError {
    fn from(error: E) -> Self {
        Self::new(error)
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskError")
            .field("message", &self.message)
            .field("retry", &self.retry)
            .field("has_source", &self.source.is_some())
            .finish()
    }
}

/// One thing wrong with a workflow definition.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WorkflowProblem {
    /// A problem with the dependency graph: an unknown dependency, a duplicate id, a task that
    /// depends on itself, or a cycle (named in order). See [`Problem`].
    Graph(Problem<String>),
    /// A task's timeout is zero.
    ZeroTimeout {
        /// The task.
        task: String,
    },
    /// The workflow's timeout is zero.
    ZeroRunTimeout,
    /// The workflow's maximum parallelism is zero.
    ZeroParallelism,
    /// The workflow has no task.
    Empty,
}

impl fmt::Display for WorkflowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Graph(problem) => write!(f, "{problem}"),
            Self::ZeroTimeout { task } => {
                write!(f, "task `{task}`: timeout must be greater than zero")
            }
            Self::ZeroRunTimeout => f.write_str("workflow timeout must be greater than zero"),
            Self::ZeroParallelism => f.write_str("workflow max_parallelism must be at least 1"),
            Self::Empty => f.write_str("the workflow has no task"),
        }
    }
}

/// A workflow definition that cannot run: every problem found, in declaration order. Nothing
/// runs when a workflow is invalid.
///
/// ```
/// use baton_orchestrator::{Task, Workflow, WorkflowProblem};
///
/// let err = Workflow::builder("broken")
///     .task(Task::new("a", |_| async { Ok(()) }).needs(["b"]))
///     .task(Task::new("b", |_| async { Ok(()) }).needs(["a"]))
///     .task(Task::new("c", |_| async { Ok(()) }).needs(["nowhere"]))
///     .build()
///     .unwrap_err();
/// assert_eq!(err.problems().len(), 2);
/// assert!(err.to_string().contains("nowhere"));
/// assert!(err.to_string().contains("cycle"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid workflow `{workflow}`: {}", list(.problems))]
pub struct WorkflowError {
    workflow: String,
    problems: Vec<WorkflowProblem>,
}

fn list(problems: &[WorkflowProblem]) -> String {
    let mut out = String::new();
    for (i, p) in problems.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        out.push_str(&p.to_string());
    }
    out
}

impl WorkflowError {
    pub(crate) fn new(workflow: String, problems: Vec<WorkflowProblem>) -> Self {
        Self { workflow, problems }
    }

    /// The workflow's name.
    pub fn workflow(&self) -> &str {
        &self.workflow
    }

    /// Every problem found.
    pub fn problems(&self) -> &[WorkflowProblem] {
        &self.problems
    }
}

/// Why [`TaskContext::output`](crate::TaskContext::output) could not return a dependency's output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    /// The task asked for the output of a task it does not depend on (directly).
    #[error("task `{task}` does not depend on `{requested}`, so it cannot read its output")]
    NotADependency {
        /// The task asking.
        task: String,
        /// The task whose output it asked for.
        requested: String,
    },
    /// The output exists but is of another type.
    #[error("the output of `{requested}` is not a `{expected}`")]
    WrongType {
        /// The task whose output was asked for.
        requested: String,
        /// The type asked for.
        expected: &'static str,
    },
    /// The dependency has no output. Not returned by this version: a handler can only read the
    /// outputs of tasks that have succeeded (a `()` output reads as `()`); the variant stays so
    /// that code matching on it keeps compiling.
    #[error("`{requested}` has no output")]
    Missing {
        /// The task whose output was asked for.
        requested: String,
    },
}

/// Why an orchestrator could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The worker pool's configuration is invalid.
    #[error("worker pool: {0}")]
    Pool(#[from] baton_pool::ConfigError),
    /// Building needs a tokio runtime (call it from within one).
    #[error("an orchestrator must be built inside a tokio runtime")]
    NoRuntime,
    /// The executor runs no attempt at once.
    #[error("the executor's capacity is zero")]
    ZeroCapacity,
}

/// Why a run could not start or finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The orchestrator's engine has stopped (its runtime is shutting down).
    #[error("the orchestrator has stopped and starts no new runs")]
    Stopped,
    /// A fault plan names a task the workflow does not have.
    #[error("the fault plan names task `{0}`, which the workflow does not have")]
    UnknownFaultTask(String),
}

//! [`Task`]: one unit of a workflow, its handler and its settings.

use std::any::{Any, TypeId};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use baton_breaker::Breaker;
use baton_queue::Priority;
use baton_retry::Policy;

use crate::context::TaskContext;
use crate::error::TaskError;
use crate::faults::Fault;

/// A task's output, type-erased; dependents read it back with
/// [`TaskContext::output`](crate::TaskContext::output).
pub(crate) type Output = Box<dyn Any + Send + Sync>;

/// One attempt of a task or a compensation, boxed.
pub(crate) type BoxedAttempt = Pin<Box<dyn Future<Output = Result<Output, TaskError>> + Send>>;

/// A handler with its types erased: called once per attempt, with the fault to inject (if any).
/// The returned future does everything on the worker: the handler's own synchronous part runs
/// there too (so its panic is the attempt's). The run's cancellation is watched by the
/// [`AttemptFuture`](crate::AttemptFuture) around it, and only once the attempt has to wait.
pub(crate) type Handler = Arc<dyn Fn(TaskContext, Option<Fault>) -> BoxedAttempt + Send + Sync>;

fn erase<F, Fut, T>(handler: F) -> Handler
where
    F: Fn(TaskContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, TaskError>> + Send + 'static,
    T: Any + Send + Sync,
{
    // The handler is kept inline and called here, on the worker's first poll of the attempt:
    // no second reference count to touch per attempt, one allocation for the whole attempt.
    Arc::new(
        move |ctx: TaskContext, fault: Option<Fault>| -> BoxedAttempt {
            match fault {
                None => boxed(handler(ctx)),
                Some(Fault::Fail) => {
                    Box::pin(std::future::ready(Err(TaskError::msg("injected failure"))))
                }
                Some(Fault::Panic) => Box::pin(async { panic!("injected panic") }),
                Some(Fault::Hang) => boxed(std::future::pending::<Result<T, TaskError>>()),
                Some(Fault::Slow(delay)) => {
                    // Called now, polled after the delay: the slowness is the attempt's work.
                    let work = handler(ctx);
                    boxed(async move {
                        tokio::time::sleep(delay).await;
                        work.await
                    })
                }
            }
        },
    )
}

/// Boxes an attempt's work, with its output type-erased.
fn boxed<Fut, T>(work: Fut) -> BoxedAttempt
where
    Fut: Future<Output = Result<T, TaskError>> + Send + 'static,
    T: Any + Send + Sync,
{
    Box::pin(async move { work.await.map(|value| Box::new(value) as Output) })
}

/// One task of a workflow: an id, an async handler, and how to run it.
///
/// The handler is called once per attempt with a [`TaskContext`] (its run, attempt number,
/// dependencies' outputs, cancellation). Its `Ok` value is the task's output, which dependents
/// read with [`TaskContext::output`]; any `Err` is a failed attempt, retried under the task's
/// [`retry`](Task::retry) policy.
///
/// ```
/// use std::time::Duration;
/// use baton_orchestrator::{Policy, Priority, Task};
///
/// let task = Task::new("upload", |ctx| async move {
///     let size: &u64 = ctx.output("compress")?;
///     Ok(format!("uploaded {size} bytes"))
/// })
/// .needs(["compress"])
/// .priority(Priority::High)
/// .retry(Policy::exponential(Duration::from_millis(100), 2.0).attempts(5).build()?)
/// .timeout(Duration::from_secs(30))
/// .compensate(|_ctx| async { Ok(()) }) // delete the upload if the workflow rolls back
/// .tag("io");
/// assert_eq!(task.id(), "upload");
/// # Ok::<(), baton_orchestrator::PolicyError>(())
/// ```
#[derive(Clone)]
pub struct Task {
    pub(crate) id: String,
    pub(crate) needs: Vec<String>,
    pub(crate) priority: Priority,
    pub(crate) retry: Option<Policy>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) handler: Handler,
    /// The handler's type when it holds no state (a function, or a closure that captures
    /// nothing): every task with such a handler of one type behaves the same, so a workflow
    /// whose tasks all share one keeps one handler for all of them.
    pub(crate) stateless: Option<TypeId>,
    pub(crate) compensation: Option<Handler>,
    pub(crate) compensation_retry: Option<Policy>,
    pub(crate) tags: Vec<String>,
    pub(crate) weight: u64,
    pub(crate) breaker: Option<Breaker>,
    pub(crate) requires: Vec<String>,
}

impl Task {
    /// A task `id` that runs `handler`: `Normal` priority, no dependencies, the workflow's
    /// default retry policy, no timeout, no compensation, weight 1.
    pub fn new<F, Fut, T>(id: impl Into<String>, handler: F) -> Self
    where
        F: Fn(TaskContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, TaskError>> + Send + 'static,
        T: Any + Send + Sync,
    {
        Self {
            id: id.into(),
            needs: Vec::new(),
            priority: Priority::Normal,
            retry: None,
            timeout: None,
            handler: erase(handler),
            stateless: (size_of::<F>() == 0).then(TypeId::of::<F>),
            compensation: None,
            compensation_retry: None,
            tags: Vec::new(),
            weight: 1,
            breaker: None,
            requires: Vec::new(),
        }
    }

    /// Capabilities the task needs of the agent that runs it (with an
    /// [`AgentExecutor`](crate::agents::AgentExecutor); other executors ignore them). Adds to any
    /// named before.
    #[must_use]
    pub fn requires<I, S>(mut self, capabilities: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.requires
            .extend(capabilities.into_iter().map(Into::into));
        self
    }

    /// The tasks this one needs: it starts only after all of them succeeded, and can read their
    /// outputs. Adds to any named before.
    #[must_use]
    pub fn needs<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.needs.extend(ids.into_iter().map(Into::into));
        self
    }

    /// The priority the task is queued at (across every run of the orchestrator).
    #[must_use]
    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// The retry policy for failed attempts (replacing the workflow's default).
    #[must_use]
    pub fn retry(mut self, policy: Policy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Each attempt ends [`TimedOut`](crate::TaskState::TimedOut) if it runs longer than
    /// `timeout` (measured from when a worker starts it). A timed-out attempt may be retried. The
    /// same limit applies to each attempt of the task's compensation.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// What undoes this task's effects if the workflow is a saga and the run fails: called after
    /// every task that depends on this one has been compensated. Its context can read this task's
    /// own output.
    #[must_use]
    pub fn compensate<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(TaskContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), TaskError>> + Send + 'static,
    {
        self.compensation = Some(erase(handler));
        self
    }

    /// The retry policy of the compensation (default [`baton_saga::patient`]: exponential from
    /// 100 ms, doubling, at most 30 s apart, 10 attempts: a rollback should try hard).
    #[must_use]
    pub fn compensation_retry(mut self, policy: Policy) -> Self {
        self.compensation_retry = Some(policy);
        self
    }

    /// Adds a tag, shown in reports and events (agents are chosen by [`requires`](Task::requires)).
    #[must_use]
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// The task's expected cost relative to others (default 1), used to find the critical path
    /// that scheduling favours (see [`Boost`](crate::Boost)).
    #[must_use]
    pub fn weight(mut self, weight: u64) -> Self {
        self.weight = weight;
        self
    }

    /// Protects the task's dependency with a circuit breaker (shared with whatever else calls
    /// it: clones of a [`Breaker`] share one state). Each attempt takes a permit first: while the
    /// breaker is open the task fails at once with a `circuit open` error, without running and
    /// without retrying (so a saga compensates instead of hammering the dependency). An attempt's
    /// end settles its permit: success, or failure for an error, a panic or a timeout; an attempt
    /// interrupted by the run's cancellation counts for neither.
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_orchestrator::{Breaker, Orchestrator, Task, TaskState, Trip, Workflow};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let payments = Breaker::builder()
    ///     .trip(Trip::consecutive_failures(1))
    ///     .open_for(Duration::from_secs(30))
    ///     .build()?;
    /// payments.try_acquire()?.failure(); // the payment service just failed: the breaker opens
    /// let workflow = Workflow::builder("checkout")
    ///     .task(Task::new("charge", |_| async { Ok(()) }).breaker(payments.clone()))
    ///     .build()?;
    /// let report = Orchestrator::builder().workers(1).build()?.run(&workflow).await?;
    /// let charge = report.task("charge").unwrap();
    /// assert_eq!((charge.state, charge.attempts), (TaskState::Failed, 0)); // never called
    /// assert!(charge.error.as_deref().unwrap().starts_with("circuit open"));
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn breaker(mut self, breaker: Breaker) -> Self {
        self.breaker = Some(breaker);
        self
    }

    /// The task's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The tasks it needs.
    pub fn dependencies(&self) -> &[String] {
        &self.needs
    }

    /// Its tags.
    pub fn tags(&self) -> &[String] {
        &self.tags
    }
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id)
            .field("needs", &self.needs)
            .field("priority", &self.priority)
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .field("compensable", &self.compensation.is_some())
            .field("tags", &self.tags)
            .field("weight", &self.weight)
            .field("breaker", &self.breaker)
            .field("requires", &self.requires)
            .finish_non_exhaustive()
    }
}

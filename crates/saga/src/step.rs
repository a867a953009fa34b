//! Steps: the [`Step`] trait, closure steps ([`step_fn`]), and a step's place and options in a saga
//! ([`StepDef`], [`StepKind`]).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use baton_retry::Policy;

use crate::error::StepError;

/// The future a closure step returns (see [`step_fn`]).
pub type StepFuture<'a> = Pin<Box<dyn Future<Output = Result<(), StepError>> + Send + 'a>>;

/// One step of a saga: an action and the compensation that undoes it, both reading and writing the
/// saga's context `C`.
///
/// The engine owns the context and lends it to one step at a time. `compensate` defaults to doing
/// nothing, for pivot and retriable steps (which are never compensated) and for compensable steps
/// with nothing to undo.
///
/// ```
/// use baton_saga::{Step, StepError};
///
/// struct Reserve;
/// impl Step<Vec<String>> for Reserve {
///     async fn action(&self, held: &mut Vec<String>) -> Result<(), StepError> {
///         held.push("sku-1".into());
///         Ok(())
///     }
///     async fn compensate(&self, held: &mut Vec<String>) -> Result<(), StepError> {
///         held.retain(|s| s != "sku-1");
///         Ok(())
///     }
/// }
/// # fn assert_step<S: Step<Vec<String>>>(_: S) {}
/// # assert_step(Reserve);
/// ```
pub trait Step<C>: Send + Sync + 'static {
    /// Does the step's work. Should be idempotent: see the crate docs on resume.
    fn action(&self, ctx: &mut C) -> impl Future<Output = Result<(), StepError>> + Send;

    /// Undoes a completed action. Should be idempotent too.
    fn compensate(&self, ctx: &mut C) -> impl Future<Output = Result<(), StepError>> + Send {
        let _ = ctx;
        std::future::ready(Ok(()))
    }
}

/// The object-safe form of [`Step`] the engine stores.
pub(crate) trait DynStep<C>: Send + Sync {
    fn action_dyn<'a>(&'a self, ctx: &'a mut C) -> StepFuture<'a>;
    fn compensate_dyn<'a>(&'a self, ctx: &'a mut C) -> StepFuture<'a>;
}

impl<C: Send, S: Step<C>> DynStep<C> for S {
    fn action_dyn<'a>(&'a self, ctx: &'a mut C) -> StepFuture<'a> {
        Box::pin(self.action(ctx))
    }
    fn compensate_dyn<'a>(&'a self, ctx: &'a mut C) -> StepFuture<'a> {
        Box::pin(self.compensate(ctx))
    }
}

/// A step made of two closures; see [`step_fn`].
#[derive(Clone, Copy)]
pub struct FnStep<A, K> {
    action: A,
    compensate: K,
}

impl<A, K> fmt::Debug for FnStep<A, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnStep").finish_non_exhaustive()
    }
}

/// A step from an action closure and a compensation closure, each returning a boxed future
/// ([`StepFuture`]) that borrows the context.
///
/// ```
/// use baton_saga::step_fn;
/// let step = step_fn(
///     |n: &mut u32| Box::pin(async move { *n += 1; Ok(()) }),
///     |n: &mut u32| Box::pin(async move { *n -= 1; Ok(()) }),
/// );
/// # let _ = step;
/// ```
pub fn step_fn<C, A, K>(action: A, compensate: K) -> FnStep<A, K>
where
    A: for<'a> Fn(&'a mut C) -> StepFuture<'a> + Send + Sync + 'static,
    K: for<'a> Fn(&'a mut C) -> StepFuture<'a> + Send + Sync + 'static,
{
    FnStep { action, compensate }
}

impl<C, A, K> Step<C> for FnStep<A, K>
where
    A: for<'a> Fn(&'a mut C) -> StepFuture<'a> + Send + Sync + 'static,
    K: for<'a> Fn(&'a mut C) -> StepFuture<'a> + Send + Sync + 'static,
{
    fn action(&self, ctx: &mut C) -> impl Future<Output = Result<(), StepError>> + Send {
        (self.action)(ctx)
    }
    fn compensate(&self, ctx: &mut C) -> impl Future<Output = Result<(), StepError>> + Send {
        (self.compensate)(ctx)
    }
}

/// A step's role in the saga (Garcia-Molina's sagas, as refined by the pivot/retriable model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StepKind {
    /// Undone by its compensation when a later step fails.
    Compensable,
    /// The point of no return: once it completes, the saga can only go forward. Never compensated.
    Pivot,
    /// After the pivot: retried under its policy rather than compensated.
    Retriable,
}

/// A step with its name, kind and options, ready to add to a
/// [`SagaBuilder`](crate::SagaBuilder::step).
///
/// Defaults: an action of a compensable or pivot step runs once ([`Policy::no_retry`]); a
/// retriable step's action and every compensation are retried with exponential delays from
/// 100 ms (factor 2, at most 30 s apart, 10 attempts); no timeouts; a step cancelled mid-action is
/// not compensated.
///
/// ```
/// use std::time::Duration;
/// use baton_retry::Policy;
/// use baton_saga::{step_fn, StepDef, StepKind};
///
/// let def = StepDef::compensable("reserve", step_fn(
///     |n: &mut u32| Box::pin(async move { *n += 1; Ok(()) }),
///     |n: &mut u32| Box::pin(async move { *n -= 1; Ok(()) }),
/// ))
/// .retry(Policy::fixed(Duration::from_millis(10)).attempts(3).build().unwrap())
/// .timeout(Duration::from_secs(1))
/// .compensate_if_cancelled(true);
/// assert_eq!(def.kind(), StepKind::Compensable);
/// assert_eq!(def.name(), "reserve");
/// ```
#[non_exhaustive]
pub struct StepDef<C> {
    pub(crate) name: Arc<str>,
    pub(crate) kind: StepKind,
    pub(crate) step: Arc<dyn DynStep<C>>,
    pub(crate) retry: Policy,
    pub(crate) compensation_retry: Policy,
    pub(crate) timeout: Option<Duration>,
    pub(crate) compensation_timeout: Option<Duration>,
    pub(crate) compensate_if_cancelled: bool,
}

impl<C> Clone for StepDef<C> {
    fn clone(&self) -> Self {
        Self {
            name: Arc::clone(&self.name),
            kind: self.kind,
            step: Arc::clone(&self.step),
            retry: self.retry,
            compensation_retry: self.compensation_retry,
            timeout: self.timeout,
            compensation_timeout: self.compensation_timeout,
            compensate_if_cancelled: self.compensate_if_cancelled,
        }
    }
}

impl<C> fmt::Debug for StepDef<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StepDef")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("retry", &self.retry)
            .field("compensation_retry", &self.compensation_retry)
            .field("timeout", &self.timeout)
            .field("compensation_timeout", &self.compensation_timeout)
            .field("compensate_if_cancelled", &self.compensate_if_cancelled)
            .finish_non_exhaustive()
    }
}

/// The default retry policy of retriable actions and of compensations: exponential from 100 ms,
/// doubling, at most 30 s apart, 10 attempts (a rollback should try hard). The orchestrator's
/// DAG sagas use it too.
///
/// ```
/// let policy = baton_saga::patient();
/// assert_eq!(policy.attempts(), 10);
/// ```
pub fn patient() -> Policy {
    Policy::exponential(Duration::from_millis(100), 2.0)
        .max_delay(Duration::from_secs(30))
        .attempts(10)
        .build()
        .expect("the default policy is valid")
}

impl<C: Send + 'static> StepDef<C> {
    /// A step of the given kind.
    pub fn new(name: impl Into<Arc<str>>, kind: StepKind, step: impl Step<C>) -> Self {
        let retry = match kind {
            StepKind::Retriable => patient(),
            _ => Policy::no_retry(),
        };
        Self {
            name: name.into(),
            kind,
            step: Arc::new(step),
            retry,
            compensation_retry: patient(),
            timeout: None,
            compensation_timeout: None,
            compensate_if_cancelled: false,
        }
    }

    /// A compensable step.
    pub fn compensable(name: impl Into<Arc<str>>, step: impl Step<C>) -> Self {
        Self::new(name, StepKind::Compensable, step)
    }

    /// The pivot: the point of no return.
    pub fn pivot(name: impl Into<Arc<str>>, step: impl Step<C>) -> Self {
        Self::new(name, StepKind::Pivot, step)
    }

    /// A retriable step (after the pivot).
    pub fn retriable(name: impl Into<Arc<str>>, step: impl Step<C>) -> Self {
        Self::new(name, StepKind::Retriable, step)
    }
}

impl<C> StepDef<C> {
    /// The retry policy of the action (forward recovery).
    #[must_use]
    pub fn retry(mut self, policy: Policy) -> Self {
        self.retry = policy;
        self
    }

    /// The retry policy of the compensation (backward recovery).
    #[must_use]
    pub fn compensation_retry(mut self, policy: Policy) -> Self {
        self.compensation_retry = policy;
        self
    }

    /// A limit on each attempt of the action; a timed-out attempt is a failed attempt.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// A limit on each attempt of the compensation.
    #[must_use]
    pub fn compensation_timeout(mut self, timeout: Duration) -> Self {
        self.compensation_timeout = Some(timeout);
        self
    }

    /// Whether the step is compensated when the saga is cancelled while its action runs (its
    /// action started but did not finish, so it may have had effects). Default `false`.
    /// Only compensable steps may set it.
    #[must_use]
    pub fn compensate_if_cancelled(mut self, yes: bool) -> Self {
        self.compensate_if_cancelled = yes;
        self
    }

    /// The step's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The step's kind.
    #[must_use]
    pub fn kind(&self) -> StepKind {
        self.kind
    }
}

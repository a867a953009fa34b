//! One attempt of a step's action or compensation: [`Attempt`], a hand-written future that catches
//! the step's panic and applies its timeout, in one layer. A panic while the step *creates* its
//! future (the synchronous part of `Step::action`, e.g. a `step_fn` closure's body before it boxes
//! its async block) is caught too: the attempt then ends at once as `Panicked`.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::error::Elapsed;

use crate::error::{FailureKind, StepError};
use crate::panic::{CatchUnwind, panic_message};
use crate::step::{DynStep, StepFuture};

/// The step's future under its timeout.
type TimedFuture<'a> = Pin<Box<dyn Future<Output = Result<Caught, Elapsed>> + Send + 'a>>;

/// The step's result, or its panic's message.
type Caught = Result<Result<(), StepError>, String>;

/// One attempt: `Ok(())`, or why it failed (an error, a panic, a timeout).
pub(crate) enum Attempt<'a> {
    /// No timeout: just the step's future.
    Plain(CatchUnwind<StepFuture<'a>>),
    /// With a timeout. Boxed so that steps without one carry no timer, and type-erased, which
    /// keeps the attempt's drop small enough to inline.
    Timed(TimedFuture<'a>, Duration),
    /// The step panicked while creating its future; `None` once reported.
    Panicked(Option<String>),
}

impl<'a> Attempt<'a> {
    /// Starts the step's action (or compensation) on `ctx`, limited to `timeout`.
    #[inline(always)]
    pub(crate) fn new<C>(
        step: &'a dyn DynStep<C>,
        compensation: bool,
        timeout: Option<Duration>,
        ctx: &'a mut C,
    ) -> Self {
        // The borrow goes through an Option so the closure hands out the `&'a mut C` itself, not a
        // reborrow of its capture (which could not outlive the closure).
        let mut ctx = Some(ctx);
        let created = catch_unwind(AssertUnwindSafe(|| {
            let ctx = ctx.take().expect("the closure runs once");
            if compensation {
                step.compensate_dyn(ctx)
            } else {
                step.action_dyn(ctx)
            }
        }));
        let fut = match created {
            Ok(fut) => fut,
            Err(payload) => return Self::Panicked(Some(panic_message(payload.as_ref()))),
        };
        let caught = CatchUnwind::new(fut);
        match timeout {
            None => Self::Plain(caught),
            Some(limit) => Self::Timed(Box::pin(tokio::time::timeout(limit, caught)), limit),
        }
    }
}

/// The step's result, or its panic, as the attempt's result.
#[inline(always)]
fn flatten(result: Caught) -> Result<(), FailureKind> {
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(FailureKind::Error(e)),
        Err(panic) => Err(FailureKind::Panicked(panic)),
    }
}

impl Future for Attempt<'_> {
    type Output = Result<(), FailureKind>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Self::Plain(fut) => Pin::new(fut).poll(cx).map(flatten),
            Self::Timed(fut, limit) => match fut.as_mut().poll(cx) {
                Poll::Ready(Ok(result)) => Poll::Ready(flatten(result)),
                Poll::Ready(Err(_)) => Poll::Ready(Err(FailureKind::TimedOut(*limit))),
                Poll::Pending => Poll::Pending,
            },
            Self::Panicked(message) => Poll::Ready(Err(FailureKind::Panicked(
                message
                    .take()
                    .expect("an attempt is not polled after it finished"),
            ))),
        }
    }
}

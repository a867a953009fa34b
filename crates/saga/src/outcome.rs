//! How a saga ended: [`Outcome`], with the context, and why it rolled back ([`Abort`]).

use std::sync::Arc;

use crate::error::StepFailure;

/// Why a saga rolled back.
#[derive(Debug)]
#[non_exhaustive]
pub enum Abort {
    /// A step's action failed for good (its retries are over).
    Failed(StepFailure),
    /// The saga was cancelled through its [`CancelToken`](crate::CancelToken), before or during
    /// the named step (`None` only when the step is not known: a hand-written log that left it
    /// out; the engine always names it).
    Cancelled {
        /// The step that was running or about to run.
        step: Option<String>,
    },
}

/// How a saga ended. Every variant returns the context.
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome<C> {
    /// Every step completed.
    Completed {
        /// The context after the last step.
        context: C,
    },
    /// A step failed (or the saga was cancelled) and every completed step was compensated, in
    /// reverse order, once each.
    Compensated {
        /// The context after the last compensation.
        context: C,
        /// Why the saga rolled back.
        cause: Abort,
        /// The names of the steps compensated, in the order they were compensated.
        compensated: Vec<Arc<str>>,
    },
    /// A compensation failed for good: the rollback is incomplete and needs a human.
    CompensationFailed {
        /// The context when the compensation gave up.
        context: C,
        /// Why the saga rolled back.
        cause: Abort,
        /// The compensation's failure (it names the step).
        error: StepFailure,
        /// The steps compensated before it, in order.
        compensated: Vec<Arc<str>>,
    },
    /// A retriable step after the pivot failed for good (or the saga was cancelled after its
    /// pivot): the saga cannot go back, and did not finish.
    Stuck {
        /// The context when the step gave up.
        context: C,
        /// The step's failure (it names the step).
        error: StepFailure,
    },
}

/// The variant of an [`Outcome`], without its data (as written to a saga log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OutcomeKind {
    /// [`Outcome::Completed`].
    Completed,
    /// [`Outcome::Compensated`].
    Compensated,
    /// [`Outcome::CompensationFailed`].
    CompensationFailed,
    /// [`Outcome::Stuck`].
    Stuck,
}

impl<C> Outcome<C> {
    /// The variant.
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Self::Completed { .. } => OutcomeKind::Completed,
            Self::Compensated { .. } => OutcomeKind::Compensated,
            Self::CompensationFailed { .. } => OutcomeKind::CompensationFailed,
            Self::Stuck { .. } => OutcomeKind::Stuck,
        }
    }

    /// The context.
    pub fn context(&self) -> &C {
        match self {
            Self::Completed { context }
            | Self::Compensated { context, .. }
            | Self::CompensationFailed { context, .. }
            | Self::Stuck { context, .. } => context,
        }
    }

    /// The context, dropping the rest.
    pub fn into_context(self) -> C {
        match self {
            Self::Completed { context }
            | Self::Compensated { context, .. }
            | Self::CompensationFailed { context, .. }
            | Self::Stuck { context, .. } => context,
        }
    }

    /// Whether every step completed.
    pub fn is_completed(&self) -> bool {
        matches!(self, Self::Completed { .. })
    }
}

//! Errors: invalid sagas ([`BuildError`]), failed steps ([`StepFailure`]) and failures of the log
//! or of resuming ([`SagaError`]).

use std::fmt;
use std::time::Duration;

use crate::outcome::OutcomeKind;

/// The error a step's action or compensation returns: any error that can cross threads.
pub type StepError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A saga that cannot be built, raised by [`SagaBuilder::build`](crate::SagaBuilder::build).
/// Every variant names the saga and the step at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The saga has no steps.
    #[error("saga `{saga}` has no steps")]
    NoSteps {
        /// The saga.
        saga: String,
    },
    /// A step has an empty name.
    #[error("saga `{saga}`: step #{index} has an empty name")]
    EmptyName {
        /// The saga.
        saga: String,
        /// The step's position (from 0).
        index: usize,
    },
    /// Two steps share a name.
    #[error("saga `{saga}`: steps #{first} and #{second} are both named `{step}`")]
    DuplicateName {
        /// The saga.
        saga: String,
        /// The name.
        step: String,
        /// The first step with that name.
        first: usize,
        /// The second step with that name.
        second: usize,
    },
    /// A second pivot.
    #[error("saga `{saga}`: step `{step}` is a second pivot (`{pivot}` is already the pivot)")]
    SecondPivot {
        /// The saga.
        saga: String,
        /// The second pivot.
        step: String,
        /// The first pivot.
        pivot: String,
    },
    /// A step after the pivot that is not retriable (it could not be compensated).
    #[error(
        "saga `{saga}`: step `{step}` comes after the pivot `{pivot}` but is not retriable \
         (steps past the point of no return cannot be compensated)"
    )]
    NotRetriableAfterPivot {
        /// The saga.
        saga: String,
        /// The step.
        step: String,
        /// The pivot.
        pivot: String,
    },
    /// A retriable step before the pivot, or in a saga without a pivot.
    #[error("saga `{saga}`: retriable step `{step}` must come after a pivot step")]
    RetriableBeforePivot {
        /// The saga.
        saga: String,
        /// The step.
        step: String,
    },
    /// A timeout of zero, which would fail every attempt.
    #[error("saga `{saga}`: step `{step}` has `{field}` = 0, which would fail every attempt")]
    ZeroTimeout {
        /// The saga.
        saga: String,
        /// The step.
        step: String,
        /// `timeout` or `compensation_timeout`.
        field: &'static str,
    },
    /// `compensate_if_cancelled` on a step that has no compensation (a pivot or retriable step).
    #[error("saga `{saga}`: step `{step}` sets `compensate_if_cancelled` but is not compensable")]
    CompensateIfCancelledNotCompensable {
        /// The saga.
        saga: String,
        /// The step.
        step: String,
    },
}

/// Why one attempt, and so (once retries are over) a step, failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FailureKind {
    /// The action or compensation returned an error.
    #[error("returned an error: {0}")]
    Error(StepError),
    /// The action or compensation panicked; the panic message.
    #[error("panicked: {0}")]
    Panicked(String),
    /// The attempt ran longer than the step's timeout.
    #[error("timed out after {0:?}")]
    TimedOut(Duration),
    /// The saga was cancelled while the step ran.
    #[error("was cancelled")]
    Cancelled,
    /// A failure read back from a saga log on resume (only its message survives).
    #[error("failed (from the log): {0}")]
    Logged(String),
}

/// A step whose action or compensation failed for good: its name, how many attempts were made and
/// why the last one failed.
#[derive(Debug, thiserror::Error)]
#[error("step `{step}` {kind} (attempt {attempts})")]
#[non_exhaustive]
pub struct StepFailure {
    /// The step's name.
    pub step: String,
    /// Attempts made (0 when cancelled before the first ended, or read from a log).
    pub attempts: u32,
    /// Why the last attempt failed.
    pub kind: FailureKind,
}

impl StepFailure {
    pub(crate) fn new(step: &str, attempts: u32, kind: FailureKind) -> Self {
        Self {
            step: step.to_owned(),
            attempts,
            kind,
        }
    }
}

/// Marks a step error as permanent: the step is not retried, whatever its policy.
///
/// ```
/// use baton_saga::{permanent, StepError};
/// let e: StepError = permanent("card declined");
/// assert_eq!(e.to_string(), "card declined");
/// ```
pub fn permanent(error: impl Into<StepError>) -> StepError {
    Box::new(Permanent(error.into()))
}

/// A step error wrapped by [`permanent`].
#[derive(Debug)]
pub(crate) struct Permanent(pub(crate) StepError);

impl fmt::Display for Permanent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Permanent {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// A saga run or resume that had to stop because of its log, or a log that cannot be resumed.
///
/// `E` is the log's error type. The variants that stop a running saga hand its context back.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum SagaError<C, E> {
    /// Writing an entry failed; the saga stopped right there (resume it later from the log).
    #[error("saga `{saga}`: writing the `{entry}` entry to the log failed")]
    Write {
        /// The saga.
        saga: String,
        /// The entry that could not be written.
        entry: &'static str,
        /// The log's error.
        #[source]
        source: E,
        /// The context at the moment the saga stopped.
        context: Box<C>,
    },
    /// Reading the log failed.
    #[error("saga `{saga}`: reading the log failed")]
    Read {
        /// The saga.
        saga: String,
        /// The log's error.
        #[source]
        source: E,
    },
    /// The log holds no `SagaStarted` entry (with the initial context): nothing to resume.
    #[error("saga `{saga}`: the log has no `saga_started` entry, so there is nothing to resume")]
    NotStarted {
        /// The saga.
        saga: String,
    },
    /// The log names a step this saga does not have at that position.
    #[error(
        "saga `{saga}`: the log names step #{index} `{logged}`, but this saga's step #{index} is {expected}"
    )]
    StepMismatch {
        /// The saga.
        saga: String,
        /// The position.
        index: usize,
        /// The name in the log.
        logged: String,
        /// The saga's step there, quoted, or `missing`.
        expected: String,
    },
    /// The log already records the saga's outcome.
    #[error("saga `{saga}` already finished ({outcome:?}); nothing to resume")]
    AlreadyFinished {
        /// The saga.
        saga: String,
        /// The recorded outcome.
        outcome: OutcomeKind,
    },
}

impl<C, E: fmt::Debug> fmt::Debug for SagaError<C, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Write {
                saga,
                entry,
                source,
                ..
            } => f
                .debug_struct("Write")
                .field("saga", saga)
                .field("entry", entry)
                .field("source", source)
                .finish_non_exhaustive(),
            Self::Read { saga, source } => f
                .debug_struct("Read")
                .field("saga", saga)
                .field("source", source)
                .finish(),
            Self::NotStarted { saga } => f.debug_struct("NotStarted").field("saga", saga).finish(),
            Self::StepMismatch {
                saga,
                index,
                logged,
                expected,
            } => f
                .debug_struct("StepMismatch")
                .field("saga", saga)
                .field("index", index)
                .field("logged", logged)
                .field("expected", expected)
                .finish(),
            Self::AlreadyFinished { saga, outcome } => f
                .debug_struct("AlreadyFinished")
                .field("saga", saga)
                .field("outcome", outcome)
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_saga_and_step() {
        let e = BuildError::DuplicateName {
            saga: "order".into(),
            step: "charge".into(),
            first: 0,
            second: 2,
        };
        assert_eq!(
            e.to_string(),
            "saga `order`: steps #0 and #2 are both named `charge`"
        );
        let f = StepFailure::new("ship", 3, FailureKind::TimedOut(Duration::from_secs(1)));
        assert_eq!(f.to_string(), "step `ship` timed out after 1s (attempt 3)");
    }

    #[test]
    fn permanent_keeps_the_message() {
        let e = permanent("declined");
        assert!(e.is::<Permanent>());
        assert_eq!(e.to_string(), "declined");
    }
}

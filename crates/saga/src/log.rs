//! The saga log: [`SagaLog`] records every transition ([`Entry`]) so an interrupted saga can be
//! resumed; [`InMemoryLog`] keeps them in memory, [`NoLog`] drops them.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use crate::outcome::OutcomeKind;

/// A step named in an [`Entry`]: its position in the saga (from 0) and its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StepRef {
    /// Position in the saga.
    pub index: usize,
    /// Name.
    pub name: Arc<str>,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EntryKind {
    /// The saga started; the entry holds the initial context.
    SagaStarted,
    /// A step's action is about to run (it may have run even if nothing follows in the log).
    Started,
    /// A step's action completed; the entry holds the context after it.
    Completed,
    /// A step's action failed for good; the entry holds the context after the last attempt.
    Failed {
        /// The failure's message.
        error: String,
    },
    /// The saga was cancelled before or during the step; the entry holds the context.
    Cancelled {
        /// Whether the step itself is compensated (it started, was interrupted, and is marked
        /// `compensate_if_cancelled`).
        compensate_step: bool,
    },
    /// A step's compensation is about to run.
    Compensating,
    /// A step's compensation completed; the entry holds the context after it.
    Compensated,
    /// A step's compensation failed for good.
    CompensationFailed {
        /// The failure's message.
        error: String,
    },
    /// The saga ended.
    Finished(OutcomeKind),
}

impl EntryKind {
    /// A short name for messages (`"started"`, `"compensated"`, ...).
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Self::SagaStarted => "saga_started",
            Self::Started => "started",
            Self::Completed => "completed",
            Self::Failed { .. } => "failed",
            Self::Cancelled { .. } => "cancelled",
            Self::Compensating => "compensating",
            Self::Compensated => "compensated",
            Self::CompensationFailed { .. } => "compensation_failed",
            Self::Finished(_) => "finished",
        }
    }
}

/// One record of a saga log and one event: the step (if any), what happened, and a snapshot of the
/// context where resume needs one (`SagaStarted`, `Completed`, `Failed`, `Cancelled`,
/// `Compensated`).
///
/// The engine writes `Entry<&C>` (borrowing the context); logs store and load `Entry<C>`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry<X> {
    /// The step, `None` for `SagaStarted` and `Finished`.
    pub step: Option<StepRef>,
    /// What happened.
    pub kind: EntryKind,
    /// The context snapshot.
    pub context: Option<X>,
}

impl<X> Entry<X> {
    /// An entry.
    pub fn new(step: Option<StepRef>, kind: EntryKind, context: Option<X>) -> Self {
        Self {
            step,
            kind,
            context,
        }
    }
}

impl<C: Clone> Entry<&C> {
    /// An owned copy (cloning the snapshot).
    #[must_use]
    pub fn to_owned_entry(&self) -> Entry<C> {
        Entry {
            step: self.step.clone(),
            kind: self.kind.clone(),
            context: self.context.cloned(),
        }
    }
}

/// Where a saga records its progress, so it can be resumed after a crash or an interruption.
///
/// `append` is called in order, and awaited, before the engine goes on: a durable log (PostgreSQL,
/// later) commits each entry before returning. If `append` fails the saga stops with
/// [`SagaError::Write`](crate::SagaError::Write). `load` returns the entries in the order written.
///
/// One log holds one saga run.
pub trait SagaLog<C>: Send + Sync {
    /// The log's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Whether the engine should build entries at all (`false` only for [`NoLog`]).
    const ENABLED: bool = true;

    /// Records one entry.
    fn append(&self, entry: Entry<&C>) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Every entry written so far, in order.
    fn load(&self) -> impl Future<Output = Result<Vec<Entry<C>>, Self::Error>> + Send;
}

/// A log that records nothing (the default of [`Saga::run`](crate::Saga::run)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct NoLog;

impl<C: Send + Sync> SagaLog<C> for NoLog {
    type Error = Infallible;
    const ENABLED: bool = false;

    fn append(&self, _entry: Entry<&C>) -> impl Future<Output = Result<(), Infallible>> + Send {
        std::future::ready(Ok(()))
    }

    fn load(&self) -> impl Future<Output = Result<Vec<Entry<C>>, Infallible>> + Send {
        std::future::ready(Ok(Vec::new()))
    }
}

/// A log in memory, cloning the context for each snapshot. Clones share the same entries.
///
/// ```
/// use baton_saga::{EntryKind, InMemoryLog};
/// let log = InMemoryLog::<u32>::new();
/// assert!(log.entries().is_empty());
/// # let _ = EntryKind::Started;
/// ```
pub struct InMemoryLog<C> {
    entries: Arc<Mutex<Vec<Entry<C>>>>,
}

impl<C> Clone for InMemoryLog<C> {
    fn clone(&self) -> Self {
        Self {
            entries: Arc::clone(&self.entries),
        }
    }
}

impl<C> Default for InMemoryLog<C> {
    fn default() -> Self {
        Self {
            entries: Arc::new(Mutex::new(Vec::new())),
        }
    }
}

impl<C> fmt::Debug for InMemoryLog<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.lock().len();
        f.debug_struct("InMemoryLog").field("entries", &n).finish()
    }
}

impl<C> InMemoryLog<C> {
    /// An empty log.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Entry<C>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many entries were written.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing was written.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

impl<C: Clone> InMemoryLog<C> {
    /// A copy of the entries.
    #[must_use]
    pub fn entries(&self) -> Vec<Entry<C>> {
        self.lock().clone()
    }

    /// A new log holding the first `n` entries (to simulate a crash after `n` writes).
    #[must_use]
    pub fn truncated(&self, n: usize) -> Self {
        let entries = self.lock().iter().take(n).cloned().collect();
        Self {
            entries: Arc::new(Mutex::new(entries)),
        }
    }
}

impl<C: Clone + Send + Sync> SagaLog<C> for InMemoryLog<C> {
    type Error = Infallible;

    fn append(&self, entry: Entry<&C>) -> impl Future<Output = Result<(), Infallible>> + Send {
        self.lock().push(entry.to_owned_entry());
        std::future::ready(Ok(()))
    }

    fn load(&self) -> impl Future<Output = Result<Vec<Entry<C>>, Infallible>> + Send {
        std::future::ready(Ok(self.entries()))
    }
}

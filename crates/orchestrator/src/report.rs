//! [`RunReport`]: what a run did, task by task, serde-serialisable.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use baton_queue::{Priority, TaskState};
use serde::Serialize;

use crate::run::RunId;

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RunOutcome {
    /// Every task succeeded.
    Succeeded,
    /// These tasks failed or timed out for good (in the order they ended).
    Failed {
        /// The failed tasks.
        tasks: Vec<String>,
    },
    /// The run was cancelled through its handle.
    Cancelled,
    /// The run passed its timeout.
    TimedOut {
        /// The timeout.
        #[serde(with = "secs")]
        after: Duration,
    },
}

impl RunOutcome {
    /// True for [`Succeeded`](RunOutcome::Succeeded).
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Succeeded)
    }
}

impl fmt::Display for RunOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Succeeded => f.write_str("succeeded"),
            Self::Failed { tasks } => write!(f, "failed ({})", tasks.join(", ")),
            Self::Cancelled => f.write_str("cancelled"),
            Self::TimedOut { after } => write!(f, "timed out after {after:?}"),
        }
    }
}

/// What a saga's rollback did (present when a saga run did not succeed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Rollback {
    /// Tasks whose compensation succeeded, in the order they finished.
    pub compensated: Vec<String>,
    /// Tasks whose compensation failed for good: their effects remain. The run needs attention.
    pub failed: Vec<String>,
    /// Tasks that succeeded and have a compensation that never ran, because a compensation of a
    /// task depending on them failed first (undoing them would break reverse order).
    pub blocked: Vec<String>,
}

impl Rollback {
    /// Whether every completed task with a compensation was compensated.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty() && self.blocked.is_empty()
    }
}

/// A compensation's part of a [`TaskReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CompensationReport {
    /// Attempts made.
    pub attempts: u32,
    /// The last failure, if the compensation did not succeed.
    pub error: Option<String>,
}

/// A task's id in a [`TaskReport`]: reads as a `&str` (it derefs to one, compares with one,
/// displays and serialises as one).
///
/// Every row of a report shares its workflow's table of ids, so a report of 100k tasks costs one
/// reference count on that table per row, not a cache miss on a separate allocation per row.
///
/// ```
/// use baton_orchestrator::TaskName;
///
/// let id = TaskName::from("compress");
/// assert_eq!(id, "compress");
/// assert_eq!(id.len(), 8);
/// assert_eq!(format!("{id}"), "compress");
/// ```
#[derive(Clone)]
pub struct TaskName {
    table: Arc<[Arc<str>]>,
    index: u32,
}

impl TaskName {
    pub(crate) fn new(table: &Arc<[Arc<str>]>, index: usize) -> Self {
        debug_assert!(index < table.len());
        Self {
            table: Arc::clone(table),
            index: index as u32,
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.table[self.index as usize]
    }
}

impl std::ops::Deref for TaskName {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for TaskName {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for TaskName {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for TaskName {
    fn from(id: &str) -> Self {
        Self {
            table: Arc::from([Arc::from(id)]),
            index: 0,
        }
    }
}

impl From<String> for TaskName {
    fn from(id: String) -> Self {
        Self::from(id.as_str())
    }
}

impl PartialEq for TaskName {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for TaskName {}

impl PartialOrd for TaskName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// By text, as the `Arc<str>` ids it replaced: rows sort by id.
impl Ord for TaskName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for TaskName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq<str> for TaskName {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for TaskName {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for TaskName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for TaskName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for TaskName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One task in a [`RunReport`]. Times are measured from the run's start, on tokio's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TaskReport {
    /// The task's id.
    pub id: TaskName,
    /// Its final state.
    pub state: TaskState,
    /// Attempts started (0 if it never ran).
    pub attempts: u32,
    /// The priority it was queued at (boost included).
    pub priority: Priority,
    /// Its tags.
    pub tags: Vec<String>,
    /// When it first joined the queue.
    #[serde(with = "secs::option")]
    pub queued_at: Option<Duration>,
    /// When its first attempt was handed to a worker.
    #[serde(with = "secs::option")]
    pub started_at: Option<Duration>,
    /// When its last attempt ended (or when it was skipped or cancelled).
    #[serde(with = "secs::option")]
    pub ended_at: Option<Duration>,
    /// Time spent queued, waiting for a worker, over all attempts (retry delays not included).
    #[serde(with = "secs")]
    pub wait: Duration,
    /// Time spent running, over all attempts.
    #[serde(with = "secs")]
    pub run_time: Duration,
    /// The last failure (or why it was skipped).
    pub error: Option<String>,
    /// Its compensation, if a saga ran it.
    pub compensation: Option<CompensationReport>,
}

/// The chain of tasks that decided when the run ended: from the last task to end, each step goes
/// to the dependency that ended last.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CriticalPath {
    /// The tasks, first to last.
    pub tasks: Vec<String>,
    /// From the first one's start to the last one's end.
    #[serde(with = "secs")]
    pub duration: Duration,
}

/// Counts over a run's tasks. The final states add up to `tasks`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Totals {
    /// Tasks in the workflow.
    pub tasks: usize,
    /// Tasks that ended `Succeeded`.
    pub succeeded: usize,
    /// Tasks that ended `Failed` (compensation failures included).
    pub failed: usize,
    /// Tasks that ended `TimedOut`.
    pub timed_out: usize,
    /// Tasks that ended `Cancelled`.
    pub cancelled: usize,
    /// Tasks that ended `Skipped`.
    pub skipped: usize,
    /// Tasks that ended `Compensated`.
    pub compensated: usize,
    /// Tasks whose compensation failed (counted in `failed` too).
    pub compensation_failed: usize,
    /// Attempts started, over all tasks (compensations not included).
    pub attempts: u64,
    /// Attempts beyond each task's first.
    pub retries: u64,
    /// Total queue wait.
    #[serde(with = "secs")]
    pub wait: Duration,
    /// Total run time.
    #[serde(with = "secs")]
    pub run_time: Duration,
}

impl Totals {
    /// Whether the final states add up to the number of tasks.
    pub fn adds_up(&self) -> bool {
        self.succeeded
            + self.failed
            + self.timed_out
            + self.cancelled
            + self.skipped
            + self.compensated
            == self.tasks
    }
}

/// What a run did: its outcome, every task's state, attempts and timings, the critical path, and
/// totals. Serialises with serde (durations as seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RunReport {
    /// The run.
    pub run: RunId,
    /// The workflow's name.
    pub workflow: String,
    /// How it ended.
    pub outcome: RunOutcome,
    /// What a saga's rollback did, if one ran.
    pub rollback: Option<Rollback>,
    /// From start to report.
    #[serde(with = "secs")]
    pub duration: Duration,
    /// Every task, in declaration order.
    pub tasks: Vec<TaskReport>,
    /// The chain of tasks that decided the run's length.
    pub critical_path: CriticalPath,
    /// Counts.
    pub totals: Totals,
}

impl RunReport {
    /// The report of task `id`.
    pub fn task(&self, id: &str) -> Option<&TaskReport> {
        self.tasks.iter().find(|t| &*t.id == id)
    }

    /// Whether every task succeeded.
    pub fn is_success(&self) -> bool {
        self.outcome.is_success()
    }
}

/// Serde helpers: durations as seconds (`f64`).
pub(crate) mod secs {
    use std::time::Duration;

    use serde::Serializer;

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub(crate) mod option {
        use std::time::Duration;

        use serde::Serializer;

        pub(crate) fn serialize<S: Serializer>(
            d: &Option<Duration>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => s.serialize_some(&d.as_secs_f64()),
                None => s.serialize_none(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn task_names_share_their_table_and_read_as_strings() {
        let table: Arc<[Arc<str>]> = Arc::from([Arc::from("a"), Arc::from("b")]);
        let (a, b) = (TaskName::new(&table, 0), TaskName::new(&table, 1));
        assert_eq!((&*a, &*b), ("a", "b"));
        assert!(
            Arc::ptr_eq(&a.table, &b.table),
            "one table, no copy per row"
        );
        assert_eq!(Arc::strong_count(&table), 3);
        assert_eq!(a, TaskName::from("a"), "equal by text, whatever the table");
        assert_ne!(a, b);
        let by_name: HashMap<TaskName, u32> = [(a.clone(), 1), (b, 2)].into();
        assert_eq!(
            by_name.get("a"),
            Some(&1),
            "Borrow<str> hashes as the text does"
        );
        assert_eq!(format!("{a} {a:?}"), "a \"a\"");
        let mut sorted = [TaskName::from("b"), a.clone(), TaskName::from("ab")];
        sorted.sort();
        assert_eq!(
            sorted.map(|n| n.to_string()),
            ["a", "ab", "b"],
            "ordered by text"
        );
    }
}

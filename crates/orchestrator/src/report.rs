//! [`RunReport`]: what a run did, task by task, serde-serialisable.

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
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
    /// The agent its last attempt ran on, when the executor places attempts on agents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
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
///
/// The per-task rows ([`tasks`](RunReport::tasks)) are built from the run's records on first
/// read, by whoever reads them: a run ends without the orchestrator building rows for 100k tasks
/// that a caller checking [`is_success`](RunReport::is_success) or the
/// [`totals`](RunReport::totals) never reads, and the orchestrator's engine, which every run
/// shares, does not spend that time. Reading them once costs what building them eagerly did;
/// after that they are kept. Cloning, comparing, printing with `{:?}` and serialising read them
/// too. Until then, the report holds its run's per-task records (64 bytes a task) and a
/// reference to its workflow; once the rows are built, or the report is dropped, the records go
/// back to the orchestrator for its next runs.
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
    /// Every task, in declaration order: see [`tasks`](RunReport::tasks).
    pub(crate) tasks: TaskRows,
    /// The chain of tasks that decided the run's length.
    pub critical_path: CriticalPath,
    /// Counts.
    pub totals: Totals,
}

impl RunReport {
    /// Every task, in declaration order. Built on the first call (from the run's records, on the
    /// calling thread), then kept.
    ///
    /// ```
    /// use baton_orchestrator::{Orchestrator, Task, Workflow};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    ///
    /// let workflow = Workflow::builder("pair")
    ///     .task(Task::new("a", |_| async { Ok(()) }))
    ///     .task(Task::new("b", |_| async { Ok(()) }).needs(["a"]))
    ///     .build()?;
    /// let report = Orchestrator::builder().build()?.run(&workflow).await?;
    /// let ids: Vec<&str> = report.tasks().iter().map(|t| &*t.id).collect();
    /// assert_eq!(ids, ["a", "b"]);
    /// assert!(report.tasks().iter().all(|t| t.attempts == 1));
    /// # Ok(())
    /// # }
    /// ```
    pub fn tasks(&self) -> &[TaskReport] {
        self.tasks.get()
    }

    /// The rows, to change (to redact an error before sharing the report, say). Built first if
    /// they were not yet.
    ///
    /// ```
    /// use baton_orchestrator::{FailureMode, Orchestrator, Task, TaskError, Workflow};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let workflow = Workflow::builder("login")
    ///     .task(Task::new("auth", |_| async {
    ///         Err::<(), _>(TaskError::permanent("token abc123 rejected"))
    ///     }))
    ///     .failure_mode(FailureMode::Continue)
    ///     .build()?;
    /// let mut report = Orchestrator::builder().build()?.run(&workflow).await?;
    /// for task in report.tasks_mut() {
    ///     if task.error.is_some() {
    ///         task.error = Some("redacted".into());
    ///     }
    /// }
    /// assert_eq!(report.task("auth").and_then(|t| t.error.as_deref()), Some("redacted"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn tasks_mut(&mut self) -> &mut Vec<TaskReport> {
        self.tasks.get_mut()
    }

    /// The report of task `id`.
    pub fn task(&self, id: &str) -> Option<&TaskReport> {
        self.tasks().iter().find(|t| &*t.id == id)
    }

    /// Whether every task succeeded.
    pub fn is_success(&self) -> bool {
        self.outcome.is_success()
    }
}

/// Builds a report's rows, once.
type BuildRows = Box<dyn FnOnce() -> Vec<TaskReport> + Send>;

/// A report's rows: built on first read from what the engine handed over (see [`RunReport`]).
pub(crate) struct TaskRows {
    rows: OnceLock<Vec<TaskReport>>,
    /// Taken by the first read. A mutex, so that a report can be read from several threads.
    build: Mutex<Option<BuildRows>>,
}

impl TaskRows {
    /// Rows to build when first read.
    pub(crate) fn lazy(build: impl FnOnce() -> Vec<TaskReport> + Send + 'static) -> Self {
        Self {
            rows: OnceLock::new(),
            build: Mutex::new(Some(Box::new(build))),
        }
    }

    fn get(&self) -> &[TaskReport] {
        self.rows.get_or_init(|| {
            // A panic in a build (a bug) leaves nothing to take, and an empty report: no one
            // else panics for it.
            let build = self
                .build
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            build.map_or_else(Vec::new, |build| build())
        })
    }

    fn get_mut(&mut self) -> &mut Vec<TaskReport> {
        self.get();
        self.rows.get_mut().expect("built by the read above")
    }
}

impl From<Vec<TaskReport>> for TaskRows {
    fn from(rows: Vec<TaskReport>) -> Self {
        Self {
            rows: OnceLock::from(rows),
            build: Mutex::new(None),
        }
    }
}

impl Clone for TaskRows {
    fn clone(&self) -> Self {
        Self::from(self.get().to_vec())
    }
}

impl PartialEq for TaskRows {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for TaskRows {}

impl fmt::Debug for TaskRows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.get(), f)
    }
}

impl Serialize for TaskRows {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(s)
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
    use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

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

    fn row(id: &str) -> TaskReport {
        TaskReport {
            id: TaskName::from(id),
            state: TaskState::Succeeded,
            attempts: 1,
            priority: Priority::Normal,
            tags: Vec::new(),
            queued_at: None,
            started_at: None,
            ended_at: None,
            wait: Duration::ZERO,
            run_time: Duration::ZERO,
            error: None,
            agent: None,
            compensation: None,
        }
    }

    /// Rows with these ids, built lazily after `pause`, and a count of the builds.
    fn counted(ids: &'static [&'static str], pause: Duration) -> (TaskRows, Arc<AtomicU32>) {
        let builds = Arc::new(AtomicU32::new(0));
        let counted = Arc::clone(&builds);
        let rows = TaskRows::lazy(move || {
            counted.fetch_add(1, SeqCst);
            std::thread::sleep(pause);
            ids.iter().map(|id| row(id)).collect()
        });
        (rows, builds)
    }

    #[test]
    fn lazy_rows_are_built_once_on_first_read() {
        let (rows, builds) = counted(&["a", "b"], Duration::ZERO);
        assert_eq!(builds.load(SeqCst), 0, "not before a read");
        let read: Vec<&str> = rows.get().iter().map(|r| &*r.id).collect();
        assert_eq!(read, ["a", "b"]);
        assert_eq!(rows, TaskRows::from(vec![row("a"), row("b")]));
        let copy = rows.clone();
        assert_eq!(copy.get().len(), 2);
        assert_eq!(
            serde_json::to_value(&rows).unwrap()[1]["id"],
            "b",
            "serialised as the list of rows"
        );
        assert_eq!(builds.load(SeqCst), 1, "built once");
    }

    #[test]
    fn rows_read_from_many_threads_at_once_are_built_once() {
        let (rows, builds) = counted(&["a"], Duration::from_millis(5));
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| assert_eq!(rows.get().len(), 1));
            }
        });
        assert_eq!(builds.load(SeqCst), 1);
    }

    #[test]
    fn rows_can_be_changed_before_any_read() {
        let mut rows = TaskRows::lazy(|| vec![row("a")]);
        rows.get_mut()[0].error = Some("redacted".into());
        assert_eq!(rows.get()[0].error.as_deref(), Some("redacted"));
    }
}

//! Metrics through the `metrics` facade: whatever recorder the application installs (Prometheus,
//! StatsD, OpenTelemetry...) receives them. Handles are registered once, when the orchestrator is
//! built, so install the recorder before building it.
//!
//! | name | kind | labels | meaning |
//! | --- | --- | --- | --- |
//! | `baton_tasks_total` | counter | `state` | tasks that reached a final state |
//! | `baton_attempts_total` | counter | | attempts started (compensations included) |
//! | `baton_retries_total` | counter | | attempts scheduled after a failure |
//! | `baton_runs_total` | counter | `outcome` | runs that ended |
//! | `baton_runs_active` | gauge | | runs in progress |
//! | `baton_queue_depth` | gauge | | attempts waiting in the queue (delayed retries included) |
//! | `baton_workers_busy` | gauge | | attempts running on the executor |
//! | `baton_task_queue_wait_seconds` | histogram | | time from queued to started, per attempt |
//! | `baton_task_run_seconds` | histogram | | time from started to ended, per attempt |

use baton_queue::TaskState;
use metrics::{Counter, Gauge, Histogram, Unit};

use crate::report::RunOutcome;

/// The orchestrator's metric handles.
#[derive(Debug)]
pub(crate) struct Metrics {
    succeeded: Counter,
    failed: Counter,
    timed_out: Counter,
    cancelled: Counter,
    skipped: Counter,
    compensated: Counter,
    pub(crate) attempts: Counter,
    pub(crate) retries: Counter,
    runs_succeeded: Counter,
    runs_failed: Counter,
    runs_cancelled: Counter,
    runs_timed_out: Counter,
    pub(crate) runs_active: Gauge,
    pub(crate) queue_depth: Gauge,
    pub(crate) workers_busy: Gauge,
    pub(crate) queue_wait: Histogram,
    pub(crate) run_time: Histogram,
}

impl Metrics {
    /// Registers every handle with the recorder installed now (the no-op one if none is).
    pub(crate) fn register() -> Self {
        metrics::describe_counter!(
            "baton_tasks_total",
            Unit::Count,
            "Tasks that reached a final state, by state"
        );
        metrics::describe_counter!("baton_attempts_total", Unit::Count, "Attempts started");
        metrics::describe_counter!(
            "baton_retries_total",
            Unit::Count,
            "Attempts scheduled after a failure"
        );
        metrics::describe_counter!(
            "baton_runs_total",
            Unit::Count,
            "Runs that ended, by outcome"
        );
        metrics::describe_gauge!("baton_runs_active", Unit::Count, "Runs in progress");
        metrics::describe_gauge!(
            "baton_queue_depth",
            Unit::Count,
            "Attempts waiting in the queue, delayed retries included"
        );
        metrics::describe_gauge!(
            "baton_workers_busy",
            Unit::Count,
            "Attempts running on the executor"
        );
        metrics::describe_histogram!(
            "baton_task_queue_wait_seconds",
            Unit::Seconds,
            "Time from queued to started, per attempt"
        );
        metrics::describe_histogram!(
            "baton_task_run_seconds",
            Unit::Seconds,
            "Time from started to ended, per attempt"
        );
        let task = |state: &'static str| metrics::counter!("baton_tasks_total", "state" => state);
        let run =
            |outcome: &'static str| metrics::counter!("baton_runs_total", "outcome" => outcome);
        Self {
            succeeded: task("succeeded"),
            failed: task("failed"),
            timed_out: task("timed_out"),
            cancelled: task("cancelled"),
            skipped: task("skipped"),
            compensated: task("compensated"),
            attempts: metrics::counter!("baton_attempts_total"),
            retries: metrics::counter!("baton_retries_total"),
            runs_succeeded: run("succeeded"),
            runs_failed: run("failed"),
            runs_cancelled: run("cancelled"),
            runs_timed_out: run("timed_out"),
            runs_active: metrics::gauge!("baton_runs_active"),
            queue_depth: metrics::gauge!("baton_queue_depth"),
            workers_busy: metrics::gauge!("baton_workers_busy"),
            queue_wait: metrics::histogram!("baton_task_queue_wait_seconds"),
            run_time: metrics::histogram!("baton_task_run_seconds"),
        }
    }

    /// Counts a task that reached a final state (`Succeeded` is counted when it is reached, and
    /// again as `compensated` if a saga later undoes it; the counter is of transitions).
    pub(crate) fn task_ended(&self, state: TaskState) {
        let counter = match state {
            TaskState::Succeeded => &self.succeeded,
            TaskState::Failed => &self.failed,
            TaskState::TimedOut => &self.timed_out,
            TaskState::Cancelled => &self.cancelled,
            TaskState::Skipped => &self.skipped,
            TaskState::Compensated => &self.compensated,
            _ => return,
        };
        counter.increment(1);
    }

    pub(crate) fn run_ended(&self, outcome: &RunOutcome) {
        let counter = match outcome {
            RunOutcome::Succeeded => &self.runs_succeeded,
            RunOutcome::Failed { .. } => &self.runs_failed,
            RunOutcome::Cancelled => &self.runs_cancelled,
            RunOutcome::TimedOut { .. } => &self.runs_timed_out,
        };
        counter.increment(1);
    }
}

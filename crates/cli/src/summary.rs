//! The summary printed when a run ends: a table of tasks (state, attempts, duration), the log
//! tails of the tasks that failed, the rollback, and the outcome line.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use baton_orchestrator::{RunOutcome, RunReport, TaskState};

/// How many lines of a failed task's log the summary shows.
pub(crate) const TAIL_LINES: usize = 10;

/// One row of the summary table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    /// The task's id.
    pub(crate) task: String,
    /// Its final state.
    pub(crate) state: TaskState,
    /// Attempts started.
    pub(crate) attempts: u32,
    /// Time spent running, over all attempts.
    pub(crate) duration: Duration,
}

impl Row {
    /// A row.
    pub(crate) fn new(
        task: impl Into<String>,
        state: TaskState,
        attempts: u32,
        duration: Duration,
    ) -> Self {
        Self {
            task: task.into(),
            state,
            attempts,
            duration,
        }
    }
}

/// The rows of a report, in declaration order.
pub(crate) fn rows(report: &RunReport) -> Vec<Row> {
    report
        .tasks()
        .iter()
        .map(|t| Row::new(&*t.id, t.state, t.attempts, t.run_time))
        .collect()
}

/// A duration for people: `0.25s`, `12.00s`, `3m05s`, `1h02m`.
pub(crate) fn human(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 60 {
        format!("{:.2}s", d.as_secs_f64())
    } else if secs < 3600 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60)
    }
}

/// The task table: a header, then one aligned row per task.
pub(crate) fn table(rows: &[Row]) -> String {
    let task_width = rows
        .iter()
        .map(|r| r.task.chars().count())
        .chain([4])
        .max()
        .unwrap_or(4);
    let state_width = rows
        .iter()
        .map(|r| r.state.as_str().len())
        .chain([5])
        .max()
        .unwrap_or(5);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<task_width$}  {:<state_width$}  ATTEMPTS  DURATION",
        "TASK", "STATE"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<task_width$}  {:<state_width$}  {:>8}  {:>8}",
            r.task,
            r.state.as_str(),
            r.attempts,
            human(r.duration)
        );
    }
    out
}

/// The last `n` lines of `text`.
pub(crate) fn tail(text: &str, n: usize) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
}

/// The whole summary of `report`: the table, the log tail of each task that failed or timed out
/// (read from `logs`, the run directory, where a task's log is `log_name(id)`), the rollback,
/// the outcome line, and where the logs are. `interrupted` says the run was cancelled by a signal.
pub(crate) fn render(
    report: &RunReport,
    logs: &Path,
    log_name: impl Fn(&str) -> String,
    interrupted: bool,
) -> String {
    let mut out = table(&rows(report));
    for task in report.tasks() {
        if !matches!(task.state, TaskState::Failed | TaskState::TimedOut) {
            continue;
        }
        let path = logs.join(log_name(&task.id));
        let _ = writeln!(out);
        match &task.error {
            Some(error) => {
                let _ = writeln!(out, "{} {}: {error}", task.id, task.state);
            }
            None => {
                let _ = writeln!(out, "{} {}", task.id, task.state);
            }
        }
        match std::fs::read(&path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                let lines = tail(&text, TAIL_LINES);
                if lines.is_empty() {
                    let _ = writeln!(out, "  (its log {} is empty)", path.display());
                } else {
                    let _ = writeln!(out, "  last lines of {}:", path.display());
                    for line in lines {
                        let _ = writeln!(out, "  | {line}");
                    }
                }
            }
            Err(error) => {
                let _ = writeln!(out, "  (no log at {}: {error})", path.display());
            }
        }
    }
    if let Some(rollback) = &report.rollback {
        let _ = writeln!(out);
        let list = |tasks: &[String]| {
            if tasks.is_empty() {
                "none".to_owned()
            } else {
                tasks.join(", ")
            }
        };
        let _ = writeln!(out, "rollback: compensated {}", list(&rollback.compensated));
        if !rollback.failed.is_empty() {
            let _ = writeln!(
                out,
                "rollback: compensation FAILED for {} (their effects remain)",
                list(&rollback.failed)
            );
        }
        if !rollback.blocked.is_empty() {
            let _ = writeln!(
                out,
                "rollback: not compensated (blocked by a failed compensation): {}",
                list(&rollback.blocked)
            );
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", outcome_line(report, interrupted));
    let _ = writeln!(out, "logs: {}", logs.display());
    out
}

/// `workflow "release" succeeded: 5 tasks in 1.23s (5 succeeded)`, or failed, cancelled...
pub(crate) fn outcome_line(report: &RunReport, interrupted: bool) -> String {
    let t = &report.totals;
    let outcome = match &report.outcome {
        RunOutcome::Cancelled if interrupted => "was interrupted".to_owned(),
        RunOutcome::Succeeded => "succeeded".to_owned(),
        other => other.to_string(),
    };
    let mut counts = Vec::new();
    for (n, what) in [
        (t.succeeded, "succeeded"),
        (t.failed, "failed"),
        (t.timed_out, "timed out"),
        (t.cancelled, "cancelled"),
        (t.skipped, "skipped"),
        (t.compensated, "compensated"),
    ] {
        if n > 0 {
            counts.push(format!("{n} {what}"));
        }
    }
    if t.retries > 0 {
        counts.push(format!("{} retries", t.retries));
    }
    format!(
        "workflow \"{}\" {outcome}: {} tasks in {} ({})",
        report.workflow,
        t.tasks,
        human(report.duration),
        counts.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_orchestrator::{FailureMode, Orchestrator, Task, TaskError, Workflow};

    #[test]
    fn durations_read_well() {
        assert_eq!(human(Duration::ZERO), "0.00s");
        assert_eq!(human(Duration::from_millis(59_994)), "59.99s");
        assert_eq!(human(Duration::from_secs(60)), "1m00s");
        assert_eq!(human(Duration::from_secs(7322)), "2h02m");
        assert_eq!(human(Duration::from_millis(250)), "0.25s");
        assert_eq!(human(Duration::from_secs(185)), "3m05s");
    }

    #[test]
    fn tails_keep_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), ["b", "c"]);
        assert_eq!(tail("a\nb", 10), ["a", "b"]);
        assert!(tail("", 3).is_empty());
    }

    #[test]
    fn the_table_aligns_its_columns() {
        let text = table(&[
            Row::new(
                "build",
                TaskState::Succeeded,
                1,
                Duration::from_millis(1500),
            ),
            Row::new("test", TaskState::Skipped, 0, Duration::ZERO),
        ]);
        assert_eq!(
            text,
            "TASK   STATE      ATTEMPTS  DURATION\n\
             build  succeeded         1     1.50s\n\
             test   skipped           0     0.00s\n"
        );
    }

    #[test]
    fn long_names_widen_the_columns() {
        let text = table(&[Row::new(
            "a-long-task-name",
            TaskState::Compensated,
            12,
            Duration::from_secs(61),
        )]);
        assert_eq!(
            text,
            "TASK              STATE        ATTEMPTS  DURATION\n\
             a-long-task-name  compensated        12     1m01s\n"
        );
    }

    #[tokio::test]
    async fn the_summary_shows_failures_with_their_log_tail() {
        let dir = std::env::temp_dir().join(format!("baton-summary-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log: String = (1..=12).map(|i| format!("line {i}\n")).collect();
        std::fs::write(dir.join("bad.log"), log).unwrap();
        let orchestrator = Orchestrator::builder().workers(2).build().unwrap();
        let workflow = Workflow::builder("demo")
            .task(Task::new("good", |_| async { Ok(()) }))
            .task(Task::new("bad", |_| async {
                Err::<(), _>(TaskError::permanent("exit status 1"))
            }))
            .task(Task::new("after", |_| async { Ok(()) }).needs(["bad"]))
            .failure_mode(FailureMode::Continue)
            .build()
            .unwrap();
        let report = orchestrator.run(&workflow).await.unwrap();
        let text = render(&report, &dir, |id| format!("{id}.log"), false);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(text.contains("\nbad failed: exit status 1\n"), "{text}");
        assert!(
            text.contains("  | line 3\n") && text.contains("  | line 12\n"),
            "{text}"
        );
        assert!(!text.contains("  | line 2\n"), "{text}");
        assert!(text.contains("after  skipped "), "{text}");
        let outcome = format!(
            "workflow \"demo\" failed (bad): 3 tasks in {} (1 succeeded, 1 failed, 1 skipped)",
            human(report.duration)
        );
        assert!(text.contains(&outcome), "{text}");
        assert!(
            text.ends_with(&format!("logs: {}\n", dir.display())),
            "{text}"
        );
    }
}

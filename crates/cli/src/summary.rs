//! The summary printed when a run ends: a table of tasks (state, attempts, duration), the log
//! tails of the tasks that failed, the rollback, and the outcome line.
//!
//! Its size is bounded whatever the run's: a run of more than [`ROWS`] tasks shows only the
//! rows of the tasks that failed or timed out (at most [`ROWS`] of them) and a count of the rest
//! by state (`--all` shows every row); at most [`TAILS`] log tails are shown; lists of tasks are
//! cut after [`LISTED`] names. Every user string (ids, names, errors, log lines) is escaped for
//! the terminal.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use baton_orchestrator::{RunOutcome, RunReport, TaskReport, TaskState};

use crate::escape::terminal;
use crate::logs::{log_name, tail};

/// How many lines of a failed task's log the summary shows.
pub(crate) const TAIL_LINES: usize = 10;
/// A run of at most this many tasks shows every row; a larger one, at most this many failures.
pub(crate) const ROWS: usize = 30;
/// At most this many failed tasks get their log tail shown.
const TAILS: usize = 5;
/// Lists of task ids (in the rollback and outcome lines) show at most this many names.
const LISTED: usize = 10;

/// `n` and `noun`, in the plural unless `n` is 1: `1 task`, `2 tasks`.
pub(crate) fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
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

/// The task table: a header, then one aligned row per task (ids escaped for the terminal), with
/// an AGENT column when a task ran on an agent.
pub(crate) fn table<'r>(rows: impl IntoIterator<Item = &'r TaskReport>) -> String {
    let rows: Vec<(std::borrow::Cow<'_, str>, &TaskReport)> =
        rows.into_iter().map(|t| (terminal(&t.id), t)).collect();
    let task_width = rows
        .iter()
        .map(|(id, _)| id.chars().count())
        .chain([4])
        .max()
        .unwrap_or(4);
    let state_width = rows
        .iter()
        .map(|(_, t)| t.state.as_str().len())
        .chain([5])
        .max()
        .unwrap_or(5);
    let agents = rows.iter().any(|(_, t)| t.agent.is_some());
    let mut out = String::new();
    let _ = write!(
        out,
        "{:<task_width$}  {:<state_width$}  ATTEMPTS  DURATION",
        "TASK", "STATE"
    );
    out.push_str(if agents { "  AGENT\n" } else { "\n" });
    for (id, t) in rows {
        let _ = write!(
            out,
            "{id:<task_width$}  {:<state_width$}  {:>8}  {:>8}",
            t.state.as_str(),
            t.attempts,
            human(t.run_time)
        );
        match (&t.agent, agents) {
            (Some(agent), _) => {
                let _ = writeln!(out, "  {}", terminal(agent));
            }
            (None, true) => out.push_str("  -\n"),
            (None, false) => out.push('\n'),
        }
    }
    out
}

/// Whether a task's end is one the summary shows in detail.
fn failed(task: &TaskReport) -> bool {
    matches!(task.state, TaskState::Failed | TaskState::TimedOut)
}

/// The whole summary of `report`: the table (every row with `all`, else as the module docs say),
/// the log tail of each task that failed or timed out (read from `logs`, the run directory), the
/// rollback, the outcome line, and where the logs are. `interrupted` says the run was cancelled
/// by a signal.
pub(crate) fn render(report: &RunReport, logs: &Path, all: bool, interrupted: bool) -> String {
    let tasks = report.tasks();
    let mut out = if all || tasks.len() <= ROWS {
        table(tasks.iter())
    } else {
        let shown: Vec<&TaskReport> = tasks.iter().filter(|t| failed(t)).take(ROWS).collect();
        let mut out = if shown.is_empty() {
            String::new()
        } else {
            table(shown.iter().copied())
        };
        let _ = writeln!(
            out,
            "({} not shown: {}; `baton run --all` shows every row)",
            count(
                tasks.len().saturating_sub(shown.len()) as u64,
                "task",
                "tasks"
            ),
            state_counts(tasks.iter().filter(|t| !shown.iter().any(|s| s.id == t.id)))
        );
        out
    };
    let failures: Vec<&TaskReport> = tasks.iter().filter(|t| failed(t)).collect();
    for task in failures.iter().take(TAILS) {
        let _ = writeln!(out);
        let id = terminal(&task.id);
        match &task.error {
            Some(error) => {
                let _ = writeln!(out, "{id} {}: {}", task.state, terminal(error));
            }
            None => {
                let _ = writeln!(out, "{id} {}", task.state);
            }
        }
        let path = logs.join(log_name(&task.id));
        let shown_path = terminal(&path.to_string_lossy()).into_owned();
        match tail(&path, TAIL_LINES) {
            Ok(tail) if tail.lines.is_empty() => {
                let _ = writeln!(out, "  (its log {shown_path} is empty)");
            }
            Ok(tail) => {
                let _ = writeln!(out, "  last lines of {shown_path}:");
                for line in &tail.lines {
                    let _ = writeln!(out, "  | {}", terminal(line));
                }
            }
            Err(error) => {
                let _ = writeln!(out, "  (no log at {shown_path}: {error})");
            }
        }
    }
    if failures.len() > TAILS {
        let _ = writeln!(
            out,
            "\n(the logs of the other {} are in {})",
            count(
                (failures.len() - TAILS) as u64,
                "failed task",
                "failed tasks"
            ),
            terminal(&logs.to_string_lossy())
        );
    }
    if let Some(rollback) = &report.rollback {
        let _ = writeln!(out);
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
    let _ = writeln!(out, "logs: {}", terminal(&logs.to_string_lossy()));
    out
}

/// `a, b, c`, or `none`, cut after [`LISTED`] names (`..., and 5 more`), escaped.
fn list(tasks: &[String]) -> String {
    if tasks.is_empty() {
        return "none".to_owned();
    }
    let mut text = tasks
        .iter()
        .take(LISTED)
        .map(|t| terminal(t).into_owned())
        .collect::<Vec<_>>()
        .join(", ");
    if tasks.len() > LISTED {
        let _ = write!(text, ", and {} more", tasks.len() - LISTED);
    }
    text
}

/// `3 succeeded, 1 skipped`: how many of `tasks` ended in each state, in a fixed order.
fn state_counts<'r>(tasks: impl Iterator<Item = &'r TaskReport>) -> String {
    let mut counts = [0u64; 6];
    const STATES: [TaskState; 6] = [
        TaskState::Succeeded,
        TaskState::Failed,
        TaskState::TimedOut,
        TaskState::Cancelled,
        TaskState::Skipped,
        TaskState::Compensated,
    ];
    for task in tasks {
        if let Some(i) = STATES.iter().position(|s| *s == task.state) {
            counts[i] += 1;
        }
    }
    let parts: Vec<String> = STATES
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(state, n)| format!("{n} {}", state_words(*state)))
        .collect();
    parts.join(", ")
}

fn state_words(state: TaskState) -> &'static str {
    match state {
        TaskState::TimedOut => "timed out",
        other => other.as_str(),
    }
}

/// How a run ended, for people: `succeeded`, `failed (a, b)` (cut after [`LISTED`] names),
/// `timed out (the workflow's timeout of 30s passed)`, `cancelled`; escaped.
pub(crate) fn outcome_text(outcome: &RunOutcome) -> String {
    match outcome {
        RunOutcome::Succeeded => "succeeded".to_owned(),
        RunOutcome::Failed { tasks } => format!("failed ({})", list(tasks)),
        RunOutcome::TimedOut { after } => format!(
            "timed out (the workflow's timeout of {} passed)",
            humantime::format_duration(*after)
        ),
        other => terminal(&other.to_string()).into_owned(),
    }
}

/// `workflow "release" succeeded: 5 tasks in 1.23s (5 succeeded)`, or failed, cancelled...
pub(crate) fn outcome_line(report: &RunReport, interrupted: bool) -> String {
    let t = &report.totals;
    let outcome = match &report.outcome {
        RunOutcome::Cancelled if interrupted => "was interrupted".to_owned(),
        other => outcome_text(other),
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
        counts.push(count(t.retries, "retry", "retries"));
    }
    format!(
        "workflow \"{}\" {outcome}: {} in {} ({})",
        terminal(&report.workflow),
        count(t.tasks as u64, "task", "tasks"),
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
    fn counts_agree_with_their_number() {
        assert_eq!(count(1u64, "task", "tasks"), "1 task");
        assert_eq!(count(0u64, "task", "tasks"), "0 tasks");
        assert_eq!(count(2u32, "retry", "retries"), "2 retries");
    }

    async fn report_of(workflow: &Workflow) -> RunReport {
        let orchestrator = Orchestrator::builder().workers(2).build().unwrap();
        orchestrator.run(workflow).await.unwrap()
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("baton-summary-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[tokio::test]
    async fn the_table_aligns_its_columns_and_escapes_ids() {
        let workflow = Workflow::builder("demo")
            .task(Task::new("build", |_| async { Ok(()) }))
            .task(Task::new("a-long-task-name", |_| async { Ok(()) }))
            .task(Task::new("evil\x1b[2J\nFORGED", |_| async { Ok(()) }))
            .build()
            .unwrap();
        let report = report_of(&workflow).await;
        let text = table(report.tasks().iter());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        // The escaped id is the widest: 21 characters.
        assert_eq!(
            lines[0],
            "TASK                   STATE      ATTEMPTS  DURATION"
        );
        assert!(lines[1].starts_with("build                  succeeded         1 "));
        assert!(
            lines[3].starts_with("evil\\u{1b}[2J\\nFORGED  succeeded "),
            "{text}"
        );
        assert!(!text.contains('\x1b'));
    }

    #[tokio::test]
    async fn the_summary_shows_failures_with_their_log_tail() {
        let dir = scratch("tail");
        let log: String = (1..=12).map(|i| format!("line {i}\n")).collect();
        std::fs::write(dir.join("bad.log"), log + "\x1b]0;owned\x07\n").unwrap();
        let workflow = Workflow::builder("demo")
            .task(Task::new("good", |_| async { Ok(()) }))
            .task(Task::new("bad", |_| async {
                Err::<(), _>(TaskError::permanent("exit status 1"))
            }))
            .task(Task::new("after", |_| async { Ok(()) }).needs(["bad"]))
            .failure_mode(FailureMode::Continue)
            .build()
            .unwrap();
        let report = report_of(&workflow).await;
        let text = render(&report, &dir, false, false);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(text.contains("\nbad failed: exit status 1\n"), "{text}");
        assert!(
            text.contains("  | line 4\n") && text.contains("  | line 12\n"),
            "{text}"
        );
        assert!(!text.contains("  | line 3\n"), "{text}");
        assert!(text.contains("  | \\u{1b}]0;owned\\u{7}\n"), "{text}");
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

    #[tokio::test]
    async fn a_large_run_shows_its_failures_and_counts_the_rest() {
        let dir = scratch("large");
        let mut builder = Workflow::builder("large").failure_mode(FailureMode::Continue);
        for i in 0..200 {
            builder = builder.task(Task::new(format!("ok{i}"), |_| async { Ok(()) }));
        }
        for i in 0..40 {
            builder = builder.task(Task::new(format!("bad{i}"), |_| async {
                Err::<(), _>(TaskError::permanent("exit status 2"))
            }));
        }
        let workflow = builder
            .task(Task::new("after", |_| async { Ok(()) }).needs(["bad0"]))
            .build()
            .unwrap();
        let report = report_of(&workflow).await;
        let text = render(&report, &dir, false, false);
        let rows = text
            .lines()
            .filter(|l| l.starts_with("bad") && l.contains("  failed  "))
            .count();
        assert_eq!(rows, ROWS, "{text}");
        assert!(
            text.contains("(211 tasks not shown: 200 succeeded, 10 failed, 1 skipped; `baton run --all` shows every row)"),
            "{text}"
        );
        assert_eq!(
            text.matches("  last lines of ").count() + text.matches("(no log at").count(),
            TAILS
        );
        assert!(
            text.contains("(the logs of the other 35 failed tasks are in "),
            "{text}"
        );
        assert!(text.contains(", and 30 more): 241 tasks in "), "{text}");
        let all = render(&report, &dir, true, false);
        assert_eq!(all.lines().filter(|l| l.starts_with("ok")).count(), 200);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

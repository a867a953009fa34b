//! Progress while a workflow runs: a live status line on a terminal, one timestamped line per
//! event otherwise, JSON events, or nothing.

use std::collections::BTreeSet;
use std::io::Write;
use std::time::Duration;

use baton_orchestrator::{Event, EventKind};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Nothing (`--quiet`).
    Quiet,
    /// One JSON object per event on stdout (`--json`).
    Json,
    /// One timestamped line per task event on stderr (stderr is not a terminal).
    Lines,
    /// A compact status line on stderr, redrawn in place, plus a line for each failure
    /// (stderr is a terminal).
    Live,
}

/// Shows a run's events as they come.
#[derive(Debug)]
pub(crate) struct Progress {
    mode: Mode,
    width: usize,
    total: usize,
    done: usize,
    running: BTreeSet<String>,
    drawn: bool,
}

impl Progress {
    /// Progress in `mode` for a workflow with these task ids.
    pub(crate) fn new<'a>(mode: Mode, task_ids: impl IntoIterator<Item = &'a str>) -> Self {
        let (mut width, mut total) = (10, 0);
        for id in task_ids {
            width = width.max(id.chars().count());
            total += 1;
        }
        Self {
            mode,
            width,
            total,
            done: 0,
            running: BTreeSet::new(),
            drawn: false,
        }
    }

    /// Shows one event (write errors, such as a closed pipe, are ignored: progress is a courtesy).
    pub(crate) fn event(&mut self, event: &Event) {
        self.track(event);
        match self.mode {
            Mode::Quiet => {}
            Mode::Json => {
                if let Ok(json) = serde_json::to_string(event) {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{json}");
                    let _ = out.flush();
                }
            }
            Mode::Lines => {
                if let Some(line) = line(event, self.width) {
                    let _ = writeln!(std::io::stderr().lock(), "{line}");
                }
            }
            Mode::Live => {
                let mut err = std::io::stderr().lock();
                let lasting = matches!(
                    event.kind,
                    EventKind::Retrying { .. }
                        | EventKind::Failed { .. }
                        | EventKind::TimedOut { .. }
                        | EventKind::CompensationFailed { .. }
                        | EventKind::RunStarted { .. }
                );
                let _ = write!(err, "\r\x1b[2K");
                if lasting && let Some(line) = line(event, self.width) {
                    let _ = writeln!(err, "{line}");
                }
                if matches!(event.kind, EventKind::RunFinished { .. }) {
                    self.drawn = false;
                } else {
                    let _ = write!(err, "{}", self.status(event.at));
                    self.drawn = true;
                }
                let _ = err.flush();
            }
        }
    }

    /// Clears the live status line, if one is drawn.
    pub(crate) fn finish(&mut self) {
        if self.drawn {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
            self.drawn = false;
        }
    }

    fn track(&mut self, event: &Event) {
        let Some(task) = event.task.as_deref() else {
            return;
        };
        match event.kind {
            EventKind::Started { .. } | EventKind::Compensating => {
                self.running.insert(task.to_owned());
            }
            EventKind::Retrying { .. } => {
                self.running.remove(task);
            }
            EventKind::Succeeded { .. }
            | EventKind::Failed { .. }
            | EventKind::TimedOut { .. }
            | EventKind::Cancelled
            | EventKind::Skipped { .. } => {
                self.running.remove(task);
                self.done += 1;
            }
            EventKind::Compensated { .. } | EventKind::CompensationFailed { .. } => {
                self.running.remove(task);
            }
            _ => {}
        }
    }

    /// The live status line: elapsed time, an overall bar, tasks done out of all, the running
    /// ones.
    pub(crate) fn status(&self, at: Duration) -> String {
        const BAR: usize = 20;
        let done = self.done.min(self.total);
        let filled = (done * BAR).checked_div(self.total).unwrap_or(BAR);
        let mut line = format!(
            "[{:>7}] [{}{}] {}/{} done",
            seconds(at),
            "#".repeat(filled),
            ".".repeat(BAR - filled),
            done,
            self.total
        );
        if !self.running.is_empty() {
            line.push_str(", running: ");
            let names: Vec<&str> = self.running.iter().map(String::as_str).collect();
            line.push_str(&names.join(", "));
        }
        const MAX: usize = 120;
        if line.chars().count() > MAX {
            line = line.chars().take(MAX - 3).collect::<String>() + "...";
        }
        line
    }
}

/// `12.34s`.
fn seconds(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}

/// The line shown for an event when stderr is not a terminal, e.g.
/// `[  0.25s] build      started (attempt 1)`; the task column is `width` wide.
pub(crate) fn line(event: &Event, width: usize) -> Option<String> {
    let at = format!("[{:>7}]", seconds(event.at));
    let task = event.task.as_deref().unwrap_or("");
    let what = match &event.kind {
        EventKind::RunStarted { workflow, tasks } => {
            return Some(format!(
                "{at} run started: workflow \"{workflow}\", {tasks} tasks"
            ));
        }
        EventKind::RunFinished { outcome } => {
            return Some(format!("{at} run finished: {outcome}"));
        }
        EventKind::Queued { priority } => format!("queued (priority {priority})"),
        EventKind::Started { attempt } => format!("started (attempt {attempt})"),
        EventKind::Succeeded { attempt } => format!("succeeded (attempt {attempt})"),
        EventKind::Retrying {
            attempt,
            error,
            delay,
        } => format!(
            "attempt {attempt} failed: {error}; retrying in {}",
            seconds(*delay)
        ),
        EventKind::Failed { attempt, error } => {
            format!("failed (attempt {attempt}): {error}")
        }
        EventKind::TimedOut { attempt } => format!("timed out (attempt {attempt})"),
        EventKind::Cancelled => "cancelled".to_owned(),
        EventKind::Skipped { reason } => format!("skipped: {reason}"),
        EventKind::Compensating => "compensating".to_owned(),
        EventKind::CompensationStarted { attempt } => {
            format!("compensation started (attempt {attempt})")
        }
        EventKind::CompensationRetrying {
            attempt,
            error,
            delay,
        } => format!(
            "compensation attempt {attempt} failed: {error}; retrying in {}",
            seconds(*delay)
        ),
        EventKind::Compensated { attempts } => format!("compensated ({attempts} attempts)"),
        EventKind::CompensationFailed { attempts, error } => {
            format!("compensation failed ({attempts} attempts): {error}")
        }
        other => format!("{other:?}"),
    };
    Some(format!("{at} {task:<width$} {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_orchestrator::{Orchestrator, Task, TaskError, Workflow};

    /// The events of a real run: `a` succeeds, `b` fails, `c` (after `b`) is skipped.
    async fn events() -> Vec<Event> {
        let orchestrator = Orchestrator::builder().workers(2).build().unwrap();
        let mut events = orchestrator.subscribe();
        let workflow = Workflow::builder("demo")
            .task(Task::new("a", |_| async { Ok(()) }))
            .task(Task::new("b", |_| async {
                Err::<(), _>(TaskError::permanent("exit status 3"))
            }))
            .task(Task::new("c", |_| async { Ok(()) }).needs(["b"]))
            .failure_mode(baton_orchestrator::FailureMode::Continue)
            .build()
            .unwrap();
        orchestrator.run(&workflow).await.unwrap();
        events.drain()
    }

    // Without tokio's `test-util` (no dev-dependencies here) the clock is real: the tests check
    // what follows the timestamp, and the timestamp's shape.
    #[tokio::test]
    async fn lines_name_the_task_and_what_happened() {
        let events = events().await;
        let lines: Vec<String> = events.iter().filter_map(|e| line(e, 4)).collect();
        assert_eq!(lines.len(), events.len());
        for (line, event) in lines.iter().zip(&events) {
            assert!(
                line.starts_with(&format!("[{:>7}] ", seconds(event.at))),
                "{line}"
            );
        }
        let texts: Vec<&str> = lines.iter().map(|l| &l[10..]).collect();
        assert_eq!(texts[0], "run started: workflow \"demo\", 3 tasks");
        assert!(texts.contains(&"a    started (attempt 1)"), "{texts:#?}");
        assert!(
            texts.contains(&"b    failed (attempt 1): exit status 3"),
            "{texts:#?}"
        );
        assert!(
            texts.iter().any(|l| l.starts_with("c    skipped: ")),
            "{texts:#?}"
        );
        assert_eq!(
            texts.last(),
            Some(&"run finished: failed (b)"),
            "{texts:#?}"
        );
    }

    #[tokio::test]
    async fn the_status_line_counts_done_and_running_tasks() {
        let mut progress = Progress::new(Mode::Quiet, ["a", "b", "c"]);
        assert_eq!(
            progress.status(Duration::ZERO),
            "[  0.00s] [....................] 0/3 done"
        );
        let events = events().await;
        let started = events
            .iter()
            .position(|e| matches!(e.kind, EventKind::Started { .. }))
            .unwrap();
        for e in &events[..=started] {
            progress.event(e);
        }
        let running = events[started].task.as_deref().unwrap().to_owned();
        assert_eq!(
            progress.status(Duration::from_millis(1500)),
            format!("[  1.50s] [....................] 0/3 done, running: {running}")
        );
        for e in &events[started + 1..] {
            progress.event(e);
        }
        assert_eq!(
            progress.status(Duration::from_secs(2)),
            "[  2.00s] [####################] 3/3 done"
        );
    }
}

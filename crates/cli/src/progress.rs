//! Progress while a workflow runs: a live status line on a terminal, one timestamped line per
//! event otherwise, JSON events, or nothing.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use baton_orchestrator::{Event, EventKind};

use crate::escape::terminal;
use crate::summary::{count, outcome_text};

/// How often the live status line is redrawn while no event comes, so that its clock ticks and a
/// hung run looks different from a busy one.
const TICK: Duration = Duration::from_millis(200);
/// The longest live status line, in characters.
const STATUS_CHARS: usize = 120;

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

/// What the progress display is sent while a run goes on.
#[derive(Debug)]
pub(crate) enum Update {
    /// An orchestrator event.
    Event(Event),
    /// A message of `baton`'s own (a signal was received, say), shown on a line of its own.
    Notice(String),
}

/// Where progress goes: stdout (JSON events) and stderr (everything else), or buffers in tests.
type Sink = Box<dyn Write + Send>;

/// Shows a run's events as they come.
pub(crate) struct Progress {
    mode: Mode,
    out: Sink,
    err: Sink,
    width: usize,
    total: usize,
    done: usize,
    running: BTreeSet<String>,
    drawn: bool,
    /// When the run started, on this process's clock (from the first event's offset).
    started: Option<Instant>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("mode", &self.mode)
            .field("done", &self.done)
            .field("total", &self.total)
            .finish_non_exhaustive()
    }
}

impl Progress {
    /// Progress in `mode` for a workflow with these task ids.
    pub(crate) fn new<'a>(mode: Mode, task_ids: impl IntoIterator<Item = &'a str>) -> Self {
        Self::with_sinks(
            mode,
            task_ids,
            Box::new(std::io::stdout()),
            Box::new(std::io::stderr()),
        )
    }

    /// Progress writing to `out` and `err` in place of stdout and stderr.
    fn with_sinks<'a>(
        mode: Mode,
        task_ids: impl IntoIterator<Item = &'a str>,
        out: Sink,
        err: Sink,
    ) -> Self {
        let (mut width, mut total) = (10, 0);
        for id in task_ids {
            width = width.max(terminal(id).chars().count());
            total += 1;
        }
        Self {
            mode,
            out,
            err,
            width,
            total,
            done: 0,
            running: BTreeSet::new(),
            drawn: false,
            started: None,
        }
    }

    /// Shows updates from `updates` until the run finishes or the sender goes, redrawing the live
    /// line every [`TICK`] meanwhile; then clears it.
    pub(crate) fn show(&mut self, updates: &Receiver<Update>, mut also: impl FnMut(&Event)) {
        loop {
            match updates.recv_timeout(TICK) {
                Ok(Update::Event(event)) => {
                    also(&event);
                    self.event(&event);
                    if matches!(event.kind, EventKind::RunFinished { .. }) {
                        break;
                    }
                }
                Ok(Update::Notice(text)) => self.notice(&text),
                Err(RecvTimeoutError::Timeout) => self.tick(),
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        self.finish();
    }

    /// Shows one event (write errors, such as a closed pipe, are ignored: progress is a courtesy).
    pub(crate) fn event(&mut self, event: &Event) {
        self.started.get_or_insert_with(|| {
            Instant::now()
                .checked_sub(event.at)
                .unwrap_or_else(Instant::now)
        });
        self.track(event);
        match self.mode {
            Mode::Quiet => {}
            Mode::Json => {
                if let Ok(json) = serde_json::to_string(event) {
                    let _ = writeln!(self.out, "{json}");
                    let _ = self.out.flush();
                }
            }
            Mode::Lines => {
                if let Some(line) = line(event, self.width) {
                    let _ = writeln!(self.err, "{line}");
                }
            }
            Mode::Live => {
                let lasting = matches!(
                    event.kind,
                    EventKind::Retrying { .. }
                        | EventKind::Failed { .. }
                        | EventKind::TimedOut { .. }
                        | EventKind::CompensationFailed { .. }
                        | EventKind::RunStarted { .. }
                );
                let text = if lasting {
                    line(event, self.width)
                } else {
                    None
                };
                let finished = matches!(event.kind, EventKind::RunFinished { .. });
                self.redraw(text.as_deref(), Some(event.at), !finished);
            }
        }
    }

    /// Shows `text` on a line of its own (never after the live status line), whatever the mode
    /// but quiet: on stderr.
    pub(crate) fn notice(&mut self, text: &str) {
        match self.mode {
            Mode::Live => self.redraw(Some(text), None, true),
            _ => {
                let _ = writeln!(self.err, "{text}");
            }
        }
    }

    /// Redraws the live status line with the time now (nothing in other modes).
    pub(crate) fn tick(&mut self) {
        if self.mode == Mode::Live && self.drawn {
            self.redraw(None, None, true);
        }
    }

    /// Clears the live line, prints `lasting` on a line of its own if given, then draws the
    /// status at `at` (or now) unless `status` is false.
    fn redraw(&mut self, lasting: Option<&str>, at: Option<Duration>, status: bool) {
        let mut text = String::new();
        if self.drawn {
            text.push_str("\r\x1b[2K");
            self.drawn = false;
        }
        if let Some(lasting) = lasting {
            text.push_str(lasting);
            text.push('\n');
        }
        if status {
            let at = at
                .or_else(|| self.started.map(|s| s.elapsed()))
                .unwrap_or_default();
            text.push_str(&self.status(at));
            self.drawn = true;
        }
        // One write: the line is never seen half redrawn.
        let _ = self.err.write_all(text.as_bytes());
        let _ = self.err.flush();
    }

    /// Clears the live status line, if one is drawn.
    pub(crate) fn finish(&mut self) {
        if self.drawn {
            let _ = write!(self.err, "\r\x1b[2K");
            let _ = self.err.flush();
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
    /// ones (as many as fit in [`STATUS_CHARS`]); built in time bounded by its length, however
    /// many tasks run.
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
        let mut names = self.running.iter();
        if let Some(first) = names.next() {
            line.push_str(", running: ");
            line.push_str(&terminal(first));
            for name in names {
                if line.chars().count() > STATUS_CHARS {
                    break;
                }
                line.push_str(", ");
                line.push_str(&terminal(name));
            }
        }
        if line.chars().count() > STATUS_CHARS {
            line = line.chars().take(STATUS_CHARS - 3).collect::<String>() + "...";
        }
        line
    }
}

/// `12.34s`.
fn seconds(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}

/// The line shown for an event when stderr is not a terminal, e.g.
/// `[  0.25s] build      started (attempt 1)`; the task column is `width` wide. Every user
/// string in it is escaped for the terminal.
pub(crate) fn line(event: &Event, width: usize) -> Option<String> {
    let at = format!("[{:>7}]", seconds(event.at));
    let task = terminal(event.task.as_deref().unwrap_or(""));
    let what = match &event.kind {
        EventKind::RunStarted { workflow, tasks } => {
            return Some(format!(
                "{at} run started: workflow \"{}\", {}",
                terminal(workflow),
                count(*tasks as u64, "task", "tasks")
            ));
        }
        EventKind::RunFinished { outcome } => {
            return Some(format!("{at} run finished: {}", outcome_text(outcome)));
        }
        EventKind::Queued { priority } => format!("queued (priority {priority})"),
        EventKind::Started { attempt } => format!("started (attempt {attempt})"),
        EventKind::Succeeded { attempt } => format!("succeeded (attempt {attempt})"),
        EventKind::Retrying {
            attempt,
            error,
            delay,
        } => format!(
            "attempt {attempt} failed: {}; retrying in {}",
            terminal(error),
            seconds(*delay)
        ),
        EventKind::Failed { attempt, error } => {
            format!("failed (attempt {attempt}): {}", terminal(error))
        }
        EventKind::TimedOut { attempt } => format!("timed out (attempt {attempt})"),
        EventKind::Cancelled => "cancelled".to_owned(),
        EventKind::Skipped { reason } => format!("skipped: {}", terminal(reason)),
        EventKind::Compensating => "compensating".to_owned(),
        EventKind::CompensationStarted { attempt } => {
            format!("compensation started (attempt {attempt})")
        }
        EventKind::CompensationRetrying {
            attempt,
            error,
            delay,
        } => format!(
            "compensation attempt {attempt} failed: {}; retrying in {}",
            terminal(error),
            seconds(*delay)
        ),
        EventKind::Compensated { attempts } => {
            format!("compensated ({})", count(*attempts, "attempt", "attempts"))
        }
        EventKind::CompensationFailed { attempts, error } => {
            format!(
                "compensation failed ({}): {}",
                count(*attempts, "attempt", "attempts"),
                terminal(error)
            )
        }
        other => terminal(&format!("{other:?}")).into_owned(),
    };
    match &event.agent {
        Some(agent) => Some(format!("{at} {task:<width$} {what} on {}", terminal(agent))),
        None => Some(format!("{at} {task:<width$} {what}")),
    }
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

    /// A sink the test can read back.
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn take(&self) -> String {
            String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
        }
    }

    #[tokio::test]
    async fn the_live_line_ticks_and_notices_get_a_line_of_their_own() {
        let err = Shared::default();
        let mut progress = Progress::with_sinks(
            Mode::Live,
            ["a", "b", "c"],
            Box::new(Shared::default()),
            Box::new(err.clone()),
        );
        let events = events().await;
        progress.event(&events[0]); // run started: a lasting line, then the status
        let first = err.take();
        assert!(first.starts_with("["), "{first:?}");
        assert!(
            first.contains("run started: workflow \"demo\", 3 tasks\n["),
            "{first:?}"
        );
        // With no event, a tick redraws the line in place with the time now.
        std::thread::sleep(Duration::from_millis(30));
        progress.tick();
        let ticked = err.take();
        assert!(ticked.starts_with("\r\x1b[2K["), "{ticked:?}");
        assert!(ticked.ends_with("0/3 done"), "{ticked:?}");
        assert_ne!(
            ticked.trim_start_matches("\r\x1b[2K"),
            first.lines().last().unwrap()
        );
        // A notice clears the line, takes a line of its own, and the status comes back below it.
        progress.notice("baton: SIGINT: cancelling the run");
        let notice = err.take();
        assert!(
            notice.starts_with("\r\x1b[2Kbaton: SIGINT: cancelling the run\n["),
            "{notice:?}"
        );
        progress.finish();
        assert_eq!(err.take(), "\r\x1b[2K");
        progress.tick();
        assert_eq!(err.take(), "", "no line to redraw after the end");
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

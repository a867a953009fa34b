//! The HTML run report written by `baton run --report PATH.html`: one self-contained page (inline
//! CSS, a static SVG timeline drawn here, no JavaScript, nothing fetched from the network).
//!
//! The page shows the workflow's name, outcome, duration and totals; a timeline with one row per
//! task and one bar per attempt (coloured by how the attempt ended), compensation attempts as
//! dashed bars under them, retry waits as dotted gaps, skipped tasks as an empty row with a label,
//! and the critical path highlighted; then a table of every task.
//!
//! The bars come from the event stream: a [`Timeline`] turns [`Event`]s into [`AttemptBar`]s, and
//! [`render`] (a pure function) draws a [`RunReport`] with them.
//!
//! Every bar is an SVG `<rect>` whose class says what it is and how it ended, with data
//! attributes naming it, so the page can be checked by counting:
//!
//! ```html
//! <rect class="attempt succeeded" data-task="build" data-attempt="2" data-start="0.104" data-end="0.311" ...>
//! <rect class="compensation failed" data-task="build" data-attempt="1" ...>
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use baton_orchestrator::{Event, EventKind, RunReport, TaskState};

use crate::run::Phase;
use crate::summary::human;

/// How an attempt ended: the second class of its bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Ending {
    /// The attempt succeeded.
    Succeeded,
    /// The attempt failed (whether or not the task was retried).
    Failed,
    /// The attempt ran past its timeout.
    TimedOut,
    /// The attempt was stopped: the run was cancelled, or it ended with the attempt still running.
    Cancelled,
}

impl Ending {
    /// The class name: `succeeded`, `failed`, `timed_out` or `cancelled`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::TimedOut => "timed_out",
            Self::Cancelled => "cancelled",
        }
    }

    /// Words for people: `succeeded`, `failed`, `timed out`, `cancelled`.
    pub const fn label(self) -> &'static str {
        match self {
            Self::TimedOut => "timed out",
            other => other.as_str(),
        }
    }

    /// `Failed`, or `TimedOut` when the error is the orchestrator's `timed out after ...` (a
    /// retried attempt reports its timeout only through its error message).
    fn of_error(error: &str) -> Self {
        if error.starts_with("timed out after ") {
            Self::TimedOut
        } else {
            Self::Failed
        }
    }
}

/// One attempt of a task (or of its compensation), from its start to its end, both measured from
/// the run's start.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttemptBar {
    /// The task's id.
    pub task: String,
    /// The task's command ([`Phase::Run`]) or its compensation ([`Phase::Compensate`]).
    pub phase: Phase,
    /// The attempt, from 1 (compensation attempts count on their own).
    pub attempt: u32,
    /// When it started.
    pub start: Duration,
    /// When it ended.
    pub end: Duration,
    /// How it ended.
    pub ending: Ending,
}

impl AttemptBar {
    /// A bar for attempt `attempt` of `task` (`end` earlier than `start` is taken as `start`).
    pub fn new(
        task: impl Into<String>,
        phase: Phase,
        attempt: u32,
        start: Duration,
        end: Duration,
        ending: Ending,
    ) -> Self {
        Self {
            task: task.into(),
            phase,
            attempt,
            start,
            end: end.max(start),
            ending,
        }
    }
}

/// An attempt that started and has not ended yet.
#[derive(Debug, Clone, Copy)]
struct Open {
    attempt: u32,
    start: Duration,
}

/// Collects [`AttemptBar`]s from a run's events.
///
/// A task's attempt starts at its `Started { attempt }` event and ends at the task's next
/// `Succeeded`, `Retrying` (failed, or timed out when the error says so), `Failed`, `TimedOut` or
/// `Cancelled`. A compensation attempt opens when it is queued (`Compensating`, or the previous
/// `CompensationRetrying` plus its delay) and starts for real at its `CompensationStarted`; it ends
/// at `Compensated`, `CompensationRetrying` or `CompensationFailed`. Attempts still open when the run finishes end
/// then, as cancelled.
///
/// ```
/// use std::time::Duration;
/// use baton_cli::report_html::{Ending, Timeline};
/// use baton_orchestrator::EventKind;
///
/// let ms = Duration::from_millis;
/// let mut timeline = Timeline::new();
/// timeline.record(Some("fetch"), ms(0), &EventKind::Started { attempt: 1 });
/// let retry = EventKind::Retrying { attempt: 1, error: "exit status 1".into(), delay: ms(100) };
/// timeline.record(Some("fetch"), ms(40), &retry);
/// timeline.record(Some("fetch"), ms(140), &EventKind::Started { attempt: 2 });
/// timeline.record(Some("fetch"), ms(170), &EventKind::Succeeded { attempt: 2 });
/// let bars = timeline.finish(ms(170));
/// assert_eq!(bars.len(), 2);
/// assert_eq!((bars[0].end, bars[0].ending), (ms(40), Ending::Failed));
/// assert_eq!((bars[1].start, bars[1].ending), (ms(140), Ending::Succeeded));
/// ```
#[derive(Debug, Default)]
pub struct Timeline {
    bars: Vec<AttemptBar>,
    open: HashMap<(String, Phase), Open>,
    /// Compensation attempts begun per task.
    compensations: HashMap<String, u32>,
    last: Duration,
}

impl Timeline {
    /// An empty timeline.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one event into account.
    pub fn event(&mut self, event: &Event) {
        self.record(event.task.as_deref(), event.at, &event.kind);
    }

    /// Takes into account that `kind` happened to `task` (`None` for run events) at `at`.
    pub fn record(&mut self, task: Option<&str>, at: Duration, kind: &EventKind) {
        self.last = self.last.max(at);
        let Some(task) = task else {
            if matches!(kind, EventKind::RunFinished { .. }) {
                self.close_all(at);
            }
            return;
        };
        match kind {
            EventKind::Started { attempt } => {
                self.close(task, Phase::Run, at, Ending::Cancelled);
                self.open.insert(
                    (task.to_owned(), Phase::Run),
                    Open {
                        attempt: *attempt,
                        start: at,
                    },
                );
            }
            EventKind::Succeeded { .. } => self.close(task, Phase::Run, at, Ending::Succeeded),
            EventKind::Retrying { error, .. } | EventKind::Failed { error, .. } => {
                self.close(task, Phase::Run, at, Ending::of_error(error));
            }
            EventKind::TimedOut { .. } => self.close(task, Phase::Run, at, Ending::TimedOut),
            EventKind::Cancelled => self.close(task, Phase::Run, at, Ending::Cancelled),
            EventKind::Compensating => self.open_compensation(task, at),
            EventKind::CompensationStarted { .. } => {
                // The attempt opened when it was queued: it really starts now.
                if let Some(open) = self.open.get_mut(&(task.to_owned(), Phase::Compensate)) {
                    open.start = at;
                }
            }
            EventKind::Compensated { .. } => {
                self.close(task, Phase::Compensate, at, Ending::Succeeded);
            }
            EventKind::CompensationRetrying { error, delay, .. } => {
                self.close(task, Phase::Compensate, at, Ending::of_error(error));
                self.open_compensation(task, at + *delay);
            }
            EventKind::CompensationFailed { error, .. } => {
                self.close(task, Phase::Compensate, at, Ending::of_error(error));
            }
            _ => {}
        }
    }

    /// The bars so far, in the order their attempts ended.
    pub fn bars(&self) -> &[AttemptBar] {
        &self.bars
    }

    /// Every bar, attempts still open ending at `end` (or at the last event, if later) as
    /// cancelled; ordered by start.
    pub fn finish(mut self, end: Duration) -> Vec<AttemptBar> {
        self.close_all(end.max(self.last));
        self.bars.sort_by_key(|b| b.start);
        self.bars
    }

    fn open_compensation(&mut self, task: &str, start: Duration) {
        self.close(task, Phase::Compensate, start, Ending::Cancelled);
        let attempt = self.compensations.entry(task.to_owned()).or_insert(0);
        *attempt += 1;
        let attempt = *attempt;
        self.open.insert(
            (task.to_owned(), Phase::Compensate),
            Open { attempt, start },
        );
    }

    fn close(&mut self, task: &str, phase: Phase, at: Duration, ending: Ending) {
        if let Some(open) = self.open.remove(&(task.to_owned(), phase)) {
            self.bars.push(AttemptBar::new(
                task,
                phase,
                open.attempt,
                open.start,
                at,
                ending,
            ));
        }
    }

    fn close_all(&mut self, at: Duration) {
        let mut open: Vec<_> = self.open.drain().collect();
        open.sort_by(|a, b| a.0.cmp(&b.0));
        for ((task, phase), open) in open {
            self.bars.push(AttemptBar::new(
                task,
                phase,
                open.attempt,
                open.start,
                at,
                Ending::Cancelled,
            ));
        }
    }
}

/// `text` escaped for HTML text and (quoted) attribute values, SVG included: `&`, `<`, `>`, `"`
/// and `'` become character references.
///
/// ```
/// assert_eq!(
///     baton_cli::report_html::escape("<script>alert('x') && \"y\"</script>"),
///     "&lt;script&gt;alert(&#39;x&#39;) &amp;&amp; &quot;y&quot;&lt;/script&gt;"
/// );
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Geometry of the timeline, in SVG user units.
const LABEL_WIDTH: f64 = 200.0;
const PLOT_WIDTH: f64 = 800.0;
const RIGHT_MARGIN: f64 = 24.0;
const AXIS_HEIGHT: f64 = 28.0;
const ROW_HEIGHT: f64 = 28.0;
/// The longest task label drawn in the timeline (the table shows whole ids).
const LABEL_CHARS: usize = 26;

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#212529;background:#fff}
h1{font-size:1.4em;margin:0 0 8px}
h2{font-size:1.1em;margin:24px 0 8px}
.outcome{font-weight:bold}
.outcome.succeeded{color:#2b8a3e}.outcome.failed,.outcome.timed_out{color:#c92a2a}.outcome.cancelled{color:#495057}
ul.totals{list-style:none;padding:0;margin:8px 0;display:flex;flex-wrap:wrap;gap:6px 18px}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:8px 0;font-size:.9em}
.legend span{display:inline-flex;align-items:center;gap:6px}
.swatch{display:inline-block;width:22px;height:10px;border-radius:2px}
.swatch.dashed{height:6px;border:1.5px dashed #495057;background:transparent}
.swatch.critical{background:#fff3bf;border:1.5px solid #f59f00}
.swatch.gap{width:22px;height:0;border-top:2px dotted #868e96}
svg.timeline{max-width:100%;height:auto;font-size:12px}
svg .axis line{stroke:#dee2e6}
svg .axis text{fill:#868e96}
svg .label{fill:#212529}
svg .label.critical{font-weight:bold}
svg .critical-row{fill:#fff3bf;stroke:#f59f00;stroke-width:1.5}
svg .note{fill:#868e96;font-style:italic}
svg .wait{stroke:#868e96;stroke-width:1.5;stroke-dasharray:2 3}
svg rect.succeeded,.swatch.succeeded{fill:#2f9e44;background:#2f9e44}
svg rect.failed,.swatch.failed{fill:#e03131;background:#e03131}
svg rect.timed_out,.swatch.timed_out{fill:#f08c00;background:#f08c00}
svg rect.cancelled,.swatch.cancelled{fill:#adb5bd;background:#adb5bd}
svg rect.compensation{fill-opacity:.35;stroke-width:1.5;stroke-dasharray:4 2}
svg rect.compensation.succeeded{stroke:#2f9e44}svg rect.compensation.failed{stroke:#e03131}
svg rect.compensation.timed_out{stroke:#f08c00}svg rect.compensation.cancelled{stroke:#868e96}
table{border-collapse:collapse;font-size:.9em}
th,td{border-bottom:1px solid #dee2e6;padding:4px 10px;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.critical td.task{font-weight:bold}
td.error{font-family:ui-monospace,monospace;white-space:pre-wrap;max-width:40em}
td.state.succeeded,td.state.compensated{color:#2b8a3e}td.state.failed,td.state.timed_out{color:#c92a2a}
";

/// The whole report page for `report`, with `attempts` drawn as bars (one per attempt; bars of
/// tasks that are not in the report are left out).
///
/// ```
/// use std::time::Duration;
/// use baton_cli::report_html::{render, AttemptBar, Ending};
/// use baton_cli::run::Phase;
/// # use baton_orchestrator::{Orchestrator, Task, Workflow};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// # let orchestrator = Orchestrator::builder().workers(1).build().unwrap();
/// # let workflow = Workflow::builder("hello").task(Task::new("build", |_| async { Ok(()) })).build().unwrap();
/// let report = orchestrator.run(&workflow).await.unwrap();
/// let bar = AttemptBar::new("build", Phase::Run, 1, Duration::ZERO, report.duration, Ending::Succeeded);
/// let html = render(&report, &[bar]);
/// assert!(html.starts_with("<!DOCTYPE html>"));
/// assert!(html.contains("<title>baton run report: hello</title>"));
/// assert_eq!(html.matches(r#"<rect class="attempt succeeded" data-task="build""#).count(), 1);
/// # }
/// ```
pub fn render(report: &RunReport, attempts: &[AttemptBar]) -> String {
    let name = escape(&report.workflow);
    let mut out = String::with_capacity(8192 + 512 * attempts.len() + 768 * report.tasks().len());
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>baton run report: {name}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n\
         <h1>baton run report: {name}</h1>\n"
    );
    header(&mut out, report);
    out.push_str("<h2>Timeline</h2>\n");
    legend(&mut out);
    timeline(&mut out, report, attempts);
    out.push_str("<h2>Tasks</h2>\n");
    table(&mut out, report);
    out.push_str("</body>\n</html>\n");
    out
}

/// The outcome, duration, totals and critical path.
fn header(out: &mut String, report: &RunReport) {
    let class = match &report.outcome {
        baton_orchestrator::RunOutcome::Succeeded => "succeeded",
        baton_orchestrator::RunOutcome::Failed { .. } => "failed",
        baton_orchestrator::RunOutcome::TimedOut { .. } => "timed_out",
        _ => "cancelled",
    };
    let _ = writeln!(
        out,
        "<p>Outcome: <span class=\"outcome {class}\" data-outcome=\"{class}\">{}</span> \
         in <span class=\"duration\">{}</span></p>",
        escape(&report.outcome.to_string()),
        human(report.duration)
    );
    let t = &report.totals;
    out.push_str("<ul class=\"totals\">\n");
    let counts = [
        ("tasks", t.tasks),
        ("succeeded", t.succeeded),
        ("failed", t.failed),
        ("timed out", t.timed_out),
        ("cancelled", t.cancelled),
        ("skipped", t.skipped),
        ("compensated", t.compensated),
        ("compensations failed", t.compensation_failed),
    ];
    for (what, n) in counts {
        if n > 0 || what == "tasks" {
            let _ = writeln!(out, "<li><b>{n}</b> {what}</li>");
        }
    }
    let _ = writeln!(
        out,
        "<li><b>{}</b> attempts</li>\n<li><b>{}</b> retries</li>\n\
         <li><b>{}</b> queue wait</li>\n<li><b>{}</b> run time</li>\n</ul>",
        t.attempts,
        t.retries,
        human(t.wait),
        human(t.run_time)
    );
    let path = &report.critical_path;
    if !path.tasks.is_empty() {
        let names: Vec<String> = path.tasks.iter().map(|t| escape(t)).collect();
        let _ = writeln!(
            out,
            "<p class=\"critical-path\">Critical path ({}): {}</p>",
            human(path.duration),
            names.join(" &rarr; ")
        );
    }
    if let Some(rollback) = &report.rollback {
        let list = |tasks: &[String]| {
            if tasks.is_empty() {
                "none".to_owned()
            } else {
                tasks
                    .iter()
                    .map(|t| escape(t))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        let _ = write!(
            out,
            "<p class=\"rollback\">Rollback: compensated {}",
            list(&rollback.compensated)
        );
        if !rollback.failed.is_empty() {
            let _ = write!(out, "; compensation FAILED for {}", list(&rollback.failed));
        }
        if !rollback.blocked.is_empty() {
            let _ = write!(
                out,
                "; not compensated (blocked) {}",
                list(&rollback.blocked)
            );
        }
        out.push_str("</p>\n");
    }
}

fn legend(out: &mut String) {
    out.push_str("<div class=\"legend\">");
    for ending in [
        Ending::Succeeded,
        Ending::Failed,
        Ending::TimedOut,
        Ending::Cancelled,
    ] {
        let _ = write!(
            out,
            "<span><i class=\"swatch {}\"></i>{}</span>",
            ending.as_str(),
            ending.label()
        );
    }
    out.push_str(
        "<span><i class=\"swatch dashed\"></i>compensation</span>\
         <span><i class=\"swatch gap\"></i>retry wait</span>\
         <span><i class=\"swatch critical\"></i>critical path</span></div>\n",
    );
}

/// `{:.3}` seconds, for data attributes.
fn secs(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// A tick step of 1, 2 or 5 times a power of ten giving about five ticks over `span` seconds.
fn tick_step(span: f64) -> f64 {
    let raw = (span / 5.0).max(1e-3);
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    step.max(1e-3)
}

/// `0.25s`, `2s`, written with as many decimals as `step` needs.
fn tick_label(value: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    format!("{value:.decimals$}s")
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
        cut.push('\u{2026}');
        cut
    }
}

/// The SVG timeline.
fn timeline(out: &mut String, report: &RunReport, attempts: &[AttemptBar]) {
    let span = attempts
        .iter()
        .map(|b| b.end)
        .chain([report.duration])
        .max()
        .unwrap_or_default()
        .as_secs_f64()
        .max(1e-3);
    let x = |d: Duration| LABEL_WIDTH + d.as_secs_f64() / span * PLOT_WIDTH;
    let rows = report.tasks().len();
    let width = LABEL_WIDTH + PLOT_WIDTH + RIGHT_MARGIN;
    let height = AXIS_HEIGHT + ROW_HEIGHT * rows as f64 + 4.0;
    let _ = writeln!(
        out,
        "<svg class=\"timeline\" role=\"img\" aria-label=\"timeline of the run's attempts\" \
         viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\">"
    );

    // The axis: ticks and their grid lines.
    let step = tick_step(span);
    out.push_str("<g class=\"axis\">\n");
    let mut i = 0u32;
    loop {
        let value = step * f64::from(i);
        if value > span * 1.0001 {
            break;
        }
        let tx = LABEL_WIDTH + value / span * PLOT_WIDTH;
        let _ = writeln!(
            out,
            "<line x1=\"{tx:.1}\" y1=\"{y1}\" x2=\"{tx:.1}\" y2=\"{height}\"/>\
             <text x=\"{tx:.1}\" y=\"{ty}\" text-anchor=\"middle\">{}</text>",
            tick_label(value, step),
            y1 = AXIS_HEIGHT - 6.0,
            ty = AXIS_HEIGHT - 10.0,
        );
        i += 1;
    }
    out.push_str("</g>\n");

    let critical: std::collections::HashSet<&str> = report
        .critical_path
        .tasks
        .iter()
        .map(String::as_str)
        .collect();
    for (row, task) in report.tasks().iter().enumerate() {
        let id = &*task.id;
        let escaped = escape(id);
        let top = AXIS_HEIGHT + ROW_HEIGHT * row as f64;
        let is_critical = critical.contains(id);
        let class = if is_critical {
            "task-row critical"
        } else {
            "task-row"
        };
        let _ = writeln!(
            out,
            "<g class=\"{class}\" data-task=\"{escaped}\" data-state=\"{}\">",
            task.state.as_str()
        );
        if is_critical {
            let _ = writeln!(
                out,
                "<rect class=\"critical-row\" x=\"1\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"3\"/>",
                top + 1.0,
                width - 2.0,
                ROW_HEIGHT - 2.0
            );
        }
        let _ = writeln!(
            out,
            "<text class=\"label{}\" x=\"8\" y=\"{:.1}\"><title>{escaped}</title>{}{}</text>",
            if is_critical { " critical" } else { "" },
            top + 18.0,
            if is_critical { "\u{2605} " } else { "" },
            escape(&truncate(id, LABEL_CHARS))
        );

        let mut runs: Vec<&AttemptBar> = attempts
            .iter()
            .filter(|b| b.task == id && b.phase == Phase::Run)
            .collect();
        runs.sort_by_key(|b| (b.start, b.attempt));
        // Retry waits: a dotted line across the gap between consecutive attempts.
        for pair in runs.windows(2) {
            let (from, to) = (x(pair[0].end), x(pair[1].start));
            if to > from {
                let _ = writeln!(
                    out,
                    "<line class=\"wait\" x1=\"{from:.1}\" y1=\"{y:.1}\" x2=\"{to:.1}\" y2=\"{y:.1}\"/>",
                    y = top + 10.0
                );
            }
        }
        for bar in &runs {
            draw_bar(
                out,
                bar,
                &escaped,
                x(bar.start),
                x(bar.end),
                top + 4.0,
                12.0,
            );
        }
        let compensations = attempts
            .iter()
            .filter(|b| b.task == id && b.phase == Phase::Compensate);
        for bar in compensations {
            draw_bar(
                out,
                bar,
                &escaped,
                x(bar.start),
                x(bar.end),
                top + 18.0,
                7.0,
            );
        }
        if runs.is_empty() {
            let note = match (task.state, &task.error) {
                (TaskState::Skipped, Some(reason)) => format!("skipped: {reason}"),
                (TaskState::Skipped, None) => "skipped".to_owned(),
                (state, _) => format!("{state} (never started)"),
            };
            let _ = writeln!(
                out,
                "<text class=\"note\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                LABEL_WIDTH + 6.0,
                top + 16.0,
                escape(&note)
            );
        }
        out.push_str("</g>\n");
    }
    out.push_str("</svg>\n");
}

/// One bar: `<rect class="attempt failed" data-task=... data-attempt=...>` (or `compensation`).
fn draw_bar(
    out: &mut String,
    bar: &AttemptBar,
    escaped_task: &str,
    x1: f64,
    x2: f64,
    y: f64,
    height: f64,
) {
    let kind = match bar.phase {
        Phase::Compensate => "compensation",
        _ => "attempt",
    };
    let _ = writeln!(
        out,
        "<rect class=\"{kind} {ending}\" data-task=\"{escaped_task}\" data-attempt=\"{attempt}\" \
         data-start=\"{start}\" data-end=\"{end}\" x=\"{x1:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" \
         height=\"{height:.1}\" rx=\"2\"><title>{escaped_task}: {kind} {attempt} {label} \
         ({from} to {to})</title></rect>",
        ending = bar.ending.as_str(),
        attempt = bar.attempt,
        start = secs(bar.start),
        end = secs(bar.end),
        w = (x2 - x1).max(1.5),
        label = bar.ending.label(),
        from = human(bar.start),
        to = human(bar.end),
    );
}

/// The task table.
fn table(out: &mut String, report: &RunReport) {
    let critical: std::collections::HashSet<&str> = report
        .critical_path
        .tasks
        .iter()
        .map(String::as_str)
        .collect();
    out.push_str(
        "<table class=\"tasks\">\n<thead><tr><th>Task</th><th>State</th><th>Attempts</th>\
         <th>Wait</th><th>Run time</th><th>Error</th><th>Compensation</th></tr></thead>\n<tbody>\n",
    );
    for task in report.tasks() {
        let id = &*task.id;
        let row_class = if critical.contains(id) {
            " class=\"critical\""
        } else {
            ""
        };
        let compensation = match &task.compensation {
            None => String::new(),
            Some(c) => {
                let plural = if c.attempts == 1 { "" } else { "s" };
                match &c.error {
                    None => format!("undone ({} attempt{plural})", c.attempts),
                    Some(error) => format!("FAILED ({} attempt{plural}): {error}", c.attempts),
                }
            }
        };
        // A task that ended well keeps its last failure: say it was an earlier attempt's.
        let error = match (&task.error, task.state) {
            (None, _) => String::new(),
            (Some(error), TaskState::Succeeded | TaskState::Compensated) => {
                format!("earlier attempt: {error}")
            }
            (Some(error), _) => error.clone(),
        };
        let _ = writeln!(
            out,
            "<tr{row_class} data-task=\"{escaped}\"><td class=\"task\">{escaped}</td>\
             <td class=\"state {state}\">{state}</td><td class=\"num\">{attempts}</td>\
             <td class=\"num\">{wait}</td><td class=\"num\">{run}</td>\
             <td class=\"error\">{error}</td><td class=\"error\">{compensation}</td></tr>",
            escaped = escape(id),
            state = task.state.as_str(),
            attempts = task.attempts,
            wait = human(task.wait),
            run = human(task.run_time),
            error = escape(&error),
            compensation = escape(&compensation),
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_orchestrator::{FailureMode, Orchestrator, Policy, Task, TaskError, Workflow};

    const fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A real report of a small saga: `setup` succeeds and is compensated, `flaky` fails, is
    /// retried once and fails for good, `after` (needs `flaky`) is skipped.
    async fn saga_report() -> RunReport {
        let orchestrator = Orchestrator::builder().workers(2).build().unwrap();
        let retry = Policy::fixed(Duration::ZERO).attempts(2).build().unwrap();
        let workflow = Workflow::builder("saga <&> \"demo\"")
            .task(Task::new("setup", |_| async { Ok(()) }).compensate(|_| async { Ok(()) }))
            .task(
                Task::new("flaky", |_| async {
                    Err::<(), _>(TaskError::msg(
                        "exit status 1 <script>alert(1)</script> & co",
                    ))
                })
                .needs(["setup"])
                .retry(retry),
            )
            .task(Task::new("after", |_| async { Ok(()) }).needs(["flaky"]))
            .failure_mode(FailureMode::Continue)
            .saga(true)
            .build()
            .unwrap();
        orchestrator.run(&workflow).await.unwrap()
    }

    fn count(html: &str, needle: &str) -> usize {
        html.matches(needle).count()
    }

    #[test]
    fn escaping_covers_markup_quotes_and_ampersands() {
        assert_eq!(escape("a&b"), "a&amp;b");
        assert_eq!(escape("<script>"), "&lt;script&gt;");
        assert_eq!(escape("\"'"), "&quot;&#39;");
        assert_eq!(escape("plain text é"), "plain text é");
    }

    #[tokio::test]
    async fn user_strings_are_escaped_everywhere() {
        let mut report = saga_report().await;
        report.tasks_mut()[0].id = "<script>alert('id')</script>&".into();
        report.critical_path.tasks = vec![report.tasks()[0].id.to_string()];
        let bar = AttemptBar::new(
            &*report.tasks()[0].id,
            Phase::Run,
            1,
            ms(0),
            ms(5),
            Ending::Succeeded,
        );
        let html = render(&report, &[bar]);
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("alert('id')"), "{html}");
        assert!(
            html.contains("data-task=\"&lt;script&gt;alert(&#39;id&#39;)&lt;/script&gt;&amp;\""),
            "{html}"
        );
        assert!(
            html.contains("exit status 1 &lt;script&gt;alert(1)&lt;/script&gt; &amp; co"),
            "{html}"
        );
        assert!(
            html.contains("<title>baton run report: saga &lt;&amp;&gt; &quot;demo&quot;</title>"),
            "{html}"
        );
        // Every `&` in the page starts a character reference.
        for (i, _) in html.match_indices('&') {
            let rest = &html[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&rarr;"]
                    .iter()
                    .any(|r| rest.starts_with(r)),
                "a bare & at {i}: {}",
                &rest[..rest.len().min(20)]
            );
        }
    }

    #[tokio::test]
    async fn one_bar_per_attempt_retries_and_compensations_included() {
        let report = saga_report().await;
        let bars = vec![
            AttemptBar::new("setup", Phase::Run, 1, ms(0), ms(10), Ending::Succeeded),
            AttemptBar::new("flaky", Phase::Run, 1, ms(10), ms(20), Ending::Failed),
            AttemptBar::new("flaky", Phase::Run, 2, ms(50), ms(60), Ending::TimedOut),
            AttemptBar::new("flaky", Phase::Run, 3, ms(90), ms(95), Ending::Failed),
            AttemptBar::new(
                "setup",
                Phase::Compensate,
                1,
                ms(95),
                ms(99),
                Ending::Failed,
            ),
            AttemptBar::new(
                "setup",
                Phase::Compensate,
                2,
                ms(99),
                ms(100),
                Ending::Succeeded,
            ),
            AttemptBar::new("ghost", Phase::Run, 1, ms(0), ms(1), Ending::Failed),
        ];
        let html = render(&report, &bars);
        assert_eq!(count(&html, "<rect class=\"attempt "), 4, "{html}");
        assert_eq!(count(&html, "<rect class=\"compensation "), 2, "{html}");
        assert_eq!(
            count(&html, "class=\"attempt failed\" data-task=\"flaky\""),
            2
        );
        assert_eq!(
            count(
                &html,
                "class=\"attempt timed_out\" data-task=\"flaky\" data-attempt=\"2\""
            ),
            1
        );
        assert_eq!(
            count(
                &html,
                "class=\"compensation succeeded\" data-task=\"setup\" data-attempt=\"2\""
            ),
            1
        );
        // The retry waits of `flaky`: two gaps.
        assert_eq!(count(&html, "<line class=\"wait\""), 2, "{html}");
        // `after` was skipped: an empty row with its reason.
        assert!(
            html.contains("skipped: dependency `flaky` did not succeed"),
            "{html}"
        );
        // The table: one row per task, with the attempts the report counted.
        assert_eq!(
            count(&html, "<tr data-task=") + count(&html, "<tr class=\"critical\" data-task="),
            3
        );
        assert!(html.contains("Rollback: compensated setup"), "{html}");
    }

    #[tokio::test]
    async fn the_critical_path_is_marked() {
        let mut report = saga_report().await;
        report.critical_path.tasks = vec!["setup".into(), "flaky".into()];
        let html = render(&report, &[]);
        assert!(html.contains("<g class=\"task-row critical\" data-task=\"setup\""));
        assert!(html.contains("<g class=\"task-row critical\" data-task=\"flaky\""));
        assert!(html.contains("<g class=\"task-row\" data-task=\"after\""));
        assert_eq!(count(&html, "<rect class=\"critical-row\""), 2);
        assert_eq!(count(&html, "<tr class=\"critical\" data-task="), 2);
        assert!(html.contains("Critical path ("), "{html}");
        assert!(html.contains("setup &rarr; flaky</p>"), "{html}");
    }

    #[tokio::test]
    async fn a_real_run_gives_one_bar_per_attempt() {
        let orchestrator = Orchestrator::builder().workers(2).build().unwrap();
        let mut events = orchestrator.subscribe();
        let report = {
            let retry = Policy::fixed(Duration::ZERO).attempts(2).build().unwrap();
            let workflow = Workflow::builder("real")
                .task(Task::new("setup", |_| async { Ok(()) }).compensate(|_| async { Ok(()) }))
                .task(
                    Task::new("flaky", |_| async {
                        Err::<(), _>(TaskError::msg("exit status 1"))
                    })
                    .needs(["setup"])
                    .retry(retry),
                )
                .saga(true)
                .build()
                .unwrap();
            orchestrator.run(&workflow).await.unwrap()
        };
        let mut timeline = Timeline::new();
        for event in events.drain() {
            timeline.event(&event);
        }
        let bars = timeline.finish(report.duration);
        let runs = bars.iter().filter(|b| b.phase == Phase::Run).count();
        assert_eq!(runs as u64, report.totals.attempts, "{bars:#?}");
        let compensations: Vec<_> = bars
            .iter()
            .filter(|b| b.phase == Phase::Compensate)
            .collect();
        assert_eq!(compensations.len(), 1, "{bars:#?}");
        assert_eq!(compensations[0].ending, Ending::Succeeded);
        let html = render(&report, &bars);
        assert_eq!(
            count(&html, "<rect class=\"attempt ") as u64,
            report.totals.attempts
        );
        assert_eq!(
            count(&html, "class=\"attempt failed\" data-task=\"flaky\""),
            2
        );
    }

    #[test]
    fn events_end_attempts_the_way_they_say() {
        let mut t = Timeline::new();
        t.record(Some("a"), ms(0), &EventKind::Started { attempt: 1 });
        let retry = |error: &str| EventKind::Retrying {
            attempt: 1,
            error: error.into(),
            delay: ms(10),
        };
        t.record(Some("a"), ms(5), &retry("timed out after 5ms"));
        t.record(Some("a"), ms(15), &EventKind::Started { attempt: 2 });
        t.record(Some("a"), ms(20), &EventKind::TimedOut { attempt: 2 });
        t.record(Some("b"), ms(0), &EventKind::Started { attempt: 1 });
        t.record(Some("b"), ms(30), &EventKind::Cancelled);
        // Cancelled while waiting: no attempt to end.
        t.record(Some("c"), ms(30), &EventKind::Cancelled);
        t.record(Some("d"), ms(1), &EventKind::Compensating);
        let comp_retry = EventKind::CompensationRetrying {
            attempt: 1,
            error: "exit status 2".into(),
            delay: ms(4),
        };
        t.record(Some("d"), ms(3), &comp_retry);
        let comp_failed = EventKind::CompensationFailed {
            attempts: 2,
            error: "exit status 2".into(),
        };
        t.record(Some("d"), ms(9), &comp_failed);
        t.record(Some("e"), ms(25), &EventKind::Started { attempt: 1 });
        assert_eq!(t.bars().len(), 5);
        let bars = t.finish(ms(40));
        let summary: Vec<(&str, Phase, u32, u64, u64, Ending)> = bars
            .iter()
            .map(|b| {
                (
                    b.task.as_str(),
                    b.phase,
                    b.attempt,
                    b.start.as_millis() as u64,
                    b.end.as_millis() as u64,
                    b.ending,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("a", Phase::Run, 1, 0, 5, Ending::TimedOut),
                ("b", Phase::Run, 1, 0, 30, Ending::Cancelled),
                ("d", Phase::Compensate, 1, 1, 3, Ending::Failed),
                ("d", Phase::Compensate, 2, 7, 9, Ending::Failed),
                ("a", Phase::Run, 2, 15, 20, Ending::TimedOut),
                ("e", Phase::Run, 1, 25, 40, Ending::Cancelled),
            ]
        );
    }

    #[test]
    fn ticks_are_round_and_labels_short() {
        assert_eq!(tick_step(10.0), 2.0);
        assert_eq!(tick_step(1.0), 0.2);
        assert!((tick_step(0.3) - 0.1).abs() < 1e-12);
        assert_eq!(tick_step(700.0), 200.0);
        assert_eq!(tick_label(0.4, 0.2), "0.4s");
        assert_eq!(tick_label(4.0, 2.0), "4s");
        assert_eq!(truncate("abcdef", 4), "abc\u{2026}");
        assert_eq!(truncate("abc", 4), "abc");
    }

    /// A small deterministic generator (xorshift64*) for the model-based test.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Model-based: random task histories (attempts with random outcomes and durations, retry
    /// waits, compensations with retries, runs cut short), their events interleaved in time
    /// order; the timeline must give back exactly the model's bars.
    #[test]
    fn timelines_match_a_model_of_random_runs() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for case in 0..500 {
            let mut events: Vec<(u64, usize, String, EventKind)> = Vec::new();
            let mut expected: Vec<AttemptBar> = Vec::new();
            let run_end = 200 + rng.below(400);
            let tasks = 1 + rng.below(5);
            let mut seq = 0usize;
            let mut push = |events: &mut Vec<_>, at: u64, task: &str, kind: EventKind| {
                events.push((at, seq, task.to_owned(), kind));
                seq += 1;
            };
            for t in 0..tasks {
                let task = format!("t{t}");
                let mut at = rng.below(50);
                let attempts = 1 + rng.below(4) as u32;
                for attempt in 1..=attempts {
                    if at >= run_end {
                        break;
                    }
                    let last = attempt == attempts;
                    let took = rng.below(30);
                    push(&mut events, at, &task, EventKind::Started { attempt });
                    if at + took >= run_end {
                        // Still running when the run finishes.
                        expected.push(AttemptBar::new(
                            &task,
                            Phase::Run,
                            attempt,
                            ms(at),
                            ms(run_end),
                            Ending::Cancelled,
                        ));
                        break;
                    }
                    let end = at + took;
                    let (kind, ending) = if !last {
                        let timed_out = rng.below(3) == 0;
                        let error = if timed_out {
                            "timed out after 1s"
                        } else {
                            "exit status 1"
                        };
                        let delay = rng.below(20);
                        let kind = EventKind::Retrying {
                            attempt,
                            error: error.into(),
                            delay: ms(delay),
                        };
                        let ending = if timed_out {
                            Ending::TimedOut
                        } else {
                            Ending::Failed
                        };
                        (kind, ending)
                    } else {
                        match rng.below(4) {
                            0 => (EventKind::Succeeded { attempt }, Ending::Succeeded),
                            1 => (
                                EventKind::Failed {
                                    attempt,
                                    error: "exit status 3".into(),
                                },
                                Ending::Failed,
                            ),
                            2 => (EventKind::TimedOut { attempt }, Ending::TimedOut),
                            _ => (EventKind::Cancelled, Ending::Cancelled),
                        }
                    };
                    let delay = match &kind {
                        EventKind::Retrying { delay, .. } => delay.as_millis() as u64,
                        _ => 0,
                    };
                    let succeeded = matches!(kind, EventKind::Succeeded { .. });
                    push(&mut events, end, &task, kind);
                    expected.push(AttemptBar::new(
                        &task,
                        Phase::Run,
                        attempt,
                        ms(at),
                        ms(end),
                        ending,
                    ));
                    at = end + delay;
                    let start = end + 1 + rng.below(20);
                    if last && succeeded && start < run_end && rng.below(2) == 0 {
                        // A compensation, retried a few times.
                        let mut start = start;
                        push(&mut events, start, &task, EventKind::Compensating);
                        let tries = 1 + rng.below(3) as u32;
                        for c in 1..=tries {
                            let stop = start + rng.below(10);
                            if stop >= run_end {
                                break; // the run ends first: checked below
                            }
                            let (kind, ending) = if c < tries {
                                let delay = rng.below(5);
                                let kind = EventKind::CompensationRetrying {
                                    attempt: c,
                                    error: "exit status 2".into(),
                                    delay: ms(delay),
                                };
                                (kind, Ending::Failed)
                            } else if rng.below(2) == 0 {
                                (EventKind::Compensated { attempts: c }, Ending::Succeeded)
                            } else {
                                let kind = EventKind::CompensationFailed {
                                    attempts: c,
                                    error: "timed out after 2s".into(),
                                };
                                (kind, Ending::TimedOut)
                            };
                            let delay = match &kind {
                                EventKind::CompensationRetrying { delay, .. } => {
                                    delay.as_millis() as u64
                                }
                                _ => 0,
                            };
                            push(&mut events, stop, &task, kind);
                            expected.push(AttemptBar::new(
                                &task,
                                Phase::Compensate,
                                c,
                                ms(start),
                                ms(stop),
                                ending,
                            ));
                            start = stop + delay;
                        }
                    }
                }
            }
            events.sort_by_key(|(at, seq, ..)| (*at, *seq));
            let mut timeline = Timeline::new();
            for (at, _, task, kind) in &events {
                timeline.record(Some(task), ms(*at), kind);
            }
            let finished = EventKind::RunFinished {
                outcome: baton_orchestrator::RunOutcome::Cancelled,
            };
            timeline.record(None, ms(run_end), &finished);
            let mut got = timeline.finish(ms(run_end));
            // A compensation attempt the model left open ends as cancelled at the run's end.
            for bar in &got {
                if bar.phase == Phase::Compensate
                    && bar.ending == Ending::Cancelled
                    && !expected.contains(bar)
                {
                    assert_eq!(bar.end, ms(run_end).max(bar.start), "case {case}: {bar:?}");
                }
            }
            got.retain(|b| !(b.phase == Phase::Compensate && b.ending == Ending::Cancelled));
            let key = |b: &AttemptBar| (b.task.clone(), b.phase == Phase::Compensate, b.attempt);
            got.sort_by_key(key);
            expected.sort_by_key(key);
            assert_eq!(got, expected, "case {case}: {events:#?}");
        }
    }
}

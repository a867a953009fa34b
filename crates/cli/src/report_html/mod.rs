//! The HTML run report written by `baton run --report PATH.html`: one self-contained page (inline
//! CSS, SVG drawn here, a small inline script for the filter, nothing fetched from the network).
//!
//! The page shows the workflow's name, outcome, duration and totals; a timeline with one row per
//! task and one bar per attempt (coloured by how the attempt ended), compensation attempts as
//! dashed bars under them, retry waits as dotted gaps, skipped tasks as an empty row with a label,
//! and the critical path highlighted; then a table of every task.
//!
//! The bars come from the event stream: a [`Timeline`] (timeline.rs) turns events into
//! [`AttemptBar`]s, svg.rs draws them, and [`render`] (a pure function) puts the page together
//! from a `RunReport` and the bars; the page's CSS is style.css.
//!
//! Every bar is an SVG `<rect>` whose class says what it is and how it ended, with data
//! attributes naming it, so the page can be checked by counting:
//!
//! ```html
//! <rect class="attempt succeeded" data-task="build" data-attempt="2" data-start="0.104" data-end="0.311" ...>
//! <rect class="compensation failed" data-task="build" data-attempt="1" ...>
//! ```

mod svg;
mod timeline;

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;

use baton_orchestrator::{RunReport, TaskState};

use crate::escape::html as escape;
use crate::logs::{log_name, tail};
use crate::summary::{TAIL_LINES, count, human};

pub(crate) use timeline::{AttemptBar, Ending, Timeline};

const STYLE: &str = include_str!("style.css");

/// How many failed tasks get the tail of their log in the page (the others, its path).
const TAILS: usize = 50;

/// The whole report page for `report`, with `attempts` drawn as bars (one per attempt; bars of
/// tasks that are not in the report are left out). `logs` is the run directory: each failed
/// task's row shows its log's path and (for the first [`TAILS`]) its last lines.
pub(crate) fn render(report: &RunReport, attempts: &[AttemptBar], logs: &Path) -> String {
    let name = escape(&report.workflow);
    let mut out = String::with_capacity(8192 + 512 * attempts.len() + 1024 * report.tasks().len());
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>baton run report: {name}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n\
         <h1>baton run report: {name}</h1>\n"
    );
    header(&mut out, report);
    let critical: HashSet<&str> = report
        .critical_path
        .tasks
        .iter()
        .map(String::as_str)
        .collect();
    out.push_str(FILTER);
    out.push_str("<h2>Timeline</h2>\n");
    legend(&mut out);
    svg::timeline(&mut out, report, attempts, &critical);
    out.push_str("<h2>Tasks</h2>\n");
    table(&mut out, report, &critical, logs);
    let _ = write!(out, "<script>\n{SCRIPT}</script>\n</body>\n</html>\n");
    out
}

/// The filter: which tasks the timeline and the table show. Its state is also read from the
/// page's address (`report.html#failed,retried,critical,text=deploy`), so a filtered view can be
/// linked to.
const FILTER: &str = "<form class=\"filter\" id=\"filter\" onsubmit=\"return false\">Show only: \
<label><input type=\"checkbox\" name=\"failed\"> failed or timed out</label> \
<label><input type=\"checkbox\" name=\"retried\"> retried</label> \
<label><input type=\"checkbox\" name=\"critical\"> on the critical path</label> \
<label>task <input type=\"search\" name=\"text\" placeholder=\"id contains\"></label> \
<output name=\"shown\"></output></form>\n";

/// The filter's script: plain DOM, nothing fetched.
const SCRIPT: &str = include_str!("filter.js");

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

/// The task table; a failed or timed-out task's row is followed by its log's path and last
/// lines.
fn table(out: &mut String, report: &RunReport, critical: &HashSet<&str>, logs: &Path) {
    let agents = report.tasks().iter().any(|t| t.agent.is_some());
    let _ = write!(
        out,
        "<table class=\"tasks\">\n<thead><tr><th>Task</th><th>State</th><th>Attempts</th>\
         <th>Wait</th><th>Run time</th>{}<th>Error</th><th>Compensation</th></tr></thead>\n<tbody>\n",
        if agents { "<th>Agent</th>" } else { "" }
    );
    let mut tails = 0;
    for task in report.tasks() {
        let id = &*task.id;
        let escaped = escape(id);
        let is_critical = critical.contains(id);
        let compensation = match &task.compensation {
            None => String::new(),
            Some(c) => {
                let attempts = count(c.attempts, "attempt", "attempts");
                match &c.error {
                    None => format!("undone ({attempts})"),
                    Some(error) => format!("FAILED ({attempts}): {error}"),
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
        let attributes =
            svg::filter_attributes(&escaped, task.state, task.attempts > 1, is_critical);
        let _ = writeln!(
            out,
            "<tr{row_class} {attributes}><td class=\"task\">{escaped}</td>\
             <td class=\"state {state}\">{state}</td><td class=\"num\">{attempts}</td>\
             <td class=\"num\">{wait}</td><td class=\"num\">{run}</td>{agent}\
             <td class=\"error\">{error}</td><td class=\"error\">{compensation}</td></tr>",
            agent = if agents {
                format!(
                    "<td class=\"agent\">{}</td>",
                    escape(task.agent.as_deref().unwrap_or(""))
                )
            } else {
                String::new()
            },
            row_class = if is_critical {
                " class=\"critical\""
            } else {
                ""
            },
            state = task.state.as_str(),
            attempts = task.attempts,
            wait = human(task.wait),
            run = human(task.run_time),
            error = escape(&error),
            compensation = escape(&compensation),
        );
        if matches!(task.state, TaskState::Failed | TaskState::TimedOut) {
            let path = logs.join(log_name(id));
            let lines = if tails < TAILS {
                tails += 1;
                match tail(&path, TAIL_LINES) {
                    Ok(tail) if tail.lines.is_empty() => "(empty)".to_owned(),
                    Ok(tail) => tail.lines.join("\n"),
                    Err(error) => format!("(cannot read it: {error})"),
                }
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "<tr class=\"log\" {attributes}><td colspan=\"{}\">log: <code>{}</code>{}</td></tr>",
                if agents { 8 } else { 7 },
                escape(&path.to_string_lossy()),
                if lines.is_empty() {
                    String::new()
                } else {
                    format!("<pre class=\"tail\">{}</pre>", escape(&lines))
                }
            );
        }
    }
    out.push_str("</tbody>\n</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phase::Phase;
    use baton_orchestrator::{FailureMode, Orchestrator, Policy, Task, TaskError, Workflow};
    use std::time::Duration;

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

    #[tokio::test]
    async fn a_failed_task_shows_its_log_tail_and_path() {
        let report = saga_report().await;
        let dir = std::env::temp_dir().join(format!("baton-html-tail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log: String = (1..=15).map(|i| format!("out {i} <b>\n")).collect();
        std::fs::write(dir.join("flaky.log"), log).unwrap();
        let html = render(&report, &[], &dir);
        std::fs::remove_dir_all(&dir).unwrap();
        let tail = html
            .split("<pre class=\"tail\">")
            .nth(1)
            .and_then(|rest| rest.split("</pre>").next())
            .unwrap_or_else(|| panic!("no tail in {html}"));
        let lines: Vec<&str> = tail.lines().collect();
        assert_eq!(lines.len(), TAIL_LINES, "{tail}");
        assert_eq!(lines[0], "out 6 &lt;b&gt;");
        assert_eq!(lines[9], "out 15 &lt;b&gt;");
        assert!(html.contains(&format!(
            "{}</code>",
            escape(&dir.join("flaky.log").to_string_lossy())
        )));
    }

    /// Drawing is linear in tasks and bars: the page of a 20,000-task run with one bar each is
    /// drawn, and has a row and a bar per task (the old drawing scanned every bar for each row).
    #[tokio::test]
    async fn a_large_report_has_a_row_and_a_bar_per_task() {
        let orchestrator = Orchestrator::builder().workers(2).build().unwrap();
        let mut builder = Workflow::builder("large");
        for i in 0..20_000 {
            builder = builder.task(Task::new(format!("t{i}"), |_| async { Ok(()) }));
        }
        let report = orchestrator.run(&builder.build().unwrap()).await.unwrap();
        let bars: Vec<AttemptBar> = report
            .tasks()
            .iter()
            .map(|t| AttemptBar::new(&*t.id, Phase::Run, 1, ms(0), ms(1), Ending::Succeeded))
            .collect();
        let html = render(&report, &bars, Path::new("logs"));
        assert_eq!(count(&html, "<div class=\"task-row"), 20_000);
        assert_eq!(count(&html, "<rect class=\"attempt succeeded\""), 20_000);
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
        let html = render(&report, &[bar], Path::new("logs"));
        // The one script is the page's own filter.
        assert_eq!(count(&html, "<script"), 1, "{html}");
        assert!(html.contains("<script>\n// The report's filter"), "{html}");
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
        // Every `&` in the page (but the filter's script) starts a character reference.
        let page = html.split("<script>").next().unwrap();
        for (i, _) in page.match_indices('&') {
            let rest = &page[i..];
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
        let html = render(&report, &bars, Path::new("logs"));
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
        // The table: one row per task, with the attempts the report counted, and the failed
        // task's log below its row.
        assert_eq!(
            count(&html, "<tr data-task=") + count(&html, "<tr class=\"critical\" data-task="),
            3
        );
        assert_eq!(
            count(&html, "<tr class=\"log\" data-task=\"flaky\""),
            1,
            "{html}"
        );
        assert!(html.contains("log: <code>logs/flaky.log</code>"), "{html}");
        assert!(html.contains("Rollback: compensated setup"), "{html}");
    }

    #[tokio::test]
    async fn the_critical_path_is_marked() {
        let mut report = saga_report().await;
        report.critical_path.tasks = vec!["setup".into(), "flaky".into()];
        let html = render(&report, &[], Path::new("logs"));
        assert!(html.contains("<div class=\"task-row critical\" data-task=\"setup\""));
        assert!(html.contains("<div class=\"task-row critical\" data-task=\"flaky\""));
        assert!(html.contains("<div class=\"task-row\" data-task=\"after\""));
        // Two timeline rows, two table rows, and the failed task's log row.
        assert_eq!(count(&html, "data-critical=\"true\""), 5, "{html}");
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
        let html = render(&report, &bars, Path::new("logs"));
        assert_eq!(
            count(&html, "<rect class=\"attempt ") as u64,
            report.totals.attempts
        );
        assert_eq!(
            count(&html, "class=\"attempt failed\" data-task=\"flaky\""),
            2
        );
    }
}

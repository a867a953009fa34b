//! The timeline of the HTML report: an axis with round ticks that stays in view while the page
//! scrolls, then one row per task, each an HTML block (so that the filter can hide it) with a
//! small SVG of its attempts: one bar per attempt, retry waits as dotted gaps, compensations as
//! thinner dashed bars.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::time::Duration;

use baton_orchestrator::{RunReport, TaskState};

use super::timeline::AttemptBar;
use crate::escape::html as escape;
use crate::phase::Phase;
use crate::summary::human;

/// Geometry of a row's SVG, in user units (the label is HTML, beside it).
const PLOT_WIDTH: f64 = 800.0;
const MARGIN: f64 = 12.0;
const AXIS_HEIGHT: f64 = 24.0;
const ROW_HEIGHT: f64 = 28.0;

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

/// The attributes the filter reads, shared by a task's timeline row and its table row:
/// `data-task`, `data-state`, `data-retried`, `data-critical`.
pub(super) fn filter_attributes(
    escaped_id: &str,
    state: TaskState,
    retried: bool,
    critical: bool,
) -> String {
    format!(
        "data-task=\"{escaped_id}\" data-state=\"{}\" data-retried=\"{retried}\" data-critical=\"{critical}\"",
        state.as_str()
    )
}

/// The timeline: the sticky axis, then a row per task. Linear in tasks and bars: the bars are
/// grouped by task once.
pub(super) fn timeline(
    out: &mut String,
    report: &RunReport,
    attempts: &[AttemptBar],
    critical: &HashSet<&str>,
) {
    let span = attempts
        .iter()
        .map(|b| b.end)
        .chain([report.duration])
        .max()
        .unwrap_or_default()
        .as_secs_f64()
        .max(1e-3);
    let x = |d: Duration| MARGIN + d.as_secs_f64() / span * PLOT_WIDTH;
    let width = PLOT_WIDTH + 2.0 * MARGIN;
    let step = tick_step(span);
    let ticks: Vec<(f64, String)> = (0u32..)
        .map(|i| step * f64::from(i))
        .take_while(|value| *value <= span * 1.0001)
        .map(|value| (MARGIN + value / span * PLOT_WIDTH, tick_label(value, step)))
        .collect();

    let mut by_task: HashMap<&str, Vec<&AttemptBar>> = HashMap::new();
    for bar in attempts {
        by_task.entry(bar.task.as_str()).or_default().push(bar);
    }

    out.push_str(
        "<div class=\"timeline\" role=\"img\" aria-label=\"timeline of the run's attempts\">\n\
         <div class=\"axis-row\"><div class=\"label\"></div>",
    );
    let _ = write!(
        out,
        "<svg class=\"axis\" viewBox=\"0 0 {width} {AXIS_HEIGHT}\">"
    );
    for (tx, label) in &ticks {
        let _ = write!(
            out,
            "<line x1=\"{tx:.1}\" y1=\"{y1}\" x2=\"{tx:.1}\" y2=\"{AXIS_HEIGHT}\"/>\
             <text x=\"{tx:.1}\" y=\"{ty}\" text-anchor=\"middle\">{label}</text>",
            y1 = AXIS_HEIGHT - 6.0,
            ty = AXIS_HEIGHT - 10.0,
        );
    }
    out.push_str("</svg></div>\n");

    for task in report.tasks() {
        let id = &*task.id;
        let escaped = escape(id);
        let is_critical = critical.contains(id);
        let mut runs: Vec<&AttemptBar> = Vec::new();
        let mut compensations: Vec<&AttemptBar> = Vec::new();
        for bar in by_task.get(id).into_iter().flatten() {
            match bar.phase {
                Phase::Run => runs.push(bar),
                Phase::Compensate => compensations.push(bar),
            }
        }
        runs.sort_by_key(|b| (b.start, b.attempt));
        let _ = write!(
            out,
            "<div class=\"task-row{}\" {}><div class=\"label\" title=\"{escaped}\">{}{escaped}</div>\
             <svg viewBox=\"0 0 {width} {ROW_HEIGHT}\">",
            if is_critical { " critical" } else { "" },
            filter_attributes(&escaped, task.state, task.attempts > 1, is_critical),
            if is_critical { "\u{2605} " } else { "" },
        );
        for (tx, _) in &ticks {
            let _ = write!(
                out,
                "<line class=\"grid\" x1=\"{tx:.1}\" y1=\"0\" x2=\"{tx:.1}\" y2=\"{ROW_HEIGHT}\"/>"
            );
        }
        // Retry waits: a dotted line across the gap between consecutive attempts.
        for pair in runs.windows(2) {
            let (from, to) = (x(pair[0].end), x(pair[1].start));
            if to > from {
                let _ = write!(
                    out,
                    "<line class=\"wait\" x1=\"{from:.1}\" y1=\"10\" x2=\"{to:.1}\" y2=\"10\"/>"
                );
            }
        }
        for bar in &runs {
            draw_bar(out, bar, &escaped, x(bar.start), x(bar.end), 4.0, 12.0);
        }
        for bar in &compensations {
            draw_bar(out, bar, &escaped, x(bar.start), x(bar.end), 18.0, 7.0);
        }
        if runs.is_empty() {
            let note = match (task.state, &task.error) {
                (TaskState::Skipped, Some(reason)) => format!("skipped: {reason}"),
                (TaskState::Skipped, None) => "skipped".to_owned(),
                (state, _) => format!("{state} (never started)"),
            };
            let _ = write!(
                out,
                "<text class=\"note\" x=\"{:.1}\" y=\"18\">{}</text>",
                MARGIN + 6.0,
                escape(&note)
            );
        }
        out.push_str("</svg></div>\n");
    }
    out.push_str("</div>\n");
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
        Phase::Run => "attempt",
    };
    let _ = write!(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_labels_short() {
        assert_eq!(tick_step(10.0), 2.0);
        assert_eq!(tick_step(1.0), 0.2);
        assert!((tick_step(0.3) - 0.1).abs() < 1e-12);
        assert_eq!(tick_step(700.0), 200.0);
        assert_eq!(tick_label(0.4, 0.2), "0.4s");
        assert_eq!(tick_label(4.0, 2.0), "4s");
    }
}

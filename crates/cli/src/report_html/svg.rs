//! The timeline of the HTML report as a static SVG: an axis with round ticks, one row per task,
//! one bar per attempt, retry waits as dotted gaps, compensations as thinner dashed bars.

use std::fmt::Write as _;
use std::time::Duration;

use baton_orchestrator::{RunReport, TaskState};

use super::timeline::AttemptBar;
use crate::escape::html as escape;
use crate::phase::Phase;
use crate::summary::human;

/// Geometry of the timeline, in SVG user units.
const LABEL_WIDTH: f64 = 200.0;
const PLOT_WIDTH: f64 = 800.0;
const RIGHT_MARGIN: f64 = 24.0;
const AXIS_HEIGHT: f64 = 28.0;
const ROW_HEIGHT: f64 = 28.0;
/// The longest task label drawn in the timeline (the table shows whole ids).
const LABEL_CHARS: usize = 26;

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
pub(super) fn timeline(out: &mut String, report: &RunReport, attempts: &[AttemptBar]) {
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
        assert_eq!(truncate("abcdef", 4), "abc\u{2026}");
        assert_eq!(truncate("abc", 4), "abc");
    }
}

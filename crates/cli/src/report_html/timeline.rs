//! The attempts of a run, from its events: what the timeline draws.

use std::collections::HashMap;
use std::time::Duration;

use baton_orchestrator::{Event, EventKind};

use crate::phase::Phase;

/// How an attempt ended: the second class of its bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Ending {
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
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::TimedOut => "timed_out",
            Self::Cancelled => "cancelled",
        }
    }

    /// Words for people: `succeeded`, `failed`, `timed out`, `cancelled`.
    pub(crate) const fn label(self) -> &'static str {
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
pub(crate) struct AttemptBar {
    /// The task's id.
    pub(crate) task: String,
    /// The task's command ([`Phase::Run`]) or its compensation ([`Phase::Compensate`]).
    pub(crate) phase: Phase,
    /// The attempt, from 1 (compensation attempts count on their own).
    pub(crate) attempt: u32,
    /// When it started.
    pub(crate) start: Duration,
    /// When it ended.
    pub(crate) end: Duration,
    /// How it ended.
    pub(crate) ending: Ending,
}

impl AttemptBar {
    /// A bar for attempt `attempt` of `task` (`end` earlier than `start` is taken as `start`).
    pub(crate) fn new(
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
#[derive(Debug, Default)]
pub(crate) struct Timeline {
    bars: Vec<AttemptBar>,
    open: HashMap<(String, Phase), Open>,
    /// Compensation attempts begun per task.
    compensations: HashMap<String, u32>,
    last: Duration,
}

impl Timeline {
    /// An empty timeline.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Takes one event into account.
    pub(crate) fn event(&mut self, event: &Event) {
        self.record(event.task.as_deref(), event.at, &event.kind);
    }

    /// Takes into account that `kind` happened to `task` (`None` for run events) at `at`.
    pub(crate) fn record(&mut self, task: Option<&str>, at: Duration, kind: &EventKind) {
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
    #[cfg(test)]
    pub(crate) fn bars(&self) -> &[AttemptBar] {
        &self.bars
    }

    /// Every bar, attempts still open ending at `end` (or at the last event, if later) as
    /// cancelled; ordered by start.
    pub(crate) fn finish(mut self, end: Duration) -> Vec<AttemptBar> {
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

#[cfg(test)]
mod tests {
    use super::*;

    const fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
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

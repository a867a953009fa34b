//! The event stream: every state transition of every task of every run, in order.

use std::sync::Arc;
use std::time::Duration;

use baton_queue::{Priority, TaskState};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::report::{RunOutcome, secs};
use crate::run::RunId;

/// One thing that happened in a run. Events of one run arrive in the order they happened (so
/// per task, in the order of its state transitions).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Event {
    /// The run.
    pub run: RunId,
    /// When, since the run started (on tokio's clock: virtual under a paused clock).
    #[serde(with = "secs")]
    pub at: Duration,
    /// The task, for task events.
    pub task: Option<Arc<str>>,
    /// The agent the attempt ran on, for the end of an attempt placed on an agent (by an
    /// [`AgentExecutor`](crate::agents::AgentExecutor)): `Succeeded`, `Retrying`, `Failed`,
    /// `TimedOut` and their compensation counterparts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<Arc<str>>,
    /// What happened.
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// The run was accepted; its tasks are `Pending`.
    RunStarted {
        /// The workflow's name.
        workflow: Arc<str>,
        /// How many tasks it has.
        tasks: usize,
    },
    /// The task's dependencies succeeded and it joined the queue.
    Queued {
        /// The priority it was queued at.
        priority: Priority,
    },
    /// A worker took an attempt.
    Started {
        /// The attempt, from 1.
        attempt: u32,
    },
    /// The attempt succeeded: the task is done.
    Succeeded {
        /// The attempt that succeeded.
        attempt: u32,
    },
    /// The attempt failed (or timed out, or panicked) and the task will be retried after `delay`,
    /// holding no worker meanwhile.
    Retrying {
        /// The attempt that failed.
        attempt: u32,
        /// Why.
        error: String,
        /// The wait before the next attempt.
        #[serde(with = "secs")]
        delay: Duration,
    },
    /// The task failed for good (its last attempt failed or panicked, the error was permanent, or
    /// it could not be queued).
    Failed {
        /// The last attempt (0 if it never started).
        attempt: u32,
        /// Why.
        error: String,
    },
    /// The task's last attempt ran past its timeout, or the run's timeout interrupted it.
    TimedOut {
        /// The last attempt.
        attempt: u32,
    },
    /// The task was cancelled (the run was cancelled or timed out, or fail-fast stopped it while
    /// it ran).
    Cancelled,
    /// The task will not run: a dependency did not succeed, or fail-fast stopped the run first.
    Skipped {
        /// Why, naming the task that failed.
        reason: String,
    },
    /// The saga began undoing the task (its compensation's first attempt was queued).
    Compensating,
    /// A worker took a compensation attempt (no state change: the task stays `Compensating`).
    CompensationStarted {
        /// The compensation attempt, from 1.
        attempt: u32,
    },
    /// A compensation attempt failed and will be retried after `delay`.
    CompensationRetrying {
        /// The compensation attempt that failed.
        attempt: u32,
        /// Why.
        error: String,
        /// The wait before the next attempt.
        #[serde(with = "secs")]
        delay: Duration,
    },
    /// The task's effects were undone.
    Compensated {
        /// The compensation attempts it took.
        attempts: u32,
    },
    /// The compensation failed for good: the task ends `Failed` and the run reports it.
    CompensationFailed {
        /// The compensation attempts made.
        attempts: u32,
        /// Why.
        error: String,
    },
    /// The run ended; its report is ready.
    RunFinished {
        /// How it ended.
        outcome: RunOutcome,
    },
}

impl Event {
    /// The state the task entered with this event, if it is a task state transition
    /// (`CompensationFailed` enters `Failed`; run events and compensation retries enter none).
    pub fn state(&self) -> Option<TaskState> {
        Some(match self.kind {
            EventKind::Queued { .. } => TaskState::Queued,
            EventKind::Started { .. } => TaskState::Running,
            EventKind::Succeeded { .. } => TaskState::Succeeded,
            EventKind::Retrying { .. } => TaskState::Retrying,
            EventKind::Failed { .. } | EventKind::CompensationFailed { .. } => TaskState::Failed,
            EventKind::TimedOut { .. } => TaskState::TimedOut,
            EventKind::Cancelled => TaskState::Cancelled,
            EventKind::Skipped { .. } => TaskState::Skipped,
            EventKind::Compensating => TaskState::Compensating,
            EventKind::Compensated { .. } => TaskState::Compensated,
            EventKind::RunStarted { .. }
            | EventKind::RunFinished { .. }
            | EventKind::CompensationStarted { .. }
            | EventKind::CompensationRetrying { .. } => return None,
        })
    }
}

/// A subscription to an orchestrator's events (see
/// [`Orchestrator::subscribe`](crate::Orchestrator::subscribe)): every event of every run
/// started after subscribing, none dropped (the stream is unbounded: read it, or drop it).
#[derive(Debug)]
pub struct Events {
    pub(crate) receiver: mpsc::UnboundedReceiver<Event>,
}

impl Events {
    /// The next event; `None` once the orchestrator has stopped and every event was read.
    pub async fn recv(&mut self) -> Option<Event> {
        self.receiver.recv().await
    }

    /// The next event, blocking the thread until one comes (for a consumer on a thread of its
    /// own, such as a progress display writing to a slow terminal). Panics if called inside an
    /// async context (use [`recv`](Self::recv) there).
    pub fn blocking_recv(&mut self) -> Option<Event> {
        self.receiver.blocking_recv()
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Option<Event> {
        self.receiver.try_recv().ok()
    }

    /// Every event waiting now.
    pub fn drain(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.try_recv()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventKind) -> Event {
        Event {
            run: RunId(1),
            at: Duration::ZERO,
            task: Some("t".into()),
            agent: None,
            kind,
        }
    }

    #[test]
    fn events_name_the_state_they_enter() {
        assert_eq!(
            event(EventKind::Started { attempt: 1 }).state(),
            Some(TaskState::Running)
        );
        let failed = EventKind::CompensationFailed {
            attempts: 2,
            error: "x".into(),
        };
        assert_eq!(event(failed).state(), Some(TaskState::Failed));
        assert_eq!(
            event(EventKind::Cancelled).state(),
            Some(TaskState::Cancelled)
        );
        let started = EventKind::RunStarted {
            workflow: "w".into(),
            tasks: 1,
        };
        assert_eq!(event(started).state(), None);
    }

    #[test]
    fn events_serialize_with_a_tag_and_seconds() {
        let e = Event {
            at: Duration::from_millis(1500),
            ..event(EventKind::Retrying {
                attempt: 1,
                error: "busy".into(),
                delay: Duration::from_millis(250),
            })
        };
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["kind"]["event"], "retrying");
        assert_eq!(json["kind"]["delay"], 0.25);
        assert_eq!(json["at"], 1.5);
        assert_eq!(json["run"], 1);
    }
}

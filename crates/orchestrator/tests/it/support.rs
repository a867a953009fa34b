//! Shared helpers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_orchestrator::{Event, Orchestrator, Task, TaskState};
use tokio::time::Instant;

/// Milliseconds.
pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// An orchestrator with `n` fixed workers.
pub(crate) fn orchestrator(n: usize) -> Orchestrator {
    Orchestrator::builder().workers(n).build().unwrap()
}

/// A task that succeeds at once.
pub(crate) fn noop(id: &str) -> Task {
    Task::new(id, |_| async { Ok(()) })
}

/// A task that sleeps `d`, then succeeds.
pub(crate) fn sleeper(id: &str, d: Duration) -> Task {
    Task::new(id, move |_| async move {
        tokio::time::sleep(d).await;
        Ok(())
    })
}

/// Records what happened, in order, with the virtual time.
#[derive(Clone, Default)]
pub(crate) struct Log(Arc<Mutex<Vec<(String, Instant)>>>);

impl Log {
    pub(crate) fn push(&self, what: impl Into<String>) {
        self.0.lock().unwrap().push((what.into(), Instant::now()));
    }
    pub(crate) fn entries(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(w, _)| w.clone())
            .collect()
    }
    pub(crate) fn timed(&self) -> Vec<(String, Instant)> {
        self.0.lock().unwrap().clone()
    }
    pub(crate) fn position(&self, what: &str) -> usize {
        self.entries()
            .iter()
            .position(|w| w == what)
            .unwrap_or_else(|| panic!("`{what}` is not in {:?}", self.entries()))
    }
}

/// A task that logs its id when it starts, then sleeps `d`.
pub(crate) fn logged(log: &Log, id: &str, d: Duration) -> Task {
    let (log, name) = (log.clone(), id.to_owned());
    Task::new(id, move |_| {
        let (log, name) = (log.clone(), name.clone());
        async move {
            log.push(name);
            tokio::time::sleep(d).await;
            Ok(())
        }
    })
}

/// Checks that each task's events walk legal state transitions from `Pending` and end in a final
/// state, exactly once; returns each task's final state.
pub(crate) fn check_transitions(events: &[Event]) -> HashMap<String, TaskState> {
    let mut states: HashMap<String, TaskState> = HashMap::new();
    for event in events {
        let (Some(task), Some(to)) = (&event.task, event.state()) else {
            continue;
        };
        let from = states.get(&**task).copied().unwrap_or(TaskState::Pending);
        assert!(
            from.can_transition_to(to),
            "task `{task}`: illegal transition {from} -> {to} ({event:?})"
        );
        states.insert(task.to_string(), to);
    }
    for (task, state) in &states {
        assert!(
            state.is_terminal(),
            "task `{task}` ended its events in {state}, which is not final"
        );
    }
    states
}

/// A task that fails at once with a retryable error.
pub(crate) fn failing(id: &str) -> Task {
    Task::new(id, |_| async {
        Err::<(), _>(baton_orchestrator::TaskError::msg("boom"))
    })
}

//! [`TaskState`]: the task lifecycle as an explicit state machine.

use std::fmt;

/// Where a task is in its life.
///
/// ```text
/// Pending ──> Queued ──> Running ──> Succeeded ──> Compensating ──> Compensated
///    │          │  ^        │  │                        │
///    │          │  │        │  └──> Failed | Cancelled | TimedOut      └──> Failed
///    │          │  │        v
///    │          │  └──── Retrying ──> Running | Failed | Cancelled | Skipped
///    └──────────┴──> Cancelled | Skipped      (Queued ──> Failed too)
/// ```
///
/// Legal moves (everything else is a [`TransitionError`], never a silent no-op):
///
/// | from | to |
/// | --- | --- |
/// | `Pending` | `Queued`, `Cancelled`, `Skipped` |
/// | `Queued` | `Running`, `Failed`, `Cancelled`, `Skipped` |
/// | `Running` | `Succeeded`, `Failed`, `Cancelled`, `TimedOut`, `Retrying` |
/// | `Retrying` | `Queued`, `Running`, `Failed`, `Cancelled`, `Skipped` |
/// | `Succeeded` | `Compensating` |
/// | `Compensating` | `Compensated`, `Failed` |
///
/// The terminal states are `Succeeded`, `Failed`, `Cancelled`, `TimedOut`, `Skipped` and
/// `Compensated`. `Succeeded → Compensating` is the one exit from a terminal state: a saga that
/// cannot finish undoes its completed steps, and only a succeeded step has anything to undo.
/// `Compensating → Failed` means the compensation itself failed for good; `Queued → Failed` and
/// `Retrying → Failed` mean the task could not be (re)queued, for example because a durable
/// store refused it.
///
/// ```
/// use baton_queue::TaskState;
///
/// let state = TaskState::Pending
///     .transition(TaskState::Queued)?
///     .transition(TaskState::Running)?
///     .transition(TaskState::Succeeded)?;
/// assert!(state.is_terminal());
///
/// let err = state.transition(TaskState::Running).unwrap_err();
/// assert_eq!(err.to_string(), "illegal task state transition from succeeded to running");
/// # Ok::<(), baton_queue::TransitionError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum TaskState {
    /// Known but not yet queued (for example, waiting for its dependencies).
    Pending,
    /// In a queue, waiting for a worker.
    Queued,
    /// A worker is running an attempt.
    Running,
    /// An attempt failed; waiting for the retry policy's delay before the next one.
    Retrying,
    /// Finished successfully (terminal, but may still be compensated by a saga).
    Succeeded,
    /// Failed for good (terminal).
    Failed,
    /// Cancelled before it finished (terminal).
    Cancelled,
    /// An attempt ran past its timeout (terminal).
    TimedOut,
    /// Never run, because a dependency failed (terminal).
    Skipped,
    /// A saga is undoing this task's effects.
    Compensating,
    /// A saga undid this task's effects (terminal).
    Compensated,
}

impl TaskState {
    /// Every state, in lifecycle order.
    pub const ALL: [TaskState; 11] = [
        TaskState::Pending,
        TaskState::Queued,
        TaskState::Running,
        TaskState::Retrying,
        TaskState::Succeeded,
        TaskState::Failed,
        TaskState::Cancelled,
        TaskState::TimedOut,
        TaskState::Skipped,
        TaskState::Compensating,
        TaskState::Compensated,
    ];

    /// The states this one may move to, in the order of [`TaskState::ALL`].
    ///
    /// ```
    /// use baton_queue::TaskState;
    ///
    /// assert_eq!(TaskState::Succeeded.successors(), &[TaskState::Compensating]);
    /// assert!(TaskState::Cancelled.successors().is_empty());
    /// ```
    pub const fn successors(self) -> &'static [TaskState] {
        use TaskState::*;
        match self {
            Pending => &[Queued, Cancelled, Skipped],
            Queued => &[Running, Failed, Cancelled, Skipped],
            Running => &[Retrying, Succeeded, Failed, Cancelled, TimedOut],
            Retrying => &[Queued, Running, Failed, Cancelled, Skipped],
            Succeeded => &[Compensating],
            Compensating => &[Failed, Compensated],
            Failed | Cancelled | TimedOut | Skipped | Compensated => &[],
        }
    }

    /// Whether moving from `self` to `to` is legal.
    ///
    /// ```
    /// use baton_queue::TaskState;
    ///
    /// assert!(TaskState::Running.can_transition_to(TaskState::Retrying));
    /// assert!(!TaskState::Queued.can_transition_to(TaskState::Succeeded));
    /// assert!(!TaskState::Running.can_transition_to(TaskState::Running));
    /// ```
    pub fn can_transition_to(self, to: TaskState) -> bool {
        self.successors().contains(&to)
    }

    /// Moves to `to`, or explains why that is illegal (naming both states).
    ///
    /// ```
    /// use baton_queue::TaskState;
    ///
    /// assert_eq!(TaskState::Queued.transition(TaskState::Running), Ok(TaskState::Running));
    /// let err = TaskState::Pending.transition(TaskState::Running).unwrap_err();
    /// assert_eq!((err.from(), err.to()), (TaskState::Pending, TaskState::Running));
    /// ```
    pub fn transition(self, to: TaskState) -> Result<TaskState, TransitionError> {
        if self.can_transition_to(to) {
            Ok(to)
        } else {
            Err(TransitionError { from: self, to })
        }
    }

    /// Whether the task's life is over: `Succeeded`, `Failed`, `Cancelled`, `TimedOut`, `Skipped`
    /// or `Compensated`. (`Succeeded` can still move to `Compensating` during a saga rollback.)
    ///
    /// ```
    /// use baton_queue::TaskState;
    ///
    /// assert!(TaskState::TimedOut.is_terminal());
    /// assert!(!TaskState::Retrying.is_terminal());
    /// ```
    pub const fn is_terminal(self) -> bool {
        use TaskState::*;
        matches!(
            self,
            Succeeded | Failed | Cancelled | TimedOut | Skipped | Compensated
        )
    }

    /// The snake_case name used by `Display` and serde.
    pub const fn as_str(self) -> &'static str {
        use TaskState::*;
        match self {
            Pending => "pending",
            Queued => "queued",
            Running => "running",
            Retrying => "retrying",
            Succeeded => "succeeded",
            Failed => "failed",
            Cancelled => "cancelled",
            TimedOut => "timed_out",
            Skipped => "skipped",
            Compensating => "compensating",
            Compensated => "compensated",
        }
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// An illegal lifecycle move, naming where the task was and where it was asked to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("illegal task state transition from {from} to {to}")]
pub struct TransitionError {
    from: TaskState,
    to: TaskState,
}

impl TransitionError {
    /// The state the task was in.
    pub fn from(&self) -> TaskState {
        self.from
    }

    /// The state it was asked to move to.
    pub fn to(&self) -> TaskState {
        self.to
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_states_have_no_exit_except_succeeded() {
        for s in TaskState::ALL {
            if s.is_terminal() && s != TaskState::Succeeded {
                assert!(s.successors().is_empty(), "{s} should have no exit");
            } else {
                assert!(!s.successors().is_empty(), "{s} should have an exit");
            }
        }
    }

    #[test]
    fn successors_are_listed_in_all_order() {
        let pos = |s: TaskState| TaskState::ALL.iter().position(|x| *x == s);
        for s in TaskState::ALL {
            assert!(s.successors().windows(2).all(|w| pos(w[0]) < pos(w[1])));
        }
    }

    #[test]
    fn no_state_moves_to_itself() {
        for s in TaskState::ALL {
            let err = s.transition(s).unwrap_err();
            assert_eq!((err.from(), err.to()), (s, s));
        }
    }
}

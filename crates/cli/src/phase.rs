//! Which of a task's two commands an attempt runs.

/// Which of a task's commands an attempt runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Phase {
    /// The task's `run`.
    Run,
    /// The task's `compensate`.
    Compensate,
}

//! `NodeState` and `Progress`: where nodes are in one execution.

use std::fmt;

/// Where a node is in one execution of a graph.
///
/// `Waiting → Ready → Running → Done | Failed`, or `Waiting → Skipped` when a dependency failed
/// (a ready node may also fail without running, for a task that could not be launched), or
/// `Waiting | Ready → Cancelled` when the run is cut short by
/// [`ReadyTracker::cancel_pending`](super::ReadyTracker::cancel_pending).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[repr(u8)]
#[non_exhaustive]
pub enum NodeState {
    /// Some dependency has not completed.
    Waiting,
    /// Every dependency completed: the node may start.
    Ready,
    /// Started, not yet ended.
    Running,
    /// Completed successfully (terminal).
    Done,
    /// Failed (terminal).
    Failed,
    /// Will not run because a dependency failed, directly or not (terminal).
    Skipped,
    /// Will not run because the run was cancelled before it started (terminal).
    Cancelled,
}

impl NodeState {
    /// Whether the node has ended: done, failed, skipped or cancelled.
    #[must_use]
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Done | Self::Failed | Self::Skipped | Self::Cancelled
        )
    }
}

impl fmt::Display for NodeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Waiting => "waiting",
            Self::Ready => "ready",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Cancelled => "cancelled",
        })
    }
}

/// How many nodes are in each state, from [`ReadyTracker::progress`](super::ReadyTracker::progress).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Progress {
    /// Nodes in the graph.
    pub total: usize,
    /// Waiting on dependencies.
    pub waiting: usize,
    /// Ready to start.
    pub ready: usize,
    /// Started and not ended.
    pub running: usize,
    /// Completed.
    pub done: usize,
    /// Failed.
    pub failed: usize,
    /// Skipped because a dependency failed.
    pub skipped: usize,
    /// Cancelled before starting, by
    /// [`ReadyTracker::cancel_pending`](super::ReadyTracker::cancel_pending).
    pub cancelled: usize,
}

impl Progress {
    /// Nodes that have not ended yet: waiting, ready or running.
    #[must_use]
    pub const fn remaining(&self) -> usize {
        self.waiting + self.ready + self.running
    }

    /// Nodes that ended: done, failed, skipped or cancelled.
    #[must_use]
    pub const fn ended(&self) -> usize {
        self.done + self.failed + self.skipped + self.cancelled
    }

    /// Whether every node ended.
    #[must_use]
    pub const fn is_finished(&self) -> bool {
        self.remaining() == 0
    }
}

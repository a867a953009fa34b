//! A run's identity, options and handle.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use baton_saga::CancelToken;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::engine::Command;
use crate::error::RunError;
use crate::faults::FaultPlan;
use crate::report::RunReport;

/// Identifies a run within its orchestrator, while it lives: ids increase from 1 in each
/// orchestrator, so the same id names different runs in two of them (or in two processes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub(crate) u64);

impl RunId {
    /// The raw id.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "run-{}", self.0)
    }
}

/// Options of one run.
///
/// ```
/// use baton_orchestrator::{Fault, FaultPlan, RunOptions};
///
/// let options = RunOptions::new()
///     .seed(7) // retry jitter drawn from this seed: the run is reproducible
///     .faults(FaultPlan::new().inject("pay", Fault::Fail, 1..=1));
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RunOptions {
    pub(crate) seed: Option<u64>,
    pub(crate) faults: FaultPlan,
}

impl RunOptions {
    /// Default options: retry jitter from the system's randomness, no injected fault.
    pub fn new() -> Self {
        Self::default()
    }

    /// Draws retry jitter from `seed`, so that the same seed gives the same delays.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Injects faults into chosen attempts (for tests and drills).
    #[must_use]
    pub fn faults(mut self, plan: FaultPlan) -> Self {
        self.faults = plan;
        self
    }
}

/// A started run: await it for its [`RunReport`], or cancel it.
///
/// Dropping the handle does not cancel the run; it runs on and its report is discarded.
#[must_use = "a run handle does nothing unless awaited or cancelled; dropping it lets the run go on"]
pub struct RunHandle {
    pub(crate) id: RunId,
    pub(crate) cancel: CancelToken,
    pub(crate) commands: mpsc::UnboundedSender<Command>,
    pub(crate) report: oneshot::Receiver<RunReport>,
}

impl RunHandle {
    /// The run's id.
    pub fn id(&self) -> RunId {
        self.id
    }

    /// Cancels the run: running tasks are interrupted at their next await and end `Cancelled`,
    /// tasks not started end `Cancelled`; a saga then compensates what had completed. Cancelling
    /// a finished run does nothing.
    pub fn cancel(&self) {
        self.cancel.cancel();
        // The engine may have stopped: the run is then over already.
        let _ = self.commands.send(Command::Cancel(self.id));
    }
}

impl Future for RunHandle {
    type Output = Result<RunReport, RunError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.report)
            .poll(cx)
            .map(|r| r.map_err(|_| RunError::Stopped))
    }
}

impl fmt::Debug for RunHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunHandle")
            .field("id", &self.id)
            .field("cancelled", &self.cancel.is_cancelled())
            .finish_non_exhaustive()
    }
}

//! [`ShutdownReport`]: what a shutdown finished and what it cancelled.

use std::time::Duration;

use crate::job::{JobId, OutcomeKind};

/// What ended after a shutdown began, from [`Pool::shutdown`](crate::Pool::shutdown) and
/// [`Pool::shutdown_now`](crate::Pool::shutdown_now).
///
/// Every job that was running or queued when the shutdown began (or was accepted while it began)
/// is counted exactly once: it finished during the drain (`succeeded`, `failed`, `panicked`,
/// `timed_out`) or was `cancelled` (by the deadline, or through its handle), so
/// [`in_flight`](ShutdownReport::in_flight) is their total. `cancelled_ids` lists the cancelled
/// jobs, in id order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Jobs that returned `Ok` during the drain.
    pub succeeded: u64,
    /// Jobs that returned `Err` during the drain.
    pub failed: u64,
    /// Jobs that panicked during the drain.
    pub panicked: u64,
    /// Jobs that ran past their timeout during the drain.
    pub timed_out: u64,
    /// Jobs cancelled: still running or queued at the deadline, or cancelled through a handle.
    pub cancelled: u64,
    /// The ids of the cancelled jobs, sorted.
    pub cancelled_ids: Vec<JobId>,
    /// From the start of the shutdown to the last worker's exit.
    pub elapsed: Duration,
    /// True if the drain deadline passed with jobs left (they were cancelled).
    pub deadline_reached: bool,
}

impl ShutdownReport {
    /// Jobs that ended during the shutdown: finished plus cancelled.
    pub fn in_flight(&self) -> u64 {
        self.finished() + self.cancelled
    }

    /// Jobs that reached an outcome other than `Cancelled` during the drain.
    pub fn finished(&self) -> u64 {
        self.succeeded + self.failed + self.panicked + self.timed_out
    }
}

/// The running tally behind a [`ShutdownReport`], kept by workers once the pool is closing.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    succeeded: u64,
    failed: u64,
    panicked: u64,
    timed_out: u64,
    cancelled_ids: Vec<JobId>,
}

impl Tally {
    pub(crate) fn record(&mut self, kind: OutcomeKind, id: JobId) {
        match kind {
            OutcomeKind::Succeeded => self.succeeded += 1,
            OutcomeKind::Failed => self.failed += 1,
            OutcomeKind::Panicked => self.panicked += 1,
            OutcomeKind::TimedOut => self.timed_out += 1,
            OutcomeKind::Cancelled => self.cancelled_ids.push(id),
        }
    }

    pub(crate) fn into_report(
        mut self,
        elapsed: Duration,
        deadline_reached: bool,
    ) -> ShutdownReport {
        self.cancelled_ids.sort_unstable();
        ShutdownReport {
            succeeded: self.succeeded,
            failed: self.failed,
            panicked: self.panicked,
            timed_out: self.timed_out,
            cancelled: self.cancelled_ids.len() as u64,
            cancelled_ids: self.cancelled_ids,
            elapsed,
            deadline_reached,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_adds_up_and_sorts_ids() {
        let mut t = Tally::default();
        t.record(OutcomeKind::Succeeded, JobId::from_raw(1));
        t.record(OutcomeKind::Cancelled, JobId::from_raw(9));
        t.record(OutcomeKind::Cancelled, JobId::from_raw(4));
        t.record(OutcomeKind::TimedOut, JobId::from_raw(2));
        let r = t.into_report(Duration::from_secs(3), true);
        assert_eq!(r.cancelled_ids, [JobId::from_raw(4), JobId::from_raw(9)]);
        assert_eq!((r.finished(), r.cancelled, r.in_flight()), (2, 2, 4));
        assert!(r.deadline_reached);
    }
}

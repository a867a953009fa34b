//! [`PoolStats`]: a snapshot of a pool's workers, counters and latencies.

use std::sync::atomic::Ordering::Acquire;

use crate::histogram::{LatencySummary, Merged};
use crate::inner::Core;

/// A snapshot of a pool, from [`Pool::stats`](crate::Pool::stats).
///
/// The job counters always add up:
/// `submitted = succeeded + failed + panicked + timed_out + cancelled + running + queued`
/// (see [`adds_up`](PoolStats::adds_up)). The snapshot is read without stopping the pool, so on a
/// busy pool it is a consistent but slightly blurred picture (each counter is exact at the moment
/// it was read). A job cancelled through its handle while waiting counts as `queued` until its
/// worker reaches it and discards it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Workers serving a queue now (0 once the pool has shut down).
    pub workers: usize,
    /// The configured minimum.
    pub min_workers: usize,
    /// The configured maximum.
    pub max_workers: usize,
    /// Workers running a job now.
    pub busy_workers: usize,
    /// Jobs accepted, ever.
    pub submitted: u64,
    /// Jobs waiting for a worker.
    pub queued: u64,
    /// Jobs running.
    pub running: u64,
    /// Jobs that returned `Ok`.
    pub succeeded: u64,
    /// Jobs that returned `Err`.
    pub failed: u64,
    /// Jobs that panicked.
    pub panicked: u64,
    /// Jobs that ran past their timeout.
    pub timed_out: u64,
    /// Jobs cancelled (through their handle or by a shutdown).
    pub cancelled: u64,
    /// One entry per worker slot allocated so far, active or not: slots are allocated as
    /// workers first need them, a segment at a time (16, then 32, 64...), so a pool allowed
    /// 10,000 workers that ran 8 lists 16.
    pub per_worker: Vec<WorkerStats>,
    /// Time from submission to start, over every job started.
    pub queue_wait: LatencySummary,
    /// Time from start to outcome, over every job run.
    pub run_time: LatencySummary,
}

impl PoolStats {
    /// Jobs that reached an outcome.
    pub fn finished(&self) -> u64 {
        self.succeeded + self.failed + self.panicked + self.timed_out + self.cancelled
    }

    /// True when `submitted = finished + running + queued`.
    pub fn adds_up(&self) -> bool {
        self.submitted == self.finished() + self.running + self.queued
    }
}

/// One worker slot in [`PoolStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct WorkerStats {
    /// The slot's index (also its index among balancer candidates).
    pub index: usize,
    /// True if a worker serves the slot now.
    pub active: bool,
    /// The slot's weight for balancing.
    pub weight: u32,
    /// Jobs that reached an outcome on this slot's workers, ever.
    pub jobs: u64,
    /// Jobs assigned to the slot and not finished (waiting or running): what balancers see.
    pub in_flight: u64,
}

pub(crate) fn snapshot(core: &Core) -> PoolStats {
    let serving: Vec<bool> = core.slots.allocated().map(|s| s.serving()).collect();
    let mut stats = PoolStats {
        workers: serving.iter().filter(|&&s| s).count(),
        min_workers: core.config.min_workers,
        max_workers: core.config.max_workers,
        busy_workers: 0,
        submitted: 0,
        queued: 0,
        running: 0,
        succeeded: 0,
        failed: 0,
        panicked: 0,
        timed_out: 0,
        cancelled: 0,
        per_worker: Vec::with_capacity(serving.len()),
        queue_wait: LatencySummary::default(),
        run_time: LatencySummary::default(),
    };
    let (mut wait, mut run) = (Merged::new(), Merged::new());
    let mut taken = 0;
    for (index, slot) in core.slots.allocated().enumerate() {
        let c = &slot.counters;
        // Outcomes before `taken`, `taken` before `submitted`: each is stored after the other by
        // the writers, so a later read is never behind an earlier one and nothing goes negative.
        let outcomes = [
            &c.succeeded,
            &c.failed,
            &c.panicked,
            &c.timed_out,
            &c.cancelled,
        ]
        .map(|counter| counter.load(Acquire));
        let ended: u64 = outcomes.iter().sum();
        let slot_taken = c.taken.load(Acquire);
        stats.succeeded += outcomes[0];
        stats.failed += outcomes[1];
        stats.panicked += outcomes[2];
        stats.timed_out += outcomes[3];
        stats.cancelled += outcomes[4];
        let running = slot_taken.saturating_sub(ended);
        stats.running += running;
        stats.busy_workers += usize::from(running > 0);
        taken += slot_taken.max(ended);
        c.queue_wait.merge_into(&mut wait);
        c.run_time.merge_into(&mut run);
        stats.per_worker.push(WorkerStats {
            index,
            active: serving[index],
            weight: slot.weight,
            jobs: ended,
            in_flight: slot.in_flight() as u64,
        });
    }
    stats.submitted = core.submitted().max(taken);
    stats.queued = stats.submitted - taken;
    stats.queue_wait = wait.summary();
    stats.run_time = run.summary();
    stats
}

//! A worker: one tokio task that runs the jobs of its slot one at a time.
//!
//! The loop takes up to [`BATCH`] jobs from its queue under one lock, runs them from a local
//! buffer, and when it runs dry steals the older half of a sibling's queue (if enabled), then
//! parks with its waker in its queue (a submitter that pushes wakes it). Each job is polled once
//! on the fast path; only a job that returns `Pending` gets a timer for its timeout and a place
//! in the abort notification. Every poll runs under `catch_unwind`.
//!
//! Exits: the last worker retires after `idle_timeout` without work (if the pool is above its
//! minimum); on shutdown a worker exits once its queue is empty, or cancels everything left when
//! the drain deadline passes. A worker closes its queue (under the lock) before it exits, so no
//! job can be stranded in it; its `Drop` hands a local batch back to the queue if the task is
//! dropped mid-run.

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::Ordering::{Acquire, Relaxed};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep, sleep_until};
use tracing::Span;

use crate::inner::{ABORTING, CLOSING, Core};
use crate::job::{BoxedBody, Finish, Job, OutcomeKind, Status};
use crate::panic::{self, poll_unwind};

/// Most jobs taken from a queue under one lock.
const BATCH: usize = 64;
/// Jobs run back to back before the worker yields to the scheduler (jobs that never wait would
/// otherwise keep the thread from other tasks).
const YIELD_EVERY: u32 = 256;

/// How a job ended, as seen by its worker.
#[derive(Debug)]
enum Ended {
    Status(Status),
    Panicked(String),
    TimedOut(Duration),
    /// Cancelled by a shutdown (deadline passed, or `shutdown_now`).
    Aborted,
}

/// What an idle worker does next.
enum Idle {
    Wait,
    Retire,
}

pub(crate) struct Worker {
    core: Arc<Core>,
    index: usize,
    batch: VecDeque<Job>,
    /// When the previous job ended, reused as the next job's start while jobs run back to back.
    last_end: Option<u64>,
    since_yield: u32,
    idle_since: Option<Instant>,
    idle_timer: Option<Pin<Box<Sleep>>>,
}

impl Worker {
    pub(crate) fn new(core: Arc<Core>, index: usize) -> Self {
        Self {
            core,
            index,
            batch: VecDeque::with_capacity(BATCH),
            last_end: None,
            since_yield: 0,
            idle_since: None,
            idle_timer: None,
        }
    }

    pub(crate) async fn run(mut self) {
        loop {
            let Some(job) = self.batch.pop_front() else {
                if poll_fn(|cx| self.poll_refill(cx)).await {
                    continue;
                }
                return;
            };
            self.run_job(job).await;
            self.since_yield += 1;
            if self.since_yield >= YIELD_EVERY {
                self.since_yield = 0;
                tokio::task::yield_now().await;
                self.last_end = None;
            }
        }
    }

    async fn run_job(&mut self, mut job: Job) {
        if self.core.flags.load(Relaxed) & ABORTING != 0 {
            self.settle(job, Ended::Aborted, true);
            return;
        }
        let start = match self.last_end {
            Some(end) => end,
            None => self.core.stamp(),
        };
        {
            let counters = &self.core.slots.get(self.index).counters;
            counters.took();
            counters
                .queue_wait
                .record(start.saturating_sub(job.enqueued));
        }
        let Some(fut) = job.body.as_mut() else {
            // Not reachable: a queued job always has its future. Count it as cancelled.
            self.settle(job, Ended::Aborted, false);
            return;
        };
        let span = tracing::debug_span!("job", id = job.id.get(), worker = self.index);
        let first =
            poll_fn(|cx| Poll::Ready(span.in_scope(|| poll_unwind(fut.as_mut(), cx)))).await;
        let mut waited = false;
        let ended = match first {
            Ok(Poll::Ready(status)) => Ended::Status(status),
            Err(message) => Ended::Panicked(message),
            Ok(Poll::Pending) => {
                let timeout = job.options.resolve(self.core.config.default_timeout);
                let ended = self.wait_for(fut, start, timeout, &span).await;
                waited = true;
                ended
            }
        };
        let end = self.core.stamp();
        self.last_end = Some(end);
        if !matches!(ended, Ended::Aborted) {
            let counters = &self.core.slots.get(self.index).counters;
            counters.run_time.record(end.saturating_sub(start));
        }
        self.settle(job, ended, false);
        if waited {
            self.core.slots.get(self.index).publish_done();
        }
    }

    /// The slow path: the job returned `Pending`. Waits for it, its timeout or an abort.
    async fn wait_for(
        &mut self,
        fut: &mut BoxedBody,
        start: u64,
        timeout: Option<Duration>,
        span: &Span,
    ) -> Ended {
        // Jobs waiting behind this one go back to the queue, where idle siblings can steal them.
        self.return_batch();
        let core = self.core.clone();
        let slot = &core.slots.get(self.index);
        slot.publish_done();
        // A timeout too long for an instant to hold never fires.
        let mut sleep = pin!(
            timeout
                .and_then(|t| core.instant(start).checked_add(t))
                .map(sleep_until)
        );
        let mut abort = pin!(core.abort_notify.notified());
        abort.as_mut().enable();
        let mut polled = true; // the fast path has just polled the job
        poll_fn(|cx| {
            if core.flags.load(Acquire) & ABORTING != 0 {
                return Poll::Ready(Ended::Aborted);
            }
            if !polled {
                match span.in_scope(|| poll_unwind(fut.as_mut(), cx)) {
                    Ok(Poll::Ready(status)) => return Poll::Ready(Ended::Status(status)),
                    Err(message) => return Poll::Ready(Ended::Panicked(message)),
                    Ok(Poll::Pending) => {}
                }
            }
            polled = false;
            if let (Some(timer), Some(after)) = (sleep.as_mut().as_pin_mut(), timeout)
                && timer.poll(cx).is_ready()
            {
                return Poll::Ready(Ended::TimedOut(after));
            }
            if abort.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Ended::Aborted);
            }
            Poll::Pending
        })
        .await
    }

    /// Counts the job's outcome, drops its future and tells its handle, in that order: a handle
    /// that resolves sees the job counted and its future gone.
    fn settle(&mut self, mut job: Job, ended: Ended, take: bool) {
        let counters = &self.core.slots.get(self.index).counters;
        if take {
            counters.took();
        }
        let (kind, finish) = match ended {
            Ended::Status(Status::Succeeded) => (OutcomeKind::Succeeded, Finish::Completed),
            Ended::Status(Status::Failed) => (OutcomeKind::Failed, Finish::Completed),
            Ended::Status(Status::Cancelled) | Ended::Aborted => {
                (OutcomeKind::Cancelled, Finish::Cancelled)
            }
            Ended::Panicked(message) => {
                tracing::debug!(job = job.id.get(), worker = self.index, %message, "job panicked");
                (OutcomeKind::Panicked, Finish::Panicked(message))
            }
            Ended::TimedOut(after) => {
                tracing::debug!(
                    job = job.id.get(),
                    worker = self.index,
                    ?after,
                    "job timed out"
                );
                (OutcomeKind::TimedOut, Finish::TimedOut(after))
            }
        };
        counters.ended(kind);
        if self.core.flags.load(Relaxed) & CLOSING != 0 {
            self.core.tally(kind, job.id);
        }
        if let Some(body) = job.body.take() {
            panic::finish(body, finish, job.id);
        }
    }

    /// Finds work for an empty batch: `Ready(true)` with jobs in the batch, `Ready(false)` to
    /// exit, `Pending` parked on the queue (and on the idle timer when the worker may retire).
    fn poll_refill(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
        self.core.slots.get(self.index).publish_done();
        loop {
            if self.core.flags.load(Acquire) & ABORTING != 0 {
                self.cancel_queued();
                return Poll::Ready(false);
            }
            if self.take_own() || (self.core.config.work_stealing && self.steal()) {
                self.idle_since = None;
                self.core.notify_room();
                return Poll::Ready(true);
            }
            self.last_end = None;
            {
                let slot = &self.core.slots.get(self.index);
                let mut queue = slot.intake.lock();
                if !queue.jobs.is_empty() {
                    continue; // a submitter pushed since we looked
                }
                let flags = self.core.flags.load(Acquire);
                if flags & ABORTING != 0 {
                    continue;
                }
                if flags & CLOSING != 0 {
                    queue.closed = true;
                    return Poll::Ready(false);
                }
                match &queue.waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => queue.waker = Some(cx.waker().clone()),
                }
            }
            self.core.notify_if_idle();
            match self.poll_idle(cx) {
                Idle::Wait => return Poll::Pending,
                Idle::Retire => {
                    if self.core.retire(self.index) {
                        return Poll::Ready(false);
                    }
                    // Work arrived (or the pool changed): look again.
                    self.idle_since = None;
                }
            }
        }
    }

    /// Whether an idle worker should retire now; arms the idle timer if it may retire later.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Idle {
        let config = &self.core.config;
        if config.min_workers == config.max_workers {
            return Idle::Wait; // the pool never shrinks: no clock, no timer
        }
        let since = *self.idle_since.get_or_insert_with(Instant::now);
        let active = self.core.active.load(Acquire);
        let last = self.index + 1 == active && active > config.min_workers;
        if !last || !self.core.accepting() {
            return Idle::Wait; // woken by the retiring worker above when it becomes last
        }
        let Some(deadline) = since.checked_add(config.idle_timeout) else {
            return Idle::Wait; // an idle timeout too long for an instant to hold never passes
        };
        if Instant::now() >= deadline {
            return Idle::Retire;
        }
        let timer = self
            .idle_timer
            .get_or_insert_with(|| Box::pin(sleep_until(deadline)));
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Idle::Retire,
            Poll::Pending => Idle::Wait,
        }
    }

    /// Moves up to [`BATCH`] jobs from the worker's own queue into its batch.
    fn take_own(&mut self) -> bool {
        let slot = &self.core.slots.get(self.index);
        let mut queue = slot.intake.lock();
        if queue.jobs.is_empty() {
            return false;
        }
        let n = queue.jobs.len().min(BATCH);
        self.batch.extend(queue.jobs.drain(..n));
        slot.intake.note_len(&queue);
        true
    }

    /// Takes the older half (at most [`BATCH`]) of the first sibling queue that has jobs.
    fn steal(&mut self) -> bool {
        let active = self.core.active.load(Acquire);
        for k in 1..active {
            let victim = &self.core.slots.get((self.index + k) % active);
            if victim.intake.len_hint() == 0 {
                continue;
            }
            let mut queue = victim.intake.lock();
            let n = queue.jobs.len().div_ceil(2).min(BATCH);
            if n == 0 {
                continue;
            }
            self.batch.extend(queue.jobs.drain(..n));
            victim.intake.note(&queue, -(n as i64));
            drop(queue);
            let own = &self.core.slots.get(self.index).intake;
            own.note(&own.lock(), n as i64);
            return true;
        }
        false
    }

    /// Puts the local batch back at the front of the worker's queue, and wakes a parked sibling
    /// to steal from it.
    fn return_batch(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let slot = &self.core.slots.get(self.index);
        {
            let mut queue = slot.intake.lock();
            while let Some(job) = self.batch.pop_back() {
                queue.jobs.push_front(job);
            }
            slot.intake.note_len(&queue);
        }
        if self.core.config.work_stealing {
            let active = self.core.active.load(Acquire);
            if let Some(sibling) = (1..active)
                .map(|k| (self.index + k) % active)
                .find(|&i| self.core.slots.get(i).intake.lock().waker.is_some())
            {
                self.core.wake(sibling);
            }
        }
    }

    /// The drain deadline passed: cancels the batch and the queue, and closes the queue.
    fn cancel_queued(&mut self) {
        let mut jobs: Vec<Job> = self.batch.drain(..).collect();
        {
            let intake = &self.core.slots.get(self.index).intake;
            let mut queue = intake.lock();
            queue.closed = true;
            queue.waker = None;
            jobs.extend(queue.jobs.drain(..));
            intake.note_len(&queue);
        }
        for job in jobs {
            self.settle(job, Ended::Aborted, true);
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if !self.batch.is_empty() {
            // Dropped mid-run (the runtime is going away): the jobs go back to the queue, where
            // they stay until the pool is dropped and their handles resolve `Cancelled`.
            let intake = &self.core.slots.get(self.index).intake;
            let mut queue = intake.lock();
            while let Some(job) = self.batch.pop_back() {
                queue.jobs.push_front(job);
            }
            intake.note_len(&queue);
        }
        self.core.worker_exited(self.index);
    }
}

//! The state shared by a pool's handles and workers: slots, flags, counters, and the submit path
//! (balancer pick, push to one worker's queue, wake it if parked, scale up if work backs up).

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::atomic::{
    AtomicU8, AtomicUsize,
    Ordering::{Acquire, Relaxed, Release, SeqCst},
    fence,
};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Poll;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::Notify;
use tokio::time::{Instant, sleep_until};

use crate::balance::Balancer;
use crate::error::SubmitError;
use crate::job::{Job, JobId, OutcomeKind};
use crate::shutdown::{ShutdownReport, Tally};
use crate::slot::{Queue, Slot, SlotView, Slots};
use crate::worker::Worker;

/// New jobs are accepted.
pub(crate) const ACCEPTING: u8 = 1;
/// Shutting down: workers finish what is queued, then exit.
pub(crate) const CLOSING: u8 = 2;
/// The drain deadline passed: workers cancel what is left, then exit.
pub(crate) const ABORTING: u8 = 4;

/// The most workers a pool starts when it is built; the others of `min_workers` start when work
/// finds every started worker busy.
pub(crate) const EAGER_WORKERS: usize = 64;

/// Validated settings.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) min_workers: usize,
    pub(crate) max_workers: usize,
    pub(crate) idle_timeout: Duration,
    pub(crate) scale_up_threshold: usize,
    pub(crate) default_timeout: Option<Duration>,
    pub(crate) queue_capacity: Option<usize>,
    pub(crate) work_stealing: bool,
}

/// Why a job found no queue.
enum Refusal {
    ShuttingDown,
    Full(usize),
}

impl Refusal {
    fn with<J>(self, job: J) -> SubmitError<J> {
        match self {
            Self::ShuttingDown => SubmitError::ShuttingDown { job },
            Self::Full(capacity) => SubmitError::Full { job, capacity },
        }
    }
}

#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) slots: Slots,
    pub(crate) config: Config,
    pub(crate) balancer: Arc<dyn Balancer>,
    pub(crate) runtime: Handle,
    /// Time zero of the pool's timestamps.
    pub(crate) epoch: Instant,
    /// `ACCEPTING`, `CLOSING`, `ABORTING`.
    pub(crate) flags: AtomicU8,
    /// Slots `0..active` have a worker and take jobs.
    pub(crate) active: AtomicUsize,
    /// Worker tasks alive (a retiring worker is counted until it is gone).
    pub(crate) live: AtomicUsize,
    /// Serialises starting and retiring workers.
    scale: Mutex<()>,
    idle_waiters: AtomicUsize,
    idle_notify: Notify,
    pub(crate) room_waiters: AtomicUsize,
    pub(crate) room_notify: Notify,
    pub(crate) abort_notify: Notify,
    exit_notify: Notify,
    pub(crate) closed_notify: Notify,
    /// What ended after the shutdown began.
    tally: Mutex<Tally>,
    pub(crate) report: tokio::sync::Mutex<Option<ShutdownReport>>,
}

impl Core {
    pub(crate) fn new(
        config: Config,
        weights: &[u32],
        balancer: Arc<dyn Balancer>,
        runtime: Handle,
    ) -> Arc<Self> {
        let slots = Slots::new(config.max_workers, weights);
        let core = Arc::new(Self {
            slots,
            config,
            balancer,
            runtime,
            epoch: Instant::now(),
            flags: AtomicU8::new(ACCEPTING),
            active: AtomicUsize::new(0),
            live: AtomicUsize::new(0),
            scale: Mutex::new(()),
            idle_waiters: AtomicUsize::new(0),
            idle_notify: Notify::new(),
            room_waiters: AtomicUsize::new(0),
            room_notify: Notify::new(),
            abort_notify: Notify::new(),
            exit_notify: Notify::new(),
            closed_notify: Notify::new(),
            tally: Mutex::new(Tally::default()),
            report: tokio::sync::Mutex::new(None),
        });
        {
            // Warm workers, but never more than a few: the rest of `min_workers` start as work
            // needs them (see `choose` and `grow_for`), so a large limit costs nothing up front.
            let _scale = core.lock_scale();
            for i in 0..core.config.min_workers.min(EAGER_WORKERS) {
                core.start_worker(i);
            }
        }
        core
    }

    fn lock_scale(&self) -> MutexGuard<'_, ()> {
        self.scale.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Now, in nanoseconds since the pool's epoch (on tokio's clock, so paused in tests).
    pub(crate) fn stamp(&self) -> u64 {
        let since = Instant::now().saturating_duration_since(self.epoch);
        since.as_secs() * 1_000_000_000 + u64::from(since.subsec_nanos())
    }

    /// The instant of a [`stamp`](Core::stamp).
    pub(crate) fn instant(&self, stamp: u64) -> Instant {
        self.epoch + Duration::from_nanos(stamp)
    }

    pub(crate) fn accepting(&self) -> bool {
        self.flags.load(Relaxed) & ACCEPTING != 0
    }

    /// Submits `job`: `build` turns it into a queued [`Job`] (enqueued at the given
    /// [`stamp`](Core::stamp)) once a queue with room is locked, so a refused job comes back
    /// untouched.
    pub(crate) fn dispatch<J, R>(
        self: &Arc<Self>,
        job: J,
        build: impl FnOnce(J, u64) -> (Job, R),
    ) -> Result<R, SubmitError<J>> {
        if !self.accepting() {
            return Err(SubmitError::ShuttingDown { job });
        }
        let now = self.stamp();
        let (slot, mut queue, active) = match self.choose() {
            Ok(chosen) => chosen,
            Err(refusal) => return Err(refusal.with(job)),
        };
        let (job, out) = build(job, now);
        queue.jobs.push_back(job);
        slot.intake.note_accepted(&queue);
        self.pushed(queue, active);
        Ok(out)
    }

    /// After jobs were pushed to `queue` (still locked): unlocks it, wakes its worker if parked,
    /// and scales up if the jobs are piling up.
    fn pushed(self: &Arc<Self>, mut queue: MutexGuard<'_, Queue>, active: usize) {
        let waiting = queue.jobs.len();
        let parked = queue.waker.take();
        drop(queue);
        if let Some(waker) = parked {
            waker.wake();
        }
        if waiting >= self.config.scale_up_threshold && active < self.config.max_workers {
            self.try_scale_up();
        }
    }

    /// Dispatches prepared jobs together: each worker queue it uses is locked once and its worker
    /// woken at most once for the whole batch. Jobs are spread over the active workers (the
    /// balancer picks each share's queue, so the least loaded goes first), in order. Accepted jobs
    /// are drained from the front of `jobs`; the ones left are refused (shutting down, or every
    /// queue full).
    pub(crate) fn dispatch_batch(self: &Arc<Self>, jobs: &mut Vec<Job>) {
        // The share per worker is fixed up front: recomputed from what is left, it would shrink
        // each round and lock the same queues again.
        self.grow_for(jobs.len());
        let mut per_worker = None;
        while !jobs.is_empty() {
            if !self.accepting() {
                break;
            }
            let now = self.stamp();
            let Ok((slot, mut queue, active)) = self.choose() else {
                break;
            };
            let per_worker = *per_worker.get_or_insert_with(|| jobs.len().div_ceil(active));
            // `choose` only returns a queue with room, so the share is at least one.
            let mut share = per_worker.min(jobs.len());
            if let Some(capacity) = self.config.queue_capacity {
                share = share.min(capacity.saturating_sub(queue.jobs.len()));
            }
            queue.jobs.extend(jobs.drain(..share).map(|mut job| {
                job.enqueued = now;
                job
            }));
            slot.intake.note_accepted_many(&queue, share);
            self.pushed(queue, active);
        }
    }

    /// Dispatches a prepared [`Job`], stamping when it joined the queue.
    pub(crate) fn dispatch_job(self: &Arc<Self>, job: Job) -> Result<JobId, SubmitError<Job>> {
        self.dispatch(job, |mut job, now| {
            job.enqueued = now;
            let id = job.id;
            (job, id)
        })
    }

    /// Picks a worker with the balancer and locks its queue. Below `min_workers`, a job whose
    /// pick already has work starts a worker of its own instead.
    fn choose(self: &Arc<Self>) -> Result<(&Slot, MutexGuard<'_, Queue>, usize), Refusal> {
        loop {
            let n = self.active.load(Acquire);
            if n == 0 {
                self.start_first_worker()?;
                continue;
            }
            let view = SlotView {
                slots: &self.slots,
                n,
            };
            let pick = match self.balancer.pick(&view) {
                Some(i) if i < n => i,
                _ => 0,
            };
            let slot = self.slots.get(pick);
            if n < self.config.min_workers && slot.in_flight() > 0 && self.start_next(n) {
                continue;
            }
            let queue = slot.intake.lock();
            if queue.closed {
                // Its worker retired after we read `active` (which it lowered first): pick again.
                drop(queue);
                if !self.accepting() {
                    return Err(Refusal::ShuttingDown);
                }
                continue;
            }
            if let Some(capacity) = self.config.queue_capacity
                && queue.jobs.len() >= capacity
            {
                drop(queue);
                return self.choose_with_room(pick, n, capacity);
            }
            return Ok((slot, queue, n));
        }
    }

    /// The balancer's choice is full: the first other worker (in index order) with room.
    fn choose_with_room(
        &self,
        full: usize,
        n: usize,
        capacity: usize,
    ) -> Result<(&Slot, MutexGuard<'_, Queue>, usize), Refusal> {
        for k in 1..n {
            let slot = &self.slots.get((full + k) % n);
            let queue = slot.intake.lock();
            if !queue.closed && queue.jobs.len() < capacity {
                return Ok((slot, queue, n));
            }
        }
        if self.accepting() {
            Err(Refusal::Full(capacity))
        } else {
            Err(Refusal::ShuttingDown)
        }
    }

    /// Starts worker `n` if `n` workers are active and the pool accepts work; true if it did.
    fn start_next(self: &Arc<Self>, n: usize) -> bool {
        let _scale = self.lock_scale();
        if self.active.load(Acquire) != n || n >= self.config.max_workers || !self.accepting() {
            return false;
        }
        self.start_worker(n);
        true
    }

    /// Below `min_workers`, starts as many workers as `jobs` new jobs need beyond the idle ones
    /// (up to `min_workers`), so that a batch spreads as single jobs would.
    fn grow_for(self: &Arc<Self>, jobs: usize) {
        let n = self.active.load(Acquire);
        if n >= self.config.min_workers {
            return;
        }
        let idle = (0..n)
            .filter(|&i| self.slots.get(i).in_flight() == 0)
            .count();
        let wanted = (n + jobs.saturating_sub(idle)).min(self.config.min_workers);
        if wanted <= n {
            return;
        }
        let _scale = self.lock_scale();
        while self.accepting() {
            let active = self.active.load(Acquire);
            if active >= wanted {
                break;
            }
            self.start_worker(active);
        }
    }

    /// With `min_workers = 0` every worker may have retired: start one for this job.
    fn start_first_worker(self: &Arc<Self>) -> Result<(), Refusal> {
        let _scale = self.lock_scale();
        if !self.accepting() {
            return Err(Refusal::ShuttingDown);
        }
        if self.active.load(Acquire) == 0 {
            self.start_worker(0);
        }
        Ok(())
    }

    /// Starts one more worker if every worker is busy and the pool is below its maximum.
    fn try_scale_up(self: &Arc<Self>) {
        let Ok(_scale) = self.scale.try_lock() else {
            return; // someone else is scaling
        };
        let n = self.active.load(Acquire);
        if n >= self.config.max_workers || !self.accepting() {
            return;
        }
        if (0..n).all(|i| self.slots.get(i).busy()) {
            self.start_worker(n);
        }
    }

    /// Starts the worker of slot `index` (which must be `active`). Call with the scale lock held.
    fn start_worker(self: &Arc<Self>, index: usize) {
        self.slots.get(index).intake.lock().closed = false;
        self.live.fetch_add(1, SeqCst);
        self.active.store(index + 1, Release);
        tracing::debug!(worker = index, "pool worker started");
        // The worker owns its exit bookkeeping (in `Drop`), so it runs even if the runtime drops
        // the task without polling it.
        let worker = Worker::new(self.clone(), index);
        drop(self.runtime.spawn(worker.run()));
    }

    /// Retires the worker of slot `index` if it is the last active one, the pool is above its
    /// minimum and its queue is empty (the queue is then closed). True if it must exit.
    pub(crate) fn retire(&self, index: usize) -> bool {
        let _scale = self.lock_scale();
        let n = self.active.load(Acquire);
        if n != index + 1 || n <= self.config.min_workers || !self.accepting() {
            return false;
        }
        // Lower `active` first, so submitters that find the queue closed pick among the others.
        self.active.store(index, SeqCst);
        let mut queue = self.slots.get(index).intake.lock();
        if !queue.jobs.is_empty() {
            self.active.store(n, SeqCst);
            return false;
        }
        queue.closed = true;
        queue.waker = None;
        drop(queue);
        tracing::debug!(worker = index, "pool worker retiring after idle timeout");
        if index > 0 {
            // The new last worker may have been idle long enough to retire too.
            self.wake(index - 1);
        }
        true
    }

    /// Wakes the worker of slot `index` if it is parked on its queue.
    pub(crate) fn wake(&self, index: usize) {
        let waker = self.slots.get(index).intake.lock().waker.take();
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn wake_all(&self) {
        for slot in self.slots.allocated() {
            let waker = slot.intake.lock().waker.take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    /// Called by a worker as it exits.
    pub(crate) fn worker_exited(&self, index: usize) {
        tracing::debug!(worker = index, "pool worker stopped");
        if self.live.fetch_sub(1, SeqCst) == 1 {
            self.exit_notify.notify_waiters();
        }
    }

    /// Stops accepting jobs; workers finish what is queued and exit.
    pub(crate) fn close(&self) {
        let before = self.flags.fetch_and(!ACCEPTING, SeqCst);
        self.flags.fetch_or(CLOSING, SeqCst);
        if before & ACCEPTING != 0 {
            tracing::debug!("pool closing");
        }
        self.wake_all();
        self.closed_notify.notify_waiters();
        self.room_notify.notify_waiters();
    }

    /// Closes the pool and cancels every job still running or queued.
    pub(crate) fn abort(&self) {
        self.close();
        self.flags.fetch_or(ABORTING, SeqCst);
        self.abort_notify.notify_waiters();
        self.wake_all();
    }

    /// Waits until every worker has exited (true) or `deadline` passes (false unless they have).
    pub(crate) async fn workers_exited(&self, deadline: Option<Instant>) -> bool {
        let mut sleep = pin!(deadline.map(sleep_until));
        loop {
            let mut exited = pin!(self.exit_notify.notified());
            exited.as_mut().enable();
            if self.live.load(SeqCst) == 0 {
                return true;
            }
            let timed_out = poll_fn(|cx| {
                if exited.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(false);
                }
                match sleep.as_mut().as_pin_mut().map(|s| s.poll(cx)) {
                    Some(Poll::Ready(())) => Poll::Ready(true),
                    _ => Poll::Pending,
                }
            })
            .await;
            if timed_out {
                return self.live.load(SeqCst) == 0;
            }
        }
    }

    /// Jobs accepted, ever.
    pub(crate) fn submitted(&self) -> u64 {
        self.slots.allocated().map(|s| s.intake.accepted()).sum()
    }

    /// True when every job accepted so far has reached an outcome.
    ///
    /// Each job is accepted (under its queue's lock) before any worker can take it, so reading
    /// the finished counts first and the accepted counts after can only see more accepted jobs
    /// than finished ones, unless at some instant between the reads every accepted job had
    /// finished.
    fn is_idle(&self) -> bool {
        let finished: u64 = self
            .slots
            .allocated()
            .map(|s| s.counters.finished.load(SeqCst))
            .sum();
        fence(SeqCst);
        finished >= self.submitted()
    }

    /// Called by a worker that found nothing to run.
    pub(crate) fn notify_if_idle(&self) {
        // Orders this worker's counter stores before the read of `idle_waiters` (against the
        // waiter, which registers before it checks the counters).
        fence(SeqCst);
        if self.idle_waiters.load(SeqCst) > 0 && self.is_idle() {
            self.idle_notify.notify_waiters();
        }
    }

    /// Waits until every job accepted so far has reached an outcome.
    pub(crate) async fn idle(&self) {
        loop {
            let mut notified = pin!(self.idle_notify.notified());
            notified.as_mut().enable();
            self.idle_waiters.fetch_add(1, SeqCst);
            let idle = self.is_idle();
            if !idle {
                notified.await;
            }
            self.idle_waiters.fetch_sub(1, SeqCst);
            if idle {
                return;
            }
        }
    }

    /// Called by a worker that took jobs off a queue, when queues are bounded.
    pub(crate) fn notify_room(&self) {
        if self.config.queue_capacity.is_some() && self.room_waiters.load(SeqCst) > 0 {
            self.room_notify.notify_waiters();
        }
    }

    /// Records a job that ended after the shutdown began.
    pub(crate) fn tally(&self, kind: OutcomeKind, id: JobId) {
        self.tally
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .record(kind, id);
    }

    pub(crate) fn take_tally(&self) -> Tally {
        std::mem::take(&mut *self.tally.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// `fut`'s output, or `None` if the pool stops accepting jobs first (checked before polling).
    pub(crate) async fn unless_closed<F: Future>(&self, fut: F) -> Option<F::Output> {
        let mut fut = pin!(fut);
        let mut closed = pin!(self.closed_notify.notified());
        closed.as_mut().enable();
        poll_fn(|cx| {
            if !self.accepting() || closed.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            fut.as_mut().poll(cx).map(Some)
        })
        .await
    }
}

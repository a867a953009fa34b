//! The engine: one tokio task per orchestrator that owns the state of every run.
//!
//! Everything that changes a run happens here, in one place, so a run needs no lock and its
//! events come out in order. The loop:
//!
//! 1. takes commands (start a run, cancel one, subscribe);
//! 2. takes the batch of attempts that ended (the executor's [`Done`]s deliver to one inbox);
//! 3. ends runs past their deadline;
//! 4. pops ready attempts from the queue while the executor has room, and hands them over;
//! 5. waits for the next of: an ended attempt, a command, a delayed retry coming due, a deadline.
//!
//! A run's state changes are synchronous ([`Run`]'s methods); what they need from the queue
//! (pushes, cancellations) is collected as [`Op`]s that the loop applies right after each change.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Duration;

use baton_breaker::OwnedPermit;
use baton_dag::{NodeId, ReadyTracker};
use baton_pool::Outcome;
use baton_queue::{
    Popped, Priority, PushError, PushOptions, TaskId, TaskQueue, TaskState, TryPopError,
};
use baton_retry::Delays;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep_until};
use tracing::Span;

use crate::context::RunShared;
use crate::error::{TaskError, timed_out_message};
use crate::event::{Event, EventKind};
use crate::executor::{
    Attempt, AttemptFuture, Done, Executor, Finished, Inbox, Key, Stage, Start, StartExtras,
    TaskOutput,
};
use crate::faults::FaultPlan;
use crate::metrics::Metrics;
use crate::nanos::Nanos;
use crate::prefetch::{Allowance, Prefetch};
use crate::report::{
    CompensationReport, CriticalPath, Rollback, RunOutcome, RunReport, TaskName, TaskReport,
    TaskRows, Totals,
};
use crate::run::{RunId, RunOptions};
use crate::workflow::{FailureMode, Spec};

/// What the orchestrator puts in its queue: one attempt of one task (or compensation) of one
/// run. Opaque.
///
/// It names its run by [`RunId`] and by the slot where the engine keeps the run's state, both
/// meaningful only to the orchestrator that queued it, while it lives: run ids restart at 1 in
/// every orchestrator, and a slot indexes runs held in memory. It is serialisable so that a
/// [`TaskQueue`](baton_queue::TaskQueue) backend may keep items outside the process's memory (a
/// queue spilled to a file, say) for that orchestrator, not so that another process can pick a
/// run up from it: resuming a run elsewhere needs run ids that outlive the process, which a
/// durable store provides, not this item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QueuedTask {
    run: RunId,
    slot: u32,
    node: u32,
    compensation: bool,
    /// Whether the item holds one of its run's parallelism slots (delayed retries do not).
    counted: bool,
    /// When the item counts as queued from (its not-before instant, if it has one), in
    /// nanoseconds since its run started: the task's queue wait is measured from here. Items a
    /// durable backend stored without it read as queued at the run's start.
    #[serde(default)]
    queued: u64,
}

/// What the handles ask of the engine.
pub(crate) enum Command {
    Start(Box<NewRun>),
    Cancel(RunId),
    /// A subscriber, for the runs numbered from `from` on (those not started yet).
    Subscribe {
        sender: mpsc::UnboundedSender<Event>,
        from: u64,
    },
}

/// An event subscriber.
struct Subscriber {
    sender: mpsc::UnboundedSender<Event>,
    /// The first run it wants: runs already started when it subscribed are not its.
    from: u64,
}

/// A run to start.
pub(crate) struct NewRun {
    pub(crate) shared: Arc<RunShared>,
    pub(crate) options: RunOptions,
    pub(crate) reply: oneshot::Sender<RunReport>,
}

/// A queue operation a run's state change asked for.
enum Op {
    Push {
        item: QueuedTask,
        options: PushOptions,
    },
    Cancel {
        ticket: TaskId,
    },
}

/// Why a run is stopping early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// A task failed for good in fail-fast mode.
    Failed,
    /// Its handle cancelled it.
    Cancelled,
    /// It passed its timeout.
    TimedOut(Duration),
}

/// What a run's state changes borrow from the engine.
struct Ctx<'a> {
    now: Instant,
    /// `now` in nanoseconds since the engine's epoch.
    now_ns: u64,
    /// The engine's epoch: its times are nanoseconds since then.
    epoch: Instant,
    subscribers: &'a mut Vec<Subscriber>,
    metrics: &'a Metrics,
    ops: &'a mut Vec<Op>,
    /// Pushes asked for while `ops` was empty: they come before every operation in `ops`.
    pushes: &'a mut Vec<(QueuedTask, PushOptions)>,
    /// Set when a task gave up an item whose push is not applied yet (see [`Run::unqueue`]).
    withdrawn: &'a mut bool,
    scratch: &'a mut Vec<NodeId>,
    /// Items in the queue, or on their way there, over all runs.
    queued: &'a mut usize,
    /// Where attempts report, and references to it handed back by ended attempts, reused for
    /// new ones (see [`Run::spare`]).
    inbox: &'a Arc<Inbox>,
    spare_inboxes: &'a mut Vec<Arc<Inbox>>,
    /// Where launched attempts go, to be handed to the executor in one batch.
    handoff: &'a mut Vec<Attempt>,
}

impl Ctx<'_> {
    /// The instant `ns` nanoseconds after the engine's epoch.
    fn instant(&self, ns: u64) -> Instant {
        self.epoch + Duration::from_nanos(ns)
    }

    /// Sends an event to the subscribers. The event is built only if there are some: with none
    /// (the common case), an emit costs one length check.
    #[inline(always)]
    fn emit(
        &mut self,
        run: &Run,
        node: Option<usize>,
        at: Instant,
        kind: impl FnOnce() -> EventKind,
    ) {
        if !self.subscribers.is_empty() {
            self.send(run, node, at, kind());
        }
    }

    /// As [`emit`](Self::emit), at `ns` nanoseconds after the engine's epoch: turned into an
    /// instant only when there is a subscriber.
    #[inline(always)]
    fn emit_at_ns(
        &mut self,
        run: &Run,
        node: Option<usize>,
        ns: u64,
        kind: impl FnOnce() -> EventKind,
    ) {
        if !self.subscribers.is_empty() {
            let at = self.instant(ns);
            self.send(run, node, at, kind());
        }
    }

    #[inline(never)]
    fn send(&mut self, run: &Run, node: Option<usize>, at: Instant, kind: EventKind) {
        // An attempt's end says where it ran (recorded from its report just before).
        let agent = match (&kind, node) {
            (
                EventKind::Succeeded { .. }
                | EventKind::Retrying { .. }
                | EventKind::Failed { .. }
                | EventKind::TimedOut { .. }
                | EventKind::CompensationRetrying { .. }
                | EventKind::Compensated { .. }
                | EventKind::CompensationFailed { .. },
                Some(n),
            ) => run.nodes[n].cold.as_ref().and_then(|c| c.agent.clone()),
            _ => None,
        };
        let event = Event {
            run: run.shared.id,
            at: at.saturating_duration_since(run.start),
            task: node.map(|n| Arc::clone(&run.shared.spec.ids[n])),
            agent,
            kind,
        };
        // A subscriber that went away is dropped; the others still get every event of theirs.
        let run_id = run.shared.id.0;
        self.subscribers
            .retain(|s| run_id < s.from || s.sender.send(event.clone()).is_ok());
    }
}

/// One task's part of a run: what every task needs, in one cache line (64 bytes, aligned),
/// because a run walks its tasks in dependency order, which is random in memory: each visit is
/// one line to fetch, not two (see [`NodeCold`] for the rest). When an attempt started and when
/// its item counted as queued travel with the attempt ([`Key::started`]) and the item
/// ([`QueuedTask`]), so they need no room here.
#[repr(align(64))]
struct NodeRun {
    state: TaskState,
    /// The task has an item in the queue or on its way there (`ticket` once pushed).
    in_queue: bool,
    /// Whether that item holds a parallelism slot.
    counted: bool,
    /// Whether `ticket` is the queue's id of the task's item.
    pushed: bool,
    attempts: u32,
    ticket: TaskId,
    /// Nanoseconds since the run started, or none yet.
    queued_at: Nanos,
    started_at: Nanos,
    ended_at: Nanos,
    wait: u64,
    run_time: u64,
    /// Allocated for the tasks that need any of it.
    cold: Option<Box<NodeCold>>,
}

/// What only some tasks need: errors, retry delays, a breaker permit, a tracing span, their
/// compensation's progress.
#[derive(Default)]
struct NodeCold {
    error: Option<String>,
    compensation_error: Option<String>,
    delays: Option<Delays>,
    /// The circuit breaker permit of the running attempt, settled when it ends.
    permit: Option<OwnedPermit>,
    /// The task's span, when tracing is on.
    span: Option<Span>,
    /// The agent its last attempt (or compensation attempt) ran on, if it was placed on one.
    agent: Option<Arc<str>>,
    compensation_attempts: u32,
    /// The compensation failed for good (possibly before any attempt: it could not be queued).
    compensation_failed: bool,
}

impl NodeRun {
    fn new() -> Self {
        Self {
            state: TaskState::Pending,
            in_queue: false,
            counted: false,
            pushed: false,
            attempts: 0,
            ticket: TaskId::from_raw(0),
            queued_at: Nanos::NONE,
            started_at: Nanos::NONE,
            ended_at: Nanos::NONE,
            wait: 0,
            run_time: 0,
            cold: None,
        }
    }

    fn cold(&mut self) -> &mut NodeCold {
        self.cold.get_or_insert_with(Box::default)
    }

    fn error(&self) -> Option<&String> {
        self.cold.as_ref().and_then(|c| c.error.as_ref())
    }

    fn compensation_attempts(&self) -> u32 {
        self.cold.as_ref().map_or(0, |c| c.compensation_attempts)
    }

    fn compensation_failed(&self) -> bool {
        self.cold.as_ref().is_some_and(|c| c.compensation_failed)
    }

    /// The queue's id of the task's item, once pushed.
    fn ticket(&self) -> Option<TaskId> {
        self.pushed.then_some(self.ticket)
    }

    fn take_ticket(&mut self) -> Option<TaskId> {
        std::mem::take(&mut self.pushed).then_some(self.ticket)
    }

    fn set_ticket(&mut self, ticket: TaskId) {
        self.ticket = ticket;
        self.pushed = true;
    }
}

/// An item held back by the run's parallelism limit: highest priority first, then FIFO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct HeldBack {
    priority: Priority,
    seq: Reverse<u64>,
    node: u32,
    compensation: bool,
    /// When it became ready to run, in nanoseconds since the run's start: time held back is
    /// queue wait, as it would be if the executor's size were the limit.
    ready: u64,
}

/// A saga's rollback in progress.
struct RollbackState {
    /// Whether each task takes part (it had succeeded when the rollback began).
    participant: Vec<bool>,
    /// For each participant, how many of its dependents have yet to be undone.
    pending: Vec<u32>,
    /// Compensations begun and not yet ended.
    outstanding: usize,
    compensated: Vec<u32>,
    failed: Vec<u32>,
}

/// The state of one run.
struct Run {
    slot: u32,
    shared: Arc<RunShared>,
    tracker: ReadyTracker,
    nodes: Vec<NodeRun>,
    start: Instant,
    /// `start` in nanoseconds since the engine's epoch.
    start_ns: u64,
    span: Span,
    limit: usize,
    admitted: usize,
    held_back: BinaryHeap<HeldBack>,
    seq: u64,
    /// Attempts on the executor.
    running: usize,
    /// Items in the queue or on their way there.
    in_queue: usize,
    /// Tasks not yet in a final state (`Succeeded` counts as final).
    open_tasks: usize,
    stop: Option<Stop>,
    /// Tasks that failed or timed out for good, in order.
    failed: Vec<u32>,
    deadline: Option<Instant>,
    reply: Option<oneshot::Sender<RunReport>>,
    faults: Option<FaultPlan>,
    seed: Option<u64>,
    rollback: Option<RollbackState>,
    /// References to `shared` handed back by attempts that succeeded, reused for new attempts:
    /// the run's reference count is written by the workers (each handler's context) and the
    /// engine in turn, so each write is a cache line moving between cores. Reusing a returned
    /// reference writes nothing.
    spare: Vec<Arc<RunShared>>,
    /// The task that ended last among those that ran, by `(ended, started, node)`: where the
    /// critical path ends. Kept as tasks end, so the report need not scan every task for it.
    last_end: Option<(u64, u64, u32)>,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Run {
    fn id(&self) -> RunId {
        self.shared.id
    }

    fn since_start(&self, at: Instant) -> u64 {
        nanos(at.saturating_duration_since(self.start))
    }

    /// Now, in nanoseconds since the run started (no clock arithmetic: both are engine offsets).
    fn since_now(&self, ctx: &Ctx<'_>) -> u64 {
        ctx.now_ns.saturating_sub(self.start_ns)
    }

    /// Reads what ending an attempt of `node` will read first (its run state, its dependents and
    /// theirs), changing nothing. The engine calls it for a whole batch before handling any of
    /// it: the batch's cache misses (a run visits its tasks in dependency order, which is random
    /// in memory) then overlap instead of waiting one behind another.
    fn warm_ended(&self, node: usize) -> u64 {
        let Some(n) = self.nodes.get(node) else {
            return 0;
        };
        let mut sum = n.wait;
        for dependent in self.shared.spec.dag.dependents(NodeId::new(node as u32)) {
            sum ^= self.nodes[dependent.index()].state as u64;
        }
        sum
    }

    /// As [`warm_ended`](Self::warm_ended), for a popped item about to be dispatched.
    fn warm_popped(&self, node: usize) -> u64 {
        self.nodes.get(node).map_or(0, |n| n.ticket.get())
    }

    fn priority(&self, node: usize) -> Priority {
        self.shared.spec.hot[node].priority
    }

    /// Moves a task whose dependencies succeeded into the queue.
    fn make_ready(&mut self, ctx: &mut Ctx<'_>, node: usize) {
        if self.nodes[node].state != TaskState::Pending {
            return; // ended while it waited (the run is stopping)
        }
        // The tracker counts it as started from here: it is the engine's until it ends.
        let _ = self.tracker.start(NodeId::new(node as u32));
        let since = self.since_now(ctx);
        let n = &mut self.nodes[node];
        n.state = TaskState::Queued;
        n.queued_at = Nanos::new(since);
        if !self.span.is_disabled() {
            n.cold().span = Some(tracing::info_span!(
                parent: &self.span,
                "task",
                id = &*self.shared.spec.ids[node]
            ));
        }
        let priority = self.priority(node);
        ctx.emit(self, Some(node), ctx.now, || EventKind::Queued { priority });
        self.admit(ctx, node, false);
    }

    /// Queues an attempt now if the run's parallelism allows and nothing is held back before it,
    /// or holds it back (released in priority, then FIFO order, by [`refill`](Self::refill)).
    fn admit(&mut self, ctx: &mut Ctx<'_>, node: usize, compensation: bool) {
        if self.admitted < self.limit && self.held_back.is_empty() {
            self.admitted += 1;
            self.push(ctx, node, compensation, true, None);
        } else {
            let now = self.since_now(ctx);
            self.hold_back(node, compensation, now);
            self.refill(ctx);
        }
    }

    /// Holds an attempt back until the run's parallelism allows it (highest priority, then FIFO);
    /// it has been ready since `ready` nanoseconds into the run.
    fn hold_back(&mut self, node: usize, compensation: bool, ready: u64) {
        self.seq += 1;
        self.held_back.push(HeldBack {
            priority: self.priority(node),
            seq: Reverse(self.seq),
            node: node as u32,
            compensation,
            ready,
        });
    }

    /// Releases held-back attempts while the run's parallelism allows.
    #[inline]
    fn refill(&mut self, ctx: &mut Ctx<'_>) {
        if !self.held_back.is_empty() {
            self.refill_held(ctx);
        }
    }

    fn refill_held(&mut self, ctx: &mut Ctx<'_>) {
        while self.admitted < self.limit {
            let Some(next) = self.held_back.pop() else {
                break;
            };
            self.admitted += 1;
            self.push_ready_since(ctx, next.node as usize, next.compensation, next.ready);
        }
    }

    /// Pushes a counted attempt released from being held back: it has been waiting since
    /// `ready` nanoseconds into the run.
    fn push_ready_since(&mut self, ctx: &mut Ctx<'_>, node: usize, compensation: bool, ready: u64) {
        let options = PushOptions::from(self.priority(node));
        self.push_item(ctx, node, compensation, true, options, ready);
    }

    fn push(
        &mut self,
        ctx: &mut Ctx<'_>,
        node: usize,
        compensation: bool,
        counted: bool,
        not_before: Option<Instant>,
    ) {
        let mut options = PushOptions::from(self.priority(node));
        let queued = match not_before {
            Some(at) => {
                options = options.not_before(at);
                self.since_start(at)
            }
            None => self.since_now(ctx),
        };
        self.push_item(ctx, node, compensation, counted, options, queued);
    }

    fn push_item(
        &mut self,
        ctx: &mut Ctx<'_>,
        node: usize,
        compensation: bool,
        counted: bool,
        options: PushOptions,
        queued: u64,
    ) {
        let n = &mut self.nodes[node];
        n.in_queue = true;
        n.counted = counted;
        n.pushed = false;
        self.in_queue += 1;
        *ctx.queued += 1;
        let item = QueuedTask {
            run: self.shared.id,
            slot: self.slot,
            node: node as u32,
            compensation,
            counted,
            queued,
        };
        // Straight into the next batch of pushes unless a cancellation waits to be applied
        // (operations apply in order: see `Engine::apply_ops`).
        if ctx.ops.is_empty() {
            ctx.pushes.push((item, options));
        } else {
            ctx.ops.push(Op::Push { item, options });
        }
    }

    /// Forgets the task's item in the queue (cancelling it there if it was pushed).
    fn unqueue(&mut self, ctx: &mut Ctx<'_>, node: usize) {
        let n = &mut self.nodes[node];
        if !n.in_queue {
            return;
        }
        n.in_queue = false;
        if let Some(ticket) = n.take_ticket() {
            ctx.ops.push(Op::Cancel { ticket });
        } else {
            // Its push is not applied yet: `apply_ops` must look for the unwanted ones.
            *ctx.withdrawn = true;
        }
        if n.counted {
            self.admitted -= 1;
        }
        self.in_queue -= 1;
        *ctx.queued -= 1;
    }

    /// A popped item: launches its attempt if the item is still wanted, and says whether it did.
    fn dispatch(&mut self, ctx: &mut Ctx<'_>, popped: &Popped<QueuedTask>) -> bool {
        let item = popped.item;
        let node = item.node as usize;
        let Some(n) = self.nodes.get_mut(node) else {
            return false;
        };
        if !n.in_queue || n.ticket() != Some(popped.id) {
            // Given up on already (a backend that could not cancel it): counted out back then.
            return false;
        }
        n.in_queue = false;
        n.pushed = false;
        self.in_queue -= 1;
        *ctx.queued -= 1;
        if !item.counted {
            if self.admitted >= self.limit {
                // A retry came due while the run is at its limit: it waits its turn.
                self.hold_back(node, item.compensation, item.queued);
                return false;
            }
            self.admitted += 1;
        }
        if !item.compensation
            && self.shared.spec.hot[node].extras
            && let Some(breaker) = &self.shared.spec.tasks[node].breaker
        {
            match breaker.try_acquire_owned() {
                Ok(permit) => self.nodes[node].cold().permit = Some(permit),
                Err(open) => {
                    // Fail fast: the dependency is not called, and not retried.
                    self.admitted -= 1;
                    let now = ctx.now;
                    self.fail_task(ctx, node, open.to_string(), false, now);
                    self.refill(ctx);
                    return false;
                }
            }
        }
        self.launch(ctx, node, item.compensation, item.queued);
        true
    }

    /// Starts an attempt of `node` (or of its compensation): into `ctx.handoff`, built in place.
    /// `queued` is when its item counted as queued from (see [`QueuedTask`]).
    fn launch(&mut self, ctx: &mut Ctx<'_>, node: usize, compensation: bool, queued: u64) {
        let since = self.since_now(ctx);
        let spec = &self.shared.spec;
        let n = &mut self.nodes[node];
        let attempt = if compensation {
            let cold = n.cold();
            cold.compensation_attempts += 1;
            cold.compensation_attempts
        } else {
            n.attempts += 1;
            n.state = TaskState::Running;
            n.attempts
        };
        let waited = since.saturating_sub(queued);
        if !compensation {
            if !n.started_at.is_some() {
                n.started_at = Nanos::new(since);
            }
            n.wait += waited;
        }
        ctx.metrics.queue_wait.record(waited as f64 * 1e-9);
        ctx.metrics.attempts.increment(1);
        if !compensation {
            if attempt == 1
                && let Some(budget) = &spec.retry_budget
            {
                budget.deposit();
            }
            ctx.emit(self, Some(node), ctx.now, || EventKind::Started { attempt });
        } else {
            ctx.emit(self, Some(node), ctx.now, || {
                EventKind::CompensationStarted { attempt }
            });
        }
        let fault = match (&self.faults, compensation) {
            (Some(plan), false) => plan.fault_for(&spec.ids[node], node, attempt),
            _ => None,
        };
        let span = self.nodes[node].cold.as_ref().and_then(|c| c.span.as_ref());
        let extras = span.filter(|s| !s.is_disabled()).map(|span| {
            Box::new(StartExtras {
                span: Some(if compensation {
                    tracing::info_span!(parent: span, "compensation", attempt)
                } else {
                    tracing::info_span!(parent: span, "attempt", attempt)
                }),
                agent: None,
            })
        });
        let future = AttemptFuture {
            stage: Stage::Unstarted(Start {
                run: self.spare.pop().unwrap_or_else(|| Arc::clone(&self.shared)),
                node: NodeId::new(node as u32),
                attempt,
                compensating: compensation,
                fault,
                extras,
            }),
        };
        self.running += 1;
        // The task's spec is read only when it has something to say (most tasks: nothing).
        let (timeout, requires) = if spec.hot[node].extras {
            let task = &spec.tasks[node];
            (Nanos::of(task.timeout), task.requires.clone())
        } else {
            (Nanos::NONE, None)
        };
        ctx.handoff.push(Attempt {
            future,
            timeout,
            requires,
            done: Done::new(
                ctx.spare_inboxes
                    .pop()
                    .unwrap_or_else(|| Arc::clone(ctx.inbox)),
                Key {
                    slot: self.slot,
                    run: self.shared.id.0,
                    node: node as u32,
                    compensation,
                    started: since,
                },
            ),
        });
    }

    /// An attempt ended; returns how long after its hand-over, in nanoseconds. Taken by
    /// reference: a report stays where the inbox put it (the batch drops them all once handled),
    /// and only a failure's outcome is moved out.
    fn finished(&mut self, ctx: &mut Ctx<'_>, finished: &mut Finished) -> u64 {
        if let Outcome::Succeeded(output) = &mut finished.outcome
            && let Some(run) = output.take_run()
            && Arc::ptr_eq(&run, &self.shared)
        {
            self.spare.push(run);
        }
        let node = finished.key.node as usize;
        if let Some(agent) = &finished.agent {
            self.nodes[node].cold().agent = Some(Arc::clone(agent));
        }
        self.running -= 1;
        self.admitted -= 1;
        let started = finished.key.started;
        let end = finished.ended_ns.saturating_sub(self.start_ns).max(started);
        let n = &mut self.nodes[node];
        let ran = end - started;
        if !finished.key.compensation {
            n.run_time += ran;
            n.ended_at = Nanos::new(end);
        }
        ctx.metrics.run_time.record(ran as f64 * 1e-9);
        if finished.key.compensation {
            let outcome = std::mem::replace(&mut finished.outcome, Outcome::Cancelled);
            self.compensation_ended(ctx, node, outcome, ctx.instant(finished.ended_ns));
        } else {
            self.attempt_ended(ctx, node, &mut finished.outcome, finished.ended_ns, end);
        }
        self.refill(ctx);
        ran
    }

    /// The attempt of `node` ended with `outcome`, `ended_ns` after the engine's epoch, which is
    /// `end` nanoseconds into the run.
    fn attempt_ended(
        &mut self,
        ctx: &mut Ctx<'_>,
        node: usize,
        outcome: &mut Outcome<TaskOutput, TaskError>,
        ended_ns: u64,
        end: u64,
    ) {
        let attempt = self.nodes[node].attempts;
        let permit = self.nodes[node].cold.as_mut().and_then(|c| c.permit.take());
        if let Some(permit) = permit {
            match &*outcome {
                Outcome::Succeeded(_) => permit.success(),
                Outcome::Failed(e) if !e.is_cancellation() => permit.failure(),
                Outcome::Panicked(_) | Outcome::TimedOut(_) => permit.failure(),
                // Interrupted by the run, or dropped by the executor: it says nothing about the
                // dependency (dropping the permit counts it as neither).
                Outcome::Failed(_) | Outcome::Cancelled => drop(permit),
            }
        }
        // The common case, before the general classification below (the output, if any, is
        // dropped with the report).
        if let Outcome::Succeeded(_) = outcome {
            self.succeeded(ctx, node, attempt, ended_ns, end);
            return;
        }
        let at = ctx.instant(ended_ns);
        let outcome = std::mem::replace(outcome, Outcome::Cancelled);
        let stopping = self.stop.is_some();
        let failure = match Ended::of(outcome, stopping) {
            Ended::Succeeded => {
                self.succeeded(ctx, node, attempt, ended_ns, end);
                return;
            }
            Ended::Interrupted => None,
            Ended::Failed(failure) => Some(failure),
        };
        let Some(failure) = failure else {
            // Interrupted by the run stopping. Its handle cancels the token before its command
            // reaches the engine: an attempt can report first, and the run stops here.
            if self.stop.is_none() {
                self.stop(ctx, Stop::Cancelled);
            }
            let state = match self.stop {
                Some(Stop::TimedOut(_)) => TaskState::TimedOut,
                _ => TaskState::Cancelled,
            };
            let reason = self.stop_reason();
            self.end_task(ctx, node, state, end, Some(reason));
            ctx.emit(self, Some(node), at, || {
                if state == TaskState::TimedOut {
                    EventKind::TimedOut { attempt }
                } else {
                    EventKind::Cancelled
                }
            });
            return;
        };
        if self.stop.is_none()
            && failure.retryable
            && let Some(delay) = self.next_delay(node, failure.retry_after)
        {
            let n = &mut self.nodes[node];
            n.state = TaskState::Retrying;
            n.cold().error = Some(failure.message.clone());
            ctx.metrics.retries.increment(1);
            ctx.emit(self, Some(node), at, || EventKind::Retrying {
                attempt,
                error: failure.message,
                delay,
            });
            self.push(ctx, node, false, false, Some(later(at, delay)));
            return;
        }
        self.fail_task(ctx, node, failure.message, failure.timed_out, at);
    }

    /// The task's attempt succeeded: the task is done, and its dependents may be ready.
    fn succeeded(&mut self, ctx: &mut Ctx<'_>, node: usize, attempt: u32, ended_ns: u64, end: u64) {
        // Its output is in `shared.outputs` already: the worker stored it.
        self.end_task(ctx, node, TaskState::Succeeded, end, None);
        ctx.emit_at_ns(self, Some(node), ended_ns, || EventKind::Succeeded {
            attempt,
        });
        ctx.scratch.clear();
        if let Ok(ready) = self.tracker.complete(NodeId::new(node as u32)) {
            ctx.scratch.extend_from_slice(ready);
        }
        let ready = std::mem::take(ctx.scratch);
        for &next in &ready {
            self.make_ready(ctx, next.index());
        }
        *ctx.scratch = ready;
    }

    /// The next retry delay of `node`, or `None` when its policy (or the budget) says stop.
    fn next_delay(&mut self, node: usize, asked: Option<Duration>) -> Option<Duration> {
        let spec = &self.shared.spec;
        let policy = &spec.tasks[node].retry;
        let seed = self.seed;
        let delays = self.nodes[node]
            .cold()
            .delays
            .get_or_insert_with(|| match seed {
                Some(seed) => policy.delays_seeded(seed ^ (node as u64).wrapping_mul(GOLDEN)),
                None => policy.delays(),
            });
        let delay = delays.next()?;
        if let Some(budget) = &spec.retry_budget
            && !budget.try_withdraw()
        {
            return None;
        }
        Some(asked.unwrap_or(delay))
    }

    /// A task failed for good: record it, skip what depends on it, stop the run in fail-fast mode.
    fn fail_task(
        &mut self,
        ctx: &mut Ctx<'_>,
        node: usize,
        error: String,
        timed_out: bool,
        at: Instant,
    ) {
        let attempt = self.nodes[node].attempts;
        let state = if timed_out {
            TaskState::TimedOut
        } else {
            TaskState::Failed
        };
        let since = self.since_start(at);
        self.end_task(ctx, node, state, since, Some(error));
        self.failed.push(node as u32);
        // The error is the one `end_task` kept; copied only for subscribers.
        ctx.emit(self, Some(node), at, || {
            if timed_out {
                EventKind::TimedOut { attempt }
            } else {
                EventKind::Failed {
                    attempt,
                    error: self.nodes[node].error().cloned().unwrap_or_default(),
                }
            }
        });
        ctx.scratch.clear();
        if let Ok(skipped) = self.tracker.fail(NodeId::new(node as u32)) {
            ctx.scratch.extend_from_slice(skipped);
        }
        let skipped = std::mem::take(ctx.scratch);
        let reason = format!(
            "dependency `{}` did not succeed",
            self.shared.spec.ids[node]
        );
        for &s in &skipped {
            self.end_unstarted(ctx, s.index(), TaskState::Skipped, &reason);
        }
        *ctx.scratch = skipped;
        if self.shared.spec.failure_mode == FailureMode::FailFast {
            self.stop(ctx, Stop::Failed);
        }
    }

    /// Keeps [`Run::last_end`] up to date as `node` ends (every task ends once, through
    /// [`end_task`](Self::end_task), after its last attempt).
    #[inline]
    fn note_end(&mut self, node: usize) {
        let n = &self.nodes[node];
        if let (Some(started), Some(ended)) = (n.started_at.get(), n.ended_at.get()) {
            let key = (ended, started, node as u32);
            if self.last_end.is_none_or(|last| key > last) {
                self.last_end = Some(key);
            }
        }
    }

    /// Sets a task's final state, reached `since` nanoseconds into the run, and counts it.
    fn end_task(
        &mut self,
        ctx: &mut Ctx<'_>,
        node: usize,
        state: TaskState,
        since: u64,
        error: Option<String>,
    ) {
        let n = &mut self.nodes[node];
        n.state = state;
        n.ended_at = Nanos::new(n.ended_at.get().map_or(since, |e| e.max(since)));
        if error.is_some() {
            n.cold().error = error;
        }
        self.note_end(node);
        self.open_tasks -= 1;
        ctx.metrics.task_ended(state);
    }

    /// Ends a task that is not running (pending, queued, held back or waiting for a retry).
    fn end_unstarted(&mut self, ctx: &mut Ctx<'_>, node: usize, state: TaskState, reason: &str) {
        let current = self.nodes[node].state;
        if current.is_terminal() || current == TaskState::Running {
            return;
        }
        self.unqueue(ctx, node);
        let error = (!reason.is_empty()).then(|| reason.to_owned());
        let since = self.since_now(ctx);
        self.end_task(ctx, node, state, since, error);
        // Built only for subscribers: a fail-fast stop skips every task left.
        ctx.emit(self, Some(node), ctx.now, || {
            if state == TaskState::Skipped {
                EventKind::Skipped {
                    reason: reason.to_owned(),
                }
            } else {
                EventKind::Cancelled
            }
        });
    }

    /// Stops the run early: every task not running ends now, running ones are interrupted.
    fn stop(&mut self, ctx: &mut Ctx<'_>, why: Stop) {
        if self.stop.is_some() || self.rollback.is_some() {
            return;
        }
        self.stop = Some(why);
        self.shared.cancel.cancel();
        let reason = self.stop_reason();
        self.held_back.clear();
        for node in 0..self.nodes.len() {
            // Fail-fast skips what never ran; a task waiting to retry had run: it is cancelled.
            let state = match (why, self.nodes[node].state) {
                (Stop::Failed, TaskState::Retrying) => TaskState::Cancelled,
                (Stop::Failed, _) => TaskState::Skipped,
                _ => TaskState::Cancelled,
            };
            self.end_unstarted(ctx, node, state, &reason);
        }
    }

    /// Why the run stopped early, for the tasks it ended: which task failed, or which timeout
    /// passed.
    fn stop_reason(&self) -> String {
        match self.stop {
            Some(Stop::Failed) | None => {
                let first = self
                    .failed
                    .first()
                    .map_or("", |&n| &*self.shared.spec.ids[n as usize]);
                format!("fail-fast: `{first}` failed")
            }
            Some(Stop::Cancelled) => "the run was cancelled".to_owned(),
            Some(Stop::TimedOut(after)) => format!(
                "the workflow's timeout of {} passed",
                humantime::format_duration(after)
            ),
        }
    }

    /// Whether nothing of the run is left in flight.
    fn is_quiet(&self) -> bool {
        self.running == 0 && self.in_queue == 0 && self.held_back.is_empty()
    }

    /// Begins the saga's rollback: each task that succeeded is compensated after every task
    /// depending on it was.
    fn begin_rollback(&mut self, ctx: &mut Ctx<'_>) {
        let dag = &self.shared.spec.dag;
        let count = self.nodes.len();
        let participant: Vec<bool> = self
            .nodes
            .iter()
            .map(|n| n.state == TaskState::Succeeded)
            .collect();
        let pending: Vec<u32> = (0..count)
            .map(|i| {
                dag.dependents(NodeId::new(i as u32))
                    .iter()
                    .filter(|d| participant[d.index()])
                    .count() as u32
            })
            .collect();
        let ready: Vec<usize> = (0..count)
            .filter(|&i| participant[i] && pending[i] == 0)
            .collect();
        self.rollback = Some(RollbackState {
            participant,
            pending,
            outstanding: 0,
            compensated: Vec::new(),
            failed: Vec::new(),
        });
        self.undo(ctx, ready);
    }

    /// Starts the compensation of each task in `ready` (every dependent already undone); tasks
    /// without one pass straight through to their own dependencies.
    fn undo(&mut self, ctx: &mut Ctx<'_>, mut ready: Vec<usize>) {
        while let Some(node) = ready.pop() {
            if self.shared.spec.tasks[node].compensation.is_some() {
                self.nodes[node].state = TaskState::Compensating;
                if let Some(rb) = &mut self.rollback {
                    rb.outstanding += 1;
                }
                ctx.emit(self, Some(node), ctx.now, || EventKind::Compensating);
                self.admit(ctx, node, true);
            } else {
                self.release(node, &mut ready);
            }
        }
    }

    /// `node` is undone (or had nothing to undo): its dependencies may now be.
    fn release(&mut self, node: usize, ready: &mut Vec<usize>) {
        let Some(rb) = &mut self.rollback else { return };
        for dep in self.shared.spec.dag.dependencies(NodeId::new(node as u32)) {
            let d = dep.index();
            if rb.participant[d] {
                rb.pending[d] -= 1;
                if rb.pending[d] == 0 {
                    ready.push(d);
                }
            }
        }
    }

    fn compensation_ended(
        &mut self,
        ctx: &mut Ctx<'_>,
        node: usize,
        outcome: Outcome<TaskOutput, TaskError>,
        at: Instant,
    ) {
        let attempts = self.nodes[node].compensation_attempts();
        // Compensations are not interrupted by the run: a dropped attempt is a failed one.
        let Failure {
            message,
            retryable,
            retry_after: asked,
            ..
        } = match Ended::of(outcome, false) {
            Ended::Succeeded => {
                self.nodes[node].state = TaskState::Compensated;
                ctx.metrics.task_ended(TaskState::Compensated);
                ctx.emit(self, Some(node), at, || EventKind::Compensated { attempts });
                let mut ready = Vec::new();
                if let Some(rb) = &mut self.rollback {
                    rb.outstanding -= 1;
                    rb.compensated.push(node as u32);
                }
                self.release(node, &mut ready);
                self.undo(ctx, ready);
                return;
            }
            Ended::Failed(failure) => failure,
            Ended::Interrupted => Failure::dropped(),
        };
        let policy = self.shared.spec.tasks[node].compensation_retry;
        let seed = self.seed;
        let first = self.nodes[node].compensation_attempts() == 1;
        let cold = self.nodes[node].cold();
        if first {
            // The task's own retry delays are spent: the compensation draws from its policy.
            cold.delays = Some(match seed {
                Some(seed) => policy.delays_seeded(seed ^ GOLDEN ^ node as u64),
                None => policy.delays(),
            });
        }
        let next = if retryable {
            cold.delays.as_mut().and_then(|d| d.next())
        } else {
            None
        };
        cold.compensation_error = Some(message.clone());
        if let Some(delay) = next {
            let delay = asked.unwrap_or(delay);
            ctx.emit(self, Some(node), at, || EventKind::CompensationRetrying {
                attempt: attempts,
                error: message,
                delay,
            });
            self.push(ctx, node, true, false, Some(later(at, delay)));
            return;
        }
        self.nodes[node].state = TaskState::Failed;
        self.nodes[node].cold().compensation_failed = true;
        ctx.metrics.task_ended(TaskState::Failed);
        if let Some(rb) = &mut self.rollback {
            rb.outstanding -= 1;
            rb.failed.push(node as u32);
        }
        ctx.emit(self, Some(node), at, || EventKind::CompensationFailed {
            attempts,
            error: message,
        });
    }

    /// The run's outcome (once nothing is left in flight).
    fn outcome(&self) -> RunOutcome {
        match self.stop {
            Some(Stop::Cancelled) => RunOutcome::Cancelled,
            Some(Stop::TimedOut(after)) => RunOutcome::TimedOut { after },
            Some(Stop::Failed) | None if self.failed.is_empty() => RunOutcome::Succeeded,
            Some(Stop::Failed) | None => RunOutcome::Failed {
                tasks: self.names(&self.failed),
            },
        }
    }

    fn names(&self, nodes: &[u32]) -> Vec<String> {
        nodes
            .iter()
            .map(|&n| self.shared.spec.ids[n as usize].to_string())
            .collect()
    }

    /// The run's report. Its rows are left to be built from the run's records when first read
    /// (see [`RunReport`]): the records move into it, and the engine only counts the totals.
    fn report(&mut self, outcome: RunOutcome, now: Instant, spares: &Arc<Spares>) -> RunReport {
        let spec = &self.shared.spec;
        let totals = self.totals();
        let rollback = self.rollback.as_ref().map(|rb| Rollback {
            compensated: self.names(&rb.compensated),
            failed: self.names(&rb.failed),
            blocked: (0..self.nodes.len())
                .filter(|&i| {
                    rb.participant[i]
                        && self.nodes[i].state == TaskState::Succeeded
                        && spec.tasks[i].compensation.is_some()
                })
                .map(|i| spec.ids[i].to_string())
                .collect(),
        });
        let critical_path = self.critical_path();
        if !self.span.is_disabled() {
            // The task spans close with the run, not with its report (which may live on unread).
            for cold in self.nodes.iter_mut().filter_map(|n| n.cold.as_mut()) {
                cold.span = None;
            }
        }
        let records = Records {
            nodes: std::mem::take(&mut self.nodes),
            home: Arc::downgrade(spares),
        };
        let rows = Arc::clone(spec);
        RunReport {
            run: self.id(),
            workflow: spec.name.to_string(),
            outcome,
            rollback,
            duration: now.saturating_duration_since(self.start),
            tasks: TaskRows::lazy(move || task_rows(&records.nodes, &rows)),
            critical_path,
            totals,
        }
    }

    /// Counts over the run's tasks.
    fn totals(&self) -> Totals {
        let mut totals = Totals {
            tasks: self.nodes.len(),
            ..Totals::default()
        };
        // Summed in nanoseconds, converted once.
        let (mut wait, mut run_time) = (0_u64, 0_u64);
        for n in &self.nodes {
            match n.state {
                TaskState::Succeeded => totals.succeeded += 1,
                TaskState::Failed => totals.failed += 1,
                TaskState::TimedOut => totals.timed_out += 1,
                TaskState::Cancelled => totals.cancelled += 1,
                TaskState::Skipped => totals.skipped += 1,
                TaskState::Compensated => totals.compensated += 1,
                _ => {}
            }
            if n.compensation_failed() {
                totals.compensation_failed += 1;
            }
            totals.attempts += u64::from(n.attempts);
            totals.retries += u64::from(n.attempts.saturating_sub(1));
            wait = wait.saturating_add(n.wait);
            run_time = run_time.saturating_add(n.run_time);
        }
        totals.wait = Duration::from_nanos(wait);
        totals.run_time = Duration::from_nanos(run_time);
        totals
    }

    /// From the task that ended last, back through the dependency that ended last at each step.
    fn critical_path(&self) -> CriticalPath {
        let ran = |i: usize| self.nodes[i].started_at.is_some();
        let ended = |i: usize| self.nodes[i].ended_at.get().unwrap_or(0);
        // Ties (instant tasks) go to the one that started later: a dependent, not its dependency.
        let key = |i: usize| (ended(i), self.nodes[i].started_at.get(), i);
        // The last to end among those that ran, kept as they ended.
        debug_assert_eq!(
            self.last_end.map(|(_, _, last)| last as usize),
            (0..self.nodes.len())
                .filter(|&i| ran(i))
                .max_by_key(|&i| key(i)),
            "the last end kept as tasks ended is the one a scan finds"
        );
        let Some((_, _, last)) = self.last_end else {
            return CriticalPath::default();
        };
        let mut current = last as usize;
        let mut path = vec![current];
        let dag = &self.shared.spec.dag;
        while let Some(dep) = dag
            .dependencies(NodeId::new(current as u32))
            .iter()
            .map(|d| d.index())
            .filter(|&d| ran(d))
            .max_by_key(|&d| key(d))
        {
            path.push(dep);
            current = dep;
        }
        path.reverse();
        let first = self.nodes[path[0]].started_at.get().unwrap_or(0);
        let last = ended(*path.last().expect("the path has a task"));
        CriticalPath {
            tasks: path
                .iter()
                .map(|&i| self.shared.spec.ids[i].to_string())
                .collect(),
            duration: Duration::from_nanos(last.saturating_sub(first)),
        }
    }
}

/// The run in `slot`, if it is still run `id` (slots are reused). A function of the runs alone,
/// so that a [`Ctx`] can borrow the engine's other fields beside it.
fn run_mut(runs: &mut [Option<Run>], slot: u32, id: RunId) -> Option<&mut Run> {
    runs.get_mut(slot as usize)
        .and_then(Option::as_mut)
        .filter(|run| run.id() == id)
}

/// How many finished runs' task states the engine keeps for reuse.
const MAX_SPARES: usize = 2;

/// Vectors of task states handed back by reports (see [`Records`]), for new runs to reuse: a
/// run of 100k tasks needs 6.4 MB of them, and the allocator, given them back on each report's
/// drop, often returns them to the system, so that the next run faults in every page again
/// (about 2.4 ms of a 25 ms run on the machine measured). At most [`MAX_SPARES`] are kept;
/// they go with the orchestrator.
#[derive(Default)]
struct Spares(std::sync::Mutex<Vec<Vec<NodeRun>>>);

impl Spares {
    /// `count` fresh task states, in a spare vector if one fits: large enough (growing one
    /// would copy it) and not over twice as large (a small run would hold on to a large one).
    fn take(&self, count: usize) -> Vec<NodeRun> {
        let spare = {
            let mut spares = self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let fits = |v: &Vec<NodeRun>| (count..=count.saturating_mul(2)).contains(&v.capacity());
            spares.iter().position(fits).map(|i| spares.swap_remove(i))
        };
        let mut nodes = spare.unwrap_or_else(|| Vec::with_capacity(count));
        nodes.resize_with(count, NodeRun::new);
        nodes
    }
}

/// A run's task states on loan to its report: handed back to the engine's [`Spares`] when the
/// report has built its rows from them, or was dropped without (emptied first, on the thread
/// that lets go of them).
struct Records {
    nodes: Vec<NodeRun>,
    home: std::sync::Weak<Spares>,
}

impl Drop for Records {
    fn drop(&mut self) {
        let Some(home) = self.home.upgrade() else {
            return; // the orchestrator is gone
        };
        let mut nodes = std::mem::take(&mut self.nodes);
        nodes.clear();
        let mut spares = home
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if spares.len() < MAX_SPARES {
            spares.push(nodes);
        }
    }
}

/// A report's rows, from a run's records (see [`RunReport::tasks`]).
fn task_rows(nodes: &[NodeRun], spec: &Spec) -> Vec<TaskReport> {
    let secs = Duration::from_nanos;
    nodes
        .iter()
        .zip(spec.tasks.iter().zip(&spec.hot))
        .enumerate()
        .map(|(i, (n, (t, hot)))| TaskReport {
            id: TaskName::new(&spec.ids, i),
            state: n.state,
            attempts: n.attempts,
            priority: hot.priority,
            tags: if hot.tagged {
                t.tags.clone()
            } else {
                Vec::new()
            },
            queued_at: n.queued_at.get().map(secs),
            started_at: n.started_at.get().map(secs),
            ended_at: n.ended_at.get().map(secs),
            wait: secs(n.wait),
            run_time: secs(n.run_time),
            error: n.error().cloned(),
            agent: n
                .cold
                .as_ref()
                .and_then(|c| c.agent.as_deref().map(str::to_owned)),
            compensation: (n.compensation_attempts() > 0 || n.compensation_failed()).then(|| {
                CompensationReport {
                    attempts: n.compensation_attempts(),
                    error: (n.state != TaskState::Compensated)
                        .then(|| n.cold.as_ref()?.compensation_error.clone())
                        .flatten(),
                }
            }),
        })
        .collect()
}

/// Spreads task indices over seeds.
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// A failed attempt, classified.
struct Failure {
    message: String,
    retryable: bool,
    retry_after: Option<Duration>,
    timed_out: bool,
}

impl Failure {
    /// An attempt the executor refused or dropped.
    fn dropped() -> Self {
        Self {
            message: "the executor refused or dropped the attempt (shutting down, or full)".into(),
            retryable: true,
            retry_after: None,
            timed_out: false,
        }
    }
}

/// How an attempt (of a task or a compensation) ended, classified once for both.
enum Ended {
    Succeeded,
    /// Cut short by its run stopping: neither a success nor a failure of the task.
    Interrupted,
    Failed(Failure),
}

impl Ended {
    /// Classifies `outcome`; while the run is `stopping`, an attempt the executor dropped was
    /// interrupted rather than failed.
    #[inline]
    fn of(outcome: Outcome<TaskOutput, TaskError>, stopping: bool) -> Self {
        let failure = |message: String, timed_out: bool| Failure {
            message,
            retryable: true,
            retry_after: None,
            timed_out,
        };
        match outcome {
            Outcome::Succeeded(_) => Self::Succeeded,
            Outcome::Failed(error) if error.is_cancellation() => Self::Interrupted,
            Outcome::Failed(error) if error.is_timeout() => {
                Self::Failed(failure(error.to_string(), true))
            }
            Outcome::Failed(error) => Self::Failed(Failure {
                retry_after: error.retry_after_delay(),
                retryable: error.is_retryable(),
                message: error.to_string(),
                timed_out: false,
            }),
            Outcome::Panicked(message) => {
                Self::Failed(failure(format!("panicked: {message}"), false))
            }
            Outcome::TimedOut(after) => Self::Failed(failure(timed_out_message(after), true)),
            Outcome::Cancelled if stopping => Self::Interrupted,
            Outcome::Cancelled => Self::Failed(Failure::dropped()),
        }
    }
}

/// What woke the engine.
enum Wake<E> {
    Inbox,
    Command(Option<Command>),
    Popped(Result<Option<Popped<QueuedTask>>, E>),
    Timer,
}

/// The engine task's state.
pub(crate) struct Engine<Q: TaskQueue<QueuedTask>, X> {
    queue: Q,
    executor: Arc<X>,
    /// How many attempts may be with the executor at once (its capacity plus the prefetch).
    allowance: Allowance,
    /// Whether the executor's capacity can grow with nothing else happening.
    capacity_varies: bool,
    inbox: Arc<Inbox>,
    commands: mpsc::UnboundedReceiver<Command>,
    metrics: Metrics,
    runs: Vec<Option<Run>>,
    free: Vec<u32>,
    subscribers: Vec<Subscriber>,
    ops: Vec<Op>,
    scratch: Vec<NodeId>,
    queued: usize,
    in_flight: usize,
    active: usize,
    open: bool,
    /// The clock, read once per turn of the loop.
    now: Instant,
    /// `now` in nanoseconds since `epoch`.
    now_ns: u64,
    /// When the engine started: times inside it are nanoseconds since then.
    epoch: Instant,
    /// A second buffer for `ops`, swapped in while they are applied (no allocation per batch).
    spare_ops: Vec<Op>,
    /// After a failed pop: no pop before this instant, and the current backoff.
    pop_paused_until: Option<Instant>,
    pop_backoff: Duration,
    /// Attempts dispatched and not yet handed to the executor (see [`Engine::hand_over`]).
    handoff: Vec<Attempt>,
    /// References to `inbox` handed back by ended attempts, for new ones.
    spare_inboxes: Vec<Arc<Inbox>>,
    /// Items popped and not yet dispatched (empty between turns; kept for its allocation).
    popped: Vec<Popped<QueuedTask>>,
    /// Pushes gathered before any other queue operation (see [`Ctx::pushes`]: applied by the
    /// next `apply_ops`), then the batch being pushed; the items of that batch, and the queue's
    /// results for them (empty between turns; kept for their allocations).
    pushes: Vec<(QueuedTask, PushOptions)>,
    /// See [`Ctx::withdrawn`].
    withdrawn: bool,
    /// Run states handed back by reports, for new runs.
    spares: Arc<Spares>,
    pushed_items: Vec<QueuedTask>,
    push_results: Vec<Result<TaskId, PushError<QueuedTask, Q::Error>>>,
}

/// `at` plus `wait`, or, past what an instant can hold, a date no run will see (about 30 years
/// on): a delay or a timeout of `Duration::MAX` means "never", not a panic.
fn later(at: Instant, wait: Duration) -> Instant {
    const FAR: Duration = Duration::from_secs(30 * 365 * 86_400);
    at.checked_add(wait)
        .or_else(|| at.checked_add(FAR))
        .unwrap_or(at)
}

/// How often the engine looks at a varying executor's capacity while work waits for room.
const CAPACITY_RECHECK: Duration = Duration::from_millis(100);

/// The most items [`Engine::dispatch_ready`] pops before dispatching them.
const POP_BATCH: usize = 64;

/// The backoff between pops after a queue backend failed.
const POP_BACKOFF_MIN: Duration = Duration::from_millis(10);
const POP_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// A [`Ctx`] borrowing the engine's fields (disjoint from `runs`, so that a run can be borrowed
/// beside it).
macro_rules! engine_ctx {
    ($engine:expr, $now:expr, $now_ns:expr) => {
        Ctx {
            now: $now,
            now_ns: $now_ns,
            epoch: $engine.epoch,
            subscribers: &mut $engine.subscribers,
            metrics: &$engine.metrics,
            ops: &mut $engine.ops,
            pushes: &mut $engine.pushes,
            withdrawn: &mut $engine.withdrawn,
            scratch: &mut $engine.scratch,
            queued: &mut $engine.queued,
            inbox: &$engine.inbox,
            spare_inboxes: &mut $engine.spare_inboxes,
            handoff: &mut $engine.handoff,
        }
    };
}

/// Borrows a [`Ctx`] and run `$slot` from the engine (disjoint fields).
macro_rules! with_run {
    ($engine:expr, $slot:expr, $now:expr, |$run:ident, $ctx:ident| $body:expr) => {{
        let now: Instant = $now;
        let engine = &mut *$engine;
        let now_ns = if now == engine.now {
            engine.now_ns
        } else {
            nanos(now.saturating_duration_since(engine.epoch))
        };
        match engine.runs.get_mut($slot as usize).and_then(Option::as_mut) {
            Some($run) => {
                let mut $ctx = engine_ctx!(engine, now, now_ns);
                Some($body)
            }
            None => None,
        }
    }};
}

impl<Q, X> Engine<Q, X>
where
    Q: TaskQueue<QueuedTask>,
    X: Executor,
{
    pub(crate) fn new(
        queue: Q,
        executor: Arc<X>,
        inbox: Arc<Inbox>,
        commands: mpsc::UnboundedReceiver<Command>,
        prefetch: Prefetch,
    ) -> Self {
        let allowance = Allowance::new(prefetch, executor.capacity());
        let capacity_varies = executor.capacity_varies();
        // The inbox's epoch: attempts report their ends as offsets from it.
        let epoch = inbox.epoch;
        Self {
            queue,
            executor,
            allowance,
            capacity_varies,
            inbox,
            commands,
            metrics: Metrics::register(),
            runs: Vec::new(),
            free: Vec::new(),
            subscribers: Vec::new(),
            ops: Vec::new(),
            scratch: Vec::new(),
            queued: 0,
            in_flight: 0,
            active: 0,
            open: true,
            now: epoch,
            now_ns: 0,
            epoch,
            spare_ops: Vec::new(),
            pop_paused_until: None,
            pop_backoff: Duration::ZERO,
            handoff: Vec::new(),
            spare_inboxes: Vec::new(),
            popped: Vec::new(),
            pushes: Vec::new(),
            withdrawn: false,
            spares: Arc::default(),
            pushed_items: Vec::new(),
            push_results: Vec::new(),
        }
    }

    /// Runs until every handle is gone and every run has ended.
    pub(crate) async fn run(mut self) {
        let mut batch = Vec::new();
        loop {
            loop {
                match self.commands.try_recv() {
                    Ok(command) => self.command(command).await,
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => {
                        self.open = false;
                        break;
                    }
                }
            }
            self.inbox.take(&mut batch);
            if !batch.is_empty() {
                self.warm(
                    batch.iter().map(|f| (f.key.slot, f.key.node)),
                    Run::warm_ended,
                );
                // They ended with (at least) this many in flight, themselves included.
                let scale = self.allowance.scale(self.in_flight);
                self.finished(&mut batch, scale);
                batch.clear();
                self.allowance.settle();
                // One pass for the whole batch: queue the released tasks, end finished runs.
                self.settle_all().await;
            }
            self.deadlines().await;
            self.dispatch_ready().await;
            // A dispatch can end a task without running it (an open circuit breaker).
            self.settle_all().await;
            self.metrics.queue_depth.set(self.queued as f64);
            self.metrics.workers_busy.set(self.in_flight as f64);
            if !self.open && self.active == 0 && self.in_flight == 0 {
                break;
            }
            let wake = self.wait().await;
            self.now = Instant::now();
            self.now_ns = nanos(self.now.saturating_duration_since(self.epoch));
            match wake {
                Wake::Inbox | Wake::Timer => {}
                Wake::Command(Some(command)) => self.command(command).await,
                Wake::Command(None) => self.open = false,
                Wake::Popped(Ok(Some(popped))) => {
                    self.pop_backoff = Duration::ZERO;
                    self.pop_paused_until = None;
                    self.dispatch(std::slice::from_ref(&popped));
                    self.hand_over();
                }
                Wake::Popped(Ok(None)) => {}
                Wake::Popped(Err(error)) => self.pop_failed(&error),
            }
        }
        // Reports that arrived after the last run ended hold references to the inbox they sit
        // in: taken here, so that the inbox is freed with the engine.
        self.inbox.take(&mut batch);
        batch.clear();
    }

    async fn wait(&mut self) -> Wake<Q::Error> {
        let can_pop = self.can_pop();
        // Work waits while the executor is full: look at its capacity again now and then, in
        // case it grew with nothing else happening (an agent was added).
        let recheck =
            (self.capacity_varies && self.queued > 0 && self.in_flight >= self.allowance.limit())
                .then(|| self.now + CAPACITY_RECHECK);
        let deadline = self
            .runs
            .iter()
            .flatten()
            .filter(|r| r.stop.is_none() && r.rollback.is_none())
            .filter_map(|r| r.deadline)
            .chain(self.pop_paused_until.filter(|&until| until > self.now))
            .chain(recheck)
            .min();
        let far = self.now + Duration::from_secs(86_400 * 365);
        tokio::select! {
            biased;
            () = self.inbox.notify.notified() => Wake::Inbox,
            command = self.commands.recv(), if self.open => Wake::Command(command),
            () = sleep_until(deadline.unwrap_or(far)), if deadline.is_some() => Wake::Timer,
            popped = self.queue.pop(), if can_pop => Wake::Popped(popped),
        }
    }

    async fn command(&mut self, command: Command) {
        match command {
            Command::Start(new) => self.start(*new).await,
            Command::Cancel(id) => {
                let slot = self
                    .runs
                    .iter()
                    .flatten()
                    .find(|r| r.id() == id)
                    .map(|r| r.slot);
                if let Some(slot) = slot {
                    with_run!(self, slot, self.now, |run, ctx| run
                        .stop(&mut ctx, Stop::Cancelled));
                    self.settle(slot).await;
                }
            }
            Command::Subscribe { sender, from } => {
                self.subscribers.push(Subscriber { sender, from })
            }
        }
    }

    async fn start(&mut self, new: NewRun) {
        let NewRun {
            shared,
            options,
            reply,
        } = new;
        let now = self.now;
        let spec = Arc::clone(&shared.spec);
        let count = spec.tasks.len();
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.runs.push(None);
                (self.runs.len() - 1) as u32
            }
        };
        let span = tracing::info_span!("run", id = shared.id.0, workflow = &*spec.name);
        let tracker = ReadyTracker::new(&spec.dag);
        let initial: Vec<NodeId> = tracker.initial_ready().to_vec();
        self.runs[slot as usize] = Some(Run {
            slot,
            tracker,
            nodes: self.spares.take(count),
            start: now,
            start_ns: nanos(now.saturating_duration_since(self.epoch)),
            span,
            limit: spec.max_parallelism.unwrap_or(usize::MAX),
            admitted: 0,
            held_back: BinaryHeap::new(),
            seq: 0,
            running: 0,
            in_queue: 0,
            open_tasks: count,
            stop: None,
            failed: Vec::new(),
            deadline: spec.timeout.map(|t| later(now, t)),
            reply: Some(reply),
            faults: (!options.faults.is_empty()).then_some(options.faults),
            seed: options.seed,
            rollback: None,
            spare: Vec::new(),
            last_end: None,
            shared,
        });
        self.active += 1;
        self.metrics.runs_active.increment(1.0);
        with_run!(self, slot, now, |run, ctx| {
            ctx.emit(run, None, now, || EventKind::RunStarted {
                workflow: Arc::clone(&spec.name),
                tasks: count,
            });
            for node in initial {
                run.make_ready(&mut ctx, node.index());
            }
        });
        self.settle(slot).await;
    }

    /// A batch of attempts ended: each one's run takes it, and its time is sampled for the
    /// prefetch (which the loop settles once per batch).
    fn finished(&mut self, batch: &mut [Finished], scale: u64) {
        // One context for the batch (its reports are handled in order, each in its run).
        let mut ctx = engine_ctx!(self, self.now, self.now_ns);
        for finished in batch {
            self.in_flight -= 1;
            if let Some(inbox) = finished.inbox.take()
                && Arc::ptr_eq(&inbox, ctx.inbox)
            {
                ctx.spare_inboxes.push(inbox);
            }
            let Some(run) = run_mut(&mut self.runs, finished.key.slot, RunId(finished.key.run))
            else {
                continue; // a run that ended already
            };
            let took = run.finished(&mut ctx, finished);
            self.allowance.sample(took, scale);
        }
    }

    /// Applies pending queue operations and ends the runs that are over, until nothing is left
    /// to do (a rollback that begins queues compensations: those are applied too).
    async fn settle_all(&mut self) {
        loop {
            self.apply_ops().await;
            self.finish_runs();
            if !self.has_ops() {
                break;
            }
        }
    }

    /// Ends (or begins the rollback of) every run with nothing left to do.
    fn finish_runs(&mut self) {
        for slot in 0..self.runs.len() {
            self.maybe_finish(slot as u32);
        }
    }

    /// Dispatches popped items, in order, with one context for them all.
    fn dispatch(&mut self, popped: &[Popped<QueuedTask>]) {
        let mut ctx = engine_ctx!(self, self.now, self.now_ns);
        for popped in popped {
            let Some(run) = run_mut(&mut self.runs, popped.item.slot, popped.item.run) else {
                continue; // its run ended (it was counted out then)
            };
            if run.dispatch(&mut ctx, popped) {
                self.in_flight += 1;
            }
        }
    }

    /// Hands the attempts dispatched so far to the executor, in one batch.
    fn hand_over(&mut self) {
        if !self.handoff.is_empty() {
            self.executor.execute_batch(&mut self.handoff);
        }
    }

    /// Pops and hands over ready attempts while the executor has room.
    ///
    /// Items are popped a batch at a time (at most as many as there is room for), and their
    /// run states read for the whole batch before any is dispatched: see [`Run::warm_ended`].
    async fn dispatch_ready(&mut self) {
        // The executor's capacity may move (agents come and go): read it every turn.
        self.allowance.follow(self.executor.capacity());
        let mut popped = std::mem::take(&mut self.popped);
        while self.can_pop() {
            let room = (self.allowance.limit() - self.in_flight)
                .min(self.queued)
                .min(POP_BATCH);
            let more = match self.queue.try_pop_batch(room, &mut popped).await {
                Ok(n) => {
                    self.pop_backoff = Duration::ZERO;
                    self.pop_paused_until = None;
                    n == room // fewer: nothing else is ready
                }
                Err(TryPopError::Backend(error)) => {
                    self.pop_failed(&error);
                    false
                }
                Err(_) => false, // only delayed retries are left
            };
            self.warm(
                popped.iter().map(|p| (p.item.slot, p.item.node)),
                Run::warm_popped,
            );
            self.dispatch(&popped);
            popped.clear();
            if !more {
                break;
            }
        }
        self.popped = popped;
        self.hand_over();
    }

    /// Whether to take attempts from the queue now: the executor has room, the queue holds some,
    /// and no backoff after a failed pop is running.
    fn can_pop(&self) -> bool {
        self.in_flight < self.allowance.limit()
            && self.queued > 0
            && self.pop_paused_until.is_none_or(|until| self.now >= until)
    }

    /// A pop failed (a queue backend's error): pause popping for a doubling backoff (10 ms to
    /// 1 s), so that a broken backend is neither hammered nor logged in a tight loop.
    fn pop_failed(&mut self, error: &dyn std::fmt::Display) {
        self.pop_backoff = (self.pop_backoff * 2).clamp(POP_BACKOFF_MIN, POP_BACKOFF_MAX);
        self.pop_paused_until = Some(self.now + self.pop_backoff);
        tracing::warn!(%error, backoff = ?self.pop_backoff, "the queue failed to pop; retrying after a backoff");
    }

    async fn deadlines(&mut self) {
        let now = self.now;
        let due: Vec<u32> = self
            .runs
            .iter()
            .flatten()
            .filter(|r| r.stop.is_none() && r.rollback.is_none())
            .filter(|r| r.deadline.is_some_and(|d| d <= now))
            .map(|r| r.slot)
            .collect();
        for slot in due {
            with_run!(self, slot, now, |run, ctx| {
                let after = run.shared.spec.timeout.unwrap_or_default();
                run.stop(&mut ctx, Stop::TimedOut(after));
            });
            self.settle(slot).await;
        }
    }

    /// Applies the queue operations a change asked for, then ends the run if it is over.
    async fn settle(&mut self, slot: u32) {
        loop {
            self.apply_ops().await;
            self.maybe_finish(slot);
            if !self.has_ops() {
                break;
            }
        }
    }

    /// Whether queue operations wait to be applied.
    fn has_ops(&self) -> bool {
        !self.pushes.is_empty() || !self.ops.is_empty()
    }

    /// Applies the queued operations in order: the pushes gathered before any other operation
    /// first, then `ops`; runs of pushes go to the queue as one batch ([`TaskQueue::push_batch`]:
    /// one lock for the in-memory queue), cancellations one by one.
    async fn apply_ops(&mut self) {
        while self.has_ops() {
            let mut pushes = std::mem::take(&mut self.pushes);
            // Those that ended before their push was applied are left out (none, unless a task
            // gave up an item since the last look: the common case costs no lookup per push).
            if std::mem::take(&mut self.withdrawn) {
                pushes.retain(|(item, _)| self.wanted(item));
            }
            let mut ops = std::mem::take(&mut self.spare_ops);
            std::mem::swap(&mut ops, &mut self.ops);
            for op in ops.drain(..) {
                match op {
                    Op::Push { item, options } => {
                        if self.wanted(&item) {
                            pushes.push((item, options));
                        }
                        // Otherwise it ended before its push was applied.
                    }
                    Op::Cancel { ticket } => {
                        self.push_all(&mut pushes).await;
                        if let Err(error) = self.queue.cancel(ticket).await {
                            tracing::warn!(%error, "the queue failed to cancel an item; it will be dropped when popped");
                        }
                    }
                }
            }
            self.push_all(&mut pushes).await;
            self.spare_ops = ops;
            // Keep the buffer, unless a failed push above gathered new pushes in its place.
            if self.pushes.is_empty() {
                self.pushes = pushes;
            }
        }
    }

    /// Reads, for each `(slot, node)` of a batch, the lines `read` says handling it will touch,
    /// before any of it is handled, so that the batch's cache misses overlap (see
    /// [`Run::warm_ended`]). Changes nothing.
    fn warm(&self, batch: impl Iterator<Item = (u32, u32)>, read: impl Fn(&Run, usize) -> u64) {
        let sum = batch.fold(0, |sum, (slot, node)| {
            sum ^ self.run_at(slot).map_or(0, |run| read(run, node as usize))
        });
        std::hint::black_box(sum);
    }

    /// The run in `slot`, whichever it is (enough to warm lines: see [`Engine::warm`]).
    fn run_at(&self, slot: u32) -> Option<&Run> {
        self.runs.get(slot as usize).and_then(Option::as_ref)
    }

    /// The run in `slot`, if it is still `run` (slots are reused).
    fn run_in(&self, slot: u32, run: RunId) -> Option<&Run> {
        self.run_at(slot).filter(|r| r.id() == run)
    }

    /// Whether `item` is still to be pushed: its run and task are still waiting for it.
    fn wanted(&self, item: &QueuedTask) -> bool {
        self.run_in(item.slot, item.run)
            .and_then(|run| run.nodes.get(item.node as usize))
            .is_some_and(|node| node.in_queue && !node.pushed)
    }

    /// Pushes `pushes` (draining it) as one batch, then records each ticket or failure.
    async fn push_all(&mut self, pushes: &mut Vec<(QueuedTask, PushOptions)>) {
        if pushes.is_empty() {
            return;
        }
        let mut items = std::mem::take(&mut self.pushed_items);
        items.extend(pushes.iter().map(|&(item, _)| item));
        let mut results = std::mem::take(&mut self.push_results);
        self.queue.push_batch(pushes, &mut results).await;
        // A backend whose batch stopped short (against the trait's contract) gets the rest one
        // at a time; an item that still has no result below fails its task.
        for (item, options) in pushes.drain(..) {
            results.push(self.queue.push(item, options).await);
        }
        // Until a failure in this batch, every item is still wanted (`apply_ops` left out those a
        // task gave up, and nothing else has run since: the engine is one task), so a ticket is
        // recorded at once; after one, each item is checked again, as the failure may have
        // stopped its run.
        let mut failed = false;
        let mut results_iter = results.drain(..);
        for item in items.drain(..) {
            match results_iter.next() {
                Some(Ok(ticket)) if !failed => self.record_ticket(&item, ticket),
                Some(Ok(ticket)) => self.pushed(item, ticket),
                Some(Err(error)) => {
                    failed = true;
                    self.push_failed(item, format!("could not be queued: {error}"));
                }
                None => {
                    failed = true;
                    self.push_failed(
                        item,
                        "could not be queued: the queue reported no result for it".to_owned(),
                    );
                }
            }
        }
        drop(results_iter);
        self.pushed_items = items;
        self.push_results = results;
    }

    /// `item` is in the queue under `ticket`: recorded, or cancelled if its task ended meanwhile
    /// (a failure earlier in the same batch can stop its run).
    fn pushed(&mut self, item: QueuedTask, ticket: TaskId) {
        if self.wanted(&item) {
            self.record_ticket(&item, ticket);
        } else {
            self.ops.push(Op::Cancel { ticket });
        }
    }

    /// Records that `item` is in the queue under `ticket`.
    fn record_ticket(&mut self, item: &QueuedTask, ticket: TaskId) {
        if let Some(run) = run_mut(&mut self.runs, item.slot, item.run) {
            run.nodes[item.node as usize].set_ticket(ticket);
        }
    }

    /// `item` could not be queued: its task (or compensation) fails for good.
    fn push_failed(&mut self, item: QueuedTask, message: String) {
        if !self.wanted(&item) {
            return; // ended meanwhile
        }
        let node = item.node as usize;
        let now = self.now;
        with_run!(self, item.slot, now, |run, ctx| {
            run.unqueue(&mut ctx, node);
            if item.compensation {
                run.compensation_ended(
                    &mut ctx,
                    node,
                    Outcome::Failed(TaskError::permanent(message)),
                    now,
                );
            } else {
                run.fail_task(&mut ctx, node, message, false, now);
            }
            run.refill(&mut ctx);
        });
    }

    /// Ends the run in `slot` if nothing of it is left; begins a saga's rollback first if due.
    fn maybe_finish(&mut self, slot: u32) {
        let busy = self.runs[slot as usize]
            .as_ref()
            .is_none_or(|run| run.open_tasks > 0 && run.rollback.is_none());
        if busy {
            return;
        }
        let now = self.now;
        with_run!(self, slot, now, |run, ctx| {
            if run.open_tasks == 0
                && run.is_quiet()
                && run.rollback.is_none()
                && run.shared.spec.saga
                && !(run.stop.is_none() && run.failed.is_empty())
            {
                run.begin_rollback(&mut ctx);
            }
        });
        self.finish_if_quiet(slot, now);
    }

    fn finish_if_quiet(&mut self, slot: u32, now: Instant) {
        let Some(run) = self.runs[slot as usize].as_ref() else {
            return;
        };
        if run.open_tasks > 0
            || !run.is_quiet()
            || run.rollback.as_ref().is_some_and(|rb| rb.outstanding > 0)
        {
            return;
        }
        let mut run = self.runs[slot as usize].take().expect("checked above");
        self.free.push(slot);
        self.active -= 1;
        let outcome = run.outcome();
        let report = run.report(outcome.clone(), now, &self.spares);
        let mut ctx = engine_ctx!(self, now, nanos(now.saturating_duration_since(self.epoch)));
        ctx.emit(&run, None, now, || EventKind::RunFinished {
            outcome: outcome.clone(),
        });
        self.metrics.run_ended(&outcome);
        self.metrics.runs_active.decrement(1.0);
        let _span = run.span.enter();
        tracing::info!(outcome = %outcome, tasks = report.totals.tasks, "run finished");
        if let Some(reply) = run.reply.take() {
            // The handle may have been dropped: the report is then discarded.
            let _ = reply.send(report);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_hands_its_task_states_back_for_the_next_run() {
        let spares = Arc::new(Spares::default());
        let spare_count = || spares.0.lock().unwrap().len();
        let loan = |count: usize| Records {
            nodes: spares.take(count),
            home: Arc::downgrade(&spares),
        };
        let mut first = loan(1000);
        first.nodes[3].attempts = 7;
        first.nodes[3].cold().error = Some("kept until handed back".into());
        let address = first.nodes.as_ptr();
        drop(first);
        assert_eq!(spare_count(), 1, "handed back on drop");
        let small = spares.take(10);
        assert_eq!(spare_count(), 1, "a small run does not take a large vector");
        assert_eq!(small.len(), 10);
        let again = spares.take(900);
        assert_eq!(spare_count(), 0);
        assert_eq!(again.as_ptr(), address, "the same allocation, reused");
        assert_eq!(again.len(), 900);
        assert!(
            again.iter().all(|n| n.attempts == 0 && n.cold.is_none()),
            "fresh states"
        );
        assert!(spares.take(2000).capacity() >= 2000, "none fits: a new one");
        drop((loan(5), loan(5), loan(5)));
        assert_eq!(spare_count(), MAX_SPARES, "no more than that are kept");
        let orphan = loan(5);
        drop(spares);
        drop(orphan); // the orchestrator is gone: simply freed
    }

    #[test]
    fn a_task_s_run_state_is_one_cache_line() {
        assert_eq!(size_of::<NodeRun>(), 64);
        assert_eq!(align_of::<NodeRun>(), 64, "one cache line each");
        let mut n = NodeRun::new();
        assert_eq!(n.ticket(), None);
        n.set_ticket(TaskId::from_raw(7));
        assert_eq!(n.take_ticket(), Some(TaskId::from_raw(7)));
        assert_eq!(n.take_ticket(), None, "a ticket is taken once");
        assert_eq!(
            (n.compensation_attempts(), n.compensation_failed()),
            (0, false)
        );
        assert!(
            n.cold.is_none(),
            "reading the compensation allocates nothing"
        );
    }
}

//! The engine: runs a saga's steps forward, compensates backward, and rebuilds a run from its log.
//!
//! The engine passes the context (`Box<C>`) by value from step to step. The retry helper takes an
//! `FnMut` that makes one attempt's future at a time, so each attempt owns the context (through a
//! [`Lease`]) and hands it back in its `Ok` value. When an attempt fails, panics, times out or is
//! dropped (cancellation), the lease's `Drop` parks the context in a `Mutex` slot, from where the
//! next attempt, or the engine, takes it. The lock is only touched on those paths, never held across
//! an await or while user code runs, and it keeps the saga future `Send`.
//!
//! A phase with a one-attempt policy (the default of compensable and pivot actions) has nothing to
//! retry, so it skips that machinery: when no cancel token can interrupt it, it runs inline in the
//! step loop as a single [`Attempt`] on the borrowed context (same panic catching, same timeout,
//! same outcome as the retry helper reports for one attempt). Spans and trace events are only
//! built when tracing's level lets them through, and entries only when something records them.

use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;
use std::time::Duration;

use baton_retry::Decision;
use tracing::Instrument;

use crate::attempt::Attempt;
use crate::cancel::CancelToken;
use crate::error::{FailureKind, Permanent, SagaError, StepFailure};
use crate::log::{Entry, EntryKind, SagaLog, StepRef};
use crate::outcome::{Abort, Outcome, OutcomeKind};
use crate::saga::Saga;
use crate::step::StepKind;

/// The log failed: the entry, the error, and the context at that point.
pub(crate) struct Stop<C, E> {
    entry: &'static str,
    source: E,
    context: Box<C>,
}

type Slot<C> = Mutex<Option<Box<C>>>;

fn park<C>(slot: &Slot<C>, ctx: Box<C>) {
    *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(ctx);
}

fn unpark<C>(slot: &Slot<C>) -> Box<C> {
    let ctx = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
    ctx.expect("a failed, dropped or panicked attempt parks the context in its slot")
}

/// Exclusive use of the context; parked in the slot on drop unless [`release`](Self::release)d
/// (so a panic, a timeout or a cancellation never loses it).
struct Lease<'a, C> {
    slot: &'a Slot<C>,
    ctx: Option<Box<C>>,
}

impl<'a, C> Lease<'a, C> {
    fn new(slot: &'a Slot<C>, ctx: Box<C>) -> Self {
        Self {
            slot,
            ctx: Some(ctx),
        }
    }

    fn get_mut(&mut self) -> &mut C {
        self.ctx.as_deref_mut().expect("a lease holds the context")
    }

    fn release(mut self) -> Box<C> {
        self.ctx.take().expect("a lease holds the context")
    }
}

impl<C> Drop for Lease<'_, C> {
    fn drop(&mut self) {
        if let Some(ctx) = self.ctx.take() {
            park(self.slot, ctx);
        }
    }
}

/// How running one action or compensation (with its retries) ended.
enum Phase {
    Done,
    Failed(StepFailure),
    Cancelled,
}

/// Classifies attempt failures: panics and [`permanent`](crate::permanent) errors are not retried.
fn classify(kind: &FailureKind) -> Decision {
    match kind {
        FailureKind::Panicked(_) => Decision::Permanent,
        FailureKind::Error(e) if e.is::<Permanent>() => Decision::Permanent,
        _ => Decision::Retry,
    }
}

/// Runs `fut` until it finishes (`Some`) or `cancel` is cancelled (`None`, dropping `fut`).
async fn cancellable<F: Future>(cancel: Option<&CancelToken>, fut: F) -> Option<F::Output> {
    let Some(token) = cancel else {
        return Some(fut.await);
    };
    let mut fut = pin!(fut);
    let mut cancelled = pin!(token.cancelled());
    poll_fn(|cx| {
        if let Poll::Ready(r) = fut.as_mut().poll(cx) {
            return Poll::Ready(Some(r));
        }
        cancelled.as_mut().poll(cx).map(|()| None)
    })
    .await
}

pub(crate) struct Engine<'s, C, L> {
    saga: &'s Saga<C>,
    log: &'s L,
    cancel: Option<&'s CancelToken>,
    slot: Slot<C>,
}

type Step<C, E> = Result<Outcome<C>, Stop<C, E>>;

/// Records an entry (a snapshot of `$ctx` if `$snapshot`), skipping the async call and the entry
/// when nothing listens; returns `Err(Stop)` with the context if the log fails.
macro_rules! record {
    ($engine:expr, $ctx:ident, $step:expr, $kind:expr, $snapshot:expr) => {{
        let engine = $engine;
        let step: Option<usize> = $step;
        // The level check first: when tracing is off and nothing records, no entry is built.
        let traced = tracing::level_enabled!(tracing::Level::DEBUG);
        let recording = engine.recording();
        if traced || recording {
            let kind: EntryKind = $kind;
            if traced {
                engine.trace(step, &kind);
            }
            if recording {
                let snapshot: bool = $snapshot;
                if let Err((entry, source)) =
                    engine.record(step, kind, snapshot.then_some(&*$ctx)).await
                {
                    return Err(Stop {
                        entry,
                        source,
                        context: $ctx,
                    });
                }
            }
        }
    }};
}

/// Runs step `$i`'s action (or compensation) on `$ctx` inside its span, and evaluates to its
/// [`Phase`] (`$ctx` holds the context again afterwards). A one-attempt phase that cannot be
/// cancelled runs inline as a single [`Attempt`] on the borrowed context (no retry loop, no
/// lease, no nested state machine).
macro_rules! run_phase {
    ($engine:expr, $i:expr, $compensation:expr, $ctx:ident) => {{
        let engine = $engine;
        let (i, compensation): (usize, bool) = ($i, $compensation);
        // No span at all (not even a disabled one) when the level rules spans out.
        let span = tracing::level_enabled!(tracing::Level::INFO)
            .then(|| engine.step_span(i, compensation))
            .filter(|span| !span.is_disabled());
        if let Some(timeout) = engine.single(i, compensation) {
            let step = &*engine.saga.steps[i].step;
            let result = match span {
                None => Attempt::new(step, compensation, timeout, &mut $ctx).await,
                Some(span) => {
                    let attempt =
                        span.in_scope(|| Attempt::new(step, compensation, timeout, &mut $ctx));
                    attempt.instrument(span).await
                }
            };
            engine.single_phase(i, result)
        } else {
            let (phase, back) = match span {
                None => engine.phase(i, compensation, $ctx).await,
                Some(span) => engine.phase(i, compensation, $ctx).instrument(span).await,
            };
            $ctx = back;
            phase
        }
    }};
}

impl<'s, C: Send + Sync + 'static, L: SagaLog<C>> Engine<'s, C, L> {
    pub(crate) fn new(saga: &'s Saga<C>, log: &'s L, cancel: Option<&'s CancelToken>) -> Self {
        Self {
            saga,
            log,
            cancel,
            slot: Mutex::new(None),
        }
    }

    pub(crate) fn write_error(&self, stop: Stop<C, L::Error>) -> SagaError<C, L::Error> {
        SagaError::Write {
            saga: self.saga.name.to_string(),
            entry: stop.entry,
            source: stop.source,
            context: stop.context,
        }
    }

    fn name(&self, i: usize) -> &str {
        &self.saga.steps[i].name
    }

    /// Whether entries go anywhere (a log or an event callback).
    fn recording(&self) -> bool {
        L::ENABLED || self.saga.on_event.is_some()
    }

    /// Emits the transition as a tracing event.
    #[inline(always)]
    fn trace(&self, step: Option<usize>, kind: &EntryKind) {
        tracing::debug!(
            step = step.map(|i| self.name(i)),
            entry = kind.label(),
            "saga transition"
        );
    }

    /// Emits the entry to the event callback and the log.
    async fn record(
        &self,
        step: Option<usize>,
        kind: EntryKind,
        snapshot: Option<&C>,
    ) -> Result<(), (&'static str, L::Error)> {
        let step = step.map(|index| StepRef {
            index,
            name: Arc::clone(&self.saga.steps[index].name),
        });
        let entry = Entry::new(step, kind, snapshot);
        if let Some(f) = &self.saga.on_event
            && catch_unwind(AssertUnwindSafe(|| f(&entry))).is_err()
        {
            tracing::warn!(
                entry = entry.kind.label(),
                "the saga's event callback panicked"
            );
        }
        if !L::ENABLED {
            return Ok(());
        }
        let label = entry.kind.label();
        self.log.append(entry).await.map_err(|e| (label, e))
    }

    pub(crate) async fn start(&self, ctx: Box<C>) -> Result<Box<C>, Stop<C, L::Error>> {
        record!(self, ctx, None, EntryKind::SagaStarted, true);
        Ok(ctx)
    }

    /// Runs step `i`'s action (or compensation) under its retry policy, timeout and the cancel
    /// token (actions only: compensations are never interrupted). Returns the context with it.
    ///
    /// A one-attempt policy (the default of compensable and pivot actions) needs no retry loop:
    /// the attempt borrows the context directly, with no lease or slot, and its outcome is what
    /// the retry helper would report for one attempt.
    async fn phase(&self, i: usize, compensation: bool, mut ctx: Box<C>) -> (Phase, Box<C>) {
        let def = &self.saga.steps[i];
        let (policy, timeout) = self.settings(i, compensation);
        let step = &*def.step;
        let cancel = self.cancel.filter(|_| !compensation);
        if policy.attempts() == 1 {
            let attempt = Attempt::new(step, compensation, timeout, &mut ctx);
            let phase = match cancellable(cancel, attempt).await {
                Some(result) => self.single_phase(i, result),
                None => Phase::Cancelled,
            };
            return (phase, ctx);
        }
        let slot = &self.slot;
        let result = {
            // The first attempt takes the context from here, later ones from the slot.
            let mut first = Lease::new(slot, ctx);
            let attempt = move || {
                let ctx = first.ctx.take().unwrap_or_else(|| unpark(slot));
                let mut lease = Lease::new(slot, ctx);
                async move {
                    Attempt::new(step, compensation, timeout, lease.get_mut()).await?;
                    Ok(lease.release())
                }
            };
            let mut retry = baton_retry::retry(policy, attempt).when(classify);
            cancellable(cancel, retry.run()).await
            // Every lease is dropped here: a context not handed back is parked in the slot.
        };
        match result {
            Some(Ok(success)) => (Phase::Done, success.value),
            Some(Err(e)) => {
                let failure = StepFailure::new(&def.name, e.attempts, e.error);
                (Phase::Failed(failure), unpark(slot))
            }
            None => (Phase::Cancelled, unpark(slot)),
        }
    }

    /// `Some(timeout)` when step `i`'s action (or compensation) is one attempt that no cancel
    /// token can interrupt: it then runs inline (see `run_phase!`).
    #[inline(always)]
    fn single(&self, i: usize, compensation: bool) -> Option<Option<Duration>> {
        let (policy, timeout) = self.settings(i, compensation);
        let uninterruptible = compensation || self.cancel.is_none();
        (policy.attempts() == 1 && uninterruptible).then_some(timeout)
    }

    /// Step `i`'s retry policy and timeout for its action or its compensation.
    #[inline(always)]
    fn settings(&self, i: usize, compensation: bool) -> (&baton_retry::Policy, Option<Duration>) {
        let def = &self.saga.steps[i];
        if compensation {
            (&def.compensation_retry, def.compensation_timeout)
        } else {
            (&def.retry, def.timeout)
        }
    }

    /// The phase of a single attempt's result: what the retry helper reports for one attempt.
    #[inline(always)]
    fn single_phase(&self, i: usize, result: Result<(), FailureKind>) -> Phase {
        match result {
            Ok(()) => Phase::Done,
            Err(kind) => Phase::Failed(StepFailure::new(self.name(i), 1, kind)),
        }
    }

    /// The `saga_step` span of an action or compensation. Callers only wrap the step's future
    /// in it when it is enabled, which keeps that large future from being moved into the wrapper.
    #[inline(always)]
    fn step_span(&self, i: usize, compensation: bool) -> tracing::Span {
        let what = if compensation {
            "compensation"
        } else {
            "action"
        };
        tracing::info_span!("saga_step", step = self.name(i), index = i, phase = what)
    }

    /// Runs the actions from step `from` on.
    pub(crate) async fn forward(&self, from: usize, mut ctx: Box<C>) -> Step<C, L::Error> {
        for i in from..self.saga.steps.len() {
            if self.cancel.is_some_and(CancelToken::is_cancelled) {
                return self.on_cancel(i, false, ctx).await;
            }
            record!(self, ctx, Some(i), EntryKind::Started, false);
            let phase = run_phase!(self, i, false, ctx);
            match phase {
                Phase::Done => record!(self, ctx, Some(i), EntryKind::Completed, true),
                Phase::Failed(failure) => {
                    // Written inside `record!`, the message is only built when an entry is.
                    record!(
                        self,
                        ctx,
                        Some(i),
                        EntryKind::Failed {
                            error: failure.to_string()
                        },
                        true
                    );
                    if self.saga.steps[i].kind == StepKind::Retriable {
                        return self.stuck(failure, ctx).await;
                    }
                    return self
                        .compensate(Abort::Failed(failure), i, None, 0, ctx)
                        .await;
                }
                Phase::Cancelled => return self.on_cancel(i, true, ctx).await,
            }
        }
        let kind = EntryKind::Finished(OutcomeKind::Completed);
        record!(self, ctx, None, kind, false);
        Ok(Outcome::Completed { context: *ctx })
    }

    /// Cancellation before step `i` (`running == false`) or during its action.
    async fn on_cancel(&self, i: usize, running: bool, ctx: Box<C>) -> Step<C, L::Error> {
        let def = &self.saga.steps[i];
        let compensate_step = running && def.compensate_if_cancelled;
        record!(
            self,
            ctx,
            Some(i),
            EntryKind::Cancelled { compensate_step },
            true
        );
        if def.kind == StepKind::Retriable {
            // Past the pivot: nothing to undo. No `Finished` entry, so resume goes on forward.
            return Ok(Outcome::Stuck {
                context: *ctx,
                error: StepFailure::new(&def.name, 0, FailureKind::Cancelled),
            });
        }
        let cause = Abort::Cancelled {
            step: Some(def.name.to_string()),
        };
        self.compensate(cause, i, compensate_step.then_some(i), 0, ctx)
            .await
    }

    pub(crate) async fn stuck(&self, error: StepFailure, ctx: Box<C>) -> Step<C, L::Error> {
        record!(
            self,
            ctx,
            None,
            EntryKind::Finished(OutcomeKind::Stuck),
            false
        );
        Ok(Outcome::Stuck {
            context: *ctx,
            error,
        })
    }

    /// The compensation order: the interrupted step (if it is compensated), then the completed
    /// steps `completed - 1` down to 0; pivot and retriable steps are skipped.
    fn order(&self, completed: usize, include: Option<usize>) -> impl Iterator<Item = usize> + '_ {
        include
            .into_iter()
            .chain((0..completed).rev())
            .filter(|&j| self.saga.steps[j].kind == StepKind::Compensable)
    }

    /// The names of the first `n` steps of the compensation order.
    fn first_compensated(
        &self,
        completed: usize,
        include: Option<usize>,
        n: usize,
    ) -> Vec<Arc<str>> {
        self.order(completed, include)
            .take(n)
            .map(|j| Arc::clone(&self.saga.steps[j].name))
            .collect()
    }

    /// Compensates, in reverse, the steps before `completed` (and `include`), skipping the first
    /// `skip` of that order (already compensated, on resume).
    pub(crate) async fn compensate(
        &self,
        cause: Abort,
        completed: usize,
        include: Option<usize>,
        skip: usize,
        mut ctx: Box<C>,
    ) -> Step<C, L::Error> {
        let mut compensated = self.first_compensated(completed, include, skip);
        // At most every completed step (and the interrupted one): no regrowth in the loop.
        compensated.reserve((completed + usize::from(include.is_some())).saturating_sub(skip));
        for j in self.order(completed, include).skip(skip) {
            record!(self, ctx, Some(j), EntryKind::Compensating, false);
            let phase = run_phase!(self, j, true, ctx);
            match phase {
                Phase::Done => {
                    record!(self, ctx, Some(j), EntryKind::Compensated, true);
                    compensated.push(Arc::clone(&self.saga.steps[j].name));
                }
                Phase::Failed(error) => {
                    record!(
                        self,
                        ctx,
                        Some(j),
                        EntryKind::CompensationFailed {
                            error: error.to_string()
                        },
                        false
                    );
                    return self
                        .compensation_failed(cause, error, compensated, ctx)
                        .await;
                }
                Phase::Cancelled => unreachable!("compensations are not cancelled"),
            }
        }
        let kind = EntryKind::Finished(OutcomeKind::Compensated);
        record!(self, ctx, None, kind, false);
        Ok(Outcome::Compensated {
            context: *ctx,
            cause,
            compensated,
        })
    }

    pub(crate) async fn compensation_failed(
        &self,
        cause: Abort,
        error: StepFailure,
        compensated: Vec<Arc<str>>,
        ctx: Box<C>,
    ) -> Step<C, L::Error> {
        let kind = EntryKind::Finished(OutcomeKind::CompensationFailed);
        record!(self, ctx, None, kind, false);
        Ok(Outcome::CompensationFailed {
            context: *ctx,
            cause,
            error,
            compensated,
        })
    }
}

/// Rebuilds an interrupted run from `log` and finishes it.
pub(crate) async fn resume<C: Send + Sync + 'static, L: SagaLog<C>>(
    saga: &Saga<C>,
    log: &L,
    cancel: Option<&CancelToken>,
) -> Result<Outcome<C>, SagaError<C, L::Error>> {
    let name = || saga.name.to_string();
    let entries = log.load().await.map_err(|source| SagaError::Read {
        saga: name(),
        source,
    })?;
    let mut context = None;
    let mut completed = 0;
    let mut abort: Option<(Abort, Option<usize>)> = None;
    let mut stuck = None;
    let mut compensated = 0;
    let mut compensation_failed = None;
    for entry in entries {
        let index = match &entry.step {
            Some(StepRef {
                index,
                name: logged,
            }) => {
                let expected = saga.steps.get(*index).map(|d| &d.name);
                if expected != Some(logged) {
                    return Err(SagaError::StepMismatch {
                        saga: name(),
                        index: *index,
                        logged: logged.to_string(),
                        expected: expected.map_or("missing".to_owned(), |n| format!("`{n}`")),
                    });
                }
                Some(*index)
            }
            None => None,
        };
        if let Some(snapshot) = entry.context {
            context = Some(snapshot);
        }
        let step_name = || index.map_or_else(String::new, |i| saga.steps[i].name.to_string());
        let retriable = index.is_some_and(|i| saga.steps[i].kind == StepKind::Retriable);
        match entry.kind {
            EntryKind::SagaStarted | EntryKind::Started | EntryKind::Compensating => {}
            EntryKind::Completed => completed = index.map_or(completed, |i| i + 1),
            EntryKind::Failed { error } => {
                let failure = StepFailure::new(&step_name(), 0, FailureKind::Logged(error));
                if retriable {
                    stuck = Some(failure);
                } else {
                    abort = Some((Abort::Failed(failure), None));
                }
            }
            EntryKind::Cancelled { compensate_step } => {
                // A cancellation past the pivot only paused forward recovery.
                if !retriable {
                    let step = index.map(|_| step_name());
                    let include = index.filter(|_| compensate_step);
                    abort = Some((Abort::Cancelled { step }, include));
                }
            }
            EntryKind::Compensated => compensated += 1,
            EntryKind::CompensationFailed { error } => {
                let failure = StepFailure::new(&step_name(), 0, FailureKind::Logged(error));
                compensation_failed = Some(failure);
            }
            EntryKind::Finished(outcome) => {
                return Err(SagaError::AlreadyFinished {
                    saga: name(),
                    outcome,
                });
            }
        }
    }
    let Some(context) = context else {
        return Err(SagaError::NotStarted { saga: name() });
    };
    let ctx = Box::new(context);
    let engine = Engine::new(saga, log, cancel);
    let result = if let Some(failure) = stuck {
        engine.stuck(failure, ctx).await
    } else if let Some((cause, include)) = abort {
        if let Some(failure) = compensation_failed {
            let done = engine.first_compensated(completed, include, compensated);
            engine.compensation_failed(cause, failure, done, ctx).await
        } else {
            engine
                .compensate(cause, completed, include, compensated, ctx)
                .await
        }
    } else {
        engine.forward(completed, ctx).await
    };
    result.map_err(|stop| engine.write_error(stop))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_returns_the_context_even_when_its_holder_panics() {
        let slot: Slot<u32> = Mutex::new(None);
        let caught = catch_unwind(AssertUnwindSafe(|| {
            let mut lease = Lease::new(&slot, Box::new(1));
            *lease.get_mut() += 1;
            panic!("step bug");
        }));
        assert!(caught.is_err());
        assert_eq!(slot.lock().unwrap().as_deref(), Some(&2));
    }

    #[test]
    fn panics_and_permanent_errors_are_not_retried() {
        assert_eq!(
            classify(&FailureKind::Panicked("x".into())),
            Decision::Permanent
        );
        let e = FailureKind::Error(crate::error::permanent("declined"));
        assert_eq!(classify(&e), Decision::Permanent);
        assert_eq!(
            classify(&FailureKind::Error("busy".into())),
            Decision::Retry
        );
        let timed_out = FailureKind::TimedOut(Duration::from_secs(1));
        assert_eq!(classify(&timed_out), Decision::Retry);
    }
}

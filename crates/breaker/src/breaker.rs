//! The breaker: shared state, permits and the async call wrappers.

use std::collections::VecDeque;
use std::fmt;
use std::ops::Deref;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{
    AtomicBool, AtomicU64,
    Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst},
};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::config::{BreakerBuilder, Config};
use crate::stats::{BreakerStats, Counters};
use crate::window::{CallWindow, TimeWindow, Totals};
use crate::word::{CLOSED, HALF_OPEN, OPEN, Word};
use crate::{CallError, CircuitOpen, Reason, State, Transition, Trip, Window};

/// A circuit breaker. Cloning is cheap and every clone shares the same state.
///
/// Take a [`Permit`] with [`try_acquire`](Self::try_acquire) (or an [`OwnedPermit`] with
/// [`try_acquire_owned`](Self::try_acquire_owned)) before work and settle it afterwards, or
/// wrap a future with [`call`](Self::call) / [`call_with`](Self::call_with).
#[derive(Clone)]
pub struct Breaker {
    inner: Arc<Inner>,
}

/// How the trip policy counts, with its window.
#[derive(Debug)]
enum Policy {
    Consecutive(u32),
    Calls {
        rate: f64,
        min_calls: u32,
        window: CallWindow,
    },
    Time {
        rate: f64,
        min_calls: u32,
        window: TimeWindow,
    },
}

impl Policy {
    fn clear(&self) {
        match self {
            Self::Consecutive(_) => {}
            Self::Calls { window, .. } => window.clear(),
            Self::Time { window, .. } => window.clear(),
        }
    }
}

/// State that only changes together with the generation, under the lock.
#[derive(Debug)]
struct Slow {
    /// When the current (or last) open period ends.
    open_until: Instant,
    /// The current open duration (grows with backoff, back to `open_for` on close).
    open_for: Duration,
    /// Transitions not yet delivered to the listeners, in order.
    events: VecDeque<Transition>,
}

/// Keeps the hot state word on its own cache lines.
#[derive(Debug)]
#[repr(align(128))]
struct Padded<T>(T);

pub(crate) struct Inner {
    /// The packed state word (see `word.rs`).
    word: Padded<AtomicU64>,
    /// `open_until` in nanoseconds since `base`, for the lock-free rejection path.
    open_until_nanos: AtomicU64,
    policy: Policy,
    config: Config,
    counters: Counters,
    opened: AtomicU64,
    slow: Mutex<Slow>,
    /// Set while a thread delivers queued transitions to the listeners.
    delivering: AtomicBool,
    /// The clock's reading when the breaker was built; windows count from it.
    base: Instant,
    name: Option<Arc<str>>,
}

/// What a permit remembers: the generation it was granted in, and whether it is a trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ticket {
    generation: u32,
    trial: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Success,
    Failure,
    Ignored,
}

/// A far-away deadline for open times too long to add to the clock.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Slow> {
        self.slow.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[inline]
    fn load(&self) -> Word {
        Word(self.word.0.load(Acquire))
    }

    fn nanos_since_base(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.base).as_nanos()).unwrap_or(u64::MAX)
    }

    /// Grants a permit or says why not. Closed: a single load.
    #[inline]
    fn acquire(&self) -> Result<Ticket, CircuitOpen> {
        let current = self.load();
        if current.state_bits() == CLOSED {
            return Ok(Ticket {
                generation: current.generation(),
                trial: false,
            });
        }
        self.acquire_slow(current)
    }

    fn acquire_slow(&self, mut current: Word) -> Result<Ticket, CircuitOpen> {
        loop {
            match current.state_bits() {
                CLOSED => {
                    return Ok(Ticket {
                        generation: current.generation(),
                        trial: false,
                    });
                }
                HALF_OPEN => {
                    if current.in_flight() >= self.config.trials {
                        return Err(self.reject(Duration::ZERO));
                    }
                    let taken = current.with_data(current.data() + 1);
                    match self
                        .word
                        .0
                        .compare_exchange_weak(current.0, taken.0, AcqRel, Acquire)
                    {
                        Ok(_) => {
                            return Ok(Ticket {
                                generation: current.generation(),
                                trial: true,
                            });
                        }
                        Err(seen) => current = Word(seen),
                    }
                }
                _ => {
                    let now = self.nanos_since_base(Instant::now());
                    let until = self.open_until_nanos.load(Acquire);
                    if now < until {
                        return Err(self.reject(Duration::from_nanos(until - now)));
                    }
                    if let Some(result) = self.acquire_after_open(current) {
                        return result;
                    }
                    current = self.load();
                }
            }
        }
    }

    fn reject(&self, retry_in: Duration) -> CircuitOpen {
        self.counters.shard().rejected.fetch_add(1, Relaxed);
        CircuitOpen { retry_in }
    }

    /// Open and probably elapsed: under the lock, either reject or move to `HalfOpen` taking
    /// the first trial. `None` if the word changed meanwhile (the caller looks again).
    #[cold]
    fn acquire_after_open(&self, seen: Word) -> Option<Result<Ticket, CircuitOpen>> {
        let mut slow = self.lock();
        let current = self.load();
        if current != seen {
            return None;
        }
        let now = Instant::now();
        if now < slow.open_until {
            let retry_in = slow.open_until - now;
            drop(slow);
            return Some(Err(self.reject(retry_in)));
        }
        let next = Word::half_open(current.generation().wrapping_add(1), 1, 0);
        self.publish(next);
        self.emit(
            &mut slow,
            State::Open,
            State::HalfOpen,
            now,
            Reason::OpenElapsed,
            None,
        );
        drop(slow);
        self.deliver();
        Some(Ok(Ticket {
            generation: next.generation(),
            trial: true,
        }))
    }

    /// Records a permit's outcome. A closed success with no failures pending (consecutive
    /// policy) is one atomic add and one load.
    #[inline]
    fn settle(&self, ticket: Ticket, outcome: Outcome) {
        let shard = self.counters.shard();
        match outcome {
            Outcome::Success => shard.successes.fetch_add(1, Relaxed),
            Outcome::Failure => shard.failures.fetch_add(1, Relaxed),
            Outcome::Ignored => shard.ignored.fetch_add(1, Relaxed),
        };
        if !ticket.trial
            && outcome == Outcome::Success
            && matches!(self.policy, Policy::Consecutive(_))
        {
            let current = self.load();
            if current.data() == 0 || !current.is(CLOSED, ticket.generation) {
                return;
            }
        }
        self.settle_slow(ticket, outcome);
    }

    fn settle_slow(&self, ticket: Ticket, outcome: Outcome) {
        if ticket.trial {
            self.settle_trial(ticket.generation, outcome);
        } else if outcome != Outcome::Ignored {
            self.settle_closed(ticket.generation, outcome == Outcome::Failure);
        }
    }

    fn settle_closed(&self, generation: u32, failed: bool) {
        match &self.policy {
            Policy::Consecutive(count) => {
                let mut current = self.load();
                loop {
                    if !current.is(CLOSED, generation) {
                        return;
                    }
                    let failures = if failed { current.data() + 1 } else { 0 };
                    if failures >= *count {
                        let reason = Reason::Tripped {
                            failures: *count,
                            calls: *count,
                        };
                        return self.trip(generation, reason);
                    }
                    if failures == current.data() {
                        return; // a success with no failures to clear: nothing to write
                    }
                    match self.word.0.compare_exchange_weak(
                        current.0,
                        current.with_data(failures).0,
                        AcqRel,
                        Acquire,
                    ) {
                        Ok(_) => return,
                        Err(seen) => current = Word(seen),
                    }
                }
            }
            Policy::Calls {
                rate,
                min_calls,
                window,
            } => {
                if self.load().is(CLOSED, generation) {
                    window.record(failed);
                    if failed {
                        self.trip_on_rate(generation, window.totals(), *rate, *min_calls);
                    }
                }
            }
            Policy::Time {
                rate,
                min_calls,
                window,
            } => {
                if self.load().is(CLOSED, generation) {
                    let now = self.nanos_since_base(Instant::now());
                    window.record(now, failed);
                    if failed {
                        self.trip_on_rate(generation, window.totals(now), *rate, *min_calls);
                    }
                }
            }
        }
    }

    fn trip_on_rate(&self, generation: u32, totals: Totals, rate: f64, min_calls: u32) {
        if totals.trips(rate, min_calls) {
            let reason = Reason::Tripped {
                failures: totals.failures,
                calls: totals.calls,
            };
            self.trip(generation, reason);
        }
    }

    fn settle_trial(&self, generation: u32, outcome: Outcome) {
        if outcome == Outcome::Failure {
            return self.reopen(generation);
        }
        let mut current = self.load();
        loop {
            if !current.is(HALF_OPEN, generation) {
                return;
            }
            let in_flight = current.in_flight().saturating_sub(1);
            let mut successes = current.trial_successes();
            if outcome == Outcome::Success {
                successes += 1;
                if successes >= self.config.successes {
                    return self.close(generation);
                }
            }
            let next = Word::half_open(generation, in_flight, successes);
            match self
                .word
                .0
                .compare_exchange_weak(current.0, next.0, AcqRel, Acquire)
            {
                Ok(_) => return,
                Err(seen) => current = Word(seen),
            }
        }
    }

    /// Replaces the word with `next`, whose generation is the current one plus one. Only
    /// called under the lock, so only the data bits can change under it.
    fn publish(&self, next: Word) {
        let mut seen = self.word.0.load(Acquire);
        while let Err(now_seen) = self
            .word
            .0
            .compare_exchange_weak(seen, next.0, AcqRel, Acquire)
        {
            seen = now_seen;
        }
    }

    fn set_open_until(&self, slow: &mut Slow, now: Instant, open_for: Duration) {
        let until = now
            .checked_add(open_for)
            .or_else(|| now.checked_add(FAR_FUTURE))
            .unwrap_or(now);
        slow.open_for = open_for;
        slow.open_until = until;
        self.open_until_nanos
            .store(self.nanos_since_base(until), Release);
    }

    /// Queues a transition for the listeners (if any).
    fn emit(
        &self,
        slow: &mut Slow,
        from: State,
        to: State,
        at: Instant,
        reason: Reason,
        open_for: Option<Duration>,
    ) {
        if !self.config.listeners.0.is_empty() {
            slow.events.push_back(Transition {
                from,
                to,
                at,
                reason,
                open_for,
            });
        }
    }

    /// Closed -> Open.
    #[cold]
    fn trip(&self, generation: u32, reason: Reason) {
        self.open(State::Closed, CLOSED, generation, reason, |_| {
            self.config.open_for
        });
    }

    /// HalfOpen -> Open, for longer if there is backoff.
    #[cold]
    fn reopen(&self, generation: u32) {
        self.open(
            State::HalfOpen,
            HALF_OPEN,
            generation,
            Reason::TrialFailed,
            |last| self.config.next_open_for(last),
        );
    }

    /// Opens the breaker from `from` (still in `generation`), for the time `open_for` computes
    /// from the last open time, and tells the listeners.
    fn open(
        &self,
        from: State,
        from_word: u64,
        generation: u32,
        reason: Reason,
        open_for: impl FnOnce(Duration) -> Duration,
    ) {
        let mut slow = self.lock();
        let current = self.load();
        if !current.is(from_word, generation) {
            return;
        }
        let now = Instant::now();
        let open_for = open_for(slow.open_for);
        self.set_open_until(&mut slow, now, open_for);
        self.publish(current.next(OPEN));
        self.opened.fetch_add(1, Relaxed);
        self.emit(&mut slow, from, State::Open, now, reason, Some(open_for));
        drop(slow);
        self.deliver();
    }

    /// HalfOpen -> Closed.
    #[cold]
    fn close(&self, generation: u32) {
        let mut slow = self.lock();
        let current = self.load();
        if !current.is(HALF_OPEN, generation) {
            return;
        }
        let now = Instant::now();
        self.policy.clear();
        slow.open_for = self.config.open_for;
        self.publish(current.next(CLOSED));
        let reason = Reason::TrialsSucceeded;
        self.emit(&mut slow, State::HalfOpen, State::Closed, now, reason, None);
        drop(slow);
        self.deliver();
    }

    /// Any -> Closed.
    fn reset(&self) {
        let mut slow = self.lock();
        let current = self.load();
        let now = Instant::now();
        self.policy.clear();
        slow.open_for = self.config.open_for;
        self.publish(current.next(CLOSED));
        self.emit(
            &mut slow,
            current.state(),
            State::Closed,
            now,
            Reason::Reset,
            None,
        );
        drop(slow);
        self.deliver();
    }

    /// Delivers queued transitions to the listeners, outside the lock. One thread delivers at a
    /// time, in queue order; a thread that finds another delivering leaves its transitions to
    /// it.
    fn deliver(&self) {
        if self.config.listeners.0.is_empty() {
            return;
        }
        loop {
            if self.delivering.swap(true, SeqCst) {
                return;
            }
            loop {
                let next = self.lock().events.pop_front();
                let Some(transition) = next else { break };
                for listener in &self.config.listeners.0 {
                    // A panicking listener must not take the breaker (or the caller) down.
                    let _ = catch_unwind(AssertUnwindSafe(|| listener(&transition)));
                }
            }
            self.delivering.store(false, SeqCst);
            if self.lock().events.is_empty() {
                return;
            }
        }
    }
}

impl Breaker {
    /// A builder with the defaults (see [`BreakerBuilder`]).
    pub fn builder() -> BreakerBuilder {
        BreakerBuilder::new()
    }

    pub(crate) fn from_config(config: Config, name: Option<Arc<str>>) -> Self {
        let policy = match config.trip {
            Trip::ConsecutiveFailures { count } => Policy::Consecutive(count),
            Trip::FailureRate {
                rate,
                window: Window::Calls(n),
                min_calls,
            } => Policy::Calls {
                rate,
                min_calls,
                window: CallWindow::new(n),
            },
            Trip::FailureRate {
                rate,
                window: Window::Time(d),
                min_calls,
            } => Policy::Time {
                rate,
                min_calls,
                window: TimeWindow::new(d),
            },
        };
        let base = Instant::now();
        let slow = Slow {
            open_until: base,
            open_for: config.open_for,
            events: VecDeque::new(),
        };
        Self {
            inner: Arc::new(Inner {
                word: Padded(AtomicU64::new(Word::new(CLOSED, 0, 0).0)),
                open_until_nanos: AtomicU64::new(0),
                policy,
                config,
                counters: Counters::new(),
                opened: AtomicU64::new(0),
                slow: Mutex::new(slow),
                delivering: AtomicBool::new(false),
                base,
                name,
            }),
        }
    }

    /// The current state. Reading it changes nothing: an open breaker whose open time has
    /// passed reports [`State::Open`] until the next call moves it to `HalfOpen`.
    #[must_use]
    pub fn state(&self) -> State {
        self.inner.load().state()
    }

    /// The name given with [`BreakerBuilder::name`] (registries name breakers after their key).
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.inner.name.as_deref()
    }

    /// The trip policy this breaker was built with.
    #[must_use]
    pub fn trip_policy(&self) -> Trip {
        self.inner.config.trip
    }

    /// Whether `self` and `other` are clones of the same breaker.
    #[must_use]
    pub fn ptr_eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Asks to make a call. On success, settle the [`Permit`] with
    /// [`success`](Permit::success) or [`failure`](Permit::failure) when the work is done;
    /// dropping it unsettled counts as `ignored` (use this for cancelled or panicked work).
    ///
    /// In `Closed` this costs one atomic load; in `Open` the call is
    /// rejected until the open time has passed, and the first call after that moves the breaker
    /// to `HalfOpen` and becomes a trial; in `HalfOpen` at most
    /// [`half_open_trials`](BreakerBuilder::half_open_trials) permits are out at once.
    ///
    /// A permit's outcome moves the state machine only while the breaker is still in the state
    /// period it was granted in: a permit taken while `Closed` and settled after the breaker
    /// tripped (or was reset) only updates the stats.
    ///
    /// The permit borrows the breaker; for work that outlives the borrow (sent to another task
    /// or kept in a map of running jobs) use [`try_acquire_owned`](Self::try_acquire_owned).
    ///
    /// # Errors
    /// [`CircuitOpen`] with the time until the next trial (zero when every trial slot is
    /// taken).
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// use baton_breaker::{Breaker, State, Trip};
    ///
    /// let breaker = Breaker::builder()
    ///     .trip(Trip::consecutive_failures(2))
    ///     .open_for(Duration::from_secs(10))
    ///     .build()?;
    ///
    /// for _ in 0..2 {
    ///     let permit = breaker.try_acquire()?;
    ///     // ... the work fails ...
    ///     permit.failure();
    /// }
    /// assert_eq!(breaker.state(), State::Open);
    /// let rejected = breaker.try_acquire().unwrap_err();
    /// assert!(rejected.retry_in <= Duration::from_secs(10));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Result<Permit<'_>, CircuitOpen> {
        let ticket = self.inner.acquire()?;
        Ok(Permit(Grant::new(&*self.inner, ticket)))
    }

    /// Like [`try_acquire`](Self::try_acquire), but the permit holds its own reference to the
    /// breaker (one more atomic increment and decrement), so it is `'static`.
    ///
    /// # Errors
    /// [`CircuitOpen`], as for [`try_acquire`](Self::try_acquire).
    #[inline]
    pub fn try_acquire_owned(&self) -> Result<OwnedPermit, CircuitOpen> {
        let ticket = self.inner.acquire()?;
        Ok(OwnedPermit(Grant::new(Arc::clone(&self.inner), ticket)))
    }

    /// Runs `fut` under the breaker: every `Err` counts as a failure.
    ///
    /// When the breaker rejects the call, `fut` is dropped without being polled and the
    /// result is [`CallError::Open`]. If the returned future is dropped before `fut` finishes,
    /// or `fut` panics, the call counts as `ignored` (neither success nor failure) and a
    /// half-open trial slot is released.
    ///
    /// # Errors
    /// [`CallError::Open`] if rejected, [`CallError::Inner`] with `fut`'s error.
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// use baton_breaker::{Breaker, CallError, State, Trip};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let breaker = Breaker::builder()
    ///     .trip(Trip::consecutive_failures(1))
    ///     .open_for(Duration::from_secs(5))
    ///     .build()?;
    ///
    /// let ok = breaker.call(async { Ok::<_, std::io::Error>(42) }).await?;
    /// assert_eq!(ok, 42);
    ///
    /// let failed = breaker.call(async { Err::<u32, _>("refused") }).await;
    /// assert_eq!(failed.unwrap_err().into_inner(), Some("refused"));
    /// assert_eq!(breaker.state(), State::Open);
    ///
    /// // Open: the future is not polled.
    /// let rejected = breaker.call(async { unreachable!("not polled") as Result<u32, &str> }).await;
    /// assert!(matches!(rejected, Err(CallError::Open(open)) if open.retry_in == Duration::from_secs(5)));
    ///
    /// tokio::time::advance(Duration::from_secs(5)).await;
    /// assert!(breaker.call(async { Ok::<_, &str>(()) }).await.is_ok()); // the trial succeeds
    /// assert_eq!(breaker.state(), State::Closed);
    /// # Ok(())
    /// # }
    /// ```
    #[inline]
    pub fn call<T, E, F>(&self, fut: F) -> impl Future<Output = Result<T, CallError<E>>>
    where
        F: Future<Output = Result<T, E>>,
    {
        self.call_with(fut, count_every_error)
    }

    /// Runs `fut` under the breaker, asking `classify` whether an error counts as a failure:
    /// `true` counts it as a failure, `false` as a success for the breaker (a "not found" is
    /// not an outage). The error is returned either way.
    ///
    /// Rejection, cancellation and panics behave as for [`call`](Self::call).
    ///
    /// # Errors
    /// [`CallError::Open`] if rejected, [`CallError::Inner`] with `fut`'s error.
    #[inline]
    pub async fn call_with<T, E, F, C>(&self, fut: F, classify: C) -> Result<T, CallError<E>>
    where
        F: Future<Output = Result<T, E>>,
        C: FnOnce(&E) -> bool,
    {
        let permit = self.try_acquire()?;
        match fut.await {
            Ok(value) => {
                permit.success();
                Ok(value)
            }
            Err(error) => {
                if classify(&error) {
                    permit.failure();
                } else {
                    permit.success();
                }
                Err(CallError::Inner(error))
            }
        }
    }

    /// A snapshot of the counters and state.
    #[must_use]
    pub fn stats(&self) -> BreakerStats {
        let mut stats = BreakerStats {
            state: self.state(),
            opened: self.inner.opened.load(Relaxed),
            open_for: self.inner.lock().open_for,
            ..BreakerStats::default()
        };
        self.inner.counters.add_to(&mut stats);
        stats
    }

    /// Forces the breaker `Closed` (an operator action): clears the failure counts and the
    /// backoff, and emits a [`Reason::Reset`] transition, also when it was already closed
    /// (then `from == to == Closed`). Permits granted before the reset only update the stats.
    pub fn reset(&self) {
        self.inner.reset();
    }
}

/// The classifier of [`Breaker::call`]: every error is a failure.
fn count_every_error<E>(_: &E) -> bool {
    true
}

impl fmt::Debug for Breaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Breaker")
            .field("name", &self.inner.name)
            .field("state", &self.state())
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// What both permits are: a ticket to settle against the breaker exactly once, by `success`,
/// `failure`, or (dropped unsettled) as ignored. `B` is how the permit reaches the breaker: a
/// borrow or an `Arc`.
struct Grant<B: Deref<Target = Inner>> {
    inner: B,
    ticket: Ticket,
    settled: bool,
}

impl<B: Deref<Target = Inner>> Grant<B> {
    fn new(inner: B, ticket: Ticket) -> Self {
        Self {
            inner,
            ticket,
            settled: false,
        }
    }

    #[inline]
    fn settle(mut self, outcome: Outcome) {
        self.settled = true;
        self.inner.settle(self.ticket, outcome);
    }
}

impl<B: Deref<Target = Inner>> Drop for Grant<B> {
    #[inline]
    fn drop(&mut self) {
        if !self.settled {
            self.inner.settle(self.ticket, Outcome::Ignored);
        }
    }
}

/// Permission to make one call, from [`Breaker::try_acquire`].
///
/// Settle it with [`success`](Self::success) or [`failure`](Self::failure). Dropping it
/// unsettled (the work was cancelled or panicked) counts it as `ignored`: neither success nor
/// failure, and a half-open trial slot it held is released.
#[must_use = "an unsettled permit counts as ignored; call `success` or `failure` when the work ends"]
pub struct Permit<'a>(Grant<&'a Inner>);

/// A [`Permit`] that keeps the breaker alive by itself (`'static`), from
/// [`Breaker::try_acquire_owned`]. Same settling rules: dropped unsettled, it counts as
/// `ignored`.
#[must_use = "an unsettled permit counts as ignored; call `success` or `failure` when the work ends"]
pub struct OwnedPermit(Grant<Arc<Inner>>);

/// The permits' methods and `Debug`, the same for both.
macro_rules! permit_methods {
    ($permit:ty, $name:literal) => {
        impl $permit {
            /// The call succeeded.
            #[inline]
            pub fn success(self) {
                self.0.settle(Outcome::Success);
            }

            /// The call failed.
            #[inline]
            pub fn failure(self) {
                self.0.settle(Outcome::Failure);
            }

            /// Whether this permit is a half-open trial.
            #[must_use]
            pub fn is_trial(&self) -> bool {
                self.0.ticket.trial
            }
        }

        impl fmt::Debug for $permit {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct($name)
                    .field("trial", &self.0.ticket.trial)
                    .finish_non_exhaustive()
            }
        }
    };
}

permit_methods!(Permit<'_>, "Permit");
permit_methods!(OwnedPermit, "OwnedPermit");

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;

    fn consecutive(n: u32) -> Breaker {
        Breaker::builder()
            .trip(Trip::consecutive_failures(n))
            .open_for(Duration::from_secs(1))
            .build()
            .expect("valid")
    }

    #[test]
    fn success_clears_pending_consecutive_failures() {
        let breaker = consecutive(3);
        breaker.try_acquire().expect("closed").failure();
        breaker.try_acquire().expect("closed").failure();
        assert_eq!(breaker.inner.load().data(), 2);
        breaker.try_acquire().expect("closed").success();
        assert_eq!(breaker.inner.load().data(), 0);
        breaker.try_acquire().expect("closed").failure();
        breaker.try_acquire().expect("closed").failure();
        assert_eq!(breaker.state(), State::Closed);
    }

    #[test]
    fn stale_permits_only_update_stats() {
        let breaker = consecutive(1);
        let old = breaker.try_acquire().expect("closed");
        breaker.try_acquire().expect("closed").failure();
        assert_eq!(breaker.state(), State::Open);
        breaker.reset();
        let generation = breaker.inner.load().generation();
        old.failure(); // granted two generations ago
        assert_eq!(
            breaker.state(),
            State::Closed,
            "a stale failure does not trip"
        );
        assert_eq!(breaker.inner.load().generation(), generation);
        assert_eq!(breaker.stats().failures, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn trial_slots_are_counted_in_the_word() {
        let breaker = Breaker::builder()
            .trip(Trip::consecutive_failures(1))
            .open_for(Duration::from_secs(1))
            .half_open_trials(2)
            .half_open_successes(3)
            .build()
            .expect("valid");
        breaker.try_acquire().expect("closed").failure();
        tokio::time::advance(Duration::from_secs(1)).await;
        let a = breaker.try_acquire().expect("first trial");
        let b = breaker.try_acquire().expect("second trial");
        assert!(a.is_trial() && b.is_trial());
        assert_eq!(
            breaker.try_acquire().expect_err("full").retry_in,
            Duration::ZERO
        );
        a.success();
        let word = breaker.inner.load();
        assert_eq!((word.in_flight(), word.trial_successes()), (1, 1));
        drop(b);
        let word = breaker.inner.load();
        assert_eq!((word.in_flight(), word.trial_successes()), (0, 1));
        breaker.try_acquire().expect("slot free").success();
        breaker.try_acquire().expect("slot free").success();
        assert_eq!(breaker.state(), State::Closed);
    }

    #[test]
    fn listeners_may_call_the_breaker_and_see_nested_transitions_in_order() {
        let seen: Arc<StdMutex<Vec<(State, State, Reason)>>> = Arc::default();
        let slot: Arc<StdMutex<Option<Breaker>>> = Arc::default();
        let (seen2, slot2) = (Arc::clone(&seen), Arc::clone(&slot));
        let breaker = Breaker::builder()
            .trip(Trip::consecutive_failures(1))
            .on_transition(move |t| {
                seen2.lock().expect("seen").push((t.from, t.to, t.reason));
                if t.to == State::Open {
                    // Re-entrant: resets from inside the listener.
                    let breaker = slot2.lock().expect("slot").clone().expect("set");
                    breaker.reset();
                }
            })
            .build()
            .expect("valid");
        *slot.lock().expect("slot") = Some(breaker.clone());
        breaker.try_acquire().expect("closed").failure();
        assert_eq!(breaker.state(), State::Closed);
        let seen = seen.lock().expect("seen").clone();
        assert_eq!(
            seen,
            vec![
                (
                    State::Closed,
                    State::Open,
                    Reason::Tripped {
                        failures: 1,
                        calls: 1
                    }
                ),
                (State::Open, State::Closed, Reason::Reset),
            ]
        );
        slot.lock().expect("slot").take(); // break the cycle
    }

    #[test]
    fn open_until_overflow_falls_back_to_far_future() {
        let breaker = Breaker::builder()
            .trip(Trip::consecutive_failures(1))
            .open_for(Duration::MAX)
            .build()
            .expect("valid");
        breaker.try_acquire().expect("closed").failure();
        let rejected = breaker.try_acquire().expect_err("open");
        assert!(rejected.retry_in >= FAR_FUTURE - Duration::from_secs(1));
    }

    #[test]
    fn debug_shows_name_and_state() {
        let breaker = Breaker::builder().name("db").build().expect("valid");
        let shown = format!("{breaker:?}");
        assert!(
            shown.contains("\"db\"") && shown.contains("Closed"),
            "{shown}"
        );
        let permit = breaker.try_acquire().expect("closed");
        assert_eq!(format!("{permit:?}"), "Permit { trial: false, .. }");
        permit.success();
    }
}

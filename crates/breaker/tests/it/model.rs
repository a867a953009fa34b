//! Model-based property test: random operations against a breaker and a plain reference model
//! of the documented state machine, one test per trip policy, on tokio's paused clock.
//!
//! After every operation the state, the stats (calls, successes, failures, ignored, rejected,
//! opened, current open time) and each acquire's result (granted as trial or not, or rejected
//! with which `retry_in`) must agree. Operations: acquire and settle at once (success, failure,
//! drop), acquire and hold, settle a held permit later (so permits outlive transitions), advance
//! the clock, reset. 300 cases per policy, up to 80 operations each.

use std::collections::VecDeque;
use std::time::Duration;

use baton_breaker::{Breaker, OwnedPermit, State, Trip, Window};
use proptest::prelude::*;

const CASES: u32 = 300;

#[derive(Debug, Clone, Copy)]
enum Policy {
    Consecutive(u32),
    Calls { rate: f64, n: u32, min: u32 },
    Time { rate: f64, d: Duration, min: u32 },
}

#[derive(Debug, Clone)]
struct Cfg {
    policy: Policy,
    open_for: Duration,
    backoff: Option<(f64, Duration)>,
    trials: u32,
    successes: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Success,
    Failure,
    Drop,
}

#[derive(Debug, Clone)]
enum Op {
    Call(Outcome),
    Hold,
    Settle(usize, Outcome),
    Advance(Duration),
    Reset,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Ticket {
    generation: u64,
    trial: bool,
}

/// The reference model: the documented behaviour, written as plainly as possible.
#[derive(Debug)]
struct Model {
    cfg: Cfg,
    now: Duration,
    state: State,
    generation: u64,
    consecutive: u32,
    last_calls: VecDeque<bool>,
    timed: Vec<(u64, bool)>,
    in_flight: u32,
    trial_successes: u32,
    open_until: Duration,
    open_for: Duration,
    successes: u64,
    failures: u64,
    ignored: u64,
    rejected: u64,
    opened: u64,
}

impl Model {
    fn new(cfg: Cfg) -> Self {
        Self {
            open_for: cfg.open_for,
            cfg,
            now: Duration::ZERO,
            state: State::Closed,
            generation: 0,
            consecutive: 0,
            last_calls: VecDeque::new(),
            timed: Vec::new(),
            in_flight: 0,
            trial_successes: 0,
            open_until: Duration::ZERO,
            successes: 0,
            failures: 0,
            ignored: 0,
            rejected: 0,
            opened: 0,
        }
    }

    fn acquire(&mut self) -> Result<Ticket, Duration> {
        match self.state {
            State::Closed => Ok(Ticket {
                generation: self.generation,
                trial: false,
            }),
            State::Open if self.now < self.open_until => {
                self.rejected += 1;
                Err(self.open_until - self.now)
            }
            State::Open => {
                self.state = State::HalfOpen;
                self.generation += 1;
                self.in_flight = 1;
                self.trial_successes = 0;
                Ok(Ticket {
                    generation: self.generation,
                    trial: true,
                })
            }
            State::HalfOpen if self.in_flight < self.cfg.trials => {
                self.in_flight += 1;
                Ok(Ticket {
                    generation: self.generation,
                    trial: true,
                })
            }
            State::HalfOpen => {
                self.rejected += 1;
                Err(Duration::ZERO)
            }
        }
    }

    fn settle(&mut self, ticket: Ticket, outcome: Outcome) {
        match outcome {
            Outcome::Success => self.successes += 1,
            Outcome::Failure => self.failures += 1,
            Outcome::Drop => self.ignored += 1,
        }
        if ticket.generation != self.generation {
            return; // granted in an earlier period: stats only
        }
        if ticket.trial {
            match outcome {
                Outcome::Failure => {
                    self.open_for = self.backed_off(self.open_for);
                    self.open(self.open_for);
                }
                Outcome::Success => {
                    self.in_flight -= 1;
                    self.trial_successes += 1;
                    if self.trial_successes >= self.cfg.successes {
                        self.close();
                    }
                }
                Outcome::Drop => self.in_flight -= 1,
            }
            return;
        }
        if outcome == Outcome::Drop {
            return;
        }
        let failed = outcome == Outcome::Failure;
        match self.cfg.policy {
            Policy::Consecutive(n) => {
                self.consecutive = if failed { self.consecutive + 1 } else { 0 };
                if self.consecutive >= n {
                    self.trip();
                }
            }
            Policy::Calls { rate, n, min } => {
                self.last_calls.push_back(failed);
                if self.last_calls.len() > n as usize {
                    self.last_calls.pop_front();
                }
                let failures = self.last_calls.iter().filter(|f| **f).count() as u32;
                if failed && trips(failures, self.last_calls.len() as u32, rate, min) {
                    self.trip();
                }
            }
            Policy::Time { rate, d, min } => {
                let width = (d.as_nanos() as u64).div_ceil(16).max(1);
                let epoch = self.now.as_nanos() as u64 / width;
                self.timed.push((epoch, failed));
                let live: Vec<bool> = self
                    .timed
                    .iter()
                    .filter(|(e, _)| epoch - e < 16)
                    .map(|(_, f)| *f)
                    .collect();
                let failures = live.iter().filter(|f| **f).count() as u32;
                if failed && trips(failures, live.len() as u32, rate, min) {
                    self.trip();
                }
            }
        }
    }

    fn backed_off(&self, previous: Duration) -> Duration {
        match self.cfg.backoff {
            None => self.cfg.open_for,
            Some((factor, max)) => {
                let secs = previous.as_secs_f64() * factor;
                if secs >= max.as_secs_f64() {
                    max
                } else {
                    Duration::from_secs_f64(secs).min(max)
                }
            }
        }
    }

    fn trip(&mut self) {
        self.open_for = self.cfg.open_for;
        self.open(self.cfg.open_for);
    }

    fn open(&mut self, open_for: Duration) {
        self.state = State::Open;
        self.generation += 1;
        self.open_until = self.now + open_for;
        self.opened += 1;
    }

    fn close(&mut self) {
        self.state = State::Closed;
        self.generation += 1;
        self.consecutive = 0;
        self.last_calls.clear();
        self.timed.clear();
        self.open_for = self.cfg.open_for;
    }
}

fn trips(failures: u32, calls: u32, rate: f64, min: u32) -> bool {
    calls >= min.max(1) && f64::from(failures) / f64::from(calls) >= rate
}

fn build(cfg: &Cfg) -> Breaker {
    let trip = match cfg.policy {
        Policy::Consecutive(n) => Trip::consecutive_failures(n),
        Policy::Calls { rate, n, min } => Trip::failure_rate(rate, Window::Calls(n), min),
        Policy::Time { rate, d, min } => Trip::failure_rate(rate, Window::Time(d), min),
    };
    let mut builder = Breaker::builder()
        .trip(trip)
        .open_for(cfg.open_for)
        .half_open_trials(cfg.trials)
        .half_open_successes(cfg.successes);
    if let Some((factor, max)) = cfg.backoff {
        builder = builder.backoff(factor, max);
    }
    builder.build().expect("generated configurations are valid")
}

fn settle_real(permit: OwnedPermit, outcome: Outcome) {
    match outcome {
        Outcome::Success => permit.success(),
        Outcome::Failure => permit.failure(),
        Outcome::Drop => drop(permit),
    }
}

fn run(cfg: Cfg, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let breaker = build(&cfg);
        let mut model = Model::new(cfg);
        let mut held: Vec<(OwnedPermit, Ticket)> = Vec::new();
        for (step, op) in ops.into_iter().enumerate() {
            match op {
                Op::Call(outcome) => {
                    let real = breaker.try_acquire();
                    let expected = model.acquire();
                    match (real, expected) {
                        (Ok(permit), Ok(ticket)) => {
                            prop_assert_eq!(permit.is_trial(), ticket.trial, "step {}", step);
                            match outcome {
                                Outcome::Success => permit.success(),
                                Outcome::Failure => permit.failure(),
                                Outcome::Drop => drop(permit),
                            }
                            model.settle(ticket, outcome);
                        }
                        (Err(open), Err(retry_in)) => {
                            prop_assert_eq!(open.retry_in, retry_in, "step {}", step);
                        }
                        (real, expected) => prop_assert!(
                            false,
                            "step {}: breaker {:?}, model {:?}",
                            step,
                            real.map(|p| p.is_trial()),
                            expected
                        ),
                    }
                }
                Op::Hold => {
                    let real = breaker.try_acquire_owned();
                    let expected = model.acquire();
                    match (real, expected) {
                        (Ok(permit), Ok(ticket)) => {
                            prop_assert_eq!(permit.is_trial(), ticket.trial, "step {}", step);
                            held.push((permit, ticket));
                        }
                        (Err(open), Err(retry_in)) => {
                            prop_assert_eq!(open.retry_in, retry_in, "step {}", step);
                        }
                        (real, expected) => prop_assert!(
                            false,
                            "step {}: breaker {:?}, model {:?}",
                            step,
                            real.map(|p| p.is_trial()),
                            expected
                        ),
                    }
                }
                Op::Settle(index, outcome) => {
                    if !held.is_empty() {
                        let (permit, ticket) = held.swap_remove(index % held.len());
                        settle_real(permit, outcome);
                        model.settle(ticket, outcome);
                    }
                }
                Op::Advance(by) => {
                    tokio::time::advance(by).await;
                    model.now += by;
                }
                Op::Reset => {
                    breaker.reset();
                    model.close();
                }
            }
            let stats = breaker.stats();
            prop_assert_eq!(stats.state, model.state, "state after step {}", step);
            prop_assert_eq!(breaker.state(), model.state, "state after step {}", step);
            let counted = (
                stats.successes,
                stats.failures,
                stats.ignored,
                stats.rejected,
                stats.opened,
            );
            let modelled = (
                model.successes,
                model.failures,
                model.ignored,
                model.rejected,
                model.opened,
            );
            prop_assert_eq!(counted, modelled, "stats after step {}", step);
            prop_assert_eq!(
                stats.calls,
                model.successes + model.failures + model.ignored
            );
            prop_assert_eq!(
                stats.open_for,
                model.open_for,
                "open time after step {}",
                step
            );
        }
        Ok(())
    })
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![3 => Just(Outcome::Success), 3 => Just(Outcome::Failure), 1 => Just(Outcome::Drop)]
}

fn ops(max_advance_ms: u64) -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        10 => outcome().prop_map(Op::Call),
        2 => Just(Op::Hold),
        2 => (any::<usize>(), outcome()).prop_map(|(i, o)| Op::Settle(i, o)),
        3 => (0..=max_advance_ms).prop_map(|ms| Op::Advance(Duration::from_millis(ms))),
        1 => Just(Op::Reset),
    ];
    proptest::collection::vec(op, 1..80)
}

fn common(policy: impl Strategy<Value = Policy>) -> impl Strategy<Value = Cfg> {
    (
        policy,
        1u64..2_000,
        prop_oneof![
            Just(None),
            (
                prop_oneof![Just(1.0), Just(1.5), Just(2.0), Just(3.0)],
                1u32..8
            )
                .prop_map(Some)
        ],
        1u32..4,
        prop_oneof![Just(None), (1u32..5).prop_map(Some)],
    )
        .prop_map(|(policy, open_ms, backoff, trials, successes)| {
            let open_for = Duration::from_millis(open_ms);
            Cfg {
                policy,
                open_for,
                backoff: backoff.map(|(factor, times)| (factor, open_for * times)),
                trials,
                successes: successes.unwrap_or(trials),
            }
        })
}

fn rate() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.25), Just(0.5), Just(0.6), Just(1.0)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn consecutive_failures_match_the_model(
        (cfg, ops) in common((1u32..5).prop_map(Policy::Consecutive))
            .prop_flat_map(|cfg| (Just(cfg), ops(3_000)))
    ) {
        run(cfg, ops)?;
    }

    #[test]
    fn failure_rate_over_calls_matches_the_model(
        (cfg, ops) in common(
            (rate(), 1u32..8, 0u32..8)
                .prop_map(|(rate, n, min)| Policy::Calls { rate, n, min: min.min(n) })
        )
        .prop_flat_map(|cfg| (Just(cfg), ops(3_000)))
    ) {
        run(cfg, ops)?;
    }

    #[test]
    fn failure_rate_over_time_matches_the_model(
        (cfg, ops) in common(
            (rate(), 16u64..4_000, 0u32..6)
                .prop_map(|(rate, ms, min)| Policy::Time { rate, d: Duration::from_millis(ms), min })
        )
        .prop_flat_map(|cfg| (Just(cfg), ops(1_500)))
    ) {
        run(cfg, ops)?;
    }
}

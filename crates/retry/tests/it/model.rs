//! Model-based property tests: random operation sequences applied to the implementation and to a
//! simple reference model, compared after each step (proptest shrinks any difference).
//!
//! - `retry_helper_matches_model`: random policies and scripts of call outcomes (success, retryable
//!   error, retry-after, permanent error) run through `retry(..).run()` on the paused clock and
//!   through a plain synchronous loop; every call time, hook call and the ending must agree.
//! - `budget_matches_model`: random deposits, withdrawals and clock advances applied to a
//!   `RetryBudget` and to a list of timestamped entries summed over the window.

use std::time::Duration;

use baton_retry::{Policy, RetryBudget, StopReason};
use proptest::prelude::*;

use crate::arb;
use crate::harness::{Outcome, Trace, ceil_ms, paused, run_script};

/// The reference model of the retry helper: a synchronous loop over the policy's schedule.
/// `schedule` is the policy's delay sequence for the seed, without the `max_elapsed` cut-off
/// (the helper checks elapsed time on the clock, not on the sum of delays).
fn model(policy: &Policy, schedule: &[Duration], script: &[Outcome], op_time: Duration) -> Trace {
    let mut now = Duration::ZERO;
    let mut calls = Vec::new();
    let mut hooks = Vec::new();
    let mut schedule = schedule.iter();
    let mut attempt = 1;
    let ending = loop {
        calls.push(now);
        now += op_time;
        let outcome = script
            .get(attempt as usize - 1)
            .copied()
            .unwrap_or(Outcome::Ok);
        let retry_after = match outcome {
            Outcome::Ok => break Ok(attempt),
            Outcome::Permanent => break Err((attempt, StopReason::Permanent)),
            Outcome::Retry => None,
            Outcome::RetryAfter(delay) => Some(delay),
        };
        let Some(&scheduled) = schedule.next() else {
            break Err((attempt, StopReason::AttemptsExhausted));
        };
        let delay = retry_after.unwrap_or(scheduled);
        if let Some(max_elapsed) = policy.max_elapsed()
            && now + delay > max_elapsed
        {
            let reason = StopReason::ElapsedExhausted {
                max_elapsed,
                next_delay: delay,
            };
            break Err((attempt, reason));
        }
        hooks.push((attempt, delay));
        now += ceil_ms(delay); // tokio's timer sleeps in whole milliseconds
        attempt += 1;
    };
    Trace {
        calls,
        hooks,
        ending,
    }
}

/// The policy's full schedule for `seed`: the same policy without `max_elapsed`.
fn schedule(policy: &Policy, seed: u64) -> Vec<Duration> {
    let mut builder = Policy::builder(policy.strategy())
        .attempts(policy.attempts())
        .jitter(policy.jitter());
    if let Some(max_delay) = policy.max_delay() {
        builder = builder.max_delay(max_delay);
    }
    let unbounded = builder
        .build()
        .expect("a valid policy minus a cap is valid");
    unbounded.delays_seeded(seed).collect()
}

/// One step applied to the budget and to its model.
#[derive(Debug, Clone, Copy)]
enum BudgetOp {
    Deposit,
    Withdraw,
    Advance(Duration),
}

fn budget_op() -> impl Strategy<Value = BudgetOp> {
    prop_oneof![
        4 => Just(BudgetOp::Deposit),
        4 => Just(BudgetOp::Withdraw),
        1 => arb::millis(4_000).prop_map(BudgetOp::Advance),
    ]
}

/// The reference model of the budget: every deposit and withdrawal kept with its bucket number;
/// the balance is the reserve plus the entries of the last ten buckets.
struct BudgetModel {
    bucket: Duration,
    deposit: i64,
    reserve: i64,
    now: Duration,
    entries: Vec<(u128, i64)>,
}

impl BudgetModel {
    fn current(&self) -> u128 {
        self.now.as_nanos() / self.bucket.as_nanos()
    }

    fn balance(&self) -> i64 {
        let current = self.current();
        let live = self.entries.iter().filter(|(b, _)| current - b < 10);
        self.reserve + live.map(|(_, units)| units).sum::<i64>()
    }

    fn withdraw(&mut self) -> bool {
        if self.balance() < 1000 {
            return false;
        }
        self.entries.push((self.current(), -1000));
        true
    }

    fn available(&self) -> u64 {
        u64::try_from(self.balance().max(0) / 1000).expect("non-negative")
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn retry_helper_matches_model(
        policy in arb::policy_with(arb::duration(3_000), 10),
        seed in any::<u64>(),
        script in proptest::collection::vec(arb::outcome(), 0..12),
        op_time in arb::millis(500),
    ) {
        let expected = model(&policy, &schedule(&policy, seed), &script, op_time);
        let actual = paused(run_script(&policy, seed, &script, op_time, None));
        prop_assert_eq!(actual, expected);
    }

    #[test]
    fn budget_matches_model(
        permille in 0u32..=1000,
        min_per_sec in 0u32..5,
        ttl_secs in 1u64..20,
        ops in proptest::collection::vec(budget_op(), 1..300),
    ) {
        let ttl = Duration::from_secs(ttl_secs);
        paused(async {
            let budget = RetryBudget::builder()
                .ratio(f64::from(permille) / 1000.0)
                .min_per_sec(min_per_sec)
                .ttl(ttl)
                .build()
                .expect("valid budget");
            let mut model = BudgetModel {
                bucket: ttl / 10,
                deposit: i64::from(permille),
                reserve: i64::from(min_per_sec) * i64::try_from(ttl.as_millis()).expect("small"),
                now: Duration::ZERO,
                entries: Vec::new(),
            };
            for (step, op) in ops.into_iter().enumerate() {
                match op {
                    BudgetOp::Deposit => {
                        budget.deposit();
                        let bucket = model.current();
                        model.entries.push((bucket, model.deposit));
                    }
                    BudgetOp::Withdraw => {
                        prop_assert_eq!(budget.try_withdraw(), model.withdraw(), "step {} withdraw", step);
                    }
                    BudgetOp::Advance(by) => {
                        tokio::time::advance(by).await;
                        model.now += by;
                    }
                }
                prop_assert_eq!(budget.available(), model.available(), "step {} after {:?}", step, op);
            }
            Ok(())
        })?;
    }
}

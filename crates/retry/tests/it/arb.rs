//! Proptest generators for policies and scripts.

use std::time::Duration;

use baton_retry::{Jitter, Policy, Strategy as Curve};
use proptest::prelude::*;

use crate::harness::Outcome;

/// A duration up to `max_ms`, at nanosecond resolution.
pub(crate) fn duration(max_ms: u64) -> impl Strategy<Value = Duration> + Clone {
    (0..=max_ms * 1_000_000).prop_map(Duration::from_nanos)
}

/// A duration up to `max_ms`, in whole milliseconds (exact on tokio's paused clock).
pub(crate) fn millis(max_ms: u64) -> impl Strategy<Value = Duration> + Clone {
    (0..=max_ms).prop_map(Duration::from_millis)
}

pub(crate) fn jitter() -> impl Strategy<Value = Jitter> {
    prop_oneof![
        Just(Jitter::None),
        Just(Jitter::Full),
        Just(Jitter::Equal),
        Just(Jitter::Decorrelated),
    ]
}

/// Every strategy, with durations drawn from `d`.
pub(crate) fn strategy<S>(d: S) -> impl Strategy<Value = Curve>
where
    S: Strategy<Value = Duration> + Clone,
{
    prop_oneof![
        d.clone().prop_map(|delay| Curve::Fixed { delay }),
        (
            d.clone().prop_map(|d| d.max(Duration::from_nanos(1))),
            prop_oneof![Just(1.0), 1.0f64..4.0]
        )
            .prop_map(|(initial, factor)| Curve::Exponential { initial, factor }),
        (d.clone(), d.clone())
            .prop_map(|(initial, increment)| Curve::Linear { initial, increment }),
        (d.clone(), d).prop_map(|(a, b)| Curve::Random {
            min: a.min(b),
            max: a.max(b)
        }),
    ]
}

/// The strategy's smallest delay.
pub(crate) fn floor(curve: Curve) -> Duration {
    curve.min_delay()
}

/// A valid policy: any strategy and jitter, 1 to `max_attempts` attempts, optional caps (the delay
/// cap at or above the strategy's floor).
pub(crate) fn policy_with<S>(d: S, max_attempts: u32) -> impl Strategy<Value = Policy>
where
    S: Strategy<Value = Duration> + Clone,
{
    (
        strategy(d.clone()),
        1..=max_attempts,
        proptest::option::of(d.clone()),
        proptest::option::of(d),
        jitter(),
    )
        .prop_map(|(curve, attempts, extra, max_elapsed, jitter)| {
            let mut builder = Policy::builder(curve).attempts(attempts).jitter(jitter);
            if let Some(extra) = extra {
                builder = builder.max_delay(floor(curve) + extra);
            }
            if let Some(max_elapsed) = max_elapsed {
                builder = builder.max_elapsed(max_elapsed);
            }
            builder.build().expect("generated policies are valid")
        })
}

/// Policies with nanosecond durations up to 10 s and up to 12 attempts.
pub(crate) fn policy() -> impl Strategy<Value = Policy> {
    policy_with(duration(10_000), 12)
}

/// One scripted call.
pub(crate) fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        2 => Just(Outcome::Ok),
        6 => Just(Outcome::Retry),
        2 => duration(5_000).prop_map(Outcome::RetryAfter),
        1 => Just(Outcome::Permanent),
    ]
}

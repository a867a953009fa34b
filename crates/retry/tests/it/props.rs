//! Property tests: delay bounds for every strategy and jitter, attempt counts, permanent errors,
//! retry-after, seeded reproducibility, the elapsed cap, serde round trips and rejected configs.

use std::time::Duration;

use baton_retry::{Jitter, Policy, StopReason, Strategy as Curve};
use proptest::prelude::*;

use crate::arb;
use crate::harness::{Outcome, ceil_ms, paused, run_script};

/// The strategy's own delay before retry `n` (from 1), before jitter and caps, with a tolerance for
/// the exponential's floating point (`None` for the random strategy).
fn strategy_delay(curve: Curve, n: u32) -> Option<(u128, u128)> {
    match curve {
        Curve::Fixed { delay } => Some((delay.as_nanos(), 0)),
        Curve::Linear { initial, increment } => Some((
            initial.as_nanos() + u128::from(n - 1) * increment.as_nanos(),
            0,
        )),
        Curve::Exponential { initial, factor } => {
            let exact = initial.as_nanos() as f64 * factor.powi(n as i32 - 1);
            // Repeated multiplication and `powi` round differently: allow a relative 1e-9.
            Some((exact as u128, (exact * 1e-9) as u128 + 1))
        }
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn delays_stay_within_bounds(
        policy in arb::policy_with(arb::duration(10_000), 40),
        seed in any::<u64>(),
    ) {
        let curve = policy.strategy();
        let floor = arb::floor(curve).as_nanos();
        let cap = policy.max_delay().map_or(u128::from(u64::MAX), |d| d.as_nanos());
        let mut previous = floor;
        let mut total = Duration::ZERO;
        let mut count = 0;
        for (i, delay) in policy.delays_seeded(seed).enumerate() {
            let n = i as u32 + 1;
            let d = delay.as_nanos();
            total += delay;
            count += 1;
            prop_assert!(d <= cap, "retry {}: {:?} above max_delay", n, delay);
            // The strategy's delay, capped: `low..=high` allows for floating point.
            let (low, high) = match (curve, strategy_delay(curve, n)) {
                (Curve::Random { min, max }, _) => (min.as_nanos(), max.as_nanos()),
                (_, Some((s, tolerance))) => (s.saturating_sub(tolerance), s + tolerance),
                _ => unreachable!(),
            };
            let (low, high) = (low.min(cap), high.min(cap));
            match policy.jitter() {
                Jitter::None => prop_assert!(low <= d && d <= high, "retry {}: {} not in {}..={}", n, d, low, high),
                Jitter::Full => prop_assert!(d <= high, "retry {}: {} above {}", n, d, high),
                Jitter::Equal => prop_assert!(low / 2 <= d && d <= high, "retry {}: {} not in {}..={}", n, d, low / 2, high),
                Jitter::Decorrelated => {
                    prop_assert!(floor.min(cap) <= d, "retry {}: {} below the floor {}", n, d, floor);
                    prop_assert!(d <= high.max(previous * 3), "retry {}: {} above max({}, 3 × {})", n, d, high, previous);
                    previous = d;
                }
                _ => unreachable!(),
            }
        }
        prop_assert!(count < policy.attempts() as usize);
        if policy.max_elapsed().is_none() {
            prop_assert_eq!(count, policy.attempts() as usize - 1);
        } else {
            prop_assert!(total <= policy.max_elapsed().unwrap());
        }
    }

    #[test]
    fn seeded_delays_are_identical(policy in arb::policy(), seed in any::<u64>()) {
        let a: Vec<Duration> = policy.delays_seeded(seed).collect();
        let b: Vec<Duration> = policy.delays_seeded(seed).collect();
        prop_assert_eq!(a, b);
    }

    #[test]
    fn serde_round_trips(policy in arb::policy()) {
        #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        struct Task {
            retry: Policy,
        }
        let task = Task { retry: policy };
        let text = toml::to_string(&task).expect("serializes to TOML");
        let back: Task = toml::from_str(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&back, &task);
        // serde_json parses floats to within an ulp (without its `float_roundtrip` feature):
        // compare the factor with that tolerance, everything else exactly.
        let json = serde_json::to_string(&policy).expect("serializes to JSON");
        let back: Policy = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(format!("{e}\n{json}")))?;
        let expected = match (back.strategy(), policy.strategy()) {
            (Curve::Exponential { factor: parsed, .. }, Curve::Exponential { initial, factor }) => {
                prop_assert!((parsed - factor).abs() <= factor * 4.0 * f64::EPSILON, "{} vs {}", parsed, factor);
                policy
                    .to_builder()
                    .strategy(Curve::Exponential { initial, factor: parsed })
                    .build()
                    .expect("valid")
            }
            _ => policy,
        };
        prop_assert_eq!(back, expected);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn always_failing_op_is_called_exactly_attempts_times(
        curve in arb::strategy(arb::duration(2_000)),
        attempts in 1u32..=20,
        jitter in arb::jitter(),
        seed in any::<u64>(),
    ) {
        let policy = Policy::builder(curve).attempts(attempts).jitter(jitter).build().expect("valid");
        let script = vec![Outcome::Retry; attempts as usize + 5];
        let trace = paused(run_script(&policy, seed, &script, Duration::ZERO, None));
        prop_assert_eq!(trace.calls.len(), attempts as usize);
        prop_assert_eq!(trace.hooks.len(), attempts as usize - 1);
        prop_assert_eq!(trace.ending, Err((attempts, StopReason::AttemptsExhausted)));
    }

    #[test]
    fn permanent_errors_are_tried_once(policy in arb::policy(), seed in any::<u64>()) {
        let trace = paused(run_script(&policy, seed, &[Outcome::Permanent], Duration::ZERO, None));
        prop_assert_eq!(trace.calls, vec![Duration::ZERO]);
        prop_assert!(trace.hooks.is_empty());
        prop_assert_eq!(trace.ending, Err((1, StopReason::Permanent)));
    }

    #[test]
    fn retry_after_is_honoured(
        curve in arb::strategy(arb::duration(1_000)),
        waits in proptest::collection::vec(arb::duration(60_000), 1..8),
        max_delay_extra in arb::duration(10),
        seed in any::<u64>(),
    ) {
        // `max_delay` far below the server's delays: retry-after is not capped.
        let policy = Policy::builder(curve)
            .attempts(waits.len() as u32 + 1)
            .max_delay(arb::floor(curve) + max_delay_extra)
            .jitter(Jitter::Full)
            .build()
            .expect("valid");
        let script: Vec<Outcome> = waits.iter().copied().map(Outcome::RetryAfter).collect();
        let trace = paused(run_script(&policy, seed, &script, Duration::ZERO, None));
        let expected: Vec<(u32, Duration)> = (1..).zip(waits.iter().copied()).collect();
        prop_assert_eq!(&trace.hooks, &expected);
        let mut now = Duration::ZERO;
        for (call, wait) in trace.calls.iter().skip(1).zip(&waits) {
            now += ceil_ms(*wait);
            prop_assert_eq!(*call, now);
        }
        prop_assert_eq!(trace.ending, Ok(waits.len() as u32 + 1));
    }

    #[test]
    fn seeded_runs_are_identical(
        policy in arb::policy(),
        seed in any::<u64>(),
        script in proptest::collection::vec(arb::outcome(), 0..12),
    ) {
        let first = paused(run_script(&policy, seed, &script, Duration::from_millis(3), None));
        let second = paused(run_script(&policy, seed, &script, Duration::from_millis(3), None));
        prop_assert_eq!(first, second);
    }

    #[test]
    fn elapsed_cap_is_respected(
        curve in arb::strategy(arb::millis(2_000)),
        jitter in arb::jitter(),
        max_elapsed in arb::millis(20_000),
        op_time in arb::millis(1_000),
        seed in any::<u64>(),
    ) {
        let policy = Policy::builder(curve)
            .attempts(1_000)
            .max_elapsed(max_elapsed)
            .jitter(jitter)
            .build()
            .expect("valid");
        let script = vec![Outcome::Retry; 1_000];
        let trace = paused(run_script(&policy, seed, &script, op_time, None));
        for (i, call) in trace.calls.iter().enumerate() {
            prop_assert!(*call <= max_elapsed, "call {} started at {:?}, past {:?}", i + 1, call, max_elapsed);
        }
        let last = *trace.calls.last().expect("at least one call");
        match trace.ending {
            Err((attempts, StopReason::ElapsedExhausted { max_elapsed: cap, next_delay })) => {
                prop_assert_eq!(attempts as usize, trace.calls.len());
                prop_assert_eq!(cap, max_elapsed);
                prop_assert!(last + op_time + next_delay > max_elapsed);
            }
            Err((1_000, StopReason::AttemptsExhausted)) => {}
            other => prop_assert!(false, "unexpected ending {:?}", other),
        }
    }
}

/// A valid file-form policy and a mutation that breaks it, with the field the error must name.
fn broken_config() -> impl Strategy<Value = (String, &'static str)> {
    let base = prop_oneof![
        Just(r#"strategy = "fixed", delay = "1s""#),
        Just(r#"strategy = "exponential", initial = "100ms", factor = 2.0"#),
        Just(r#"strategy = "linear", initial = "1s", increment = "500ms""#),
        Just(r#"strategy = "random", min = "1s", max = "2s""#),
    ];
    let mutation = prop_oneof![
        Just(("attempts = 0", "attempts")),
        Just(("attempts = -3", "attempts")),
        Just(("attempts = 4294967296", "attempts")),
        Just(("max_delay = \"1ms\"", "max_delay")),
        Just(("max_delay = \"-5s\"", "max_delay")),
        Just(("max_elapsed = \"soon\"", "max_elapsed")),
        Just(("max_elapsed = 60", "max_elapsed")),
        Just(("jitter = \"half\"", "jitter")),
        Just(("retries = 3", "retries")),
    ];
    (base, mutation).prop_map(|(base, (extra, field))| (format!("{base}, {extra}"), field))
}

/// A strategy's own field broken, or borrowed from another strategy.
fn broken_strategy_field() -> impl Strategy<Value = (String, &'static str)> {
    prop_oneof![
        Just((
            r#"strategy = "exponential", initial = "100ms", factor = 0.5"#,
            "factor"
        )),
        Just((
            r#"strategy = "exponential", initial = "100ms", factor = nan"#,
            "factor"
        )),
        Just((
            r#"strategy = "exponential", initial = "100ms", factor = inf"#,
            "factor"
        )),
        Just((
            r#"strategy = "exponential", initial = "0s", factor = 2.0"#,
            "initial"
        )),
        Just((r#"strategy = "exponential", factor = 2.0"#, "initial")),
        Just((r#"strategy = "random", min = "3s", max = "2s""#, "min")),
        Just((r#"strategy = "random", min = "3s""#, "max")),
        Just((
            r#"strategy = "fixed", delay = "1s", factor = 2.0"#,
            "factor"
        )),
        Just((
            r#"strategy = "fixed", delay = "1s", increment = "1s""#,
            "increment"
        )),
        Just((
            r#"strategy = "linear", initial = "1s", increment = "1s", min = "1s""#,
            "min"
        )),
        Just((
            r#"strategy = "random", min = "1s", max = "2s", initial = "1s""#,
            "initial"
        )),
        Just((r#"strategy = "fixed", delay = "5 parsecs""#, "delay")),
        Just((r#"strategy = "fixed", delay = 5"#, "delay")),
        Just((r#"strategy = "fixed", delay = "-1s""#, "delay")),
        Just((r#"strategy = "fixed""#, "delay")),
        Just((r#"strategy = "quadratic", delay = "1s""#, "strategy")),
        Just((r#"delay = "1s""#, "strategy")),
    ]
    .prop_map(|(text, field)| (text.to_owned(), field))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn invalid_configs_name_the_field(
        (fields, field) in prop_oneof![broken_config(), broken_strategy_field()],
    ) {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code, reason = "only deserialized")]
        struct Task {
            retry: Policy,
        }
        let text = format!("retry = {{ {fields} }}");
        let err = toml::from_str::<Task>(&text).expect_err("the config is invalid").to_string();
        prop_assert!(err.contains(&format!("`{field}`")), "{} → error does not name `{}`:\n{}", text, field, err);
        // The JSON form is rejected with the same field named (where JSON can say the same
        // thing: it has no NaN or infinity, which serde_json writes as `null`, an omitted field).
        let value: toml::Value = toml::from_str(&text).expect("valid TOML syntax");
        let json = serde_json::to_string(&value["retry"]).ok().filter(|j| !j.contains("null"));
        if let Some(json) = json {
            let err = serde_json::from_str::<Policy>(&json).expect_err("invalid").to_string();
            prop_assert!(err.contains(&format!("`{field}`")), "{} → {}", json, err);
        }
    }
}

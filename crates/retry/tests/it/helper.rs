//! The retry helper on tokio's paused clock: the exact sleeps, the hook, classification and
//! reuse of a configured retry.

use std::cell::Cell;
use std::time::Duration;

use baton_retry::{Decision, Jitter, Policy, StopReason, retry};
use tokio::time::Instant;

use crate::harness::{Outcome, Trace, run_script};

const MS: Duration = Duration::from_millis(1);

#[tokio::test(start_paused = true)]
async fn exponential_sleeps_are_exact_and_capped() {
    let policy = Policy::exponential(100 * MS, 2.0)
        .attempts(6)
        .max_delay(1000 * MS)
        .build()
        .unwrap();
    let script = [Outcome::Retry; 6];
    let trace = run_script(&policy, 0, &script, Duration::ZERO, None).await;
    let at = |ms: [u64; 6]| ms.map(Duration::from_millis).to_vec();
    // Waits of 100, 200, 400, 800 and 1000 (capped) ms.
    assert_eq!(trace.calls, at([0, 100, 300, 700, 1500, 2500]));
    assert_eq!(
        trace.hooks,
        [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000)].map(|(a, ms)| (a, ms * MS))
    );
    assert_eq!(trace.ending, Err((6, StopReason::AttemptsExhausted)));
}

#[tokio::test(start_paused = true)]
async fn success_after_retries_reports_attempts_and_time() {
    let policy = Policy::linear(10 * MS, 5 * MS).attempts(5).build().unwrap();
    let script = [Outcome::Retry, Outcome::Retry];
    let trace = run_script(&policy, 0, &script, 2 * MS, None).await;
    // Calls take 2 ms; waits of 10 and 15 ms.
    assert_eq!(trace.calls, [0, 12, 29].map(Duration::from_millis));
    assert_eq!(trace.ending, Ok(3));
}

#[tokio::test(start_paused = true)]
async fn hook_sees_each_retry_with_its_error() {
    let policy = Policy::fixed(50 * MS).attempts(4).build().unwrap();
    let calls = Cell::new(0u32);
    let mut seen = Vec::new();
    let result = retry(&policy, || {
        calls.set(calls.get() + 1);
        let n = calls.get();
        async move { Err::<(), String>(format!("failure {n}")) }
    })
    .notify(|attempt, error: &String, delay| seen.push((attempt, error.clone(), delay)))
    .run()
    .await;
    let err = result.unwrap_err();
    assert_eq!(err.error, "failure 4");
    assert_eq!(err.attempts, 4);
    assert_eq!(
        seen,
        [
            (1, "failure 1".to_owned(), 50 * MS),
            (2, "failure 2".to_owned(), 50 * MS),
            (3, "failure 3".to_owned(), 50 * MS),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn jittered_sleeps_match_the_seeded_schedule() {
    let policy = Policy::exponential(100 * MS, 2.0)
        .attempts(8)
        .max_delay(2000 * MS)
        .jitter(Jitter::Decorrelated)
        .build()
        .unwrap();
    let schedule: Vec<Duration> = policy.delays_seeded(7).collect();
    let trace = run_script(&policy, 7, &[Outcome::Retry; 7], Duration::ZERO, None).await;
    let hooks: Vec<Duration> = trace.hooks.iter().map(|(_, d)| *d).collect();
    assert_eq!(hooks, schedule);
}

#[tokio::test(start_paused = true)]
async fn permanent_error_stops_at_once_and_retry_after_overrides() {
    let policy = Policy::fixed(10 * MS).attempts(5).build().unwrap();
    let script = [
        Outcome::RetryAfter(Duration::from_secs(3)),
        Outcome::Retry,
        Outcome::Permanent,
    ];
    let trace = run_script(&policy, 0, &script, Duration::ZERO, None).await;
    assert_eq!(
        trace,
        Trace {
            calls: vec![Duration::ZERO, 3000 * MS, 3010 * MS],
            hooks: vec![(1, 3000 * MS), (2, 10 * MS)],
            ending: Err((3, StopReason::Permanent)),
        }
    );
}

#[tokio::test(start_paused = true)]
async fn a_configured_retry_runs_again_from_scratch() {
    let policy = Policy::fixed(MS).attempts(3).build().unwrap();
    let calls = Cell::new(0u32);
    let mut configured = retry(&policy, || {
        calls.set(calls.get() + 1);
        let n = calls.get();
        async move { if n.is_multiple_of(2) { Ok(n) } else { Err(n) } }
    })
    .when(|_| Decision::Retry);
    let first = configured.run().await.unwrap();
    let second = configured.run().await.unwrap();
    assert_eq!((first.value, first.attempts), (2, 2));
    assert_eq!((second.value, second.attempts), (4, 2));
}

#[tokio::test(start_paused = true)]
async fn elapsed_cap_counts_time_spent_in_the_operation() {
    let policy = Policy::fixed(100 * MS)
        .attempts(50)
        .max_elapsed(Duration::from_secs(1))
        .build()
        .unwrap();
    let start = Instant::now();
    let err = retry(&policy, || async {
        tokio::time::sleep(200 * MS).await;
        Err::<(), _>("slow failure")
    })
    .run()
    .await
    .unwrap_err();
    // Calls start at 0, 300, 600 and 900 ms; after the fourth (1.1 s) no retry fits.
    assert_eq!(err.attempts, 4);
    assert!(matches!(err.reason, StopReason::ElapsedExhausted { .. }));
    assert_eq!(start.elapsed(), 1100 * MS);
    assert_eq!(
        err.to_string(),
        "gave up after 4 attempts: the next retry, in 100ms, would pass max_elapsed = 1s"
    );
}

#[tokio::test(start_paused = true)]
async fn spawned_retries_are_send_and_static() {
    let handle = tokio::spawn(async move {
        let policy = Policy::fixed(MS).attempts(2).build().unwrap();
        retry(&policy, || async {
            Err::<(), _>(std::io::Error::other("down"))
        })
        .run()
        .await
    });
    let err = handle.await.unwrap().unwrap_err();
    assert_eq!(err.attempts, 2);
    let source = std::error::Error::source(&err).unwrap();
    assert_eq!(source.to_string(), "down");
}

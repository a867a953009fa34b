//! Shared test harness: a paused tokio runtime and a scripted operation whose every call, hook and
//! result is recorded.

use std::cell::RefCell;
use std::future::Future;
use std::time::Duration;

use baton_retry::{Decision, Policy, RetryBudget, StopReason, retry};
use tokio::time::Instant;

/// Runs `future` to completion on a fresh current-thread runtime whose clock starts paused (it
/// auto-advances to the next timer whenever the runtime is idle).
pub(crate) fn paused<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("tokio runtime")
        .block_on(future)
}

/// What the scripted operation does on one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    Retry,
    RetryAfter(Duration),
    Permanent,
}

/// The error of a scripted call: the outcome that produced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failed(pub(crate) Outcome);

/// How a run ended: `Ok(attempts)` or `Err((attempts, reason))`.
pub(crate) type Ending = Result<u32, (u32, StopReason)>;

/// Everything a run did, with times relative to its start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Trace {
    /// When each call started.
    pub(crate) calls: Vec<Duration>,
    /// The hook's arguments: (failed attempt, delay).
    pub(crate) hooks: Vec<(u32, Duration)>,
    pub(crate) ending: Ending,
}

/// Runs the retry helper over `script` (call `i` does `script[i]`, `Ok` past its end), each call
/// taking `op_time` on the paused clock. Must run inside [`paused`].
pub(crate) async fn run_script(
    policy: &Policy,
    seed: u64,
    script: &[Outcome],
    op_time: Duration,
    budget: Option<&RetryBudget>,
) -> Trace {
    let start = Instant::now();
    let calls = RefCell::new(Vec::new());
    let mut hooks = Vec::new();
    let op = || {
        let mut calls = calls.borrow_mut();
        let outcome = script.get(calls.len()).copied().unwrap_or(Outcome::Ok);
        calls.push(start.elapsed());
        async move {
            tokio::time::sleep(op_time).await;
            match outcome {
                Outcome::Ok => Ok("done"),
                failed => Err(Failed(failed)),
            }
        }
    };
    let classify = |e: &Failed| match e.0 {
        Outcome::Ok | Outcome::Retry => Decision::Retry,
        Outcome::RetryAfter(delay) => Decision::RetryAfter(delay),
        Outcome::Permanent => Decision::Permanent,
    };
    let mut configured = retry(policy, op)
        .when(classify)
        .notify(|attempt, error: &Failed, delay| {
            assert_ne!(error.0, Outcome::Ok);
            hooks.push((attempt, delay));
        })
        .seed(seed);
    if let Some(budget) = budget {
        configured = configured.budget(budget);
    }
    let ending = match configured.run().await {
        Ok(success) => Ok(success.attempts),
        Err(error) => Err((error.attempts, error.reason)),
    };
    drop(configured);
    Trace {
        calls: calls.into_inner(),
        hooks,
        ending,
    }
}

/// Rounds a delay up to the next whole millisecond: tokio's timer (and so its paused clock) works in
/// milliseconds, so a sleep of 1.2 ms on the paused clock advances it by 2 ms.
pub(crate) fn ceil_ms(d: Duration) -> Duration {
    let ms = d.as_nanos().div_ceil(1_000_000);
    Duration::from_millis(u64::try_from(ms).expect("test delays fit in u64 milliseconds"))
}

//! `call`, `call_with`, classification, cancellation and panics.

use std::future::pending;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use baton_breaker::{CallError, State};
use tokio::time::{advance, sleep, timeout};

use crate::support::{consecutive, fail};

#[derive(Debug, PartialEq)]
enum ApiError {
    NotFound,
    Unavailable,
}

#[tokio::test(start_paused = true)]
async fn call_with_counts_only_classified_failures() {
    let breaker = consecutive(2).build().expect("valid");
    let is_outage = |e: &ApiError| *e == ApiError::Unavailable;
    for _ in 0..5 {
        let out = breaker
            .call_with(async { Err::<(), _>(ApiError::NotFound) }, is_outage)
            .await;
        assert_eq!(
            out.expect_err("error returned").into_inner(),
            Some(ApiError::NotFound)
        );
    }
    assert_eq!(breaker.state(), State::Closed);
    let stats = breaker.stats();
    assert_eq!(
        (stats.successes, stats.failures),
        (5, 0),
        "not-found counts as a success"
    );

    for _ in 0..2 {
        let out = breaker
            .call_with(async { Err::<(), _>(ApiError::Unavailable) }, is_outage)
            .await;
        assert!(matches!(out, Err(CallError::Inner(ApiError::Unavailable))));
    }
    assert_eq!(breaker.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn call_counts_every_error_and_does_not_poll_when_open() {
    let breaker = consecutive(1).build().expect("valid");
    let out = breaker
        .call(async { Err::<(), _>(ApiError::NotFound) })
        .await;
    assert!(out.is_err());
    assert_eq!(breaker.state(), State::Open);

    let polled = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&polled);
    let out = breaker
        .call(async move {
            flag.store(true, Ordering::SeqCst);
            Ok::<_, ApiError>(())
        })
        .await;
    let open = out.expect_err("rejected");
    assert!(open.is_open());
    assert_eq!(
        open.as_open().map(|o| o.retry_in),
        Some(Duration::from_secs(1))
    );
    assert!(!polled.load(Ordering::SeqCst), "the future was not polled");
    assert_eq!(breaker.stats().rejected, 1);
}

#[tokio::test(start_paused = true)]
async fn dropped_permits_and_cancelled_calls_are_ignored() {
    let breaker = consecutive(1).half_open_trials(1).build().expect("valid");
    drop(breaker.try_acquire().expect("closed"));
    drop(breaker.try_acquire_owned().expect("closed"));
    let cancelled = timeout(
        Duration::from_secs(1),
        breaker.call(pending::<Result<(), ApiError>>()),
    )
    .await;
    assert!(
        cancelled.is_err(),
        "timed out, so the call future was dropped"
    );
    assert_eq!(breaker.state(), State::Closed);
    let stats = breaker.stats();
    assert_eq!(
        (stats.ignored, stats.successes, stats.failures, stats.calls),
        (3, 0, 0, 3)
    );

    // A dropped trial frees its slot and neither closes nor reopens.
    fail(&breaker, 1);
    advance(Duration::from_secs(1)).await;
    let trial = breaker.try_acquire().expect("trial");
    assert!(breaker.try_acquire().is_err(), "the only slot is taken");
    drop(trial);
    assert_eq!(breaker.state(), State::HalfOpen);
    breaker
        .try_acquire_owned()
        .expect("the slot was released")
        .success();
    assert_eq!(breaker.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_call_is_ignored_and_frees_its_trial_slot() {
    let breaker = consecutive(1).build().expect("valid");
    fail(&breaker, 1);
    advance(Duration::from_secs(1)).await;
    let task = {
        let breaker = breaker.clone();
        tokio::spawn(async move {
            breaker
                .call(async {
                    sleep(Duration::from_millis(10)).await;
                    panic!("the work panicked");
                    #[allow(unreachable_code)]
                    Ok::<(), ApiError>(())
                })
                .await
        })
    };
    let joined = task.await;
    assert!(joined.expect_err("panicked").is_panic());
    assert_eq!(breaker.state(), State::HalfOpen);
    assert_eq!(breaker.stats().ignored, 1);
    breaker.try_acquire().expect("slot free again").success();
    assert_eq!(breaker.state(), State::Closed);

    // The same with a permit held across a panic on this thread.
    let caught = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let _permit = breaker.try_acquire().expect("closed");
        panic!("boom");
    }));
    assert!(caught.is_err());
    assert_eq!(breaker.stats().ignored, 2);
}

#[tokio::test(start_paused = true)]
async fn owned_permits_settle_from_another_task() {
    let breaker = consecutive(2).build().expect("valid");
    let permits: Vec<_> = (0..2)
        .map(|_| breaker.try_acquire_owned().expect("closed"))
        .collect();
    let handles: Vec<_> = permits
        .into_iter()
        .map(|permit| tokio::spawn(async move { permit.failure() }))
        .collect();
    for handle in handles {
        handle.await.expect("task");
    }
    assert_eq!(breaker.state(), State::Open);
}

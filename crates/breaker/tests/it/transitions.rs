//! The state machine on tokio's paused clock.

use std::time::Duration;

use baton_breaker::{Breaker, Reason, State, Trip, Window};
use tokio::time::{Instant, advance};

use crate::support::{consecutive, fail, moves, recorded};

const SEC: Duration = Duration::from_secs(1);

#[tokio::test(start_paused = true)]
async fn consecutive_failures_trip_and_reject_with_retry_in() {
    let (builder, log) = recorded(consecutive(3));
    let breaker = builder.build().expect("valid");
    fail(&breaker, 2);
    breaker.try_acquire().expect("closed").success(); // resets the count
    fail(&breaker, 2);
    assert_eq!(breaker.state(), State::Closed);
    fail(&breaker, 1);
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(breaker.try_acquire().expect_err("open").retry_in, SEC);
    advance(Duration::from_millis(400)).await;
    assert_eq!(
        breaker.try_acquire().expect_err("open").retry_in,
        Duration::from_millis(600)
    );

    let log = log.lock().expect("log");
    assert_eq!(log.len(), 1);
    assert_eq!(
        log[0].reason,
        Reason::Tripped {
            failures: 3,
            calls: 3
        }
    );
    assert_eq!(log[0].open_for, Some(SEC));
    let stats = breaker.stats();
    assert_eq!(
        (
            stats.successes,
            stats.failures,
            stats.rejected,
            stats.opened
        ),
        (1, 5, 2, 1)
    );
    assert_eq!(stats.calls, 6);
}

#[tokio::test(start_paused = true)]
async fn open_elapses_lazily_on_the_next_call() {
    let (builder, log) = recorded(consecutive(1));
    let breaker = builder.build().expect("valid");
    fail(&breaker, 1);
    advance(SEC * 10).await;
    assert_eq!(breaker.state(), State::Open, "no background task moves it");
    assert_eq!(moves(&log), vec![(State::Closed, State::Open)]);
    let trial = breaker.try_acquire().expect("the open time has passed");
    assert!(trial.is_trial());
    assert_eq!(breaker.state(), State::HalfOpen);
    let last = log
        .lock()
        .expect("log")
        .last()
        .cloned()
        .expect("transition");
    assert_eq!(
        (last.reason, last.at),
        (Reason::OpenElapsed, Instant::now())
    );
    trial.success();
    assert_eq!(breaker.state(), State::Closed);
    assert_eq!(
        moves(&log),
        vec![
            (State::Closed, State::Open),
            (State::Open, State::HalfOpen),
            (State::HalfOpen, State::Closed)
        ]
    );
    assert_eq!(log.lock().expect("log")[2].reason, Reason::TrialsSucceeded);
}

#[tokio::test(start_paused = true)]
async fn the_trial_limit_and_successes_to_close() {
    let breaker = consecutive(1)
        .half_open_trials(2)
        .half_open_successes(3)
        .build()
        .expect("valid");
    fail(&breaker, 1);
    advance(SEC).await;
    let a = breaker.try_acquire().expect("trial 1");
    let b = breaker.try_acquire().expect("trial 2");
    let full = breaker.try_acquire().expect_err("both slots taken");
    assert_eq!(full.retry_in, Duration::ZERO);
    assert_eq!(full.to_string(), "circuit open: trial calls in progress");
    a.success();
    b.success();
    assert_eq!(breaker.state(), State::HalfOpen, "two of three successes");
    breaker.try_acquire().expect("trial 3").success();
    assert_eq!(breaker.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn failed_trials_reopen_with_growing_capped_backoff_and_closing_resets_it() {
    let (builder, log) = recorded(consecutive(1).backoff(2.0, Duration::from_secs(5)));
    let breaker = builder.build().expect("valid");
    fail(&breaker, 1);
    let mut expected = vec![SEC];
    for want in [2, 4, 5, 5] {
        let open_for = breaker.stats().open_for;
        advance(open_for - Duration::from_millis(1)).await;
        assert!(
            breaker.try_acquire().is_err(),
            "still open 1 ms before the end"
        );
        advance(Duration::from_millis(1)).await;
        breaker.try_acquire().expect("trial").failure();
        assert_eq!(breaker.state(), State::Open);
        assert_eq!(breaker.stats().open_for, Duration::from_secs(want));
        expected.push(Duration::from_secs(want));
    }
    let opened: Vec<_> = log
        .lock()
        .expect("log")
        .iter()
        .filter_map(|t| t.open_for)
        .collect();
    assert_eq!(opened, expected);
    assert!(
        log.lock()
            .expect("log")
            .iter()
            .skip(1)
            .step_by(2)
            .all(|t| t.reason == Reason::OpenElapsed)
    );

    advance(Duration::from_secs(5)).await;
    breaker.try_acquire().expect("trial").success();
    assert_eq!(breaker.state(), State::Closed);
    assert_eq!(breaker.stats().open_for, SEC, "closing resets the backoff");
    fail(&breaker, 1);
    assert_eq!(breaker.try_acquire().expect_err("open").retry_in, SEC);
    assert_eq!(breaker.stats().opened, 6);
}

#[tokio::test(start_paused = true)]
async fn reset_forces_closed_from_every_state() {
    let (builder, log) = recorded(consecutive(1).backoff(3.0, Duration::from_secs(60)));
    let breaker = builder.build().expect("valid");
    breaker.reset();
    fail(&breaker, 1);
    breaker.reset();
    assert_eq!(breaker.state(), State::Closed);
    fail(&breaker, 1);
    advance(SEC).await;
    breaker.try_acquire().expect("trial").failure(); // reopens for 3 s
    advance(Duration::from_secs(3)).await;
    let trial = breaker.try_acquire().expect("trial");
    breaker.reset();
    trial.failure(); // stale: the reset started a new period
    assert_eq!(breaker.state(), State::Closed);
    fail(&breaker, 1);
    assert_eq!(
        breaker.try_acquire().expect_err("open").retry_in,
        SEC,
        "reset cleared the backoff"
    );
    let resets: Vec<_> = log
        .lock()
        .expect("log")
        .iter()
        .filter(|t| t.reason == Reason::Reset)
        .map(|t| (t.from, t.to))
        .collect();
    assert_eq!(
        resets,
        vec![
            (State::Closed, State::Closed),
            (State::Open, State::Closed),
            (State::HalfOpen, State::Closed)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn failure_rate_over_calls_waits_for_min_calls() {
    let breaker = Breaker::builder()
        .trip(Trip::failure_rate(0.5, Window::Calls(4), 4))
        .open_for(SEC)
        .build()
        .expect("valid");
    fail(&breaker, 3);
    assert_eq!(breaker.state(), State::Closed, "3 calls < min_calls");
    for _ in 0..3 {
        breaker.try_acquire().expect("closed").success();
    }
    // Window: F S S S -> 1/4.
    fail(&breaker, 1); // S S S F
    assert_eq!(breaker.state(), State::Closed);
    fail(&breaker, 1); // S S F F = 50 %
    assert_eq!(breaker.state(), State::Open);
    advance(SEC).await;
    breaker.try_acquire().expect("trial").success();
    fail(&breaker, 1);
    assert_eq!(
        breaker.state(),
        State::Closed,
        "the window starts empty after closing"
    );
}

#[tokio::test(start_paused = true)]
async fn failure_rate_over_time_forgets_old_calls() {
    let (builder, log) = recorded(
        Breaker::builder()
            .trip(Trip::failure_rate(
                0.6,
                Window::Time(Duration::from_secs(16)),
                3,
            ))
            .open_for(SEC),
    );
    let breaker = builder.build().expect("valid");
    fail(&breaker, 2);
    advance(Duration::from_secs(16)).await; // those two leave the window
    breaker.try_acquire().expect("closed").success();
    fail(&breaker, 1);
    assert_eq!(breaker.state(), State::Closed, "1 failure in 2 calls");
    fail(&breaker, 1);
    assert_eq!(breaker.state(), State::Open, "2 of 3 >= 0.6");
    assert_eq!(
        log.lock().expect("log")[0].reason,
        Reason::Tripped {
            failures: 2,
            calls: 3
        }
    );
}

//! Transition listeners: once each, in order, and a panic does not poison the breaker.

use std::panic;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use baton_breaker::{Breaker, State, Trip};
use tokio::time::advance;

use crate::support::{consecutive, fail, moves, recorded};

#[tokio::test(start_paused = true)]
async fn every_listener_sees_each_transition_once_in_order() {
    let second: Arc<Mutex<Vec<(State, State)>>> = Arc::default();
    let sink = Arc::clone(&second);
    let (builder, log) = recorded(
        consecutive(1).on_transition(move |t| sink.lock().expect("second").push((t.from, t.to))),
    );
    let breaker = builder.build().expect("valid");
    fail(&breaker, 1); // closed -> open
    advance(Duration::from_secs(1)).await;
    breaker.try_acquire().expect("trial").failure(); // open -> half-open -> open
    advance(Duration::from_secs(1)).await;
    breaker.try_acquire().expect("trial").success(); // open -> half-open -> closed
    breaker.reset(); // closed -> closed
    let expected = vec![
        (State::Closed, State::Open),
        (State::Open, State::HalfOpen),
        (State::HalfOpen, State::Open),
        (State::Open, State::HalfOpen),
        (State::HalfOpen, State::Closed),
        (State::Closed, State::Closed),
    ];
    assert_eq!(moves(&log), expected);
    assert_eq!(*second.lock().expect("second"), expected);
    let times: Vec<_> = log.lock().expect("log").iter().map(|t| t.at).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "timestamps in order"
    );
}

#[test]
fn transitions_from_many_threads_are_delivered_once_and_chained() {
    let (builder, log) = recorded(
        Breaker::builder()
            .trip(Trip::consecutive_failures(1))
            .open_for(Duration::from_nanos(1)),
    );
    let breaker = builder.build().expect("valid");
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for i in 0..300 {
                    match breaker.try_acquire() {
                        Ok(p) if i % 2 == 0 => p.failure(),
                        Ok(p) => p.success(),
                        Err(_) => {}
                    }
                    if i % 50 == 0 {
                        breaker.reset();
                    }
                }
            });
        }
    });
    let log = log.lock().expect("log");
    assert!(!log.is_empty());
    assert_eq!(log[0].from, State::Closed);
    for pair in log.windows(2) {
        assert_eq!(
            pair[0].to, pair[1].from,
            "each transition starts where the last ended: {pair:?}"
        );
    }
    assert_eq!(log.last().map(|t| t.to), Some(breaker.state()));
    let opened = log.iter().filter(|t| t.to == State::Open).count() as u64;
    assert_eq!(opened, breaker.stats().opened);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_listener_does_not_poison_the_breaker() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let (builder, log) = recorded(consecutive(1).on_transition(|_| panic!("listener bug")));
    let breaker = builder
        .on_transition(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .expect("valid");
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {})); // keep the expected panics quiet
    fail(&breaker, 1);
    advance(Duration::from_secs(1)).await;
    breaker.try_acquire().expect("trial").success();
    breaker.reset();
    panic::set_hook(hook);

    assert_eq!(breaker.state(), State::Closed);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        4,
        "listeners after the panicking one still run"
    );
    assert_eq!(log.lock().expect("log").len(), 4);
    let stats = breaker.stats();
    assert_eq!((stats.opened, stats.successes, stats.failures), (1, 1, 1));
    breaker.try_acquire().expect("still usable").success();
}

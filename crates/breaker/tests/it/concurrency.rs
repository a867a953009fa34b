//! The trial limit and counters under real threads and many tasks.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use baton_breaker::{Breaker, State, Trip};
use tokio::time::{advance, sleep};

use crate::support::{consecutive, fail};

#[test]
fn at_most_the_trial_limit_of_permits_under_contention() {
    // A long open time and a 1 ns one: the real clock passes 1 ns before the threads start.
    let breaker = Breaker::builder()
        .trip(Trip::consecutive_failures(1))
        .open_for(Duration::from_nanos(1))
        .half_open_trials(3)
        .build()
        .expect("valid");
    fail(&breaker, 1);
    let start = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (breaker, start) = (breaker.clone(), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                (0..100)
                    .filter_map(|_| breaker.try_acquire_owned().ok())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let permits: Vec<_> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("thread"))
        .collect();
    assert_eq!(permits.len(), 3, "exactly the trial limit is granted");
    assert!(permits.iter().all(|p| p.is_trial()));
    assert_eq!(breaker.state(), State::HalfOpen);
    assert_eq!(breaker.stats().rejected, 800 - 3);
    for permit in permits {
        permit.success();
    }
    assert_eq!(breaker.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn concurrent_calls_in_half_open_beyond_the_limit_are_rejected() {
    let breaker = consecutive(1).half_open_trials(3).build().expect("valid");
    fail(&breaker, 1);
    advance(Duration::from_secs(1)).await;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let breaker = breaker.clone();
            tokio::spawn(async move {
                breaker
                    .call(async move {
                        sleep(Duration::from_millis(100)).await;
                        Ok::<_, ()>(i)
                    })
                    .await
            })
        })
        .collect();
    let mut ran = 0;
    let mut rejected = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(_) => ran += 1,
            Err(e) if e.is_open() => rejected += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((ran, rejected), (3, 7));
    assert_eq!(breaker.state(), State::Closed);
}

#[test]
fn counters_add_up_across_threads() {
    let breaker = Breaker::builder()
        .trip(Trip::consecutive_failures(1_000_000))
        .build()
        .expect("valid");
    thread::scope(|s| {
        for t in 0..4 {
            let breaker = &breaker;
            s.spawn(move || {
                for i in 0..1_000 {
                    let permit = breaker.try_acquire().expect("closed");
                    match (i + t) % 3 {
                        0 => permit.success(),
                        1 => permit.failure(),
                        _ => drop(permit),
                    }
                }
            });
        }
    });
    let stats = breaker.stats();
    assert_eq!(stats.calls, 4_000);
    assert_eq!(stats.successes + stats.failures + stats.ignored, 4_000);
    assert_eq!(stats.successes, 1_334);
}

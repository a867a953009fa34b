//! Helpers shared by the test modules.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_breaker::{Breaker, BreakerBuilder, State, Transition, Trip};

/// A listener that records every transition, and the builder it is attached to.
pub(crate) fn recorded(builder: BreakerBuilder) -> (BreakerBuilder, Arc<Mutex<Vec<Transition>>>) {
    let log: Arc<Mutex<Vec<Transition>>> = Arc::default();
    let sink = Arc::clone(&log);
    let builder = builder.on_transition(move |t| sink.lock().expect("log").push(t.clone()));
    (builder, log)
}

/// The `(from, to)` pairs of a log.
pub(crate) fn moves(log: &Mutex<Vec<Transition>>) -> Vec<(State, State)> {
    log.lock()
        .expect("log")
        .iter()
        .map(|t| (t.from, t.to))
        .collect()
}

/// Trips after `n` consecutive failures, open for 1 s.
pub(crate) fn consecutive(n: u32) -> BreakerBuilder {
    Breaker::builder()
        .trip(Trip::consecutive_failures(n))
        .open_for(Duration::from_secs(1))
}

/// Settles `n` failures on `breaker`.
pub(crate) fn fail(breaker: &Breaker, n: u32) {
    for _ in 0..n {
        breaker.try_acquire().expect("permit").failure();
    }
}

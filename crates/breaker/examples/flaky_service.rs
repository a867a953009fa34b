//! A simulated flaky dependency called in a loop under a breaker, on tokio's paused clock (so
//! two simulated minutes take milliseconds). Prints every state transition and the final stats.
//!
//! Run with `cargo run -p baton-breaker --example flaky_service`.

use std::time::Duration;

use baton_breaker::{Breaker, CallError, State, Trip, Window};
use tokio::time::{Instant, sleep};

/// The dependency: healthy, then down from 10 s to 40 s, then flaky (every third call fails)
/// until 70 s, then healthy again.
async fn flaky_service(started: Instant, call: u32) -> Result<u32, &'static str> {
    sleep(Duration::from_millis(20)).await; // the call's own latency
    let at = started.elapsed();
    if at >= Duration::from_secs(10) && at < Duration::from_secs(40) {
        Err("connection refused")
    } else if at >= Duration::from_secs(40)
        && at < Duration::from_secs(70)
        && call.is_multiple_of(3)
    {
        Err("timeout")
    } else {
        Ok(call)
    }
}

#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let breaker = Breaker::builder()
        .name("flaky-service")
        .trip(Trip::failure_rate(0.5, Window::Calls(20), 10))
        .open_for(Duration::from_secs(2))
        .backoff(2.0, Duration::from_secs(16))
        .half_open_trials(3)
        .on_transition(move |t| {
            let at = t.at.duration_since(started);
            println!("[{:>7.2}s] {t}", at.as_secs_f64());
        })
        .build()?;

    let (mut ok, mut failed, mut rejected) = (0, 0, 0);
    for call in 0..1_200 {
        match breaker.call(flaky_service(started, call)).await {
            Ok(_) => ok += 1,
            Err(CallError::Inner(_)) => failed += 1,
            Err(CallError::Open(_)) => rejected += 1,
        }
        sleep(Duration::from_millis(80)).await; // one call every ~100 ms
    }

    let stats = breaker.stats();
    println!(
        "after {:.0}s: {ok} ok, {failed} failed, {rejected} rejected fast; breaker {}",
        started.elapsed().as_secs_f64(),
        stats.state
    );
    println!("{stats:?}");
    assert_eq!(stats.state, State::Closed, "the service recovered");
    assert_eq!(
        (stats.successes, stats.failures, stats.rejected),
        (ok, failed, rejected)
    );
    Ok(())
}

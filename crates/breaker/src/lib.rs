//! Circuit breakers for async Rust: stop calling a dependency that keeps failing, give it time
//! to recover, then probe it with a few trial calls before letting traffic back.
//!
//! A [`Breaker`] watches the outcomes of the calls it protects. While they go well it is
//! **closed** and lets everything through. When its [`Trip`] policy fires it **opens**: calls
//! fail fast with [`CircuitOpen`] (which says when the next trial is due) instead of piling
//! onto the struggling dependency. Once the open time has passed, the next call moves it to
//! **half-open**, where a limited number of trial calls decide: enough successes close it, one
//! failure opens it again, for longer if backoff is configured.
//!
//! ```text
//!            trip policy fires                 open time elapsed (lazily, on the next call)
//!  Closed ─────────────────────────▶ Open ───────────────────────────▶ HalfOpen
//!    ▲                                ▲                                   │ │
//!    │                                └──── a trial fails (backoff) ──────┘ │
//!    └────────────── enough trials succeed ─────────────────────────────────┘
//!
//!  reset() forces Closed from any state.
//! ```
//!
//! # Example
//! ```
//! use std::time::Duration;
//! use baton_breaker::{Breaker, CallError, State, Trip, Window};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let breaker = Breaker::builder()
//!     .trip(Trip::failure_rate(0.5, Window::Calls(10), 4))
//!     .open_for(Duration::from_secs(30))
//!     .backoff(2.0, Duration::from_secs(300))
//!     .half_open_trials(2)
//!     .on_transition(|t| println!("breaker: {t}"))
//!     .build()?;
//!
//! // Two of four calls fail: a 50 % failure rate over 4 calls trips the breaker.
//! for fails in [false, true, false, true] {
//!     let _ = breaker.call(async move { if fails { Err("timeout") } else { Ok(()) } }).await;
//! }
//! assert_eq!(breaker.state(), State::Open);
//!
//! match breaker.call(async { Ok::<_, &str>(()) }).await {
//!     Err(CallError::Open(open)) => assert_eq!(open.retry_in, Duration::from_secs(30)),
//!     other => panic!("expected a fast failure, got {other:?}"),
//! }
//!
//! // After 30 s two successful trials close it again.
//! tokio::time::advance(Duration::from_secs(30)).await;
//! let (a, b) = (breaker.try_acquire()?, breaker.try_acquire()?);
//! assert_eq!(breaker.state(), State::HalfOpen);
//! assert!(breaker.try_acquire().is_err(), "both trial slots are taken");
//! a.success();
//! b.success();
//! assert_eq!(breaker.state(), State::Closed);
//! assert_eq!(breaker.stats().opened, 1);
//! # Ok(())
//! # }
//! ```
//!
//! # Trip policies
//! - [`Trip::consecutive_failures(n)`](Trip::consecutive_failures): `n` failures in a row; a
//!   success resets the count.
//! - [`Trip::failure_rate(rate, window, min_calls)`](Trip::failure_rate): the share of failures
//!   over the last N calls ([`Window::Calls`]) or the last D of time ([`Window::Time`]) reaches
//!   `rate`, once the window holds at least `min_calls` calls. Windows only count calls made
//!   while closed and start empty each time the breaker closes.
//!
//! Which errors count is up to the caller: [`Breaker::call`] counts every `Err`,
//! [`Breaker::call_with`] asks a classifier (`false` counts the error as a success for the
//! breaker, and the error is still returned), and permits are settled explicitly.
//!
//! # Open time, half-open trials and backoff
//! The breaker stays open for [`open_for`](BreakerBuilder::open_for). There is no background
//! task: the first call after the open time moves it to half-open and becomes the first trial.
//! [`half_open_trials(n)`](BreakerBuilder::half_open_trials) trials may run at once; other
//! calls are rejected meanwhile (with `retry_in` zero). The breaker closes after
//! [`half_open_successes`](BreakerBuilder::half_open_successes) successful trials (default
//! `n`) and reopens on the first failed one. With [`backoff(factor, max)`](BreakerBuilder::backoff)
//! each reopening lasts the previous open time times `factor`, capped at `max`; closing resets
//! it. Time is [`tokio::time::Instant`], so tests run on tokio's paused clock.
//!
//! # Permits and calls
//! - [`Breaker::call`] / [`Breaker::call_with`] wrap a future: it is not polled when the breaker
//!   rejects the call, and its outcome is recorded when it finishes.
//! - [`Breaker::try_acquire`] returns a [`Permit`] to take before work that runs elsewhere
//!   (another task, a worker pool) and to settle afterwards with [`Permit::success`] or
//!   [`Permit::failure`]. [`Breaker::try_acquire_owned`] returns a `'static`
//!   [`OwnedPermit`] for work that outlives the borrow.
//! - A permit dropped unsettled (the work was cancelled, or panicked) counts as **ignored**:
//!   neither success nor failure, and a trial slot it held is freed. The same applies to
//!   `call` futures dropped before they finish.
//!
//! # Listeners and stats
//! [`on_transition`](BreakerBuilder::on_transition) listeners see every [`Transition`]
//! (from, to, when, [`Reason`]) exactly once, in order, after the change and outside the
//! breaker's locks; a panicking listener is caught. [`Breaker::stats`] returns
//! [`BreakerStats`]: calls, successes, failures, ignored, rejected, times opened, state.
//!
//! # Registry
//! [`BreakerRegistry`] keeps one breaker per key (task name, host...), created from a template
//! builder on first use; [`insert`](BreakerRegistry::insert) never replaces silently.
//!
//! # Costs
//! - Closed, consecutive policy: taking a permit is one atomic load; settling a success is one
//!   load and one atomic add on a per-thread counter shard (plus one compare-and-swap if
//!   failures were pending). No lock, no allocation, no clock read, and no cache line written
//!   by two threads. (That is why [`BreakerStats::calls`] counts settled permits.)
//! - Failure-rate policies add a lock-free window update: a shared cursor increment and a slot
//!   read (call window) or a clock read and one compare-and-swap on a bucket word (time
//!   window). The rate is computed only after failures.
//! - Rejections while open read the clock and two atomics; no lock.
//! - Transitions take a mutex and are rare. Each breaker holds one counter shard per core
//!   (up to 16, 128 bytes each) plus its window.
#![forbid(unsafe_code)]

mod breaker;
mod config;
mod error;
mod registry;
mod state;
mod stats;
mod window;
mod word;

pub use breaker::{Breaker, OwnedPermit, Permit};
pub use config::{BreakerBuilder, ConfigError, MAX_CONSECUTIVE_FAILURES, MAX_TRIALS, Trip, Window};
pub use error::{CallError, CircuitOpen};
pub use registry::{BreakerRegistry, DuplicateKey};
pub use state::{Reason, State, Transition};
pub use stats::BreakerStats;

//! Retry policies for Baton: fixed, exponential, linear and random delays with jitter, caps on
//! delays, attempts and elapsed time, error classification, an async retry helper on tokio's clock,
//! and retry budgets that stop retry storms.
//!
//! # Key types
//! - [`Policy`] (built with [`PolicyBuilder`], or deserialized from a workflow file): a validated
//!   [`Strategy`] + [`Jitter`] + caps. [`Policy::delays`] yields its delays as an allocation-free
//!   iterator, [`Delays`]; [`Policy::delays_seeded`] makes them reproducible.
//! - [`retry`] runs an async operation under a policy and returns a [`Retry`] builder:
//!   [`when`](Retry::when) classifies errors into a [`Decision`] (retry, retry after a server's
//!   delay, or permanent), [`notify`](Retry::notify) is called before each retry,
//!   [`budget`](Retry::budget) draws on a shared [`RetryBudget`], and [`run`](Retry::run) (which
//!   borrows the configured retry, so it can run again) returns [`Success`] (value and attempts)
//!   or [`RetryError`] (last error, attempts, [`StopReason`]). Errors are classified with the
//!   [`Classify`] trait and retries reported through [`Notify`]; closures implement both.
//! - [`RetryBudget`]: retries capped to a share of calls over a sliding window, lock-free.
//! - Errors: [`PolicyError`] (invalid policies, naming the field), [`BudgetError`], [`RetryError`].
//!
//! # Example
//! ```
//! use std::{io, time::Duration};
//! use baton_retry::{retry, Decision, Jitter, Policy};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let policy = Policy::exponential(Duration::from_millis(100), 2.0)
//!     .attempts(5)
//!     .max_delay(Duration::from_secs(10))
//!     .jitter(Jitter::Full)
//!     .build()?;
//!
//! let mut calls = 0;
//! let fetched = retry(&policy, || {
//!     calls += 1;
//!     let busy = calls < 3;
//!     async move {
//!         if busy { Err(io::Error::from(io::ErrorKind::ConnectionRefused)) } else { Ok("page") }
//!     }
//! })
//! .when(|e| match e.kind() {
//!     io::ErrorKind::NotFound => Decision::Permanent,
//!     _ => Decision::Retry,
//! })
//! .notify(|attempt, e, delay| eprintln!("attempt {attempt} failed ({e}); retrying in {delay:?}"))
//! .run()
//! .await?;
//! assert_eq!((fetched.value, fetched.attempts), ("page", 3));
//! # Ok(())
//! # }
//! ```
//!
//! # Workflow files
//! [`Policy`] implements serde's traits with this flat shape and human durations (humantime:
//! `"250ms"`, `"5s"`, `"2m"`, `"1h 30m"`):
//!
//! ```toml
//! retry = { strategy = "exponential", initial = "100ms", factor = 2.0, max_delay = "10s",
//!           attempts = 5, max_elapsed = "1m", jitter = "full" }
//! ```
//!
//! `strategy = "fixed"` takes `delay`; `"exponential"` takes `initial` and `factor` (default 2); `"linear"` takes
//! `initial` and `increment`; `"random"` takes `min` and `max`. All take `attempts` (default 3),
//! `max_delay`, `max_elapsed` and `jitter` (`"none"`, the default, `"full"`, `"equal"` or
//! `"decorrelated"`). Unknown fields, fields of another strategy, missing fields and bad values are
//! errors that name the field. Serializing writes the same shape back (`attempts` and `jitter`
//! always, the caps when set). Deserialization needs a self-describing format (TOML, JSON, YAML).
//!
//! ```
//! use baton_retry::Policy;
//!
//! #[derive(Debug, serde::Deserialize)]
//! struct Task {
//!     retry: Policy,
//! }
//!
//! let task: Task = toml::from_str(r#"retry = { strategy = "fixed", delay = "1s", attempts = 4 }"#)?;
//! assert_eq!(task.retry.attempts(), 4);
//!
//! let bad = r#"retry = { strategy = "fixed", delay = "1s", factor = 2.0 }"#;
//! let err = toml::from_str::<Task>(bad).unwrap_err();
//! assert!(err.to_string().contains("`factor` is only valid with strategy = \"exponential\""));
//! # Ok::<(), toml::de::Error>(())
//! ```
//!
//! # Choices worth knowing
//! - `factor` must be finite and at least 1 (1 is a fixed delay); an exponential `initial` of zero
//!   is rejected; `max_delay` below the strategy's smallest delay is rejected rather than clamped.
//! - Durations are computed in whole nanoseconds and saturate at `max_delay`, or at
//!   [`Policy::MAX_DURATION`] (about 584 years) without one: nothing overflows or panics.
//! - The random source is xoshiro256++ from `rand` (no default features: no OS or thread RNG
//!   dependency); unseeded iterators take their seed from `std`'s `RandomState`, which the standard
//!   library seeds from the operating system.
//!
//! # Feature flags
//! None: the crate always needs `tokio`'s `time` feature (for sleeping in [`retry`] and the budget's
//! clock), `serde` and `humantime` (workflow files).
#![forbid(unsafe_code)]

mod budget;
mod classify;
mod config;
mod delays;
mod error;
mod policy;
mod retry;
mod strategy;

pub use budget::{RetryBudget, RetryBudgetBuilder};
pub use classify::{AlwaysRetry, Classify, Decision, NoNotify, Notify};
pub use delays::Delays;
pub use error::{BudgetError, PolicyError, RetryError, StopReason};
pub use policy::{Policy, PolicyBuilder};
pub use retry::{Retry, Success, retry};
pub use strategy::{Jitter, Strategy};

//! Dynamic worker pools on tokio for Baton: jobs run one per worker, dispatched by a pluggable
//! load balancer, with per-job timeouts, cancellation, panic isolation, scaling between a minimum
//! and a maximum of workers, graceful shutdown with a drain deadline, and cheap statistics.
//!
//! # Key types
//! - [`Pool`] (built with [`PoolBuilder`]): [`submit`](Pool::submit) returns a [`JobHandle`] to
//!   await the job's [`Outcome`] or [`cancel`](JobHandle::cancel) it;
//!   [`spawn_detached`](Pool::spawn_detached) is the fast path (no outcome channel);
//!   [`submit_blocking`](Pool::submit_blocking) runs a closure on tokio's blocking pool;
//!   [`feed`](Pool::feed) pulls jobs from a [`JobSource`]; [`stats`](Pool::stats) returns a
//!   [`PoolStats`] snapshot; [`shutdown`](Pool::shutdown) drains until a deadline and returns a
//!   [`ShutdownReport`].
//! - Every job has a [`JobId`] and reaches exactly one [`Outcome`]: `Succeeded(T)`, `Failed(E)`,
//!   `Panicked(message)`, `TimedOut(after)` or `Cancelled`. [`Job`] is a job with its type erased,
//!   what sources yield; [`JobOptions`] sets a job's own timeout.
//! - [`balance`]: the [`Balancer`](balance::Balancer) trait over an abstract view of candidates
//!   and four strategies (round-robin, least-loaded, smooth weighted round-robin, power of two
//!   choices), usable without a pool, e.g. to pick a remote agent.
//! - [`JobSource`]: where a pool can pull jobs from (a priority queue, a durable store);
//!   [`channel`] makes a bounded channel-backed source.
//! - Errors: [`ConfigError`] (a bad setting, named), [`SubmitError`] (a refused job, handed
//!   back), [`JobError`] (a job that did not succeed, named).
//!
//! # How it works
//! Each worker is a tokio task with its own queue. Submitting asks the balancer for a worker
//! (reading loads lazily: round-robin reads none), pushes the job to that worker's queue under a
//! short lock and wakes the worker only if it is parked; there is no dispatcher task in between.
//! A worker takes up to 64 jobs per lock, polls each job once on the fast path (a job that
//! completes without waiting needs no timer), and counts outcomes and latencies in per-worker
//! counters and histograms with plain stores. An idle worker steals the older half of a sibling's
//! queue (unless [`work_stealing`](PoolBuilder::work_stealing) is off). A panic in a job, caught
//! around every poll, becomes that job's [`Outcome::Panicked`]; the worker goes on.
//!
//! # Example
//! ```
//! use std::time::Duration;
//! use baton_pool::{balance::Strategy, JobOptions, Outcome, Pool};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let pool = Pool::builder()
//!     .min_workers(1)
//!     .max_workers(4)
//!     .strategy(Strategy::LeastLoaded)
//!     .default_timeout(Duration::from_secs(30))
//!     .build()?;
//!
//! let fetch = pool.submit(async {
//!     tokio::time::sleep(Duration::from_millis(20)).await;
//!     Ok::<_, String>("page")
//! })?;
//! let crash = pool.submit(async { if true { panic!("bad input") } Ok::<(), ()>(()) })?;
//! let hang = pool.submit_with(JobOptions::new().timeout(Duration::from_secs(1))?, async {
//!     std::future::pending::<Result<(), ()>>().await
//! })?;
//!
//! assert_eq!(fetch.await, Outcome::Succeeded("page"));
//! assert_eq!(crash.await, Outcome::Panicked("bad input".into()));
//! assert_eq!(hang.await, Outcome::TimedOut(Duration::from_secs(1)));
//!
//! let stats = pool.stats();
//! assert_eq!((stats.succeeded, stats.panicked, stats.timed_out), (1, 1, 1));
//! assert!(stats.adds_up());
//!
//! let report = pool.shutdown(Duration::from_secs(5)).await;
//! assert_eq!(report.in_flight(), 0);
//! # Ok(())
//! # }
//! ```
//!
//! # Feature flags
//! None: the crate depends on tokio (`rt`, `sync`, `time`), thiserror and tracing only. Jobs emit
//! a `tracing` span each (`debug` level, with the job id and worker index), which costs a couple of
//! atomic loads when no subscriber listens.
#![forbid(unsafe_code)]

pub mod balance;
mod config;
mod error;
mod handle;
mod histogram;
mod inner;
mod job;
mod panic;
mod pool;
mod shutdown;
mod slot;
mod source;
mod stats;
mod worker;

pub use config::PoolBuilder;
pub use error::{ConfigError, JobError, SubmitError};
pub use handle::JobHandle;
pub use histogram::LatencySummary;
pub use job::{Job, JobId, JobOptions, Outcome, OutcomeKind};
pub use panic::poll_unwind;
pub use pool::Pool;
pub use shutdown::ShutdownReport;
pub use source::{ChannelSource, Fed, JobSender, JobSource, channel};
pub use stats::{PoolStats, WorkerStats};

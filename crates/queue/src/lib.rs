//! A priority task queue with delays, cancellation, aging, backpressure, and the task lifecycle.
//!
//! `baton-queue` holds tasks at five levels, `Critical > High > Normal > Low > Background`, FIFO
//! within a level, and hands them to any number of consumers. It is the queue of the Baton
//! orchestrator, and useful on its own.
//!
//! # Key types
//!
//! - [`PriorityQueue<T>`]: the in-memory multi-producer multi-consumer queue. Cheap to clone (a
//!   handle). Sync [`try_push`](PriorityQueue::try_push)/[`try_pop`](PriorityQueue::try_pop) for
//!   the hot path; async [`push`](PriorityQueue::push) (waits for space when bounded) and
//!   [`pop`](PriorityQueue::pop) (waits for work); delayed tasks ([`PushOptions::not_before`]),
//!   [`cancel`](PriorityQueue::cancel) by [`TaskId`], [`close`](PriorityQueue::close), and
//!   [`QueueStats`].
//! - [`TaskQueue<T>`]: the trait at the crate boundary, async and fallible, so a durable backend
//!   can stand in for the in-memory queue.
//! - [`QueueBuilder`] with [`Aging`]: a bound, and aging so low levels never starve.
//! - [`TaskState`]: the task lifecycle as an explicit state machine; illegal moves are a
//!   [`TransitionError`].
//! - Errors: [`PushError`] (always hands the item back), [`TryPopError`], [`BuildError`],
//!   [`ParsePriorityError`].
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use baton_queue::{Aging, Priority, PriorityQueue, PushOptions};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
//! let queue = PriorityQueue::builder()
//!     .capacity(1_000)
//!     .aging(Aging::every(Duration::from_secs(10)))
//!     .build()?;
//!
//! queue.push("nightly cleanup", Priority::Background).await?;
//! queue.push("deploy", Priority::High).await?;
//! let retry = queue
//!     .push("flaky upload", PushOptions::new().delay(Duration::from_secs(2)))
//!     .await?;
//!
//! let first = queue.pop().await.unwrap();
//! assert_eq!((first.item, first.priority), ("deploy", Priority::High));
//! assert_eq!(queue.cancel(retry), Some("flaky upload"));
//!
//! queue.close(); // no more pushes; pops drain what is left, then return None
//! assert_eq!(queue.pop().await.map(|t| t.item), Some("nightly cleanup"));
//! assert!(queue.pop().await.is_none());
//!
//! let stats = queue.stats();
//! assert_eq!((stats.pushed, stats.popped, stats.cancelled), (3, 2, 1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Ordering, delays and time
//!
//! A task becomes *ready* when it is pushed, or at its not-before instant if that is later; each
//! level is FIFO by that instant (ties by push order). With aging on, a task's effective priority
//! rises one level per step it has been ready. Time is [`tokio::time::Instant`], so tests can run
//! on tokio's paused clock. The clock is read only when needed: by every push and pop when
//! wait times are tracked ([`QueueBuilder::track_wait_times`], off by default) or aging is on,
//! otherwise only while delayed tasks are waiting.
//!
//! # Feature flags
//!
//! - `serde`: `Serialize`/`Deserialize` for [`Priority`] and [`TaskState`] (as lower-case
//!   names), [`TaskId`], and the stats types.
#![forbid(unsafe_code)]

mod config;
mod error;
mod inner;
mod level;
mod priority;
mod queue;
mod state;
mod stats;
mod task;
mod traits;

pub use config::{Aging, QueueBuilder};
pub use error::{BuildError, PushError, TryPopError};
pub use priority::{ParsePriorityError, Priority};
pub use queue::PriorityQueue;
pub use state::{TaskState, TransitionError};
pub use stats::{LevelCounts, QueueStats, WaitStats};
pub use task::{Popped, PushOptions, TaskId};
pub use traits::TaskQueue;

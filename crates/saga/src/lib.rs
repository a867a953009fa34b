//! Sagas for Baton: ordered steps sharing a typed context, each an async action with an async
//! compensation. A saga either completes every step, or compensates every completed step in
//! reverse order, once each; a compensation that still fails is reported, never hidden.
//!
//! # Key types
//! - [`Step`]: an action and its compensation over `&mut C` (or closures, with [`step_fn`]).
//! - [`StepDef`]: a step's name, [`StepKind`] (compensable, the pivot, retriable after the pivot),
//!   retry policies ([`baton_retry::Policy`]) for its action and its compensation, timeouts, and
//!   whether it is compensated when cancelled mid-action.
//! - [`Saga`], built and validated by [`SagaBuilder`] ([`BuildError`] names the step), runs with
//!   [`Saga::run`], [`Saga::run_with`] (a [`SagaLog`] and a [`CancelToken`]) and
//!   [`Saga::resume`] (finish an interrupted run from its log).
//! - [`Outcome`]: `Completed`, `Compensated` (the cause, [`Abort`], and the steps undone),
//!   `CompensationFailed` (the compensation's [`StepFailure`] and what was undone before it), or
//!   `Stuck` (a step after the pivot failed for good). Each returns the context.
//! - [`SagaLog`] (async, fallible, ready for a durable backend), [`InMemoryLog`], [`NoLog`]; its
//!   [`Entry`] values are also the events passed to [`SagaBuilder::on_event`].
//!
//! # Example: order a parcel
//! ```
//! use std::time::Duration;
//! use baton_retry::Policy;
//! use baton_saga::{step_fn, Outcome, Saga, StepDef, StepError};
//!
//! #[derive(Debug, Default)]
//! struct Order { charged: bool, reserved: bool, courier: Option<String>, mailed: bool }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let out_of_stock = false;
//! let saga = Saga::<Order>::builder("order_parcel")
//!     .compensable("charge_card", step_fn(
//!         |o: &mut Order| Box::pin(async move { o.charged = true; Ok(()) }),
//!         |o: &mut Order| Box::pin(async move { o.charged = false; Ok(()) }),
//!     ))
//!     .compensable("reserve_stock", step_fn(
//!         move |o: &mut Order| Box::pin(async move {
//!             if out_of_stock { return Err(StepError::from("out of stock")); }
//!             o.reserved = true;
//!             Ok(())
//!         }),
//!         |o: &mut Order| Box::pin(async move { o.reserved = false; Ok(()) }),
//!     ))
//!     // The point of no return: once a courier is booked, the order goes through.
//!     .pivot("book_courier", step_fn(
//!         |o: &mut Order| Box::pin(async move { o.courier = Some("DX-42".into()); Ok(()) }),
//!         |_: &mut Order| Box::pin(async { Ok(()) }),
//!     ))
//!     .step(StepDef::retriable("send_confirmation", step_fn(
//!             |o: &mut Order| Box::pin(async move {
//!                 tokio::time::sleep(Duration::from_millis(20)).await; // the mail server
//!                 o.mailed = true;
//!                 Ok(())
//!             }),
//!             |_: &mut Order| Box::pin(async { Ok(()) }),
//!         ))
//!         .retry(Policy::fixed(Duration::from_secs(1)).attempts(10).build()?)
//!         .timeout(Duration::from_secs(5)))
//!     .build()?;
//!
//! match saga.run(Order::default()).await {
//!     Outcome::Completed { context } => assert!(context.mailed && context.courier.is_some()),
//!     other => panic!("unexpected: {other:?}"),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Rules
//! - **Forward recovery**: a failing action is retried under its step's policy (a timed-out
//!   attempt is a failed attempt; a panic, or an error wrapped with [`permanent`], is not
//!   retried). When it gives up, a step before the pivot (or the pivot) starts the rollback;
//!   a retriable step after the pivot ends the saga as [`Outcome::Stuck`], naming the step: it
//!   cannot be compensated, and the saga did not finish.
//! - **Backward recovery**: completed compensable steps are compensated in reverse order, each
//!   under its own compensation policy and timeout. A step whose action failed is not
//!   compensated (it did not complete); pivot and retriable steps are never compensated.
//! - **Cancellation** ([`CancelToken`]) stops the saga before the next step or interrupts the
//!   running action (its future is dropped). That step counts as not completed: it is compensated
//!   only if marked [`StepDef::compensate_if_cancelled`] (for actions whose partial effects need
//!   undoing). Compensations are never interrupted. After the pivot, cancelling stops forward
//!   recovery with `Stuck` (and no `Finished` entry, so [`Saga::resume`] can go on).
//! - **Panics** in an action, a compensation or the event callback are caught (`catch_unwind`
//!   around each poll): a failure of that step, never of the process.
//! - **Resume and at-least-once**: every transition is appended to the log before the engine
//!   moves on, with a snapshot of the context after each completed action and compensation.
//!   [`Saga::resume`] never re-runs a completed action or a completed compensation, but a step
//!   whose `started` (or `compensating`) entry has no completion may have run before the
//!   interruption: it runs again, from the last snapshot. Actions and compensations must be
//!   idempotent.
//!
//! # Observability
//! A tracing span `saga` per run and `saga_step` per action or compensation; each transition is
//! a `debug` event, and the entries go to the [`SagaBuilder::on_event`] callback in order.
//!
//! # Feature flags
//! None.
#![forbid(unsafe_code)]

mod attempt;
mod cancel;
mod engine;
mod error;
mod log;
mod outcome;
mod panic;
mod saga;
mod step;

pub use cancel::CancelToken;
pub use error::{BuildError, FailureKind, SagaError, StepError, StepFailure, permanent};
pub use log::{Entry, EntryKind, InMemoryLog, NoLog, SagaLog, StepRef};
pub use outcome::{Abort, Outcome, OutcomeKind};
pub use saga::{Saga, SagaBuilder};
pub use step::{FnStep, Step, StepDef, StepFuture, StepKind, patient, step_fn};

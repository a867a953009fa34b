//! Agents for Baton: a registry of the agents that run tasks.
//!
//! - **Registration and TTL**: agents [`register`](Registry::register) with an [`AgentSpec`]
//!   (id, capabilities, weight, metadata) and must [`heartbeat`](Registry::heartbeat) within the
//!   TTL or they expire ([`Registry::expire`], [`Registry::spawn_sweeper`]).
//! - **Health**: probe results ([`Registry::report_probe`], [`Registry::spawn_probe`]) move an
//!   agent between [`Health`] states according to a [`HealthPolicy`]; transitions are kept in a
//!   bounded history and announced as [`RegistryEvent`]s ([`Registry::subscribe`]).
//! - **Selection**: [`Registry::select`] picks one of the alive, non-unhealthy agents having the
//!   required capabilities with any of the pool's
//!   [`Balancer`](baton_pool::balance::Balancer)s; the returned [`Selected`] guard counts as
//!   one job in flight until dropped.
//!
//! All time is [`tokio::time::Instant`], so tests can use tokio's paused clock.
//!
//! ```
//! use std::time::Duration;
//! use baton_agents::{AgentSpec, Registry, SelectError};
//! use baton_pool::balance::Strategy;
//!
//! let registry = Registry::builder()
//!     .ttl(Duration::from_secs(30))
//!     .heartbeat_interval(Duration::from_secs(10))
//!     .build()?;
//! registry.register(AgentSpec::new("worker-1").capability("gpu").capability("linux").weight(2))?;
//! registry.register(AgentSpec::new("worker-2").capability("linux").meta("zone", "eu"))?;
//!
//! let least_loaded = Strategy::LeastLoaded.balancer();
//! let guard = registry.select(&["gpu"], &least_loaded)?;
//! assert_eq!(guard.id(), "worker-1");
//! assert_eq!(registry.agents()[0].in_flight, 1);
//! drop(guard);
//!
//! assert!(matches!(
//!     registry.select(&["tpu"], &least_loaded),
//!     Err(SelectError::NoAgent { .. })
//! ));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod error;
mod health;
mod registry;
mod spec;

pub use error::{ConfigError, ProbeError, RegisterError, SelectError, UnknownAgent};
pub use health::{HISTORY_LIMIT, Health, HealthPolicy};
pub use registry::{Registry, RegistryBuilder, RegistryEvent, Selected};
pub use spec::{AgentInfo, AgentSpec};

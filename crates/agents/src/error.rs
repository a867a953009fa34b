//! Error types of the registry.

use std::time::Duration;

use thiserror::Error;

/// A [`RegistryBuilder`](crate::RegistryBuilder) or [`HealthPolicy`](crate::HealthPolicy) setting
/// that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `heartbeat_interval` is zero.
    #[error("registry config: heartbeat_interval must be greater than zero")]
    ZeroHeartbeatInterval,
    /// `ttl` is not longer than `heartbeat_interval`, so an agent heartbeating on schedule could
    /// still expire.
    #[error(
        "registry config: ttl ({ttl:?}) must be greater than heartbeat_interval ({heartbeat_interval:?})"
    )]
    TtlNotAboveHeartbeat {
        /// The configured time to live.
        ttl: Duration,
        /// The configured heartbeat interval.
        heartbeat_interval: Duration,
    },
    /// `HealthPolicy::degraded_after` is zero.
    #[error("health policy: degraded_after must be at least 1")]
    ZeroDegradedAfter,
    /// `HealthPolicy::unhealthy_after` is smaller than `degraded_after`.
    #[error(
        "health policy: unhealthy_after ({unhealthy_after}) must be >= degraded_after ({degraded_after})"
    )]
    UnhealthyBeforeDegraded {
        /// The configured `degraded_after`.
        degraded_after: u32,
        /// The configured `unhealthy_after`.
        unhealthy_after: u32,
    },
    /// `HealthPolicy::healthy_after` is zero.
    #[error("health policy: healthy_after must be at least 1")]
    ZeroHealthyAfter,
}

/// Why [`Registry::register`](crate::Registry::register) refused an agent.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RegisterError {
    /// An alive agent already has this id (the registry never replaces one silently).
    #[error("agent `{id}` is already registered")]
    Duplicate {
        /// The id that is taken.
        id: String,
    },
    /// The agent's weight is zero, so it could never be selected.
    #[error("agent `{id}` has weight 0; weights must be at least 1")]
    ZeroWeight {
        /// The agent's id.
        id: String,
    },
}

/// The agent is not in the registry (never registered, deregistered, or expired).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown agent `{id}`: not registered, deregistered or expired")]
pub struct UnknownAgent {
    /// The id that was asked for.
    pub id: String,
}

/// Why [`Registry::spawn_probe`](crate::Registry::spawn_probe) did not start a probe.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The agent is not in the registry.
    #[error(transparent)]
    UnknownAgent(#[from] UnknownAgent),
    /// The probe interval is zero.
    #[error("probe for agent `{id}`: interval must be greater than zero")]
    ZeroInterval {
        /// The agent's id.
        id: String,
    },
}

/// Why [`Registry::select`](crate::Registry::select) found no agent.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SelectError {
    /// No alive, non-unhealthy agent has every required capability (or the balancer declined).
    #[error("no alive, healthy agent has every required capability {required:?}")]
    NoAgent {
        /// The capabilities that were required.
        required: Vec<String>,
    },
}

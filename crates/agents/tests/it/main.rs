//! Integration tests of `baton-agents` (one binary; each file is a module).

mod config;
mod health;
mod model;
mod select;
mod ttl;

use std::time::Duration;

use baton_agents::Registry;

/// TTL 30 s, heartbeat interval 10 s, default health policy.
pub(crate) fn registry() -> Registry {
    Registry::builder()
        .ttl(Duration::from_secs(30))
        .heartbeat_interval(Duration::from_secs(10))
        .build()
        .expect("valid config")
}

//! Integration tests for baton-orchestrator: one binary, one module per concern. Everything
//! time-based runs on tokio's paused clock.

mod agents;
mod backends;
mod breakers;
mod completion;
mod events;
mod execution;
mod failures;
mod metrics;
mod props;
mod retries;
mod runs;
mod saga;
mod support;

//! Integration tests for baton-breaker: one binary, one module per concern.

mod calls;
mod concurrency;
mod config;
mod listeners;
mod model;
mod registry;
mod support;
mod transitions;

//! Integration tests for baton-pool: one binary, one module per concern.

mod api;
mod balancing;
mod model;
mod panics;
mod scaling;
mod shutdown;
mod source;
mod stress;
mod support;

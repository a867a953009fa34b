//! Integration tests for baton-retry: one binary, one module per concern.

mod alloc;
mod arb;
mod budget;
mod config;
mod harness;
mod helper;
mod model;
mod props;

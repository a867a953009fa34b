//! Integration tests for baton-saga: a model-based property test, interruption and resume, and
//! failures (panics, timeouts, cancellation, the log).

mod common;
mod failures;
mod model;
mod resume;

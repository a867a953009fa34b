//! Integration tests for baton-queue: one binary, one module per concern.

mod aging;
mod api;
mod concurrency;
mod lifecycle;
mod model;
mod schedules;

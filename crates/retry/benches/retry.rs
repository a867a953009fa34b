//! Benchmarks for baton-retry.
fn main() {}

//! Benchmarks for baton-queue.
fn main() {}

//! Benchmarks for baton-dag.
fn main() {}

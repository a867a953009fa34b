//! Integration tests for baton-dag.

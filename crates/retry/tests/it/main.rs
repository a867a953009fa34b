//! Integration tests for baton-retry.

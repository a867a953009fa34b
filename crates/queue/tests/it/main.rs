//! Integration tests for baton-queue.

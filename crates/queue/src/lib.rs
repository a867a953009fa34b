//! baton-queue (being written).
#![forbid(unsafe_code)]

//! baton-retry (being written).
#![forbid(unsafe_code)]

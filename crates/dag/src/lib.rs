//! baton-dag (being written).
#![forbid(unsafe_code)]

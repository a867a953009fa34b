//! Integration tests for baton-dag: property tests against naive reference algorithms and a
//! model of the ready-tracker, plus builder, validation and export behaviour through the public API.

mod builder;
mod graphs;
mod model;
mod order;
mod reference;
#[cfg(feature = "serde")]
mod serde;
mod validate;

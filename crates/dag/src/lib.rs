//! Dependency graphs for task scheduling: validation that reports every problem at once,
//! deterministic topological order, parallel generations, critical path, and an incremental
//! ready-tracker for execution.
//!
//! `baton-dag` is pure data structures: no async runtime, no I/O, no `unsafe`. Graphs are stored
//! compactly, by index: nodes are [`NodeId`]s (`u32`, in insertion order) and adjacency is in CSR
//! form (an offsets array and a targets array), built with cache-conscious passes, so validating
//! and ordering a graph of a million nodes and four million edges takes tens of milliseconds,
//! about a tenth of what a general graph library needs.
//!
//! # Key types
//! - [`DagBuilder`]: declare nodes by id (`&str`, `String`, any `Hash + Eq + Clone`) with their
//!   dependencies and optional weights; [`build`](DagBuilder::build) validates.
//! - [`Dag`]: the validated graph. [`Dag::from_edges`] builds one straight from an index edge list.
//!   Queries: [`topological_order`](Dag::topological_order),
//!   [`generations`](Dag::generations), [`ancestors`](Dag::ancestors),
//!   [`descendants`](Dag::descendants), [`critical_path`](Dag::critical_path),
//!   [`downstream_weights`](Dag::downstream_weights) (a scheduling priority), and export with
//!   [`to_dot`](Dag::to_dot) and [`to_mermaid`](Dag::to_mermaid).
//! - [`ValidationErrors`]: every [`Problem`] found (unknown dependency, duplicate id,
//!   self-dependency, each cycle with its members in order), each with the positions of the
//!   declarations involved (and, for a bad dependency, its index in the dependency list), so a
//!   caller can point at its source.
//! - [`ReadyTracker`]: one execution of a graph: [`start`](ReadyTracker::start),
//!   [`complete`](ReadyTracker::complete) (returns the nodes that became ready),
//!   [`fail`](ReadyTracker::fail) (returns the descendants skipped) and
//!   [`cancel_pending`](ReadyTracker::cancel_pending) (ends the run early: returns the nodes
//!   cancelled before starting), with [`Progress`] counts and typed [`TrackerError`]s for misuse.
//!
//! # Example
//! ```
//! use baton_dag::{DagBuilder, ReadyTracker};
//!
//! let dag = DagBuilder::new()
//!     .weighted_node("compile", 30, ["fetch"])
//!     .weighted_node("fetch", 5, [])
//!     .weighted_node("lint", 3, ["fetch"])
//!     .weighted_node("ship", 1, ["compile", "lint"])
//!     .build()?;
//! let name = |n| *dag.id(n);
//!
//! // Stages that can run in parallel, and the chain that bounds the run time.
//! let stages: Vec<Vec<&str>> = dag.generations().map(|g| g.iter().map(|&n| name(n)).collect()).collect();
//! assert_eq!(stages, [vec!["fetch"], vec!["compile", "lint"], vec!["ship"]]);
//! assert_eq!(dag.critical_path().weight, 36);
//!
//! // Run it: start and complete nodes as they become ready.
//! let mut tracker = ReadyTracker::new(&dag);
//! let mut ready = tracker.initial_ready().to_vec();
//! let mut ran = Vec::new();
//! while let Some(node) = ready.pop() {
//!     tracker.start(node)?;
//!     ran.push(name(node));
//!     ready.extend_from_slice(tracker.complete(node)?);
//! }
//! assert!(tracker.is_finished());
//! assert_eq!(ran.len(), 4);
//!
//! // Invalid graphs report every problem, one per line.
//! let errors = DagBuilder::new()
//!     .node("deploy", ["biuld"])
//!     .node("a", ["b"])
//!     .node("b", ["a"])
//!     .build()
//!     .unwrap_err();
//! assert_eq!(errors.to_string(), "`deploy` depends on unknown `biuld`\ncycle: a → b → a");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Feature flags
//! - `serde` (off by default): `Serialize`/`Deserialize` for [`NodeId`], [`Problem`],
//!   [`ValidationErrors`], [`TrackerError`], [`NodeState`], [`Progress`] and [`CriticalPath`].
#![forbid(unsafe_code)]

mod analysis;
mod builder;
mod csr;
mod cycles;
mod dag;
mod error;
mod export;
mod graph;
mod id;
mod kahn;
mod ready;
#[cfg(test)]
mod test_support;

pub use builder::DagBuilder;
pub use dag::{CriticalPath, Dag, Generations};
pub use error::{Action, Problem, TrackerError, ValidationErrors};
pub use id::NodeId;
pub use ready::{NodeState, Progress, ReadyTracker};

/// The most nodes a graph can hold: every index fits in a [`NodeId`].
pub const MAX_NODES: usize = u32::MAX as usize;

/// The most edges a graph can hold, 2^31 - 4: edge positions and dependency counts are stored as
/// `u32`, and the [`ReadyTracker`] keeps a node's state in the same word as its count.
pub const MAX_EDGES: usize = (1 << 31) - 4;

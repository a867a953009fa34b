//! Errors: [`Problem`]s found by validation (gathered in [`ValidationErrors`]) and
//! [`TrackerError`]s for misuse of a [`ReadyTracker`](crate::ReadyTracker).

use std::fmt;

use crate::{NodeId, NodeState};

/// One thing wrong with a graph. Validation gathers every problem it finds into
/// [`ValidationErrors`] rather than stopping at the first.
///
/// Each problem names the ids involved and their *positions*: the 0-based insertion order of the
/// declaration (the `n`-th call to [`DagBuilder::add`](crate::DagBuilder::add) or
/// [`node`](crate::DagBuilder::node), or the node index for [`Dag::from_edges`](crate::Dag::from_edges)),
/// so that a caller can point back at the source, such as a task in a workflow file.
/// When a graph is valid, a node's position is its [`NodeId`]. Problems with one entry of a
/// dependency list also give that entry's index in the list (`dependency_index`).
///
/// ```
/// use baton_dag::{DagBuilder, Problem};
///
/// let errors = DagBuilder::new()
///     .node("build", [])
///     .node("deploy", ["build", "tset", "deploy"])
///     .build()
///     .unwrap_err();
/// assert!(matches!(
///     &errors.problems()[0],
///     Problem::UnknownDependency { position: 1, dependency: "tset", dependency_index: 1, .. }
/// ));
/// assert!(matches!(
///     &errors.problems()[1],
///     Problem::SelfDependency { position: 1, dependency_index: 2, .. }
/// ));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case", tag = "problem"))]
#[non_exhaustive]
pub enum Problem<K> {
    /// `node` lists a dependency that no node declares.
    #[error("`{node}` depends on unknown `{dependency}`")]
    UnknownDependency {
        /// The node whose dependency list is wrong.
        node: K,
        /// Position of that node's declaration.
        position: usize,
        /// The missing dependency, as written.
        dependency: K,
        /// Where the missing dependency is in that declaration's dependency list (0-based, in
        /// the order given), so that a caller can point at the entry in `needs = [...]`.
        dependency_index: usize,
    },
    /// Two declarations share an id. The first one defines the node; the later one is ignored
    /// apart from being checked for unknown and self dependencies.
    #[error("duplicate id `{id}`: declared at positions {first} and {position}")]
    DuplicateId {
        /// The repeated id.
        id: K,
        /// Position of the first declaration.
        first: usize,
        /// Position of this (later) declaration.
        position: usize,
    },
    /// A node lists itself as a dependency.
    #[error("`{node}` depends on itself")]
    SelfDependency {
        /// The node.
        node: K,
        /// Position of its declaration.
        position: usize,
        /// Where the node itself is in that declaration's dependency list (0-based, in the order
        /// given). For [`Dag::from_edges`](crate::Dag::from_edges), the position of the self-loop
        /// in the edge list.
        dependency_index: usize,
    },
    /// A dependency cycle: each member depends on the next, and the last depends on the first.
    ///
    /// Validation reports one elementary cycle per strongly connected component that contains a
    /// cycle (the shortest cycle through the component's first-declared member, starting there).
    /// A component can hold several cycles; breaking the one reported may leave another, which the
    /// next validation reports.
    #[error("cycle: {}", CycleText(nodes))]
    Cycle {
        /// The members in dependency order, without repeating the first at the end.
        nodes: Vec<K>,
        /// The members' positions, in the same order.
        positions: Vec<usize>,
    },
    /// An edge given to [`Dag::from_edges`](crate::Dag::from_edges) names a node index that is not
    /// below the node count.
    #[error("edge {edge} ({from} → {to}) names a node outside 0..{node_count}")]
    EdgeOutOfRange {
        /// Position of the edge in the edge list.
        edge: usize,
        /// The edge's first node (the dependency).
        from: u32,
        /// The edge's second node (the dependent).
        to: u32,
        /// The number of nodes in the graph.
        node_count: usize,
    },
    /// More nodes than a [`NodeId`] can address.
    #[error("{count} nodes exceed the limit of {max} nodes per graph", max = crate::MAX_NODES)]
    TooManyNodes {
        /// The number of nodes asked for.
        count: usize,
    },
    /// More edges than the compact adjacency can address.
    #[error("{count} edges exceed the limit of {max} edges per graph", max = crate::MAX_EDGES)]
    TooManyEdges {
        /// The number of edges asked for.
        count: usize,
    },
}

/// Displays `a → b → c → a`.
struct CycleText<'a, K>(&'a [K]);

impl<K: fmt::Display> fmt::Display for CycleText<'_, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for node in self.0 {
            write!(f, "{node} → ")?;
        }
        match self.0.first() {
            Some(first) => write!(f, "{first}"),
            None => Ok(()),
        }
    }
}

/// Every problem validation found, in a stable order: problems tied to declarations (or edges)
/// in input order, then cycles ordered by their first member's position.
///
/// `Display` lists the problems one per line.
///
/// ```
/// use baton_dag::{DagBuilder, Problem};
///
/// let errors = DagBuilder::new()
///     .node("deploy", ["biuld"])
///     .node("a", ["b"])
///     .node("b", ["a"])
///     .build()
///     .unwrap_err();
/// assert_eq!(errors.len(), 2);
/// assert_eq!(
///     errors.to_string(),
///     "`deploy` depends on unknown `biuld`\ncycle: a → b → a"
/// );
/// assert!(matches!(&errors.problems()[1], Problem::Cycle { positions, .. } if positions == &[1, 2]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ValidationErrors<K> {
    problems: Vec<Problem<K>>,
}

impl<K: fmt::Display> fmt::Display for ValidationErrors<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl<K: fmt::Debug + fmt::Display> std::error::Error for ValidationErrors<K> {}

impl<K> ValidationErrors<K> {
    /// Wraps problems; `None` when there are none.
    pub(crate) fn from_problems(problems: Vec<Problem<K>>) -> Option<Self> {
        (!problems.is_empty()).then_some(Self { problems })
    }

    /// The errors of a graph with exactly one problem.
    pub(crate) fn single(problem: Problem<K>) -> Self {
        Self {
            problems: vec![problem],
        }
    }

    /// The problems, in the order described on the type.
    #[must_use]
    pub fn problems(&self) -> &[Problem<K>] {
        &self.problems
    }

    /// Takes the problems out.
    #[must_use]
    pub fn into_problems(self) -> Vec<Problem<K>> {
        self.problems
    }

    /// How many problems there are (at least one).
    #[must_use]
    pub fn len(&self) -> usize {
        self.problems.len()
    }

    /// Always `false`: validation only fails with at least one problem.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    /// The cycle problems only.
    pub fn cycles(&self) -> impl Iterator<Item = &Problem<K>> {
        self.problems
            .iter()
            .filter(|p| matches!(p, Problem::Cycle { .. }))
    }
}

impl<'a, K> IntoIterator for &'a ValidationErrors<K> {
    type Item = &'a Problem<K>;
    type IntoIter = std::slice::Iter<'a, Problem<K>>;

    fn into_iter(self) -> Self::IntoIter {
        self.problems.iter()
    }
}

impl<K> IntoIterator for ValidationErrors<K> {
    type Item = Problem<K>;
    type IntoIter = std::vec::IntoIter<Problem<K>>;

    fn into_iter(self) -> Self::IntoIter {
        self.problems.into_iter()
    }
}

/// Misuse of a [`ReadyTracker`](crate::ReadyTracker): each names the node and the state it was in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case", tag = "error"))]
#[non_exhaustive]
pub enum TrackerError {
    /// The node index is not below the graph's node count.
    #[error("unknown node {node}: the graph has {node_count} nodes")]
    UnknownNode {
        /// The index given.
        node: NodeId,
        /// The number of nodes in the tracked graph.
        node_count: usize,
    },
    /// `start` or `fail` on a node that still waits on dependencies.
    #[error("cannot {action} node {node}: it is still waiting on {pending} dependencies")]
    NotReady {
        /// The node.
        node: NodeId,
        /// What was asked: `start` or `fail`.
        action: Action,
        /// How many of its dependencies have not completed.
        pending: u32,
    },
    /// `start` on a node that is already running.
    #[error("cannot start node {node}: it is already running")]
    AlreadyRunning {
        /// The node.
        node: NodeId,
    },
    /// `complete` on a node that has not been started (it is waiting or ready).
    #[error("cannot complete node {node}: it was not started (it is {state})")]
    NotStarted {
        /// The node.
        node: NodeId,
        /// Its state: [`NodeState::Waiting`] or [`NodeState::Ready`].
        state: NodeState,
    },
    /// Any transition of a node that already ended: done, failed, skipped or cancelled
    /// (completing twice lands here).
    #[error("cannot {action} node {node}: it already ended ({state})")]
    AlreadyEnded {
        /// The node.
        node: NodeId,
        /// What was asked: `start`, `complete` or `fail`.
        action: Action,
        /// Its terminal state.
        state: NodeState,
    },
}

/// The tracker operation that was refused, in [`TrackerError::AlreadyEnded`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Action {
    /// [`ReadyTracker::start`](crate::ReadyTracker::start).
    Start,
    /// [`ReadyTracker::complete`](crate::ReadyTracker::complete).
    Complete,
    /// [`ReadyTracker::fail`](crate::ReadyTracker::fail).
    Fail,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Start => "start",
            Self::Complete => "complete",
            Self::Fail => "fail",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_what_and_where() {
        let p: Problem<&str> = Problem::UnknownDependency {
            node: "deploy",
            position: 0,
            dependency: "biuld",
            dependency_index: 1,
        };
        assert_eq!(p.to_string(), "`deploy` depends on unknown `biuld`");
        let p: Problem<&str> = Problem::DuplicateId {
            id: "a",
            first: 0,
            position: 3,
        };
        assert_eq!(
            p.to_string(),
            "duplicate id `a`: declared at positions 0 and 3"
        );
        let p: Problem<&str> = Problem::SelfDependency {
            node: "a",
            position: 2,
            dependency_index: 0,
        };
        assert_eq!(p.to_string(), "`a` depends on itself");
        let p: Problem<&str> = Problem::Cycle {
            nodes: vec!["a", "b", "c"],
            positions: vec![0, 1, 2],
        };
        assert_eq!(p.to_string(), "cycle: a → b → c → a");
        let p: Problem<u32> = Problem::EdgeOutOfRange {
            edge: 4,
            from: 1,
            to: 9,
            node_count: 5,
        };
        assert_eq!(p.to_string(), "edge 4 (1 → 9) names a node outside 0..5");
    }

    #[test]
    fn validation_errors_list_one_problem_per_line() {
        let errors = ValidationErrors::from_problems(vec![
            Problem::SelfDependency {
                node: "a",
                position: 0,
                dependency_index: 0,
            },
            Problem::SelfDependency {
                node: "b",
                position: 1,
                dependency_index: 2,
            },
        ])
        .expect("two problems");
        assert_eq!(
            errors.to_string(),
            "`a` depends on itself\n`b` depends on itself"
        );
        assert_eq!(errors.len(), 2);
        assert!(!errors.is_empty());
        assert_eq!(errors.cycles().count(), 0);
        assert!(ValidationErrors::<&str>::from_problems(Vec::new()).is_none());
    }

    #[test]
    fn tracker_errors_name_node_and_state() {
        let e = TrackerError::AlreadyEnded {
            node: NodeId::new(4),
            action: Action::Complete,
            state: NodeState::Done,
        };
        assert_eq!(
            e.to_string(),
            "cannot complete node #4: it already ended (done)"
        );
        let e = TrackerError::NotReady {
            node: NodeId::new(1),
            action: Action::Start,
            pending: 2,
        };
        assert_eq!(
            e.to_string(),
            "cannot start node #1: it is still waiting on 2 dependencies"
        );
    }
}

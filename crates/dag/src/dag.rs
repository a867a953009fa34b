//! `Dag`: a validated dependency graph with ids, its order, generations and path queries.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::iter::FusedIterator;
use std::slice::Windows;
use std::sync::{Arc, OnceLock};

use crate::analysis;
use crate::graph::{EdgeIssue, Graph, Invalid};
use crate::{MAX_EDGES, MAX_NODES, NodeId, Problem, ValidationErrors};

/// A validated directed acyclic graph of `node_count` nodes, each with an id of type `K` and a
/// weight.
///
/// Nodes are numbered `NodeId(0)..NodeId(node_count)` in insertion order. Adjacency is stored
/// compactly (CSR: an offsets array and a targets array): from each node to its dependents, built
/// with the graph, and from each node to its dependencies, built on first use (validation,
/// ordering and execution do not need it). The topological order and generations are computed
/// once, at construction. Build one with [`DagBuilder`](crate::DagBuilder) (ids and dependency
/// lists) or [`Dag::from_edges`] (indices and an edge list, the fast path).
///
/// An edge goes from a dependency to its dependent: in the order of execution.
///
/// **Topological order** ([`topological_order`](Self::topological_order)) is by generation, then
/// by index: it is the order in which a breadth-first Kahn's algorithm runs the graph, with ties
/// between nodes of the same generation broken by insertion order. It depends only on the graph,
/// not on the order its edges were listed, and [`generations`](Self::generations) are contiguous
/// slices of it.
///
/// The structure is shared (an [`Arc`]) with the [`ReadyTracker`](crate::ReadyTracker)s made from
/// it, so a tracker owns what it needs and has no lifetime.
///
/// Methods taking a [`NodeId`] panic if it is not below [`node_count`](Self::node_count), like
/// slice indexing; use [`contains`](Self::contains) to check ids from elsewhere.
///
/// ```
/// use baton_dag::DagBuilder;
///
/// let dag = DagBuilder::new()
///     .node("deploy", ["test", "package"])
///     .node("test", ["build"])
///     .node("package", ["build"])
///     .node("build", [])
///     .node("docs", [])
///     .build()?;
/// let names = |nodes: &[baton_dag::NodeId]| -> Vec<&str> {
///     nodes.iter().map(|&n| *dag.id(n)).collect()
/// };
/// assert_eq!(names(dag.topological_order()), ["build", "docs", "test", "package", "deploy"]);
/// let stages: Vec<Vec<&str>> = dag.generations().map(names).collect();
/// assert_eq!(stages, [vec!["build", "docs"], vec!["test", "package"], vec!["deploy"]]);
/// let build = dag.node_id("build").unwrap();
/// assert_eq!(names(&dag.descendants(build)), ["deploy", "test", "package"]);
/// # Ok::<(), baton_dag::ValidationErrors<&str>>(())
/// ```
#[derive(Clone)]
pub struct Dag<K> {
    graph: Arc<Graph>,
    /// The ids, by index. Graphs made from indices make them on first use, with `make_ids`.
    ids: OnceLock<Vec<K>>,
    make_ids: Option<fn(usize) -> Vec<K>>,
    /// id → node; built on first lookup for graphs made from indices.
    index: OnceLock<HashMap<K, NodeId>>,
}

impl<K> fmt::Debug for Dag<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dag")
            .field("nodes", &self.node_count())
            .field("edges", &self.edge_count())
            .field("generations", &self.generation_count())
            .finish_non_exhaustive()
    }
}

impl Dag<u32> {
    /// Builds and validates a graph from node indices: nodes `0..node_count`, each of weight 1 and
    /// with its index as id, and `edges` where `(u, v)` means `v` depends on `u` (`u` runs
    /// first). This is the fast path: no hashing, a cache-conscious counting sort of the edges
    /// into the compact adjacency, then Kahn's algorithm one generation at a time. Repeated edges
    /// are kept (each counts as one dependency).
    ///
    /// Returns every problem at once: edges naming a node `>= node_count`
    /// ([`Problem::EdgeOutOfRange`]), self-loops ([`Problem::SelfDependency`]) and cycles
    /// ([`Problem::Cycle`], whose `nodes` are indices: each depends on the next, so `(next, this)`
    /// is an edge).
    ///
    /// ```
    /// use baton_dag::{Dag, NodeId, Problem};
    ///
    /// let dag = Dag::from_edges(4, &[(2, 0), (0, 1), (2, 3)])?;
    /// let order: Vec<u32> = dag.topological_order().iter().map(|n| n.as_u32()).collect();
    /// assert_eq!(order, [2, 0, 3, 1]);
    ///
    /// let errors = Dag::from_edges(3, &[(0, 1), (1, 2), (2, 0), (1, 5)]).unwrap_err();
    /// assert_eq!(
    ///     errors.to_string(),
    ///     "edge 3 (1 → 5) names a node outside 0..3\ncycle: 0 → 2 → 1 → 0"
    /// );
    /// # Ok::<(), baton_dag::ValidationErrors<u32>>(())
    /// ```
    pub fn from_edges(
        node_count: usize,
        edges: &[(u32, u32)],
    ) -> Result<Self, ValidationErrors<u32>> {
        Self::from_index_edges(node_count, None, edges)
    }

    /// Like [`from_edges`](Self::from_edges), with one weight per node: the node count is
    /// `weights.len()`.
    ///
    /// ```
    /// use baton_dag::Dag;
    ///
    /// let dag = Dag::from_weighted_edges(vec![3, 1, 4], &[(0, 2), (1, 2)])?;
    /// assert_eq!(dag.critical_path().weight, 7);
    /// # Ok::<(), baton_dag::ValidationErrors<u32>>(())
    /// ```
    pub fn from_weighted_edges(
        weights: Vec<u64>,
        edges: &[(u32, u32)],
    ) -> Result<Self, ValidationErrors<u32>> {
        Self::from_index_edges(weights.len(), Some(weights), edges)
    }

    fn from_index_edges(
        node_count: usize,
        weights: Option<Vec<u64>>,
        edges: &[(u32, u32)],
    ) -> Result<Self, ValidationErrors<u32>> {
        if node_count > MAX_NODES {
            return Err(ValidationErrors::single(Problem::TooManyNodes {
                count: node_count,
            }));
        }
        if edges.len() > MAX_EDGES {
            return Err(ValidationErrors::single(Problem::TooManyEdges {
                count: edges.len(),
            }));
        }
        match Graph::build(node_count, weights, edges) {
            Ok(graph) => Ok(Self {
                graph: Arc::new(graph),
                ids: OnceLock::new(),
                make_ids: Some(|n| (0..n as u32).collect()),
                index: OnceLock::new(),
            }),
            Err(invalid) => Err(index_problems(invalid, node_count)),
        }
    }
}

/// Index-based problems for [`Dag::from_edges`].
fn index_problems(invalid: Invalid, node_count: usize) -> ValidationErrors<u32> {
    let edges = invalid.edges.into_iter().map(|issue| match issue {
        EdgeIssue::OutOfRange { edge, from, to } => Problem::EdgeOutOfRange {
            edge,
            from,
            to,
            node_count,
        },
        EdgeIssue::SelfLoop { edge, node } => Problem::SelfDependency {
            node,
            position: node as usize,
            dependency_index: edge,
        },
    });
    let cycles = invalid.cycles.into_iter().map(|cycle| Problem::Cycle {
        positions: cycle.iter().map(|&v| v as usize).collect(),
        nodes: cycle,
    });
    ValidationErrors::from_problems(edges.chain(cycles).collect()).expect("invalid has a problem")
}

impl<K> Dag<K> {
    /// A graph with its ids and their index.
    pub(crate) fn from_parts(graph: Graph, ids: Vec<K>, index: HashMap<K, NodeId>) -> Self {
        Self {
            graph: Arc::new(graph),
            ids: OnceLock::from(ids),
            make_ids: None,
            index: OnceLock::from(index),
        }
    }

    /// The shared core, for the ready tracker.
    pub(crate) fn graph(&self) -> &Arc<Graph> {
        &self.graph
    }

    /// The number of nodes.
    #[must_use]
    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    /// The number of edges (dependencies).
    #[must_use]
    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Whether the graph has no nodes.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.node_count() == 0
    }

    /// Whether `node` is a node of this graph (below [`node_count`](Self::node_count)): the
    /// check before a method that panics on a node outside it, such as [`id`](Self::id).
    ///
    /// ```
    /// use baton_dag::{Dag, NodeId};
    ///
    /// let dag = Dag::from_edges(2, &[(0, 1)])?;
    /// assert!(dag.contains(NodeId::new(1)));
    /// assert!(!dag.contains(NodeId::new(2)));
    /// # Ok::<(), baton_dag::ValidationErrors<u32>>(())
    /// ```
    #[must_use]
    pub fn contains(&self, node: NodeId) -> bool {
        node.index() < self.node_count()
    }

    /// All nodes, in index order.
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = NodeId> + DoubleEndedIterator + use<K> {
        (0..self.node_count() as u32).map(NodeId::new)
    }

    /// The id of `node`.
    ///
    /// # Panics
    /// If `node` is not in this graph (its index is not below [`node_count`](Self::node_count)),
    /// as with a [`NodeId`] from another, larger graph. A [`NodeId`] from another graph that is in
    /// range is not detected: it names this graph's node of that index. Check with
    /// [`contains`](Self::contains), or use [`get_id`](Self::get_id), which returns `None` instead.
    #[must_use]
    pub fn id(&self, node: NodeId) -> &K {
        &self.ids()[node.index()]
    }

    /// The id of `node`, or `None` if it is not in this graph: the checked form of
    /// [`id`](Self::id), for a [`NodeId`] that may come from elsewhere.
    ///
    /// ```
    /// use baton_dag::{DagBuilder, NodeId};
    ///
    /// let dag = DagBuilder::new().node("fetch", []).node("build", ["fetch"]).build()?;
    /// assert_eq!(dag.get_id(NodeId::new(1)), Some(&"build"));
    /// assert_eq!(dag.get_id(NodeId::new(2)), None);
    /// # Ok::<(), baton_dag::ValidationErrors<&str>>(())
    /// ```
    #[must_use]
    pub fn get_id(&self, node: NodeId) -> Option<&K> {
        self.ids().get(node.index())
    }

    /// Every id, indexed by [`NodeId::index`]. (A graph made by [`Dag::from_edges`] makes its
    /// list of ids, `0..node_count`, on the first call.)
    #[must_use]
    pub fn ids(&self) -> &[K] {
        self.ids.get_or_init(|| {
            let make = self
                .make_ids
                .expect("a graph without ids has a way to make them");
            make(self.node_count())
        })
    }

    /// The weight of `node` (1 unless set).
    ///
    /// # Panics
    /// If `node` is not in this graph (its index is not below [`node_count`](Self::node_count)),
    /// as with a [`NodeId`] from another, larger graph. A [`NodeId`] from another graph that is in
    /// range is not detected: it names this graph's node of that index. Check with
    /// [`contains`](Self::contains), or use [`get_id`](Self::get_id).
    #[must_use]
    pub fn weight(&self, node: NodeId) -> u64 {
        self.graph.weight(node.index())
    }

    /// The nodes `node` depends on, in index order. The reverse adjacency behind this is built on
    /// the first call to this method or to [`ancestors`](Self::ancestors) (validation, ordering
    /// and execution only need the forward one).
    ///
    /// # Panics
    /// If `node` is not in this graph (its index is not below [`node_count`](Self::node_count)),
    /// as with a [`NodeId`] from another, larger graph. A [`NodeId`] from another graph that is in
    /// range is not detected: it names this graph's node of that index. Check with
    /// [`contains`](Self::contains), or use [`get_id`](Self::get_id).
    ///
    /// ```
    /// use baton_dag::{DagBuilder, NodeId};
    ///
    /// let dag = DagBuilder::new().node("c", ["b", "a"]).node("a", []).node("b", []).build()?;
    /// let c = dag.node_id("c").unwrap();
    /// assert_eq!(dag.dependencies(c), [NodeId::new(1), NodeId::new(2)]);
    /// assert_eq!(dag.dependents(NodeId::new(1)), [c]);
    /// # Ok::<(), baton_dag::ValidationErrors<&str>>(())
    /// ```
    #[must_use]
    pub fn dependencies(&self, node: NodeId) -> &[NodeId] {
        self.graph.dependencies().neighbours(node.index())
    }

    /// The nodes that depend on `node`, in the order their edges were given.
    ///
    /// # Panics
    /// If `node` is not in this graph (its index is not below [`node_count`](Self::node_count)),
    /// as with a [`NodeId`] from another, larger graph. A [`NodeId`] from another graph that is in
    /// range is not detected: it names this graph's node of that index. Check with
    /// [`contains`](Self::contains), or use [`get_id`](Self::get_id).
    #[must_use]
    pub fn dependents(&self, node: NodeId) -> &[NodeId] {
        self.graph.dependents.neighbours(node.index())
    }

    /// The nodes without dependencies, in index order (generation 0).
    #[must_use]
    pub fn roots(&self) -> &[NodeId] {
        self.graph.roots()
    }

    /// Every node, dependencies before dependents: by generation, then by index (see the type's
    /// documentation).
    #[must_use]
    pub fn topological_order(&self) -> &[NodeId] {
        &self.graph.order
    }

    /// The generations, first to last: generation `k` holds the nodes whose longest path from a
    /// root has `k` edges. Every dependency of a node is in an earlier generation, so the nodes
    /// of one generation can run in parallel once the earlier ones are done. Each generation is
    /// in index order, and together they are the [`topological_order`](Self::topological_order).
    ///
    /// ```
    /// use baton_dag::Dag;
    ///
    /// let dag = Dag::from_edges(4, &[(0, 1), (1, 3), (0, 3), (2, 3)])?;
    /// let stages: Vec<Vec<u32>> = dag
    ///     .generations()
    ///     .map(|g| g.iter().map(|n| n.as_u32()).collect())
    ///     .collect();
    /// assert_eq!(stages, [vec![0, 2], vec![1], vec![3]]);
    /// # Ok::<(), baton_dag::ValidationErrors<u32>>(())
    /// ```
    pub fn generations(&self) -> Generations<'_> {
        Generations {
            order: &self.graph.order,
            bounds: self.graph.generation_offsets.windows(2),
        }
    }

    /// The number of generations: the number of nodes on the longest path (0 when empty).
    #[must_use]
    pub fn generation_count(&self) -> usize {
        self.graph.generation_count()
    }

    /// Generation `k`, or `None` if there are not that many.
    #[must_use]
    pub fn generation(&self, k: usize) -> Option<&[NodeId]> {
        (k < self.generation_count()).then(|| self.graph.generation_slice(k))
    }

    /// Every node `node` depends on, directly or not, in index order (excluding `node`).
    ///
    /// # Panics
    /// If `node` is not in this graph (its index is not below [`node_count`](Self::node_count)),
    /// as with a [`NodeId`] from another, larger graph. A [`NodeId`] from another graph that is in
    /// range is not detected: it names this graph's node of that index. Check with
    /// [`contains`](Self::contains), or use [`get_id`](Self::get_id).
    ///
    /// ```
    /// use baton_dag::{Dag, NodeId};
    ///
    /// let dag = Dag::from_edges(4, &[(0, 1), (1, 2), (3, 2)])?;
    /// assert_eq!(dag.ancestors(NodeId::new(2)), [NodeId::new(0), NodeId::new(1), NodeId::new(3)]);
    /// # Ok::<(), baton_dag::ValidationErrors<u32>>(())
    /// ```
    #[must_use]
    pub fn ancestors(&self, node: NodeId) -> Vec<NodeId> {
        analysis::reachable(self.graph.dependencies(), node)
    }

    /// Every node that depends on `node`, directly or not, in index order (excluding `node`).
    ///
    /// # Panics
    /// If `node` is not in this graph (its index is not below [`node_count`](Self::node_count)),
    /// as with a [`NodeId`] from another, larger graph. A [`NodeId`] from another graph that is in
    /// range is not detected: it names this graph's node of that index. Check with
    /// [`contains`](Self::contains), or use [`get_id`](Self::get_id).
    ///
    /// ```
    /// use baton_dag::{Dag, NodeId};
    ///
    /// let dag = Dag::from_edges(4, &[(0, 1), (1, 2), (0, 3)])?;
    /// assert_eq!(dag.descendants(NodeId::new(1)), [NodeId::new(2)]);
    /// # Ok::<(), baton_dag::ValidationErrors<u32>>(())
    /// ```
    #[must_use]
    pub fn descendants(&self, node: NodeId) -> Vec<NodeId> {
        analysis::reachable(&self.graph.dependents, node)
    }

    /// The heaviest path from a root to a sink, by the sum of its nodes' weights: the chain of
    /// work that bounds how fast the whole graph can finish, however many workers run it.
    /// Ties go to the smallest index, at the start and at each step. Sums saturate at
    /// `u64::MAX`. An empty graph has an empty path of weight 0.
    ///
    /// ```
    /// use baton_dag::DagBuilder;
    ///
    /// let dag = DagBuilder::new()
    ///     .weighted_node("fetch", 2, [])
    ///     .weighted_node("compile", 30, ["fetch"])
    ///     .weighted_node("lint", 5, ["fetch"])
    ///     .weighted_node("ship", 1, ["compile", "lint"])
    ///     .build()?;
    /// let path = dag.critical_path();
    /// let names: Vec<&str> = path.nodes.iter().map(|&n| *dag.id(n)).collect();
    /// assert_eq!(names, ["fetch", "compile", "ship"]);
    /// assert_eq!(path.weight, 33);
    /// # Ok::<(), baton_dag::ValidationErrors<&str>>(())
    /// ```
    #[must_use]
    pub fn critical_path(&self) -> CriticalPath {
        analysis::critical_path(&self.graph)
    }

    /// For each node (indexed by [`NodeId::index`]), the weight of the heaviest path from it to a
    /// sink, its own weight included (the "bottom level", or upward rank, of list scheduling).
    ///
    /// This is the scheduling priority to give ready tasks: running first the task with the most
    /// work still chained behind it is the classic critical-path heuristic (HLFET, HEFT's upward
    /// rank), it is highest along the [`critical_path`](Self::critical_path) (whose first node
    /// has the maximum value), and it takes one linear pass. The other candidate, a node's weight
    /// plus that of all its descendants, needs the transitive closure (quadratic) to avoid counting
    /// shared descendants twice, and favours wide fan-outs of short tasks over a long chain that
    /// decides the finish time. Sums saturate at `u64::MAX`.
    ///
    /// ```
    /// use baton_dag::Dag;
    ///
    /// // 0 → 1 → 2, and 3 alone; weights 1 each.
    /// let dag = Dag::from_edges(4, &[(0, 1), (1, 2)])?;
    /// assert_eq!(dag.downstream_weights(), [3, 2, 1, 1]);
    /// # Ok::<(), baton_dag::ValidationErrors<u32>>(())
    /// ```
    #[must_use]
    pub fn downstream_weights(&self) -> Vec<u64> {
        analysis::downstream_weights(&self.graph)
    }
}

impl<K: Hash + Eq + Clone> Dag<K> {
    /// The node with id `id`, if any. Graphs made with [`Dag::from_edges`] build their id index
    /// on the first call.
    ///
    /// ```
    /// use baton_dag::{DagBuilder, NodeId};
    ///
    /// let dag = DagBuilder::<String>::new()
    ///     .node("a".into(), [])
    ///     .node("b".into(), ["a".into()])
    ///     .build()?;
    /// assert_eq!(dag.node_id("b"), Some(NodeId::new(1)));
    /// assert_eq!(dag.node_id("c"), None);
    /// # Ok::<(), baton_dag::ValidationErrors<String>>(())
    /// ```
    #[must_use]
    pub fn node_id<Q>(&self, id: &Q) -> Option<NodeId>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.index
            .get_or_init(|| {
                self.ids()
                    .iter()
                    .enumerate()
                    .map(|(i, id)| (id.clone(), NodeId::new(i as u32)))
                    .collect()
            })
            .get(id)
            .copied()
    }
}

/// The heaviest path through a [`Dag`], from [`Dag::critical_path`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct CriticalPath {
    /// The nodes, from a root to a sink; each depends on the one before it.
    pub nodes: Vec<NodeId>,
    /// The sum of their weights.
    pub weight: u64,
}

/// The generations of a [`Dag`], first to last, from [`Dag::generations`].
#[derive(Debug, Clone)]
pub struct Generations<'a> {
    order: &'a [NodeId],
    bounds: Windows<'a, u32>,
}

impl<'a> Generations<'a> {
    fn slice(&self, bounds: &[u32]) -> &'a [NodeId] {
        &self.order[bounds[0] as usize..bounds[1] as usize]
    }
}

impl<'a> Iterator for Generations<'a> {
    type Item = &'a [NodeId];

    fn next(&mut self) -> Option<Self::Item> {
        let bounds = self.bounds.next()?;
        Some(self.slice(bounds))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.bounds.size_hint()
    }
}

impl DoubleEndedIterator for Generations<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let bounds = self.bounds.next_back()?;
        Some(self.slice(bounds))
    }
}

impl ExactSizeIterator for Generations<'_> {}

impl FusedIterator for Generations<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(nodes: &[NodeId]) -> Vec<u32> {
        nodes.iter().map(|n| n.as_u32()).collect()
    }

    #[test]
    fn accessors() {
        let dag = Dag::from_weighted_edges(vec![5, 6, 7], &[(0, 2), (1, 2)]).expect("valid");
        assert_eq!(dag.node_count(), 3);
        assert_eq!(dag.edge_count(), 2);
        assert!(!dag.is_empty());
        assert!(dag.contains(NodeId::new(2)));
        assert!(!dag.contains(NodeId::new(3)));
        assert_eq!(dag.nodes().len(), 3);
        assert_eq!(*dag.id(NodeId::new(1)), 1);
        assert_eq!(dag.ids(), [0, 1, 2]);
        assert_eq!(dag.weight(NodeId::new(2)), 7);
        let unweighted = Dag::from_edges(2, &[]).expect("valid");
        assert_eq!(unweighted.weight(NodeId::new(1)), 1);
        assert_eq!(ids(dag.dependencies(NodeId::new(2))), [0, 1]);
        assert_eq!(ids(dag.dependents(NodeId::new(0))), [2]);
        assert_eq!(ids(dag.roots()), [0, 1]);
        assert_eq!(dag.generation_count(), 2);
        assert_eq!(dag.generation(1).map(ids), Some(vec![2]));
        assert_eq!(dag.generation(2), None);
        assert_eq!(dag.generations().next_back().map(ids), Some(vec![2]));
        assert_eq!(dag.node_id(&2), Some(NodeId::new(2)));
        assert_eq!(dag.node_id(&3), None);
        assert_eq!(
            format!("{dag:?}"),
            "Dag { nodes: 3, edges: 2, generations: 2, .. }"
        );
    }

    #[test]
    fn empty_graph() {
        let dag = Dag::from_edges(0, &[]).expect("valid");
        assert!(dag.is_empty());
        assert_eq!(dag.generations().count(), 0);
        assert!(dag.topological_order().is_empty());
        assert_eq!(dag.critical_path(), CriticalPath::default());
        assert!(dag.downstream_weights().is_empty());
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn too_many_nodes_is_an_error_not_a_panic() {
        let errors = Dag::from_edges(MAX_NODES + 1, &[]).expect_err("too many");
        assert!(matches!(errors.problems(), [Problem::TooManyNodes { .. }]));
    }

    #[test]
    fn accessors_panic_on_a_node_outside_the_graph_and_checked_lookups_do_not() {
        let small = Dag::from_edges(2, &[(0, 1)]).expect("valid");
        let big = Dag::from_edges(5, &[]).expect("valid");
        let foreign = NodeId::new(4);
        assert!(big.contains(foreign));
        assert!(!small.contains(foreign));
        assert!(small.contains(NodeId::new(1)));
        assert_eq!(small.get_id(foreign), None);
        assert_eq!(small.get_id(NodeId::new(1)), Some(&1));
        let built = crate::DagBuilder::new()
            .node("a", [])
            .build()
            .expect("valid");
        assert_eq!(built.get_id(NodeId::new(0)), Some(&"a"));
        assert_eq!(built.get_id(NodeId::new(1)), None);
        let calls: [(&str, &dyn Fn()); 6] = [
            ("id", &|| {
                let _ = small.id(foreign);
            }),
            ("weight", &|| {
                let _ = small.weight(foreign);
            }),
            ("dependencies", &|| {
                let _ = small.dependencies(foreign);
            }),
            ("dependents", &|| {
                let _ = small.dependents(foreign);
            }),
            ("ancestors", &|| {
                let _ = small.ancestors(foreign);
            }),
            ("descendants", &|| {
                let _ = small.descendants(foreign);
            }),
        ];
        for (name, call) in calls {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(call));
            assert!(
                outcome.is_err(),
                "`{name}` accepted a node outside the graph"
            );
        }
    }
}

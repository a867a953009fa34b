//! Proptest strategies for random graphs: DAGs (edges follow a random permutation, so node indices
//! say nothing about the order) and graphs with planted cycles.

use proptest::prelude::*;

/// A graph as node count, edge list `(dependency, dependent)` and weights.
#[derive(Debug, Clone)]
pub(crate) struct Graph {
    pub(crate) n: usize,
    pub(crate) edges: Vec<(u32, u32)>,
    pub(crate) weights: Vec<u64>,
}

impl Graph {
    /// The dependencies of each node (with repeats, as given).
    pub(crate) fn dependencies(&self) -> Vec<Vec<usize>> {
        let mut deps = vec![Vec::new(); self.n];
        for &(u, v) in &self.edges {
            deps[v as usize].push(u as usize);
        }
        deps
    }

    /// The dependents of each node (with repeats, as given).
    pub(crate) fn dependents(&self) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new(); self.n];
        for &(u, v) in &self.edges {
            out[u as usize].push(v as usize);
        }
        out
    }

    /// Whether `(u, v)` is an edge.
    pub(crate) fn has_edge(&self, u: usize, v: usize) -> bool {
        self.edges
            .iter()
            .any(|&(a, b)| (a as usize, b as usize) == (u, v))
    }
}

/// A random DAG of up to `max_nodes` nodes: random pairs of positions in a random permutation,
/// each edge going from the earlier to the later (repeats possible), with weights in `0..20`.
pub(crate) fn dag(max_nodes: usize) -> impl Strategy<Value = Graph> {
    (0..=max_nodes).prop_flat_map(|n| {
        let rank = Just((0..n as u32).collect::<Vec<_>>()).prop_shuffle();
        let pairs = if n < 2 {
            Just(Vec::new()).boxed()
        } else {
            prop::collection::vec((0..n, 0..n), 0..=3 * n).boxed()
        };
        let weights = prop::collection::vec(0..20u64, n);
        (Just(n), rank, pairs, weights).prop_map(|(n, rank, pairs, weights)| Graph {
            n,
            edges: pairs
                .into_iter()
                .filter(|(a, b)| a != b)
                .map(|(a, b)| (rank[a.min(b)], rank[a.max(b)]))
                .collect(),
            weights,
        })
    })
}

/// A random DAG with cycles planted in it: each planted ring links 2 to 5 distinct nodes in a
/// random order. No self-loops.
pub(crate) fn with_cycles(max_nodes: usize) -> impl Strategy<Value = Graph> {
    dag(max_nodes)
        .prop_filter("at least two nodes for a cycle", |g| g.n >= 2)
        .prop_flat_map(|g| {
            let n = g.n;
            let ring = Just((0..n as u32).collect::<Vec<_>>())
                .prop_shuffle()
                .prop_flat_map(move |order| (Just(order), 2..=n.min(5)))
                .prop_map(|(order, len)| order[..len].to_vec());
            (Just(g), prop::collection::vec(ring, 1..=3))
        })
        .prop_map(|(mut g, rings)| {
            for ring in rings {
                for (i, &u) in ring.iter().enumerate() {
                    g.edges.push((u, ring[(i + 1) % ring.len()]));
                }
            }
            g
        })
}

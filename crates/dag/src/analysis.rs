//! Path queries over the core graph: reachability, downstream weights, critical path.

use crate::csr::Csr;
use crate::graph::Graph;
use crate::{CriticalPath, NodeId};

/// The nodes reachable from `start` along `edges` (excluding `start`), in index order.
pub(crate) fn reachable(edges: &Csr, start: NodeId) -> Vec<NodeId> {
    let n = edges.node_count();
    assert!(
        start.index() < n,
        "node {start} is not in this graph of {n} nodes"
    );
    // A bitset keeps the per-query allocation at n / 8 bytes.
    let mut seen = vec![0u64; n.div_ceil(64)];
    let mark = |seen: &mut [u64], v: usize| -> bool {
        let (word, bit) = (v / 64, 1u64 << (v % 64));
        let fresh = seen[word] & bit == 0;
        seen[word] |= bit;
        fresh
    };
    mark(&mut seen, start.index());
    let mut found: Vec<NodeId> = Vec::new();
    let mut head = 0;
    let mut current = start;
    loop {
        for &next in edges.neighbours(current.index()) {
            if mark(&mut seen, next.index()) {
                found.push(next);
            }
        }
        match found.get(head) {
            Some(&next) => {
                current = next;
                head += 1;
            }
            None => break,
        }
    }
    found.sort_unstable();
    found
}

/// For each node, the heaviest path from it to a sink, its own weight included.
pub(crate) fn downstream_weights(graph: &Graph) -> Vec<u64> {
    let mut below = vec![0u64; graph.node_count()];
    for &node in graph.order.iter().rev() {
        let heaviest_next = graph
            .dependents
            .neighbours(node.index())
            .iter()
            .map(|next| below[next.index()])
            .max()
            .unwrap_or(0);
        below[node.index()] = graph.weight(node.index()).saturating_add(heaviest_next);
    }
    below
}

/// The heaviest root-to-sink path; ties go to the smallest index.
pub(crate) fn critical_path(graph: &Graph) -> CriticalPath {
    let below = downstream_weights(graph);
    // The first node with the largest value, among the roots.
    let heaviest = |candidates: &[NodeId]| -> Option<NodeId> {
        candidates
            .iter()
            .copied()
            .fold(None, |best: Option<NodeId>, node| match best {
                Some(b)
                    if below[b.index()] > below[node.index()]
                        || (below[b.index()] == below[node.index()] && b < node) =>
                {
                    Some(b)
                }
                _ => Some(node),
            })
    };
    let Some(mut node) = heaviest(graph.roots()) else {
        return CriticalPath::default();
    };
    let weight = below[node.index()];
    let mut nodes = vec![node];
    while let Some(next) = heaviest(graph.dependents.neighbours(node.index())) {
        nodes.push(next);
        node = next;
    }
    CriticalPath { nodes, weight }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(weights: Vec<u64>, edges: &[(u32, u32)]) -> Graph {
        Graph::build(weights.len(), Some(weights), edges).expect("acyclic")
    }

    fn ids(nodes: &[NodeId]) -> Vec<u32> {
        nodes.iter().map(|n| n.as_u32()).collect()
    }

    #[test]
    fn reachable_both_ways() {
        // 0 → 1 → 3, 0 → 2 → 3, 4 → 2
        let g = graph(vec![1; 5], &[(0, 1), (1, 3), (0, 2), (2, 3), (4, 2)]);
        assert_eq!(ids(&reachable(&g.dependents, NodeId::new(0))), [1, 2, 3]);
        assert_eq!(
            ids(&reachable(g.dependencies(), NodeId::new(3))),
            [0, 1, 2, 4]
        );
        assert!(reachable(&g.dependents, NodeId::new(3)).is_empty());
    }

    #[test]
    #[should_panic(expected = "node #9 is not in this graph of 2 nodes")]
    fn reachable_from_a_foreign_node_panics() {
        let g = graph(vec![1; 2], &[(0, 1)]);
        let _ = reachable(&g.dependents, NodeId::new(9));
    }

    #[test]
    fn critical_path_follows_the_heaviest_branch_and_breaks_ties_by_index() {
        // 0 → 1 → 3 and 0 → 2 → 3 with equal weights: take 1.
        let g = graph(vec![1, 4, 4, 1], &[(0, 1), (0, 2), (1, 3), (2, 3)]);
        let path = critical_path(&g);
        assert_eq!(ids(&path.nodes), [0, 1, 3]);
        assert_eq!(path.weight, 6);
        assert_eq!(downstream_weights(&g), [6, 5, 5, 1]);
    }

    #[test]
    fn weights_saturate() {
        let g = graph(vec![u64::MAX, 2], &[(0, 1)]);
        assert_eq!(critical_path(&g).weight, u64::MAX);
    }

    #[test]
    fn zero_weights_still_reach_a_sink() {
        let g = graph(vec![0, 0, 0], &[(0, 1), (1, 2)]);
        let path = critical_path(&g);
        assert_eq!(ids(&path.nodes), [0, 1, 2]);
        assert_eq!(path.weight, 0);
    }
}

//! Topological order, generations, ancestors and descendants, critical path and downstream
//! weights on random DAGs, checked against the naive algorithms of `reference`.

use baton_dag::{Dag, NodeId};
use proptest::prelude::*;

use crate::graphs::{self, Graph};
use crate::reference;

fn build(g: &Graph) -> Dag<u32> {
    Dag::from_weighted_edges(g.weights.clone(), &g.edges).expect("a random DAG is valid")
}

fn indices(nodes: &[NodeId]) -> Vec<usize> {
    nodes.iter().map(|n| n.index()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Every edge goes forwards in the order, which is a permutation of the nodes, sorted by
    /// (longest path from a root, index), and the same for the same graph given its edges in any
    /// order.
    #[test]
    fn topological_order_respects_every_edge_and_is_deterministic(
        g in graphs::dag(40),
        seed in any::<u64>(),
    ) {
        let dag = build(&g);
        let order = indices(dag.topological_order());
        let mut position = vec![usize::MAX; g.n];
        for (i, &v) in order.iter().enumerate() {
            prop_assert_eq!(position[v], usize::MAX, "node {} twice in the order", v);
            position[v] = i;
        }
        prop_assert_eq!(order.len(), g.n);
        for &(u, v) in &g.edges {
            prop_assert!(position[u as usize] < position[v as usize], "edge {} -> {} backwards", u, v);
        }
        let level = reference::longest_path_edges(&g);
        let mut expected: Vec<usize> = (0..g.n).collect();
        expected.sort_by_key(|&v| (level[v], v));
        prop_assert_eq!(&order, &expected);
        // Shuffle the edges (a simple deterministic shuffle from the seed): same order.
        let mut shuffled = g.edges.clone();
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let again = Dag::from_edges(g.n, &shuffled).expect("same graph");
        prop_assert_eq!(indices(again.topological_order()), order);
    }

    /// Generations partition the nodes, in index order within each; generation k holds exactly
    /// the nodes whose longest path from a root has k edges, so every edge goes to a strictly
    /// later generation.
    #[test]
    fn generations_partition_the_nodes_by_longest_path(g in graphs::dag(40)) {
        let dag = build(&g);
        let level = reference::longest_path_edges(&g);
        let mut seen = vec![false; g.n];
        let mut generation_of = vec![usize::MAX; g.n];
        prop_assert_eq!(dag.generations().len(), dag.generation_count());
        for (k, generation) in dag.generations().enumerate() {
            prop_assert!(!generation.is_empty());
            prop_assert!(generation.windows(2).all(|w| w[0] < w[1]), "generation {} not sorted", k);
            prop_assert_eq!(dag.generation(k), Some(generation));
            for &node in generation {
                prop_assert!(!seen[node.index()]);
                seen[node.index()] = true;
                generation_of[node.index()] = k;
                prop_assert_eq!(level[node.index()], k);
            }
        }
        prop_assert!(seen.iter().all(|&s| s));
        for &(u, v) in &g.edges {
            prop_assert!(generation_of[u as usize] < generation_of[v as usize]);
        }
        let roots: Vec<usize> = (0..g.n).filter(|&v| level[v] == 0).collect();
        prop_assert_eq!(indices(dag.roots()), roots);
        let flattened: Vec<NodeId> = dag.generations().flatten().copied().collect();
        prop_assert_eq!(flattened.as_slice(), dag.topological_order());
    }

    /// Ancestors and descendants of every node match a breadth-first search, in index order.
    #[test]
    fn ancestors_and_descendants_match_a_naive_search(g in graphs::dag(30)) {
        let dag = build(&g);
        let reach = reference::reachability(&g);
        for (v, reach_from_v) in reach.iter().enumerate() {
            let node = NodeId::new(v as u32);
            let descendants: Vec<usize> = (0..g.n).filter(|&w| reach_from_v[w]).collect();
            let ancestors: Vec<usize> = (0..g.n).filter(|&u| reach[u][v]).collect();
            prop_assert_eq!(indices(&dag.descendants(node)), descendants);
            prop_assert_eq!(indices(&dag.ancestors(node)), ancestors);
            let mut deps = g.dependencies()[v].clone();
            deps.sort_unstable();
            prop_assert_eq!(indices(dag.dependencies(node)), deps);
            let mut dependents = indices(dag.dependents(node));
            dependents.sort_unstable();
            let mut expected = g.dependents()[v].clone();
            expected.sort_unstable();
            prop_assert_eq!(dependents, expected);
        }
    }

    /// The critical path is a real root-to-sink path whose weight is the heaviest any path has,
    /// and downstream weights are the heaviest path from each node.
    #[test]
    fn critical_path_is_a_real_path_of_maximum_weight(g in graphs::dag(30)) {
        let dag = build(&g);
        let heaviest = reference::heaviest_from(&g);
        prop_assert_eq!(dag.downstream_weights(), heaviest.clone());
        let path = dag.critical_path();
        let max = heaviest.iter().copied().max().unwrap_or(0);
        prop_assert_eq!(path.weight, max);
        if g.n == 0 {
            prop_assert!(path.nodes.is_empty());
        } else {
            let nodes = indices(&path.nodes);
            prop_assert!(g.dependencies()[nodes[0]].is_empty(), "starts at a root");
            prop_assert!(g.dependents()[*nodes.last().unwrap()].is_empty(), "ends at a sink");
            for pair in nodes.windows(2) {
                prop_assert!(g.has_edge(pair[0], pair[1]), "{} -> {} is not an edge", pair[0], pair[1]);
            }
            let sum: u64 = nodes.iter().map(|&v| g.weights[v]).sum();
            prop_assert_eq!(sum, path.weight);
        }
    }
}

#[test]
fn from_edges_and_builder_agree() {
    let ids = ["a", "b", "c", "d", "e"];
    let edges = [(0u32, 2u32), (1, 2), (2, 3), (0, 4)];
    let mut builder = baton_dag::DagBuilder::new();
    for (v, id) in ids.iter().enumerate() {
        let deps = edges
            .iter()
            .filter(|e| e.1 as usize == v)
            .map(|e| ids[e.0 as usize]);
        builder.add(*id, deps, 1);
    }
    let by_id = builder.build().expect("valid");
    let by_index = Dag::from_edges(ids.len(), &edges).expect("valid");
    assert_eq!(by_id.topological_order(), by_index.topological_order());
    assert_eq!(by_id.critical_path(), by_index.critical_path());
}

#[test]
fn a_large_graph_uses_the_blocked_paths() {
    // Enough nodes for several CSR blocks and for generations swept through the bitset: a
    // layered graph where node v depends on v - 3000 and v - 4500 (when they exist).
    let n = 20_000u32;
    let edges: Vec<(u32, u32)> = (0..n)
        .flat_map(|v| {
            [v.checked_sub(3000), v.checked_sub(4500)]
                .into_iter()
                .flatten()
                .map(move |u| (u, v))
        })
        .collect();
    let dag = Dag::from_edges(n as usize, &edges).expect("acyclic");
    assert_eq!(dag.generation_count(), 7);
    for (k, generation) in dag.generations().enumerate() {
        let start = 3000 * k as u32;
        let end = (start + 3000).min(n);
        assert_eq!(generation.len(), (end - start) as usize, "generation {k}");
        assert!(generation.iter().map(|v| v.as_u32()).eq(start..end));
    }
    let path = dag.critical_path();
    assert_eq!(path.weight, 7);
    assert_eq!(dag.descendants(NodeId::new(n - 1)), []);
    let ancestors: Vec<u32> = dag
        .ancestors(NodeId::new(9000))
        .iter()
        .map(|v| v.as_u32())
        .collect();
    assert_eq!(ancestors, [0, 1500, 3000, 4500, 6000]);
}

//! Naive reference algorithms, written for obviousness rather than speed, to check the crate's
//! results on small graphs.

use crate::graphs::Graph;

/// `reach[u][v]`: there is a path of one or more edges from `u` to `v` (breadth-first search from
/// every node).
pub(crate) fn reachability(g: &Graph) -> Vec<Vec<bool>> {
    let out = g.dependents();
    (0..g.n)
        .map(|start| {
            let mut seen = vec![false; g.n];
            let mut queue: Vec<usize> = out[start].clone();
            while let Some(v) = queue.pop() {
                if !seen[v] {
                    seen[v] = true;
                    queue.extend(&out[v]);
                }
            }
            seen
        })
        .collect()
}

/// The number of edges on the longest path from a root to each node, by relaxing every edge until
/// nothing changes (the graph must be acyclic).
pub(crate) fn longest_path_edges(g: &Graph) -> Vec<usize> {
    let mut level = vec![0usize; g.n];
    loop {
        let mut changed = false;
        for &(u, v) in &g.edges {
            if level[v as usize] < level[u as usize] + 1 {
                level[v as usize] = level[u as usize] + 1;
                changed = true;
            }
        }
        if !changed {
            return level;
        }
    }
}

/// For each node, the heaviest path starting at it (its own weight included), by relaxation.
pub(crate) fn heaviest_from(g: &Graph) -> Vec<u64> {
    let mut best = g.weights.clone();
    loop {
        let mut changed = false;
        for &(u, v) in &g.edges {
            let through = g.weights[u as usize] + best[v as usize];
            if best[u as usize] < through {
                best[u as usize] = through;
                changed = true;
            }
        }
        if !changed {
            return best;
        }
    }
}

/// The strongly connected components with two or more nodes: `u` and `v` share one when each
/// reaches the other.
pub(crate) fn cyclic_components(g: &Graph) -> Vec<Vec<usize>> {
    let reach = reachability(g);
    let mut assigned = vec![false; g.n];
    let mut components = Vec::new();
    for u in 0..g.n {
        if assigned[u] || !reach[u][u] {
            continue;
        }
        let component: Vec<usize> = (0..g.n)
            .filter(|&v| v == u || (reach[u][v] && reach[v][u]))
            .collect();
        for &v in &component {
            assigned[v] = true;
        }
        if component.len() > 1 {
            components.push(component);
        }
    }
    components
}

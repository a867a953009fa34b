//! Cycle reporting: Tarjan's strongly connected components over the nodes Kahn's algorithm could
//! not free, then one concrete cycle per component that has one.

use crate::csr::Csr;

const UNVISITED: u32 = u32::MAX;

/// One elementary cycle for every strongly connected component with more than one node among the
/// `stuck` nodes (those Kahn's algorithm could not free: on or behind a cycle; self-loops were
/// removed before). Each cycle lists its members in dependency order (each depends on the next,
/// the last on the first), starting at the component's smallest node, and is the shortest such
/// cycle through it. Cycles are ordered by that smallest node.
pub(crate) fn find(forward: &Csr, backward: &Csr, stuck: &[bool]) -> Vec<Vec<u32>> {
    let mut components = strongly_connected(forward, stuck);
    for component in &mut components {
        component.sort_unstable();
    }
    components.sort_unstable_by_key(|c| c[0]);
    let n = forward.node_count();
    // Component of each node (u32::MAX: none), a BFS parent per node and a visit stamp per node.
    let mut member_of = vec![UNVISITED; n];
    for (c, component) in components.iter().enumerate() {
        for &v in component {
            member_of[v as usize] = c as u32;
        }
    }
    let mut parent = vec![UNVISITED; n];
    let mut seen = vec![UNVISITED; n];
    components
        .iter()
        .enumerate()
        .map(|(c, component)| {
            shortest_cycle(
                backward,
                component[0],
                c as u32,
                &member_of,
                &mut parent,
                &mut seen,
            )
        })
        .collect()
}

/// Breadth-first search from `start` along dependencies, inside component `c`, until a node that
/// depends on `start` closes the cycle.
fn shortest_cycle(
    backward: &Csr,
    start: u32,
    c: u32,
    member_of: &[u32],
    parent: &mut [u32],
    seen: &mut [u32],
) -> Vec<u32> {
    let mut queue = vec![start];
    seen[start as usize] = c;
    let mut head = 0;
    while head < queue.len() {
        let node = queue[head];
        head += 1;
        for dependency in backward.neighbours(node as usize) {
            let d = dependency.as_u32();
            if d == start {
                // `node` depends on `start`: walk the parents back to `start`.
                let mut cycle = vec![node];
                let mut at = node;
                while at != start {
                    at = parent[at as usize];
                    cycle.push(at);
                }
                cycle.reverse();
                return cycle;
            }
            if member_of[d as usize] == c && seen[d as usize] != c {
                seen[d as usize] = c;
                parent[d as usize] = node;
                queue.push(d);
            }
        }
    }
    unreachable!("a strongly connected component of two or more nodes has a cycle through each")
}

/// Tarjan's algorithm, iterative, over the `stuck` nodes (a set closed under successors: a node
/// that was never freed never freed its dependents). Returns the components with at least two
/// nodes.
fn strongly_connected(forward: &Csr, stuck: &[bool]) -> Vec<Vec<u32>> {
    let n = forward.node_count();
    let mut t = Tarjan {
        index: vec![UNVISITED; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        calls: Vec::new(),
        next_index: 0,
    };
    let mut components = Vec::new();
    for root in 0..n as u32 {
        if !stuck[root as usize] || t.index[root as usize] != UNVISITED {
            continue;
        }
        t.visit(root);
        while let Some(&mut (node, ref mut position)) = t.calls.last_mut() {
            let (node_i, successors) = (node as usize, forward.neighbours(node as usize));
            if let Some(next) = successors.get(*position as usize) {
                *position += 1;
                let next = next.as_u32();
                if t.index[next as usize] == UNVISITED {
                    t.visit(next);
                } else if t.on_stack[next as usize] {
                    t.low[node_i] = t.low[node_i].min(t.index[next as usize]);
                }
                continue;
            }
            t.calls.pop();
            if let Some(&(caller, _)) = t.calls.last() {
                t.low[caller as usize] = t.low[caller as usize].min(t.low[node_i]);
            }
            if t.low[node_i] == t.index[node_i] {
                let mut component = Vec::new();
                loop {
                    let member = t.stack.pop().expect("the component's root is on the stack");
                    t.on_stack[member as usize] = false;
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    components.push(component);
                }
            }
        }
    }
    components
}

/// The state of Tarjan's depth-first search.
struct Tarjan {
    index: Vec<u32>,
    low: Vec<u32>,
    on_stack: Vec<bool>,
    stack: Vec<u32>,
    /// The depth-first call stack: (node, position in its adjacency list).
    calls: Vec<(u32, u32)>,
    next_index: u32,
}

impl Tarjan {
    fn visit(&mut self, v: u32) {
        self.index[v as usize] = self.next_index;
        self.low[v as usize] = self.next_index;
        self.next_index += 1;
        self.stack.push(v);
        self.on_stack[v as usize] = true;
        self.calls.push((v, 0));
    }
}

#[cfg(test)]
mod tests {
    use crate::csr;

    fn cycles(n: u32, edges: &[(u32, u32)]) -> Vec<Vec<u32>> {
        let (forward, in_degree) = crate::test_support::forward(n, edges);
        let backward = csr::transpose(&forward, &in_degree);
        // Treat every node as unfreed: the search must still only report real components.
        super::find(&forward, &backward, &vec![true; n as usize])
    }

    #[test]
    fn two_cycles_one_per_component() {
        // 0 → 1 → 2 → 0 and 3 ⇄ 4, plus 2 → 3 joining them one way.
        let found = cycles(5, &[(0, 1), (1, 2), (2, 0), (3, 4), (4, 3), (2, 3)]);
        // Dependency order: 0 depends on 2 (edge 2 → 0), 2 on 1, 1 on 0.
        assert_eq!(found, [vec![0, 2, 1], vec![3, 4]]);
    }

    #[test]
    fn shortest_cycle_through_the_smallest_member() {
        // One component: 0 → 1 → 2 → 3 → 0 and the chord 2 → 0.
        let found = cycles(4, &[(0, 1), (1, 2), (2, 3), (3, 0), (2, 0)]);
        // Shortest cycle through 0: 0 depends on 2, 2 on 1, 1 on 0.
        assert_eq!(found, [vec![0, 2, 1]]);
    }

    #[test]
    fn acyclic_nodes_give_no_cycle() {
        assert!(cycles(3, &[(0, 1), (1, 2)]).is_empty());
    }
}

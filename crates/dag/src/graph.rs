//! `Graph`: the validated, index-only core shared by [`Dag`](crate::Dag) and
//! [`ReadyTracker`](crate::ReadyTracker).

use std::sync::OnceLock;

use crate::NodeId;
use crate::csr::{self, Csr};
use crate::cycles;
use crate::kahn::{Layers, SWEEP_RATIO, kahn_with, layered_kahn};

/// Default node weight when none is given.
pub(crate) const DEFAULT_WEIGHT: u64 = 1;

/// A validated acyclic graph over `0..node_count`, with its topological order and generations
/// computed once, at construction.
///
/// The forward adjacency (dependency → dependents) and the in-degrees are built eagerly: they are
/// all that validation, ordering and execution need. The reverse adjacency (node → dependencies)
/// is built from them on first use.
pub(crate) struct Graph {
    /// `None`: every node has [`DEFAULT_WEIGHT`].
    weights: Option<Vec<u64>>,
    /// Edge `u → v` stored at `u`: the nodes that depend on `u`.
    pub(crate) dependents: Csr,
    /// The number of dependencies of each node.
    pub(crate) in_degree: InDegrees,
    /// Edge `u → v` stored at `v`, in increasing `u`; built on first use.
    dependencies: OnceLock<Csr>,
    /// Nodes by generation, and by index within a generation.
    pub(crate) order: Vec<NodeId>,
    /// Generation `k` is `order[generation_offsets[k]..generation_offsets[k + 1]]`.
    pub(crate) generation_offsets: Vec<u32>,
}

/// The in-degree of every node, compactly: its low byte, plus one entry in `wraps` for each
/// multiple of 256 it reached (nodes with 256 or more dependencies are rare).
#[derive(Clone)]
pub(crate) struct InDegrees {
    low: Vec<u8>,
    /// Sorted.
    wraps: Vec<u32>,
}

impl InDegrees {
    /// The nodes with 256 or more dependencies, with their in-degree.
    fn wide(&self) -> impl Iterator<Item = (usize, u32)> + '_ {
        self.wraps.chunk_by(|a, b| a == b).map(|run| {
            let v = run[0] as usize;
            (v, u32::from(self.low[v]) + 256 * run.len() as u32)
        })
    }

    /// Appends every in-degree, by node and converted, to `out`.
    pub(crate) fn extend_into<T>(&self, out: &mut Vec<T>, convert: impl Fn(u32) -> T) {
        let start = out.len();
        out.extend(self.low.iter().map(|&b| convert(u32::from(b))));
        for (v, degree) in self.wide() {
            out[start + v] = convert(degree);
        }
    }

    /// Every in-degree, by node.
    pub(crate) fn to_vec(&self) -> Vec<u32> {
        let mut out = Vec::with_capacity(self.low.len());
        self.extend_into(&mut out, |degree| degree);
        out
    }

    /// The largest in-degree (0 for an empty graph).
    pub(crate) fn max(&self) -> u32 {
        match self.wide().map(|(_, degree)| degree).max() {
            Some(max) => max,
            None => self.low.iter().copied().max().map_or(0, u32::from),
        }
    }
}

/// An edge rejected while building.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EdgeIssue {
    OutOfRange { edge: usize, from: u32, to: u32 },
    SelfLoop { edge: usize, node: u32 },
}

/// Why a graph could not be built: bad edges (in edge order) and cycles (each in dependency order,
/// ordered by smallest member).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub(crate) edges: Vec<EdgeIssue>,
    pub(crate) cycles: Vec<Vec<u32>>,
}

#[inline]
fn valid(from: u32, to: u32, node_count: u32) -> bool {
    from < node_count && to < node_count && from != to
}

impl Graph {
    /// Builds and validates a graph of `node_count` nodes (which with `edges.len()` must fit in
    /// `u32`, checked by the callers). Edge `(u, v)` means `v` depends on `u`. `weights`, if
    /// given, has one entry per node.
    pub(crate) fn build(
        node_count: usize,
        weights: Option<Vec<u64>>,
        edges: &[(u32, u32)],
    ) -> Result<Self, Invalid> {
        debug_assert!(weights.as_ref().is_none_or(|w| w.len() == node_count));
        let n = node_count;
        let nc = node_count as u32;
        let shift = csr::block_shift(n);
        // One pass over the edges: validity, in-degrees, and edges per block of source. The
        // in-degrees are counted in one byte per node (a million nodes: 1 MB, which stays in
        // cache), noting each node whose byte wraps around.
        let mut low_bytes = vec![0u8; n];
        let mut wrapped: Vec<u32> = Vec::new();
        let mut block_sizes = vec![0u32; csr::block_count(n, shift) + 1];
        let mut all_edges_valid = true;
        for &(from, to) in edges {
            if valid(from, to, nc) {
                let count = &mut low_bytes[to as usize];
                *count = count.wrapping_add(1);
                if *count == 0 {
                    wrapped.push(to);
                }
                block_sizes[(from >> shift) as usize] += 1;
            } else {
                all_edges_valid = false;
            }
        }
        wrapped.sort_unstable();
        let in_degree = InDegrees {
            low: low_bytes,
            wraps: wrapped,
        };
        let mut scratch = Vec::new();
        let mut invalid = Invalid::default();
        let dependents = if all_edges_valid {
            csr::group_by_source(n, shift, block_sizes, &mut scratch, edges.iter().copied())
        } else {
            invalid.edges = edge_issues(nc, edges);
            let valid_edges = edges.iter().copied().filter(|&(u, v)| valid(u, v, nc));
            csr::group_by_source(n, shift, block_sizes, &mut scratch, valid_edges)
        };
        drop(scratch);
        let layers = if in_degree.wraps.is_empty() {
            // Every count fits in a byte: they are the dependency counts Kahn's algorithm needs.
            kahn_with(&dependents, in_degree.low.clone(), SWEEP_RATIO)
        } else {
            layered_kahn(&dependents, &in_degree.to_vec(), SWEEP_RATIO)
        };
        match layers {
            Ok(Layers {
                order,
                generation_offsets,
            }) if invalid.edges.is_empty() => Ok(Self {
                weights,
                dependents,
                in_degree,
                dependencies: OnceLock::new(),
                order,
                generation_offsets,
            }),
            Ok(_) => Err(invalid),
            Err(stuck) => {
                let dependencies = csr::transpose(&dependents, &in_degree.to_vec());
                invalid.cycles = cycles::find(&dependents, &dependencies, &stuck);
                Err(invalid)
            }
        }
    }

    #[inline]
    pub(crate) fn node_count(&self) -> usize {
        self.in_degree.low.len()
    }

    #[inline]
    pub(crate) fn edge_count(&self) -> usize {
        self.dependents.edge_count()
    }

    #[inline]
    pub(crate) fn weight(&self, node: usize) -> u64 {
        match &self.weights {
            Some(weights) => weights[node],
            None => {
                assert!(
                    node < self.node_count(),
                    "node #{node} is not in this graph"
                );
                DEFAULT_WEIGHT
            }
        }
    }

    /// The reverse adjacency, built on first use.
    pub(crate) fn dependencies(&self) -> &Csr {
        self.dependencies
            .get_or_init(|| csr::transpose(&self.dependents, &self.in_degree.to_vec()))
    }

    #[inline]
    pub(crate) fn generation_count(&self) -> usize {
        self.generation_offsets.len() - 1
    }

    /// Generation `k` as a slice of the topological order.
    #[inline]
    pub(crate) fn generation_slice(&self, k: usize) -> &[NodeId] {
        let start = self.generation_offsets[k] as usize;
        let end = self.generation_offsets[k + 1] as usize;
        &self.order[start..end]
    }

    /// The nodes without dependencies (generation 0), in index order.
    pub(crate) fn roots(&self) -> &[NodeId] {
        if self.generation_count() == 0 {
            &[]
        } else {
            self.generation_slice(0)
        }
    }
}

/// Lists the rejected edges, in edge order (only called when there is at least one).
fn edge_issues(node_count: u32, edges: &[(u32, u32)]) -> Vec<EdgeIssue> {
    edges
        .iter()
        .enumerate()
        .filter_map(|(edge, &(from, to))| {
            if from >= node_count || to >= node_count {
                Some(EdgeIssue::OutOfRange { edge, from, to })
            } else if from == to {
                Some(EdgeIssue::SelfLoop { edge, node: from })
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(n: usize, edges: &[(u32, u32)]) -> Result<Graph, Invalid> {
        Graph::build(n, None, edges)
    }

    fn ids(nodes: &[NodeId]) -> Vec<u32> {
        nodes.iter().map(|n| n.as_u32()).collect()
    }

    #[test]
    fn order_is_by_generation_then_index() {
        // 3 → 0 → 2, 1 alone, 3 → 4
        let g = build(5, &[(0, 2), (3, 0), (3, 4)]).expect("acyclic");
        assert_eq!(ids(&g.order), [1, 3, 0, 4, 2]);
        assert_eq!(g.generation_offsets, [0, 2, 4, 5]);
        assert_eq!(g.generation_count(), 3);
        assert_eq!(ids(g.generation_slice(1)), [0, 4]);
        assert_eq!(ids(g.roots()), [1, 3]);
        assert_eq!(g.in_degree.to_vec(), [1, 0, 1, 0, 1]);
        assert_eq!(ids(g.dependencies().neighbours(2)), [0]);
        assert_eq!(g.weight(4), DEFAULT_WEIGHT);
    }

    #[test]
    fn generation_is_longest_path_from_a_root() {
        // 0 → 1 → 2 and 0 → 2: 2 is in generation 2, not 1.
        let g = build(3, &[(0, 2), (0, 1), (1, 2)]).expect("acyclic");
        assert_eq!(g.generation_offsets, [0, 1, 2, 3]);
    }

    #[test]
    fn empty_graph_has_no_generations() {
        let g = build(0, &[]).expect("empty is valid");
        assert_eq!(g.generation_count(), 0);
        assert!(g.roots().is_empty());
        assert_eq!(g.node_count(), 0);
        assert_eq!(g.edge_count(), 0);
    }

    #[test]
    #[should_panic(expected = "node #3 is not in this graph")]
    fn default_weight_of_a_foreign_node_panics() {
        let g = build(3, &[]).expect("valid");
        let _ = g.weight(3);
    }

    /// In-degrees beyond `u8` and `u16` switch the counter width without changing the result.
    #[test]
    fn wide_in_degrees() {
        for fan_in in [255u32, 256, 65_535, 65_536] {
            // `fan_in` roots all feeding node `fan_in`, which feeds node `fan_in + 1`.
            let hub = fan_in;
            let mut edges: Vec<(u32, u32)> = (0..fan_in).map(|u| (u, hub)).collect();
            edges.push((hub, hub + 1));
            let g = build(fan_in as usize + 2, &edges).expect("acyclic");
            assert_eq!(g.generation_offsets, [0, fan_in, fan_in + 1, fan_in + 2]);
            assert_eq!(g.order[fan_in as usize].as_u32(), hub);
            assert_eq!(g.in_degree.to_vec()[hub as usize], fan_in);
        }
    }

    #[test]
    fn bad_edges_and_cycles_are_reported_together() {
        let invalid = build(4, &[(0, 1), (1, 0), (2, 2), (3, 9)])
            .err()
            .expect("invalid");
        assert_eq!(
            invalid.edges,
            [
                EdgeIssue::SelfLoop { edge: 2, node: 2 },
                EdgeIssue::OutOfRange {
                    edge: 3,
                    from: 3,
                    to: 9
                }
            ]
        );
        assert_eq!(invalid.cycles, [vec![0, 1]]);
    }
}

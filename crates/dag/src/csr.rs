//! Compressed sparse row adjacency, built with a cache-conscious counting sort.
//!
//! The edges of a large graph arrive in random order, and a plain counting sort (count degrees,
//! then scatter each edge into its slot) makes random memory accesses across arrays of many
//! megabytes: each one a cache miss, and often a TLB miss. Instead, edges are first partitioned by
//! *block* of source node (`2^shift` consecutive nodes; at most about a thousand blocks, so the
//! partition writes that many sequential streams, which the cache absorbs), then each block is
//! counted and permuted on its own, with its offsets and edges small enough to stay in cache.
//! Every pass is then sequential or cache-local. A graph of at most `2^shift` nodes is one block:
//! a plain counting sort.

use crate::NodeId;

/// Smallest block: 4096 nodes (16 KiB of offsets).
const MIN_BLOCK_SHIFT: u32 = 12;
/// At most about 1024 blocks, so the partition pass writes at most that many streams.
const MAX_BLOCKS_LOG2: u32 = 10;

/// Adjacency lists of all nodes packed in two vectors: the neighbours of node `u` are
/// `targets[offsets[u]..offsets[u + 1]]`.
#[derive(Clone, Default)]
pub(crate) struct Csr {
    offsets: Vec<u32>,
    targets: Vec<NodeId>,
}

impl Csr {
    /// The neighbours of `node`.
    #[inline]
    pub(crate) fn neighbours(&self, node: usize) -> &[NodeId] {
        let start = self.offsets[node] as usize;
        let end = self.offsets[node + 1] as usize;
        &self.targets[start..end]
    }

    /// How many neighbours `node` has.
    #[inline]
    pub(crate) fn degree(&self, node: usize) -> u32 {
        self.offsets[node + 1] - self.offsets[node]
    }

    /// The number of nodes.
    #[inline]
    pub(crate) fn node_count(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// The number of edges.
    #[inline]
    pub(crate) fn edge_count(&self) -> usize {
        self.targets.len()
    }

    /// `node_count + 1` offsets: the neighbours of `u` are `targets()[offsets()[u]..offsets()[u + 1]]`.
    #[inline]
    pub(crate) fn offsets(&self) -> &[u32] {
        &self.offsets
    }

    /// Every neighbour list, concatenated.
    #[inline]
    pub(crate) fn targets(&self) -> &[NodeId] {
        &self.targets
    }

    /// Every edge `(u, v)`, by `u` then in list order.
    fn edges(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.offsets
            .windows(2)
            .enumerate()
            .flat_map(move |(u, range)| {
                self.targets[range[0] as usize..range[1] as usize]
                    .iter()
                    .map(move |v| (u as u32, v.as_u32()))
            })
    }
}

/// The block size (as a shift) for `node_count` nodes: at least `2^MIN_BLOCK_SHIFT` nodes, and at
/// most about `2^MAX_BLOCKS_LOG2` blocks.
pub(crate) fn block_shift(node_count: usize) -> u32 {
    let bits = usize::BITS - node_count.saturating_sub(1).leading_zeros();
    MIN_BLOCK_SHIFT.max(bits.saturating_sub(MAX_BLOCKS_LOG2))
}

/// The number of blocks of `2^shift` nodes covering `node_count` nodes.
pub(crate) fn block_count(node_count: usize, shift: u32) -> usize {
    if node_count == 0 {
        0
    } else {
        ((node_count - 1) >> shift) + 1
    }
}

/// Groups edges by source into a CSR over `node_count` nodes; each list keeps the order in which
/// `edges` yields its edges.
///
/// `block_sizes` has one entry per block of `2^shift` nodes plus one, the first ones holding the
/// number of edges whose source is in that block (the last is ignored). `edges` must yield exactly
/// those edges, with both ends below `node_count`. `scratch` is working memory, reused by callers
/// (left empty when not needed).
pub(crate) fn group_by_source(
    node_count: usize,
    shift: u32,
    block_sizes: Vec<u32>,
    scratch: &mut Vec<u32>,
    edges: impl Iterator<Item = (u32, u32)>,
) -> Csr {
    let target_bits = usize::BITS - node_count.saturating_sub(1).leading_zeros();
    let pack = target_bits + shift <= u32::BITS;
    group_by_source_with(node_count, shift, block_sizes, scratch, edges, pack)
}

/// [`group_by_source`], choosing whether to pack.
///
/// The partition pass must remember each edge's source for the per-block pass. When a node index
/// and a position inside a block fit in 32 bits together (graphs of up to 2^20 nodes), the source
/// rides in the high bits of the target, written straight into the final `targets` array;
/// otherwise it goes to `scratch`.
fn group_by_source_with(
    node_count: usize,
    shift: u32,
    mut block_sizes: Vec<u32>,
    scratch: &mut Vec<u32>,
    edges: impl Iterator<Item = (u32, u32)>,
    pack: bool,
) -> Csr {
    let n = node_count;
    debug_assert_eq!(block_sizes.len(), block_count(n, shift) + 1);
    let target_bits = usize::BITS - n.saturating_sub(1).leading_zeros();
    let target_mask = if pack {
        (1u64 << target_bits) as u32 - 1
    } else {
        u32::MAX
    };
    // Block sizes to block starts, which are also the offsets of each block's first node.
    let mut total = 0u32;
    for size in &mut block_sizes {
        let s = *size;
        *size = total;
        total += s;
    }
    let block_starts = block_sizes;
    let edge_count = total as usize;
    // Partition: each edge's target goes to its block's range of `targets`, in input order, with
    // its source packed in or at the same position of `scratch`.
    let mut targets = vec![NodeId::new(0); edge_count];
    scratch.clear();
    let mut cursor = block_starts.clone();
    if pack {
        for (source, target) in edges {
            let b = (source >> shift) as usize;
            let local = source - ((b as u32) << shift);
            let slot = &mut cursor[b];
            targets[*slot as usize] =
                NodeId::new(target | local.checked_shl(target_bits).unwrap_or(0));
            *slot += 1;
        }
    } else {
        scratch.resize(edge_count, 0);
        for (source, target) in edges {
            let slot = &mut cursor[(source >> shift) as usize];
            targets[*slot as usize] = NodeId::new(target);
            scratch[*slot as usize] = source;
            *slot += 1;
        }
    }
    debug_assert_eq!(cursor[..cursor.len() - 1], block_starts[1..]);
    // Per block, in cache: count degrees, then stably permute the block's edges by source.
    let mut offsets = vec![0u32; n + 1];
    let mut block_edges: Vec<(u32, NodeId)> = Vec::new();
    let mut next_slot: Vec<u32> = Vec::new();
    for (b, bounds) in block_starts.windows(2).enumerate() {
        let (lo, hi) = (bounds[0] as usize, bounds[1] as usize);
        let base = b << shift;
        // The block's edges as (source - base, target).
        block_edges.clear();
        if pack {
            block_edges.extend(targets[lo..hi].iter().map(|raw| {
                let raw = raw.as_u32();
                let local = raw.checked_shr(target_bits).unwrap_or(0);
                (local, NodeId::new(raw & target_mask))
            }));
        } else {
            block_edges.extend(
                scratch[lo..hi]
                    .iter()
                    .zip(&targets[lo..hi])
                    .map(|(&source, &target)| (source - base as u32, target)),
            );
        }
        let block_offsets = &mut offsets[base..n.min(base + (1 << shift))];
        for &(local, _) in &block_edges {
            block_offsets[local as usize] += 1;
        }
        let mut total = lo as u32;
        for offset in block_offsets.iter_mut() {
            let degree = *offset;
            *offset = total;
            total += degree;
        }
        next_slot.clear();
        next_slot.extend_from_slice(block_offsets);
        for &(local, target) in &block_edges {
            let slot = &mut next_slot[local as usize];
            targets[*slot as usize] = target;
            *slot += 1;
        }
    }
    offsets[n] = edge_count as u32;
    Csr { offsets, targets }
}

/// The reverse of `forward`: `v`'s list holds every `u` with an edge `u → v`, in increasing `u`.
/// `in_degree[v]` is the length of that list.
pub(crate) fn transpose(forward: &Csr, in_degree: &[u32]) -> Csr {
    let n = forward.node_count();
    let shift = block_shift(n);
    let mut block_sizes = vec![0u32; block_count(n, shift) + 1];
    for (v, &degree) in in_degree.iter().enumerate() {
        block_sizes[v >> shift] += degree;
    }
    let mut scratch = Vec::new();
    group_by_source(
        n,
        shift,
        block_sizes,
        &mut scratch,
        forward.edges().map(|(u, v)| (v, u)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(nodes: &[NodeId]) -> Vec<u32> {
        nodes.iter().map(|n| n.as_u32()).collect()
    }

    fn group(n: usize, shift: u32, edges: &[(u32, u32)]) -> Csr {
        group_packed(n, shift, edges, None)
    }

    fn group_packed(n: usize, shift: u32, edges: &[(u32, u32)], pack: Option<bool>) -> Csr {
        let mut sizes = vec![0u32; block_count(n, shift) + 1];
        for &(u, _) in edges {
            sizes[(u >> shift) as usize] += 1;
        }
        let mut scratch = Vec::new();
        let edges = edges.iter().copied();
        match pack {
            None => group_by_source(n, shift, sizes, &mut scratch, edges),
            Some(pack) => group_by_source_with(n, shift, sizes, &mut scratch, edges, pack),
        }
    }

    #[test]
    fn lists_keep_input_order() {
        let csr = group(4, block_shift(4), &[(0, 2), (0, 1), (3, 1), (0, 3)]);
        assert_eq!(csr.node_count(), 4);
        assert_eq!(csr.edge_count(), 4);
        assert_eq!(ids(csr.neighbours(0)), [2, 1, 3]);
        assert_eq!(ids(csr.neighbours(1)), [] as [u32; 0]);
        assert_eq!(ids(csr.neighbours(3)), [1]);
        assert_eq!(csr.degree(0), 3);
        assert_eq!(csr.offsets(), [0, 3, 3, 3, 4]);
        assert_eq!(ids(csr.targets()), [2, 1, 3, 1]);
        assert_eq!(
            csr.edges().collect::<Vec<_>>(),
            [(0, 2), (0, 1), (0, 3), (3, 1)]
        );
    }

    #[test]
    fn transpose_sorts_sources() {
        let forward = group(4, block_shift(4), &[(3, 1), (0, 2), (0, 1), (0, 3)]);
        let backward = transpose(&forward, &[0, 2, 1, 1]);
        assert_eq!(ids(backward.neighbours(1)), [0, 3]);
        assert_eq!(ids(backward.neighbours(2)), [0]);
        assert_eq!(ids(backward.neighbours(3)), [0]);
        assert_eq!(backward.degree(0), 0);
    }

    #[test]
    fn empty_graph() {
        let csr = group(0, block_shift(0), &[]);
        assert_eq!(csr.node_count(), 0);
        assert_eq!(csr.edge_count(), 0);
        assert_eq!(transpose(&csr, &[]).node_count(), 0);
    }

    #[test]
    fn block_shift_bounds_the_block_count() {
        assert_eq!(block_shift(0), MIN_BLOCK_SHIFT);
        assert_eq!(block_shift(1_000_000), MIN_BLOCK_SHIFT);
        assert_eq!(block_shift(1 << 24), 14);
        assert!(
            block_count(u32::MAX as usize, block_shift(u32::MAX as usize)) <= 1 << MAX_BLOCKS_LOG2
        );
        assert_eq!(block_count(0, 12), 0);
        assert_eq!(block_count(4096, 12), 1);
        assert_eq!(block_count(4097, 12), 2);
    }

    /// Any block size, packed or not, gives the same CSR as one block (a plain counting sort), on
    /// pseudo-random graphs with repeated edges.
    #[test]
    fn blocks_do_not_change_the_result() {
        let mut next = crate::test_support::splitmix(0x9E37_79B9_7F4A_7C15u64);
        for (n, m) in [(1, 0), (3, 10), (17, 40), (100, 500), (1000, 3000)] {
            let edges: Vec<(u32, u32)> = (0..m).map(|_| (next(n), next(n))).collect();
            let one_block = group_packed(n as usize, 31, &edges, Some(false));
            for shift in [0, 1, 2, 3, 5, 12] {
                for pack in [false, true] {
                    let blocked = group_packed(n as usize, shift, &edges, Some(pack));
                    assert_eq!(
                        blocked.offsets, one_block.offsets,
                        "n {n} shift {shift} {pack}"
                    );
                    assert_eq!(
                        blocked.targets, one_block.targets,
                        "n {n} shift {shift} {pack}"
                    );
                }
            }
        }
    }
}

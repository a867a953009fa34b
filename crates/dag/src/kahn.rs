//! Kahn's algorithm one generation at a time: the topological order and the generations of a
//! graph, or the nodes that cannot be ordered.

use crate::NodeId;
use crate::csr::Csr;

/// The topological order, by generation then index, with the generation boundaries.
pub(crate) struct Layers {
    pub(crate) order: Vec<NodeId>,
    pub(crate) generation_offsets: Vec<u32>,
}

/// A generation whose outgoing edges number at least `node_count / SWEEP_RATIO` marks the nodes
/// it frees in a bitset over all nodes, then sweeps it; a smaller one sorts what it freed.
pub(crate) const SWEEP_RATIO: usize = 16;

/// Kahn's algorithm, one generation at a time, with the order itself as the queue. The nodes that
/// become ready while generation `k` is processed are exactly generation `k + 1` (their last
/// dependency to finish is in generation `k`), so each generation is collected whole, then put in
/// index order.
///
/// A large generation is processed in two tight loops, which let the processor overlap many cache
/// misses: gather the targets of all its edges (its nodes are in index order, so this walks the
/// CSR arrays forwards), then decrement their dependency counts, marking the nodes freed in a
/// bitset, branch-free (whether a count reaches zero is unpredictable, and a mispredicted branch
/// would discard the misses in flight). Sweeping the bitset yields the next generation in index
/// order. A small generation, for which sweeping every node would cost more, compacts the nodes
/// it freed (branch-free too) and sorts them.
///
/// The dependency counts are kept in the narrowest unsigned integer that holds the largest
/// in-degree (`u8` for most graphs: a million nodes then take 1 MB, which stays in cache).
///
/// Returns the layers or, when some nodes are never freed (they are on or behind a cycle), which
/// nodes those are.
pub(crate) fn layered_kahn(
    forward: &Csr,
    in_degree: &[u32],
    sweep_ratio: usize,
) -> Result<Layers, Vec<bool>> {
    fn narrow<C: Count>(in_degree: &[u32]) -> Vec<C> {
        in_degree.iter().map(|&d| C::narrow(d)).collect()
    }
    match in_degree.iter().copied().max().unwrap_or(0) {
        0..=0xFF => kahn_with::<u8>(forward, narrow(in_degree), sweep_ratio),
        0x100..=0xFFFF => kahn_with::<u16>(forward, narrow(in_degree), sweep_ratio),
        _ => kahn_with::<u32>(forward, narrow(in_degree), sweep_ratio),
    }
}

/// A dependency counter of [`layered_kahn`].
pub(crate) trait Count: Copy {
    /// Converts an in-degree known to fit.
    fn narrow(count: u32) -> Self;
    /// Subtracts one; returns whether the count reached zero.
    fn decrement(&mut self) -> bool;
    fn is_zero(self) -> bool;
}

macro_rules! impl_count {
    ($($t:ty),*) => {$(
        impl Count for $t {
            #[inline]
            fn narrow(count: u32) -> Self {
                count as $t
            }
            #[inline]
            fn decrement(&mut self) -> bool {
                *self -= 1;
                *self == 0
            }
            #[inline]
            fn is_zero(self) -> bool {
                self == 0
            }
        }
    )*};
}
impl_count!(u8, u16, u32);

/// [`layered_kahn`] with `pending` holding each node's in-degree.
pub(crate) fn kahn_with<C: Count>(
    forward: &Csr,
    mut pending: Vec<C>,
    sweep_ratio: usize,
) -> Result<Layers, Vec<bool>> {
    let n = pending.len();
    let mut order: Vec<NodeId> = Vec::with_capacity(n);
    order.extend(
        pending
            .iter()
            .enumerate()
            .filter(|&(_, p)| p.is_zero())
            .map(|(v, _)| NodeId::new(v as u32)),
    );
    let (offsets, targets) = (forward.offsets(), forward.targets());
    let mut gathered: Vec<NodeId> = Vec::new();
    let mut freed_bits: Vec<u64> = Vec::new();
    let mut generation_offsets = vec![0u32];
    let mut start = 0;
    while start < order.len() {
        let end = order.len();
        let edges: usize = order[start..end]
            .iter()
            .map(|u| forward.degree(u.index()) as usize)
            .sum();
        gathered.clear();
        gathered.reserve(edges);
        for node in &order[start..end] {
            let u = node.index();
            gathered.extend(
                targets[offsets[u] as usize..offsets[u + 1] as usize]
                    .iter()
                    .copied(),
            );
        }
        if edges.saturating_mul(sweep_ratio) < n {
            // Compact the freed nodes in place at the front of `gathered`, branch-free.
            let mut freed = 0;
            for i in 0..gathered.len() {
                let next = gathered[i];
                let now_free = pending[next.index()].decrement();
                gathered[freed] = next;
                freed += usize::from(now_free);
            }
            gathered[..freed].sort_unstable();
            order.extend_from_slice(&gathered[..freed]);
        } else {
            if freed_bits.is_empty() {
                freed_bits = vec![0; n.div_ceil(64)];
            }
            for next in &gathered {
                let v = next.index();
                let now_free = pending[v].decrement();
                freed_bits[v / 64] |= u64::from(now_free) << (v % 64);
            }
            for (w, word) in freed_bits.iter_mut().enumerate() {
                let mut bits = std::mem::take(word);
                while bits != 0 {
                    let bit = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    order.push(NodeId::new((w * 64 + bit) as u32));
                }
            }
        }
        generation_offsets.push(end as u32);
        start = end;
    }
    if order.len() < n {
        return Err(pending.iter().map(|p| !p.is_zero()).collect());
    }
    Ok(Layers {
        order,
        generation_offsets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sweeping a bitset gives exactly the same layers as sorting, on pseudo-random DAGs (and
    /// the same remaining counts on graphs with cycles).
    #[test]
    fn swept_generations_match_sorted() {
        let mut next = crate::test_support::splitmix(0x2545_F491_4F6C_DD1Du64);
        for (n, m, back_edges) in [(50, 200, 0), (400, 3000, 0), (2000, 6000, 0), (300, 900, 2)] {
            let mut edges: Vec<(u32, u32)> = (0..m)
                .map(|_| {
                    let (a, b) = (next(n), next(n));
                    (a.min(b), a.max(b))
                })
                .filter(|(a, b)| a != b)
                .collect();
            for _ in 0..back_edges {
                let (a, b) = (next(n), next(n));
                edges.push((a.max(b), a.min(b)));
            }
            let (forward, in_degree) = crate::test_support::forward(n, &edges);
            // Ratio 0: always sort.
            let direct = layered_kahn(&forward, &in_degree, 0);
            if back_edges == 0 {
                assert!(direct.is_ok());
            }
            for ratio in [1, 4, usize::MAX] {
                let swept = layered_kahn(&forward, &in_degree, ratio);
                match (&swept, &direct) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!(a.order, b.order, "n {n} ratio {ratio}");
                        assert_eq!(a.generation_offsets, b.generation_offsets);
                    }
                    (Err(a), Err(b)) => assert_eq!(a, b),
                    _ => panic!("swept and sorted disagree on acyclicity (n {n})"),
                }
            }
        }
    }
}

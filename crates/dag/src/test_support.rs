//! Helpers shared by the unit tests of the index-level modules.

use crate::csr::{self, Csr};

/// A seeded SplitMix64 stream of numbers below `bound`: reproducible pseudo-random graphs without
/// a dependency.
pub(crate) fn splitmix(seed: u64) -> impl FnMut(u32) -> u32 {
    let mut state = seed;
    move |bound: u32| {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % u64::from(bound)) as u32
    }
}

/// The forward CSR of `edges` over `n` nodes, as one block, with each node's in-degree.
pub(crate) fn forward(n: u32, edges: &[(u32, u32)]) -> (Csr, Vec<u32>) {
    let mut in_degree = vec![0; n as usize];
    for &(_, v) in edges {
        in_degree[v as usize] += 1;
    }
    let sizes = vec![edges.len() as u32, 0];
    let csr = csr::group_by_source(
        n as usize,
        31,
        sizes,
        &mut Vec::new(),
        edges.iter().copied(),
    );
    (csr, in_degree)
}

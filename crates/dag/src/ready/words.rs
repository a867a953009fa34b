//! The per-node state words of a [`ReadyTracker`](super::ReadyTracker), in the narrowest unsigned
//! integer that holds the graph's largest in-degree.
//!
//! One word per node holds both its state and, while it waits, its count of dependencies not yet
//! completed, so that completing a node touches one word per dependent. With `HALF` the top bit
//! of the width:
//! - `1..HALF`: waiting, on that many dependencies;
//! - `READY` (0) once they all completed;
//! - `HALF + k`: skipped, `k` being the dependencies it still waited on when skipped. Completing
//!   one of those decrements `k`, which never goes below zero, so completion need not check
//!   whether a dependent was skipped: only a waiting count can reach `READY`;
//! - `FAILED`, `DONE`, `RUNNING`: the top three values. A dependent of a node being completed or
//!   failed is never in these states (that node had not completed).
//! - `CANCELLED` (`HALF - 1`, above every waiting count): ended by
//!   [`cancel_pending`](super::ReadyTracker::cancel_pending), from waiting or ready. A cancelled
//!   word has no count: after a cancellation no node waits or is ready, so there is nothing left
//!   to make ready, and the tracker stops decrementing dependents' words when a still-running
//!   node completes (its dependents are all skipped or cancelled by then). The hot loop thus
//!   stays as it is; only `complete`'s choice of the dependents to visit looks at the flag.
//!
//! A width can count up to `HALF - 4` dependencies (so that `HALF + k` stays below `FAILED`):
//! 124 for `u8`, which covers most graphs and keeps a million nodes in 1 MB of cache.

use crate::NodeId;
use crate::csr::Csr;
use crate::graph::InDegrees;

use super::NodeState;

/// An unsigned integer used as a state word.
pub(super) trait Word: Copy + Ord {
    const READY: Self;
    const CANCELLED: Self;
    const SKIPPED: Self;
    const FAILED: Self;
    const DONE: Self;
    const RUNNING: Self;
    /// The largest dependency count this width holds.
    const MAX_PENDING: u32;
    /// A waiting count (at most `MAX_PENDING`).
    fn from_count(count: u32) -> Self;
    fn to_u32(self) -> u32;
    /// Subtracts one; returns whether the word reached `READY`.
    fn decrement(&mut self) -> bool;
    /// Turns a waiting word into a skipped one.
    fn skip(&mut self);
}

macro_rules! impl_word {
    ($($t:ty),*) => {$(
        impl Word for $t {
            const READY: Self = 0;
            const CANCELLED: Self = Self::SKIPPED - 1;
            const SKIPPED: Self = 1 << (<$t>::BITS - 1);
            const FAILED: Self = <$t>::MAX - 2;
            const DONE: Self = <$t>::MAX - 1;
            const RUNNING: Self = <$t>::MAX;
            const MAX_PENDING: u32 = (Self::SKIPPED - 4) as u32;
            #[inline]
            fn from_count(count: u32) -> Self {
                debug_assert!(count <= Self::MAX_PENDING);
                count as $t
            }
            #[inline]
            fn to_u32(self) -> u32 {
                u32::from(self)
            }
            #[inline]
            fn decrement(&mut self) -> bool {
                *self -= 1;
                *self == Self::READY
            }
            #[inline]
            fn skip(&mut self) {
                *self += Self::SKIPPED;
            }
        }
    )*};
}
impl_word!(u8, u16, u32);

/// The state of a node from its word.
pub(super) fn decode<W: Word>(word: W) -> NodeState {
    if word == W::READY {
        NodeState::Ready
    } else if word < W::CANCELLED {
        NodeState::Waiting
    } else if word == W::CANCELLED {
        NodeState::Cancelled
    } else if word == W::RUNNING {
        NodeState::Running
    } else if word == W::DONE {
        NodeState::Done
    } else if word == W::FAILED {
        NodeState::Failed
    } else {
        NodeState::Skipped
    }
}

/// The state words of every node, in one of three widths.
#[derive(Debug, Clone)]
pub(super) enum Words {
    Narrow(Vec<u8>),
    Medium(Vec<u16>),
    Wide(Vec<u32>),
}

/// Runs `$body` with `$w` bound to the word slice, whatever its width.
macro_rules! with_words {
    ($words:expr, $w:ident => $body:expr) => {
        match $words {
            Words::Narrow($w) => $body,
            Words::Medium($w) => $body,
            Words::Wide($w) => $body,
        }
    };
}
pub(super) use with_words;

impl Words {
    /// Words for a fresh execution: each node waits on its in-degree (ready when 0).
    pub(super) fn new(in_degree: &InDegrees) -> Self {
        let mut words = match in_degree.max() {
            max if max <= u8::MAX_PENDING => Self::Narrow(Vec::new()),
            max if max <= u16::MAX_PENDING => Self::Medium(Vec::new()),
            _ => Self::Wide(Vec::new()),
        };
        words.reset(in_degree);
        words
    }

    /// Back to a fresh execution, keeping the allocation.
    pub(super) fn reset(&mut self, in_degree: &InDegrees) {
        with_words!(self, w => {
            w.clear();
            in_degree.extend_into(w, Word::from_count);
        });
    }

    pub(super) fn len(&self) -> usize {
        with_words!(self, w => w.len())
    }

    /// The state of node `i`, if it exists.
    pub(super) fn state(&self, i: usize) -> Option<NodeState> {
        with_words!(self, w => w.get(i).map(|&word| decode(word)))
    }

    /// The raw word of node `i` (its pending count while it waits).
    pub(super) fn word(&self, i: usize) -> u32 {
        with_words!(self, w => w[i].to_u32())
    }
}

/// `READY` → `RUNNING`; false (and no change) if node `i` is unknown or not ready.
#[inline]
pub(super) fn start<W: Word>(words: &mut [W], i: usize) -> bool {
    match words.get_mut(i) {
        Some(word) if *word == W::READY => {
            *word = W::RUNNING;
            true
        }
        _ => false,
    }
}

/// `RUNNING` → `DONE`, then one dependency fewer for each dependent; writes the dependents that
/// became ready to the front of `ready` (as long as `dependents`) and returns how many. `None`
/// (and no change) if node `i` is unknown or not running.
#[inline]
pub(super) fn complete<W: Word>(
    words: &mut [W],
    i: usize,
    dependents: &[NodeId],
    ready: &mut [NodeId],
) -> Option<usize> {
    match words.get_mut(i) {
        Some(word) if *word == W::RUNNING => *word = W::DONE,
        _ => return None,
    }
    // Branch-free, in two loops per chunk of 64 dependents: whether a count reaches zero is
    // unpredictable, and a mispredicted branch would discard the cache misses in flight for the
    // next dependents; the second loop keeps the output position out of the first loop's way.
    let mut newly_ready = 0;
    for chunk in dependents.chunks(64) {
        let mut freed = 0u64;
        for (j, next) in chunk.iter().enumerate() {
            freed |= u64::from(words[next.index()].decrement()) << j;
        }
        for (j, &next) in chunk.iter().enumerate() {
            ready[newly_ready] = next;
            newly_ready += ((freed >> j) & 1) as usize;
        }
    }
    Some(newly_ready)
}

/// `READY` or `RUNNING` → `FAILED`, then every waiting descendant → skipped, pushed to `skipped`
/// (breadth-first, the buffer serving as the queue). Returns the state the node failed from, or
/// `None` (and no change) if node `i` is unknown, waiting or ended.
pub(super) fn fail<W: Word>(
    words: &mut [W],
    i: usize,
    dependents: &Csr,
    skipped: &mut Vec<NodeId>,
) -> Option<NodeState> {
    let from = match words.get_mut(i) {
        Some(word) if *word == W::READY => NodeState::Ready,
        Some(word) if *word == W::RUNNING => NodeState::Running,
        _ => return None,
    };
    words[i] = W::FAILED;
    let mut head = 0;
    let mut current = i;
    loop {
        for &next in dependents.neighbours(current) {
            let word = &mut words[next.index()];
            // Waiting (a dependent of a node that did not complete is never ready).
            if *word < W::CANCELLED {
                word.skip();
                skipped.push(next);
            }
        }
        match skipped.get(head) {
            Some(next) => {
                current = next.index();
                head += 1;
            }
            None => break,
        }
    }
    Some(from)
}

/// Every waiting or ready node → `CANCELLED`, pushed to `cancelled` in index order. Returns how
/// many of them were ready.
pub(super) fn cancel_pending<W: Word>(words: &mut [W], cancelled: &mut Vec<NodeId>) -> usize {
    let mut ready = 0;
    for (i, word) in words.iter_mut().enumerate() {
        if *word < W::CANCELLED {
            ready += usize::from(*word == W::READY);
            *word = W::CANCELLED;
            cancelled.push(NodeId::new(i as u32));
        }
    }
    ready
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip<W: Word>() {
        assert_eq!(decode(W::READY), NodeState::Ready);
        assert_eq!(decode(W::from_count(1)), NodeState::Waiting);
        assert_eq!(decode(W::from_count(W::MAX_PENDING)), NodeState::Waiting);
        assert_eq!(decode(W::RUNNING), NodeState::Running);
        assert_eq!(decode(W::DONE), NodeState::Done);
        assert_eq!(decode(W::FAILED), NodeState::Failed);
        assert_eq!(decode(W::CANCELLED), NodeState::Cancelled);
        assert!(W::from_count(W::MAX_PENDING) < W::CANCELLED);
        // Skipped with the most dependencies still pending, then all of them completing.
        let mut word = W::from_count(W::MAX_PENDING);
        word.skip();
        for _ in 0..W::MAX_PENDING {
            assert_eq!(decode(word), NodeState::Skipped);
            assert!(!word.decrement());
        }
        assert_eq!(decode(word), NodeState::Skipped);
        let mut word = W::from_count(2);
        assert!(!word.decrement());
        assert!(word.decrement());
        assert_eq!(decode(word), NodeState::Ready);
    }

    #[test]
    fn every_width_encodes_every_state() {
        roundtrip::<u8>();
        roundtrip::<u16>();
        // u32: the loop over 2^31 decrements is too long; check the boundaries instead.
        let mut word = u32::from_count(u32::MAX_PENDING);
        word.skip();
        assert_eq!(word, u32::FAILED - 1);
        assert_eq!(decode(word), NodeState::Skipped);
        assert_eq!(decode(u32::SKIPPED), NodeState::Skipped);
        assert!(u32::MAX_PENDING as usize >= crate::MAX_EDGES);
        assert_eq!(u8::MAX_PENDING, 124);
        assert_eq!(u16::MAX_PENDING, 32_764);
    }
}

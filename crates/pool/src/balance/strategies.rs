//! The four built-in [`Balancer`]s.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};

use super::{Balancer, Candidates};

/// Picks each candidate in turn, skipping zero-weight ones. One atomic increment per pick.
///
/// ```
/// use baton_pool::balance::{Balancer, Candidate, RoundRobin};
/// let rr = RoundRobin::new();
/// let three = [Candidate::default(); 3];
/// let picks: Vec<_> = (0..6).map(|_| rr.pick(&three).unwrap()).collect();
/// assert_eq!(picks, [0, 1, 2, 0, 1, 2]);
/// ```
#[derive(Debug, Default)]
pub struct RoundRobin {
    next: AtomicUsize,
}

impl RoundRobin {
    /// A round-robin balancer starting at candidate 0.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Balancer for RoundRobin {
    fn pick(&self, candidates: &dyn Candidates) -> Option<usize> {
        let n = candidates.len();
        if n == 0 {
            return None;
        }
        let start = self.next.fetch_add(1, Relaxed) % n;
        (0..n)
            .map(|k| wrap(start + k, n))
            .find(|&i| candidates.weight(i) > 0)
    }
}

/// Picks the candidate with the fewest jobs in flight per unit of weight (with equal weights: the
/// fewest jobs in flight). Ties are broken in rotation, so equally loaded candidates share the
/// work evenly. Reads every candidate's load on each pick (twice when there is a tie).
///
/// ```
/// use baton_pool::balance::{Balancer, Candidate, LeastLoaded};
/// let ll = LeastLoaded::new();
/// // 4 jobs on weight 2 is a lighter load than 3 jobs on weight 1.
/// assert_eq!(ll.pick(&[Candidate::new(3, 1), Candidate::new(4, 2)]), Some(1));
/// ```
#[derive(Debug, Default)]
pub struct LeastLoaded {
    next: AtomicUsize,
}

impl LeastLoaded {
    /// A least-loaded balancer.
    pub fn new() -> Self {
        Self::default()
    }
}

/// True when `a` carries strictly less load per unit of weight than `b`. Weights are positive.
fn lighter(a: (usize, u32), b: (usize, u32)) -> bool {
    (a.0 as u128) * u128::from(b.1) < (b.0 as u128) * u128::from(a.1)
}

/// `i` reduced modulo `n`, for `i < 2n`.
fn wrap(i: usize, n: usize) -> usize {
    if i >= n { i - n } else { i }
}

impl Balancer for LeastLoaded {
    fn pick(&self, candidates: &dyn Candidates) -> Option<usize> {
        let n = candidates.len();
        // First pass: the lightest load and how many candidates share it.
        let mut best: Option<(usize, (usize, u32))> = None;
        let mut ties = 0;
        for i in 0..n {
            let weight = candidates.weight(i);
            if weight == 0 {
                continue;
            }
            let load = (candidates.in_flight(i), weight);
            match best {
                Some((_, b)) if lighter(b, load) => {}
                Some((_, b)) if !lighter(load, b) => ties += 1,
                _ => {
                    best = Some((i, load));
                    ties = 1;
                }
            }
        }
        let (first, lightest) = best?;
        if ties == 1 {
            return Some(first);
        }
        // Second pass: the k-th of the tied candidates, k rotating, so ties share evenly.
        let mut k = self.next.fetch_add(1, Relaxed) % ties;
        for i in first..n {
            let weight = candidates.weight(i);
            if weight == 0 {
                continue;
            }
            let load = (candidates.in_flight(i), weight);
            if !lighter(load, lightest) && !lighter(lightest, load) {
                if k == 0 {
                    return Some(i);
                }
                k -= 1;
            }
        }
        Some(first) // loads moved between the passes
    }
}

/// Smooth weighted round-robin (nginx's algorithm): each pick adds every candidate's weight to its
/// running score, picks the highest score and subtracts the total weight from it. Over any
/// `Σ weights` consecutive picks on an unchanged set, candidate `i` is picked exactly
/// `weight(i)` times, spread out (weights 1:3 give `B A B B`, not `A B B B`).
///
/// The scores are kept per index behind a mutex; when the number of candidates changes, scores
/// of indices still present are kept and new ones start at zero.
///
/// ```
/// use baton_pool::balance::{Balancer, Candidate, Weighted};
/// let w = Weighted::new();
/// let set = [Candidate::new(0, 5), Candidate::new(0, 1), Candidate::new(0, 1)];
/// let picks: Vec<_> = (0..7).map(|_| w.pick(&set).unwrap()).collect();
/// assert_eq!(picks, [0, 0, 1, 0, 2, 0, 0]);
/// ```
#[derive(Debug, Default)]
pub struct Weighted {
    scores: Mutex<Vec<i64>>,
}

impl Weighted {
    /// A smooth weighted round-robin balancer.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Balancer for Weighted {
    fn pick(&self, candidates: &dyn Candidates) -> Option<usize> {
        let n = candidates.len();
        let mut scores = self.scores.lock().unwrap_or_else(PoisonError::into_inner);
        scores.resize(n, 0);
        let mut total = 0i64;
        let mut best: Option<usize> = None;
        for i in 0..n {
            let weight = i64::from(candidates.weight(i));
            if weight == 0 {
                scores[i] = 0;
                continue;
            }
            scores[i] += weight;
            total += weight;
            if best.is_none_or(|b| scores[i] > scores[b]) {
                best = Some(i);
            }
        }
        let chosen = best?;
        scores[chosen] -= total;
        Some(chosen)
    }
}

/// Power of two choices: draws two distinct candidates at random and picks the one with less load
/// per unit of weight (the first drawn on a tie). Nearly as good as [`LeastLoaded`] while reading
/// only two loads. The generator (SplitMix64 on an atomic) is seeded, so a sequence of picks made
/// one at a time reproduces exactly.
///
/// ```
/// use baton_pool::balance::{Balancer, Candidate, PowerOfTwo};
/// let p2c = PowerOfTwo::with_seed(7);
/// // With two candidates both are always drawn: the less loaded wins.
/// assert_eq!(p2c.pick(&[Candidate::new(9, 1), Candidate::new(2, 1)]), Some(1));
/// ```
#[derive(Debug)]
pub struct PowerOfTwo {
    state: AtomicU64,
}

const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform index below `n` from 64 random bits (Lemire's multiply-shift).
fn below(random: u64, n: usize) -> usize {
    ((u128::from(random) * n as u128) >> 64) as usize
}

impl PowerOfTwo {
    /// A power-of-two-choices balancer whose draws are determined by `seed`.
    pub fn with_seed(seed: u64) -> Self {
        Self {
            state: AtomicU64::new(seed),
        }
    }

    fn next_u64(&self) -> u64 {
        mix(self.state.fetch_add(GAMMA, Relaxed).wrapping_add(GAMMA))
    }
}

impl Default for PowerOfTwo {
    /// Seed 0.
    fn default() -> Self {
        Self::with_seed(0)
    }
}

impl Balancer for PowerOfTwo {
    fn pick(&self, candidates: &dyn Candidates) -> Option<usize> {
        let n = candidates.len();
        match n {
            0 => return None,
            1 => return (candidates.weight(0) > 0).then_some(0),
            _ => {}
        }
        let random = self.next_u64();
        let a = below(random, n);
        let mut b = below(mix(random ^ GAMMA), n - 1);
        if b >= a {
            b += 1;
        }
        let (wa, wb) = (candidates.weight(a), candidates.weight(b));
        match (wa, wb) {
            (0, 0) => LeastLoaded::new().pick(candidates),
            (0, _) => Some(b),
            (_, 0) => Some(a),
            _ => {
                let (la, lb) = (candidates.in_flight(a), candidates.in_flight(b));
                Some(if lighter((lb, wb), (la, wa)) { b } else { a })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balance::Candidate;

    fn counts(b: &dyn Balancer, set: &[Candidate], picks: usize) -> Vec<usize> {
        let mut counts = vec![0; set.len()];
        for _ in 0..picks {
            counts[b.pick(&set).expect("a candidate")] += 1;
        }
        counts
    }

    #[test]
    fn round_robin_is_even_and_skips_zero_weights() {
        let rr = RoundRobin::new();
        let set = [Candidate::default(); 4];
        assert_eq!(counts(&rr, &set, 400), [100; 4]);
        let rr = RoundRobin::new();
        let set = [
            Candidate::new(0, 1),
            Candidate::new(0, 0),
            Candidate::new(0, 1),
        ];
        let c = counts(&rr, &set, 300);
        assert_eq!(c[1], 0);
        assert_eq!(c[0] + c[2], 300);
    }

    #[test]
    fn least_loaded_avoids_the_busy_candidate() {
        let ll = LeastLoaded::new();
        let set = [
            Candidate::new(10, 1),
            Candidate::new(2, 1),
            Candidate::new(5, 1),
        ];
        assert_eq!(counts(&ll, &set, 50), [0, 50, 0]);
    }

    #[test]
    fn least_loaded_rotates_among_ties() {
        let ll = LeastLoaded::new();
        let set = [
            Candidate::new(3, 1),
            Candidate::new(1, 1),
            Candidate::new(1, 1),
        ];
        assert_eq!(counts(&ll, &set, 100), [0, 50, 50]);
        let idle = [Candidate::default(); 3];
        let c = counts(&LeastLoaded::new(), &idle, 99);
        assert_eq!(c, [33, 33, 33]);
    }

    #[test]
    fn least_loaded_weighs_load_by_capacity() {
        let ll = LeastLoaded::new();
        // 6 on weight 3 (2 per unit) beats 3 on weight 1 (3 per unit).
        assert_eq!(
            ll.pick(&[Candidate::new(3, 1), Candidate::new(6, 3)]),
            Some(1)
        );
        // 4 on weight 1 loses to 9 on weight 3 (3 per unit).
        assert_eq!(
            ll.pick(&[Candidate::new(4, 1), Candidate::new(9, 3)]),
            Some(1)
        );
    }

    #[test]
    fn weighted_gives_exact_shares_interleaved() {
        let w = Weighted::new();
        let set = [Candidate::new(0, 1), Candidate::new(0, 3)];
        let picks: Vec<_> = (0..8).map(|_| w.pick(&set).unwrap()).collect();
        assert_eq!(picks, [1, 0, 1, 1, 1, 0, 1, 1]);
        assert_eq!(counts(&w, &set, 4000), [1000, 3000]);
    }

    #[test]
    fn weighted_adapts_when_the_set_changes() {
        let w = Weighted::new();
        let two = [Candidate::new(0, 1), Candidate::new(0, 1)];
        let _ = counts(&w, &two, 3);
        let three = [
            Candidate::new(0, 2),
            Candidate::new(0, 1),
            Candidate::new(0, 1),
        ];
        assert_eq!(counts(&w, &three, 400), [200, 100, 100]);
        let one = [Candidate::new(0, 7)];
        assert_eq!(counts(&w, &one, 5), [5]);
    }

    #[test]
    fn power_of_two_prefers_the_less_loaded_of_two() {
        let p = PowerOfTwo::with_seed(1);
        let pair = [Candidate::new(4, 1), Candidate::new(1, 1)];
        assert_eq!(counts(&p, &pair, 100), [0, 100]);
        // Among many, the most loaded candidate is never picked (it always loses its duel) and the
        // least loaded wins every duel it is drawn into.
        let set: Vec<_> = (0..8).map(|i| Candidate::new(i, 1)).collect();
        let c = counts(&p, &set, 8000);
        assert_eq!(c[7], 0);
        assert!(c[0] > c[3] && c[3] > c[6], "{c:?}");
        // Each candidate is drawn into 1/4 of the duels and wins against its loaded opponents only.
        assert!((1800..2200).contains(&c[0]), "{c:?}");
    }

    #[test]
    fn power_of_two_reproduces_with_the_same_seed() {
        let set: Vec<_> = (0..5).map(|_| Candidate::default()).collect();
        let a: Vec<_> = {
            let p = PowerOfTwo::with_seed(42);
            (0..64).map(|_| p.pick(&set)).collect()
        };
        let b: Vec<_> = {
            let p = PowerOfTwo::with_seed(42);
            (0..64).map(|_| p.pick(&set)).collect()
        };
        assert_eq!(a, b);
        let c: Vec<_> = {
            let p = PowerOfTwo::with_seed(43);
            (0..64).map(|_| p.pick(&set)).collect()
        };
        assert_ne!(a, c);
    }

    #[test]
    fn power_of_two_draws_distinct_uniform_pairs() {
        // On an idle set the first drawn wins, so picks are uniform over the candidates.
        let p = PowerOfTwo::default();
        let set = [Candidate::default(); 4];
        for n in counts(&p, &set, 8000) {
            assert!((1800..2200).contains(&n), "{n}");
        }
    }
}

//! Load balancing over an abstract view of candidates, usable without a [`Pool`](crate::Pool).
//!
//! A [`Balancer`] picks one index among [`Candidates`]: anything that can say how many there are
//! and, for each, how many jobs it has in flight and its weight. The pool passes a lazy view of its
//! workers (reading a worker's load only when the strategy asks for it); a registry of remote agents
//! can pass a `Vec` of its own records implementing [`Load`], or plain [`Candidate`] values.
//!
//! The four strategies:
//! - [`RoundRobin`]: each candidate in turn (zero-weight candidates are skipped).
//! - [`LeastLoaded`]: fewest jobs in flight per unit of weight ("weighted least connections");
//!   ties go round-robin so equally idle candidates share the work.
//! - [`Weighted`]: smooth weighted round-robin as nginx does it: over any run of `Σ weights`
//!   picks, candidate `i` is picked exactly `weight(i)` times, interleaved rather than in bursts.
//! - [`PowerOfTwo`]: two distinct candidates drawn at random (a seeded generator, so runs
//!   reproduce), the less loaded of the two wins.
//!
//! A weight of zero means "do not pick" (a draining agent): every strategy skips such candidates
//! and returns `None` when no candidate is left.
//!
//! ```
//! use baton_pool::balance::{Balancer, Candidate, LeastLoaded, Weighted};
//!
//! let agents = vec![Candidate::new(3, 1), Candidate::new(1, 1), Candidate::new(2, 1)];
//! assert_eq!(LeastLoaded::new().pick(&agents), Some(1));
//!
//! let weighted = Weighted::new();
//! let pair = [Candidate::new(0, 1), Candidate::new(0, 3)];
//! let picks: Vec<_> = (0..4).filter_map(|_| weighted.pick(&pair)).collect();
//! assert_eq!(picks.iter().filter(|&&i| i == 1).count(), 3);
//! ```

mod strategies;

use std::fmt;
use std::sync::Arc;

pub use strategies::{LeastLoaded, PowerOfTwo, RoundRobin, Weighted};

/// What a balancer needs to know about one candidate.
pub trait Load {
    /// Jobs (or connections, requests) the candidate is handling now, running or waiting.
    fn in_flight(&self) -> usize;

    /// The candidate's relative capacity; 0 means "do not pick". Defaults to 1.
    fn weight(&self) -> u32 {
        1
    }
}

/// A plain description of one candidate's load and weight, for callers that have no type of their
/// own to implement [`Load`] on (and for tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// Jobs in flight.
    pub in_flight: usize,
    /// Relative capacity; 0 means "do not pick".
    pub weight: u32,
}

impl Candidate {
    /// A candidate with `in_flight` jobs and the given weight.
    ///
    /// ```
    /// use baton_pool::balance::{Candidate, Load};
    /// let c = Candidate::new(2, 5);
    /// assert_eq!((c.in_flight(), c.weight()), (2, 5));
    /// ```
    pub const fn new(in_flight: usize, weight: u32) -> Self {
        Self { in_flight, weight }
    }
}

impl Default for Candidate {
    /// No load, weight 1.
    fn default() -> Self {
        Self::new(0, 1)
    }
}

impl Load for Candidate {
    fn in_flight(&self) -> usize {
        self.in_flight
    }
    fn weight(&self) -> u32 {
        self.weight
    }
}

/// A read-only, indexable view of the candidates a [`Balancer`] chooses among.
///
/// Implemented for `Vec<L>`, `[L; N]` and `&[L]` where `L:` [`Load`], so
/// `balancer.pick(&candidates)` works with any of them. Strategies call `in_flight` and `weight`
/// only for the indices they look at, so an implementation may read live counters lazily.
pub trait Candidates {
    /// How many candidates there are; indices run from 0 to `len() - 1`.
    fn len(&self) -> usize;

    /// Jobs in flight at candidate `index` (`index < len()`).
    fn in_flight(&self, index: usize) -> usize;

    /// The weight of candidate `index` (`index < len()`); 0 means "do not pick".
    fn weight(&self, index: usize) -> u32;

    /// True when there is no candidate.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

macro_rules! candidates_for_slices {
    ($($ty:ty),*) => {$(
        impl<L: Load> Candidates for $ty {
            fn len(&self) -> usize {
                <[L]>::len(&self[..])
            }
            fn in_flight(&self, index: usize) -> usize {
                self[index].in_flight()
            }
            fn weight(&self, index: usize) -> u32 {
                self[index].weight()
            }
        }
    )*};
}
candidates_for_slices!(Vec<L>, &[L]);

impl<L: Load, const N: usize> Candidates for [L; N] {
    fn len(&self) -> usize {
        N
    }
    fn in_flight(&self, index: usize) -> usize {
        self[index].in_flight()
    }
    fn weight(&self, index: usize) -> u32 {
        self[index].weight()
    }
}

/// A load-balancing strategy: picks the index of one candidate.
///
/// Implementations are shared between threads (`&self`), so any state they keep (a rotation
/// counter, a generator) lives in atomics or a lock. Returning `None` means "no candidate can take
/// work" (the set is empty or every weight is zero). The pool treats `None` or an index out of
/// range from a custom balancer as a pick of worker 0.
pub trait Balancer: Send + Sync + fmt::Debug {
    /// The index of the chosen candidate, or `None` when none can be chosen.
    fn pick(&self, candidates: &dyn Candidates) -> Option<usize>;
}

impl<B: Balancer + ?Sized> Balancer for Arc<B> {
    fn pick(&self, candidates: &dyn Candidates) -> Option<usize> {
        (**self).pick(candidates)
    }
}

impl<B: Balancer + ?Sized> Balancer for Box<B> {
    fn pick(&self, candidates: &dyn Candidates) -> Option<usize> {
        (**self).pick(candidates)
    }
}

/// The built-in strategies by name, for configuration
/// ([`PoolBuilder::strategy`](crate::PoolBuilder::strategy)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Strategy {
    /// [`RoundRobin`].
    RoundRobin,
    /// [`LeastLoaded`] (the default).
    #[default]
    LeastLoaded,
    /// [`Weighted`] (smooth weighted round-robin).
    Weighted,
    /// [`PowerOfTwo`] with this seed.
    PowerOfTwo {
        /// Seed of the generator that draws the two candidates.
        seed: u64,
    },
}

impl Strategy {
    /// A new balancer implementing this strategy.
    ///
    /// ```
    /// use baton_pool::balance::{Candidate, Strategy};
    /// let b = Strategy::RoundRobin.balancer();
    /// let two = [Candidate::default(); 2];
    /// assert_eq!((b.pick(&two), b.pick(&two), b.pick(&two)), (Some(0), Some(1), Some(0)));
    /// ```
    pub fn balancer(self) -> Arc<dyn Balancer> {
        match self {
            Self::RoundRobin => Arc::new(RoundRobin::new()),
            Self::LeastLoaded => Arc::new(LeastLoaded::new()),
            Self::Weighted => Arc::new(Weighted::new()),
            Self::PowerOfTwo { seed } => Arc::new(PowerOfTwo::with_seed(seed)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Agent {
        connections: usize,
    }
    impl Load for Agent {
        fn in_flight(&self) -> usize {
            self.connections
        }
    }

    #[test]
    fn views_over_vec_array_and_slice() {
        let agents = vec![Agent { connections: 4 }, Agent { connections: 0 }];
        assert_eq!(Candidates::len(&agents), 2);
        assert_eq!(Candidates::weight(&agents, 0), 1);
        assert_eq!(LeastLoaded::new().pick(&agents), Some(1));
        let slice: &[Agent] = &agents;
        assert_eq!(LeastLoaded::new().pick(&slice), Some(1));
        let array = [Candidate::new(1, 1), Candidate::new(0, 0)];
        assert_eq!(LeastLoaded::new().pick(&array), Some(0));
        let empty: Vec<Candidate> = Vec::new();
        assert!(Candidates::is_empty(&empty));
    }

    #[test]
    fn every_strategy_by_name_handles_empty_and_zero_weights() {
        for strategy in [
            Strategy::RoundRobin,
            Strategy::LeastLoaded,
            Strategy::Weighted,
            Strategy::PowerOfTwo { seed: 9 },
        ] {
            let b = strategy.balancer();
            assert_eq!(b.pick(&Vec::<Candidate>::new()), None, "{strategy:?}");
            let drained = [Candidate::new(0, 0), Candidate::new(0, 0)];
            assert_eq!(b.pick(&drained), None, "{strategy:?}");
            let one_left = [
                Candidate::new(0, 0),
                Candidate::new(9, 2),
                Candidate::new(0, 0),
            ];
            for _ in 0..10 {
                assert_eq!(b.pick(&one_left), Some(1), "{strategy:?}");
            }
        }
    }

    #[test]
    fn boxed_and_shared_balancers_delegate() {
        let boxed: Box<dyn Balancer> = Box::new(RoundRobin::new());
        let two = [Candidate::default(); 2];
        assert_eq!(boxed.pick(&two), Some(0));
        assert_eq!(boxed.pick(&two), Some(1));
        let shared = Arc::new(LeastLoaded::new());
        assert_eq!(
            shared.pick(&[Candidate::new(5, 1), Candidate::new(1, 1)]),
            Some(1)
        );
    }
}

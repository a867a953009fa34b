//! The breaker's state word: state, generation and per-state counters packed in one `u64` so
//! that every lock-free step is a single compare-and-swap.
//!
//! ```text
//!  63            32 31                         2 1   0
//! ┌────────────────┬────────────────────────────┬─────┐
//! │   generation   │  data (30 bits)            │state│
//! └────────────────┴────────────────────────────┴─────┘
//!   Closed:   data = consecutive failures (consecutive policy; 0 otherwise)
//!   HalfOpen: data = successes (15 bits) << 15 | trials in flight (15 bits)
//!   Open:     data = 0
//! ```
//!
//! The generation changes on every transition (always under the breaker's lock); a permit
//! remembers the generation it was granted in, so its outcome only moves the state machine
//! while that generation lasts.

use crate::State;

pub(crate) const CLOSED: u64 = 0;
pub(crate) const OPEN: u64 = 1;
pub(crate) const HALF_OPEN: u64 = 2;

const STATE_MASK: u64 = 0b11;
const DATA_SHIFT: u32 = 2;
const GEN_SHIFT: u32 = 32;
/// The largest value of the 30-bit data field.
pub(crate) const MAX_DATA: u32 = (1 << 30) - 1;
const TRIAL_BITS: u32 = 15;
/// The largest trial count or success count in `HalfOpen`.
pub(crate) const MAX_TRIALS: u32 = (1 << TRIAL_BITS) - 1;

/// A decoded state word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Word(pub(crate) u64);

impl Word {
    /// A word in `state` (one of the constants) with generation `generation` and `data`.
    #[inline]
    pub(crate) const fn new(state: u64, generation: u32, data: u32) -> Self {
        debug_assert!(data <= MAX_DATA);
        Self(((generation as u64) << GEN_SHIFT) | ((data as u64) << DATA_SHIFT) | state)
    }

    /// A half-open word.
    #[inline]
    pub(crate) const fn half_open(generation: u32, in_flight: u32, successes: u32) -> Self {
        Self::new(HALF_OPEN, generation, (successes << TRIAL_BITS) | in_flight)
    }

    #[inline]
    pub(crate) const fn state_bits(self) -> u64 {
        self.0 & STATE_MASK
    }

    #[inline]
    pub(crate) const fn state(self) -> State {
        match self.state_bits() {
            CLOSED => State::Closed,
            OPEN => State::Open,
            _ => State::HalfOpen,
        }
    }

    #[inline]
    pub(crate) const fn generation(self) -> u32 {
        (self.0 >> GEN_SHIFT) as u32
    }

    #[inline]
    pub(crate) const fn data(self) -> u32 {
        ((self.0 >> DATA_SHIFT) as u32) & MAX_DATA
    }

    /// Whether the word is in `state` with generation `generation`.
    #[inline]
    pub(crate) const fn is(self, state: u64, generation: u32) -> bool {
        self.state_bits() == state && self.generation() == generation
    }

    #[inline]
    pub(crate) const fn with_data(self, data: u32) -> Self {
        Self::new(self.state_bits(), self.generation(), data)
    }

    /// Trials in flight (half-open).
    #[inline]
    pub(crate) const fn in_flight(self) -> u32 {
        self.data() & MAX_TRIALS
    }

    /// Successful trials so far (half-open).
    #[inline]
    pub(crate) const fn trial_successes(self) -> u32 {
        self.data() >> TRIAL_BITS
    }

    /// The first word of the next generation in `state`, with no data.
    #[inline]
    pub(crate) const fn next(self, state: u64) -> Self {
        Self::new(state, self.generation().wrapping_add(1), 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn fields_round_trip(generation: u32, data in 0..=MAX_DATA, state in 0u64..3) {
            let w = Word::new(state, generation, data);
            prop_assert_eq!(w.generation(), generation);
            prop_assert_eq!(w.data(), data);
            prop_assert_eq!(w.state_bits(), state);
            prop_assert!(w.is(state, generation));
        }

        #[test]
        fn half_open_counters_round_trip(
            generation: u32,
            in_flight in 0..=MAX_TRIALS,
            successes in 0..=MAX_TRIALS,
        ) {
            let w = Word::half_open(generation, in_flight, successes);
            prop_assert_eq!(w.state(), State::HalfOpen);
            prop_assert_eq!((w.in_flight(), w.trial_successes()), (in_flight, successes));
            prop_assert_eq!(w.generation(), generation);
        }
    }

    #[test]
    fn next_bumps_the_generation_and_wraps() {
        let w = Word::new(CLOSED, u32::MAX, 7).next(OPEN);
        assert_eq!((w.state(), w.generation(), w.data()), (State::Open, 0, 0));
        assert_eq!(
            Word::new(OPEN, 4, 0).next(HALF_OPEN).state(),
            State::HalfOpen
        );
    }
}

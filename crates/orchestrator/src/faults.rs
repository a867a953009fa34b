//! Deterministic fault injection: a [`FaultPlan`] makes chosen attempts fail, panic, hang or slow
//! down, so that tests reproduce a run exactly (on tokio's paused clock, the same plan and seed give
//! the same run, event for event).

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::ops::RangeInclusive;
use std::time::Duration;

/// What happens to an attempt instead of (or before) its handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// The attempt fails with a retryable error ("injected failure") without calling the handler.
    Fail,
    /// The attempt panics ("injected panic") without calling the handler.
    Panic,
    /// The attempt never finishes: only its timeout, the run's timeout or a cancellation ends it.
    Hang,
    /// The attempt waits this long, then runs the handler.
    Slow(Duration),
}

/// Random faults: each attempt draws once from a hash of (seed, task index, attempt), so the draw
/// does not depend on scheduling.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Rates {
    seed: u64,
    fail: f64,
    panic: f64,
    hang: f64,
    slow: f64,
    slow_max: Duration,
}

/// Which attempts of which tasks get a [`Fault`]: named explicitly, drawn at random from a seed,
/// or both (explicit entries win).
///
/// ```
/// use std::time::Duration;
/// use baton_orchestrator::{Fault, FaultPlan};
///
/// let plan = FaultPlan::new()
///     .inject("charge", Fault::Fail, 1..=2)    // the first two attempts of `charge` fail
///     .inject("ship", Fault::Panic, 1..=1)
///     .inject("notify", Fault::Slow(Duration::from_secs(3)), 1..=u32::MAX)
///     .random(42, 0.1, 0.0, 0.0);              // and 10% of all other attempts fail
/// assert_eq!(plan.fault_for("charge", 0, 2), Some(Fault::Fail));
/// assert_eq!(plan.fault_for("charge", 0, 3), plan.fault_for("charge", 0, 3)); // deterministic
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultPlan {
    explicit: HashMap<String, Vec<(RangeInclusive<u32>, Fault)>>,
    rates: Option<Rates>,
}

impl FaultPlan {
    /// A plan with no fault.
    pub fn new() -> Self {
        Self::default()
    }

    /// Gives attempts `attempts` (numbered from 1) of task `task` the fault `fault`. Later entries
    /// for the same attempt win.
    #[must_use]
    pub fn inject(
        mut self,
        task: impl Into<String>,
        fault: Fault,
        attempts: RangeInclusive<u32>,
    ) -> Self {
        self.explicit
            .entry(task.into())
            .or_default()
            .push((attempts, fault));
        self
    }

    /// Draws random faults from `seed` for attempts no explicit entry covers: each attempt fails
    /// with probability `fail`, panics with `panic`, hangs with `hang`. Probabilities are clamped to
    /// `0..=1` and tried in that order.
    #[must_use]
    pub fn random(mut self, seed: u64, fail: f64, panic: f64, hang: f64) -> Self {
        let rates = self.rates.get_or_insert_with(Rates::default);
        rates.seed = seed;
        rates.fail = clamp(fail);
        rates.panic = clamp(panic);
        rates.hang = clamp(hang);
        self
    }

    /// Slows attempts down with probability `rate`, each by a drawn delay up to `max`, drawing
    /// from the seed given to [`random`](Self::random) (before or after this call; 0 without it).
    #[must_use]
    pub fn random_slow(mut self, rate: f64, max: Duration) -> Self {
        let rates = self.rates.get_or_insert_with(Rates::default);
        rates.slow = clamp(rate);
        rates.slow_max = max;
        self
    }

    /// The tasks the plan names explicitly.
    pub fn named_tasks(&self) -> impl Iterator<Item = &str> {
        self.explicit.keys().map(String::as_str)
    }

    /// Whether the plan injects nothing.
    pub fn is_empty(&self) -> bool {
        self.explicit.is_empty() && self.rates.is_none()
    }

    /// The fault for attempt `attempt` of the task `task` at position `index` in its workflow.
    pub fn fault_for(&self, task: &str, index: usize, attempt: u32) -> Option<Fault> {
        if let Some(entries) = self.explicit.get(task)
            && let Some((_, fault)) = entries.iter().rev().find(|(r, _)| r.contains(&attempt))
        {
            return Some(*fault);
        }
        let rates = self.rates?;
        let (a, b) = draw(rates.seed, index, attempt);
        let mut edge = rates.fail;
        if a < edge {
            return Some(Fault::Fail);
        }
        edge += rates.panic;
        if a < edge {
            return Some(Fault::Panic);
        }
        edge += rates.hang;
        if a < edge {
            return Some(Fault::Hang);
        }
        edge += rates.slow;
        if a < edge {
            return Some(Fault::Slow(rates.slow_max.mul_f64(b)));
        }
        None
    }
}

fn clamp(p: f64) -> f64 {
    if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) }
}

/// Two uniform draws in `0..1` from (seed, index, attempt), stable across runs and platforms.
fn draw(seed: u64, index: usize, attempt: u32) -> (f64, f64) {
    let hasher = BuildHasherDefault::<DefaultHasher>::default();
    let h1 = hasher.hash_one((seed, index as u64, attempt, 1_u8));
    let h2 = hasher.hash_one((seed, index as u64, attempt, 2_u8));
    let unit = |h: u64| (h >> 11) as f64 / (1_u64 << 53) as f64;
    (unit(h1), unit(h2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_entries_cover_their_attempts_and_later_ones_win() {
        let plan = FaultPlan::new()
            .inject("a", Fault::Fail, 1..=3)
            .inject("a", Fault::Hang, 2..=2);
        assert_eq!(plan.fault_for("a", 0, 1), Some(Fault::Fail));
        assert_eq!(plan.fault_for("a", 0, 2), Some(Fault::Hang));
        assert_eq!(plan.fault_for("a", 0, 4), None);
        assert_eq!(plan.fault_for("b", 1, 1), None);
        assert!(!plan.is_empty() && FaultPlan::new().is_empty());
    }

    #[test]
    fn random_draws_follow_the_rates_and_the_seed() {
        let plan = FaultPlan::new().random(7, 0.25, 0.25, 0.0);
        let faults: Vec<_> = (0..4000).map(|i| plan.fault_for("t", i, 1)).collect();
        let fails = faults.iter().filter(|f| **f == Some(Fault::Fail)).count();
        let panics = faults.iter().filter(|f| **f == Some(Fault::Panic)).count();
        assert!((800..1200).contains(&fails), "{fails}");
        assert!((800..1200).contains(&panics), "{panics}");
        assert!(!faults.contains(&Some(Fault::Hang)));
        let again: Vec<_> = (0..4000).map(|i| plan.fault_for("t", i, 1)).collect();
        assert_eq!(faults, again);
        let other = FaultPlan::new().random(8, 0.25, 0.25, 0.0);
        assert_ne!(
            faults,
            (0..4000)
                .map(|i| other.fault_for("t", i, 1))
                .collect::<Vec<_>>()
        );
        let slow = FaultPlan::new()
            .random(1, 0.0, 0.0, 0.0)
            .random_slow(1.0, Duration::from_secs(1));
        assert!(
            matches!(slow.fault_for("t", 0, 1), Some(Fault::Slow(d)) if d <= Duration::from_secs(1))
        );
        // The order of the two calls does not matter (it used to drop `random_slow` if first).
        let first = FaultPlan::new()
            .random_slow(1.0, Duration::from_secs(1))
            .random(1, 0.0, 0.0, 0.0);
        let draws = |p: &FaultPlan| (0..50).map(|i| p.fault_for("t", i, 1)).collect::<Vec<_>>();
        assert_eq!(draws(&first), draws(&slow));
    }
}

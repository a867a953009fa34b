//! Health states, the policy that moves between them, and the per-agent tracker.

use std::collections::VecDeque;

use tokio::time::Instant;

use crate::error::ConfigError;

/// How many transitions [`Registry::health_history`](crate::Registry::health_history) keeps per
/// agent (the oldest are dropped first).
pub const HISTORY_LIMIT: usize = 64;

/// The health of an agent, from best to worst (the order of `Ord`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[non_exhaustive]
pub enum Health {
    /// Probes pass (a newly registered agent starts here).
    #[default]
    Healthy,
    /// Some consecutive probes failed; still selectable.
    Degraded,
    /// Too many consecutive probes failed; never selected.
    Unhealthy,
}

/// Thresholds of consecutive probe results that move an agent between [`Health`] states.
///
/// - `degraded_after` consecutive failures: at least [`Health::Degraded`];
/// - `unhealthy_after` consecutive failures: [`Health::Unhealthy`];
/// - `healthy_after` consecutive successes bring a degraded or unhealthy agent back to
///   [`Health::Healthy`].
///
/// A failure never improves the state, and a success never worsens it.
///
/// ```
/// use baton_agents::HealthPolicy;
/// let p = HealthPolicy::default();
/// assert_eq!((p.degraded_after, p.unhealthy_after, p.healthy_after), (1, 3, 2));
/// assert!(HealthPolicy::new(2, 1, 1).validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct HealthPolicy {
    /// Consecutive failures after which an agent is degraded (>= 1).
    pub degraded_after: u32,
    /// Consecutive failures after which an agent is unhealthy (>= `degraded_after`).
    pub unhealthy_after: u32,
    /// Consecutive successes after which a degraded or unhealthy agent is healthy again (>= 1).
    pub healthy_after: u32,
}

impl Default for HealthPolicy {
    /// Degraded after 1 failure, unhealthy after 3, healthy again after 2 successes.
    fn default() -> Self {
        Self::new(1, 3, 2)
    }
}

impl HealthPolicy {
    /// A policy with these thresholds (checked by [`validate`](Self::validate) and by
    /// [`RegistryBuilder::build`](crate::RegistryBuilder::build)).
    pub const fn new(degraded_after: u32, unhealthy_after: u32, healthy_after: u32) -> Self {
        Self {
            degraded_after,
            unhealthy_after,
            healthy_after,
        }
    }

    /// Checks `unhealthy_after >= degraded_after >= 1` and `healthy_after >= 1`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.degraded_after == 0 {
            return Err(ConfigError::ZeroDegradedAfter);
        }
        if self.unhealthy_after < self.degraded_after {
            return Err(ConfigError::UnhealthyBeforeDegraded {
                degraded_after: self.degraded_after,
                unhealthy_after: self.unhealthy_after,
            });
        }
        if self.healthy_after == 0 {
            return Err(ConfigError::ZeroHealthyAfter);
        }
        Ok(())
    }
}

/// The health state machine of one agent, with its bounded transition history.
#[derive(Debug, Clone)]
pub(crate) struct HealthTracker {
    health: Health,
    failures: u32,
    successes: u32,
    history: VecDeque<(Instant, Health)>,
}

impl HealthTracker {
    pub(crate) fn new() -> Self {
        Self {
            health: Health::Healthy,
            failures: 0,
            successes: 0,
            history: VecDeque::new(),
        }
    }

    pub(crate) fn health(&self) -> Health {
        self.health
    }

    pub(crate) fn history(&self) -> Vec<(Instant, Health)> {
        self.history.iter().copied().collect()
    }

    /// Feeds one probe result; returns `Some((from, to))` when the state changed.
    pub(crate) fn record(
        &mut self,
        policy: &HealthPolicy,
        ok: bool,
        now: Instant,
    ) -> Option<(Health, Health)> {
        let from = self.health;
        let to = if ok {
            self.failures = 0;
            self.successes = self.successes.saturating_add(1);
            if from != Health::Healthy && self.successes >= policy.healthy_after {
                Health::Healthy
            } else {
                from
            }
        } else {
            self.successes = 0;
            self.failures = self.failures.saturating_add(1);
            let level = if self.failures >= policy.unhealthy_after {
                Health::Unhealthy
            } else if self.failures >= policy.degraded_after {
                Health::Degraded
            } else {
                Health::Healthy
            };
            from.max(level)
        };
        if to == from {
            return None;
        }
        self.health = to;
        if self.history.len() == HISTORY_LIMIT {
            self.history.pop_front();
        }
        self.history.push_back((now, to));
        Some((from, to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_walks_the_documented_path() {
        let p = HealthPolicy::default();
        let now = Instant::now();
        let mut t = HealthTracker::new();
        assert_eq!(t.health(), Health::Healthy);
        assert_eq!(
            t.record(&p, false, now),
            Some((Health::Healthy, Health::Degraded))
        );
        assert_eq!(t.record(&p, false, now), None);
        assert_eq!(
            t.record(&p, false, now),
            Some((Health::Degraded, Health::Unhealthy))
        );
        assert_eq!(t.record(&p, true, now), None);
        assert_eq!(
            t.record(&p, true, now),
            Some((Health::Unhealthy, Health::Healthy))
        );
        let states: Vec<Health> = t.history().into_iter().map(|(_, h)| h).collect();
        assert_eq!(
            states,
            [Health::Degraded, Health::Unhealthy, Health::Healthy]
        );
    }

    #[test]
    fn a_failure_never_improves_an_unhealthy_agent() {
        let p = HealthPolicy::default();
        let now = Instant::now();
        let mut t = HealthTracker::new();
        for _ in 0..3 {
            t.record(&p, false, now);
        }
        t.record(&p, true, now);
        assert_eq!(t.record(&p, false, now), None);
        assert_eq!(t.health(), Health::Unhealthy);
    }

    #[test]
    fn equal_thresholds_go_straight_to_unhealthy() {
        let p = HealthPolicy::new(2, 2, 1);
        let now = Instant::now();
        let mut t = HealthTracker::new();
        assert_eq!(t.record(&p, false, now), None);
        assert_eq!(
            t.record(&p, false, now),
            Some((Health::Healthy, Health::Unhealthy))
        );
        assert_eq!(
            t.record(&p, true, now),
            Some((Health::Unhealthy, Health::Healthy))
        );
    }

    #[test]
    fn history_keeps_the_last_64_transitions() {
        let p = HealthPolicy::new(1, 1, 1);
        let start = Instant::now();
        let mut t = HealthTracker::new();
        for i in 0..100u64 {
            t.record(&p, i % 2 == 1, start + std::time::Duration::from_secs(i));
        }
        let h = t.history();
        assert_eq!(h.len(), HISTORY_LIMIT);
        assert_eq!(h[0].0, start + std::time::Duration::from_secs(36));
        assert_eq!(
            h[HISTORY_LIMIT - 1],
            (start + std::time::Duration::from_secs(99), Health::Healthy)
        );
    }

    #[test]
    fn validation_names_the_bad_field() {
        assert_eq!(HealthPolicy::default().validate(), Ok(()));
        assert_eq!(
            HealthPolicy::new(0, 3, 2).validate(),
            Err(ConfigError::ZeroDegradedAfter)
        );
        let err = HealthPolicy::new(3, 2, 2).validate().unwrap_err();
        assert!(err.to_string().contains("unhealthy_after (2)"), "{err}");
        assert_eq!(
            HealthPolicy::new(1, 3, 0).validate(),
            Err(ConfigError::ZeroHealthyAfter)
        );
    }
}

//! The breaker's states and the transitions reported to listeners.

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

/// The state of a circuit breaker.
///
/// ```text
///            trip policy fires                 open time elapsed (lazily, on the next call)
///  Closed ─────────────────────────▶ Open ───────────────────────────▶ HalfOpen
///    ▲                                ▲                                   │ │
///    │                                └──── a trial fails (backoff) ──────┘ │
///    └────────────── enough trials succeed ─────────────────────────────────┘
/// ```
///
/// [`Breaker::reset`](crate::Breaker::reset) forces `Closed` from any state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum State {
    /// Calls pass through; outcomes feed the trip policy (the state a breaker starts in).
    #[default]
    Closed,
    /// Calls are rejected with [`CircuitOpen`](crate::CircuitOpen) until the open time has passed.
    Open,
    /// A limited number of trial calls pass; the rest are rejected.
    HalfOpen,
}

impl State {
    /// The lower-case name also used by [`Display`](fmt::Display): `closed`, `open`, `half-open`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half-open",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a breaker changed state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// The trip policy fired in `Closed`.
    Tripped {
        /// Failures counted by the policy when it fired (the consecutive failures, or the
        /// failures in the window).
        failures: u32,
        /// Calls counted by the policy when it fired (equal to `failures` for the consecutive
        /// policy, the calls in the window for the failure-rate policies).
        calls: u32,
    },
    /// `HalfOpen` saw the required number of successful trials.
    TrialsSucceeded,
    /// A trial call failed in `HalfOpen`.
    TrialFailed,
    /// The open time had passed when a call arrived.
    OpenElapsed,
    /// [`Breaker::reset`](crate::Breaker::reset) was called.
    Reset,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tripped { failures, calls } => {
                write!(f, "tripped ({failures} failures in {calls} calls)")
            }
            Self::TrialsSucceeded => f.write_str("trials succeeded"),
            Self::TrialFailed => f.write_str("trial failed"),
            Self::OpenElapsed => f.write_str("open time elapsed"),
            Self::Reset => f.write_str("reset"),
        }
    }
}

/// A state change, as passed to the listeners registered with
/// [`BreakerBuilder::on_transition`](crate::BreakerBuilder::on_transition).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Transition {
    /// The state before the change.
    pub from: State,
    /// The state after the change.
    pub to: State,
    /// When the change happened (tokio's clock, so paused in tests).
    pub at: Instant,
    /// Why it happened.
    pub reason: Reason,
    /// When `to` is [`State::Open`]: how long the breaker stays open (grows with backoff).
    pub open_for: Option<Duration>,
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {} ({})", self.from, self.to, self.reason)?;
        if let Some(open_for) = self.open_for {
            write!(f, " for {open_for:?}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_display_lower_case() {
        assert_eq!(State::Closed.to_string(), "closed");
        assert_eq!(State::Open.to_string(), "open");
        assert_eq!(State::HalfOpen.to_string(), "half-open");
    }

    #[test]
    fn transition_display_names_states_reason_and_open_time() {
        let t = Transition {
            from: State::HalfOpen,
            to: State::Open,
            at: Instant::now(),
            reason: Reason::TrialFailed,
            open_for: Some(Duration::from_millis(1500)),
        };
        assert_eq!(t.to_string(), "half-open -> open (trial failed) for 1.5s");
        let t = Transition {
            from: State::Closed,
            to: State::Open,
            at: Instant::now(),
            reason: Reason::Tripped {
                failures: 3,
                calls: 5,
            },
            open_for: None,
        };
        assert_eq!(
            t.to_string(),
            "closed -> open (tripped (3 failures in 5 calls))"
        );
    }
}

//! How delays grow ([`Strategy`]) and how they are randomised ([`Jitter`]).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::error::PolicyError;

/// How the delay before each retry grows, before [`Jitter`] and the caps apply.
///
/// The *n*-th retry (counting from 1) waits:
///
/// | strategy | delay before retry *n* | smallest delay (the floor) |
/// | --- | --- | --- |
/// | `Fixed { delay }` | `delay` | `delay` |
/// | `Exponential { initial, factor }` | `initial × factorⁿ⁻¹` | `initial` |
/// | `Linear { initial, increment }` | `initial + (n − 1) × increment` | `initial` |
/// | `Random { min, max }` | uniform in `[min, max]` | `min` |
///
/// A `Strategy` is only a description: its values are checked when a [`Policy`](crate::Policy) is
/// built from it ([`PolicyBuilder::build`](crate::PolicyBuilder::build)).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Strategy {
    /// The same delay every time.
    Fixed {
        /// The delay before every retry.
        delay: Duration,
    },
    /// A delay multiplied by `factor` after each retry. `factor` must be finite and at least 1
    /// (exactly 1 is a fixed delay); `initial` must be above zero.
    Exponential {
        /// The delay before the first retry.
        initial: Duration,
        /// What each delay is multiplied by to give the next one.
        factor: f64,
    },
    /// A delay that grows by `increment` after each retry.
    Linear {
        /// The delay before the first retry.
        initial: Duration,
        /// What is added to each delay to give the next one.
        increment: Duration,
    },
    /// A delay drawn uniformly from `[min, max]` (inclusive) before each retry. `min ≤ max`.
    Random {
        /// The smallest delay.
        min: Duration,
        /// The largest delay.
        max: Duration,
    },
}

impl Strategy {
    /// The strategy's name as written in workflow files: `"fixed"`, `"exponential"`, `"linear"` or
    /// `"random"`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_retry::Strategy;
    ///
    /// assert_eq!(Strategy::Fixed { delay: Duration::ZERO }.name(), "fixed");
    /// ```
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Fixed { .. } => "fixed",
            Self::Exponential { .. } => "exponential",
            Self::Linear { .. } => "linear",
            Self::Random { .. } => "random",
        }
    }

    /// The smallest delay the strategy produces: a policy's `max_delay` may not be below it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_retry::Strategy;
    ///
    /// let s = Strategy::Random { min: Duration::from_secs(1), max: Duration::from_secs(5) };
    /// assert_eq!(s.min_delay(), Duration::from_secs(1));
    /// ```
    #[must_use]
    pub fn min_delay(&self) -> Duration {
        self.floor().1
    }

    /// The smallest delay the strategy produces, with the name of the field that sets it.
    pub(crate) fn floor(&self) -> (&'static str, Duration) {
        match *self {
            Self::Fixed { delay } => ("delay", delay),
            Self::Exponential { initial, .. } | Self::Linear { initial, .. } => {
                ("initial", initial)
            }
            Self::Random { min, .. } => ("min", min),
        }
    }
}

/// Randomisation applied to each delay, as defined in the AWS Architecture Blog post
/// "Exponential Backoff And Jitter". `d` is the strategy's delay capped at `max_delay`.
///
/// | jitter | delay | range |
/// | --- | --- | --- |
/// | `None` | `d` | exactly `d` |
/// | `Full` | uniform in `[0, d]` | may be zero |
/// | `Equal` | `d/2 + ` uniform in `[0, d/2]` | `[d/2, d]` |
/// | `Decorrelated` | uniform in `[floor, max(s, 3 × previous)]`, capped | `[floor, max_delay]` |
///
/// Decorrelated jitter needs the previous delay (the first "previous" is the floor); `floor` is the
/// strategy's smallest delay and `s` its own delay for this retry. With a fixed strategy this is
/// exactly AWS's `min(cap, random_between(base, sleep × 3))`; with a growing strategy the range never
/// falls below the strategy's own schedule, so `factor` and `increment` still matter.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Jitter {
    /// No randomisation: the strategy's delay, capped.
    #[default]
    None,
    /// Uniform between zero and the delay ("full jitter"): spreads retries the most.
    Full,
    /// Half the delay plus a uniform share of the other half ("equal jitter").
    Equal,
    /// A random walk from the previous delay ("decorrelated jitter").
    Decorrelated,
}

impl Jitter {
    /// The jitter's name as written in workflow files: `"none"`, `"full"`, `"equal"` or
    /// `"decorrelated"`.
    ///
    /// ```
    /// use baton_retry::Jitter;
    ///
    /// assert_eq!(Jitter::Full.name(), "full");
    /// assert_eq!("full".parse::<Jitter>().unwrap(), Jitter::Full);
    /// ```
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Full => "full",
            Self::Equal => "equal",
            Self::Decorrelated => "decorrelated",
        }
    }
}

impl fmt::Display for Jitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Jitter {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Self::None),
            "full" => Ok(Self::Full),
            "equal" => Ok(Self::Equal),
            "decorrelated" => Ok(Self::Decorrelated),
            _ => Err(PolicyError::UnknownJitter { value: s.into() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_names_round_trip() {
        for j in [
            Jitter::None,
            Jitter::Full,
            Jitter::Equal,
            Jitter::Decorrelated,
        ] {
            assert_eq!(j.to_string().parse::<Jitter>(), Ok(j));
        }
        assert_eq!(
            "Full".parse::<Jitter>(),
            Err(PolicyError::UnknownJitter {
                value: "Full".into()
            })
        );
    }

    #[test]
    fn floors_name_their_field() {
        let s = Duration::from_secs(1);
        assert_eq!(Strategy::Fixed { delay: s }.floor(), ("delay", s));
        assert_eq!(
            Strategy::Exponential {
                initial: s,
                factor: 2.0
            }
            .floor(),
            ("initial", s)
        );
        assert_eq!(
            Strategy::Linear {
                initial: s,
                increment: s
            }
            .floor(),
            ("initial", s)
        );
        assert_eq!(Strategy::Random { min: s, max: 2 * s }.floor(), ("min", s));
    }
}

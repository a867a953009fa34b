//! The workflow-file form of a [`Policy`]: a flat table with human durations, checked field by field
//! so that errors name the field at fault.

use std::fmt;
use std::time::Duration;

use humantime::format_duration;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::PolicyError;
use crate::policy::Policy;
use crate::strategy::{Jitter, Strategy};

/// A policy as written in a file. Every field is optional here so that [`TryFrom`] can say which one
/// is missing, misplaced or malformed.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPolicy {
    strategy: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delay: Option<RawDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    initial: Option<RawDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    factor: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    increment: Option<RawDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min: Option<RawDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max: Option<RawDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_delay: Option<RawDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attempts: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_elapsed: Option<RawDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jitter: Option<String>,
}

/// A duration as written: a string to parse with humantime, or a bare number (an error, reported
/// with the field's name).
#[derive(Debug, Clone, PartialEq)]
enum RawDuration {
    Text(String),
    Number(f64),
}

impl RawDuration {
    fn from_duration(d: Duration) -> Self {
        Self::Text(format_duration(d).to_string())
    }

    fn parse(self, field: &'static str) -> Result<Duration, PolicyError> {
        let text = match self {
            Self::Number(n) if n < 0.0 => {
                return Err(PolicyError::NegativeDuration {
                    field,
                    value: n.to_string(),
                });
            }
            Self::Number(n) => {
                return Err(PolicyError::InvalidDuration {
                    field,
                    value: n.to_string(),
                    reason: "a bare number has no unit".into(),
                });
            }
            Self::Text(text) => text,
        };
        if text.trim_start().starts_with('-') {
            return Err(PolicyError::NegativeDuration {
                field,
                value: format!("{text:?}"),
            });
        }
        humantime::parse_duration(&text).map_err(|e| PolicyError::InvalidDuration {
            field,
            value: format!("{text:?}"),
            reason: e.to_string(),
        })
    }
}

impl Serialize for RawDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Text(text) => serializer.serialize_str(text),
            Self::Number(n) => serializer.serialize_f64(*n),
        }
    }
}

impl<'de> Deserialize<'de> for RawDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RawVisitor;

        impl Visitor<'_> for RawVisitor {
            type Value = RawDuration;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"250ms\", \"5s\" or \"2m\"")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawDuration, E> {
                Ok(RawDuration::Text(v.to_owned()))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawDuration, E> {
                Ok(RawDuration::Number(v as f64))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawDuration, E> {
                Ok(RawDuration::Number(v as f64))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawDuration, E> {
                Ok(RawDuration::Number(v))
            }
        }

        deserializer.deserialize_any(RawVisitor)
    }
}

/// The strategies of the file form. Every match on it is exhaustive, so a new strategy is a
/// compile error here until it is read, never mistaken for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Fixed,
    Exponential,
    Linear,
    Random,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Fixed, Kind::Exponential, Kind::Linear, Kind::Random];

    /// Its name in a file (and [`Strategy::name`]).
    fn name(self) -> &'static str {
        match self {
            Kind::Fixed => "fixed",
            Kind::Exponential => "exponential",
            Kind::Linear => "linear",
            Kind::Random => "random",
        }
    }

    fn of(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The strategy-specific fields it takes.
    fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Fixed => &["delay"],
            Kind::Exponential => &["initial", "factor"],
            Kind::Linear => &["initial", "increment"],
            Kind::Random => &["min", "max"],
        }
    }

    /// The strategies that take `field`, quoted, for messages: `"exponential" or "linear"`.
    fn taking(field: &str) -> &'static str {
        match field {
            "delay" => "\"fixed\"",
            "initial" => "\"exponential\" or \"linear\"",
            "factor" => "\"exponential\"",
            "increment" => "\"linear\"",
            _ => "\"random\"",
        }
    }
}

fn required(
    value: Option<RawDuration>,
    field: &'static str,
    strategy: &'static str,
) -> Result<Duration, PolicyError> {
    value
        .ok_or(PolicyError::MissingField { field, strategy })?
        .parse(field)
}

impl TryFrom<RawPolicy> for Policy {
    type Error = PolicyError;

    fn try_from(raw: RawPolicy) -> Result<Self, PolicyError> {
        let Some(kind) = Kind::of(&raw.strategy) else {
            return Err(PolicyError::UnknownStrategy {
                value: raw.strategy,
            });
        };
        let strategy = kind.name();
        // Each strategy-specific field given, by name, against the strategy's own list.
        let given = [
            ("delay", raw.delay.is_some()),
            ("initial", raw.initial.is_some()),
            ("factor", raw.factor.is_some()),
            ("increment", raw.increment.is_some()),
            ("min", raw.min.is_some()),
            ("max", raw.max.is_some()),
        ];
        if let Some((field, _)) = given
            .into_iter()
            .find(|&(field, present)| present && !kind.fields().contains(&field))
        {
            return Err(PolicyError::FieldNotForStrategy {
                field,
                valid_with: Kind::taking(field),
                strategy,
            });
        }
        let strategy = match kind {
            Kind::Fixed => Strategy::Fixed {
                delay: required(raw.delay, "delay", strategy)?,
            },
            Kind::Exponential => Strategy::Exponential {
                initial: required(raw.initial, "initial", strategy)?,
                // Doubling is what most people mean by exponential backoff.
                factor: raw.factor.unwrap_or(Policy::DEFAULT_FACTOR),
            },
            Kind::Linear => Strategy::Linear {
                initial: required(raw.initial, "initial", strategy)?,
                increment: required(raw.increment, "increment", strategy)?,
            },
            Kind::Random => Strategy::Random {
                min: required(raw.min, "min", strategy)?,
                max: required(raw.max, "max", strategy)?,
            },
        };
        let mut builder = Policy::builder(strategy);
        if let Some(attempts) = raw.attempts {
            let attempts =
                u32::try_from(attempts).map_err(|_| PolicyError::InvalidAttempts { attempts })?;
            builder = builder.attempts(attempts);
        }
        if let Some(max_delay) = raw.max_delay {
            builder = builder.max_delay(max_delay.parse("max_delay")?);
        }
        if let Some(max_elapsed) = raw.max_elapsed {
            builder = builder.max_elapsed(max_elapsed.parse("max_elapsed")?);
        }
        if let Some(jitter) = raw.jitter {
            builder = builder.jitter(jitter.parse::<Jitter>()?);
        }
        builder.build()
    }
}

impl From<Policy> for RawPolicy {
    fn from(policy: Policy) -> Self {
        let d = RawDuration::from_duration;
        let mut raw = RawPolicy {
            strategy: policy.strategy().name().to_owned(),
            attempts: Some(i64::from(policy.attempts())),
            max_delay: policy.max_delay().map(d),
            max_elapsed: policy.max_elapsed().map(d),
            jitter: Some(policy.jitter().name().to_owned()),
            ..RawPolicy::default()
        };
        match policy.strategy() {
            Strategy::Fixed { delay } => raw.delay = Some(d(delay)),
            Strategy::Exponential { initial, factor } => {
                raw.initial = Some(d(initial));
                raw.factor = Some(factor);
            }
            Strategy::Linear { initial, increment } => {
                raw.initial = Some(d(initial));
                raw.increment = Some(d(increment));
            }
            Strategy::Random { min, max } => {
                raw.min = Some(d(min));
                raw.max = Some(d(max));
            }
        }
        raw
    }
}

impl Serialize for Policy {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        RawPolicy::from(*self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Policy {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawPolicy::deserialize(deserializer)?;
        Policy::try_from(raw).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strategies_taking_a_field_are_the_ones_listing_it() {
        for field in ["delay", "initial", "factor", "increment", "min", "max"] {
            let listed: Vec<String> = Kind::ALL
                .into_iter()
                .filter(|k| k.fields().contains(&field))
                .map(|k| format!("\"{}\"", k.name()))
                .collect();
            assert_eq!(Kind::taking(field), listed.join(" or "), "{field}");
        }
        for kind in Kind::ALL {
            assert_eq!(Kind::of(kind.name()), Some(kind));
            // Each name reads as the strategy of that name, with its own fields.
            let field = |name: &str| {
                kind.fields()
                    .contains(&name)
                    .then(|| RawDuration::Text("1s".into()))
            };
            let raw = RawPolicy {
                strategy: kind.name().to_owned(),
                delay: field("delay"),
                initial: field("initial"),
                increment: field("increment"),
                min: field("min"),
                max: field("max"),
                ..RawPolicy::default()
            };
            let policy = Policy::try_from(raw).unwrap();
            assert_eq!(policy.strategy().name(), kind.name());
        }
        assert_eq!(Kind::of("Random"), None, "names are exact");
    }

    fn raw(strategy: &str) -> RawPolicy {
        RawPolicy {
            strategy: strategy.into(),
            ..RawPolicy::default()
        }
    }

    fn text(s: &str) -> Option<RawDuration> {
        Some(RawDuration::Text(s.into()))
    }

    #[test]
    fn durations_are_parsed_with_their_field_named() {
        assert_eq!(
            RawDuration::Text("1m 30s".into()).parse("delay"),
            Ok(Duration::from_secs(90))
        );
        let err = RawDuration::Text("-5s".into()).parse("delay").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`delay` = \"-5s\" is negative: delays and caps cannot be below zero"
        );
        let err = RawDuration::Number(-1.0).parse("min").unwrap_err();
        assert_eq!(err.field(), Some("min"));
        let err = RawDuration::Number(5.0).parse("initial").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`initial` = 5 is not a duration: a bare number has no unit"),
            "{err}"
        );
        let err = RawDuration::Text("5 parsecs".into())
            .parse("max")
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`max` = \"5 parsecs\" is not a duration: "),
            "{err}"
        );
    }

    #[test]
    fn fields_must_belong_to_the_strategy() {
        let err = Policy::try_from(RawPolicy {
            delay: text("1s"),
            factor: Some(2.0),
            ..raw("fixed")
        })
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`factor` is only valid with strategy = \"exponential\" (this policy has strategy = \"fixed\")"
        );
        let err = Policy::try_from(RawPolicy {
            initial: text("1s"),
            ..raw("random")
        })
        .unwrap_err();
        assert_eq!(err.field(), Some("initial"));
        let doubling = Policy::try_from(RawPolicy {
            initial: text("1s"),
            ..raw("exponential")
        })
        .unwrap();
        assert_eq!(
            doubling.strategy(),
            Strategy::Exponential {
                initial: Duration::from_secs(1),
                factor: 2.0
            },
            "an exponential policy without `factor` doubles"
        );
        let err = Policy::try_from(raw("Fixed")).unwrap_err();
        assert_eq!(err.field(), Some("strategy"));
    }

    #[test]
    fn attempts_out_of_range_are_rejected() {
        for attempts in [0, -1, i64::from(u32::MAX) + 1] {
            let err = Policy::try_from(RawPolicy {
                delay: text("1s"),
                attempts: Some(attempts),
                ..raw("fixed")
            })
            .unwrap_err();
            assert_eq!(err, PolicyError::InvalidAttempts { attempts });
        }
    }

    #[test]
    fn policies_convert_to_raw_and_back() {
        let policies = [
            Policy::default(),
            Policy::no_retry(),
            Policy::linear(Duration::from_millis(1), Duration::from_nanos(1))
                .max_elapsed(Duration::from_secs(3600))
                .jitter(Jitter::Decorrelated)
                .build()
                .unwrap(),
            Policy::random(Duration::ZERO, Duration::from_secs(1))
                .attempts(u32::MAX)
                .jitter(Jitter::Equal)
                .build()
                .unwrap(),
        ];
        for policy in policies {
            assert_eq!(Policy::try_from(RawPolicy::from(policy)), Ok(policy));
        }
    }
}

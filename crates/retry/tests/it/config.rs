//! Policies in workflow files: the documented TOML shape, every strategy, and the error messages.

use std::time::Duration;

use baton_retry::{Jitter, Policy, Strategy};

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Task {
    retry: Policy,
}

fn parse(fields: &str) -> Result<Policy, String> {
    toml::from_str::<Task>(&format!("retry = {{ {fields} }}"))
        .map(|task| task.retry)
        .map_err(|e| e.to_string())
}

#[test]
fn the_documented_shape_parses() {
    let policy = parse(
        r#"strategy = "exponential", initial = "100ms", factor = 2.0, max_delay = "10s",
           attempts = 5, max_elapsed = "1m", jitter = "full""#,
    )
    .unwrap();
    let expected = Policy::exponential(Duration::from_millis(100), 2.0)
        .max_delay(Duration::from_secs(10))
        .attempts(5)
        .max_elapsed(Duration::from_secs(60))
        .jitter(Jitter::Full)
        .build()
        .unwrap();
    assert_eq!(policy, expected);
}

#[test]
fn every_strategy_parses_with_defaults() {
    let s = Duration::from_secs;
    let cases = [
        (
            r#"strategy = "fixed", delay = "250ms""#,
            Strategy::Fixed {
                delay: Duration::from_millis(250),
            },
        ),
        (
            r#"strategy = "exponential", initial = "1s", factor = 3"#,
            Strategy::Exponential {
                initial: s(1),
                factor: 3.0,
            },
        ),
        (
            r#"strategy = "linear", initial = "1s", increment = "2m""#,
            Strategy::Linear {
                initial: s(1),
                increment: s(120),
            },
        ),
        (
            r#"strategy = "random", min = "1s", max = "1h 30m""#,
            Strategy::Random {
                min: s(1),
                max: s(5400),
            },
        ),
    ];
    for (fields, strategy) in cases {
        let policy = parse(fields).unwrap();
        assert_eq!(policy.strategy(), strategy, "{fields}");
        assert_eq!(policy.attempts(), Policy::DEFAULT_ATTEMPTS);
        assert_eq!(policy.jitter(), Jitter::None);
        assert_eq!((policy.max_delay(), policy.max_elapsed()), (None, None));
    }
}

#[test]
fn serializes_back_to_the_same_shape() {
    let policy = parse(
        r#"strategy = "exponential", initial = "100ms", factor = 2.0, max_delay = "10s",
           attempts = 5, max_elapsed = "1m", jitter = "full""#,
    )
    .unwrap();
    let text = toml::to_string(&Task { retry: policy }).unwrap();
    assert_eq!(
        text.trim(),
        r#"[retry]
strategy = "exponential"
initial = "100ms"
factor = 2.0
max_delay = "10s"
attempts = 5
max_elapsed = "1m"
jitter = "full""#
    );
    let json =
        serde_json::to_value(Policy::fixed(Duration::from_millis(1500)).build().unwrap()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({ "strategy": "fixed", "delay": "1s 500ms", "attempts": 3, "jitter": "none" })
    );
}

#[test]
fn errors_say_what_and_where() {
    let cases = [
        (
            r#"strategy = "fixed", delay = "1s", factor = 2.0"#,
            "`factor` is only valid with strategy = \"exponential\" (this policy has strategy = \"fixed\")",
        ),
        (
            r#"strategy = "exponential", initial = "1s", factor = 0.5"#,
            "`factor` must be a finite number of at least 1 (1 keeps the delay fixed), got 0.5",
        ),
        (
            r#"strategy = "random", min = "2s", max = "1s""#,
            "`min` (2s) is above `max` (1s)",
        ),
        (
            r#"strategy = "fixed", delay = "1s", attempts = 0"#,
            "`attempts` must be between 1 and 4294967295 (it counts the first try too), got 0",
        ),
        (
            r#"strategy = "fixed", delay = "-1s""#,
            "`delay` = \"-1s\" is negative: delays and caps cannot be below zero",
        ),
        (
            r#"strategy = "fixed", delay = "1s", max_delay = "500ms""#,
            "`max_delay` (500ms) is below `delay` (1s): every delay would be cut to the cap",
        ),
        (
            r#"strategy = "linear", initial = "1s""#,
            "strategy = \"linear\" needs `increment`",
        ),
        (
            r#"strategy = "fixed", delay = "1s", jitter = "Full""#,
            "`jitter` = \"Full\" is unknown: expected \"none\", \"full\", \"equal\" or \"decorrelated\"",
        ),
        (
            r#"strategy = "fixed", delay = "1s", tries = 3"#,
            "unknown field `tries`",
        ),
    ];
    for (fields, message) in cases {
        let err = parse(fields).unwrap_err();
        assert!(
            err.contains(message),
            "{fields}\nexpected: {message}\ngot: {err}"
        );
    }
    let err = parse(r#"strategy = "fixed", delay = "5 parsecs""#).unwrap_err();
    assert!(
        err.contains("`delay` = \"5 parsecs\" is not a duration: "),
        "{err}"
    );
    assert!(
        err.contains("(write it like \"250ms\", \"5s\" or \"2m\")"),
        "{err}"
    );
}

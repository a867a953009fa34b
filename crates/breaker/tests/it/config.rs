//! Every `ConfigError`, each naming its field.

use std::time::Duration;

use baton_breaker::{
    Breaker, BreakerBuilder, ConfigError, MAX_CONSECUTIVE_FAILURES, MAX_TRIALS, Trip, Window,
};

fn err(builder: BreakerBuilder) -> ConfigError {
    builder.build().expect_err("invalid configuration")
}

#[test]
fn every_config_error_names_its_field() {
    let b = Breaker::builder;
    let cases: Vec<(ConfigError, &str)> = vec![
        (
            err(b().trip(Trip::consecutive_failures(0))),
            "consecutive_failures",
        ),
        (
            err(b().trip(Trip::consecutive_failures(MAX_CONSECUTIVE_FAILURES + 1))),
            "consecutive_failures",
        ),
        (
            err(b().trip(Trip::failure_rate(0.0, Window::Calls(10), 5))),
            "rate",
        ),
        (
            err(b().trip(Trip::failure_rate(1.5, Window::Calls(10), 5))),
            "rate",
        ),
        (
            err(b().trip(Trip::failure_rate(f64::NAN, Window::Calls(10), 5))),
            "rate",
        ),
        (
            err(b().trip(Trip::failure_rate(0.5, Window::Calls(0), 0))),
            "window",
        ),
        (
            err(b().trip(Trip::failure_rate(0.5, Window::Time(Duration::ZERO), 5))),
            "window",
        ),
        (
            err(b().trip(Trip::failure_rate(0.5, Window::Calls(10), 20))),
            "min_calls",
        ),
        (err(b().open_for(Duration::ZERO)), "open_for"),
        (
            err(b().backoff(0.5, Duration::from_secs(60))),
            "backoff: factor",
        ),
        (
            err(b().backoff(f64::NAN, Duration::from_secs(60))),
            "backoff: factor",
        ),
        (
            err(b()
                .open_for(Duration::from_secs(10))
                .backoff(2.0, Duration::from_secs(5))),
            "backoff: max",
        ),
        (err(b().half_open_trials(0)), "half_open_trials"),
        (
            err(b().half_open_trials(MAX_TRIALS + 1)),
            "half_open_trials",
        ),
        (err(b().half_open_successes(0)), "half_open_successes"),
        (
            err(b().half_open_successes(MAX_TRIALS + 1)),
            "half_open_successes",
        ),
    ];
    for (error, field) in &cases {
        assert!(
            error.to_string().contains(field),
            "{error} should name {field}"
        );
    }
    assert_eq!(cases[0].0, ConfigError::ZeroConsecutiveFailures);
    assert_eq!(
        cases[5].0,
        ConfigError::ZeroWindow {
            window: Window::Calls(0)
        }
    );
    assert_eq!(
        cases[7].0,
        ConfigError::WindowSmallerThanMinCalls {
            window: 10,
            min_calls: 20
        }
    );
    assert_eq!(cases[8].0, ConfigError::ZeroOpenDuration);
    assert_eq!(
        cases[11].0,
        ConfigError::BackoffMaxBelowOpenFor {
            max: Duration::from_secs(5),
            open_for: Duration::from_secs(10)
        }
    );
    assert_eq!(cases[12].0, ConfigError::ZeroTrials);
    assert_eq!(cases[14].0, ConfigError::ZeroSuccesses);
    assert_eq!(
        cases[7].0.to_string(),
        "trip: failure_rate window Calls(10) is smaller than min_calls (20), so the rate would never count"
    );
}

#[test]
fn boundary_values_are_accepted() {
    let b = Breaker::builder;
    b().trip(Trip::consecutive_failures(MAX_CONSECUTIVE_FAILURES))
        .build()
        .expect("max count");
    b().trip(Trip::failure_rate(1.0, Window::Calls(5), 5))
        .build()
        .expect("rate 1, window = min");
    b().trip(Trip::failure_rate(
        0.5,
        Window::Time(Duration::from_nanos(1)),
        0,
    ))
    .build()
    .expect("1 ns");
    b().open_for(Duration::from_secs(5))
        .backoff(1.0, Duration::from_secs(5))
        .build()
        .expect("max = open_for");
    b().half_open_trials(MAX_TRIALS)
        .build()
        .expect("max trials");
    let breaker = b().build().expect("defaults");
    assert_eq!(breaker.trip_policy(), Trip::consecutive_failures(5));
}

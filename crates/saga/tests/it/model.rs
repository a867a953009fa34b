//! Model-based property test: random steps, pivot position and injected failures, checked
//! against a reference model of the saga rules.

use std::sync::Arc;
use std::time::Duration;

use baton_saga::{Abort, FailureKind, Outcome};
use proptest::prelude::*;

use crate::common::{Calls, Script, name, saga};

/// What the reference model expects.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Expected {
    Completed,
    Compensated {
        failed: usize,
        undone: Vec<usize>,
    },
    CompensationFailed {
        failed: usize,
        comp: usize,
        undone: Vec<usize>,
    },
    Stuck {
        step: usize,
    },
}

pub(crate) const ATTEMPTS: u32 = 3;

/// The reference model: the successful calls, in order, the outcome and the final context.
pub(crate) fn model(
    scripts: &[Script],
    pivot: Option<usize>,
) -> (Vec<(bool, usize)>, Expected, Vec<usize>) {
    let mut calls = Vec::new();
    let mut ctx = Vec::new();
    for (i, s) in scripts.iter().enumerate() {
        if s.action_fails < ATTEMPTS {
            calls.push((true, i));
            ctx.push(i);
            continue;
        }
        if pivot.is_some_and(|p| i > p) {
            return (calls, Expected::Stuck { step: i }, ctx);
        }
        let mut undone = Vec::new();
        for j in (0..i).rev() {
            if scripts[j].comp_fails >= ATTEMPTS {
                return (
                    calls,
                    Expected::CompensationFailed {
                        failed: i,
                        comp: j,
                        undone,
                    },
                    ctx,
                );
            }
            calls.push((false, j));
            ctx.retain(|&k| k != j);
            undone.push(j);
        }
        return (calls, Expected::Compensated { failed: i, undone }, ctx);
    }
    (calls, Expected::Completed, ctx)
}

/// Checks an outcome against the model's expectation.
pub(crate) fn check(outcome: &Outcome<Vec<usize>>, expected: &Expected, ctx: &[usize]) {
    let names = |v: &[usize]| {
        v.iter()
            .map(|&i| Arc::from(name(i)))
            .collect::<Vec<Arc<str>>>()
    };
    assert_eq!(outcome.context().as_slice(), ctx, "context");
    match (outcome, expected) {
        (Outcome::Completed { .. }, Expected::Completed) => {}
        (
            Outcome::Compensated {
                cause: Abort::Failed(f),
                compensated,
                ..
            },
            Expected::Compensated { failed, undone },
        ) => {
            assert_eq!(f.step, name(*failed));
            assert_eq!(compensated, &names(undone));
        }
        (
            Outcome::CompensationFailed {
                cause: Abort::Failed(f),
                error,
                compensated,
                ..
            },
            Expected::CompensationFailed {
                failed,
                comp,
                undone,
            },
        ) => {
            assert_eq!(f.step, name(*failed));
            assert_eq!(error.step, name(*comp));
            assert_eq!(compensated, &names(undone));
        }
        (Outcome::Stuck { error, .. }, Expected::Stuck { step }) => {
            assert_eq!(error.step, name(*step));
            assert!(!matches!(error.kind, FailureKind::Cancelled));
        }
        (got, want) => panic!("outcome {got:?}, expected {want:?}"),
    }
}

/// A failure count: mostly none, sometimes transient (retried away), sometimes permanent.
fn fails() -> impl Strategy<Value = u32> {
    prop_oneof![6 => Just(0u32), 2 => 1u32..ATTEMPTS, 2 => Just(u32::MAX)]
}

pub(crate) fn scripts(delay: bool) -> impl Strategy<Value = (Vec<Script>, Option<usize>)> {
    let script = (fails(), fails(), 0u64..3).prop_map(move |(a, c, d)| Script {
        action_fails: a,
        comp_fails: c,
        delay: if delay {
            Duration::from_millis(5 + d * 5)
        } else {
            Duration::ZERO
        },
    });
    prop::collection::vec(script, 1..9).prop_flat_map(|scripts| {
        let n = scripts.len();
        (Just(scripts), prop::option::of(0..n))
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn saga_matches_the_model((scripts, pivot) in scripts(true)) {
        let calls = Calls::default();
        let saga = saga(&scripts, pivot, &calls);
        let outcome = runtime().block_on(saga.run(Vec::new()));
        let (want_calls, expected, ctx) = model(&scripts, pivot);
        check(&outcome, &expected, &ctx);
        prop_assert_eq!(&*calls.lock().unwrap(), &want_calls);
    }
}

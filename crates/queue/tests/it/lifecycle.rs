//! The task lifecycle checked against an independent transition table.

use baton_queue::TaskState::{self, *};
use proptest::prelude::*;

/// The legal moves, written out from the specification (independently of `successors`).
const LEGAL: &[(TaskState, TaskState)] = &[
    (Pending, Queued),
    (Pending, Cancelled),
    (Pending, Skipped),
    (Queued, Running),
    (Queued, Failed),
    (Queued, Cancelled),
    (Queued, Skipped),
    (Running, Succeeded),
    (Running, Failed),
    (Running, Cancelled),
    (Running, TimedOut),
    (Running, Retrying),
    (Retrying, Queued),
    (Retrying, Running),
    (Retrying, Failed),
    (Retrying, Cancelled),
    (Retrying, Skipped),
    (Succeeded, Compensating),
    (Compensating, Compensated),
    (Compensating, Failed),
];

const TERMINAL: &[TaskState] = &[Succeeded, Failed, Cancelled, TimedOut, Skipped, Compensated];

#[test]
fn every_pair_matches_the_table() {
    assert_eq!(TaskState::ALL.len(), 11);
    let mut legal = 0;
    for from in TaskState::ALL {
        for to in TaskState::ALL {
            let expected = LEGAL.contains(&(from, to));
            assert_eq!(from.can_transition_to(to), expected, "{from} -> {to}");
            match from.transition(to) {
                Ok(next) => {
                    assert!(expected, "{from} -> {to} accepted");
                    assert_eq!(next, to);
                    legal += 1;
                }
                Err(err) => {
                    assert!(!expected, "{from} -> {to} rejected");
                    assert_eq!((err.from(), err.to()), (from, to));
                    assert_eq!(
                        err.to_string(),
                        format!("illegal task state transition from {from} to {to}")
                    );
                }
            }
        }
        assert_eq!(from.is_terminal(), TERMINAL.contains(&from), "{from}");
    }
    assert_eq!(legal, LEGAL.len());
}

#[test]
fn names_are_snake_case() {
    let names: Vec<String> = TaskState::ALL.iter().map(ToString::to_string).collect();
    assert_eq!(
        names,
        [
            "pending",
            "queued",
            "running",
            "retrying",
            "succeeded",
            "failed",
            "cancelled",
            "timed_out",
            "skipped",
            "compensating",
            "compensated"
        ]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Random walks: each requested move succeeds exactly when the table allows it, an illegal
    /// one leaves the state unchanged, and a walk that reaches a terminal state other than
    /// `Succeeded` can never leave it.
    #[test]
    fn random_walks_follow_the_table(targets in prop::collection::vec(0..11usize, 1..40)) {
        let mut state = Pending;
        for t in targets {
            let to = TaskState::ALL[t];
            let legal = LEGAL.contains(&(state, to));
            match state.transition(to) {
                Ok(next) => {
                    prop_assert!(legal, "{} -> {} accepted", state, to);
                    state = next;
                }
                Err(err) => {
                    prop_assert!(!legal, "{} -> {} rejected", state, to);
                    prop_assert_eq!((err.from(), err.to()), (state, to));
                    if state.is_terminal() && state != Succeeded {
                        prop_assert!(state.successors().is_empty());
                    }
                }
            }
        }
    }
}

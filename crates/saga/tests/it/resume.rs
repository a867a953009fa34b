//! Interruption and resume: a run dropped at a random point and resumed from its log reaches the
//! model's outcome, with no completed action or compensation run twice.

use std::time::Duration;

use baton_saga::{EntryKind, InMemoryLog, OutcomeKind, SagaError};
use proptest::prelude::*;

use crate::common::{Calls, Script, saga};
use crate::model::{check, model, scripts};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

/// Runs, drops the run after `stop_ms` (virtual), resumes; then checks against the model.
fn interrupted(
    scripts: &[Script],
    pivot: Option<usize>,
    stop_ms: u64,
) -> Result<(), TestCaseError> {
    let calls = Calls::default();
    let saga = saga(scripts, pivot, &calls);
    let log = InMemoryLog::new();
    let outcome = runtime().block_on(async {
        let first = tokio::time::timeout(
            Duration::from_millis(stop_ms),
            saga.run_with(Vec::new(), &log, None),
        )
        .await;
        match first {
            Ok(done) => done.unwrap(),
            Err(_elapsed) => saga.resume(&log, None).await.unwrap(),
        }
    });
    let (want_calls, expected, ctx) = model(scripts, pivot);
    check(&outcome, &expected, &ctx);
    // Every successful call happened exactly once, in the model's order.
    prop_assert_eq!(&*calls.lock().unwrap(), &want_calls);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn resume_after_interruption_matches_an_uninterrupted_run(
        (scripts, pivot) in scripts(true),
        stop_ms in 0u64..150,
    ) {
        interrupted(&scripts, pivot, stop_ms)?;
    }

    /// A crash after any number of log writes (the log truncated there), then resume.
    #[test]
    fn resume_from_any_log_prefix_matches_the_model(
        (scripts, pivot) in scripts(false),
        cut in any::<prop::sample::Index>(),
    ) {
        let calls = Calls::default();
        let saga = saga(&scripts, pivot, &calls);
        let log = InMemoryLog::new();
        let rt = runtime();
        rt.block_on(saga.run_with(Vec::new(), &log, None)).unwrap();
        let n = log.len();
        let cut = 1 + cut.index(n - 1); // keep `saga_started`, drop at least `finished`
        let crashed = log.truncated(cut);
        // Calls logged as done before the cut are not repeated; everything after is made once.
        let done = crashed
            .entries()
            .iter()
            .filter(|e| matches!(e.kind, EntryKind::Completed | EntryKind::Compensated))
            .count();
        // The steps' attempt counters go on from the first run, so rebuild the saga fresh, and
        // replay only the calls the crashed prefix had made.
        let calls2 = Calls::default();
        let fresh = crate::common::saga(&scripts, pivot, &calls2);
        let outcome = rt.block_on(fresh.resume(&crashed, None)).unwrap();
        let (want_calls, expected, ctx) = model(&scripts, pivot);
        check(&outcome, &expected, &ctx);
        prop_assert_eq!(&*calls2.lock().unwrap(), &want_calls[done..]);
    }
}

#[tokio::test(start_paused = true)]
async fn resume_of_a_finished_or_empty_log_is_an_error() {
    let calls = Calls::default();
    let saga = saga(&[Script::default()], None, &calls);
    let log = InMemoryLog::new();
    saga.run_with(Vec::new(), &log, None).await.unwrap();
    let err = saga.resume(&log, None).await.unwrap_err();
    assert!(matches!(
        err,
        SagaError::AlreadyFinished {
            outcome: OutcomeKind::Completed,
            ..
        }
    ));
    let err = saga.resume(&InMemoryLog::new(), None).await.unwrap_err();
    assert!(matches!(err, SagaError::NotStarted { .. }));
    assert!(err.to_string().contains("`scripted`"));
}

#[tokio::test(start_paused = true)]
async fn resume_rejects_a_log_of_another_saga() {
    let calls = Calls::default();
    let two = saga(&[Script::default(), Script::default()], None, &calls);
    let log = InMemoryLog::new();
    two.run_with(Vec::new(), &log, None).await.unwrap();
    let one = saga(&[Script::default()], None, &calls);
    let err = one.resume(&log.truncated(5), None).await.unwrap_err();
    assert!(
        matches!(err, SagaError::StepMismatch { index: 1, ref expected, .. } if expected == "missing"),
        "{err}"
    );
}

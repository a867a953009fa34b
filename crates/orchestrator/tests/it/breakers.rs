//! Circuit breakers on tasks: an open breaker fails the task fast, a saga compensates instead of
//! hammering the dependency, and attempts' outcomes feed the breaker.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use baton_orchestrator::{
    Breaker, BreakerState, FailureMode, Policy, RunOutcome, Task, TaskError, TaskState, Trip,
    Workflow,
};

use crate::support::{Log, ms, orchestrator};

/// A task that counts its calls and fails or succeeds as told.
fn counted(id: &str, calls: &Arc<AtomicU32>, fail: bool) -> Task {
    let calls = Arc::clone(calls);
    Task::new(id, move |_| {
        calls.fetch_add(1, SeqCst);
        async move {
            if fail {
                Err(TaskError::msg("503 from the payment service"))
            } else {
                Ok(())
            }
        }
    })
}

fn breaker(failures: u32) -> Breaker {
    Breaker::builder()
        .trip(Trip::consecutive_failures(failures))
        .open_for(Duration::from_secs(30))
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_saga_whose_dependency_breaker_is_open_compensates_without_calling_it() {
    let payments = breaker(1);
    // Another caller already saw the payment service fail: the breaker is open.
    payments.try_acquire().unwrap().failure();
    assert_eq!(payments.state(), BreakerState::Open);

    let log = Log::default();
    let undo = log.clone();
    let calls = Arc::new(AtomicU32::new(0));
    let workflow = Workflow::builder("order")
        .task(
            Task::new("reserve", |_| async { Ok(()) }).compensate(move |_| {
                let undo = undo.clone();
                async move {
                    undo.push("undo reserve");
                    Ok(())
                }
            }),
        )
        .task(
            counted("charge", &calls, false)
                .needs(["reserve"])
                .breaker(payments.clone())
                .retry(Policy::fixed(ms(10)).attempts(5).build().unwrap()),
        )
        .saga(true)
        .build()
        .unwrap();
    let report = orchestrator(2).run(&workflow).await.unwrap();
    assert_eq!(calls.load(SeqCst), 0, "the dependency was never called");
    let charge = report.task("charge").unwrap();
    assert_eq!((charge.state, charge.attempts), (TaskState::Failed, 0));
    assert!(
        charge.error.as_deref().unwrap().starts_with("circuit open"),
        "{charge:?}"
    );
    assert_eq!(
        report.task("reserve").unwrap().state,
        TaskState::Compensated
    );
    assert_eq!(log.entries(), ["undo reserve"]);
    assert_eq!(payments.stats().rejected, 1);
}

#[tokio::test(start_paused = true)]
async fn failing_attempts_trip_the_breaker_and_later_attempts_fail_fast() {
    let service = breaker(2);
    let calls = Arc::new(AtomicU32::new(0));
    let workflow = Workflow::builder("flaky")
        .task(
            counted("call", &calls, true)
                .breaker(service.clone())
                .retry(Policy::fixed(ms(10)).attempts(5).build().unwrap()),
        )
        .build()
        .unwrap();
    let report = orchestrator(1).run(&workflow).await.unwrap();
    // Two failures trip it; the third attempt is refused without a call.
    assert_eq!(calls.load(SeqCst), 2);
    let call = report.task("call").unwrap();
    assert_eq!((call.state, call.attempts), (TaskState::Failed, 2));
    assert!(call.error.as_deref().unwrap().starts_with("circuit open"));
    assert_eq!(service.state(), BreakerState::Open);
    assert_eq!((service.stats().failures, service.stats().rejected), (2, 1));
}

#[tokio::test(start_paused = true)]
async fn one_breaker_shared_by_tasks_protects_them_all_and_successes_count() {
    let shared = breaker(3);
    let ok_calls = Arc::new(AtomicU32::new(0));
    let workflow = Workflow::builder("shared")
        .tasks((0..4).map(|i| counted(&format!("ok{i}"), &ok_calls, false).breaker(shared.clone())))
        .failure_mode(FailureMode::Continue)
        .build()
        .unwrap();
    let report = orchestrator(2).run(&workflow).await.unwrap();
    assert_eq!(report.outcome, RunOutcome::Succeeded);
    assert_eq!(ok_calls.load(SeqCst), 4);
    assert_eq!(shared.stats().successes, 4);
    assert_eq!(shared.state(), BreakerState::Closed);
}

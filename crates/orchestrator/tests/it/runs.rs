//! Several runs on one orchestrator.

use std::time::Duration;

use baton_orchestrator::{BuildError, Orchestrator, Priority, RunOutcome, TaskState, Workflow};

use crate::support::{Log, logged, ms, noop, orchestrator, sleeper};

#[tokio::test(start_paused = true)]
async fn concurrent_runs_share_the_workers_and_priorities_hold_across_runs() {
    let log = Log::default();
    let orchestrator = orchestrator(1);
    // Run A fills the queue with low-priority work; run B arrives later with urgent work.
    let bulk = Workflow::builder("bulk")
        .tasks((0..5).map(|i| logged(&log, &format!("bulk-{i}"), ms(10)).priority(Priority::Low)))
        .boost(baton_orchestrator::Boost::None)
        .build()
        .unwrap();
    let urgent = Workflow::builder("urgent")
        .task(logged(&log, "urgent", ms(10)).priority(Priority::Critical))
        .build()
        .unwrap();
    let a = orchestrator.start(&bulk).unwrap();
    tokio::time::sleep(ms(15)).await; // bulk-0 done, bulk-1 running
    let b = orchestrator.start(&urgent).unwrap();
    assert_ne!(a.id(), b.id());
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert!(a.is_success() && b.is_success());
    assert_eq!(log.position("urgent"), 2, "{:?}", log.entries());
    assert_eq!(b.duration, ms(15)); // waited for bulk-1 to free the worker
    assert_eq!(a.duration, ms(60));
}

#[tokio::test(start_paused = true)]
async fn a_workflow_runs_many_times_at_once_and_cancelling_one_run_spares_the_others() {
    let orchestrator = orchestrator(4);
    let workflow = Workflow::builder("repeat")
        .task(sleeper("first", ms(10)))
        .task(sleeper("second", Duration::from_secs(5)).needs(["first"]))
        .build()
        .unwrap();
    let handles: Vec<_> = (0..3)
        .map(|_| orchestrator.start(&workflow).unwrap())
        .collect();
    tokio::time::sleep(ms(100)).await;
    handles[1].cancel();
    let mut reports = Vec::new();
    for handle in handles {
        reports.push(handle.await.unwrap());
    }
    assert_eq!(reports[0].outcome, RunOutcome::Succeeded);
    assert_eq!(reports[1].outcome, RunOutcome::Cancelled);
    assert_eq!(
        reports[1].task("first").unwrap().state,
        TaskState::Succeeded
    );
    assert_eq!(
        reports[1].task("second").unwrap().state,
        TaskState::Cancelled
    );
    assert_eq!(reports[2].outcome, RunOutcome::Succeeded);
    let ids: Vec<u64> = reports.iter().map(|r| r.run.get()).collect();
    assert_eq!(ids, [1, 2, 3]);
}

#[tokio::test(start_paused = true)]
async fn cancelling_a_finished_run_does_nothing_and_dropped_handles_let_runs_finish() {
    let orchestrator = orchestrator(1);
    let workflow = Workflow::builder("w")
        .task(sleeper("a", ms(5)))
        .build()
        .unwrap();
    // A dropped handle does not cancel its run.
    drop(orchestrator.start(&workflow).unwrap());
    let handle = orchestrator.start(&workflow).unwrap();
    let id = handle.id();
    let report = handle.await.unwrap();
    assert_eq!(report.run, id);
    assert_eq!(report.duration, ms(10)); // queued behind the first run's task: waited 5 ms
    assert_eq!(report.task("a").unwrap().wait, ms(5));
    assert_eq!(orchestrator.executor().stats().succeeded, 2);
}

#[tokio::test(start_paused = true)]
async fn runs_started_from_clones_share_one_engine() {
    let orchestrator = orchestrator(2);
    let clone = orchestrator.clone();
    let workflow = Workflow::builder("w").task(noop("a")).build().unwrap();
    let one = orchestrator.start(&workflow).unwrap();
    let two = clone.start(&workflow).unwrap();
    assert_eq!((one.id().get(), two.id().get()), (1, 2));
    assert!(one.await.unwrap().is_success() && two.await.unwrap().is_success());
}

#[test]
fn building_outside_a_runtime_is_a_clear_error() {
    let err = Orchestrator::builder().build().unwrap_err();
    assert!(matches!(err, BuildError::NoRuntime));
    assert_eq!(
        err.to_string(),
        "an orchestrator must be built inside a tokio runtime"
    );
}

#[tokio::test]
async fn a_zero_worker_pool_is_refused() {
    let err = Orchestrator::builder().workers(0).build().unwrap_err();
    assert!(matches!(err, BuildError::Pool(_)), "{err}");
}

//! Failure propagation in both modes, cancellation, timeouts and panics.

use std::time::Duration;

use baton_orchestrator::{
    FailureMode, Fault, FaultPlan, Policy, RunOptions, RunOutcome, Task, TaskError, TaskState,
    Workflow,
};

use crate::support::{check_transitions, ms, noop, orchestrator, sleeper};

fn failing(id: &str) -> Task {
    Task::new(id, |_| async { Err::<(), _>(TaskError::msg("boom")) })
}

/// a -> b -> c, and an independent x -> y; `b` fails after 10 ms while `x` runs for 50 ms.
fn two_branches(mode: FailureMode) -> Workflow {
    Workflow::builder("branches")
        .task(noop("a"))
        .task(
            Task::new("b", |_| async {
                tokio::time::sleep(ms(10)).await;
                Err::<(), _>(TaskError::msg("disk full"))
            })
            .needs(["a"]),
        )
        .task(noop("c").needs(["b"]))
        .task(sleeper("x", ms(50)))
        .task(noop("y").needs(["x"]))
        .failure_mode(mode)
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn fail_fast_cancels_running_tasks_and_skips_the_rest() {
    let orchestrator = orchestrator(4);
    let mut events = orchestrator.subscribe();
    let report = orchestrator
        .run(&two_branches(FailureMode::FailFast))
        .await
        .unwrap();
    let state = |id| report.task(id).unwrap().state;
    assert_eq!(state("a"), TaskState::Succeeded);
    assert_eq!(state("b"), TaskState::Failed);
    assert_eq!(state("c"), TaskState::Skipped);
    assert_eq!(state("x"), TaskState::Cancelled);
    assert_eq!(state("y"), TaskState::Skipped);
    assert_eq!(
        report.outcome,
        RunOutcome::Failed {
            tasks: vec!["b".into()]
        }
    );
    assert_eq!(
        report.task("b").unwrap().error.as_deref(),
        Some("disk full")
    );
    assert!(
        report
            .task("c")
            .unwrap()
            .error
            .as_deref()
            .unwrap()
            .contains("`b`")
    );
    // The run ends when `b` fails, not when `x` would have finished.
    assert_eq!(report.duration, ms(10));
    assert!(report.totals.adds_up());
    check_transitions(&events.drain());
}

#[tokio::test(start_paused = true)]
async fn continue_mode_runs_everything_that_does_not_depend_on_the_failure() {
    let report = orchestrator(4)
        .run(&two_branches(FailureMode::Continue))
        .await
        .unwrap();
    let state = |id| report.task(id).unwrap().state;
    assert_eq!(state("c"), TaskState::Skipped);
    assert_eq!(state("x"), TaskState::Succeeded);
    assert_eq!(state("y"), TaskState::Succeeded);
    assert_eq!(report.duration, ms(50));
    assert_eq!(report.totals.skipped, 1);
    assert!(!report.is_success());
}

#[tokio::test(start_paused = true)]
async fn skips_reach_every_descendant_but_no_one_else() {
    // root fails; mid1, mid2 and leaf depend on it (transitively); side does not.
    let workflow = Workflow::builder("fan")
        .task(failing("root"))
        .task(noop("mid1").needs(["root"]))
        .task(noop("mid2").needs(["root"]))
        .task(noop("leaf").needs(["mid1", "mid2"]))
        .task(sleeper("side", ms(5)))
        .failure_mode(FailureMode::Continue)
        .build()
        .unwrap();
    let report = orchestrator(2).run(&workflow).await.unwrap();
    assert_eq!(report.totals.skipped, 3);
    assert_eq!(report.task("side").unwrap().state, TaskState::Succeeded);
    assert_eq!(report.task("leaf").unwrap().attempts, 0);
}

#[tokio::test(start_paused = true)]
async fn cancelling_a_run_stops_running_tasks_and_cancels_the_rest() {
    let orchestrator = orchestrator(2);
    let workflow = Workflow::builder("long")
        .task(sleeper("slow-1", Duration::from_secs(60)))
        .task(sleeper("slow-2", Duration::from_secs(60)))
        .task(noop("queued"))
        .task(noop("after").needs(["slow-1"]))
        .build()
        .unwrap();
    let handle = orchestrator.start(&workflow).unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    handle.cancel();
    let report = handle.await.unwrap();
    assert_eq!(report.outcome, RunOutcome::Cancelled);
    for id in ["slow-1", "slow-2", "queued", "after"] {
        assert_eq!(report.task(id).unwrap().state, TaskState::Cancelled, "{id}");
    }
    assert_eq!(report.duration, Duration::from_secs(1));
    assert_eq!(report.totals.cancelled, 4);
}

#[tokio::test(start_paused = true)]
async fn a_task_timeout_is_retried_then_reported() {
    let workflow = Workflow::builder("timeouts")
        .task(
            sleeper("slow", Duration::from_secs(10))
                .timeout(ms(100))
                .retry(Policy::fixed(ms(50)).attempts(2).build().unwrap()),
        )
        .build()
        .unwrap();
    let report = orchestrator(1).run(&workflow).await.unwrap();
    let slow = report.task("slow").unwrap();
    assert_eq!((slow.state, slow.attempts), (TaskState::TimedOut, 2));
    assert_eq!(slow.error.as_deref(), Some("timed out after 100ms"));
    assert_eq!(report.duration, ms(100 + 50 + 100));
    assert_eq!(slow.run_time, ms(200));
    assert_eq!(
        report.outcome,
        RunOutcome::Failed {
            tasks: vec!["slow".into()]
        }
    );
}

#[tokio::test(start_paused = true)]
async fn a_run_timeout_interrupts_running_tasks_and_cancels_the_rest() {
    let workflow = Workflow::builder("deadline")
        .task(sleeper("quick", ms(10)))
        .task(sleeper("long", Duration::from_secs(30)))
        .task(noop("never").needs(["long"]))
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let report = orchestrator(2).run(&workflow).await.unwrap();
    assert_eq!(
        report.outcome,
        RunOutcome::TimedOut {
            after: Duration::from_secs(2)
        }
    );
    assert_eq!(report.task("quick").unwrap().state, TaskState::Succeeded);
    assert_eq!(report.task("long").unwrap().state, TaskState::TimedOut);
    assert_eq!(report.task("never").unwrap().state, TaskState::Cancelled);
    assert_eq!(report.duration, Duration::from_secs(2));
    // Both say which timeout ended them.
    for id in ["long", "never"] {
        assert_eq!(
            report.task(id).unwrap().error.as_deref(),
            Some("the workflow's timeout of 2s passed"),
            "{id}"
        );
    }
    assert_eq!(report.task("quick").unwrap().error, None);
}

#[tokio::test(start_paused = true)]
async fn fail_fast_cancels_a_task_waiting_to_retry_rather_than_skipping_it() {
    let workflow = Workflow::builder("waiting")
        .task(
            failing("flaky").retry(
                Policy::fixed(Duration::from_secs(60))
                    .attempts(3)
                    .build()
                    .unwrap(),
            ),
        )
        .task(Task::new("fatal", |_| async {
            tokio::time::sleep(ms(20)).await;
            Err::<(), _>(TaskError::permanent("bad config"))
        }))
        .task(noop("later").needs(["flaky"]))
        .build()
        .unwrap();
    let report = orchestrator(2).run(&workflow).await.unwrap();
    let flaky = report.task("flaky").unwrap();
    assert_eq!((flaky.state, flaky.attempts), (TaskState::Cancelled, 1));
    assert_eq!(flaky.error.as_deref(), Some("fail-fast: `fatal` failed"));
    assert_eq!(report.task("later").unwrap().state, TaskState::Skipped);
    assert_eq!(report.duration, ms(20));
    assert!(report.totals.adds_up());
}

#[tokio::test(start_paused = true)]
async fn a_timeout_the_handler_enforces_counts_as_a_timeout() {
    let workflow = Workflow::builder("own-deadline")
        .task(
            Task::new("slow", |ctx| async move {
                tokio::time::sleep(ms(30)).await; // its own deadline, then a teardown
                if ctx.attempt() < 3 {
                    Err(TaskError::timed_out(ms(25)))
                } else {
                    Ok(())
                }
            })
            .retry(Policy::fixed(ms(5)).attempts(3).build().unwrap()),
        )
        .task(
            Task::new("never", |_| async {
                Err::<(), _>(TaskError::timed_out(ms(7)))
            })
            .retry(Policy::fixed(ms(5)).attempts(2).build().unwrap()),
        )
        .failure_mode(FailureMode::Continue)
        .build()
        .unwrap();
    let orchestrator = orchestrator(2);
    let mut events = orchestrator.subscribe();
    let report = orchestrator.run(&workflow).await.unwrap();
    let slow = report.task("slow").unwrap();
    assert_eq!((slow.state, slow.attempts), (TaskState::Succeeded, 3));
    let never = report.task("never").unwrap();
    assert_eq!((never.state, never.attempts), (TaskState::TimedOut, 2));
    assert_eq!(never.error.as_deref(), Some("timed out after 7ms"));
    assert_eq!(report.totals.timed_out, 1);
    check_transitions(&events.drain());
}

#[tokio::test(start_paused = true)]
async fn panicking_tasks_fail_without_taking_workers_down() {
    let mut workflow = Workflow::builder("panics").failure_mode(FailureMode::Continue);
    for i in 0..20 {
        workflow = workflow.task(Task::new(format!("p{i}"), move |_| async move {
            if i % 2 == 0 {
                panic!("task {i} exploded");
            }
            Ok(i)
        }));
    }
    let orchestrator = orchestrator(2);
    let report = orchestrator.run(&workflow.build().unwrap()).await.unwrap();
    assert_eq!((report.totals.failed, report.totals.succeeded), (10, 10));
    assert_eq!(
        report.task("p4").unwrap().error.as_deref(),
        Some("panicked: task 4 exploded")
    );
    // The pool lost no worker: it still runs jobs. (It counts a panic only for an attempt it ran as
    // a job of its own: attempts handed over in a deep batch run in chunks, which catch their own.)
    let stats = orchestrator.executor().stats();
    assert!(stats.panicked <= 10, "{stats:?}");
    assert_eq!(stats.workers, 2, "{stats:?}");
    let again = orchestrator
        .run(
            &Workflow::builder("after")
                .task(noop("fine"))
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(again.is_success());
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_the_handler_call_itself_is_the_attempt_failure() {
    // The panic happens when the handler is called, before any future exists.
    let workflow = Workflow::builder("sync-panic")
        .task(Task::new(
            "eager",
            |_| -> std::future::Ready<Result<(), TaskError>> { panic!("before the future") },
        ))
        .build()
        .unwrap();
    let report = orchestrator(1).run(&workflow).await.unwrap();
    assert_eq!(
        report.task("eager").unwrap().error.as_deref(),
        Some("panicked: before the future")
    );
}

#[tokio::test(start_paused = true)]
async fn injected_hangs_end_at_the_timeout_and_injected_failures_are_retried() {
    let workflow = Workflow::builder("faults")
        .task(noop("hang").timeout(ms(500)))
        .task(noop("fail").retry(Policy::fixed(ms(10)).attempts(3).build().unwrap()))
        .task(noop("slow"))
        .failure_mode(FailureMode::Continue)
        .build()
        .unwrap();
    let plan = FaultPlan::new()
        .inject("hang", Fault::Hang, 1..=1)
        .inject("fail", Fault::Fail, 1..=2)
        .inject("slow", Fault::Slow(ms(300)), 1..=1);
    let report = orchestrator(3)
        .run_with(&workflow, RunOptions::new().faults(plan))
        .await
        .unwrap();
    assert_eq!(report.task("hang").unwrap().state, TaskState::TimedOut);
    let fail = report.task("fail").unwrap();
    assert_eq!((fail.state, fail.attempts), (TaskState::Succeeded, 3));
    assert_eq!(report.task("slow").unwrap().run_time, ms(300));
    assert_eq!(report.duration, ms(500));
}

#[tokio::test(start_paused = true)]
async fn a_fault_plan_naming_an_unknown_task_is_refused() {
    let workflow = Workflow::builder("w").task(noop("a")).build().unwrap();
    let plan = FaultPlan::new().inject("ghost", Fault::Fail, 1..=1);
    let err = orchestrator(1)
        .start_with(&workflow, RunOptions::new().faults(plan))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the fault plan names task `ghost`, which the workflow does not have"
    );
}

#[tokio::test(start_paused = true)]
async fn the_longest_durations_mean_never_not_a_panic() {
    // A task and a run timeout of Duration::MAX: the deadline cannot be an instant; they never
    // pass.
    let workflow = Workflow::builder("forever")
        .task(sleeper("a", ms(10)).timeout(Duration::MAX))
        .timeout(Duration::MAX)
        .build()
        .unwrap();
    let report = orchestrator(1).run(&workflow).await.unwrap();
    assert!(report.is_success(), "{report:#?}");
    // A retry asked for after Duration::MAX waits until the run's own timeout ends it.
    let workflow = Workflow::builder("later")
        .task(
            Task::new("flaky", |_| async {
                Err::<(), _>(TaskError::msg("busy").retry_after(Duration::MAX))
            })
            .retry(Policy::fixed(ms(1)).attempts(2).build().unwrap()),
        )
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let report = orchestrator(1).run(&workflow).await.unwrap();
    assert_eq!(
        report.outcome,
        RunOutcome::TimedOut {
            after: Duration::from_secs(1)
        }
    );
    assert_eq!(report.task("flaky").unwrap().attempts, 1);
}

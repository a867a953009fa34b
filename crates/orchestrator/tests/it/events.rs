//! The event stream: order per task, run events, and deterministic replay.

use std::time::Duration;

use baton_orchestrator::{
    Event, EventKind, FailureMode, Fault, FaultPlan, Policy, RunOptions, RunOutcome, TaskState,
    Workflow,
};

use crate::support::{check_transitions, ms, noop, orchestrator, sleeper};

fn kinds_of<'a>(events: &'a [Event], task: &str) -> Vec<&'a EventKind> {
    events
        .iter()
        .filter(|e| e.task.as_deref() == Some(task))
        .map(|e| &e.kind)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn each_task_reports_every_transition_in_order() {
    let orchestrator = orchestrator(2);
    let mut events = orchestrator.subscribe();
    let workflow = Workflow::builder("lifecycle")
        .task(noop("flaky").retry(Policy::fixed(ms(5)).attempts(2).build().unwrap()))
        .task(noop("after").needs(["flaky"]))
        .build()
        .unwrap();
    let plan = FaultPlan::new().inject("flaky", Fault::Fail, 1..=1);
    let report = orchestrator
        .run_with(&workflow, RunOptions::new().faults(plan))
        .await
        .unwrap();
    assert!(report.is_success());
    let events = events.drain();
    assert_eq!(
        kinds_of(&events, "flaky"),
        [
            &EventKind::Queued {
                priority: baton_orchestrator::Priority::High
            },
            &EventKind::Started { attempt: 1 },
            &EventKind::Retrying {
                attempt: 1,
                error: "injected failure".into(),
                delay: ms(5)
            },
            &EventKind::Started { attempt: 2 },
            &EventKind::Succeeded { attempt: 2 },
        ]
    );
    let times: Vec<Duration> = events
        .iter()
        .filter(|e| e.task.as_deref() == Some("flaky"))
        .map(|e| e.at)
        .collect();
    assert_eq!(times, [ms(0), ms(0), ms(0), ms(5), ms(5)]);
    // The run's events frame the tasks'.
    assert!(matches!(
        events.first().unwrap().kind,
        EventKind::RunStarted { tasks: 2, .. }
    ));
    assert_eq!(
        events.last().unwrap().kind,
        EventKind::RunFinished {
            outcome: RunOutcome::Succeeded
        }
    );
    let finals = check_transitions(&events);
    assert_eq!(finals["after"], TaskState::Succeeded);
}

#[tokio::test(start_paused = true)]
async fn every_subscriber_gets_every_event_and_a_dropped_one_is_forgotten() {
    let orchestrator = orchestrator(1);
    let mut first = orchestrator.subscribe();
    let second = orchestrator.subscribe();
    drop(second);
    let workflow = Workflow::builder("w").task(noop("a")).build().unwrap();
    orchestrator.run(&workflow).await.unwrap();
    let events = first.drain();
    // RunStarted, Queued, Started, Succeeded, RunFinished.
    assert_eq!(events.len(), 5, "{events:#?}");
    assert!(events.iter().all(|e| e.run.get() == 1));
}

/// A run with random faults and jittered retries, returned as its events.
async fn chaotic_run(seed: u64) -> Vec<Event> {
    let orchestrator = orchestrator(3);
    let mut events = orchestrator.subscribe();
    let policy = Policy::exponential(ms(10), 2.0)
        .attempts(4)
        .jitter(baton_orchestrator::Jitter::Full)
        .build()
        .unwrap();
    let mut workflow = Workflow::builder("chaos")
        .retry(policy)
        .failure_mode(FailureMode::Continue);
    for i in 0..30_u64 {
        let mut task = sleeper(&format!("t{i}"), ms(1 + i % 7)).timeout(ms(200));
        if i >= 3 {
            task = task.needs([format!("t{}", i % 3)]);
            if i / 2 != i % 3 {
                task = task.needs([format!("t{}", i / 2)]);
            }
        }
        workflow = workflow.task(task);
    }
    let plan = FaultPlan::new()
        .random(seed, 0.2, 0.05, 0.05)
        .random_slow(0.1, ms(50));
    orchestrator
        .run_with(
            &workflow.build().unwrap(),
            RunOptions::new().seed(seed).faults(plan),
        )
        .await
        .unwrap();
    events.drain()
}

#[tokio::test(start_paused = true)]
async fn the_same_seed_gives_the_same_run_event_for_event() {
    let first = chaotic_run(11).await;
    let again = chaotic_run(11).await;
    assert!(first.len() > 100, "{}", first.len());
    assert_eq!(first, again);
    let other = chaotic_run(12).await;
    assert_ne!(first, other, "another seed gives another run");
    check_transitions(&first);
    check_transitions(&other);
}

#[tokio::test(start_paused = true)]
async fn a_late_subscriber_gets_only_runs_started_after_it() {
    let orchestrator = orchestrator(1);
    let workflow = Workflow::builder("w")
        .task(sleeper("a", ms(10)))
        .build()
        .unwrap();
    let first = orchestrator.start(&workflow).unwrap();
    tokio::time::sleep(ms(5)).await;
    let mut late = orchestrator.subscribe();
    let second = orchestrator.start(&workflow).unwrap();
    first.await.unwrap();
    second.await.unwrap();
    let events = late.drain();
    assert!(events.iter().all(|e| e.run.get() == 2), "{events:#?}");
    assert!(matches!(events[0].kind, EventKind::RunStarted { .. }));
    check_transitions(&events);
}

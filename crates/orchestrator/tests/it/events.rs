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

/// A tracing subscriber that only counts the spans still open (created, and not yet closed by
/// their last handle).
#[derive(Clone, Default)]
struct OpenSpans {
    next: std::sync::Arc<std::sync::atomic::AtomicU64>,
    open: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<u64, usize>>>,
}

impl OpenSpans {
    fn count(&self) -> usize {
        self.open.lock().unwrap().len()
    }
}

impl tracing::Subscriber for OpenSpans {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        self.open.lock().unwrap().insert(id, 1);
        tracing::span::Id::from_u64(id)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
    fn clone_span(&self, id: &tracing::span::Id) -> tracing::span::Id {
        *self.open.lock().unwrap().get_mut(&id.into_u64()).unwrap() += 1;
        id.clone()
    }
    fn try_close(&self, id: tracing::span::Id) -> bool {
        let mut open = self.open.lock().unwrap();
        let handles = open.get_mut(&id.into_u64()).unwrap();
        *handles -= 1;
        let closed = *handles == 0;
        if closed {
            open.remove(&id.into_u64());
        }
        closed
    }
}

#[tokio::test(start_paused = true)]
async fn spans_close_with_their_run_even_while_its_report_lives_on_unread() {
    let spans = OpenSpans::default();
    let _default = tracing::subscriber::set_default(spans.clone());
    let workflow = Workflow::builder("traced")
        .task(sleeper("a", ms(5)))
        .task(noop("b").needs(["a"]))
        .task(noop("c").needs(["a"]))
        .build()
        .unwrap();
    let orchestrator = orchestrator(2);
    // Tests run in parallel: a span's call site first reached by another test's thread just as
    // this subscriber was set can keep the interest it computed without it (no span made here).
    // A first run registers the engine's call sites; rebuilding their interest then counts this
    // subscriber in, and the second run is the one checked.
    drop(orchestrator.run(&workflow).await.unwrap());
    tracing::callsite::rebuild_interest_cache();
    let before = spans.next.load(std::sync::atomic::Ordering::SeqCst);
    let report = orchestrator.run(&workflow).await.unwrap();
    assert!(report.is_success());
    assert!(
        spans.next.load(std::sync::atomic::Ordering::SeqCst) - before >= 1 + 3 + 3,
        "run, task and attempt spans were made"
    );
    assert_eq!(spans.count(), 0, "every span closed when the run ended");
    assert_eq!(report.tasks().len(), 3);
}

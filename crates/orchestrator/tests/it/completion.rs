//! One workflow that exercises every component at once: validation (dag), queue priorities and
//! boost, the pool, retries with backoff, timeouts, outputs, fault injection, saga compensation
//! over a DAG, events, the report and its JSON.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use baton_orchestrator::{
    EventKind, Fault, FaultPlan, Policy, Priority, RunOptions, RunOutcome, Task, TaskError,
    TaskState, Workflow,
};

use crate::support::{Log, check_transitions, ms, orchestrator};

#[tokio::test(start_paused = true)]
async fn an_order_pipeline_uses_every_component_and_rolls_back_cleanly() {
    let log = Log::default();
    let undo = |name: &'static str| {
        let log = log.clone();
        move |_ctx: baton_orchestrator::TaskContext| {
            let log = log.clone();
            async move {
                log.push(format!("undo {name}"));
                Ok(())
            }
        }
    };
    let inventory_calls = Arc::new(AtomicU32::new(0));
    let calls = Arc::clone(&inventory_calls);
    let payments = baton_orchestrator::Breaker::builder().build().unwrap();
    let retry = Policy::exponential(ms(100), 2.0)
        .attempts(3)
        .build()
        .unwrap();
    let workflow = Workflow::builder("order-pipeline")
        .task(
            Task::new("validate", |_| async { Ok(String::from("order-17")) })
                .priority(Priority::High)
                .tag("cpu"),
        )
        .task(
            Task::new("reserve", move |ctx| {
                let calls = Arc::clone(&calls);
                async move {
                    let order: &String = ctx.output("validate")?;
                    if calls.fetch_add(1, SeqCst) == 0 {
                        return Err(TaskError::msg(format!("inventory busy for {order}")));
                    }
                    Ok(3_u32)
                }
            })
            .needs(["validate"])
            .retry(retry)
            .compensate(undo("reserve"))
            .tag("io"),
        )
        .task(
            Task::new("charge", |ctx| async move {
                let items: &u32 = ctx.output("reserve")?;
                Ok(u64::from(*items) * 999)
            })
            .needs(["reserve"])
            .compensate(undo("charge"))
            .timeout(Duration::from_secs(2))
            .breaker(payments.clone()),
        )
        .task(
            Task::new("invoice", |_| async { Ok(()) })
                .needs(["charge"])
                .compensate(undo("invoice")),
        )
        .task(
            Task::new("label", |_| async { Ok(()) })
                .needs(["reserve"])
                .timeout(ms(500)),
        )
        .task(Task::new("ship", |_| async { Ok(()) }).needs(["invoice", "label"]))
        .saga(true)
        .build()
        .unwrap();
    let orchestrator = orchestrator(3);
    let mut events = orchestrator.subscribe();
    // The carrier never answers: `ship` hangs past its run's deadline? No: it fails for good.
    let plan = FaultPlan::new().inject("ship", Fault::Fail, 1..=1).inject(
        "label",
        Fault::Slow(ms(250)),
        1..=1,
    );
    let report = orchestrator
        .run_with(&workflow, RunOptions::new().seed(5).faults(plan))
        .await
        .unwrap();

    // Retries with backoff: reserve failed once, then waited 100 ms.
    let reserve = report.task("reserve").unwrap();
    assert_eq!(reserve.attempts, 2);
    assert_eq!(inventory_calls.load(SeqCst), 2);
    // The failure and the rollback, in reverse dependency order.
    assert_eq!(
        report.outcome,
        RunOutcome::Failed {
            tasks: vec!["ship".into()]
        }
    );
    assert_eq!(
        log.entries(),
        ["undo invoice", "undo charge", "undo reserve"]
    );
    let state = |id| report.task(id).unwrap().state;
    assert_eq!(state("validate"), TaskState::Succeeded); // nothing to undo
    assert_eq!(state("label"), TaskState::Succeeded);
    assert_eq!(state("reserve"), TaskState::Compensated);
    assert_eq!(state("ship"), TaskState::Failed);
    assert!(report.rollback.as_ref().unwrap().is_complete());
    // Timings: validate 0, reserve 0 -> fail -> +100 ms -> ok, then label slowed 250 ms.
    assert_eq!(report.task("label").unwrap().run_time, ms(250));
    assert_eq!(
        report.critical_path.tasks,
        ["validate", "reserve", "label", "ship"]
    );
    assert_eq!(report.critical_path.duration, ms(350));
    assert!(report.totals.adds_up());
    assert_eq!(report.totals.compensated, 3);
    assert_eq!(
        payments.stats().successes,
        1,
        "the breaker saw the charge succeed"
    );

    // Events: every transition legal, the rollback visible, the run framed.
    let events = events.drain();
    let finals = check_transitions(&events);
    assert_eq!(finals.len(), 6);
    let compensating = events
        .iter()
        .filter(|e| e.kind == EventKind::Compensating)
        .count();
    assert_eq!(compensating, 3);
    // Each compensation attempt reports when a worker took it, between queued and done.
    let started = |task: &str| {
        events.iter().position(|e| {
            e.task.as_deref() == Some(task)
                && matches!(e.kind, EventKind::CompensationStarted { attempt: 1 })
        })
    };
    let done = |task: &str| {
        events.iter().position(|e| {
            e.task.as_deref() == Some(task) && matches!(e.kind, EventKind::Compensated { .. })
        })
    };
    for task in ["reserve", "charge", "invoice"] {
        assert!(started(task).unwrap() < done(task).unwrap(), "{task}");
    }
    assert!(matches!(
        events.last().unwrap().kind,
        EventKind::RunFinished { .. }
    ));

    // The report serialises, with the per-task details an operator needs.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["tasks"][1]["id"], "reserve");
    assert_eq!(json["tasks"][1]["state"], "compensated");
    assert_eq!(json["tasks"][1]["compensation"]["attempts"], 1);
    assert_eq!(json["tasks"][0]["tags"][0], "cpu");
    assert_eq!(json["rollback"]["compensated"][2], "reserve");
}

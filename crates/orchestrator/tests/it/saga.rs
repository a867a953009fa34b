//! Saga mode: compensation in reverse dependency order over a DAG.

use std::time::Duration;

use baton_orchestrator::{Policy, RunOutcome, Task, TaskError, TaskState, Workflow};

use crate::support::{Log, ms, noop, orchestrator};

/// A task that succeeds and whose compensation logs `undo <id>` and takes `undo` time.
fn undoable(log: &Log, id: &str, undo: Duration) -> Task {
    let (log, name) = (log.clone(), id.to_owned());
    Task::new(id, |_| async { Ok(()) }).compensate(move |ctx| {
        let (log, name) = (log.clone(), name.clone());
        assert!(ctx.is_compensation());
        async move {
            log.push(format!("undo {name}"));
            tokio::time::sleep(undo).await;
            log.push(format!("undone {name}"));
            Ok(())
        }
    })
}

fn failing(id: &str) -> Task {
    Task::new(id, |_| async {
        Err::<(), _>(TaskError::msg("card declined"))
    })
}

#[tokio::test(start_paused = true)]
async fn compensation_runs_in_reverse_dependency_order_with_independent_ones_in_parallel() {
    let log = Log::default();
    // reserve -> (charge, email) -> ship (fails). charge and email are independent.
    let workflow = Workflow::builder("order")
        .task(undoable(&log, "reserve", ms(10)))
        .task(undoable(&log, "charge", ms(30)).needs(["reserve"]))
        .task(undoable(&log, "email", ms(20)).needs(["reserve"]))
        .task(failing("ship").needs(["charge", "email"]))
        .saga(true)
        .build()
        .unwrap();
    let report = orchestrator(4).run(&workflow).await.unwrap();
    let entries = log.entries();
    // charge and email start their compensation together; reserve only after both ended.
    assert_eq!(
        &entries[..2],
        ["undo charge", "undo email"].map(String::from)
    );
    assert_eq!(entries.last().unwrap(), "undone reserve");
    assert!(log.position("undo reserve") > log.position("undone charge"));
    assert!(log.position("undo reserve") > log.position("undone email"));
    let timed = log.timed();
    let at = |what: &str| timed.iter().find(|(w, _)| w == what).unwrap().1;
    assert_eq!(at("undo charge"), at("undo email"));
    assert_eq!(at("undo reserve") - at("undo charge"), ms(30));
    for id in ["reserve", "charge", "email"] {
        assert_eq!(
            report.task(id).unwrap().state,
            TaskState::Compensated,
            "{id}"
        );
    }
    assert_eq!(report.task("ship").unwrap().state, TaskState::Failed);
    let rollback = report.rollback.as_ref().unwrap();
    assert_eq!(rollback.compensated, ["email", "charge", "reserve"]);
    assert!(rollback.is_complete());
    assert_eq!(report.totals.compensated, 3);
    assert!(report.totals.adds_up());
    assert_eq!(
        report.outcome,
        RunOutcome::Failed {
            tasks: vec!["ship".into()]
        }
    );
}

#[tokio::test(start_paused = true)]
async fn tasks_without_compensation_pass_the_order_through() {
    let log = Log::default();
    // a (undoable) -> b (nothing to undo) -> c (undoable) -> d fails: c before a, still.
    let workflow = Workflow::builder("chain")
        .task(undoable(&log, "a", ms(1)))
        .task(noop("b").needs(["a"]))
        .task(undoable(&log, "c", ms(5)).needs(["b"]))
        .task(failing("d").needs(["c"]))
        .saga(true)
        .build()
        .unwrap();
    let report = orchestrator(2).run(&workflow).await.unwrap();
    assert_eq!(log.entries(), ["undo c", "undone c", "undo a", "undone a"]);
    assert_eq!(report.task("b").unwrap().state, TaskState::Succeeded);
    assert_eq!(report.totals.compensated, 2);
}

#[tokio::test(start_paused = true)]
async fn a_compensation_reads_its_own_output_and_is_retried() {
    let workflow = Workflow::builder("refund")
        .task(
            Task::new("charge", |_| async { Ok(4200_u64) })
                .compensate(|ctx| async move {
                    let amount: &u64 = ctx.output("charge")?;
                    assert_eq!(*amount, 4200);
                    if ctx.attempt() < 3 {
                        return Err(TaskError::msg("refund service unavailable"));
                    }
                    Ok(())
                })
                .compensation_retry(Policy::fixed(ms(100)).attempts(5).build().unwrap()),
        )
        .task(failing("ship").needs(["charge"]))
        .saga(true)
        .build()
        .unwrap();
    let report = orchestrator(1).run(&workflow).await.unwrap();
    let charge = report.task("charge").unwrap();
    assert_eq!(charge.state, TaskState::Compensated);
    assert_eq!(charge.compensation.as_ref().unwrap().attempts, 3);
    assert_eq!(charge.compensation.as_ref().unwrap().error, None);
    assert_eq!(report.duration, ms(200));
}

#[tokio::test(start_paused = true)]
async fn a_failed_compensation_is_reported_and_blocks_its_dependencies() {
    let log = Log::default();
    let workflow = Workflow::builder("stuck")
        .task(undoable(&log, "base", ms(1)))
        .task(
            Task::new("mid", |_| async { Ok(()) })
                .needs(["base"])
                .compensate(|_| async { Err(TaskError::permanent("ledger is read-only")) }),
        )
        .task(undoable(&log, "side", ms(1)))
        .task(failing("top").needs(["mid", "side"]))
        .saga(true)
        .build()
        .unwrap();
    let report = orchestrator(2).run(&workflow).await.unwrap();
    let rollback = report.rollback.as_ref().unwrap();
    assert_eq!(rollback.failed, ["mid"]);
    assert_eq!(rollback.blocked, ["base"]);
    assert_eq!(rollback.compensated, ["side"]);
    assert!(!rollback.is_complete());
    let mid = report.task("mid").unwrap();
    assert_eq!(mid.state, TaskState::Failed);
    assert_eq!(
        mid.compensation.as_ref().unwrap().error.as_deref(),
        Some("ledger is read-only")
    );
    assert_eq!(report.task("base").unwrap().state, TaskState::Succeeded);
    assert_eq!(report.totals.compensation_failed, 1);
    assert!(report.totals.adds_up());
    assert_eq!(log.entries(), ["undo side", "undone side"]);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_saga_compensates_what_completed() {
    let log = Log::default();
    let workflow = Workflow::builder("cancelled")
        .task(undoable(&log, "done", ms(1)))
        .task(
            Task::new("forever", |_| async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(())
            })
            .needs(["done"]),
        )
        .saga(true)
        .build()
        .unwrap();
    let orchestrator = orchestrator(2);
    let handle = orchestrator.start(&workflow).unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    handle.cancel();
    let report = handle.await.unwrap();
    assert_eq!(report.outcome, RunOutcome::Cancelled);
    assert_eq!(report.task("done").unwrap().state, TaskState::Compensated);
    assert_eq!(report.task("forever").unwrap().state, TaskState::Cancelled);
    assert_eq!(log.entries(), ["undo done", "undone done"]);
}

#[tokio::test(start_paused = true)]
async fn without_saga_mode_nothing_is_compensated() {
    let log = Log::default();
    let workflow = Workflow::builder("plain")
        .task(undoable(&log, "a", ms(1)))
        .task(failing("b").needs(["a"]))
        .build()
        .unwrap();
    let report = orchestrator(1).run(&workflow).await.unwrap();
    assert!(log.entries().is_empty());
    assert_eq!(report.rollback, None);
    assert_eq!(report.task("a").unwrap().state, TaskState::Succeeded);
}

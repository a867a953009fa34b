//! Tasks on agents: capability-based placement, and the work of a lost agent rescheduled.

use baton_orchestrator::agents::AgentExecutor;
use baton_orchestrator::crates::agents::{AgentSpec, Registry};
use baton_orchestrator::crates::pool::balance::Strategy;
use std::sync::Arc;

use baton_orchestrator::{
    EventKind, Executor, FailureMode, Orchestrator, Policy, Pool, PriorityQueue, Task, TaskState,
    Workflow,
};

use crate::support::{check_transitions, ms, sleeper};

fn pool(workers: usize) -> Pool {
    Pool::builder().workers(workers).build().unwrap()
}

#[tokio::test(start_paused = true)]
async fn tasks_run_on_agents_with_their_capabilities_or_fail_clearly() {
    let registry = Registry::builder().build().unwrap();
    let agents = AgentExecutor::new(registry.clone(), Strategy::LeastLoaded.balancer()).unwrap();
    let (gpu, cpu) = (pool(2), pool(2));
    agents
        .add(AgentSpec::new("gpu-1").capability("gpu"), gpu.clone())
        .unwrap();
    agents.add(AgentSpec::new("cpu-1"), cpu.clone()).unwrap();
    let orchestrator = Orchestrator::with_parts(PriorityQueue::new(), agents).unwrap();
    let workflow = Workflow::builder("placement")
        .tasks((0..3).map(|i| sleeper(&format!("train{i}"), ms(10)).requires(["gpu"])))
        .task(sleeper("quantum", ms(10)).requires(["qpu"]))
        .failure_mode(FailureMode::Continue)
        .build()
        .unwrap();
    let report = orchestrator.run(&workflow).await.unwrap();
    for i in 0..3 {
        assert_eq!(
            report.task(&format!("train{i}")).unwrap().state,
            TaskState::Succeeded
        );
    }
    assert_eq!(
        gpu.stats().succeeded,
        3,
        "every gpu task ran on the gpu agent"
    );
    assert_eq!(cpu.stats().succeeded, 0);
    let quantum = report.task("quantum").unwrap();
    assert_eq!(quantum.state, TaskState::Failed);
    assert!(
        quantum.error.as_deref().unwrap().contains("qpu"),
        "{quantum:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_work_of_an_agent_that_turns_unhealthy_is_rescheduled_and_nothing_is_lost() {
    let registry = Registry::builder().build().unwrap();
    let agents = AgentExecutor::new(registry.clone(), Strategy::RoundRobin.balancer()).unwrap();
    let (a, b) = (pool(4), pool(4));
    agents.add(AgentSpec::new("a"), a.clone()).unwrap();
    agents.add(AgentSpec::new("b"), b.clone()).unwrap();
    let orchestrator = Orchestrator::with_parts(PriorityQueue::new(), agents).unwrap();
    let mut events = orchestrator.subscribe();
    let workflow = Workflow::builder("resilient")
        .tasks((0..8).map(|i| sleeper(&format!("t{i}"), ms(100))))
        .retry(Policy::fixed(ms(10)).attempts(3).build().unwrap())
        .build()
        .unwrap();
    let run = orchestrator.start(&workflow).unwrap();
    tokio::time::sleep(ms(50)).await;
    // Agent `a` fails its health checks: Degraded, then Unhealthy.
    for _ in 0..3 {
        registry.report_probe("a", false).unwrap();
    }
    let report = run.await.unwrap();
    assert!(report.is_success(), "{report:#?}");
    let moved = report.tasks().iter().filter(|t| t.attempts == 2).count();
    assert_eq!(moved, 4, "the four tasks on `a` ran again on `b`");
    assert_eq!(report.totals.retries, 4);
    // The retries waited for `b`'s four workers, busy with its own tasks until 100 ms.
    assert_eq!(report.duration, ms(100 + 100));
    assert_eq!(b.stats().succeeded, 8);
    let finals = check_transitions(&events.drain());
    assert_eq!(finals.len(), 8);
}

#[tokio::test(start_paused = true)]
async fn an_agent_killed_mid_run_loses_no_task() {
    let registry = Registry::builder().build().unwrap();
    let agents = AgentExecutor::new(registry.clone(), Strategy::LeastLoaded.balancer()).unwrap();
    agents.add(AgentSpec::new("doomed"), pool(3)).unwrap();
    agents.add(AgentSpec::new("survivor"), pool(3)).unwrap();
    let orchestrator = Orchestrator::with_parts(PriorityQueue::new(), agents).unwrap();
    let mut events = orchestrator.subscribe();
    let workflow = Workflow::builder("killed")
        .tasks((0..12).map(|i| sleeper(&format!("t{i}"), ms(40))))
        .retry(Policy::fixed(ms(5)).attempts(4).build().unwrap())
        .failure_mode(FailureMode::Continue)
        .build()
        .unwrap();
    let run = orchestrator.start(&workflow).unwrap();
    tokio::time::sleep(ms(20)).await;
    assert!(registry.deregister("doomed"), "the agent goes away mid-run");
    let report = run.await.unwrap();
    assert!(report.is_success(), "{report:#?}");
    assert!(report.totals.adds_up());
    assert!(
        report.totals.retries >= 1,
        "the doomed agent's work ran again"
    );
    let finals = check_transitions(&events.drain());
    assert_eq!(finals.len(), 12);
    assert!(finals.values().all(|s| *s == TaskState::Succeeded));
}

#[test]
fn an_agent_executor_needs_a_runtime_to_watch_its_agents() {
    let registry = Registry::builder().build().unwrap();
    let err = AgentExecutor::new(registry, Strategy::LeastLoaded.balancer()).unwrap_err();
    assert!(
        matches!(err, baton_orchestrator::BuildError::NoRuntime),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn parallelism_follows_agents_as_they_are_added_and_lost() {
    let registry = Registry::builder().build().unwrap();
    let agents =
        Arc::new(AgentExecutor::new(registry.clone(), Strategy::LeastLoaded.balancer()).unwrap());
    agents.add(AgentSpec::new("first"), pool(1)).unwrap();
    let orchestrator = Orchestrator::with_parts(PriorityQueue::new(), Arc::clone(&agents)).unwrap();
    let workflow = Workflow::builder("growing")
        .tasks((0..4).map(|i| sleeper(&format!("t{i}"), ms(100))))
        .build()
        .unwrap();
    let run = orchestrator.start(&workflow).unwrap();
    tokio::time::sleep(ms(10)).await;
    // Three more workers arrive while the first task runs: the other three start on them.
    agents.add(AgentSpec::new("second"), pool(3)).unwrap();
    assert_eq!(agents.capacity(), 4);
    let report = run.await.unwrap();
    assert!(report.is_success(), "{report:#?}");
    let latest = report
        .tasks()
        .iter()
        .filter_map(|t| t.started_at)
        .max()
        .unwrap();
    assert!(
        latest <= ms(10 + 100),
        "they waited for the first instead: {report:#?}"
    );
    assert_eq!(report.duration, ms(100 + 10) + (latest - ms(10)));

    // An agent lost takes its capacity with it.
    for _ in 0..3 {
        registry.report_probe("second", false).unwrap();
    }
    tokio::task::yield_now().await;
    assert_eq!(agents.capacity(), 1);
    let narrow = Workflow::builder("narrow")
        .tasks((0..3).map(|i| sleeper(&format!("n{i}"), ms(100))))
        .build()
        .unwrap();
    let report = orchestrator.run(&narrow).await.unwrap();
    assert!(report.is_success());
    assert_eq!(
        report.duration,
        ms(300),
        "one at a time on the one agent left"
    );
    // It recovers: its capacity is back.
    for _ in 0..3 {
        registry.report_probe("second", true).unwrap();
    }
    tokio::task::yield_now().await;
    assert_eq!(agents.capacity(), 4);
}

#[tokio::test(start_paused = true)]
async fn where_an_attempt_ran_is_in_its_context_its_events_and_its_report_row() {
    let registry = Registry::builder().build().unwrap();
    let agents = AgentExecutor::new(registry.clone(), Strategy::LeastLoaded.balancer()).unwrap();
    agents
        .add(AgentSpec::new("gpu-box").capability("gpu"), pool(1))
        .unwrap();
    agents.add(AgentSpec::new("cpu-box"), pool(1)).unwrap();
    let orchestrator = Orchestrator::with_parts(PriorityQueue::new(), agents).unwrap();
    let mut events = orchestrator.subscribe();
    let workflow = Workflow::builder("where")
        .task(
            Task::new(
                "train",
                |ctx| async move { Ok(ctx.agent().map(str::to_owned)) },
            )
            .requires(["gpu"]),
        )
        .task(
            Task::new("read", |ctx| async move {
                let placed: &Option<String> = ctx.output("train")?;
                assert_eq!(placed.as_deref(), Some("gpu-box"));
                Ok(())
            })
            .needs(["train"]),
        )
        .build()
        .unwrap();
    let report = orchestrator.run(&workflow).await.unwrap();
    assert!(report.is_success(), "{report:#?}");
    assert_eq!(
        report.task("train").unwrap().agent.as_deref(),
        Some("gpu-box")
    );
    assert!(report.task("read").unwrap().agent.is_some());
    let events = events.drain();
    let ended = events
        .iter()
        .find(|e| {
            e.task.as_deref() == Some("train") && matches!(e.kind, EventKind::Succeeded { .. })
        })
        .unwrap();
    assert_eq!(ended.agent.as_deref(), Some("gpu-box"));
    let started = events
        .iter()
        .find(|e| matches!(e.kind, EventKind::Started { .. }))
        .unwrap();
    assert_eq!(
        started.agent, None,
        "placement is known when the attempt ends"
    );
    // On a plain pool there is no agent.
    let plain = Orchestrator::builder().workers(1).build().unwrap();
    let report = plain
        .run(
            &Workflow::builder("plain")
                .task(Task::new("t", |ctx| async move {
                    assert_eq!(ctx.agent(), None);
                    Ok(())
                }))
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(report.task("t").unwrap().agent, None);
}

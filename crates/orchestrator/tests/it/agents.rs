//! Tasks on agents: capability-based placement, and the work of a lost agent rescheduled.

use baton_orchestrator::agents::AgentExecutor;
use baton_orchestrator::crates::agents::{AgentSpec, Registry};
use baton_orchestrator::crates::pool::balance::Strategy;
use baton_orchestrator::{
    FailureMode, Orchestrator, Policy, Pool, PriorityQueue, TaskState, Workflow,
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

//! Scheduling: priorities, dependency order, parallelism, outputs, validation.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use baton_orchestrator::{
    Boost, OutputError, Priority, RunOutcome, Task, TaskContext, TaskError, TaskState, Workflow,
    WorkflowProblem,
};

use crate::support::{Log, logged, ms, noop, orchestrator, sleeper};

#[tokio::test(start_paused = true)]
async fn priorities_are_honoured_under_contention() {
    let log = Log::default();
    // One worker: `first` (critical, declared first) takes it while the others queue up; they
    // then run by priority, FIFO within a level.
    let workflow = Workflow::builder("contention")
        .task(logged(&log, "first", ms(10)).priority(Priority::Critical))
        .task(logged(&log, "low", ms(1)).priority(Priority::Low))
        .task(logged(&log, "critical", ms(1)).priority(Priority::Critical))
        .task(logged(&log, "normal-1", ms(1)))
        .task(logged(&log, "high", ms(1)).priority(Priority::High))
        .task(logged(&log, "normal-2", ms(1)))
        .task(logged(&log, "background", ms(1)).priority(Priority::Background))
        .boost(Boost::None)
        .build()
        .unwrap();
    let report = orchestrator(1).run(&workflow).await.unwrap();
    assert!(report.is_success());
    assert_eq!(
        log.entries(),
        [
            "first",
            "critical",
            "high",
            "normal-1",
            "normal-2",
            "low",
            "background"
        ]
    );
    // The queue wait shows in the report: `background` waited for everything else.
    let background = report.task("background").unwrap();
    assert_eq!(background.wait, ms(10 + 5));
}

#[tokio::test(start_paused = true)]
async fn the_critical_path_is_boosted_past_side_tasks() {
    let log = Log::default();
    let workflow = Workflow::builder("boost")
        .task(logged(&log, "side-1", ms(10)))
        .task(logged(&log, "side-2", ms(10)))
        .task(logged(&log, "chain-1", ms(10)).weight(5))
        .task(logged(&log, "chain-2", ms(10)).weight(5).needs(["chain-1"]))
        .build()
        .unwrap();
    assert_eq!(workflow.effective_priority("chain-1"), Some(Priority::High));
    let report = orchestrator(1).run(&workflow).await.unwrap();
    // chain-1 jumps the side tasks, and chain-2 (queued while side tasks wait) does too.
    assert_eq!(log.entries(), ["chain-1", "chain-2", "side-1", "side-2"]);
    assert_eq!(report.critical_path.tasks, ["side-2"]);
}

#[tokio::test(start_paused = true)]
async fn no_task_starts_before_its_dependencies_succeeded() {
    let log = Log::default();
    let workflow = Workflow::builder("diamond")
        .task(logged(&log, "a", ms(5)))
        .task(logged(&log, "b", ms(20)).needs(["a"]))
        .task(logged(&log, "c", ms(10)).needs(["a"]))
        .task(logged(&log, "d", ms(1)).needs(["b", "c"]))
        .task(logged(&log, "e", ms(1)).needs(["d"]))
        .build()
        .unwrap();
    let report = orchestrator(4).run(&workflow).await.unwrap();
    let timed = log.timed();
    let at = |id: &str| timed.iter().find(|(w, _)| w == id).unwrap().1;
    assert_eq!(at("b") - at("a"), ms(5));
    assert_eq!(at("c"), at("b")); // independent: in parallel
    assert_eq!(at("d") - at("a"), ms(25)); // after the slower of b and c
    assert!(log.position("e") > log.position("d"));
    assert_eq!(report.critical_path.tasks, ["a", "b", "d", "e"]);
    assert_eq!(report.critical_path.duration, ms(27));
    assert_eq!(report.duration, ms(27));
}

#[tokio::test(start_paused = true)]
async fn a_hundred_10ms_tasks_on_10_workers_take_about_100ms() {
    let workflow = Workflow::builder("wide")
        .tasks((0..100).map(|i| sleeper(&format!("t{i}"), ms(10))))
        .build()
        .unwrap();
    let report = orchestrator(10).run(&workflow).await.unwrap();
    assert!(report.is_success());
    assert_eq!(report.totals.succeeded, 100);
    // Ten waves of ten: exactly 100 ms of virtual time (the engine's own cost is not on the clock).
    assert_eq!(report.duration, ms(100));
    assert_eq!(report.totals.run_time, ms(1000));
}

#[tokio::test(start_paused = true)]
async fn max_parallelism_caps_a_run_below_the_worker_count() {
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let task = |i: usize| {
        let (running, peak) = (Arc::clone(&running), Arc::clone(&peak));
        Task::new(format!("t{i}"), move |_| {
            let (running, peak) = (Arc::clone(&running), Arc::clone(&peak));
            async move {
                let now = running.fetch_add(1, SeqCst) + 1;
                peak.fetch_max(now, SeqCst);
                tokio::time::sleep(ms(10)).await;
                running.fetch_sub(1, SeqCst);
                Ok(())
            }
        })
    };
    let workflow = Workflow::builder("capped")
        .tasks((0..20).map(task))
        .max_parallelism(3)
        .build()
        .unwrap();
    let report = orchestrator(8).run(&workflow).await.unwrap();
    assert!(report.is_success());
    assert_eq!(peak.load(SeqCst), 3);
    assert_eq!(report.duration, ms(70)); // ceil(20 / 3) waves
}

#[tokio::test(start_paused = true)]
async fn dependents_read_their_dependencies_outputs_and_nothing_else() {
    let workflow = Workflow::builder("outputs")
        .task(Task::new("numbers", |_| async { Ok(vec![1_u32, 2, 3]) }))
        .task(Task::new("label", |_| async { Ok(String::from("sum")) }))
        .task(
            Task::new("sum", |ctx| async move {
                let numbers: &Vec<u32> = ctx.output("numbers")?;
                let label: &String = ctx.output("label")?;
                // Not a dependency, and the wrong type: clear errors.
                assert_eq!(
                    ctx.output::<u32>("other").unwrap_err(),
                    OutputError::NotADependency {
                        task: "sum".into(),
                        requested: "other".into()
                    }
                );
                assert!(matches!(
                    ctx.output::<u64>("numbers"),
                    Err(OutputError::WrongType { .. })
                ));
                Ok(format!("{label}={}", numbers.iter().sum::<u32>()))
            })
            .needs(["numbers", "label"]),
        )
        .task(noop("other"))
        .build()
        .unwrap();
    let report = orchestrator(2).run(&workflow).await.unwrap();
    assert!(report.is_success(), "{report:?}");
}

#[tokio::test(start_paused = true)]
async fn a_unit_output_reads_as_unit_and_as_nothing_else() {
    let workflow = Workflow::builder("unit")
        .task(noop("setup"))
        .task(
            Task::new("check", |ctx| async move {
                let _: &() = ctx.output("setup")?;
                assert!(matches!(
                    ctx.output::<u32>("setup"),
                    Err(OutputError::WrongType {
                        expected: "u32",
                        ..
                    })
                ));
                Ok(())
            })
            .needs(["setup"]),
        )
        .build()
        .unwrap();
    let report = orchestrator(2).run(&workflow).await.unwrap();
    assert!(report.is_success(), "{report:?}");
}

/// A stateless handler: every task of the workflow below runs it (one handler serves them all),
/// and each call still sees its own task and its own dependency's output.
async fn echo(ctx: TaskContext) -> Result<String, TaskError> {
    let id = ctx.task_id();
    let index: usize = id[1..].parse().expect("ids are t0, t1...");
    if index > 0 {
        let previous: &String = ctx.output(&format!("t{}", index - 1))?;
        assert_eq!(previous, &format!("t{}", index - 1));
    }
    Ok(id.to_owned())
}

#[tokio::test(start_paused = true)]
async fn tasks_sharing_a_stateless_handler_each_see_their_own_context() {
    let workflow = Workflow::builder("chain")
        .tasks((0..50).map(|i| {
            let task = Task::new(format!("t{i}"), echo);
            if i == 0 {
                task
            } else {
                task.needs([format!("t{}", i - 1)])
            }
        }))
        .build()
        .unwrap();
    let report = orchestrator(4).run(&workflow).await.unwrap();
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.totals.succeeded, 50);
}

#[tokio::test(start_paused = true)]
async fn an_invalid_workflow_runs_nothing_and_lists_every_problem() {
    let ran = Arc::new(AtomicUsize::new(0));
    let counting = |id: &str| {
        let ran = Arc::clone(&ran);
        Task::new(id, move |_| {
            ran.fetch_add(1, SeqCst);
            async { Ok(()) }
        })
    };
    let err = Workflow::builder("bad")
        .task(counting("a").needs(["c"]))
        .task(counting("b").needs(["a"]))
        .task(counting("c").needs(["b"]))
        .task(counting("d").needs(["missing"]))
        .task(counting("d"))
        .build()
        .unwrap_err();
    assert_eq!(err.problems().len(), 3, "{err}");
    let cycle = err
        .problems()
        .iter()
        .find_map(|p| match p {
            WorkflowProblem::Graph(baton_orchestrator::Problem::Cycle { nodes, .. }) => {
                Some(nodes.clone())
            }
            _ => None,
        })
        .expect("the cycle is reported");
    assert_eq!(cycle.len(), 3);
    assert_eq!(ran.load(SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn a_single_task_workflow_reports_its_task() {
    let workflow = Workflow::builder("one")
        .task(noop("only").tag("x"))
        .build()
        .unwrap();
    let report = orchestrator(1).run(&workflow).await.unwrap();
    let only = report.task("only").unwrap();
    assert_eq!((only.state, only.attempts), (TaskState::Succeeded, 1));
    assert_eq!(only.tags, ["x"]);
    assert_eq!(report.outcome, RunOutcome::Succeeded);
    assert_eq!(report.critical_path.tasks, ["only"]);
    assert!(report.totals.adds_up());
}

/// The most attempts in `Running` at once, from a run's events.
fn most_running(events: &[baton_orchestrator::Event]) -> usize {
    use baton_orchestrator::EventKind;
    let (mut now, mut most) = (0_usize, 0);
    for event in events {
        match event.kind {
            EventKind::Started { .. } => now += 1,
            EventKind::Succeeded { .. } | EventKind::Failed { .. } => now -= 1,
            _ => {}
        }
        most = most.max(now);
    }
    most
}

#[tokio::test(start_paused = true)]
async fn adaptive_prefetch_hands_short_tasks_over_in_batches() {
    // Tasks that take no time: after the first ends, the engine hands over early up to the
    // ceiling (per worker), so the worker never waits for the engine.
    let ceiling = baton_orchestrator::Prefetch::MAX_PER_WORKER;
    let workflow = Workflow::builder("short")
        .tasks((0..ceiling + 300).map(|i| noop(&format!("t{i}"))))
        .build()
        .unwrap();
    let adaptive = orchestrator(1);
    let mut events = adaptive.subscribe();
    assert!(adaptive.run(&workflow).await.unwrap().is_success());
    assert_eq!(most_running(&events.drain()), 1 + ceiling);

    // A fixed prefetch of 0: one at a time, each start the queue's decision.
    let strict = baton_orchestrator::Orchestrator::builder()
        .workers(1)
        .prefetch(0)
        .build()
        .unwrap();
    let mut events = strict.subscribe();
    assert!(strict.run(&workflow).await.unwrap().is_success());
    assert_eq!(most_running(&events.drain()), 1);
}

#[tokio::test(start_paused = true)]
async fn adaptive_prefetch_keeps_strict_priority_for_long_tasks() {
    // One worker. `warm` runs first, so the engine has measured an attempt by the time `gate`
    // starts. Tasks of 10 ms are far over the 1 ms budget: nothing is handed over early, and
    // `urgent`, ready when `gate` ends, overtakes the five low-priority tasks queued since the
    // start.
    let run = |d: Duration| {
        let log = Log::default();
        let workflow = Workflow::builder("gate")
            .task(logged(&log, "warm", d).priority(Priority::Critical))
            .task(logged(&log, "gate", d).priority(Priority::Critical))
            .task(
                logged(&log, "urgent", d)
                    .priority(Priority::Critical)
                    .needs(["gate"]),
            )
            .tasks((1..=5).map(|i| logged(&log, &format!("low-{i}"), d).priority(Priority::Low)))
            .boost(Boost::None)
            .build()
            .unwrap();
        async move {
            assert!(orchestrator(1).run(&workflow).await.unwrap().is_success());
            log.position("urgent")
        }
    };
    assert_eq!(run(ms(10)).await, 2, "straight after `gate`");
    // The same shape with tasks that take no time: the low ones were handed over beside
    // `gate`, and `urgent` waits behind them, which costs it nothing measurable.
    assert_eq!(run(Duration::ZERO).await, 7, "after the five low ones");
}

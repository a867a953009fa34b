//! Scheduling: priorities, dependency order, parallelism, outputs, validation.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use baton_orchestrator::{
    Boost, OutputError, Priority, RunOutcome, Task, TaskState, Workflow, WorkflowProblem,
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

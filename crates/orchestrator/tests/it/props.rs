//! Property test: random DAGs with random faults. Every task ends in exactly one final state, no
//! task starts before its dependencies succeeded, and the report agrees with the events.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use baton_orchestrator::{
    EventKind, FailureMode, FaultPlan, Policy, RunOptions, Task, TaskState, Workflow,
};
use proptest::prelude::*;

use crate::support::{check_transitions, ms, orchestrator};

#[derive(Debug, Clone)]
struct Case {
    /// For each task, the earlier tasks it needs.
    needs: Vec<Vec<usize>>,
    durations: Vec<u64>,
    workers: usize,
    parallelism: Option<usize>,
    continue_on_failure: bool,
    saga: bool,
    seed: u64,
    fail: f64,
    panic: f64,
    hang: f64,
    compensable: Vec<bool>,
}

fn case() -> impl Strategy<Value = Case> {
    (1_usize..30).prop_flat_map(|n| {
        (
            proptest::collection::vec(
                proptest::collection::vec(any::<prop::sample::Index>(), 0..3),
                n,
            ),
            proptest::collection::vec(0_u64..20, n),
            1_usize..5,
            proptest::option::of(1_usize..4),
            any::<bool>(),
            any::<bool>(),
            any::<u64>(),
            0.0..0.3_f64,
            0.0..0.1_f64,
            0.0..0.05_f64,
            proptest::collection::vec(any::<bool>(), n),
        )
            .prop_map(
                |(
                    picks,
                    durations,
                    workers,
                    parallelism,
                    cont,
                    saga,
                    seed,
                    fail,
                    panic,
                    hang,
                    compensable,
                )| {
                    let needs = picks
                        .iter()
                        .enumerate()
                        .map(|(i, p)| {
                            let mut deps: Vec<usize> = if i == 0 {
                                Vec::new()
                            } else {
                                p.iter().map(|x| x.index(i)).collect()
                            };
                            deps.sort_unstable();
                            deps.dedup();
                            deps
                        })
                        .collect();
                    Case {
                        needs,
                        durations,
                        workers,
                        parallelism,
                        continue_on_failure: cont,
                        saga,
                        seed,
                        fail,
                        panic,
                        hang,
                        compensable,
                    }
                },
            )
    })
}

fn workflow(case: &Case) -> Workflow {
    let mut builder = Workflow::builder("random")
        .retry(Policy::fixed(ms(3)).attempts(2).build().unwrap())
        .failure_mode(if case.continue_on_failure {
            FailureMode::Continue
        } else {
            FailureMode::FailFast
        })
        .saga(case.saga);
    if let Some(p) = case.parallelism {
        builder = builder.max_parallelism(p);
    }
    for (i, deps) in case.needs.iter().enumerate() {
        let d = ms(case.durations[i]);
        let mut task = Task::new(format!("t{i}"), move |_| async move {
            tokio::time::sleep(d).await;
            Ok(())
        })
        .timeout(ms(100))
        .needs(deps.iter().map(|j| format!("t{j}")));
        if case.compensable[i] {
            task = task.compensate(|_| async { Ok(()) });
        }
        builder = builder.task(task);
    }
    builder.build().unwrap()
}

fn check(case: &Case) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        let workflow = workflow(case);
        let orchestrator = orchestrator(case.workers);
        let mut stream = orchestrator.subscribe();
        let plan = FaultPlan::new().random(case.seed, case.fail, case.panic, case.hang);
        // On the paused clock a run that never ends (a task left without a final state) makes
        // time jump to this deadline at once: a failure, not a hang.
        let run = orchestrator.run_with(&workflow, RunOptions::new().seed(case.seed).faults(plan));
        let report = tokio::time::timeout(Duration::from_secs(3600), run)
            .await
            .expect("the run ends")
            .unwrap();
        let events = stream.drain();
        let n = case.needs.len();

        // Exactly one final state per task, reached through legal transitions, as reported.
        let finals = check_transitions(&events);
        assert_eq!(finals.len(), n, "every task has events");
        for task in report.tasks() {
            assert_eq!(finals[&*task.id], task.state, "task {}", task.id);
        }
        assert!(report.totals.adds_up(), "{:?}", report.totals);

        // No task starts before each of its dependencies succeeded.
        let mut succeeded: HashSet<&str> = HashSet::new();
        for event in &events {
            let Some(task) = event.task.as_deref() else {
                continue;
            };
            match event.kind {
                EventKind::Succeeded { .. } => {
                    succeeded.insert(task);
                }
                EventKind::Started { .. } => {
                    let i: usize = task[1..].parse().unwrap();
                    for dep in &case.needs[i] {
                        assert!(
                            succeeded.contains(format!("t{dep}").as_str()),
                            "{task} started before t{dep}"
                        );
                    }
                }
                _ => {}
            }
        }

        // Saga runs that failed leave no completed compensable task behind, unless a
        // compensation failed (these never fail here).
        if case.saga && !report.is_success() {
            for (i, task) in report.tasks().iter().enumerate() {
                if case.compensable[i] {
                    assert_ne!(task.state, TaskState::Succeeded, "t{i} was not compensated");
                }
            }
        }
        // Attempts per task never exceed the policy.
        let attempts: HashMap<&str, u32> = report
            .tasks()
            .iter()
            .map(|t| (&*t.id, t.attempts))
            .collect();
        assert!(attempts.values().all(|&a| a <= 2));
        assert!(report.run.get() == 1);
    });
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_workflows_with_random_faults_end_every_task_once_in_order(case in case()) {
        check(&case);
    }
}

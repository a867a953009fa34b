//! Retries: every strategy end to end, delays on the clock, permanent errors, budgets.

use std::sync::Arc;
use std::time::Duration;

use baton_orchestrator::{
    Jitter, Orchestrator, Policy, RetryBudget, RunOptions, Task, TaskError, TaskState, Workflow,
};
use tokio::time::Instant;

use crate::support::{ms, orchestrator};

/// A task that fails its first `failures` attempts, recording when each attempt started.
fn flaky(id: &str, failures: u32, starts: &Arc<std::sync::Mutex<Vec<Instant>>>) -> Task {
    let starts = Arc::clone(starts);
    Task::new(id, move |ctx| {
        starts.lock().unwrap().push(Instant::now());
        let attempt = ctx.attempt();
        async move {
            if attempt <= failures {
                Err(TaskError::msg(format!("attempt {attempt} failed")))
            } else {
                Ok(attempt)
            }
        }
    })
}

/// Runs a flaky task under `policy` and returns the gaps between its attempts, and its report.
async fn gaps(policy: Policy, failures: u32) -> (Vec<Duration>, baton_orchestrator::TaskReport) {
    let starts = Arc::default();
    let workflow = Workflow::builder("retry")
        .task(flaky("flaky", failures, &starts).retry(policy))
        .build()
        .unwrap();
    let report = orchestrator(1)
        .run_with(&workflow, RunOptions::new().seed(3))
        .await
        .unwrap();
    let starts = starts.lock().unwrap().clone();
    let gaps = starts.windows(2).map(|w| w[1] - w[0]).collect();
    (gaps, report.task("flaky").unwrap().clone())
}

#[tokio::test(start_paused = true)]
async fn fixed_delays() {
    let policy = Policy::fixed(ms(100)).attempts(4).build().unwrap();
    let (gaps, task) = gaps(policy, 3).await;
    assert_eq!(gaps, [ms(100); 3]);
    assert_eq!((task.state, task.attempts), (TaskState::Succeeded, 4));
}

#[tokio::test(start_paused = true)]
async fn exponential_backoff_with_a_cap() {
    let policy = Policy::exponential(ms(100), 2.0)
        .attempts(5)
        .max_delay(ms(500))
        .build()
        .unwrap();
    let (gaps, task) = gaps(policy, 4).await;
    assert_eq!(gaps, [ms(100), ms(200), ms(400), ms(500)]);
    assert_eq!(task.attempts, 5);
}

#[tokio::test(start_paused = true)]
async fn linear_backoff() {
    let policy = Policy::linear(ms(50), ms(25)).attempts(4).build().unwrap();
    let (gaps, _) = gaps(policy, 3).await;
    assert_eq!(gaps, [ms(50), ms(75), ms(100)]);
}

#[tokio::test(start_paused = true)]
async fn random_delays_stay_in_range_and_follow_the_seed() {
    let policy = Policy::random(ms(10), ms(90)).attempts(6).build().unwrap();
    let (first, _) = gaps(policy, 5).await;
    assert_eq!(first.len(), 5);
    assert!(
        first.iter().all(|g| (ms(10)..=ms(90)).contains(g)),
        "{first:?}"
    );
    let (again, _) = gaps(policy, 5).await;
    assert_eq!(first, again, "the same seed gives the same delays");
}

#[tokio::test(start_paused = true)]
async fn full_jitter_stays_under_the_curve() {
    let policy = Policy::exponential(ms(100), 2.0)
        .attempts(4)
        .jitter(Jitter::Full)
        .build()
        .unwrap();
    let (gaps, _) = gaps(policy, 3).await;
    for (gap, ceiling) in gaps.iter().zip([ms(100), ms(200), ms(400)]) {
        assert!(*gap <= ceiling, "{gaps:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn exhausted_retries_fail_the_task_with_the_last_error() {
    let policy = Policy::fixed(ms(10)).attempts(3).build().unwrap();
    let (_, task) = gaps(policy, 10).await;
    assert_eq!((task.state, task.attempts), (TaskState::Failed, 3));
    assert_eq!(task.error.as_deref(), Some("attempt 3 failed"));
}

#[tokio::test(start_paused = true)]
async fn a_permanent_error_is_not_retried_and_retry_after_is_honoured() {
    let workflow = Workflow::builder("classify")
        .task(Task::new("fatal", |_| async {
            Err::<(), _>(TaskError::permanent("bad credentials"))
        }))
        .task(Task::new("throttled", |ctx| {
            let attempt = ctx.attempt();
            async move {
                if attempt == 1 {
                    Err(TaskError::msg("429").retry_after(Duration::from_secs(7)))
                } else {
                    Ok(())
                }
            }
        }))
        .retry(Policy::fixed(ms(1)).attempts(5).build().unwrap())
        .failure_mode(baton_orchestrator::FailureMode::Continue)
        .build()
        .unwrap();
    let report = orchestrator(2).run(&workflow).await.unwrap();
    let fatal = report.task("fatal").unwrap();
    assert_eq!((fatal.state, fatal.attempts), (TaskState::Failed, 1));
    let throttled = report.task("throttled").unwrap();
    assert_eq!(
        (throttled.state, throttled.attempts),
        (TaskState::Succeeded, 2)
    );
    assert_eq!(throttled.started_at, Some(Duration::ZERO));
    assert_eq!(throttled.ended_at, Some(Duration::from_secs(7)));
}

#[tokio::test(start_paused = true)]
async fn a_task_waiting_for_its_retry_holds_no_worker() {
    // One worker: while `flaky` waits 1 s for its retry, `other` runs.
    let starts = Arc::default();
    let workflow = Workflow::builder("yield")
        .task(
            flaky("flaky", 1, &starts).retry(
                Policy::fixed(Duration::from_secs(1))
                    .attempts(2)
                    .build()
                    .unwrap(),
            ),
        )
        .task(crate::support::sleeper("other", ms(300)))
        .build()
        .unwrap();
    let report = orchestrator(1).run(&workflow).await.unwrap();
    let other = report.task("other").unwrap();
    assert!(
        other.ended_at.unwrap() <= Duration::from_secs(1),
        "{other:?}"
    );
    assert_eq!(report.duration, Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn a_spent_retry_budget_fails_tasks_instead_of_retrying() {
    let budget = Arc::new(
        RetryBudget::builder()
            .ratio(0.0)
            .min_per_sec(1)
            .ttl(Duration::from_secs(10))
            .build()
            .unwrap(),
    );
    let starts = Arc::default();
    let policy = Policy::fixed(ms(1)).attempts(10).build().unwrap();
    let workflow = Workflow::builder("budget")
        .task(flaky("a", 100, &starts))
        .task(flaky("b", 100, &starts))
        .retry(policy)
        .retry_budget(budget)
        .failure_mode(baton_orchestrator::FailureMode::Continue)
        .build()
        .unwrap();
    let orchestrator: Orchestrator = orchestrator(2);
    let report = orchestrator.run(&workflow).await.unwrap();
    // The budget allows `min_per_sec * ttl` = 10 retries in all, far fewer than 2 x 9.
    assert_eq!(report.totals.failed, 2);
    assert_eq!(report.totals.retries, 10, "{report:#?}");
}

//! Custom queue backends through the `TaskQueue` trait, including failing ones: every task still
//! ends once, events stay legal, and the engine neither hangs nor spins. And a custom executor
//! through the `Executor` trait.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use baton_orchestrator::crates::queue::{
    Popped, PushError, PushOptions, QueueStats, TaskId, TryPopError,
};
use baton_orchestrator::{
    Attempt, Executor, FailureMode, Orchestrator, Outcome, Pool, PriorityQueue, QueuedTask,
    RunOutcome, Task, TaskQueue, TaskState, Workflow,
};

use crate::support::{check_transitions, ms, noop, sleeper};

#[derive(Debug, thiserror::Error)]
#[error("backend unavailable")]
struct Unavailable;

/// An in-memory queue whose pushes, pops and cancellations can be made to fail.
#[derive(Clone, Default)]
struct FlakyQueue {
    inner: PriorityQueue<QueuedTask>,
    /// Pushes to let through before failing one (`usize::MAX`: never fail).
    pushes_before_failure: Arc<AtomicUsize>,
    failing_pops: Arc<AtomicUsize>,
    pops_attempted: Arc<AtomicUsize>,
    ignore_cancels: Arc<AtomicBool>,
}

impl FlakyQueue {
    fn new() -> Self {
        let queue = Self::default();
        queue.pushes_before_failure.store(usize::MAX, SeqCst);
        queue
    }
}

impl TaskQueue<QueuedTask> for FlakyQueue {
    type Error = Unavailable;

    async fn push(
        &self,
        item: QueuedTask,
        opts: PushOptions,
    ) -> Result<TaskId, PushError<QueuedTask, Unavailable>> {
        let left = self.pushes_before_failure.load(SeqCst);
        if left == 0 {
            self.pushes_before_failure.store(usize::MAX, SeqCst);
            return Err(PushError::Backend {
                item,
                error: Unavailable,
            });
        }
        if left != usize::MAX {
            self.pushes_before_failure.store(left - 1, SeqCst);
        }
        self.inner
            .try_push(item, opts)
            .map_err(|e| PushError::Closed(e.into_item()))
    }

    async fn pop(&self) -> Result<Option<Popped<QueuedTask>>, Unavailable> {
        self.pops_attempted.fetch_add(1, SeqCst);
        if self.failing_pops.load(SeqCst) > 0 {
            self.failing_pops.fetch_sub(1, SeqCst);
            return Err(Unavailable);
        }
        Ok(self.inner.pop().await)
    }

    async fn try_pop(&self) -> Result<Popped<QueuedTask>, TryPopError<Unavailable>> {
        self.pops_attempted.fetch_add(1, SeqCst);
        if self.failing_pops.load(SeqCst) > 0 {
            self.failing_pops.fetch_sub(1, SeqCst);
            return Err(TryPopError::Backend(Unavailable));
        }
        self.inner.try_pop().map_err(|e| match e {
            TryPopError::Closed => TryPopError::Closed,
            _ => TryPopError::Empty,
        })
    }

    async fn cancel(&self, id: TaskId) -> Result<Option<QueuedTask>, Unavailable> {
        if self.ignore_cancels.load(SeqCst) {
            return Ok(None); // "already gone", but the item stays: it will be popped later
        }
        Ok(self.inner.cancel(id))
    }

    async fn close(&self) -> Result<(), Unavailable> {
        self.inner.close();
        Ok(())
    }

    async fn stats(&self) -> Result<QueueStats, Unavailable> {
        Ok(self.inner.stats())
    }
}

fn orchestrator_on(queue: &FlakyQueue, workers: usize) -> Orchestrator<FlakyQueue, Pool> {
    let pool = Pool::builder().workers(workers).build().unwrap();
    Orchestrator::with_parts(queue.clone(), pool).unwrap()
}

/// The engine's count of queued items is still right after a failure: a new run goes through.
async fn another_run_goes_through(orchestrator: &Orchestrator<FlakyQueue, Pool>) {
    let again = Workflow::builder("after").task(noop("x")).build().unwrap();
    let report = tokio::time::timeout(Duration::from_secs(60), orchestrator.run(&again))
        .await
        .expect("the second run ends")
        .unwrap();
    assert!(report.is_success());
}

#[tokio::test(start_paused = true)]
async fn a_task_that_cannot_be_queued_fails_and_its_dependents_are_skipped() {
    let queue = FlakyQueue::new();
    let orchestrator = orchestrator_on(&queue, 2);
    let mut events = orchestrator.subscribe();
    let workflow = Workflow::builder("push-fails")
        .task(noop("a"))
        .task(noop("b").needs(["a"]))
        .task(noop("c").needs(["b"]))
        .failure_mode(FailureMode::Continue)
        .build()
        .unwrap();
    queue.pushes_before_failure.store(1, SeqCst); // `a` is queued, `b` is not
    let report = orchestrator.run(&workflow).await.unwrap();
    let b = report.task("b").unwrap();
    assert_eq!((b.state, b.attempts), (TaskState::Failed, 0));
    assert!(
        b.error.as_deref().unwrap().contains("could not be queued"),
        "{b:?}"
    );
    assert_eq!(report.task("c").unwrap().state, TaskState::Skipped);
    assert!(report.totals.adds_up());
    check_transitions(&events.drain());
}

#[tokio::test(start_paused = true)]
async fn a_push_failing_mid_batch_stops_a_fail_fast_run_and_leaves_nothing_queued() {
    let queue = FlakyQueue::new();
    let orchestrator = orchestrator_on(&queue, 1);
    let mut events = orchestrator.subscribe();
    // The ten roots are queued as one batch: t0..t3 go in, t4 fails, t5..t9 go in after it.
    let workflow = Workflow::builder("mid-batch")
        .tasks((0..10).map(|i| noop(&format!("t{i}"))))
        .boost(baton_orchestrator::Boost::None)
        .build()
        .unwrap();
    queue.pushes_before_failure.store(4, SeqCst);
    let report = orchestrator.run(&workflow).await.unwrap();
    assert_eq!(
        report.outcome,
        RunOutcome::Failed {
            tasks: vec!["t4".into()]
        }
    );
    let t4 = report.task("t4").unwrap();
    assert_eq!((t4.state, t4.attempts), (TaskState::Failed, 0));
    assert!(report.totals.adds_up());
    assert_eq!((report.totals.failed, report.totals.skipped), (1, 9));
    assert_eq!(
        queue.inner.len(),
        0,
        "the items pushed around the failure were cancelled"
    );
    check_transitions(&events.drain());
    another_run_goes_through(&orchestrator).await;
}

#[tokio::test(start_paused = true)]
async fn failing_pops_back_off_instead_of_spinning_and_the_run_completes() {
    let queue = FlakyQueue::new();
    let orchestrator = orchestrator_on(&queue, 1);
    let workflow = Workflow::builder("pop-fails")
        .tasks((0..3).map(|i| noop(&format!("t{i}"))))
        .build()
        .unwrap();
    queue.failing_pops.store(5, SeqCst);
    let report = orchestrator.run(&workflow).await.unwrap();
    assert!(report.is_success());
    // Five failures back off 10 + 20 + 40 + 80 + 160 ms, with one pop attempt each: no spin.
    assert_eq!(report.duration, ms(310));
    assert!(
        queue.pops_attempted.load(SeqCst) <= 5 + 3 + 3,
        "{}",
        queue.pops_attempted.load(SeqCst)
    );
}

#[tokio::test(start_paused = true)]
async fn items_a_backend_failed_to_cancel_are_dropped_when_popped_and_nothing_hangs() {
    let queue = FlakyQueue::new();
    queue.ignore_cancels.store(true, SeqCst);
    let orchestrator = orchestrator_on(&queue, 1);
    // One worker: `boom` fails while `q1` and `q2` wait in the queue; fail-fast gives them up, the
    // backend "cancels" nothing, and the engine must skip them when they come out.
    let workflow = Workflow::builder("stale")
        .task(crate::support::failing("boom"))
        .task(sleeper("q1", ms(5)))
        .task(sleeper("q2", ms(5)))
        .boost(baton_orchestrator::Boost::None)
        .build()
        .unwrap();
    let report = orchestrator.run(&workflow).await.unwrap();
    assert_eq!(
        report.outcome,
        RunOutcome::Failed {
            tasks: vec!["boom".into()]
        }
    );
    assert_eq!(report.task("q1").unwrap().state, TaskState::Skipped);
    another_run_goes_through(&orchestrator).await;
    assert_eq!(
        orchestrator.executor().stats().succeeded,
        1,
        "the stale items never ran"
    );
}

/// An executor that keeps what it is handed until the test runs it.
#[derive(Default)]
struct Holding {
    attempts: std::sync::Mutex<Vec<Attempt>>,
}

impl Executor for Holding {
    fn capacity(&self) -> usize {
        4
    }

    fn execute(&self, attempt: Attempt) {
        self.attempts.lock().unwrap().push(attempt);
    }
}

#[tokio::test(start_paused = true)]
async fn handlers_run_where_the_executor_polls_the_attempt_not_at_dispatch() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = |id: &str| {
        let calls = Arc::clone(&calls);
        Task::new(id, move |_| {
            calls.fetch_add(1, SeqCst);
            async { Ok(7_u32) }
        })
    };
    let workflow = Workflow::builder("held")
        .task(counted("a"))
        .task(counted("b"))
        .build()
        .unwrap();
    let executor = Arc::new(Holding::default());
    let orchestrator =
        Orchestrator::with_parts(PriorityQueue::new(), Arc::clone(&executor)).unwrap();
    let run = orchestrator.start(&workflow).unwrap();
    tokio::time::sleep(ms(10)).await;
    let held: Vec<Attempt> = std::mem::take(&mut *executor.attempts.lock().unwrap());
    assert_eq!(held.len(), 2, "both attempts were handed over");
    assert_eq!(calls.load(SeqCst), 0, "no handler was called by the engine");
    for attempt in held {
        let (future, done) = attempt.into_parts();
        let outcome = match future.await {
            Ok(output) => Outcome::Succeeded(output),
            Err(error) => Outcome::Failed(error),
        };
        done.finish(outcome);
    }
    assert_eq!(calls.load(SeqCst), 2, "each handler ran once, when polled");
    let report = run.await.unwrap();
    assert!(report.is_success(), "{report:?}");
}

#[tokio::test(start_paused = true)]
async fn a_task_readied_and_skipped_in_one_batch_leaves_nothing_queued() {
    let queue = FlakyQueue::new();
    let orchestrator = orchestrator_on(&queue, 2);
    // `a` and `b` end at the same instant, in one batch: `a`'s success readies `d` (its push
    // not yet applied), then `b`'s failure stops the run and gives `d` up.
    let b = Task::new("b", |_| async {
        tokio::time::sleep(ms(10)).await;
        Err::<(), _>(baton_orchestrator::TaskError::msg("boom"))
    });
    let workflow = Workflow::builder("withdrawn")
        .task(sleeper("a", ms(10)).priority(baton_orchestrator::Priority::High))
        .task(b)
        .task(noop("d").needs(["a"]))
        .boost(baton_orchestrator::Boost::None)
        .build()
        .unwrap();
    let mut events = orchestrator.subscribe();
    let report = orchestrator.run(&workflow).await.unwrap();
    assert_eq!(
        report.outcome,
        RunOutcome::Failed {
            tasks: vec!["b".into()]
        }
    );
    // The case under test took place: `d` was queued (when `a` ended) and never started.
    let d_events: Vec<String> = events
        .drain()
        .iter()
        .filter(|e| e.task.as_deref() == Some("d"))
        .map(|e| format!("{:?}", e.kind))
        .collect();
    assert!(d_events[0].starts_with("Queued"), "{d_events:?}");
    assert!(
        !d_events.iter().any(|e| e.starts_with("Started")),
        "{d_events:?}"
    );
    let d = report.task("d").unwrap();
    assert_eq!((d.attempts, d.state.is_terminal()), (0, true), "{d:?}");
    assert!(report.totals.adds_up());
    assert_eq!(queue.inner.len(), 0, "the withdrawn push was not applied");
    another_run_goes_through(&orchestrator).await;
}

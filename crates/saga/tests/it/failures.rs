//! Panics, timeouts, cancellation, stuck steps, events and log failures.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_retry::Policy;
use baton_saga::{
    Abort, CancelToken, Entry, FailureKind, InMemoryLog, Outcome, Saga, SagaError, SagaLog,
    StepDef, StepFuture, permanent, step_fn,
};

type Log = Arc<Mutex<Vec<String>>>;

/// A step that records its calls in `log` and runs `body` as its action.
fn probe(
    name: &'static str,
    log: &Log,
    action: impl Fn() -> StepFuture<'static> + Send + Sync + 'static,
    compensation: impl Fn() -> StepFuture<'static> + Send + Sync + 'static,
) -> impl baton_saga::Step<u32> {
    let (a, c) = (Arc::clone(log), Arc::clone(log));
    step_fn(
        move |n: &mut u32| -> StepFuture<'_> {
            a.lock().unwrap().push(format!("do {name}"));
            let fut = action();
            Box::pin(async move {
                fut.await?;
                *n += 1;
                Ok(())
            })
        },
        move |n: &mut u32| -> StepFuture<'_> {
            c.lock().unwrap().push(format!("undo {name}"));
            let fut = compensation();
            Box::pin(async move {
                fut.await?;
                *n = n.saturating_sub(1);
                Ok(())
            })
        },
    )
}

fn ok() -> StepFuture<'static> {
    Box::pin(async { Ok(()) })
}

fn sleep(ms: u64) -> StepFuture<'static> {
    Box::pin(async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok(())
    })
}

fn strs(names: &[Arc<str>]) -> Vec<&str> {
    names.iter().map(|n| &**n).collect()
}

fn calls(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

fn attempts(n: u32) -> Policy {
    Policy::fixed(Duration::from_millis(1))
        .attempts(n)
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_panicking_action_fails_its_step_and_is_not_retried() {
    let log = Log::default();
    let saga = Saga::builder("p")
        .compensable("a", probe("a", &log, ok, ok))
        .step(
            StepDef::compensable(
                "b",
                probe("b", &log, || Box::pin(async { panic!("boom") }), ok),
            )
            .retry(attempts(5)),
        )
        .build()
        .unwrap();
    let outcome = saga.run(0).await;
    let Outcome::Compensated {
        cause: Abort::Failed(f),
        compensated,
        context,
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(f.step, "b");
    assert_eq!(f.attempts, 1);
    assert!(matches!(f.kind, FailureKind::Panicked(ref m) if m == "boom"));
    assert_eq!(strs(&compensated), ["a"]);
    assert_eq!(context, 0);
    assert_eq!(calls(&log), ["do a", "do b", "undo a"]);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_compensation_is_a_compensation_failure() {
    let log = Log::default();
    let saga = Saga::builder("p")
        .compensable("a", probe("a", &log, ok, ok))
        .compensable(
            "b",
            probe("b", &log, ok, || Box::pin(async { panic!("undo boom") })),
        )
        .compensable(
            "c",
            probe("c", &log, || Box::pin(async { Err("no".into()) }), ok),
        )
        .build()
        .unwrap();
    let outcome = saga.run(0).await;
    let Outcome::CompensationFailed {
        error,
        compensated,
        cause: Abort::Failed(f),
        context,
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(f.step, "c");
    assert_eq!(error.step, "b");
    assert!(matches!(error.kind, FailureKind::Panicked(_)));
    assert!(compensated.is_empty());
    assert_eq!(context, 2); // a and b still in effect
    assert_eq!(calls(&log), ["do a", "do b", "do c", "undo b"]);
}

#[tokio::test(start_paused = true)]
async fn a_timed_out_attempt_is_a_failed_attempt() {
    let log = Log::default();
    let saga = Saga::builder("t")
        .compensable("a", probe("a", &log, ok, ok))
        .step(
            StepDef::compensable("slow", probe("slow", &log, || sleep(10_000), ok))
                .timeout(Duration::from_secs(1))
                .retry(attempts(2)),
        )
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let outcome = saga.run(0).await;
    let Outcome::Compensated {
        cause: Abort::Failed(f),
        ..
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(f.attempts, 2);
    assert!(matches!(f.kind, FailureKind::TimedOut(d) if d == Duration::from_secs(1)));
    // Two 1 s attempts and a 1 ms delay, on the paused clock.
    assert_eq!(start.elapsed(), Duration::from_millis(2001));
    assert_eq!(calls(&log), ["do a", "do slow", "do slow", "undo a"]);
}

#[tokio::test(start_paused = true)]
async fn permanent_errors_are_not_retried() {
    let log = Log::default();
    let saga = Saga::builder("t")
        .step(
            StepDef::compensable(
                "a",
                probe(
                    "a",
                    &log,
                    || Box::pin(async { Err(permanent("declined")) }),
                    ok,
                ),
            )
            .retry(attempts(5)),
        )
        .build()
        .unwrap();
    let Outcome::Compensated {
        cause: Abort::Failed(f),
        ..
    } = saga.run(0).await
    else {
        panic!()
    };
    assert_eq!(f.attempts, 1);
    assert_eq!(
        f.to_string(),
        "step `a` returned an error: declined (attempt 1)"
    );
}

fn three(log: &Log, compensate_b: bool) -> Saga<u32> {
    Saga::builder("c")
        .compensable("a", probe("a", log, || sleep(10), ok))
        .step(
            StepDef::compensable("b", probe("b", log, || sleep(10), ok))
                .compensate_if_cancelled(compensate_b),
        )
        .compensable("c", probe("c", log, || sleep(10), ok))
        .build()
        .unwrap()
}

async fn cancel_at(saga: &Saga<u32>, ms: u64) -> Outcome<u32> {
    let token = CancelToken::new();
    let canceller = {
        let token = token.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            token.cancel();
        })
    };
    let outcome = saga
        .run_with(0, &InMemoryLog::new(), Some(&token))
        .await
        .unwrap();
    canceller.await.unwrap();
    outcome
}

#[tokio::test(start_paused = true)]
async fn cancelling_mid_action_compensates_what_completed() {
    let log = Log::default();
    let outcome = cancel_at(&three(&log, false), 15).await;
    let Outcome::Compensated {
        cause: Abort::Cancelled { step },
        compensated,
        context,
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(step.as_deref(), Some("b"));
    assert_eq!(strs(&compensated), ["a"]);
    assert_eq!(context, 0);
    assert_eq!(calls(&log), ["do a", "do b", "undo a"]);
}

#[tokio::test(start_paused = true)]
async fn a_step_marked_compensate_if_cancelled_is_compensated_when_interrupted() {
    let log = Log::default();
    let outcome = cancel_at(&three(&log, true), 15).await;
    let Outcome::Compensated { compensated, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(strs(&compensated), ["b", "a"]);
    assert_eq!(calls(&log), ["do a", "do b", "undo b", "undo a"]);
}

#[tokio::test(start_paused = true)]
async fn cancelled_before_starting_compensates_nothing() {
    let log = Log::default();
    let token = CancelToken::new();
    token.cancel();
    let saga = three(&log, true);
    let outcome = saga
        .run_with(5, &baton_saga::NoLog, Some(&token))
        .await
        .unwrap();
    let Outcome::Compensated {
        compensated,
        context,
        ..
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert!(compensated.is_empty());
    assert_eq!(context, 5);
    assert!(calls(&log).is_empty());
}

fn pivoted(log: &Log, fail_last: bool) -> Saga<u32> {
    let last: fn() -> StepFuture<'static> = if fail_last {
        || Box::pin(async { Err("mail server down".into()) })
    } else {
        || sleep(10)
    };
    Saga::builder("pv")
        .compensable("a", probe("a", log, ok, ok))
        .pivot("p", probe("p", log, ok, ok))
        .step(StepDef::retriable("r", probe("r", log, last, ok)).retry(attempts(4)))
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_retriable_step_that_gives_up_leaves_the_saga_stuck() {
    let log = Log::default();
    let outcome = pivoted(&log, true).run(0).await;
    let Outcome::Stuck { error, context } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(error.step, "r");
    assert_eq!(error.attempts, 4);
    assert_eq!(context, 2);
    assert_eq!(
        calls(&log),
        ["do a", "do p", "do r", "do r", "do r", "do r"]
    );
}

#[tokio::test(start_paused = true)]
async fn cancelling_after_the_pivot_stops_and_resume_goes_forward() {
    let log = Log::default();
    let saga = pivoted(&log, false);
    let token = CancelToken::new();
    let slog = InMemoryLog::new();
    let run = saga.run_with(0, &slog, Some(&token));
    let cancel = async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        token.cancel();
    };
    let (outcome, ()) = tokio::join!(run, cancel);
    let outcome = outcome.unwrap();
    let Outcome::Stuck { error, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert!(matches!(error.kind, FailureKind::Cancelled));
    assert_eq!(error.step, "r");
    let resumed = saga.resume(&slog, None).await.unwrap();
    assert!(resumed.is_completed());
    assert_eq!(resumed.into_context(), 3);
    assert_eq!(calls(&log), ["do a", "do p", "do r", "do r"]);
}

#[tokio::test(start_paused = true)]
async fn events_report_every_transition_in_order() {
    let log = Log::default();
    let events = Log::default();
    let sink = Arc::clone(&events);
    let saga = Saga::builder("e")
        .compensable("a", probe("a", &log, ok, ok))
        .compensable(
            "b",
            probe("b", &log, || Box::pin(async { Err("x".into()) }), ok),
        )
        .on_event(move |e: &Entry<&u32>| {
            let step = e.step.as_ref().map_or("-".into(), |s| s.name.to_string());
            sink.lock()
                .unwrap()
                .push(format!("{}:{step}", e.kind.label()));
        })
        .build()
        .unwrap();
    saga.run(0).await;
    assert_eq!(
        calls(&events),
        [
            "saga_started:-",
            "started:a",
            "completed:a",
            "started:b",
            "failed:b",
            "compensating:a",
            "compensated:a",
            "finished:-"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_panicking_event_callback_does_not_stop_the_saga() {
    let log = Log::default();
    let saga = Saga::builder("e")
        .compensable("a", probe("a", &log, ok, ok))
        .on_event(|_: &Entry<&u32>| panic!("callback"))
        .build()
        .unwrap();
    assert!(saga.run(0).await.is_completed());
}

/// A log that fails on its `fail_at`-th append.
#[derive(Debug)]
struct FlakyLog {
    inner: InMemoryLog<u32>,
    fail_at: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("disk full")]
struct DiskFull;

impl SagaLog<u32> for FlakyLog {
    type Error = DiskFull;

    fn append(&self, entry: Entry<&u32>) -> impl Future<Output = Result<(), DiskFull>> + Send {
        let full = self.inner.len() == self.fail_at;
        if !full {
            self.inner.append(entry).now_or_never();
        }
        std::future::ready(if full { Err(DiskFull) } else { Ok(()) })
    }

    fn load(&self) -> impl Future<Output = Result<Vec<Entry<u32>>, DiskFull>> + Send {
        std::future::ready(Ok(self.inner.entries()))
    }
}

trait NowOrNever: Future + Sized {
    fn now_or_never(self) -> Option<Self::Output> {
        let mut fut = std::pin::pin!(self);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match fut.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        }
    }
}
impl<F: Future> NowOrNever for F {}

#[tokio::test(start_paused = true)]
async fn a_failing_log_stops_the_saga_and_resume_finishes_it() {
    let log = Log::default();
    let saga = Saga::builder("l")
        .compensable("a", probe("a", &log, ok, ok))
        .compensable("b", probe("b", &log, ok, ok))
        .build()
        .unwrap();
    // Entries: saga_started, started a, completed a, started b (#3 fails).
    let flaky = FlakyLog {
        inner: InMemoryLog::new(),
        fail_at: 3,
    };
    let err = saga.run_with(0, &flaky, None).await.unwrap_err();
    let SagaError::Write { entry, context, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*entry, "started");
    assert_eq!(**context, 1);
    assert!(err.to_string().contains("`started`"));
    let outcome = saga.resume(&flaky.inner, None).await.unwrap();
    assert_eq!(outcome.into_context(), 2);
    assert_eq!(calls(&log), ["do a", "do b"]);
}

#[test]
fn the_saga_future_is_send() {
    fn assert_send<T: Send>(_: T) {}
    let saga = Saga::<u32>::builder("s")
        .compensable("a", step_fn(|_: &mut u32| ok(), |_: &mut u32| ok()))
        .build()
        .unwrap();
    assert_send(saga.run(0));
    assert_send(saga.resume(&InMemoryLog::new(), None));
}

/// One-attempt actions and compensations (which run without the retry loop) time out and catch
/// panics like retried ones, and report one attempt.
#[tokio::test(start_paused = true)]
async fn one_attempt_phases_time_out_and_catch_panics() {
    let log = Log::default();
    let panics = || -> StepFuture<'static> { Box::pin(async { panic!("boom") }) };
    let saga = Saga::builder("one")
        .step(
            StepDef::compensable("a", probe("a", &log, ok, panics))
                .compensation_retry(Policy::no_retry()),
        )
        .step(
            StepDef::compensable("slow", probe("slow", &log, || sleep(10_000), ok))
                .timeout(Duration::from_secs(1)),
        )
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let outcome = saga.run(0).await;
    let Outcome::CompensationFailed {
        error,
        compensated,
        cause: Abort::Failed(f),
        context,
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!((f.step.as_str(), f.attempts), ("slow", 1));
    assert!(matches!(f.kind, FailureKind::TimedOut(d) if d == Duration::from_secs(1)));
    assert_eq!((error.step.as_str(), error.attempts), ("a", 1));
    assert!(matches!(error.kind, FailureKind::Panicked(ref m) if m == "boom"));
    assert!(compensated.is_empty());
    assert_eq!(context, 1);
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    assert_eq!(calls(&log), ["do a", "do slow", "undo a"]);

    let log = Log::default();
    let saga = Saga::builder("two")
        .step(
            StepDef::compensable("a", probe("a", &log, ok, || sleep(10_000)))
                .compensation_retry(Policy::no_retry())
                .compensation_timeout(Duration::from_secs(2)),
        )
        .compensable("b", probe("b", &log, panics, ok))
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let outcome = saga.run(0).await;
    let Outcome::CompensationFailed {
        error,
        cause: Abort::Failed(f),
        context,
        ..
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!((f.step.as_str(), f.attempts), ("b", 1));
    assert!(matches!(f.kind, FailureKind::Panicked(ref m) if m == "boom"));
    assert_eq!((error.step.as_str(), error.attempts), ("a", 1));
    assert!(matches!(error.kind, FailureKind::TimedOut(d) if d == Duration::from_secs(2)));
    assert_eq!(context, 1);
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert_eq!(calls(&log), ["do a", "do b", "undo a"]);
}

/// A step whose *synchronous* part panics (the closure body, before its future exists), on both
/// paths: one attempt inline and under a retry policy, for an action and for a compensation.
#[tokio::test(start_paused = true)]
async fn a_panic_while_creating_the_future_is_a_step_failure() {
    for retries in [1, 3] {
        let log = Log::default();
        let saga = Saga::builder("p")
            .compensable("a", probe("a", &log, ok, ok))
            .step(
                StepDef::compensable("b", probe("b", &log, || panic!("sync boom"), ok))
                    .retry(attempts(retries)),
            )
            .build()
            .unwrap();
        let outcome = saga.run(0).await;
        let Outcome::Compensated {
            cause: Abort::Failed(f),
            compensated,
            ..
        } = outcome
        else {
            panic!("{outcome:?}")
        };
        assert_eq!(f.step, "b");
        assert_eq!(f.attempts, 1, "a panic is never retried");
        assert!(matches!(f.kind, FailureKind::Panicked(ref m) if m == "sync boom"));
        assert_eq!(
            strs(&compensated),
            ["a"],
            "the completed step is still compensated"
        );
        assert_eq!(calls(&log), ["do a", "do b", "undo a"]);

        let log = Log::default();
        let saga = Saga::builder("p")
            .step(
                StepDef::compensable("a", probe("a", &log, ok, || panic!("sync undo boom")))
                    .compensation_retry(attempts(retries)),
            )
            .compensable(
                "b",
                probe("b", &log, || Box::pin(async { Err("no".into()) }), ok),
            )
            .build()
            .unwrap();
        let outcome = saga.run(0).await;
        let Outcome::CompensationFailed { error, .. } = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(error.step, "a");
        assert!(matches!(error.kind, FailureKind::Panicked(ref m) if m == "sync undo boom"));
    }
}

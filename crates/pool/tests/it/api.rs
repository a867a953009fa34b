//! The public API on the paused clock: outcomes, timeouts, cancellation, blocking jobs, bounded
//! queues, statistics and configuration errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use baton_pool::balance::Strategy;
use baton_pool::{ConfigError, Job, JobError, JobOptions, Outcome, OutcomeKind, Pool, SubmitError};

use crate::support::{ms, sleep_then};

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn every_outcome_reaches_the_handle() {
    let pool = Pool::builder().workers(2).build().unwrap();
    let ok = pool.submit(sleep_then(5, "ok")).unwrap();
    let failed = pool.submit(async { Err::<(), _>("refused") }).unwrap();
    let failed_id = failed.id();
    assert_eq!(ok.await, Outcome::Succeeded("ok"));
    assert_eq!(
        failed.join().await,
        Err(JobError::Failed {
            id: failed_id,
            error: "refused"
        })
    );
    let stats = pool.stats();
    assert_eq!((stats.succeeded, stats.failed, stats.submitted), (1, 1, 2));
    assert!(stats.adds_up());
}

#[tokio::test(start_paused = true)]
async fn timeouts_default_override_and_none() {
    let pool = Pool::builder()
        .workers(3)
        .default_timeout(ms(100))
        .build()
        .unwrap();
    let by_default = pool.submit(sleep_then(1_000, ())).unwrap();
    let own = pool
        .submit_with(
            JobOptions::new().timeout(ms(20)).unwrap(),
            sleep_then(1_000, ()),
        )
        .unwrap();
    let unbounded = pool
        .submit_with(JobOptions::new().no_timeout(), sleep_then(1_000, ()))
        .unwrap();
    let start = tokio::time::Instant::now();
    assert_eq!(own.await, Outcome::TimedOut(ms(20)));
    assert_eq!(start.elapsed(), ms(20));
    assert_eq!(by_default.await, Outcome::TimedOut(ms(100)));
    assert_eq!(unbounded.await, Outcome::Succeeded(()));
    assert_eq!(start.elapsed(), ms(1_000));
    assert_eq!(pool.stats().timed_out, 2);
}

#[tokio::test(start_paused = true)]
async fn a_timed_out_job_has_its_future_dropped() {
    let pool = Pool::builder().workers(1).build().unwrap();
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = DropFlag(dropped.clone());
    let h = pool
        .submit_with(JobOptions::new().timeout(ms(10)).unwrap(), async move {
            let _flag = flag;
            std::future::pending::<Result<(), ()>>().await
        })
        .unwrap();
    let id = h.id();
    assert_eq!(
        h.join().await,
        Err(JobError::TimedOut { id, after: ms(10) })
    );
    assert!(dropped.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn cancelling_a_waiting_job_means_it_never_starts() {
    let pool = Pool::builder().workers(1).build().unwrap();
    let blocker = pool.submit(sleep_then(50, ())).unwrap();
    let started = Arc::new(AtomicBool::new(false));
    let flag = started.clone();
    let waiting = pool
        .submit(async move {
            flag.store(true, Ordering::SeqCst);
            Ok::<_, ()>(())
        })
        .unwrap();
    tokio::task::yield_now().await; // the blocker is running, the other waits behind it
    waiting.cancel();
    assert!(waiting.is_finished(), "a waiting job resolves at once");
    assert_eq!(waiting.await, Outcome::Cancelled);
    assert_eq!(blocker.await, Outcome::Succeeded(()));
    pool.idle().await;
    assert!(!started.load(Ordering::SeqCst));
    let stats = pool.stats();
    assert_eq!((stats.cancelled, stats.succeeded, stats.queued), (1, 1, 0));
}

#[tokio::test(start_paused = true)]
async fn cancelling_a_running_job_drops_its_future_at_the_next_await() {
    let pool = Pool::builder().workers(1).build().unwrap();
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = DropFlag(dropped.clone());
    let h = pool
        .submit(async move {
            let _flag = flag;
            sleep_then(60_000, ()).await
        })
        .unwrap();
    tokio::time::sleep(ms(10)).await;
    assert!(!h.is_finished());
    h.cancel();
    h.cancel(); // twice is harmless
    let start = tokio::time::Instant::now();
    assert_eq!(h.await, Outcome::Cancelled);
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert!(dropped.load(Ordering::SeqCst));
    assert_eq!(pool.stats().cancelled, 1);
}

#[tokio::test(start_paused = true)]
async fn cancelling_a_finished_job_keeps_its_outcome() {
    let pool = Pool::builder().workers(1).build().unwrap();
    let mut h = pool.submit(async { Ok::<_, ()>(7) }).unwrap();
    pool.idle().await;
    assert!(h.is_finished());
    h.cancel();
    assert_eq!(h.try_outcome(), Some(Outcome::Succeeded(7)));
    assert_eq!(h.try_outcome(), None, "the outcome is taken once");
    assert_eq!(pool.stats().cancelled, 0);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_handle_detaches_the_job() {
    let pool = Pool::builder().workers(1).build().unwrap();
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    drop(
        pool.submit(async move {
            tokio::time::sleep(ms(5)).await;
            flag.store(true, Ordering::SeqCst);
            Ok::<_, ()>(())
        })
        .unwrap(),
    );
    pool.idle().await;
    assert!(ran.load(Ordering::SeqCst));
    assert_eq!(pool.stats().succeeded, 1);
}

#[tokio::test]
async fn blocking_jobs_run_on_the_blocking_pool_and_are_counted() {
    let pool = Pool::builder().workers(1).build().unwrap();
    let h = pool
        .submit_blocking(|| {
            std::thread::sleep(Duration::from_millis(20));
            Ok::<_, ()>(std::thread::current().id())
        })
        .unwrap();
    // The runtime's only thread is free while the closure blocks its own thread.
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert!(!h.is_finished());
    let Outcome::Succeeded(thread) = h.await else {
        panic!("the blocking job failed");
    };
    assert_ne!(thread, std::thread::current().id());
    crate::support::quiet_expected_panics();
    let crashed = pool
        .submit_blocking(|| -> Result<(), ()> { panic!("expected panic in a blocking job") })
        .unwrap();
    assert_eq!(
        crashed.await,
        Outcome::Panicked("expected panic in a blocking job".into())
    );
    let stats = pool.stats();
    assert_eq!((stats.succeeded, stats.panicked), (1, 1));
    assert!(stats.run_time.max >= Duration::from_millis(20));
}

#[tokio::test(start_paused = true)]
async fn prepared_jobs_and_ids() {
    let pool = Pool::builder().workers(2).build().unwrap();
    let (job, handle) = Job::new(sleep_then(1, 'a'));
    let job = job.with_options(JobOptions::new().timeout(ms(500)).unwrap());
    let id = job.id();
    assert_eq!(pool.submit_job(job).unwrap(), id);
    assert_eq!(handle.id(), id);
    assert_eq!(handle.await, Outcome::Succeeded('a'));
    let a = pool.spawn_detached(async { Ok::<_, ()>(()) }).unwrap();
    let b = pool
        .submit_job(Job::detached(async { Err::<(), _>(()) }))
        .unwrap();
    assert!(b > a);
    pool.idle().await;
    let stats = pool.stats();
    assert_eq!((stats.succeeded, stats.failed), (2, 1));
}

#[tokio::test(start_paused = true)]
async fn bounded_queues_refuse_with_the_job_handed_back() {
    let pool = Pool::builder()
        .workers(1)
        .queue_capacity(2)
        .build()
        .unwrap();
    let running = pool.submit(sleep_then(100, 0)).unwrap();
    tokio::task::yield_now().await; // the first job leaves the queue to run
    let queued: Vec<_> = (1..=2)
        .map(|i| pool.submit(sleep_then(1, i)).unwrap())
        .collect();
    let refused = pool.submit(sleep_then(1, 3)).unwrap_err();
    assert!(matches!(refused, SubmitError::Full { capacity: 2, .. }));
    assert!(refused.to_string().contains("full"));
    // The future comes back untouched: run it here.
    assert_eq!(refused.into_job().await, Ok(3));
    assert_eq!(pool.stats().submitted, 3, "a refused job is not counted");
    assert_eq!(running.await, Outcome::Succeeded(0));
    for (i, h) in (1..).zip(queued) {
        assert_eq!(h.await, Outcome::Succeeded(i));
    }
    assert!(pool.submit(sleep_then(1, 4)).is_ok(), "room again");
}

#[tokio::test(start_paused = true)]
async fn stats_add_up_and_summarise_latencies() {
    let pool = Pool::builder().workers(1).build().unwrap();
    let handles: Vec<_> = (0..10)
        .map(|_| pool.submit(sleep_then(10, ())).unwrap())
        .collect();
    tokio::time::sleep(ms(35)).await;
    let mid = pool.stats();
    assert!(mid.adds_up());
    assert_eq!(
        (mid.submitted, mid.succeeded, mid.running, mid.queued),
        (10, 3, 1, 6)
    );
    assert_eq!((mid.workers, mid.busy_workers), (1, 1));
    for h in handles {
        h.await;
    }
    let stats = pool.stats();
    assert_eq!(stats.run_time.count, 10);
    assert_eq!(stats.run_time.p50, ms(10));
    assert_eq!(stats.run_time.max, ms(10));
    // Job i waited i × 10 ms for the one worker.
    assert_eq!(stats.queue_wait.max, ms(90));
    assert!(stats.queue_wait.p50 >= ms(40) && stats.queue_wait.p50 <= ms(50) + ms(50) / 8);
    assert_eq!(stats.per_worker[0].jobs, 10);
    assert_eq!(stats.per_worker[0].in_flight, 0);
}

#[tokio::test(start_paused = true)]
async fn min_zero_starts_a_worker_for_the_first_job() {
    let pool = Pool::builder()
        .min_workers(0)
        .max_workers(2)
        .idle_timeout(ms(50))
        .build()
        .unwrap();
    assert_eq!(pool.stats().workers, 0);
    let h = pool.submit(async { Ok::<_, ()>(1) }).unwrap();
    assert_eq!(pool.stats().workers, 1);
    assert_eq!(h.await, Outcome::Succeeded(1));
    tokio::time::sleep(ms(100)).await;
    assert_eq!(pool.stats().workers, 0, "idle down to the minimum of zero");
    let again = pool.submit(async { Ok::<_, ()>(2) }).unwrap();
    assert_eq!(again.await, Outcome::Succeeded(2));
}

#[tokio::test(start_paused = true)]
async fn outcome_kinds_are_counted_per_kind() {
    let pool = Pool::builder().workers(2).build().unwrap();
    let counter = Arc::new(AtomicUsize::new(0));
    let mut kinds = Vec::new();
    for i in 0..6u32 {
        let c = counter.clone();
        let h = pool
            .submit(async move {
                c.fetch_add(1, Ordering::SeqCst);
                if i % 2 == 0 { Ok(i) } else { Err(i) }
            })
            .unwrap();
        kinds.push(h.await.kind());
    }
    assert_eq!(counter.load(Ordering::SeqCst), 6);
    assert_eq!(
        kinds.iter().filter(|&&k| k == OutcomeKind::Failed).count(),
        3
    );
}

#[test]
fn configuration_errors_are_typed() {
    let rt = crate::support::paused_runtime();
    let _guard = rt.enter();
    let err = |b: baton_pool::PoolBuilder| b.build().unwrap_err();
    assert_eq!(
        err(Pool::builder().max_workers(0)),
        ConfigError::ZeroMaxWorkers
    );
    assert_eq!(
        err(Pool::builder().min_workers(5).max_workers(1)),
        ConfigError::MinAboveMax { min: 5, max: 1 }
    );
    assert_eq!(
        err(Pool::builder().idle_timeout(Duration::ZERO)),
        ConfigError::ZeroDuration {
            field: "idle_timeout"
        }
    );
    assert_eq!(
        err(Pool::builder().default_timeout(Duration::ZERO)),
        ConfigError::ZeroDuration {
            field: "default_timeout"
        }
    );
    let handle = rt.handle().clone();
    drop(_guard);
    // Outside the runtime, a handle is needed.
    assert_eq!(Pool::builder().build().unwrap_err(), ConfigError::NoRuntime);
    let pool = Pool::builder().runtime(handle).workers(1).build().unwrap();
    let h = pool.submit(async { Ok::<_, ()>(5) }).unwrap();
    assert_eq!(rt.block_on(h), Outcome::Succeeded(5));
}

/// Collects the outcomes handed to [`Job::with_callback`] callbacks.
type Outcomes = Arc<std::sync::Mutex<Vec<Outcome<&'static str, String>>>>;

fn recording(outcomes: &Outcomes) -> impl FnOnce(Outcome<&'static str, String>) + Send + 'static {
    let outcomes = Arc::clone(outcomes);
    move |o| outcomes.lock().unwrap().push(o)
}

#[tokio::test(start_paused = true)]
async fn callbacks_receive_every_kind_of_outcome_exactly_once() {
    let pool = Pool::builder().workers(2).build().unwrap();
    let outcomes = Outcomes::default();
    let timeout = JobOptions::new().timeout(ms(10)).unwrap();
    let jobs = [
        Job::with_callback(sleep_then(5, "ok"), recording(&outcomes)),
        Job::with_callback(async { Err("refused".to_string()) }, recording(&outcomes)),
        Job::with_callback(
            async { panic!("boom") as Result<&str, String> },
            recording(&outcomes),
        ),
        Job::with_callback(sleep_then(50, "late"), recording(&outcomes)).with_options(timeout),
    ];
    for job in jobs {
        pool.submit_job(job).unwrap();
    }
    pool.idle().await;
    let mut seen = outcomes.lock().unwrap().clone();
    seen.sort_by_key(|o| o.kind());
    assert_eq!(
        seen,
        [
            Outcome::Succeeded("ok"),
            Outcome::Failed("refused".into()),
            Outcome::Panicked("boom".into()),
            Outcome::TimedOut(ms(10)),
        ]
    );
    let stats = pool.stats();
    assert_eq!(
        (
            stats.succeeded,
            stats.failed,
            stats.panicked,
            stats.timed_out
        ),
        (1, 1, 1, 1)
    );
}

#[tokio::test(start_paused = true)]
async fn a_refused_or_unrun_callback_job_reports_cancelled_and_a_panicking_callback_is_contained() {
    let pool = Pool::builder().workers(1).build().unwrap();
    let outcomes = Outcomes::default();
    // Never submitted: dropping the job reports Cancelled.
    drop(Job::with_callback(
        sleep_then(1, "never"),
        recording(&outcomes),
    ));
    // A panicking callback does not take the worker down.
    pool.submit_job(Job::with_callback(async { Ok::<_, String>("x") }, |_| {
        panic!("callback")
    }))
    .unwrap();
    pool.submit_job(Job::with_callback(
        sleep_then(1, "after"),
        recording(&outcomes),
    ))
    .unwrap();
    pool.idle().await;
    pool.shutdown(ms(1)).await;
    // Refused by a pool that is shutting down: handed back, and dropping it reports Cancelled.
    let Err(SubmitError::ShuttingDown { job }) = pool.submit_job(Job::with_callback(
        async { Ok("late") },
        recording(&outcomes),
    )) else {
        panic!("a closed pool must refuse the job");
    };
    drop(job);
    assert_eq!(
        *outcomes.lock().unwrap(),
        [
            Outcome::Cancelled,
            Outcome::Succeeded("after"),
            Outcome::Cancelled
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_batch_is_spread_over_the_workers_and_every_job_ends() {
    batch_spread(Strategy::LeastLoaded).await;
    // Round robin does not look at queue lengths: shares must still be even, not shrink each round.
    batch_spread(Strategy::RoundRobin).await;
}

async fn batch_spread(strategy: Strategy) {
    let pool = Pool::builder()
        .workers(2)
        .work_stealing(false)
        .strategy(strategy)
        .build()
        .unwrap();
    let (mut jobs, mut handles) = (Vec::new(), Vec::new());
    for i in 0..9_u64 {
        let (job, handle) = Job::new(sleep_then(10, i));
        jobs.push(job);
        handles.push(handle);
    }
    let start = tokio::time::Instant::now();
    pool.submit_batch(&mut jobs);
    assert!(jobs.is_empty(), "every job accepted");
    let stats = pool.stats();
    assert_eq!(stats.submitted, 9);
    let shares: Vec<u64> = stats.per_worker.iter().map(|w| w.in_flight).collect();
    assert_eq!(
        shares,
        [5, 4],
        "{strategy:?}: 5 to the first worker, the rest to the second"
    );
    for (i, handle) in (0..).zip(handles) {
        assert_eq!(
            handle.await,
            Outcome::Succeeded(i),
            "in order, nothing lost"
        );
    }
    // Two workers running 10 ms jobs side by side: 5 rounds, not 9.
    assert_eq!(start.elapsed(), ms(50));
    assert!(pool.stats().adds_up());
}

#[tokio::test(start_paused = true)]
async fn a_batch_fills_bounded_queues_and_hands_back_the_rest() {
    let pool = Pool::builder()
        .workers(2)
        .queue_capacity(2)
        .build()
        .unwrap();
    let (mut jobs, mut handles) = (Vec::new(), Vec::new());
    for i in 0..7_u64 {
        let (job, handle) = Job::new(sleep_then(10, i));
        jobs.push(job);
        handles.push(handle);
    }
    pool.submit_batch(&mut jobs);
    assert_eq!(jobs.len(), 3, "two queues of two took four");
    assert_eq!(pool.stats().submitted, 4);
    drop(jobs); // a refused job dropped ends its handle Cancelled
    let outcomes: Vec<OutcomeKind> = futures_outcomes(handles).await;
    assert_eq!(
        outcomes,
        [
            OutcomeKind::Succeeded,
            OutcomeKind::Succeeded,
            OutcomeKind::Succeeded,
            OutcomeKind::Succeeded,
            OutcomeKind::Cancelled,
            OutcomeKind::Cancelled,
            OutcomeKind::Cancelled,
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_batch_after_shutdown_is_handed_back_whole() {
    let pool = Pool::builder().workers(1).build().unwrap();
    let _ = pool.shutdown(Duration::from_secs(1)).await;
    let (job, handle) = Job::new(async { Ok::<_, ()>(1) });
    let mut jobs = vec![job];
    pool.submit_batch(&mut jobs);
    assert_eq!(jobs.len(), 1, "refused");
    drop(jobs);
    assert_eq!(handle.await, Outcome::Cancelled);
}

async fn futures_outcomes<T, E>(handles: Vec<baton_pool::JobHandle<T, E>>) -> Vec<OutcomeKind> {
    let mut kinds = Vec::new();
    for handle in handles {
        kinds.push(handle.await.kind());
    }
    kinds
}

#[tokio::test(start_paused = true)]
async fn timeouts_too_long_for_an_instant_never_fire() {
    let pool = Pool::builder()
        .min_workers(0)
        .max_workers(2)
        .idle_timeout(Duration::MAX)
        .default_timeout(Duration::MAX)
        .build()
        .unwrap();
    let handle = pool.submit(sleep_then(10, "done")).unwrap();
    assert_eq!(handle.await, Outcome::Succeeded("done"));
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(pool.stats().workers, 1, "the idle timeout never passes");
}

//! Shutdown on the paused clock: drain until the deadline, cancel the rest, report exactly what
//! happened; refused submissions hand the job back.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use baton_pool::{JobHandle, Outcome, Pool, SubmitError};

use crate::support::{ms, sleep_then};

/// Counts the futures dropped.
struct Dropped(Arc<AtomicUsize>);
impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn drain_until_the_deadline_then_cancel_the_rest() {
    let pool = Pool::builder().workers(3).build().unwrap();
    let dropped = Arc::new(AtomicUsize::new(0));
    // 30 jobs of 1..=30 seconds; with 3 workers a fair share finishes within 20 s.
    let handles: Vec<JobHandle<u64, String>> = (1..=30u64)
        .map(|secs| {
            let guard = Dropped(dropped.clone());
            pool.submit(async move {
                let _guard = guard;
                sleep_then(secs * 1_000, secs).await
            })
            .unwrap()
        })
        .collect();
    tokio::time::sleep(ms(1)).await;
    let report = pool.shutdown(Duration::from_secs(20)).await;
    assert_eq!(report.elapsed, Duration::from_secs(20));
    assert!(report.deadline_reached);

    let mut succeeded = 0;
    let mut cancelled = BTreeSet::new();
    for h in handles {
        let id = h.id();
        match h.await {
            Outcome::Succeeded(_) => succeeded += 1,
            Outcome::Cancelled => {
                cancelled.insert(id);
            }
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert!(succeeded > 0 && !cancelled.is_empty());
    assert_eq!(report.succeeded, succeeded);
    assert_eq!(report.cancelled, cancelled.len() as u64);
    assert_eq!(
        report.cancelled_ids,
        cancelled.into_iter().collect::<Vec<_>>()
    );
    assert_eq!(
        report.in_flight(),
        30,
        "every in-flight job finished or was cancelled"
    );
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        30,
        "every future was dropped"
    );

    let stats = pool.stats();
    assert!(stats.adds_up());
    assert_eq!((stats.running, stats.queued, stats.workers), (0, 0, 0));
    assert_eq!(stats.finished(), 30);
}

#[tokio::test(start_paused = true)]
async fn a_drain_that_finishes_early_returns_early() {
    let pool = Pool::builder().workers(2).build().unwrap();
    for i in 0..10 {
        pool.spawn_detached(sleep_then(100, i)).unwrap();
    }
    let report = pool.shutdown(Duration::from_secs(60)).await;
    assert_eq!(report.elapsed, ms(500));
    assert!(!report.deadline_reached);
    assert_eq!((report.succeeded, report.cancelled), (10, 0));
    assert!(report.cancelled_ids.is_empty());
}

#[tokio::test(start_paused = true)]
async fn submit_after_shutdown_hands_the_job_back() {
    let pool = Pool::builder().workers(1).build().unwrap();
    let report = pool.shutdown(ms(10)).await;
    assert_eq!(report.in_flight(), 0);
    assert!(!pool.is_accepting());

    let refused = pool.submit(sleep_then(1, "mine")).unwrap_err();
    assert!(refused.is_shutting_down());
    assert!(refused.to_string().contains("shutting down"));
    assert_eq!(refused.into_job().await, Ok("mine"), "the future is intact");

    let detached = pool.spawn_detached(async { Ok::<_, ()>(1) });
    assert!(matches!(detached, Err(SubmitError::ShuttingDown { .. })));
    let blocking = pool.submit_blocking(|| Ok::<_, ()>(2)).unwrap_err();
    assert_eq!(blocking.into_job()(), Ok(2));
    let (job, handle) = baton_pool::Job::new(async { Ok::<_, ()>(3) });
    let job = pool.submit_job(job).unwrap_err().into_job();
    assert_eq!(job.id(), handle.id());
    drop(job);
    assert_eq!(
        handle.await,
        Outcome::Cancelled,
        "dropping a refused job cancels its handle"
    );

    // Shutting down again returns the same report at once.
    assert_eq!(pool.shutdown(Duration::from_secs(1)).await, report);
    assert_eq!(pool.stats().submitted, 0);
}

#[tokio::test(start_paused = true)]
async fn shutdown_now_cancels_everything_at_once() {
    let pool = Pool::builder().workers(2).build().unwrap();
    let dropped = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let guard = Dropped(dropped.clone());
            pool.submit(async move {
                let _guard = guard;
                sleep_then(1_000, i).await
            })
            .unwrap()
        })
        .collect();
    tokio::time::sleep(ms(1)).await; // two are running, six wait
    let report = pool.shutdown_now().await;
    assert_eq!(report.elapsed, Duration::ZERO);
    assert_eq!((report.cancelled, report.finished()), (8, 0));
    let ids: Vec<_> = handles.iter().map(JobHandle::id).collect();
    assert_eq!(report.cancelled_ids, ids);
    for h in handles {
        assert_eq!(h.await, Outcome::Cancelled);
    }
    assert_eq!(dropped.load(Ordering::SeqCst), 8);
}

#[tokio::test(start_paused = true)]
async fn shutdown_counts_every_kind_of_ending() {
    crate::support::quiet_expected_panics();
    let pool = Pool::builder()
        .workers(4)
        .default_timeout(ms(50))
        .build()
        .unwrap();
    let ok = pool.submit(sleep_then(10, ())).unwrap();
    let err = pool
        .submit(async {
            tokio::time::sleep(ms(10)).await;
            Err::<(), _>("no".to_owned())
        })
        .unwrap();
    let boom = pool
        .submit(async {
            tokio::time::sleep(ms(10)).await;
            panic!("expected panic at shutdown");
            #[allow(unreachable_code)]
            Ok::<(), String>(())
        })
        .unwrap();
    let slow = pool.submit(sleep_then(1_000, ())).unwrap();
    let waiting = pool.submit(sleep_then(1, ())).unwrap();
    waiting.cancel();
    let report = pool.shutdown(Duration::from_secs(5)).await;
    assert_eq!(
        (
            report.succeeded,
            report.failed,
            report.panicked,
            report.timed_out,
            report.cancelled
        ),
        (1, 1, 1, 1, 1)
    );
    assert_eq!(report.cancelled_ids, [waiting.id()]);
    assert_eq!(report.elapsed, ms(50));
    assert!(ok.await.is_success());
    assert!(matches!(err.await, Outcome::Failed(_)));
    assert!(matches!(boom.await, Outcome::Panicked(_)));
    assert_eq!(slow.await, Outcome::TimedOut(ms(50)));
}

#[tokio::test(start_paused = true)]
async fn dropping_the_pool_lets_queued_jobs_finish() {
    let pool = Pool::builder().workers(1).build().unwrap();
    let handles: Vec<_> = (0..5)
        .map(|i| pool.submit(sleep_then(10, i)).unwrap())
        .collect();
    drop(pool);
    for (i, h) in (0..).zip(handles) {
        assert_eq!(h.await, Outcome::Succeeded(i));
    }
}

#[test]
fn jobs_of_a_dropped_runtime_resolve_cancelled() {
    // Workers killed mid-run (their runtime goes away): no handle is left waiting forever.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let pool = rt.block_on(async { Pool::builder().workers(2).build().unwrap() });
    let handles: Vec<_> = (0..100u64)
        .map(|i| pool.submit(sleep_then(i % 7, i)).unwrap())
        .collect();
    rt.block_on(async { tokio::time::sleep(ms(3)).await });
    drop(rt);
    drop(pool);
    let other = crate::support::paused_runtime();
    other.block_on(async {
        let mut cancelled = 0;
        for (i, h) in (0..).zip(handles) {
            match h.await {
                Outcome::Succeeded(v) => assert_eq!(v, i),
                Outcome::Cancelled => cancelled += 1,
                o => panic!("unexpected {o:?}"),
            }
        }
        assert!(cancelled > 0);
    });
}

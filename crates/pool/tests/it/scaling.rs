//! Scaling on the paused clock: a backlog grows the pool to its maximum, idleness shrinks it back
//! to its minimum, and no job is lost on the way.

use std::time::Duration;

use baton_pool::{Outcome, Pool};

use crate::support::{ms, sleep_then};

#[tokio::test(start_paused = true)]
async fn a_backlog_grows_the_pool_and_idleness_shrinks_it() {
    let pool = Pool::builder()
        .min_workers(1)
        .max_workers(4)
        .scale_up_threshold(2)
        .idle_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    assert_eq!(pool.stats().workers, 1);
    let mut handles = Vec::new();
    let mut most = 0;
    for i in 0..40u32 {
        handles.push(pool.submit(sleep_then(100, i)).unwrap());
        tokio::task::yield_now().await; // let workers pick up what they can
        most = most.max(pool.stats().workers);
    }
    assert_eq!(most, 4, "the backlog grew the pool to its maximum");
    assert_eq!(pool.stats().workers, 4);
    for (i, h) in (0..).zip(handles) {
        assert_eq!(h.await, Outcome::Succeeded(i));
    }
    let busy_done = pool.stats();
    assert!(
        busy_done.per_worker.iter().all(|w| w.jobs > 0),
        "{busy_done:?}"
    );
    assert_eq!(busy_done.workers, 4);

    // Idle: workers above the minimum retire one after another after the idle timeout.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(pool.stats().workers, 4, "not idle long enough yet");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = pool.stats();
    assert_eq!(idle.workers, 1, "{idle:?}");
    assert_eq!(idle.min_workers, 1);
    assert!(idle.per_worker[1..].iter().all(|w| !w.active));
    assert!(idle.adds_up());
    assert_eq!(idle.succeeded, 40);

    // And it grows again when work backs up again.
    let again: Vec<_> = (0..12u32)
        .map(|i| pool.submit(sleep_then(100, i)).unwrap())
        .collect();
    tokio::task::yield_now().await;
    drop(pool.submit(sleep_then(100, 12)).unwrap());
    assert!(pool.stats().workers > 1);
    for h in again {
        assert!(h.await.is_success());
    }
}

#[tokio::test(start_paused = true)]
async fn the_pool_never_shrinks_below_its_minimum() {
    let pool = Pool::builder()
        .min_workers(2)
        .max_workers(3)
        .scale_up_threshold(1)
        .idle_timeout(ms(10))
        .build()
        .unwrap();
    let handles: Vec<_> = (0..9)
        .map(|i| pool.submit(sleep_then(5, i)).unwrap())
        .collect();
    tokio::task::yield_now().await;
    drop(pool.submit(sleep_then(5, 9)).unwrap());
    assert_eq!(pool.stats().workers, 3);
    for h in handles {
        assert!(h.await.is_success());
    }
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(pool.stats().workers, 2);
}

#[tokio::test(start_paused = true)]
async fn fast_jobs_do_not_grow_the_pool() {
    // Workers are never seen busy, so a burst of instant jobs stays on the minimum.
    let pool = Pool::builder()
        .min_workers(1)
        .max_workers(8)
        .scale_up_threshold(1)
        .build()
        .unwrap();
    for _ in 0..1_000 {
        pool.spawn_detached(async { Ok::<_, ()>(()) }).unwrap();
    }
    pool.idle().await;
    assert_eq!(pool.stats().workers, 1);
}

#[tokio::test(start_paused = true)]
async fn a_retiring_worker_strands_no_job() {
    // Jobs arrive just as the idle worker reaches its timeout, again and again.
    let pool = Pool::builder()
        .min_workers(1)
        .max_workers(2)
        .scale_up_threshold(1)
        .idle_timeout(ms(10))
        .build()
        .unwrap();
    let mut handles = Vec::new();
    for round in 0..50u64 {
        for i in 0..3 {
            handles.push(pool.submit(sleep_then(1 + i, round)).unwrap());
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(ms(10 + round % 5)).await;
    }
    for h in handles {
        assert!(h.await.is_success());
    }
    pool.idle().await;
    let stats = pool.stats();
    assert_eq!((stats.succeeded, stats.queued, stats.running), (150, 0, 0));
}

#[tokio::test(start_paused = true)]
async fn a_huge_fixed_pool_costs_little_until_work_needs_its_workers() {
    // 10,000 workers allowed: `build` starts 64, and allocates no slot beyond their segments.
    let pool = Pool::builder().workers(10_000).build().unwrap();
    let built = pool.stats();
    assert_eq!(built.workers, 64);
    assert!(
        built.per_worker.len() <= 128,
        "{} slots",
        built.per_worker.len()
    );
    // 300 jobs that wait at the same time all run at once: each starts a worker of its own.
    let started = tokio::time::Instant::now();
    let handles: Vec<_> = (0..300u32)
        .map(|i| pool.submit(sleep_then(100, i)).unwrap())
        .collect();
    for (i, h) in (0u32..).zip(handles) {
        assert_eq!(h.await, Outcome::Succeeded(i));
    }
    assert_eq!(started.elapsed(), ms(100), "they ran side by side");
    let busy = pool.stats();
    assert_eq!(busy.workers, 300);
    assert!(
        busy.per_worker.len() < 512,
        "{} slots",
        busy.per_worker.len()
    );
    // Workers below the minimum stay.
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(pool.stats().workers, 300);
}

#[tokio::test(start_paused = true)]
async fn a_batch_on_a_huge_pool_starts_the_workers_it_needs() {
    let pool = Pool::builder().workers(10_000).build().unwrap();
    let (mut jobs, handles): (Vec<baton_pool::Job>, Vec<_>) = (0..200u32)
        .map(|i| baton_pool::Job::new(sleep_then(100, i)))
        .unzip();
    let started = tokio::time::Instant::now();
    pool.submit_batch(&mut jobs);
    assert!(jobs.is_empty());
    for (i, h) in (0u32..).zip(handles) {
        assert_eq!(h.await, Outcome::Succeeded(i));
    }
    assert_eq!(started.elapsed(), ms(100), "the batch ran side by side");
    assert_eq!(pool.stats().workers, 200);
}

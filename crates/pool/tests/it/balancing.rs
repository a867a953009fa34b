//! Balancing through a pool (work stealing off, so the counts show the balancer's decisions).

use baton_pool::balance::{Balancer, Candidates, Strategy};
use baton_pool::{Outcome, Pool, PoolStats};

use crate::support::sleep_then;

fn jobs_per_worker(stats: &PoolStats) -> Vec<u64> {
    stats.per_worker.iter().map(|w| w.jobs).collect()
}

async fn run_noops(pool: &Pool, n: usize) -> PoolStats {
    for _ in 0..n {
        pool.spawn_detached(async { Ok::<_, ()>(()) }).unwrap();
    }
    pool.idle().await;
    pool.stats()
}

#[tokio::test(start_paused = true)]
async fn weights_one_to_three_give_shares_one_to_three() {
    let pool = Pool::builder()
        .workers(2)
        .weights([1, 3])
        .strategy(Strategy::Weighted)
        .work_stealing(false)
        .build()
        .unwrap();
    let stats = run_noops(&pool, 4_000).await;
    let [a, b] = jobs_per_worker(&stats)[..] else {
        panic!("two workers")
    };
    // Smooth weighted round-robin is exact over every 4 picks.
    assert_eq!((a, b), (1_000, 3_000));
    assert_eq!(stats.per_worker[1].weight, 3);
}

#[tokio::test(start_paused = true)]
async fn weighted_shares_hold_while_jobs_take_time() {
    let pool = Pool::builder()
        .workers(2)
        .weights([1, 3])
        .strategy(Strategy::Weighted)
        .work_stealing(false)
        .build()
        .unwrap();
    let handles: Vec<_> = (0..400)
        .map(|i| pool.submit(sleep_then(1 + i % 7, ())).unwrap())
        .collect();
    for h in handles {
        assert_eq!(h.await, Outcome::Succeeded(()));
    }
    let shares = jobs_per_worker(&pool.stats());
    let share_b = shares[1] as f64 / 400.0;
    assert!((share_b - 0.75).abs() < 0.02, "{shares:?}");
}

#[tokio::test(start_paused = true)]
async fn round_robin_is_even() {
    let pool = Pool::builder()
        .workers(4)
        .strategy(Strategy::RoundRobin)
        .work_stealing(false)
        .build()
        .unwrap();
    let stats = run_noops(&pool, 4_000).await;
    assert_eq!(jobs_per_worker(&stats), [1_000; 4]);
}

#[tokio::test(start_paused = true)]
async fn least_loaded_spreads_idle_work_evenly() {
    let pool = Pool::builder()
        .workers(3)
        .strategy(Strategy::LeastLoaded)
        .work_stealing(false)
        .build()
        .unwrap();
    let stats = run_noops(&pool, 3_000).await;
    assert_eq!(jobs_per_worker(&stats), [1_000; 3]);
}

/// Worker 0 is kept busy by a long job; each of `n` short jobs is submitted after the previous
/// one finished. Returns the jobs run per worker (the long job still running).
async fn short_jobs_beside_a_busy_worker(strategy: Strategy, workers: usize, n: usize) -> Vec<u64> {
    let pool = Pool::builder()
        .workers(workers)
        .strategy(strategy)
        .work_stealing(false)
        .build()
        .unwrap();
    let busy = pool.submit(sleep_then(3_600_000, ())).unwrap();
    tokio::task::yield_now().await;
    let stats = pool.stats();
    assert_eq!(stats.per_worker[0].in_flight, 1, "{stats:?}");
    for i in 0..n {
        let h = pool.submit(sleep_then(1, i)).unwrap();
        assert_eq!(h.await, Outcome::Succeeded(i));
    }
    let jobs = jobs_per_worker(&pool.stats());
    busy.cancel();
    jobs
}

#[tokio::test(start_paused = true)]
async fn least_loaded_avoids_the_busy_worker() {
    let jobs = short_jobs_beside_a_busy_worker(Strategy::LeastLoaded, 3, 300).await;
    assert_eq!(jobs[0], 0, "{jobs:?}");
    assert_eq!(jobs[1] + jobs[2], 300);
    assert_eq!(
        jobs[1], 150,
        "ties between the idle workers rotate: {jobs:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn power_of_two_prefers_the_less_loaded_of_two() {
    // With two workers both are always drawn, so the idle one always wins.
    let jobs = short_jobs_beside_a_busy_worker(Strategy::PowerOfTwo { seed: 3 }, 2, 100).await;
    assert_eq!(jobs, [0, 100]);
    // With four, the busy worker loses every duel it is drawn into.
    let jobs = short_jobs_beside_a_busy_worker(Strategy::PowerOfTwo { seed: 3 }, 4, 300).await;
    assert_eq!(jobs[0], 0, "{jobs:?}");
    assert!(jobs[1..].iter().all(|&n| n > 50), "{jobs:?}");
}

#[tokio::test(start_paused = true)]
async fn power_of_two_is_reproducible_with_a_seed() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let pool = Pool::builder()
            .workers(4)
            .strategy(Strategy::PowerOfTwo { seed: 99 })
            .work_stealing(false)
            .build()
            .unwrap();
        let handles: Vec<_> = (0..200)
            .map(|i| pool.submit(sleep_then(1 + i % 5, ())).unwrap())
            .collect();
        for h in handles {
            h.await;
        }
        runs.push(jobs_per_worker(&pool.stats()));
    }
    assert_eq!(runs[0], runs[1]);
}

/// A custom balancer: always the last candidate.
#[derive(Debug)]
struct Last;
impl Balancer for Last {
    fn pick(&self, candidates: &dyn Candidates) -> Option<usize> {
        candidates.len().checked_sub(1)
    }
}

#[tokio::test(start_paused = true)]
async fn a_custom_balancer_decides() {
    let pool = Pool::builder()
        .workers(3)
        .balancer(Last)
        .work_stealing(false)
        .build()
        .unwrap();
    let stats = run_noops(&pool, 50).await;
    assert_eq!(jobs_per_worker(&stats), [0, 0, 50]);
}

#[tokio::test(start_paused = true)]
async fn stealing_lets_an_idle_worker_take_a_backlog() {
    // Round-robin puts half the jobs behind worker 0's long job; worker 1 steals them.
    let pool = Pool::builder()
        .workers(2)
        .strategy(Strategy::RoundRobin)
        .build()
        .unwrap();
    let long = pool.submit(sleep_then(1_000, ())).unwrap();
    let short: Vec<_> = (0..20)
        .map(|_| pool.submit(sleep_then(1, ())).unwrap())
        .collect();
    let start = tokio::time::Instant::now();
    for h in short {
        assert_eq!(h.await, Outcome::Succeeded(()));
    }
    assert!(
        start.elapsed() <= crate::support::ms(20),
        "{:?}",
        start.elapsed()
    );
    let jobs = jobs_per_worker(&pool.stats());
    assert_eq!(jobs, [0, 20], "worker 0 is still on its long job");
    assert_eq!(long.await, Outcome::Succeeded(()));
}

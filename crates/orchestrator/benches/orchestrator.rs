//! Benchmarks for baton-orchestrator, each beside a baseline in the same group, on a 2-thread
//! tokio runtime with a 2-worker pool:
//!
//! - `orchestrator/dag_100k`: a 100k-task random DAG of no-op tasks (each task needs up to 3
//!   random earlier tasks; about 200k edges), run end to end: queueing by priority, dependency
//!   release, the pool, the report. `baton`: one run of the workflow (built once, outside the
//!   timing), with the default adaptive prefetch; its report's per-task rows are not read, so
//!   not built (they are built on first read). `baton_rows`: the same, reading the rows.
//!   `baton_strict`: the same with no prefetch
//!   (every start decided by the queue). `baton_independent`: the same 100k tasks with no dependencies. `pool_independent`:
//!   the pool's own throughput on 100k independent no-op jobs (`spawn_detached` + `idle`), the
//!   floor an orchestrator on this pool cannot beat. `pool_handles`: the same jobs submitted with
//!   a handle each and every outcome awaited, which is what an orchestrator needs of a pool.
//! - `orchestrator/seed_100x10`: the seed system's scenario, 100 no-op tasks in a random DAG on a
//!   10-worker pool. `pool_independent`: 100 no-op jobs on the same pool.

use std::hint::black_box;
use std::time::Duration;

use baton_orchestrator::{Orchestrator, Pool, Task, Workflow};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::runtime::Runtime;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("a tokio runtime")
}

/// SplitMix64: a seeded, dependency-free source of random numbers.
struct SplitMix(u64);

impl SplitMix {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}

/// `n` no-op tasks; with `deps`, each needs up to 3 random earlier ones.
fn workflow(n: usize, deps: bool, seed: u64) -> Workflow {
    let mut rng = SplitMix(seed);
    let tasks = (0..n).map(|i| {
        let mut task = Task::new(format!("t{i}"), |_| async { Ok(()) });
        if deps && i > 0 {
            let mut needs: Vec<u64> = (0..rng.below(4)).map(|_| rng.below(i as u64)).collect();
            needs.sort_unstable();
            needs.dedup();
            task = task.needs(needs.into_iter().map(|j| format!("t{j}")));
        }
        task
    });
    Workflow::builder("bench")
        .tasks(tasks)
        .build()
        .expect("a valid workflow")
}

fn orchestrator(rt: &Runtime, workers: usize) -> Orchestrator {
    rt.block_on(async {
        Orchestrator::builder()
            .workers(workers)
            .build()
            .expect("an orchestrator")
    })
}

fn pool(rt: &Runtime, workers: usize) -> Pool {
    rt.block_on(async { Pool::builder().workers(workers).build().expect("a pool") })
}

async fn pool_noops(pool: &Pool, n: usize) {
    for _ in 0..n {
        pool.spawn_detached(async { Ok::<_, ()>(()) })
            .expect("the pool accepts jobs");
    }
    pool.idle().await;
}

async fn pool_handles(pool: &Pool, n: usize) {
    let handles: Vec<_> = (0..n)
        .map(|_| {
            pool.submit(async { Ok::<_, ()>(()) })
                .expect("the pool accepts jobs")
        })
        .collect();
    for handle in handles {
        black_box(handle.await);
    }
}

fn dag_100k(c: &mut Criterion) {
    const N: usize = 100_000;
    let rt = runtime();
    let dag = workflow(N, true, 7);
    let independent = workflow(N, false, 7);
    let orchestrator = orchestrator(&rt, 2);
    let strict = rt.block_on(async {
        Orchestrator::builder()
            .workers(2)
            .prefetch(0)
            .build()
            .expect("an orchestrator")
    });
    let pool = pool(&rt, 2);
    let mut group = c.benchmark_group("orchestrator/dag_100k");
    group.throughput(Throughput::Elements(N as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("baton", |b| {
        b.to_async(&rt).iter(|| async {
            let report = orchestrator.run(&dag).await.expect("the run ends");
            assert!(report.is_success());
            black_box(report)
        });
    });
    group.bench_function("baton_rows", |b| {
        b.to_async(&rt).iter(|| async {
            let report = orchestrator.run(&dag).await.expect("the run ends");
            assert_eq!(report.tasks().len(), N);
            black_box(report)
        });
    });
    group.bench_function("baton_strict", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(strict.run(&dag).await.expect("the run ends")) });
    });
    group.bench_function("baton_independent", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(orchestrator.run(&independent).await.expect("the run ends"))
        });
    });
    group.bench_function("pool_independent", |b| {
        b.to_async(&rt).iter(|| pool_noops(&pool, N));
    });
    group.bench_function("pool_handles", |b| {
        b.to_async(&rt).iter(|| pool_handles(&pool, N));
    });
    group.finish();
}

fn seed_100x10(c: &mut Criterion) {
    const N: usize = 100;
    let rt = runtime();
    let dag = workflow(N, true, 11);
    let orchestrator = orchestrator(&rt, 10);
    let pool = pool(&rt, 10);
    let mut group = c.benchmark_group("orchestrator/seed_100x10");
    group.throughput(Throughput::Elements(N as u64));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("baton", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(orchestrator.run(&dag).await.expect("the run ends")) });
    });
    group.bench_function("pool_independent", |b| {
        b.to_async(&rt).iter(|| pool_noops(&pool, N));
    });
    group.finish();
}

criterion_group!(benches, dag_100k, seed_100x10);
criterion_main!(benches);

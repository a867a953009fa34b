//! Benchmarks for baton-pool, each beside a baseline on the same input in the same group:
//!
//! - `pool/noop_1m`: 1M no-op jobs on a 2-thread tokio runtime. `baton`: a 2-worker pool,
//!   `spawn_detached` then `idle()`. `tokio_joinset`: `JoinSet::spawn` + `join_next` of the same
//!   futures. `mpsc_pool`: the pool most people write by hand, 2 worker tasks sharing one
//!   unbounded tokio mpsc receiver behind a tokio `Mutex`, jobs as boxed futures, completion
//!   counted down to a `Notify`.
//! - `pool/noop_handles_100k`: 100k no-op jobs submitted with a handle each, then every handle
//!   awaited. `tokio_spawn`: `tokio::spawn` + awaiting each `JoinHandle`.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use baton_pool::Pool;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::runtime::Runtime;
use tokio::sync::{Mutex, Notify, mpsc};
use tokio::task::JoinSet;

const NOOP_JOBS: usize = 1_000_000;
const HANDLE_JOBS: usize = 100_000;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("a tokio runtime")
}

/// Baton's pool with two workers, min = max, built on `rt`.
fn two_workers(rt: &Runtime) -> Pool {
    rt.block_on(async {
        Pool::builder()
            .workers(2)
            .build()
            .expect("a valid pool configuration")
    })
}

type BoxedJob = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The hand-written baseline: two worker tasks sharing one receiver.
struct MpscPool {
    tx: mpsc::UnboundedSender<BoxedJob>,
    remaining: Arc<AtomicUsize>,
    done: Arc<Notify>,
}

impl MpscPool {
    fn new(rt: &Runtime, workers: usize) -> Self {
        let (tx, rx) = mpsc::unbounded_channel::<BoxedJob>();
        let rx = Arc::new(Mutex::new(rx));
        let remaining = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(Notify::new());
        for _ in 0..workers {
            let (rx, remaining, done) = (rx.clone(), remaining.clone(), done.clone());
            rt.spawn(async move {
                loop {
                    let job = rx.lock().await.recv().await;
                    let Some(job) = job else { break };
                    job.await;
                    if remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
                        done.notify_one();
                    }
                }
            });
        }
        Self {
            tx,
            remaining,
            done,
        }
    }

    async fn run(&self, n: usize) {
        self.remaining.store(n, Ordering::Release);
        for _ in 0..n {
            let job: BoxedJob = Box::pin(async {});
            if self.tx.send(job).is_err() {
                panic!("the baseline pool's workers are gone");
            }
        }
        self.done.notified().await;
    }
}

fn noop_1m(c: &mut Criterion) {
    let rt = runtime();
    let pool = two_workers(&rt);
    let mpsc_pool = MpscPool::new(&rt, 2);

    let mut group = c.benchmark_group("pool/noop_1m");
    group.throughput(Throughput::Elements(NOOP_JOBS as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("baton", |b| {
        b.to_async(&rt).iter(|| async {
            for _ in 0..NOOP_JOBS {
                let submitted = pool.spawn_detached(async { Ok::<(), ()>(()) });
                black_box(submitted.is_ok());
            }
            pool.idle().await;
        });
    });
    group.bench_function("tokio_joinset", |b| {
        b.to_async(&rt).iter(|| async {
            let mut set = JoinSet::new();
            for _ in 0..NOOP_JOBS {
                set.spawn(async {});
            }
            while let Some(joined) = set.join_next().await {
                black_box(joined.is_ok());
            }
        });
    });
    group.bench_function("mpsc_pool", |b| {
        b.to_async(&rt).iter(|| mpsc_pool.run(NOOP_JOBS));
    });
    group.finish();
    drop(pool);
}

fn noop_handles_100k(c: &mut Criterion) {
    let rt = runtime();
    let pool = two_workers(&rt);

    let mut group = c.benchmark_group("pool/noop_handles_100k");
    group.throughput(Throughput::Elements(HANDLE_JOBS as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("baton", |b| {
        b.to_async(&rt).iter(|| async {
            let mut handles = Vec::with_capacity(HANDLE_JOBS);
            for i in 0..HANDLE_JOBS {
                let handle = pool.submit(async move { Ok::<usize, ()>(i) });
                handles.push(handle.expect("the pool accepts jobs"));
            }
            for handle in handles {
                black_box(handle.await);
            }
        });
    });
    group.bench_function("tokio_spawn", |b| {
        b.to_async(&rt).iter(|| async {
            let mut handles = Vec::with_capacity(HANDLE_JOBS);
            for i in 0..HANDLE_JOBS {
                handles.push(tokio::spawn(async move { Ok::<usize, ()>(i) }));
            }
            for handle in handles {
                black_box(handle.await.is_ok());
            }
        });
    });
    group.finish();
}

criterion_group!(benches, noop_1m, noop_handles_100k);
criterion_main!(benches);

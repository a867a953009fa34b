//! Benchmarks for baton-queue, each beside a baseline on the same input in the same group:
//! - `queue/push_pop_1m_5_levels`: 1M sync pushes over 5 levels then 1M pops, one thread, vs a
//!   `Mutex<BinaryHeap<(Priority, Reverse<seq>, payload)>>` locked per operation. `baton` is the
//!   default queue (no clock read on the hot path); `baton_wait_times` tracks wait times (two
//!   clock reads per task).
//! - `queue/mpmc_2p_2c`: 2 producers and 2 consumers moving 200k items with async push/pop on a
//!   2-worker tokio runtime, vs an unbounded `async_channel` moving the same items the same way
//!   (again with and without wait-time tracking).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_queue::{Priority, PriorityQueue};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

/// Priorities spread over the 5 levels by a seeded splitmix64, the same for every contestant.
fn priorities(n: usize, seed: u64) -> Vec<Priority> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            Priority::ALL[(z % 5) as usize]
        })
        .collect()
}

const PUSH_POP_N: usize = 1_000_000;

/// Pushes one task per priority with the sync API, then pops them all; returns their sum.
fn push_pop_all(queue: &PriorityQueue<u64>, prios: &[Priority]) -> u64 {
    for (i, &p) in prios.iter().enumerate() {
        queue.try_push(i as u64, p).expect("unbounded and open");
    }
    let mut sum = 0u64;
    while let Ok(task) = queue.try_pop() {
        sum = sum.wrapping_add(task.item);
    }
    sum
}

fn push_pop(c: &mut Criterion) {
    let prios = priorities(PUSH_POP_N, 42);
    let mut group = c.benchmark_group("queue/push_pop_1m_5_levels");
    group
        .throughput(Throughput::Elements(PUSH_POP_N as u64))
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));

    group.bench_function("baton", |b| {
        b.iter(|| black_box(push_pop_all(&PriorityQueue::new(), &prios)))
    });

    // The same with wait-time tracking: two clock reads per task.
    group.bench_function("baton_wait_times", |b| {
        b.iter(|| {
            let queue = PriorityQueue::builder()
                .track_wait_times(true)
                .build()
                .expect("valid configuration");
            black_box(push_pop_all(&queue, &prios))
        })
    });

    group.bench_function("mutex_binary_heap", |b| {
        b.iter(|| {
            let heap = Mutex::new(BinaryHeap::new());
            for (i, &p) in prios.iter().enumerate() {
                heap.lock().unwrap().push((p, Reverse(i as u64), i as u64));
            }
            let mut sum = 0u64;
            loop {
                let next = heap.lock().unwrap().pop();
                match next {
                    Some((_, _, payload)) => sum = sum.wrapping_add(payload),
                    None => break,
                }
            }
            black_box(sum)
        })
    });
    group.finish();
}

const MPMC_N: usize = 200_000;

fn mpmc(c: &mut Criterion) {
    let prios: Arc<[Priority]> = priorities(MPMC_N, 7).into();
    let expected: u64 = (0..MPMC_N as u64).sum();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("queue/mpmc_2p_2c");
    group
        .throughput(Throughput::Elements(MPMC_N as u64))
        .sampling_mode(SamplingMode::Flat)
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));

    for (id, track_wait_times) in [("baton", false), ("baton_wait_times", true)] {
        group.bench_function(id, |b| {
            b.to_async(&rt).iter(|| {
                let prios = Arc::clone(&prios);
                async move {
                    let queue = PriorityQueue::builder()
                        .track_wait_times(track_wait_times)
                        .build()
                        .expect("valid configuration");
                    let producers: Vec<_> = (0..2)
                        .map(|p| {
                            let (queue, prios) = (queue.clone(), Arc::clone(&prios));
                            tokio::spawn(async move {
                                for i in (p..MPMC_N).step_by(2) {
                                    queue.push(i as u64, prios[i]).await.expect("open");
                                }
                            })
                        })
                        .collect();
                    let consumers: Vec<_> = (0..2)
                        .map(|_| {
                            let queue = queue.clone();
                            tokio::spawn(async move {
                                let mut sum = 0u64;
                                while let Some(task) = queue.pop().await {
                                    sum += task.item;
                                }
                                sum
                            })
                        })
                        .collect();
                    for p in producers {
                        p.await.unwrap();
                    }
                    queue.close();
                    let mut sum = 0;
                    for c in consumers {
                        sum += c.await.unwrap();
                    }
                    assert_eq!(sum, expected);
                }
            })
        });
    }

    group.bench_function("async_channel", |b| {
        b.to_async(&rt).iter(|| async {
            let (tx, rx) = async_channel::unbounded::<u64>();
            let producers: Vec<_> = (0..2)
                .map(|p| {
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        for i in (p..MPMC_N).step_by(2) {
                            tx.send(i as u64).await.expect("open");
                        }
                    })
                })
                .collect();
            drop(tx);
            let consumers: Vec<_> = (0..2)
                .map(|_| {
                    let rx = rx.clone();
                    tokio::spawn(async move {
                        let mut sum = 0u64;
                        while let Ok(item) = rx.recv().await {
                            sum += item;
                        }
                        sum
                    })
                })
                .collect();
            for p in producers {
                p.await.unwrap();
            }
            let mut sum = 0;
            for c in consumers {
                sum += c.await.unwrap();
            }
            assert_eq!(sum, expected);
        })
    });
    group.finish();
}

criterion_group!(benches, push_pop, mpmc);
criterion_main!(benches);

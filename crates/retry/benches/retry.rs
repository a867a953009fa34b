//! Benchmarks for baton-retry, each beside backon on the same input: computing delays
//! (`retry/delays`) and the retry helper around an operation that succeeds on the first call
//! (`retry/first_try_success`).

use std::hint::black_box;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder, Retryable};
use baton_retry::{Jitter, Policy, retry};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Delays computed per iteration of `retry/delays`.
const DELAYS: u32 = 1000;
/// Calls made per iteration of `retry/first_try_success`.
const CALLS: u64 = 1000;
const SEED: u64 = 42;
const INITIAL: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(10);

/// The error of the benchmarked operation (never produced: it succeeds first time).
#[derive(Debug)]
struct Unavailable;

fn delays(c: &mut Criterion) {
    let mut group = c.benchmark_group("retry/delays");
    group.throughput(Throughput::Elements(u64::from(DELAYS)));
    group.sample_size(20);

    // Exponential from 100 ms by 2, capped at 10 s, jittered, seeded: 1,000 delays.
    let policy = Policy::exponential(INITIAL, 2.0)
        .attempts(DELAYS + 1)
        .max_delay(MAX_DELAY)
        .jitter(Jitter::Full)
        .build()
        .expect("valid policy");
    group.bench_function("baton", |b| {
        b.iter(|| {
            for delay in black_box(&policy).delays_seeded(SEED) {
                black_box(delay);
            }
        });
    });

    let backoff = ExponentialBuilder::new()
        .with_min_delay(INITIAL)
        .with_factor(2.0)
        .with_max_delay(MAX_DELAY)
        .with_max_times(DELAYS as usize)
        .with_jitter()
        .with_jitter_seed(SEED);
    group.bench_function("backon", |b| {
        b.iter(|| {
            for delay in black_box(backoff).build() {
                black_box(delay);
            }
        });
    });
    group.finish();
}

fn first_try_success(c: &mut Criterion) {
    let mut group = c.benchmark_group("retry/first_try_success");
    group.throughput(Throughput::Elements(CALLS));
    group.sample_size(20);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("tokio runtime");

    // The same policy on both sides: exponential from 100 ms by 2, 4 attempts, capped, jittered.
    let policy = Policy::exponential(INITIAL, 2.0)
        .attempts(4)
        .max_delay(MAX_DELAY)
        .jitter(Jitter::Full)
        .build()
        .expect("valid policy");
    group.bench_function("baton", |b| {
        b.to_async(&runtime).iter(|| async {
            for i in 0..CALLS {
                let outcome = retry(
                    &policy,
                    || async move { Ok::<_, Unavailable>(black_box(i)) },
                )
                .run()
                .await;
                black_box(outcome.is_ok());
            }
        });
    });

    let backoff = ExponentialBuilder::new()
        .with_min_delay(INITIAL)
        .with_factor(2.0)
        .with_max_delay(MAX_DELAY)
        .with_max_times(3)
        .with_jitter();
    group.bench_function("backon", |b| {
        b.to_async(&runtime).iter(|| async {
            for i in 0..CALLS {
                let outcome = (|| async move { Ok::<_, Unavailable>(black_box(i)) })
                    .retry(backoff)
                    .await;
                black_box(outcome.is_ok());
            }
        });
    });
    group.finish();
}

criterion_group!(benches, delays, first_try_success);
criterion_main!(benches);

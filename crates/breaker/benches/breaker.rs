//! Benchmarks for baton-breaker beside recloser and failsafe, on the closed success path:
//! one thread (`breaker/success_1t`) and two OS threads sharing one breaker
//! (`breaker/success_2t`).
//!
//! Every breaker trips after 5 consecutive failures:
//! - baton: `Trip::consecutive_failures(5)`.
//! - recloser: a closed ring of 5 calls with error rate 1.0 (5 failures out of the last 5 are 5
//!   consecutive failures).
//! - failsafe: `failure_policy::consecutive_failures(5, backoff::constant(30 s))` (instead of
//!   `Config::new()`'s default, which also tracks a success rate over time).
//!
//! Ids: `baton` is `try_acquire` + `Permit::success` (the sync permit path), `baton_owned` the
//! same with `try_acquire_owned`, `baton_call` is `Breaker::call` on a ready future, polled once
//! by hand with a no-op waker (no runtime), `recloser` is `Recloser::call(|| Ok)`, `failsafe`
//! is `StateMachine::call(|| Ok)`.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use baton_breaker::{Breaker, Trip};
use criterion::{
    BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime,
};
use failsafe::{CircuitBreaker as _, StateMachine, backoff, failure_policy};
use recloser::Recloser;

/// Calls per iteration (per thread in the 2-thread group).
const CALLS: u64 = 1000;
const OPEN_FOR: Duration = Duration::from_secs(30);

/// The error of the benchmarked operation (never produced).
#[derive(Debug)]
struct Unavailable;

fn baton() -> Breaker {
    Breaker::builder()
        .trip(Trip::consecutive_failures(5))
        .open_for(OPEN_FOR)
        .build()
        .expect("valid breaker")
}

fn recloser() -> Recloser {
    Recloser::custom()
        .error_rate(1.0)
        .closed_len(5)
        .open_wait(OPEN_FOR)
        .build()
}

type Failsafe = StateMachine<failure_policy::ConsecutiveFailures<backoff::Constant>, ()>;

fn failsafe() -> Failsafe {
    failsafe::Config::new()
        .failure_policy(failure_policy::consecutive_failures(
            5,
            backoff::constant(OPEN_FOR),
        ))
        .build()
}

/// Polls a future that is ready at once; panics if it is not.
fn ready<F: Future>(fut: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(fut).poll(&mut cx) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the benchmarked future is ready at once"),
    }
}

/// The four ways of making one successful call, each on a shared breaker.
#[derive(Clone)]
enum Subject {
    Baton(Breaker),
    BatonOwned(Breaker),
    BatonCall(Breaker),
    Recloser(Arc<Recloser>),
    Failsafe(Arc<Failsafe>),
}

impl Subject {
    fn all() -> [(&'static str, Subject); 5] {
        [
            ("baton", Subject::Baton(baton())),
            ("baton_owned", Subject::BatonOwned(baton())),
            ("baton_call", Subject::BatonCall(baton())),
            ("recloser", Subject::Recloser(Arc::new(recloser()))),
            ("failsafe", Subject::Failsafe(Arc::new(failsafe()))),
        ]
    }

    /// Makes `CALLS` successful calls.
    fn batch(&self) {
        match self {
            Subject::Baton(b) => {
                for i in 0..CALLS {
                    let permit = b.try_acquire().expect("closed");
                    black_box(i);
                    permit.success();
                }
            }
            Subject::BatonOwned(b) => {
                for i in 0..CALLS {
                    let permit = b.try_acquire_owned().expect("closed");
                    black_box(i);
                    permit.success();
                }
            }
            Subject::BatonCall(b) => {
                for i in 0..CALLS {
                    let out = ready(b.call(async move { Ok::<_, Unavailable>(black_box(i)) }));
                    black_box(out.is_ok());
                }
            }
            Subject::Recloser(r) => {
                for i in 0..CALLS {
                    let out = r.call(|| Ok::<_, Unavailable>(black_box(i)));
                    black_box(out.is_ok());
                }
            }
            Subject::Failsafe(f) => {
                for i in 0..CALLS {
                    let out = f.call(|| Ok::<_, Unavailable>(black_box(i)));
                    black_box(out.is_ok());
                }
            }
        }
    }
}

fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group.throughput(Throughput::Elements(CALLS));
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
}

fn success_1t(c: &mut Criterion) {
    let mut group = c.benchmark_group("breaker/success_1t");
    configure(&mut group);
    for (id, subject) in Subject::all() {
        group.bench_function(id, |b| b.iter(|| subject.batch()));
    }
    group.finish();
}

fn success_2t(c: &mut Criterion) {
    let mut group = c.benchmark_group("breaker/success_2t");
    configure(&mut group);
    for (id, subject) in Subject::all() {
        group.bench_function(id, |b| {
            b.iter_custom(|iters| {
                let start = Arc::new(Barrier::new(3));
                let threads: Vec<_> = (0..2)
                    .map(|_| {
                        let (subject, start) = (subject.clone(), Arc::clone(&start));
                        thread::spawn(move || {
                            start.wait();
                            for _ in 0..iters {
                                subject.batch();
                            }
                        })
                    })
                    .collect();
                start.wait();
                let began = Instant::now();
                for thread in threads {
                    thread.join().expect("bench thread");
                }
                began.elapsed()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, success_1t, success_2t);
criterion_main!(benches);

//! Benchmarks for baton-saga: 10k trivial steps where the last fails, so all are compensated.
//!
//! `baton` runs the saga with the default configuration (no log, no cancel token, a one-attempt
//! policy for actions and compensations, no timeouts); `baton_logged` adds an [`InMemoryLog`].
//! `hand_written_loop` makes the same calls in a plain async loop: the same 10k steps, each an
//! action and a compensation behind dynamic dispatch returning a boxed future (what a hand-written
//! runtime list of heterogeneous async steps is), actions in order, then compensations in reverse.

use std::hint::black_box;
use std::time::Duration;

use baton_retry::Policy;
use baton_saga::{InMemoryLog, Outcome, Saga, Step, StepDef, StepError, StepFuture};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const STEPS: usize = 10_000;

#[derive(Debug, Default, Clone)]
struct Counter {
    done: u64,
    undone: u64,
}

/// A trivial step: bumps a counter; the last one fails.
struct Bump {
    fail: bool,
}

async fn act(ctx: &mut Counter, fail: bool) -> Result<(), StepError> {
    if fail {
        return Err("the last step fails".into());
    }
    ctx.done += 1;
    Ok(())
}

async fn undo(ctx: &mut Counter) -> Result<(), StepError> {
    ctx.undone += 1;
    Ok(())
}

impl Step<Counter> for Bump {
    async fn action(&self, ctx: &mut Counter) -> Result<(), StepError> {
        act(ctx, self.fail).await
    }

    async fn compensate(&self, ctx: &mut Counter) -> Result<(), StepError> {
        undo(ctx).await
    }
}

fn saga() -> Saga<Counter> {
    let mut builder = Saga::builder("bench");
    for i in 0..STEPS {
        let step = Bump {
            fail: i == STEPS - 1,
        };
        builder = builder.step(
            StepDef::compensable(format!("step{i}"), step)
                .retry(Policy::no_retry())
                .compensation_retry(Policy::no_retry()),
        );
    }
    builder.build().expect("valid saga")
}

/// The hand-written loop's steps: the same `Bump` calls, as boxed dynamic steps.
type Call = Box<dyn for<'a> Fn(&'a mut Counter) -> StepFuture<'a> + Send + Sync>;

fn hand_written_steps() -> Vec<(Call, Call)> {
    (0..STEPS)
        .map(|i| {
            let fail = i == STEPS - 1;
            let action: Call = Box::new(move |ctx| Box::pin(act(ctx, fail)));
            let compensate: Call = Box::new(|ctx| Box::pin(undo(ctx)));
            (action, compensate)
        })
        .collect()
}

async fn hand_written_loop(steps: &[(Call, Call)], mut ctx: Counter) -> (Counter, Option<usize>) {
    for (i, (action, _)) in steps.iter().enumerate() {
        if action(&mut ctx).await.is_err() {
            for (_, compensate) in steps[..i].iter().rev() {
                if compensate(&mut ctx).await.is_err() {
                    return (ctx, Some(i));
                }
            }
            return (ctx, Some(i));
        }
    }
    (ctx, None)
}

fn compensate_10k(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let saga = saga();
    let steps = hand_written_steps();
    let mut group = c.benchmark_group("saga/10k_steps_compensate");
    group
        .throughput(Throughput::Elements(STEPS as u64))
        .sample_size(20)
        .measurement_time(Duration::from_secs(3));
    group.bench_function("baton", |b| {
        b.to_async(&rt).iter(|| async {
            let outcome = saga.run(black_box(Counter::default())).await;
            assert!(matches!(outcome, Outcome::Compensated { .. }));
            black_box(outcome.into_context())
        });
    });
    group.bench_function("baton_logged", |b| {
        b.to_async(&rt).iter(|| async {
            let log = InMemoryLog::new();
            let outcome = saga
                .run_with(black_box(Counter::default()), &log, None)
                .await;
            black_box((outcome.expect("in-memory log").into_context(), log.len()))
        });
    });
    group.bench_function("hand_written_loop", |b| {
        b.to_async(&rt).iter(|| async {
            let (ctx, failed) = hand_written_loop(&steps, black_box(Counter::default())).await;
            assert_eq!(failed, Some(STEPS - 1));
            black_box(ctx)
        });
    });
    group.finish();
}

criterion_group!(benches, compensate_10k);
criterion_main!(benches);

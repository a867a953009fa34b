//! Seeded schedules: producers and consumers on tokio's paused single-thread runtime follow
//! random scripts (waiting pops, timed-out pops, pops dropped after one poll, yields, sleeps,
//! delayed pushes, cancels, bounded pushes). Deterministic, so every failure replays and shrinks.
//! Every pushed task ends exactly once: popped or cancelled. A lost wake-up shows as a hang,
//! caught by a (virtual) one-hour timeout.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use baton_queue::{Priority, PriorityQueue, PushOptions, TaskId};
use proptest::prelude::*;
use tokio::task::JoinSet;
use tokio::time::{sleep, timeout};

#[derive(Debug, Clone)]
enum ProducerStep {
    Push { level: usize, delay_ms: u64 },
    CancelLast,
    Yield,
    Sleep { ms: u64 },
}

#[derive(Debug, Clone)]
enum ConsumerStep {
    Pop,
    TimedPop { ms: u64 },
    PollOnce,
    Yield,
    Sleep { ms: u64 },
}

fn producer_step() -> impl Strategy<Value = ProducerStep> {
    prop_oneof![
        6 => (0..5usize, prop_oneof![3 => Just(0u64), 1 => 1..5u64])
            .prop_map(|(level, delay_ms)| ProducerStep::Push { level, delay_ms }),
        1 => Just(ProducerStep::CancelLast),
        2 => Just(ProducerStep::Yield),
        1 => (0..3u64).prop_map(|ms| ProducerStep::Sleep { ms }),
    ]
}

fn consumer_step() -> impl Strategy<Value = ConsumerStep> {
    prop_oneof![
        3 => Just(ConsumerStep::Pop),
        2 => (0..3u64).prop_map(|ms| ConsumerStep::TimedPop { ms }),
        2 => Just(ConsumerStep::PollOnce),
        1 => Just(ConsumerStep::Yield),
        1 => (0..3u64).prop_map(|ms| ConsumerStep::Sleep { ms }),
    ]
}

/// What a pop attempt gave: a task, "closed and drained", or nothing yet.
enum Got {
    Task(u32),
    Done,
    Nothing,
}

async fn poll_once<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    match poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

async fn run(
    capacity: Option<usize>,
    producers: Vec<Vec<ProducerStep>>,
    consumers: Vec<Vec<ConsumerStep>>,
) {
    let mut builder = PriorityQueue::<u32>::builder();
    if let Some(cap) = capacity {
        builder = builder.capacity(cap);
    }
    let queue = builder.build().unwrap();

    // Each producer returns (pushed values, cancelled values).
    let mut producer_set = JoinSet::new();
    for (p, script) in producers.into_iter().enumerate() {
        let queue = queue.clone();
        producer_set.spawn(async move {
            let (mut pushed, mut cancelled) = (Vec::new(), Vec::new());
            let mut ids: Vec<(TaskId, u32)> = Vec::new();
            for (i, step) in script.into_iter().enumerate() {
                match step {
                    ProducerStep::Push { level, delay_ms } => {
                        let value = (p * 10_000 + i) as u32;
                        let mut opts = PushOptions::from(Priority::ALL[level]);
                        if delay_ms > 0 {
                            opts = opts.delay(Duration::from_millis(delay_ms));
                        }
                        let id = queue.push(value, opts).await.expect("open");
                        pushed.push(value);
                        ids.push((id, value));
                    }
                    ProducerStep::CancelLast => {
                        if let Some((id, value)) = ids.pop()
                            && let Some(item) = queue.cancel(id)
                        {
                            assert_eq!(item, value, "cancel returned another task's item");
                            cancelled.push(value);
                        }
                    }
                    ProducerStep::Yield => tokio::task::yield_now().await,
                    ProducerStep::Sleep { ms } => sleep(Duration::from_millis(ms)).await,
                }
            }
            (pushed, cancelled)
        });
    }

    let mut consumer_set = JoinSet::new();
    for mut script in consumers {
        script.push(ConsumerStep::Pop); // at least one step that can finish
        let queue = queue.clone();
        consumer_set.spawn(async move {
            let mut got = Vec::new();
            for step in script.iter().cycle() {
                let outcome = match step {
                    ConsumerStep::Pop => match queue.pop().await {
                        Some(t) => Got::Task(t.item),
                        None => Got::Done,
                    },
                    ConsumerStep::TimedPop { ms } => {
                        match timeout(Duration::from_millis(*ms), queue.pop()).await {
                            Ok(Some(t)) => Got::Task(t.item),
                            Ok(None) => Got::Done,
                            Err(_) => Got::Nothing,
                        }
                    }
                    ConsumerStep::PollOnce => match poll_once(queue.pop()).await {
                        Some(Some(t)) => Got::Task(t.item),
                        Some(None) => Got::Done,
                        None => Got::Nothing,
                    },
                    ConsumerStep::Yield => {
                        tokio::task::yield_now().await;
                        Got::Nothing
                    }
                    ConsumerStep::Sleep { ms } => {
                        sleep(Duration::from_millis(*ms)).await;
                        Got::Nothing
                    }
                };
                match outcome {
                    Got::Task(value) => got.push(value),
                    Got::Done => break,
                    Got::Nothing => {}
                }
            }
            got
        });
    }

    let hang_guard = Duration::from_secs(3600);
    let results = timeout(hang_guard, producer_set.join_all())
        .await
        .expect("producers finish (a bounded push was never woken?)");
    queue.close();
    let popped: Vec<u32> = timeout(hang_guard, consumer_set.join_all())
        .await
        .expect("consumers finish (a wake-up was lost?)")
        .into_iter()
        .flatten()
        .collect();

    let mut pushed: Vec<u32> = results.iter().flat_map(|(p, _)| p.clone()).collect();
    let mut ended: Vec<u32> = results.iter().flat_map(|(_, c)| c.clone()).collect();
    ended.extend(popped);
    pushed.sort_unstable();
    ended.sort_unstable();
    assert_eq!(ended, pushed, "every task popped or cancelled exactly once");
    assert!(queue.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn seeded_schedules_end_every_task_exactly_once(
        capacity in prop::option::of(1..4usize),
        producers in prop::collection::vec(prop::collection::vec(producer_step(), 0..25), 1..4),
        consumers in prop::collection::vec(prop::collection::vec(consumer_step(), 0..6), 1..4),
    ) {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap()
            .block_on(run(capacity, producers, consumers));
    }
}

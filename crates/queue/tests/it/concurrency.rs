//! Concurrency: exactly-once delivery with many producers and consumers, cancelled pops under
//! load, close waking every waiter, and bounded pushes waiting for space.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use baton_queue::{Priority, PriorityQueue, PushError, PushOptions};
use tokio::task::JoinSet;
use tokio::time::{Instant, timeout};

const PRODUCERS: u32 = 6;
const CONSUMERS: u32 = 6;
const PER_PRODUCER: u32 = 5_000;

/// Runs `body` on a 4-worker runtime (real clock). The five-minute watchdog is not a speed
/// check: it turns a lost wake-up (a hang) into a failure instead of a stuck CI job.
fn on_multi_thread(body: impl Future<Output = ()>) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .expect("runtime")
        .block_on(async {
            timeout(Duration::from_secs(300), body)
                .await
                .expect("hung: a task or a wake-up was lost")
        });
}

/// Spawns producers pushing disjoint ranges over all levels, waits for them, closes the queue,
/// and checks that the consumers' results hold every value exactly once.
async fn deliver_all(queue: PriorityQueue<u32>, consumers: JoinSet<Vec<u32>>) {
    let mut producers = JoinSet::new();
    for p in 0..PRODUCERS {
        let queue = queue.clone();
        producers.spawn(async move {
            for i in 0..PER_PRODUCER {
                let value = p * PER_PRODUCER + i;
                let level = Priority::ALL[(value % 5) as usize];
                queue.push(value, level).await.expect("open");
                if i % 64 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        });
    }
    while let Some(r) = producers.join_next().await {
        r.expect("producer panicked");
    }
    queue.close();
    let mut all: Vec<u32> = consumers.join_all().await.into_iter().flatten().collect();
    all.sort_unstable();
    let expected: Vec<u32> = (0..PRODUCERS * PER_PRODUCER).collect();
    assert_eq!(all.len(), expected.len(), "lost or duplicated tasks");
    assert_eq!(all, expected);
    let stats = queue.stats();
    assert_eq!(stats.pushed, u64::from(PRODUCERS * PER_PRODUCER));
    assert_eq!(stats.popped, stats.pushed);
    assert!(stats.is_empty());
}

fn plain_consumers(queue: &PriorityQueue<u32>) -> JoinSet<Vec<u32>> {
    let mut set = JoinSet::new();
    for _ in 0..CONSUMERS {
        let queue = queue.clone();
        set.spawn(async move {
            let mut got = Vec::new();
            while let Some(task) = queue.pop().await {
                got.push(task.item);
            }
            got
        });
    }
    set
}

#[test]
fn every_task_delivered_exactly_once_unbounded() {
    on_multi_thread(async {
        let queue = PriorityQueue::new();
        deliver_all(queue.clone(), plain_consumers(&queue)).await;
    });
}

#[test]
fn every_task_delivered_exactly_once_bounded() {
    on_multi_thread(async {
        let queue = PriorityQueue::builder()
            .capacity(8)
            .track_wait_times(true)
            .build()
            .unwrap();
        deliver_all(queue.clone(), plain_consumers(&queue)).await;
    });
}

/// Polls `fut` once: its output if ready, `None` if it had to wait (then drops it).
async fn poll_once<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    match poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

#[test]
fn dropped_pops_under_load_lose_nothing() {
    on_multi_thread(async {
        let queue = PriorityQueue::builder().capacity(32).build().unwrap();
        let mut consumers = JoinSet::new();
        for c in 0..CONSUMERS {
            let queue = queue.clone();
            consumers.spawn(async move {
                let mut got = Vec::new();
                let mut n = 0u32;
                loop {
                    n += 1;
                    // Half the consumers abandon most of their pops right after registering as
                    // waiters; the others wait normally every few rounds.
                    let outcome = if c % 2 == 0 || n.is_multiple_of(4) {
                        Some(queue.pop().await)
                    } else {
                        poll_once(queue.pop()).await
                    };
                    match outcome {
                        Some(Some(task)) => got.push(task.item),
                        Some(None) => break,
                        None => tokio::task::yield_now().await,
                    }
                }
                got
            });
        }
        deliver_all(queue, consumers).await;
    });
}

#[tokio::test(start_paused = true)]
async fn timed_out_pops_under_load_lose_nothing() {
    let queue = PriorityQueue::new();
    let mut consumers = JoinSet::new();
    for _ in 0..CONSUMERS {
        let queue = queue.clone();
        consumers.spawn(async move {
            let mut got = Vec::new();
            loop {
                match timeout(Duration::from_micros(1500), queue.pop()).await {
                    Ok(Some(task)) => got.push(task.item),
                    Ok(None) => break,
                    Err(_elapsed) => {}
                }
            }
            got
        });
    }
    let mut producers = JoinSet::new();
    for p in 0..PRODUCERS {
        let queue = queue.clone();
        producers.spawn(async move {
            for i in 0..1_000u32 {
                queue.try_push(p * 1_000 + i, Priority::Normal).unwrap();
                if i % 7 == 0 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        });
    }
    producers.join_all().await;
    queue.close();
    let mut all: Vec<u32> = consumers.join_all().await.into_iter().flatten().collect();
    all.sort_unstable();
    assert_eq!(all, (0..PRODUCERS * 1_000).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn woken_pop_dropped_before_running_passes_the_wake_up_on() {
    let queue = PriorityQueue::new();
    let first = tokio::spawn({
        let queue = queue.clone();
        async move { queue.pop().await }
    });
    tokio::task::yield_now().await; // `first` waits
    let second = tokio::spawn({
        let queue = queue.clone();
        async move { queue.pop().await }
    });
    tokio::task::yield_now().await; // `second` waits behind it
    queue.try_push(7, Priority::Normal).unwrap(); // wakes `first` ...
    first.abort(); // ... which is dropped before it can run
    let got = timeout(Duration::from_secs(1), second)
        .await
        .expect("the wake-up was passed on to the second consumer")
        .unwrap();
    assert_eq!(got.map(|t| t.item), Some(7));
    assert!(first.await.unwrap_err().is_cancelled());
}

#[tokio::test(start_paused = true)]
async fn waiting_consumer_wakes_for_a_delayed_task_even_if_another_is_dropped() {
    let queue = PriorityQueue::new();
    let start = Instant::now();
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let queue = queue.clone();
            tokio::spawn(async move { queue.pop().await.map(|t| (t.item, Instant::now())) })
        })
        .collect();
    tokio::task::yield_now().await;
    let due = start + Duration::from_millis(10);
    queue
        .try_push("later", PushOptions::new().not_before(due))
        .unwrap();
    tokio::task::yield_now().await;
    consumers[0].abort();
    let (item, at) = timeout(
        Duration::from_secs(1),
        consumers.into_iter().nth(1).unwrap(),
    )
    .await
    .expect("the remaining consumer wakes when the task is due")
    .unwrap()
    .unwrap();
    assert_eq!((item, at), ("later", due));
}

#[tokio::test(start_paused = true)]
async fn close_wakes_every_waiting_consumer() {
    let queue = PriorityQueue::<u32>::new();
    let waiting: Vec<_> = (0..10)
        .map(|_| {
            let queue = queue.clone();
            tokio::spawn(async move { queue.pop().await })
        })
        .collect();
    tokio::task::yield_now().await;
    queue.close();
    for handle in waiting {
        let got = timeout(Duration::from_secs(1), handle)
            .await
            .expect("woken by close")
            .unwrap();
        assert!(got.is_none());
    }
}

#[tokio::test(start_paused = true)]
async fn close_drains_delayed_tasks_when_due_then_ends() {
    let queue = PriorityQueue::new();
    let start = Instant::now();
    queue
        .try_push(
            1,
            PushOptions::new().not_before(start + Duration::from_secs(3)),
        )
        .unwrap();
    queue.close();
    let task = queue
        .pop()
        .await
        .expect("the delayed task is still delivered");
    assert_eq!(
        (task.item, Instant::now() - start),
        (1, Duration::from_secs(3))
    );
    assert!(queue.pop().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn bounded_push_waits_for_space_then_proceeds() {
    let queue = PriorityQueue::builder().capacity(2).build().unwrap();
    queue.push(1, Priority::Low).await.unwrap();
    queue.push(2, Priority::Low).await.unwrap();
    assert_eq!(
        queue.try_push(3, Priority::Low),
        Err(PushError::Full(3)),
        "full"
    );
    let producer = tokio::spawn({
        let queue = queue.clone();
        async move { queue.push(3, Priority::High).await }
    });
    // Still waiting after a while: the queue is full.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(!producer.is_finished());
    assert_eq!(queue.len(), 2);

    assert_eq!(queue.pop().await.map(|t| t.item), Some(1));
    timeout(Duration::from_secs(1), producer)
        .await
        .expect("space freed")
        .unwrap()
        .expect("pushed");
    assert_eq!(queue.pop().await.map(|t| t.item), Some(3), "high first");
    assert_eq!(queue.pop().await.map(|t| t.item), Some(2));
}

#[tokio::test(start_paused = true)]
async fn cancel_frees_space_for_a_waiting_push() {
    let queue = PriorityQueue::builder().capacity(1).build().unwrap();
    let id = queue.try_push("old", Priority::Normal).unwrap();
    let producer = tokio::spawn({
        let queue = queue.clone();
        async move { queue.push("new", Priority::Normal).await }
    });
    tokio::task::yield_now().await;
    assert_eq!(queue.cancel(id), Some("old"));
    timeout(Duration::from_secs(1), producer)
        .await
        .expect("woken by cancel")
        .unwrap()
        .unwrap();
    assert_eq!(queue.try_pop().unwrap().item, "new");
}

#[tokio::test(start_paused = true)]
async fn close_fails_waiting_pushes_with_their_items() {
    let queue = PriorityQueue::builder().capacity(1).build().unwrap();
    queue.try_push(0, Priority::Normal).unwrap();
    let producers: Vec<_> = (1..=3)
        .map(|i| {
            let queue = queue.clone();
            tokio::spawn(async move { queue.push(i, Priority::Normal).await })
        })
        .collect();
    tokio::task::yield_now().await;
    queue.close();
    let mut back = Vec::new();
    for p in producers {
        match timeout(Duration::from_secs(1), p).await.unwrap().unwrap() {
            Err(PushError::Closed(item)) => back.push(item),
            other => panic!("expected Closed, got {other:?}"),
        }
    }
    assert_eq!(back, [1, 2, 3]);
    assert_eq!(queue.try_pop().unwrap().item, 0);
}

#[tokio::test(start_paused = true)]
async fn dropped_push_pushes_nothing_and_leaves_no_waiter() {
    let queue = PriorityQueue::builder().capacity(1).build().unwrap();
    queue.try_push(0, Priority::Normal).unwrap();
    assert!(poll_once(queue.push(1, Priority::Normal)).await.is_none());
    assert!(
        timeout(Duration::from_millis(10), queue.push(2, Priority::Normal))
            .await
            .is_err()
    );
    assert_eq!(queue.len(), 1);
    assert_eq!(queue.try_pop().unwrap().item, 0);
    queue.try_push(3, Priority::Normal).unwrap();
    assert_eq!(queue.try_pop().unwrap().item, 3);
}

/// Batches wake waiters as the same operations one at a time would: a batch of pushes wakes as
/// many waiting consumers as it adds tasks, and a batch of pops wakes as many producers waiting
/// on a full queue as it frees slots.
#[tokio::test(start_paused = true)]
async fn batches_wake_every_waiter_they_serve() {
    let queue = PriorityQueue::new();
    let mut consumers = JoinSet::new();
    for _ in 0..3 {
        let queue = queue.clone();
        consumers.spawn(async move { queue.pop().await.map(|t| t.item) });
    }
    tokio::task::yield_now().await; // all three wait
    let mut items: Vec<(u32, PushOptions)> = (0..3)
        .map(|i| (i, PushOptions::from(Priority::Normal)))
        .collect();
    let mut results = Vec::new();
    assert_eq!(queue.try_push_batch(&mut items, &mut results), 3);
    let mut got: Vec<Option<u32>> = timeout(Duration::from_secs(1), consumers.join_all())
        .await
        .expect("every consumer was woken")
        .into_iter()
        .collect();
    got.sort_unstable();
    assert_eq!(got, [Some(0), Some(1), Some(2)]);

    let bounded = PriorityQueue::builder().capacity(2).build().unwrap();
    bounded.try_push(10, Priority::Normal).unwrap();
    bounded.try_push(11, Priority::Normal).unwrap();
    let mut producers = JoinSet::new();
    for value in [12, 13] {
        let bounded = bounded.clone();
        producers.spawn(async move { bounded.push(value, Priority::Normal).await });
    }
    tokio::task::yield_now().await; // both wait for room
    let mut popped = Vec::new();
    assert_eq!(bounded.try_pop_batch(2, &mut popped), Ok(2));
    let pushed = timeout(Duration::from_secs(1), producers.join_all())
        .await
        .expect("every producer was woken");
    assert!(pushed.iter().all(Result::is_ok));
    assert_eq!(bounded.len(), 2);
}

/// `push_batch` waits for room when a bounded queue fills, and keeps the order.
#[tokio::test(start_paused = true)]
async fn a_batch_push_waits_for_room_and_keeps_the_order() {
    let queue = PriorityQueue::builder().capacity(2).build().unwrap();
    let consumer = {
        let queue = queue.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            while seen.len() < 5 {
                tokio::time::sleep(Duration::from_millis(1)).await;
                seen.extend(queue.pop().await.map(|t| t.item));
            }
            seen
        })
    };
    let mut items: Vec<(u32, PushOptions)> = (0..5)
        .map(|i| (i, PushOptions::from(Priority::Normal)))
        .collect();
    let mut results = Vec::new();
    queue.push_batch(&mut items, &mut results).await;
    assert!(items.is_empty());
    assert_eq!(results.len(), 5);
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(consumer.await.unwrap(), [0, 1, 2, 3, 4]);
}

/// `push_batch` is cancel-safe: dropped while it waits for room, it has pushed exactly what its
/// results say, the rest is still the caller's, and it leaves no waiter behind.
#[tokio::test(start_paused = true)]
async fn a_batch_push_dropped_while_it_waits_keeps_what_it_did_not_push() {
    let queue = PriorityQueue::builder().capacity(2).build().unwrap();
    let mut items: Vec<(u32, PushOptions)> = (0..4)
        .map(|i| (i, PushOptions::from(Priority::Normal)))
        .collect();
    let mut results = Vec::new();
    let waited = timeout(
        Duration::from_millis(5),
        queue.push_batch(&mut items, &mut results),
    )
    .await;
    assert!(waited.is_err(), "the queue stays full");
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(items.iter().map(|&(v, _)| v).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(queue.len(), 2);
    // The rest goes through once there is room.
    let mut popped = Vec::new();
    assert_eq!(queue.try_pop_batch(2, &mut popped), Ok(2));
    queue.push_batch(&mut items, &mut results).await;
    assert!(items.is_empty());
    let rest: Vec<u32> = std::iter::from_fn(|| queue.try_pop().ok().map(|t| t.item)).collect();
    assert_eq!(rest, [2, 3]);
}

//! The public API: parsing, errors, the `TaskQueue` trait, stats and serde.

use std::future::Future;
use std::time::Duration;

use baton_queue::{
    Aging, BuildError, Popped, Priority, PriorityQueue, PushError, PushOptions, QueueStats, TaskId,
    TaskQueue, TryPopError,
};
use tokio::time::Instant;

#[test]
fn priority_names_parse_and_bad_ones_are_explained() {
    for p in Priority::ALL {
        assert_eq!(p.as_str().parse::<Priority>(), Ok(p));
    }
    let err = "urgent".parse::<Priority>().unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("\"urgent\""), "{msg}");
    for name in ["critical", "high", "normal", "low", "background"] {
        assert!(msg.contains(name), "{msg} lists {name}");
    }
}

#[test]
fn invalid_configuration_is_a_typed_error() {
    assert_eq!(
        PriorityQueue::<()>::builder()
            .capacity(0)
            .build()
            .unwrap_err(),
        BuildError::ZeroCapacity
    );
    assert_eq!(
        PriorityQueue::<()>::builder()
            .aging(Aging::every(Duration::ZERO))
            .build()
            .unwrap_err(),
        BuildError::ZeroAgingStep
    );
    let q = PriorityQueue::<()>::builder()
        .capacity(0)
        .unbounded()
        .build()
        .unwrap();
    assert_eq!(q.capacity(), None);
}

#[test]
fn debug_output_shows_state_not_items() {
    struct NotDebug;
    let q = PriorityQueue::builder().capacity(3).build().unwrap();
    q.try_push(NotDebug, Priority::Low).ok().unwrap();
    assert_eq!(
        format!("{q:?}"),
        "PriorityQueue { len: 1, capacity: Some(3), closed: false, .. }"
    );
    let err = q.try_push(NotDebug, Priority::Low);
    q.close();
    assert!(err.is_ok());
    let closed = q.try_push(NotDebug, Priority::Low).unwrap_err();
    assert_eq!(format!("{closed:?}"), "Closed(..)");
}

#[test]
fn ids_are_unique_and_displayed() {
    let q = PriorityQueue::new();
    let a = q.try_push(1, Priority::Normal).unwrap();
    let b = q
        .try_push(2, PushOptions::new().delay(Duration::from_secs(1)))
        .unwrap();
    let c = q.try_push(3, Priority::High).unwrap();
    assert!(a < b && b < c);
    assert_eq!(a.to_string(), format!("#{}", a.get()));
    assert_eq!(TaskId::from_raw(a.get()), a);
}

#[tokio::test(start_paused = true)]
async fn popped_tasks_carry_their_wait() {
    let q = PriorityQueue::builder()
        .track_wait_times(true)
        .build()
        .unwrap();
    let start = Instant::now();
    q.try_push("a", Priority::High).unwrap();
    q.try_push(
        "b",
        PushOptions::new().not_before(start + Duration::from_millis(30)),
    )
    .unwrap();
    tokio::time::advance(Duration::from_millis(50)).await;
    let a = q.try_pop().unwrap();
    let b = q.try_pop().unwrap();
    assert_eq!((a.item, a.waited), ("a", Some(Duration::from_millis(50))));
    // A delayed task waits from its not-before instant, not from its push.
    assert_eq!((b.item, b.waited), ("b", Some(Duration::from_millis(20))));
    let stats = q.stats();
    assert_eq!(stats.waits.count, 2);
    assert_eq!(stats.waits.max, Duration::from_millis(50));
    assert_eq!(stats.waits.mean(), Some(Duration::from_millis(35)));
}

#[tokio::test(start_paused = true)]
async fn not_before_in_the_past_means_now() {
    let q = PriorityQueue::builder()
        .track_wait_times(true)
        .build()
        .unwrap();
    tokio::time::advance(Duration::from_secs(1)).await;
    let past = Instant::now() - Duration::from_millis(500);
    q.try_push(1, PushOptions::new().not_before(past)).unwrap();
    let t = q.try_pop().unwrap();
    assert_eq!((t.item, t.waited), (1, Some(Duration::ZERO)));
}

#[tokio::test(start_paused = true)]
async fn delayed_task_queues_behind_tasks_ready_before_it() {
    let q = PriorityQueue::new();
    let start = Instant::now();
    q.try_push(
        "retry",
        PushOptions::new().not_before(start + Duration::from_millis(10)),
    )
    .unwrap();
    tokio::time::advance(Duration::from_millis(5)).await;
    q.try_push("fresh", Priority::Normal).unwrap();
    tokio::time::advance(Duration::from_millis(10)).await;
    q.try_push("newest", Priority::Normal).unwrap();
    let order: Vec<_> = std::iter::from_fn(|| q.try_pop().ok().map(|t| t.item)).collect();
    assert_eq!(order, ["fresh", "retry", "newest"]);
}

/// A generic user of the trait, as the orchestrator will be.
async fn exercise<Q: TaskQueue<u32>>(q: &Q) -> Result<(), Q::Error>
where
    Q::Error: PartialEq,
{
    let low = q.push(1, Priority::Low.into()).await.ok().unwrap();
    q.try_push(2, Priority::Critical.into()).await.ok().unwrap();
    assert!(matches!(
        q.try_push(3, Priority::High.into()).await,
        Err(PushError::Full(3))
    ));
    assert_eq!(q.len().await?, 2);
    assert_eq!(q.cancel(low).await?, Some(1));
    assert_eq!(q.try_pop().await.ok().map(|t| t.item), Some(2));
    assert!(matches!(q.try_pop().await, Err(TryPopError::Empty)));
    q.close().await?;
    assert!(q.pop().await?.is_none());
    assert!(matches!(q.try_pop().await, Err(TryPopError::Closed)));
    let stats = q.stats().await?;
    assert_eq!((stats.pushed, stats.popped, stats.cancelled), (2, 1, 1));
    Ok(())
}

#[tokio::test]
async fn priority_queue_implements_the_trait() {
    let q = PriorityQueue::builder().capacity(2).build().unwrap();
    exercise(&q).await.unwrap();
}

/// A backend that implements only the required methods: the trait's defaults do the rest.
struct OneAtATime(PriorityQueue<u32>);

impl TaskQueue<u32> for OneAtATime {
    type Error = std::convert::Infallible;

    async fn push(&self, item: u32, opts: PushOptions) -> Result<TaskId, PushError<u32>> {
        self.0.push(item, opts).await
    }

    async fn pop(&self) -> Result<Option<Popped<u32>>, Self::Error> {
        Ok(self.0.pop().await)
    }

    async fn try_pop(&self) -> Result<Popped<u32>, TryPopError> {
        self.0.try_pop()
    }

    async fn cancel(&self, id: TaskId) -> Result<Option<u32>, Self::Error> {
        Ok(self.0.cancel(id))
    }

    async fn close(&self) -> Result<(), Self::Error> {
        self.0.close();
        Ok(())
    }

    async fn stats(&self) -> Result<QueueStats, Self::Error> {
        Ok(self.0.stats())
    }
}

/// Pushes a batch over every level and pops it in batches of two, through the trait.
async fn batch_round_trip<Q: TaskQueue<u32>>(q: &Q) -> (Vec<bool>, Vec<u32>, usize) {
    let mut items: Vec<(u32, PushOptions)> = (0..7)
        .map(|i| (i, Priority::ALL[i as usize % 5].into()))
        .collect();
    let mut results = Vec::new();
    q.push_batch(&mut items, &mut results).await;
    assert!(items.is_empty());
    let mut popped = Vec::new();
    assert_eq!(q.try_pop_batch(0, &mut popped).await.ok(), Some(0));
    while let Ok(n) = q.try_pop_batch(2, &mut popped).await {
        assert!((1..=2).contains(&n));
    }
    let ok = results.iter().map(Result::is_ok).collect();
    let order = popped.iter().map(|t| t.item).collect();
    (ok, order, q.len().await.ok().unwrap())
}

#[tokio::test]
async fn the_batch_defaults_and_the_queue_s_own_batches_agree() {
    let own = batch_round_trip(&PriorityQueue::new()).await;
    let defaults = batch_round_trip(&OneAtATime(PriorityQueue::new())).await;
    assert_eq!(own, defaults);
    assert_eq!(own, (vec![true; 7], vec![0, 5, 1, 6, 2, 3, 4], 0));
    let closed = OneAtATime(PriorityQueue::new());
    closed.close().await.unwrap();
    let mut popped = Vec::new();
    assert!(matches!(
        closed.try_pop_batch(3, &mut popped).await,
        Err(TryPopError::Closed)
    ));
}

/// The default `push_batch`, dropped while a push waits, keeps what it has not pushed.
#[tokio::test(start_paused = true)]
async fn the_default_batch_push_dropped_midway_keeps_the_rest() {
    let queue = OneAtATime(PriorityQueue::builder().capacity(1).build().unwrap());
    let mut items: Vec<(u32, PushOptions)> = (0..4).map(|i| (i, Priority::Normal.into())).collect();
    let mut results = Vec::new();
    let waited = tokio::time::timeout(
        Duration::from_millis(5),
        queue.push_batch(&mut items, &mut results),
    )
    .await;
    assert!(waited.is_err(), "the second push waits for room");
    assert_eq!(results.len(), 1);
    // The one being pushed went with the dropped `push`; the rest are still here, in order.
    assert_eq!(items.iter().map(|&(v, _)| v).collect::<Vec<_>>(), [2, 3]);
}

#[test]
fn trait_futures_are_send() {
    fn assert_send<F: Future + Send>(_: F) {}
    let q = PriorityQueue::<String>::new();
    assert_send(TaskQueue::push(&q, String::new(), PushOptions::new()));
    assert_send(TaskQueue::pop(&q));
    let (mut items, mut results, mut popped) = (Vec::new(), Vec::new(), Vec::new());
    assert_send(TaskQueue::push_batch(&q, &mut items, &mut results));
    assert_send(TaskQueue::try_pop_batch(&q, 4, &mut popped));
    let one = OneAtATime(PriorityQueue::new());
    let (mut items, mut results, mut popped) = (Vec::new(), Vec::new(), Vec::new());
    assert_send(one.push_batch(&mut items, &mut results));
    assert_send(one.try_pop_batch(4, &mut popped));
    assert_send(q.pop());
    assert_send(q.push(String::new(), Priority::High));
}

#[cfg(feature = "serde")]
mod serde_support {
    use baton_queue::{Priority, PriorityQueue, QueueStats, TaskId, TaskState};

    #[test]
    fn priorities_and_states_use_their_names() {
        assert_eq!(
            serde_json::to_string(&Priority::Background).unwrap(),
            "\"background\""
        );
        assert_eq!(
            serde_json::from_str::<Priority>("\"high\"").unwrap(),
            Priority::High
        );
        assert!(serde_json::from_str::<Priority>("\"High\"").is_err());
        assert_eq!(
            serde_json::to_string(&TaskState::TimedOut).unwrap(),
            "\"timed_out\""
        );
        for s in TaskState::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{s}\""));
            assert_eq!(serde_json::from_str::<TaskState>(&json).unwrap(), s);
        }
        assert_eq!(serde_json::to_string(&TaskId::from_raw(5)).unwrap(), "5");
    }

    #[test]
    fn stats_round_trip() {
        let q = PriorityQueue::builder()
            .track_wait_times(true)
            .build()
            .unwrap();
        q.try_push(1, Priority::High).unwrap();
        q.try_push(2, Priority::Low).unwrap();
        q.try_pop().unwrap();
        let stats = q.stats();
        let json = serde_json::to_value(&stats).unwrap();
        assert_eq!(json["depth"]["low"], 1);
        assert_eq!(json["popped"], 1);
        assert_eq!(json["waits"]["count"], 1);
        let back: QueueStats = serde_json::from_value(json).unwrap();
        assert_eq!(back, stats);
    }
}

#[tokio::test(start_paused = true)]
async fn an_absurd_delay_is_the_far_future_not_a_panic() {
    let queue = PriorityQueue::new();
    let id = queue
        .try_push("later", PushOptions::new().delay(Duration::MAX))
        .unwrap();
    assert!(queue.try_pop().is_err(), "not due for decades");
    tokio::time::advance(Duration::from_secs(86_400 * 365)).await;
    assert!(queue.try_pop().is_err(), "still not due after a year");
    assert_eq!(queue.cancel(id), Some("later"));
}

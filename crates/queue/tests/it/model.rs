//! Model-based property tests: random operation sequences run against `PriorityQueue` and a
//! plain reference model (a `Vec` searched for the minimum key), compared after every step.

use std::time::Duration;

use baton_queue::{
    Aging, Priority, PriorityQueue, PushError, PushOptions, TaskId, TaskQueue, TryPopError,
};
use proptest::prelude::*;
use tokio::time::Instant;

#[derive(Debug, Clone)]
enum Op {
    /// `try_push` (or the trait's `push` when `via_trait`) at `level`, delayed by `delay_ms`.
    Push {
        level: usize,
        delay_ms: Option<u64>,
        via_trait: bool,
    },
    /// `try_push_batch` (or the trait's `push_batch` when `via_trait` and everything fits) of
    /// tasks at these levels and delays.
    PushBatch {
        tasks: Vec<(usize, Option<u64>)>,
        via_trait: bool,
    },
    TryPop,
    /// `try_pop_batch` (or the trait's) of up to `max` tasks.
    TryPopBatch {
        max: usize,
        via_trait: bool,
    },
    /// Async `pop` under a timeout.
    Pop {
        timeout_ms: u64,
    },
    /// Cancel the `pick`-th id pushed so far (modulo), or an id never issued.
    Cancel {
        pick: usize,
        unknown: bool,
    },
    Advance {
        ms: u64,
    },
    Close,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0..5usize, prop::option::weighted(0.3, 1..40u64), any::<bool>())
            .prop_map(|(level, delay_ms, via_trait)| Op::Push { level, delay_ms, via_trait }),
        2 => (
            prop::collection::vec((0..5usize, prop::option::weighted(0.3, 1..40u64)), 0..6),
            any::<bool>(),
        )
            .prop_map(|(tasks, via_trait)| Op::PushBatch { tasks, via_trait }),
        4 => Just(Op::TryPop),
        2 => (0..5usize, any::<bool>())
            .prop_map(|(max, via_trait)| Op::TryPopBatch { max, via_trait }),
        2 => (1..30u64).prop_map(|timeout_ms| Op::Pop { timeout_ms }),
        2 => (any::<usize>(), prop::bool::weighted(0.2))
            .prop_map(|(pick, unknown)| Op::Cancel { pick, unknown }),
        2 => (1..25u64).prop_map(|ms| Op::Advance { ms }),
        1 => Just(Op::Close),
    ]
}

#[derive(Debug, Clone)]
struct Item {
    id: TaskId,
    level: usize,
    ready: Instant,
    value: u32,
}

/// The reference: every held task in a `Vec`; a pop takes the ready task with the smallest
/// `(effective level, ready instant, level, id)`, where the effective level is the level index
/// (0 = critical) lowered by one per aging step waited.
#[derive(Debug)]
struct Model {
    items: Vec<Item>,
    capacity: Option<usize>,
    aging: Option<Duration>,
    track_waits: bool,
    closed: bool,
    pushed: u64,
    popped: u64,
    cancelled: u64,
    wait_total: Duration,
    wait_max: Duration,
}

impl Model {
    fn key(&self, item: &Item, now: Instant) -> (usize, Instant, usize, TaskId) {
        let boost = match self.aging {
            Some(step) => (now.duration_since(item.ready).as_nanos() / step.as_nanos()) as usize,
            None => 0,
        };
        (
            item.level.saturating_sub(boost),
            item.ready,
            item.level,
            item.id,
        )
    }

    /// Removes the next task at `now`, with the wait `Popped` should report.
    fn take_next(&mut self, now: Instant) -> Option<(Item, Option<Duration>)> {
        let index = (0..self.items.len())
            .filter(|&i| self.items[i].ready <= now)
            .min_by_key(|&i| self.key(&self.items[i], now))?;
        let item = self.items.remove(index);
        let waited = now - item.ready;
        self.popped += 1;
        if !self.track_waits {
            return Some((item, None));
        }
        self.wait_total += waited;
        self.wait_max = self.wait_max.max(waited);
        Some((item, Some(waited)))
    }

    fn earliest(&self) -> Option<Instant> {
        self.items.iter().map(|i| i.ready).min()
    }
}

fn level(index: usize) -> Priority {
    Priority::ALL[index]
}

async fn run(capacity: Option<usize>, aging_ms: Option<u64>, track_waits: bool, ops: Vec<Op>) {
    let aging = aging_ms.map(Duration::from_millis);
    let mut builder = PriorityQueue::<u32>::builder().track_wait_times(track_waits);
    if let Some(cap) = capacity {
        builder = builder.capacity(cap);
    }
    if let Some(step) = aging {
        builder = builder.aging(Aging::every(step));
    }
    let queue = builder.build().expect("valid configuration");
    let mut model = Model {
        items: Vec::new(),
        capacity,
        aging,
        track_waits,
        closed: false,
        pushed: 0,
        popped: 0,
        cancelled: 0,
        wait_total: Duration::ZERO,
        wait_max: Duration::ZERO,
    };
    let mut issued: Vec<TaskId> = Vec::new();
    let mut next_value = 0u32;

    for (step, op) in ops.into_iter().enumerate() {
        let now = Instant::now();
        match op {
            Op::Push {
                level: lvl,
                delay_ms,
                via_trait,
            } => {
                let value = next_value;
                next_value += 1;
                let mut opts = PushOptions::from(level(lvl));
                if let Some(ms) = delay_ms {
                    opts = opts.not_before(now + Duration::from_millis(ms));
                }
                let full = model.capacity.is_some_and(|c| model.items.len() >= c);
                let result = if via_trait && !full {
                    TaskQueue::push(&queue, value, opts).await
                } else {
                    queue.try_push(value, opts)
                };
                if model.closed {
                    assert_eq!(result, Err(PushError::Closed(value)), "step {step}");
                } else if full {
                    assert_eq!(result, Err(PushError::Full(value)), "step {step}");
                } else {
                    let id = result.unwrap_or_else(|e| panic!("step {step}: push failed: {e}"));
                    assert!(issued.last().is_none_or(|last| *last < id), "ids increase");
                    issued.push(id);
                    model.pushed += 1;
                    let ready = now + Duration::from_millis(delay_ms.unwrap_or(0));
                    model.items.push(Item {
                        id,
                        level: lvl,
                        ready,
                        value,
                    });
                }
            }
            Op::PushBatch { tasks, via_trait } => {
                let mut items: Vec<(u32, PushOptions)> = tasks
                    .iter()
                    .map(|&(lvl, delay_ms)| {
                        let mut opts = PushOptions::from(level(lvl));
                        if let Some(ms) = delay_ms {
                            opts = opts.not_before(now + Duration::from_millis(ms));
                        }
                        let value = next_value;
                        next_value += 1;
                        (value, opts)
                    })
                    .collect();
                let values: Vec<u32> = items.iter().map(|&(value, _)| value).collect();
                let room = model
                    .capacity
                    .map_or(usize::MAX, |c| c.saturating_sub(model.items.len()));
                let mut results = Vec::new();
                if via_trait && (tasks.len() <= room || model.closed) {
                    TaskQueue::push_batch(&queue, &mut items, &mut results).await;
                } else {
                    let appended = queue.try_push_batch(&mut items, &mut results);
                    assert_eq!(appended, results.len(), "step {step}");
                }
                // As many `try_push`es in a row: all refused once closed, else until full.
                let fit = if model.closed {
                    tasks.len()
                } else {
                    tasks.len().min(room)
                };
                assert_eq!(results.len(), fit, "step {step}: results");
                assert_eq!(items.len(), tasks.len() - fit, "step {step}: left over");
                assert!(
                    items
                        .iter()
                        .map(|&(value, _)| value)
                        .eq(values[fit..].iter().copied()),
                    "step {step}: what did not fit stays, in order"
                );
                for (i, result) in results.into_iter().enumerate() {
                    let (lvl, delay_ms) = tasks[i];
                    if model.closed {
                        assert_eq!(result, Err(PushError::Closed(values[i])), "step {step}");
                        continue;
                    }
                    let id = result.unwrap_or_else(|e| panic!("step {step}: push failed: {e}"));
                    assert!(issued.last().is_none_or(|last| *last < id), "ids increase");
                    issued.push(id);
                    model.pushed += 1;
                    model.items.push(Item {
                        id,
                        level: lvl,
                        ready: now + Duration::from_millis(delay_ms.unwrap_or(0)),
                        value: values[i],
                    });
                }
            }
            Op::TryPopBatch { max, via_trait } => {
                let mut got = Vec::new();
                let result = if via_trait {
                    TaskQueue::try_pop_batch(&queue, max, &mut got).await
                } else {
                    queue.try_pop_batch(max, &mut got)
                };
                let mut expected = Vec::new();
                while expected.len() < max {
                    match model.take_next(now) {
                        Some(next) => expected.push(next),
                        None => break,
                    }
                }
                match result {
                    Ok(n) => assert_eq!(n, expected.len(), "step {step}: popped"),
                    Err(error) => {
                        assert!(max > 0 && expected.is_empty(), "step {step}: {error}");
                        let closed = model.closed && model.items.is_empty();
                        let want = if closed {
                            TryPopError::Closed
                        } else {
                            TryPopError::Empty
                        };
                        assert_eq!(error, want, "step {step}");
                    }
                }
                assert_eq!(got.len(), expected.len(), "step {step}");
                for (p, (item, waited)) in got.iter().zip(&expected) {
                    assert_eq!(
                        (p.id, p.priority, p.item, p.waited),
                        (item.id, level(item.level), item.value, *waited),
                        "step {step}"
                    );
                }
            }
            Op::TryPop => {
                let got = queue.try_pop();
                match model.take_next(now) {
                    Some((item, waited)) => {
                        let p = got.unwrap_or_else(|e| panic!("step {step}: expected a task: {e}"));
                        assert_eq!(
                            (p.id, p.priority, p.item, p.waited),
                            (item.id, level(item.level), item.value, waited),
                            "step {step}"
                        );
                    }
                    None if model.closed && model.items.is_empty() => {
                        assert_eq!(got.unwrap_err(), TryPopError::Closed, "step {step}")
                    }
                    None => assert_eq!(got.unwrap_err(), TryPopError::Empty, "step {step}"),
                }
            }
            Op::Pop { timeout_ms } => {
                let deadline = now + Duration::from_millis(timeout_ms);
                let got = tokio::time::timeout_at(deadline, queue.pop()).await;
                let expected_at = match model.earliest() {
                    Some(first) if first <= deadline => first.max(now),
                    None if model.closed => now,
                    _ => deadline,
                };
                assert_eq!(Instant::now(), expected_at, "step {step}: pop returned at");
                match model.take_next(expected_at) {
                    Some((item, waited)) => {
                        let p = got
                            .unwrap_or_else(|_| panic!("step {step}: pop timed out"))
                            .unwrap_or_else(|| panic!("step {step}: pop returned None"));
                        assert_eq!(
                            (p.id, p.priority, p.item, p.waited),
                            (item.id, level(item.level), item.value, waited),
                            "step {step}"
                        );
                    }
                    None if model.closed && model.items.is_empty() => {
                        assert!(matches!(got, Ok(None)), "step {step}: {got:?}")
                    }
                    None => assert!(got.is_err(), "step {step}: expected a timeout: {got:?}"),
                }
            }
            Op::Cancel { pick, unknown } => {
                let id = if unknown || issued.is_empty() {
                    TaskId::from_raw(u64::MAX - pick as u64 % 1000)
                } else {
                    issued[pick % issued.len()]
                };
                let expected = model
                    .items
                    .iter()
                    .position(|i| i.id == id)
                    .map(|i| model.items.remove(i).value);
                if expected.is_some() {
                    model.cancelled += 1;
                }
                assert_eq!(queue.cancel(id), expected, "step {step}: cancel {id}");
            }
            Op::Advance { ms } => tokio::time::advance(Duration::from_millis(ms)).await,
            Op::Close => {
                model.closed = true;
                queue.close();
            }
        }

        // Compare the observable state after every step.
        let now = Instant::now();
        let stats = queue.stats();
        for (index, p) in Priority::ALL.into_iter().enumerate() {
            let depth = model
                .items
                .iter()
                .filter(|i| i.level == index && i.ready <= now)
                .count();
            assert_eq!(stats.depth[p], depth, "step {step}: depth of {p}");
        }
        let delayed = model.items.iter().filter(|i| i.ready > now).count();
        assert_eq!(stats.delayed, delayed, "step {step}: delayed");
        assert_eq!(queue.len(), model.items.len(), "step {step}: len");
        assert_eq!(stats.closed, model.closed);
        assert_eq!(stats.capacity, model.capacity);
        assert_eq!(
            (stats.pushed, stats.popped, stats.cancelled),
            (model.pushed, model.popped, model.cancelled),
            "step {step}: counters"
        );
        let recorded = if track_waits { model.popped } else { 0 };
        assert_eq!(stats.waits.count, recorded);
        assert_eq!(stats.waits.total, model.wait_total);
        assert_eq!(stats.waits.max, model.wait_max);
    }
}

fn check(capacity: Option<usize>, aging_ms: Option<u64>, track_waits: bool, ops: Vec<Op>) {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime")
        .block_on(run(capacity, aging_ms, track_waits, ops));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Unbounded queue, with and without aging and wait-time tracking.
    #[test]
    fn unbounded_queue_matches_model(
        aging_ms in prop::option::of(1..30u64),
        track_waits in prop::bool::weighted(0.75),
        ops in prop::collection::vec(op(), 1..80),
    ) {
        check(None, aging_ms, track_waits, ops);
    }

    /// Bounded queue: `Full` exactly when the model holds `capacity` tasks (delayed ones count).
    #[test]
    fn bounded_queue_matches_model(
        capacity in 1..6usize,
        aging_ms in prop::option::of(1..30u64),
        track_waits in prop::bool::weighted(0.75),
        ops in prop::collection::vec(op(), 1..80),
    ) {
        check(Some(capacity), aging_ms, track_waits, ops);
    }
}

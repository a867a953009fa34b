//! Retry budgets: a failing dependency cannot cause a retry storm, the budget recovers as its
//! window slides, and it holds under threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use baton_retry::{Policy, RetryBudget, StopReason, retry};
use tokio::task::JoinSet;

const MS: Duration = Duration::from_millis(1);

/// 1,000 concurrent calls to a dependency that always fails, under a policy of 5 attempts: without
/// a budget they would make 4,000 retries.
async fn storm(budget: Arc<RetryBudget>) -> (u32, u32) {
    let calls = Arc::new(AtomicU32::new(0));
    let mut tasks = JoinSet::new();
    for _ in 0..1000 {
        let (budget, calls) = (budget.clone(), calls.clone());
        tasks.spawn(async move {
            let policy = Policy::exponential(10 * MS, 2.0)
                .attempts(5)
                .build()
                .unwrap();
            let op = || {
                calls.fetch_add(1, Ordering::Relaxed);
                async { Err::<(), _>("dependency down") }
            };
            retry(&policy, op).budget(&budget).run().await.unwrap_err()
        });
    }
    let mut budget_stops = 0;
    while let Some(result) = tasks.join_next().await {
        let err = result.unwrap();
        if err.reason == StopReason::BudgetExhausted {
            budget_stops += 1;
        } else {
            assert_eq!(err.reason, StopReason::AttemptsExhausted);
        }
    }
    (calls.load(Ordering::Relaxed), budget_stops)
}

#[tokio::test(start_paused = true)]
async fn budget_stops_a_retry_storm() {
    // 10% of 1,000 calls plus a reserve of 10 per second over 10 s: at most 200 retries.
    let budget = RetryBudget::builder()
        .ratio(0.1)
        .min_per_sec(10)
        .ttl(Duration::from_secs(10))
        .build()
        .unwrap();
    let (calls, budget_stops) = storm(Arc::new(budget)).await;
    let retries = calls - 1000;
    assert!(retries <= 200, "{retries} retries");
    assert!(
        retries >= 190,
        "the budget is used, not wasted: {retries} retries"
    );
    assert!(
        budget_stops >= 950,
        "{budget_stops} calls stopped by the budget"
    );
}

#[tokio::test(start_paused = true)]
async fn budget_with_no_reserve_allows_only_the_ratio() {
    let budget = RetryBudget::builder()
        .ratio(0.2)
        .min_per_sec(0)
        .build()
        .unwrap();
    let (calls, _) = storm(Arc::new(budget)).await;
    assert!(calls - 1000 <= 200, "{} retries", calls - 1000);
}

#[tokio::test(start_paused = true)]
async fn budget_recovers_as_the_window_slides() {
    let budget = RetryBudget::builder()
        .ratio(0.0)
        .min_per_sec(2)
        .ttl(Duration::from_secs(5))
        .build()
        .unwrap();
    assert_eq!(budget.available(), 10);
    let granted = (0..50).filter(|_| budget.try_withdraw()).count();
    assert_eq!(granted, 10);
    tokio::time::advance(Duration::from_millis(4_999)).await;
    assert!(!budget.try_withdraw(), "still inside the window");
    tokio::time::advance(MS).await;
    assert_eq!(budget.available(), 10, "the withdrawals expired");
}

#[test]
fn budget_holds_under_threads() {
    let budget = RetryBudget::builder()
        .ratio(0.25)
        .min_per_sec(0)
        .ttl(Duration::from_secs(60))
        .build()
        .unwrap();
    let granted = AtomicU32::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..10_000 {
                    budget.deposit();
                    if budget.try_withdraw() {
                        granted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let granted = granted.into_inner();
    // 40,000 calls at 25%: 10,000 retries at most, never one more (a race may refuse a few).
    assert!(granted <= 10_000, "{granted}");
    assert!(granted >= 9_900, "{granted}");
}

#[test]
fn racing_withdrawals_never_overdraw() {
    // A reserve of exactly one retry (1 per second over 1 s, no deposits), and four threads
    // released together to take it: over many rounds some withdrawals race, and still only one
    // may win each round.
    let mut overdrawn = 0;
    for _ in 0..2_000 {
        let budget = RetryBudget::builder()
            .ratio(0.0)
            .min_per_sec(1)
            .ttl(Duration::from_secs(1))
            .build()
            .unwrap();
        let granted = AtomicU32::new(0);
        let start = std::sync::Barrier::new(4);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    start.wait();
                    if budget.try_withdraw() {
                        granted.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        if granted.into_inner() > 1 {
            overdrawn += 1;
        }
    }
    assert_eq!(overdrawn, 0, "rounds in which the budget was overdrawn");
}

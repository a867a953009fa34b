//! Aging: under a constant flood of critical work, a background task is served when aging is on,
//! and not until the flood stops when it is off. Runs on tokio's paused clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use baton_queue::{Aging, Priority, PriorityQueue};
use tokio::time::Instant;

const STEP: Duration = Duration::from_millis(10);
const FLOOD: Duration = Duration::from_secs(10);

/// A producer pushes two critical tasks every millisecond for `FLOOD`; a consumer serves one
/// task per millisecond, so critical work piles up and is always waiting. One background task is
/// pushed after 5 ms. Returns when (after the start) the background task was served.
async fn serve_background_under_flood(queue: PriorityQueue<&'static str>) -> Duration {
    let start = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let producer = {
        let (queue, stop) = (queue.clone(), Arc::clone(&stop));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(1));
            while start.elapsed() < FLOOD && !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                queue.try_push("critical", Priority::Critical).unwrap();
                queue.try_push("critical", Priority::Critical).unwrap();
                if start.elapsed() == Duration::from_millis(5) {
                    queue.try_push("background", Priority::Background).unwrap();
                }
            }
        })
    };
    let served_at = loop {
        let task = queue.pop().await.expect("queue is never closed");
        if task.item == "background" {
            break start.elapsed();
        }
        assert!(
            queue.len_of(Priority::Critical) > 0
                || start.elapsed() < Duration::from_millis(5)
                || start.elapsed() >= FLOOD,
            "the flood must keep critical work waiting"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    stop.store(true, Ordering::Relaxed);
    producer.await.unwrap();
    served_at
}

#[tokio::test(start_paused = true)]
async fn background_task_is_served_under_critical_flood_with_aging() {
    let queue = PriorityQueue::builder()
        .aging(Aging::every(STEP))
        .build()
        .unwrap();
    let served = serve_background_under_flood(queue).await;
    // It becomes effectively critical after 4 steps (40 ms), then waits only for the critical
    // tasks that were ready before it (about 10 pushed in its first 5 ms, minus those served).
    assert!(
        served < Duration::from_millis(5 + 40 + 15),
        "served after {served:?}"
    );
    assert!(
        served >= Duration::from_millis(5 + 40),
        "served after {served:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn background_task_starves_while_the_flood_lasts_without_aging() {
    let queue = PriorityQueue::new();
    let served = serve_background_under_flood(queue).await;
    // The flood lasts 10 s and leaves a backlog of about 10 000 critical tasks, served one per
    // millisecond before the background task.
    assert!(served > FLOOD, "served after {served:?}, during the flood");
}

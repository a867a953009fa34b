//! Job sources: a custom source written here drives the pool; the channel source; feeders stop
//! at shutdown and hand back what they hold; the feed window keeps the source's order.

use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_pool::{Job, JobHandle, JobSource, Outcome, Pool, channel};

use crate::support::{ms, sleep_then};

/// A source over a list of jobs, recording how many times it was asked.
struct ListSource {
    jobs: VecDeque<Job>,
    asked: usize,
}

impl JobSource for ListSource {
    type Job = Job;
    async fn next(&mut self) -> Option<Job> {
        self.asked += 1;
        self.jobs.pop_front()
    }
}

/// A job that appends `tag` to `log` when it runs.
fn logging_job(log: &Arc<Mutex<Vec<u32>>>, tag: u32) -> (Job, JobHandle<u32, ()>) {
    let log = log.clone();
    Job::new(async move {
        log.lock().unwrap().push(tag);
        tokio::time::sleep(ms(1)).await;
        Ok(tag)
    })
}

#[tokio::test(start_paused = true)]
async fn a_custom_source_drives_the_pool() {
    let pool = Pool::builder().workers(2).build().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (jobs, handles): (VecDeque<_>, Vec<_>) = (0..50).map(|i| logging_job(&log, i)).unzip();
    let fed = pool
        .feed(ListSource { jobs, asked: 0 })
        .await
        .expect("the feeder does not panic");
    assert_eq!(fed.submitted, 50);
    assert_eq!(fed.source.asked, 51, "asked until it said None");
    assert!(fed.refused.is_none());
    for (i, h) in (0..).zip(handles) {
        assert_eq!(h.await, Outcome::Succeeded(i));
    }
    assert_eq!(log.lock().unwrap().len(), 50);
    assert_eq!(pool.stats().succeeded, 50);
}

#[tokio::test(start_paused = true)]
async fn a_window_of_one_keeps_the_source_order() {
    // One job in the pool at a time: the pool runs jobs exactly in the order the source gives.
    let pool = Pool::builder().workers(3).build().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let order = [5u32, 1, 4, 2, 3, 9, 0];
    let (jobs, handles): (VecDeque<_>, Vec<_>) =
        order.iter().map(|&i| logging_job(&log, i)).unzip();
    let feeder = pool.feed_window(ListSource { jobs, asked: 0 }, NonZeroUsize::MIN);
    for h in handles {
        assert!(h.await.is_success());
    }
    assert_eq!(feeder.await.unwrap().submitted, 7);
    assert_eq!(*log.lock().unwrap(), order);
}

#[tokio::test(start_paused = true)]
async fn the_channel_source_feeds_and_stops_at_shutdown() {
    let pool = Pool::builder().workers(2).build().unwrap();
    let (sender, source) = channel(4).unwrap();
    let feeder = pool.feed(source);
    let handles: Vec<_> = {
        let mut v = Vec::new();
        for i in 0..10u32 {
            v.push(sender.submit(sleep_then(5, i)).await.unwrap());
        }
        v
    };
    for (i, h) in (0..).zip(handles) {
        assert_eq!(h.await, Outcome::Succeeded(i));
    }
    let report = pool.shutdown(Duration::from_secs(1)).await;
    assert_eq!(report.in_flight(), 0);
    let fed = feeder.await.unwrap();
    assert_eq!(fed.submitted, 10);
    // The feeder stopped and dropped nothing; the source is handed back. Once it is dropped,
    // sending fails and hands the job back.
    drop(fed);
    let refused = sender.submit(sleep_then(1, 99)).await.unwrap_err();
    assert!(refused.is_shutting_down());
    assert!(channel(0).is_err());
}

/// A source that never runs dry.
struct Endless {
    made: u64,
}

impl JobSource for Endless {
    type Job = Job;
    async fn next(&mut self) -> Option<Job> {
        self.made += 1;
        Some(Job::detached(sleep_then(10, ())))
    }
}

#[tokio::test(start_paused = true)]
async fn shutdown_stops_an_endless_feeder_and_loses_nothing() {
    let pool = Pool::builder().workers(2).build().unwrap();
    let feeder = pool.feed(Endless { made: 0 });
    tokio::time::sleep(ms(95)).await;
    let report = pool.shutdown(Duration::from_secs(1)).await;
    let fed = feeder.await.unwrap();
    let refused = u64::from(fed.refused.is_some());
    // Everything the source made was submitted (and then run) or handed back.
    assert_eq!(fed.source.made, fed.submitted + refused);
    let stats = pool.stats();
    assert_eq!(stats.submitted, fed.submitted);
    assert_eq!(stats.succeeded, fed.submitted);
    assert!(
        report.succeeded > 0,
        "the window's jobs drained: {report:?}"
    );
    assert!(stats.succeeded >= 18, "{stats:?}");
}

#[tokio::test(start_paused = true)]
async fn a_feeder_waits_for_room_in_bounded_queues() {
    let pool = Pool::builder()
        .workers(1)
        .queue_capacity(1)
        .build()
        .unwrap();
    let (jobs, handles): (VecDeque<_>, Vec<_>) =
        (0..20u32).map(|i| Job::new(sleep_then(2, i))).unzip();
    let feeder = pool.feed_window(ListSource { jobs, asked: 0 }, NonZeroUsize::new(8).unwrap());
    for (i, h) in (0..).zip(handles) {
        assert_eq!(h.await, Outcome::Succeeded(i));
    }
    assert_eq!(feeder.await.unwrap().submitted, 20);
}

#[tokio::test(start_paused = true)]
async fn dropping_every_pool_handle_stops_the_feeder() {
    let pool = Pool::builder().workers(1).build().unwrap();
    let feeder = pool.feed(Endless { made: 0 });
    tokio::time::sleep(ms(30)).await;
    drop(pool);
    let fed = feeder.await.unwrap();
    assert!(fed.submitted >= 2);
}

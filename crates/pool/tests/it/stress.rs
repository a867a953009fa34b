//! Real threads: many seeded schedules of concurrent submitters, cancellations and a shutdown at a
//! random moment on a multi-thread runtime. Whatever the interleaving, every job reaches exactly
//! one outcome, the shutdown report names exactly the jobs it cancelled, and the counters add up.
//! (The paused clock needs a current-thread runtime, so these jobs yield instead of sleeping.)

use std::collections::BTreeSet;
use std::time::Duration;

use baton_pool::balance::Strategy;
use baton_pool::{JobHandle, Outcome, Pool};

/// A small deterministic generator for the schedule parameters.
struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A job that yields `yields` times, then succeeds (or fails when `yields` is odd).
async fn yielding(yields: u64) -> Result<u64, u64> {
    for _ in 0..yields {
        tokio::task::yield_now().await;
    }
    if yields.is_multiple_of(2) {
        Ok(yields)
    } else {
        Err(yields)
    }
}

fn schedule(seed: u64) {
    let mut rng = SplitMix(seed);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let workers = 1 + rng.below(3) as usize;
    let strategy = match rng.below(4) {
        0 => Strategy::RoundRobin,
        1 => Strategy::LeastLoaded,
        2 => Strategy::Weighted,
        _ => Strategy::PowerOfTwo { seed },
    };
    let stealing = rng.below(2) == 0;
    let jobs_per_submitter = 20 + rng.below(60);
    let drain = Duration::from_micros(rng.below(3) * 200);
    let job_seed = rng.next();
    rt.block_on(async move {
        let mut rng = rng;
        let pool = Pool::builder()
            .min_workers(1)
            .max_workers(workers)
            .scale_up_threshold(2)
            .strategy(strategy)
            .work_stealing(stealing)
            .build()
            .unwrap();
        let submitters: Vec<_> = (0..2u64)
            .map(|s| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    let mut rng = SplitMix(job_seed ^ s);
                    let mut handles: Vec<JobHandle<u64, u64>> = Vec::new();
                    let mut refused = 0;
                    for _ in 0..jobs_per_submitter {
                        match pool.submit(yielding(rng.below(6))) {
                            Ok(h) => handles.push(h),
                            Err(e) => {
                                assert!(e.is_shutting_down());
                                refused += 1;
                            }
                        }
                        if rng.below(8) == 0
                            && let Some(h) = handles.last()
                        {
                            h.cancel();
                        }
                        if rng.below(4) == 0 {
                            tokio::task::yield_now().await;
                        }
                    }
                    (handles, refused)
                })
            })
            .collect();
        // Shut down at a random point of the submission stream (or once it has ended).
        let shutdown_after = rng.below(2 * jobs_per_submitter + 10);
        while pool.stats().submitted < shutdown_after && !submitters.iter().all(|s| s.is_finished())
        {
            tokio::task::yield_now().await;
        }
        let report = pool.shutdown(drain).await;
        let mut accepted = 0;
        let mut cancelled = BTreeSet::new();
        let mut by_handle = 0;
        for s in submitters {
            let (handles, refused) = s.await.unwrap();
            accepted += handles.len() as u64;
            assert!(refused == 0 || !pool.is_accepting());
            for h in handles {
                let id = h.id();
                match tokio::time::timeout(Duration::from_secs(10), h).await {
                    Ok(Outcome::Cancelled) => {
                        if report.cancelled_ids.binary_search(&id).is_ok() {
                            cancelled.insert(id);
                        } else {
                            // Cancelled through its handle before the shutdown began.
                            by_handle += 1;
                        }
                    }
                    Ok(Outcome::Succeeded(_) | Outcome::Failed(_)) => {}
                    Ok(other) => panic!("seed {seed}: unexpected outcome {other:?}"),
                    Err(_) => panic!("seed {seed}: job {id} never reached an outcome"),
                }
            }
        }
        // Every id the report lists belongs to a job whose handle says Cancelled.
        assert_eq!(
            report.cancelled_ids.len(),
            cancelled.len(),
            "seed {seed}: {report:?}"
        );
        let stats = pool.stats();
        assert!(stats.adds_up(), "seed {seed}: {stats:?}");
        assert_eq!(stats.submitted, accepted, "seed {seed}");
        assert_eq!(stats.finished(), accepted, "seed {seed}: {stats:?}");
        assert_eq!((stats.running, stats.queued, stats.workers), (0, 0, 0));
        assert_eq!(
            stats.cancelled,
            cancelled.len() as u64 + by_handle,
            "seed {seed}"
        );
        assert!(report.in_flight() <= accepted);
    });
}

#[test]
fn shutdown_under_concurrent_load_across_seeded_schedules() {
    for seed in 0..1_000 {
        schedule(seed);
    }
}

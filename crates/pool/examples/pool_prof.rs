//! Profiling driver for the `pool/noop_1m` benchmark: runs N no-op detached jobs through a 2-worker
//! pool on a 2-thread runtime, R rounds, and prints the throughput of each round. Meant for
//! `valgrind --tool=callgrind` and quick A/B runs:
//! `cargo run --release -p baton-pool --example pool_prof -- [jobs] [rounds] [strategy] [steal]`
//! (strategy: rr, ll, p2c, w; steal: 1 or 0).

use std::time::Instant;

use baton_pool::Pool;
use baton_pool::balance::Strategy;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let jobs: usize = args.first().map_or(Ok(1_000_000), |s| s.parse())?;
    let rounds: usize = args.get(1).map_or(Ok(5), |s| s.parse())?;
    let strategy = match args.get(2).map(String::as_str) {
        Some("rr") => Strategy::RoundRobin,
        Some("p2c") => Strategy::PowerOfTwo { seed: 1 },
        Some("w") => Strategy::Weighted,
        _ => Strategy::LeastLoaded,
    };
    let steal = args.get(3).is_none_or(|s| s != "0");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()?;
    rt.block_on(async {
        let pool = Pool::builder()
            .workers(2)
            .strategy(strategy)
            .work_stealing(steal)
            .build()?;
        for _ in 0..rounds {
            let start = Instant::now();
            for _ in 0..jobs {
                pool.spawn_detached(async { Ok::<(), ()>(()) })?;
            }
            pool.idle().await;
            let secs = start.elapsed().as_secs_f64();
            print!("{:.2} M jobs/s  ", jobs as f64 / secs / 1e6);
        }
        println!();
        let stats = pool.stats();
        println!(
            "per worker: {:?}",
            stats.per_worker.iter().map(|w| w.jobs).collect::<Vec<_>>()
        );
        println!("queue wait {:?}", stats.queue_wait);
        Ok(())
    })
}

//! A profiling driver: runs a random DAG of no-op tasks end to end, for
//! `valgrind --tool=callgrind` or `perf record`.
//!
//! `cargo run --release -p baton-orchestrator --example orch_prof -- [tasks] [runs]`
//! (defaults: 100000 tasks, 3 runs); `PREFETCH=n` fixes the orchestrator's prefetch
//! (adaptive otherwise). `BASELINE=pool` runs the benchmark's baseline instead: as many
//! independent no-op jobs on a 2-worker pool (`spawn_detached`, then `idle`), timed the same way,
//! so that the best of many runs of each can be compared on a machine too noisy for means.

use std::time::Instant;

use baton_orchestrator::{Orchestrator, Pool, Task, Workflow};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let tasks: usize = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let runs: usize = args.next().map_or(Ok(3), |a| a.parse())?;
    let mut seed = 7_u64;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let workflow = Workflow::builder("profile")
        .tasks((0..tasks).map(|i| {
            let task = Task::new(format!("t{i}"), |_| async { Ok(()) });
            if i == 0 {
                return task;
            }
            let mut needs: Vec<u64> = (0..next(4)).map(|_| next(i as u64)).collect();
            needs.sort_unstable();
            needs.dedup();
            task.needs(needs.into_iter().map(|j| format!("t{j}")))
        }))
        .build()?;
    // `THREADS=n` sets the runtime's worker threads (2 by default, as in the benchmark).
    let threads: usize = std::env::var("THREADS").map_or(Ok(2), |t| t.parse())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_time()
        .build()?;
    if std::env::var("BASELINE").is_ok_and(|b| b == "pool") {
        return runtime.block_on(async {
            let pool = Pool::builder().workers(2).build()?;
            for _ in 0..runs {
                let start = Instant::now();
                for _ in 0..tasks {
                    pool.spawn_detached(async { Ok::<_, ()>(()) })?;
                }
                pool.idle().await;
                let took = start.elapsed();
                println!(
                    "{tasks} jobs, {took:?}: {:.0} ns per job (pool baseline)",
                    took.as_nanos() as f64 / tasks as f64
                );
            }
            Ok(())
        });
    }
    runtime.block_on(async {
        let mut builder = Orchestrator::builder().workers(2);
        if let Ok(prefetch) = std::env::var("PREFETCH") {
            builder = builder.prefetch(prefetch.parse::<usize>()?);
        }
        let orchestrator = builder.build()?;
        for _ in 0..runs {
            let start = Instant::now();
            let report = orchestrator.run(&workflow).await?;
            let took = start.elapsed();
            println!(
                "{} tasks, {:?}: {:.0} ns per task ({})",
                report.totals.tasks,
                took,
                took.as_nanos() as f64 / tasks as f64,
                report.outcome
            );
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}

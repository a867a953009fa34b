//! A profiling driver: runs a random DAG of no-op tasks end to end, for
//! `valgrind --tool=callgrind` or `perf record`.
//!
//! `cargo run --release -p baton-orchestrator --example orch_prof -- [tasks] [runs]`
//! (defaults: 100000 tasks, 3 runs); `PREFETCH=n` fixes the orchestrator's prefetch
//! (adaptive otherwise).

use std::time::Instant;

use baton_orchestrator::{Orchestrator, Task, Workflow};

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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()?;
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

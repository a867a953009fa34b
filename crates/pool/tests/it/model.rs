//! Model-based property test: random operation sequences (submit jobs that succeed, fail, panic
//! or hang past their timeout; cancel jobs before or while they run; let time pass) applied to a
//! pool on the paused clock and to a reference model, compared after every step.
//!
//! The model: a job's natural outcome is fixed by its behaviour (a hanging job times out after its
//! effective timeout); a job cancelled while its handle had no outcome yet ends `Cancelled`.
//! After each step every outcome that has arrived must equal the model's, each job must have at
//! most one, and the pool's counters must add up and never run ahead of what was submitted. At
//! the end, every job has exactly one outcome and each counter equals the model's count.

use std::time::Duration;

use baton_pool::balance::Strategy as Balancing;
use baton_pool::{JobHandle, JobOptions, Outcome, OutcomeKind, Pool};
use proptest::prelude::*;

use crate::support::{ExpectedPanic, ms, paused_runtime, quiet_expected_panics};

const DEFAULT_TIMEOUT_MS: u64 = 100;

#[derive(Debug, Clone, Copy)]
enum Behaviour {
    Succeed,
    Fail,
    Panic,
    PanicAny,
    Hang,
}

#[derive(Debug, Clone, Copy)]
enum Timeout {
    PoolDefault,
    Own(u64),
    Never,
}

#[derive(Debug, Clone, Copy)]
enum Op {
    /// Submit a job that runs `work_ms` (ending as its behaviour says) or hangs.
    Submit {
        behaviour: Behaviour,
        work_ms: u64,
        timeout: Timeout,
    },
    /// Cancel the job at this index (modulo the number submitted).
    Cancel(usize),
    /// Let this much time pass.
    Advance(u64),
}

#[derive(Debug, Clone)]
struct Setup {
    min: usize,
    max: usize,
    strategy: Balancing,
    stealing: bool,
    weights: Vec<u32>,
}

fn setup() -> impl Strategy<Value = Setup> {
    (1usize..=3, 0usize..=2, 0u8..4, any::<bool>(), any::<u64>()).prop_flat_map(
        |(max, below, strategy, stealing, seed)| {
            let strategy = match strategy {
                0 => Balancing::RoundRobin,
                1 => Balancing::LeastLoaded,
                2 => Balancing::Weighted,
                _ => Balancing::PowerOfTwo { seed },
            };
            proptest::collection::vec(1u32..4, max).prop_map(move |weights| Setup {
                min: max.saturating_sub(below),
                max,
                strategy,
                stealing,
                weights,
            })
        },
    )
}

fn op() -> impl Strategy<Value = Op> {
    let behaviour = prop_oneof![
        4 => Just(Behaviour::Succeed),
        2 => Just(Behaviour::Fail),
        1 => Just(Behaviour::Panic),
        1 => Just(Behaviour::PanicAny),
        2 => Just(Behaviour::Hang),
    ];
    // Work ends well before any timeout (at least 60 ms), so natural outcomes do not race them.
    let timeout = prop_oneof![
        2 => Just(Timeout::PoolDefault),
        1 => (60u64..200).prop_map(Timeout::Own),
        1 => Just(Timeout::Never),
    ];
    prop_oneof![
        6 => (behaviour, 0u64..40, timeout).prop_map(|(behaviour, work_ms, timeout)| Op::Submit {
            behaviour,
            work_ms,
            timeout,
        }),
        2 => any::<usize>().prop_map(Op::Cancel),
        3 => (0u64..80).prop_map(Op::Advance),
    ]
}

/// What the model knows of one job.
struct Modelled {
    natural: Outcome<u32, u32>,
    cancelled: bool,
    seen: Option<Outcome<u32, u32>>,
    handle: JobHandle<u32, u32>,
}

impl Modelled {
    fn expected(&self) -> Outcome<u32, u32> {
        if self.cancelled {
            Outcome::Cancelled
        } else {
            self.natural.clone()
        }
    }
}

fn effective_timeout(behaviour: Behaviour, timeout: Timeout) -> (Option<u64>, JobOptions) {
    let opts = JobOptions::new();
    match (behaviour, timeout) {
        // A job that hangs with no timeout at all would never end: give it the pool's default.
        (Behaviour::Hang, Timeout::Never) | (_, Timeout::PoolDefault) => {
            (Some(DEFAULT_TIMEOUT_MS), opts)
        }
        (_, Timeout::Own(t)) => (Some(t), opts.timeout(ms(t)).expect("positive")),
        (_, Timeout::Never) => (None, opts.no_timeout()),
    }
}

fn submit(pool: &Pool, tag: u32, behaviour: Behaviour, work_ms: u64, timeout: Timeout) -> Modelled {
    let (effective, opts) = effective_timeout(behaviour, timeout);
    let natural = match behaviour {
        Behaviour::Succeed => Outcome::Succeeded(tag),
        Behaviour::Fail => Outcome::Failed(tag),
        Behaviour::Panic => Outcome::Panicked(format!("expected panic in job {tag}")),
        Behaviour::PanicAny => Outcome::Panicked("Box<dyn Any>".into()),
        Behaviour::Hang => Outcome::TimedOut(ms(effective.expect("hanging jobs have a timeout"))),
    };
    let handle = pool
        .submit_with(opts, async move {
            if work_ms > 0 {
                tokio::time::sleep(ms(work_ms)).await;
            }
            match behaviour {
                Behaviour::Succeed => Ok(tag),
                Behaviour::Fail => Err(tag),
                Behaviour::Panic => panic!("expected panic in job {tag}"),
                Behaviour::PanicAny => std::panic::panic_any(ExpectedPanic),
                Behaviour::Hang => std::future::pending().await,
            }
        })
        .expect("the pool accepts jobs");
    Modelled {
        natural,
        cancelled: false,
        seen: None,
        handle,
    }
}

/// Takes every outcome that arrived and checks it, and checks the counters.
fn check(pool: &Pool, jobs: &mut [Modelled]) -> Result<(), TestCaseError> {
    for (i, job) in jobs.iter_mut().enumerate() {
        if let Some(outcome) = job.handle.try_outcome() {
            prop_assert!(job.seen.is_none(), "job {i} reached a second outcome");
            prop_assert_eq!(&outcome, &job.expected(), "job {}", i);
            job.seen = Some(outcome);
        }
    }
    let stats = pool.stats();
    prop_assert!(stats.adds_up(), "{:?}", stats);
    prop_assert_eq!(stats.submitted, jobs.len() as u64);
    // A handle resolves only after its job is counted (jobs cancelled while waiting excepted:
    // they resolve at once and are counted when their worker discards them).
    let seen = |kind| {
        jobs.iter()
            .filter(|j| j.seen.as_ref().is_some_and(|o| o.kind() == kind))
            .count() as u64
    };
    prop_assert!(stats.succeeded >= seen(OutcomeKind::Succeeded));
    prop_assert!(stats.failed >= seen(OutcomeKind::Failed));
    prop_assert!(stats.panicked >= seen(OutcomeKind::Panicked));
    prop_assert!(stats.timed_out >= seen(OutcomeKind::TimedOut));
    prop_assert!(stats.workers >= stats.min_workers && stats.workers <= stats.max_workers);
    Ok(())
}

fn run(setup: &Setup, ops: &[Op]) -> Result<(), TestCaseError> {
    quiet_expected_panics();
    paused_runtime().block_on(async {
        let pool = Pool::builder()
            .min_workers(setup.min)
            .max_workers(setup.max)
            .scale_up_threshold(1)
            .idle_timeout(ms(30))
            .default_timeout(ms(DEFAULT_TIMEOUT_MS))
            .strategy(setup.strategy)
            .weights(setup.weights.iter().copied())
            .work_stealing(setup.stealing)
            .build()
            .expect("a valid configuration");
        let mut jobs: Vec<Modelled> = Vec::new();
        for op in ops {
            match *op {
                Op::Submit {
                    behaviour,
                    work_ms,
                    timeout,
                } => {
                    let tag = jobs.len() as u32;
                    jobs.push(submit(&pool, tag, behaviour, work_ms, timeout));
                }
                Op::Cancel(k) if !jobs.is_empty() => {
                    let n = jobs.len();
                    let job = &mut jobs[k % n];
                    // Cancelling changes the outcome only if there is none yet.
                    if !job.handle.is_finished() {
                        job.cancelled = true;
                    }
                    job.handle.cancel();
                }
                Op::Cancel(_) => {}
                Op::Advance(t) => tokio::time::sleep(ms(t)).await,
            }
            tokio::task::yield_now().await;
            check(&pool, &mut jobs)?;
        }
        // Let everything end: the longest job is 40 ms of work or a 200 ms timeout, queued
        // behind at most every other job.
        tokio::time::sleep(Duration::from_secs(60)).await;
        pool.idle().await;
        check(&pool, &mut jobs)?;
        for (i, job) in jobs.iter().enumerate() {
            prop_assert!(job.seen.is_some(), "job {} never reached an outcome", i);
        }
        let stats = pool.stats();
        let count = |kind| jobs.iter().filter(|j| j.expected().kind() == kind).count() as u64;
        prop_assert_eq!(stats.succeeded, count(OutcomeKind::Succeeded));
        prop_assert_eq!(stats.failed, count(OutcomeKind::Failed));
        prop_assert_eq!(stats.panicked, count(OutcomeKind::Panicked));
        prop_assert_eq!(stats.timed_out, count(OutcomeKind::TimedOut));
        prop_assert_eq!(stats.cancelled, count(OutcomeKind::Cancelled));
        prop_assert_eq!((stats.running, stats.queued), (0, 0));
        let per_worker: u64 = stats.per_worker.iter().map(|w| w.jobs).sum();
        prop_assert_eq!(per_worker, jobs.len() as u64);
        prop_assert_eq!(
            stats.workers,
            setup.min,
            "idle pools shrink to their minimum"
        );

        // Shutdown of the idle pool: nothing in flight.
        let report = pool.shutdown(ms(10)).await;
        prop_assert_eq!(report.in_flight(), 0);
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn pool_matches_model(setup in setup(), ops in proptest::collection::vec(op(), 1..60)) {
        run(&setup, &ops)?;
    }
}

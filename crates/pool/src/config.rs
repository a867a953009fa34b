//! [`PoolBuilder`]: a pool's settings, checked at `build`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle;

use crate::balance::{Balancer, Strategy};
use crate::error::ConfigError;
use crate::inner::{Config, Core};
use crate::pool::Pool;

/// Builds a [`Pool`]. Every setting has a default; [`build`](PoolBuilder::build) checks them all
/// and returns a [`ConfigError`] naming the first bad one.
///
/// | setting | default |
/// | --- | --- |
/// | [`min_workers`](PoolBuilder::min_workers) | 1 |
/// | [`max_workers`](PoolBuilder::max_workers) | the machine's available parallelism |
/// | [`idle_timeout`](PoolBuilder::idle_timeout) | 10 s |
/// | [`scale_up_threshold`](PoolBuilder::scale_up_threshold) | 4 waiting jobs |
/// | [`default_timeout`](PoolBuilder::default_timeout) | none |
/// | [`queue_capacity`](PoolBuilder::queue_capacity) | unbounded |
/// | [`strategy`](PoolBuilder::strategy) | [`Strategy::LeastLoaded`] |
/// | [`weights`](PoolBuilder::weights) | 1 for every worker |
/// | [`work_stealing`](PoolBuilder::work_stealing) | on |
/// | [`runtime`](PoolBuilder::runtime) | the runtime `build` is called in |
///
/// The runtime must have timers enabled (`enable_time` or `enable_all`, as `#[tokio::main]` does).
///
/// ```
/// use std::time::Duration;
/// use baton_pool::{ConfigError, Pool};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), ConfigError> {
/// let pool = Pool::builder()
///     .min_workers(1)
///     .max_workers(8)
///     .idle_timeout(Duration::from_secs(30))
///     .scale_up_threshold(2)
///     .default_timeout(Duration::from_secs(60))
///     .build()?;
/// assert_eq!(pool.stats().max_workers, 8);
///
/// let bad = Pool::builder().min_workers(4).max_workers(2).build();
/// assert_eq!(bad.unwrap_err(), ConfigError::MinAboveMax { min: 4, max: 2 });
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct PoolBuilder {
    min_workers: usize,
    max_workers: usize,
    idle_timeout: Duration,
    scale_up_threshold: usize,
    default_timeout: Option<Duration>,
    queue_capacity: Option<usize>,
    weights: Vec<u32>,
    balancer: Option<Arc<dyn Balancer>>,
    strategy: Strategy,
    work_stealing: bool,
    runtime: Option<Handle>,
}

impl Default for PoolBuilder {
    fn default() -> Self {
        Self {
            min_workers: 1,
            max_workers: std::thread::available_parallelism().map_or(4, usize::from),
            idle_timeout: Duration::from_secs(10),
            scale_up_threshold: 4,
            default_timeout: None,
            queue_capacity: None,
            weights: Vec::new(),
            balancer: None,
            strategy: Strategy::default(),
            work_stealing: true,
            runtime: None,
        }
    }
}

impl PoolBuilder {
    /// A builder with the defaults (same as [`Pool::builder`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Workers kept even when idle. `build` starts up to 64 of them; the others start when a job
    /// finds every started worker with work, so a large minimum costs nothing until work needs
    /// it (no slot is allocated and no worker polled for it before). May be 0: the first job
    /// then starts one.
    pub fn min_workers(mut self, n: usize) -> Self {
        self.min_workers = n;
        self
    }

    /// The most workers, hence the most jobs running at once. At least 1, at least `min_workers`.
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = n;
        self
    }

    /// A fixed number of workers: `min_workers = max_workers = n`.
    pub fn workers(self, n: usize) -> Self {
        self.min_workers(n).max_workers(n)
    }

    /// How long the last worker above the minimum stays idle before it exits. Positive.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// A worker is added (up to the maximum) when a job joins a queue holding at least this many
    /// waiting jobs while every worker is busy. At least 1.
    pub fn scale_up_threshold(mut self, waiting: usize) -> Self {
        self.scale_up_threshold = waiting;
        self
    }

    /// The timeout of jobs that set none ([`JobOptions`](crate::JobOptions) overrides it).
    /// Positive.
    pub fn default_timeout(mut self, timeout: Duration) -> Self {
        self.default_timeout = Some(timeout);
        self
    }

    /// Bounds each worker's queue to `capacity` waiting jobs: a submit that finds every queue full
    /// fails with [`SubmitError::Full`](crate::SubmitError::Full), handing the job back, and a
    /// feeder waits for room. At least 1. Unbounded by default.
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = Some(capacity);
        self
    }

    /// Per-worker weights for [`Strategy::Weighted`] and [`Strategy::LeastLoaded`]: worker `i`
    /// gets `weights[i]`, workers past the list get 1. Each at least 1, at most `max_workers` of
    /// them.
    pub fn weights(mut self, weights: impl IntoIterator<Item = u32>) -> Self {
        self.weights = weights.into_iter().collect();
        self
    }

    /// One of the built-in balancing strategies.
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self.balancer = None;
        self
    }

    /// A balancer of your own (replaces [`strategy`](PoolBuilder::strategy)).
    pub fn balancer(mut self, balancer: impl Balancer + 'static) -> Self {
        self.balancer = Some(Arc::new(balancer));
        self
    }

    /// Whether a worker with an empty queue takes the older half of a sibling's queue (on by
    /// default). Turn it off to see exactly what the balancer decides.
    pub fn work_stealing(mut self, on: bool) -> Self {
        self.work_stealing = on;
        self
    }

    /// The runtime the workers run on (default: the one `build` is called in).
    pub fn runtime(mut self, handle: Handle) -> Self {
        self.runtime = Some(handle);
        self
    }

    fn validate(&self) -> Result<Config, ConfigError> {
        if self.max_workers == 0 {
            return Err(ConfigError::ZeroMaxWorkers);
        }
        if self.min_workers > self.max_workers {
            return Err(ConfigError::MinAboveMax {
                min: self.min_workers,
                max: self.max_workers,
            });
        }
        if self.idle_timeout.is_zero() {
            return Err(ConfigError::ZeroDuration {
                field: "idle_timeout",
            });
        }
        if self.default_timeout.is_some_and(|t| t.is_zero()) {
            return Err(ConfigError::ZeroDuration {
                field: "default_timeout",
            });
        }
        if self.scale_up_threshold == 0 {
            return Err(ConfigError::ZeroCount {
                field: "scale_up_threshold",
            });
        }
        if self.queue_capacity == Some(0) {
            return Err(ConfigError::ZeroCount {
                field: "queue_capacity",
            });
        }
        if self.weights.len() > self.max_workers {
            return Err(ConfigError::TooManyWeights {
                given: self.weights.len(),
                max: self.max_workers,
            });
        }
        if let Some(index) = self.weights.iter().position(|&w| w == 0) {
            return Err(ConfigError::ZeroWeight { index });
        }
        Ok(Config {
            min_workers: self.min_workers,
            max_workers: self.max_workers,
            idle_timeout: self.idle_timeout,
            scale_up_threshold: self.scale_up_threshold,
            default_timeout: self.default_timeout,
            queue_capacity: self.queue_capacity,
            work_stealing: self.work_stealing,
        })
    }

    /// Checks the settings and starts the pool with `min_workers` workers.
    pub fn build(self) -> Result<Pool, ConfigError> {
        let config = self.validate()?;
        let runtime = match self.runtime {
            Some(handle) => handle,
            None => Handle::try_current().map_err(|_| ConfigError::NoRuntime)?,
        };
        if !has_timers(&runtime) {
            return Err(ConfigError::NoTimers);
        }
        let balancer = self.balancer.unwrap_or_else(|| self.strategy.balancer());
        Ok(Pool::from_core(Core::new(
            config,
            &self.weights,
            balancer,
            runtime,
        )))
    }
}

/// Whether `runtime` has a time driver. Tokio offers no query, and creating a timer without one
/// panics, so a worker would die on its first timeout: probe once here instead.
fn has_timers(runtime: &Handle) -> bool {
    let _inside = runtime.enter();
    std::panic::catch_unwind(|| drop(tokio::time::sleep(Duration::ZERO))).is_ok()
}

impl fmt::Debug for PoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolBuilder")
            .field("min_workers", &self.min_workers)
            .field("max_workers", &self.max_workers)
            .field("idle_timeout", &self.idle_timeout)
            .field("scale_up_threshold", &self.scale_up_threshold)
            .field("default_timeout", &self.default_timeout)
            .field("queue_capacity", &self.queue_capacity)
            .field("weights", &self.weights)
            .field("balancer", &self.balancer)
            .field("strategy", &self.strategy)
            .field("work_stealing", &self.work_stealing)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(b: PoolBuilder) -> ConfigError {
        b.validate().unwrap_err()
    }

    #[test]
    fn every_bad_setting_is_named() {
        let b = PoolBuilder::new;
        assert_eq!(err(b().max_workers(0)), ConfigError::ZeroMaxWorkers);
        assert_eq!(
            err(b().min_workers(3).max_workers(2)),
            ConfigError::MinAboveMax { min: 3, max: 2 }
        );
        assert_eq!(
            err(b().idle_timeout(Duration::ZERO)),
            ConfigError::ZeroDuration {
                field: "idle_timeout"
            }
        );
        assert_eq!(
            err(b().default_timeout(Duration::ZERO)),
            ConfigError::ZeroDuration {
                field: "default_timeout"
            }
        );
        assert_eq!(
            err(b().scale_up_threshold(0)),
            ConfigError::ZeroCount {
                field: "scale_up_threshold"
            }
        );
        assert_eq!(
            err(b().queue_capacity(0)),
            ConfigError::ZeroCount {
                field: "queue_capacity"
            }
        );
        assert_eq!(
            err(b().max_workers(2).weights([1, 2, 3])),
            ConfigError::TooManyWeights { given: 3, max: 2 }
        );
        assert_eq!(
            err(b().max_workers(3).weights([1, 0])),
            ConfigError::ZeroWeight { index: 1 }
        );
    }

    #[test]
    fn defaults_are_valid() {
        let config = PoolBuilder::new().validate().unwrap();
        assert_eq!(config.min_workers, 1);
        assert!(config.max_workers >= 1);
        assert!(config.work_stealing);
        assert_eq!(config.default_timeout, None);
        let fixed = PoolBuilder::new().workers(3).validate().unwrap();
        assert_eq!((fixed.min_workers, fixed.max_workers), (3, 3));
        assert!(format!("{:?}", PoolBuilder::new()).contains("LeastLoaded"));
    }

    #[test]
    fn a_runtime_without_timers_is_refused() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let built = PoolBuilder::new().runtime(rt.handle().clone()).build();
        assert_eq!(built.unwrap_err(), ConfigError::NoTimers);
    }

    #[test]
    fn build_outside_a_runtime_is_an_error() {
        assert_eq!(
            PoolBuilder::new().build().unwrap_err(),
            ConfigError::NoRuntime
        );
    }
}

//! Errors: invalid configuration ([`ConfigError`]), refused submissions ([`SubmitError`], which
//! hands the job back) and jobs that did not succeed ([`JobError`]).

use std::fmt;
use std::time::Duration;

use crate::job::JobId;

/// A pool or job setting that cannot be used: raised by
/// [`PoolBuilder::build`](crate::PoolBuilder::build), by
/// [`JobOptions::timeout`](crate::JobOptions::timeout) and by [`channel`](crate::channel).
///
/// Every variant names the setting (with the builder method's spelling) and the value given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `max_workers` is zero.
    #[error("`max_workers` is 0: a pool needs at least one worker")]
    ZeroMaxWorkers,
    /// `min_workers` is above `max_workers`.
    #[error("`min_workers` ({min}) is above `max_workers` ({max})")]
    MinAboveMax {
        /// The minimum given.
        min: usize,
        /// The maximum given.
        max: usize,
    },
    /// A duration that must be positive is zero (`idle_timeout`, `default_timeout`, a job's
    /// `timeout`).
    #[error("`{field}` is 0s: give a positive duration")]
    ZeroDuration {
        /// The setting, e.g. `"idle_timeout"`.
        field: &'static str,
    },
    /// A count that must be positive is zero (`scale_up_threshold`, `queue_capacity`, a channel's
    /// `capacity`).
    #[error("`{field}` is 0: it must be at least 1")]
    ZeroCount {
        /// The setting, e.g. `"queue_capacity"`.
        field: &'static str,
    },
    /// A worker weight is zero.
    #[error("`weights[{index}]` is 0: a worker's weight must be at least 1")]
    ZeroWeight {
        /// The position of the zero weight in the list given.
        index: usize,
    },
    /// More weights than workers.
    #[error("`weights` lists {given} workers but `max_workers` is {max}")]
    TooManyWeights {
        /// How many weights were given.
        given: usize,
        /// The maximum number of workers.
        max: usize,
    },
    /// The runtime has no timer (`enable_time` was not called on its builder): the pool needs
    /// one for timeouts, idle scaling and drain deadlines.
    #[error(
        "the tokio runtime has timers disabled: call `enable_time` (or `enable_all`) on its builder"
    )]
    NoTimers,
    /// `build` was called outside a tokio runtime and no runtime handle was given.
    #[error(
        "no tokio runtime: call `build` inside a runtime or pass one with `PoolBuilder::runtime`"
    )]
    NoRuntime,
}

/// A job the pool did not accept. The job is handed back, never dropped: take it with
/// [`into_job`](SubmitError::into_job) to run it elsewhere or resubmit it later.
///
/// `J` is what was submitted: the future for [`Pool::submit`](crate::Pool::submit), the closure
/// for [`Pool::submit_blocking`](crate::Pool::submit_blocking), the [`Job`](crate::Job) for
/// [`Pool::submit_job`](crate::Pool::submit_job). Debug and Display do not require `J: Debug`.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError<J> {
    /// The pool is shutting down (or was shut down) and takes no new jobs.
    #[error("the pool is shutting down and accepts no new jobs (the job is handed back)")]
    ShuttingDown {
        /// The job, untouched.
        job: J,
    },
    /// Every worker's queue holds `capacity` waiting jobs (see
    /// [`PoolBuilder::queue_capacity`](crate::PoolBuilder::queue_capacity)).
    #[error(
        "every worker queue is full ({capacity} waiting jobs each); the job is handed back: \
         retry later or feed the pool from a source"
    )]
    Full {
        /// The job, untouched.
        job: J,
        /// The per-worker queue capacity that was reached.
        capacity: usize,
    },
}

impl<J> SubmitError<J> {
    /// The job that was refused.
    pub fn into_job(self) -> J {
        match self {
            Self::ShuttingDown { job } | Self::Full { job, .. } => job,
        }
    }

    /// A reference to the job that was refused.
    pub fn job(&self) -> &J {
        match self {
            Self::ShuttingDown { job } | Self::Full { job, .. } => job,
        }
    }

    /// True when the pool refused the job because it is shutting down.
    pub fn is_shutting_down(&self) -> bool {
        matches!(self, Self::ShuttingDown { .. })
    }

    /// The same error carrying `f(job)`.
    pub fn map<K>(self, f: impl FnOnce(J) -> K) -> SubmitError<K> {
        match self {
            Self::ShuttingDown { job } => SubmitError::ShuttingDown { job: f(job) },
            Self::Full { job, capacity } => SubmitError::Full {
                job: f(job),
                capacity,
            },
        }
    }
}

impl<J> fmt::Debug for SubmitError<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ShuttingDown { .. } => f.write_str("ShuttingDown { .. }"),
            Self::Full { capacity, .. } => f
                .debug_struct("Full")
                .field("capacity", capacity)
                .finish_non_exhaustive(),
        }
    }
}

/// Why a job did not succeed: the error side of [`Outcome::into_result`](crate::Outcome::into_result)
/// and [`JobHandle::join`](crate::JobHandle::join). Each variant names the job.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JobError<E> {
    /// The job returned `Err(error)`.
    #[error("job {id} failed: {error}")]
    Failed {
        /// The job.
        id: JobId,
        /// The job's own error.
        error: E,
    },
    /// The job panicked; `message` is the panic's `&str` or `String` payload (`"Box<dyn Any>"`
    /// otherwise).
    #[error("job {id} panicked: {message}")]
    Panicked {
        /// The job.
        id: JobId,
        /// The panic message.
        message: String,
    },
    /// The job ran past its timeout and its future was dropped.
    #[error("job {id} timed out after {after:?}")]
    TimedOut {
        /// The job.
        id: JobId,
        /// The timeout that expired.
        after: Duration,
    },
    /// The job was cancelled (through its handle, or by a shutdown) before it finished.
    #[error("job {id} was cancelled")]
    Cancelled {
        /// The job.
        id: JobId,
    },
}

impl<E> JobError<E> {
    /// The job this error is about.
    pub fn id(&self) -> JobId {
        match self {
            Self::Failed { id, .. }
            | Self::Panicked { id, .. }
            | Self::TimedOut { id, .. }
            | Self::Cancelled { id } => *id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_setting_and_value() {
        let e = ConfigError::MinAboveMax { min: 4, max: 2 };
        assert_eq!(
            e.to_string(),
            "`min_workers` (4) is above `max_workers` (2)"
        );
        let e = ConfigError::ZeroDuration {
            field: "idle_timeout",
        };
        assert!(e.to_string().contains("`idle_timeout` is 0s"));
        let e = ConfigError::ZeroWeight { index: 3 };
        assert!(e.to_string().contains("weights[3]"));
    }

    #[test]
    fn submit_error_hands_the_job_back_without_debug_bound() {
        struct NotDebug(u32);
        let e = SubmitError::ShuttingDown { job: NotDebug(7) };
        assert!(e.is_shutting_down());
        assert_eq!(format!("{e:?}"), "ShuttingDown { .. }");
        assert!(e.to_string().contains("shutting down"));
        assert_eq!(e.map(|j| j.0 + 1).into_job(), 8);
        let full = SubmitError::Full {
            job: NotDebug(1),
            capacity: 16,
        };
        assert!(!full.is_shutting_down());
        assert!(full.to_string().contains("16 waiting jobs"));
        assert_eq!(full.job().0, 1);
        let boxed: Box<dyn std::error::Error> = Box::new(SubmitError::ShuttingDown { job: () });
        assert!(boxed.to_string().contains("handed back"));
    }

    #[test]
    fn job_error_names_the_job() {
        let e: JobError<&str> = JobError::Failed {
            id: JobId::from_raw(5),
            error: "disk full",
        };
        assert_eq!(e.to_string(), "job #5 failed: disk full");
        assert_eq!(e.id(), JobId::from_raw(5));
        let e: JobError<&str> = JobError::TimedOut {
            id: JobId::from_raw(2),
            after: Duration::from_millis(10),
        };
        assert_eq!(e.to_string(), "job #2 timed out after 10ms");
    }
}

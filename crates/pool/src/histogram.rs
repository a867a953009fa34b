//! A fixed-bucket, log-linear latency histogram written by one thread and read by any.
//!
//! Values are nanoseconds. Below 8 ns each value has its own bucket; above, every power of two is
//! split into 8 linear sub-buckets, so a bucket's width is at most 1/8 of its lower bound and a
//! reported quantile is within 12.5% of the true value (the maximum is exact). Values from 2^45 ns
//! (about 9.8 hours) up share the last bucket. Recording is a bucket computation (a
//! `leading_zeros`) and two plain atomic stores, no read-modify-write and no lock: each pool worker
//! records into its own histogram, and [`PoolStats`](crate::PoolStats) merges them.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

const SUB_BITS: u32 = 3;
const SUB: usize = 1 << SUB_BITS;
/// Exponent of the first value that lands in the overflow (last) bucket.
const MAX_EXP: u32 = 45;
const BUCKETS: usize = SUB + (MAX_EXP - SUB_BITS) as usize * SUB;

/// The bucket of a value.
fn bucket(v: u64) -> usize {
    if v < SUB as u64 {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros();
    if exp >= MAX_EXP {
        return BUCKETS - 1;
    }
    let shift = exp - SUB_BITS;
    let sub = (v >> shift) as usize & (SUB - 1);
    SUB + shift as usize * SUB + sub
}

/// The largest value that lands in bucket `b`.
fn upper_bound(b: usize) -> u64 {
    if b < SUB {
        return b as u64;
    }
    if b == BUCKETS - 1 {
        return u64::MAX;
    }
    let shift = ((b - SUB) / SUB) as u32;
    let sub = ((b - SUB) % SUB) as u64;
    ((SUB as u64 + sub) << shift) + ((1u64 << shift) - 1)
}

/// A latency histogram with a single writer.
#[derive(Debug)]
pub(crate) struct Histogram {
    buckets: Box<[AtomicU64]>,
    max: AtomicU64,
}

impl Histogram {
    pub(crate) fn new() -> Self {
        Self {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            max: AtomicU64::new(0),
        }
    }

    /// Records one value, in nanoseconds. Only one thread may record into a histogram at a time
    /// (the writes are plain load + store, so concurrent writers would lose counts); readers may
    /// run any time.
    pub(crate) fn record(&self, v: u64) {
        let b = &self.buckets[bucket(v)];
        b.store(b.load(Relaxed) + 1, Relaxed);
        if v > self.max.load(Relaxed) {
            self.max.store(v, Relaxed);
        }
    }

    /// Adds this histogram's counts into `into`.
    pub(crate) fn merge_into(&self, into: &mut Merged) {
        for (sum, b) in into.buckets.iter_mut().zip(self.buckets.iter()) {
            *sum += b.load(Relaxed);
        }
        into.max = into.max.max(self.max.load(Relaxed));
    }
}

/// Several histograms added together, ready to summarise.
#[derive(Debug, Clone)]
pub(crate) struct Merged {
    buckets: Vec<u64>,
    max: u64,
}

impl Merged {
    pub(crate) fn new() -> Self {
        Self {
            buckets: vec![0; BUCKETS],
            max: 0,
        }
    }

    pub(crate) fn summary(&self) -> LatencySummary {
        let count: u64 = self.buckets.iter().sum();
        let quantile = |q: f64| -> Duration {
            if count == 0 {
                return Duration::ZERO;
            }
            // The rank of the q-quantile among `count` values, 1-based.
            let rank = ((q * count as f64).ceil() as u64).clamp(1, count);
            let mut seen = 0;
            for (b, &n) in self.buckets.iter().enumerate() {
                seen += n;
                if seen >= rank {
                    return Duration::from_nanos(upper_bound(b).min(self.max));
                }
            }
            Duration::from_nanos(self.max)
        };
        LatencySummary {
            count,
            p50: quantile(0.50),
            p90: quantile(0.90),
            p99: quantile(0.99),
            max: Duration::from_nanos(self.max),
        }
    }
}

/// A summary of a latency distribution (queue wait or run time) in
/// [`PoolStats`](crate::PoolStats). Quantiles are the upper bounds of the histogram buckets they
/// fall in (within 12.5% of the true value, never above the maximum); `max` is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct LatencySummary {
    /// How many values were recorded.
    pub count: u64,
    /// Median.
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Largest value recorded.
    pub max: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_monotonic() {
        let mut last = 0;
        for v in (0..100_000u64).chain([1 << 30, (1 << 30) + 1, u64::MAX / 2, u64::MAX]) {
            let b = bucket(v);
            assert!(b >= last || v >= 100_000, "value {v}");
            assert!(v <= upper_bound(b), "value {v} above its bucket's bound");
            if b > 0 && b < BUCKETS - 1 {
                assert!(v > upper_bound(b - 1), "value {v} fits the previous bucket");
            }
            last = b;
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn relative_error_is_at_most_an_eighth() {
        for v in [9u64, 100, 1_000, 12_345, 999_999, 1 << 40] {
            let ub = upper_bound(bucket(v));
            assert!((ub - v) as f64 <= v as f64 / 8.0, "{v} -> {ub}");
        }
    }

    #[test]
    fn summary_reports_quantiles_and_exact_max() {
        let h = Histogram::new();
        for us in 1..=100u64 {
            h.record(us * 1_000);
        }
        let mut m = Merged::new();
        h.merge_into(&mut m);
        let s = m.summary();
        assert_eq!(s.count, 100);
        assert_eq!(s.max, Duration::from_micros(100));
        let within = |got: Duration, want_us: u64| {
            let want = Duration::from_micros(want_us);
            assert!(got >= want && got <= want + want / 8, "{got:?} vs {want:?}");
        };
        within(s.p50, 50);
        within(s.p90, 90);
        within(s.p99, 99);
    }

    #[test]
    fn merging_adds_counts() {
        let (a, b) = (Histogram::new(), Histogram::new());
        a.record(1_000_000);
        b.record(3_000_000);
        b.record(100_000 * 1_000_000_000); // overflow bucket
        let mut m = Merged::new();
        a.merge_into(&mut m);
        b.merge_into(&mut m);
        let s = m.summary();
        assert_eq!(s.count, 3);
        assert_eq!(s.max, Duration::from_secs(100_000));
        assert_eq!(s.p99, Duration::from_secs(100_000));
        assert_eq!(Merged::new().summary(), LatencySummary::default());
    }
}

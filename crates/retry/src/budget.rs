//! [`RetryBudget`]: caps retries to a share of calls over a sliding window, so that a failing
//! dependency cannot cause a retry storm.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::error::BudgetError;

/// Buckets in the sliding window.
const SLOTS: usize = 10;
/// Units a retry withdraws; a call deposits `ratio × UNIT` of them (so the ratio's resolution is
/// 0.1%).
const UNIT: i32 = 1000;
/// How far ahead of a writer's epoch a slot's epoch may be for the writer to be the stale one.
const STALE: u32 = 1 << 16;

/// A retry budget in the manner of Finagle's `RetryBudget` and tower's `TpsBudget`: every call
/// deposits `ratio` of a retry, every retry withdraws one, and a reserve allows `min_per_sec` retries
/// per second whatever the traffic. Deposits and withdrawals expire after `ttl` (a sliding window of
/// ten buckets), so the budget follows the recent success rate.
///
/// With `ratio = 0.1`, at most about 10% of calls are retried once the reserve is spent: 1,000 calls
/// to a dependency that always fails make at most `100 + min_per_sec × ttl` retries in a window,
/// instead of `1,000 × (attempts − 1)`.
///
/// Thread-safe and lock-free: each operation is a clock read, a few relaxed atomic loads and one
/// or two compare-and-swaps. Time comes from tokio's clock (`tokio::time::Instant`), so tests can
/// pause and advance it. Racing withdrawals never take more than the budget holds (a race may
/// refuse a retry instead). Share one budget between spawned tasks with an `Arc`; a [`Policy`] is
/// `Copy`, so each task can own its copy:
///
/// ```
/// use std::{sync::Arc, time::Duration};
/// use baton_retry::{retry, Policy, RetryBudget};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let budget = Arc::new(RetryBudget::builder().ratio(0.2).build()?);
/// let policy = Policy::fixed(Duration::from_millis(100)).attempts(3).build()?;
/// let task = tokio::spawn({
///     let budget = Arc::clone(&budget);
///     async move {
///         retry(&policy, || async { Ok::<_, std::io::Error>(42) })
///             .budget(&budget)
///             .run()
///             .await
///     }
/// });
/// assert_eq!(task.await?.map(|s| s.value)?, 42);
/// # Ok(())
/// # }
/// ```
///
/// [`Policy`]: crate::Policy
///
/// ```
/// use std::time::Duration;
/// use baton_retry::RetryBudget;
///
/// let budget = RetryBudget::builder()
///     .ratio(0.5)
///     .min_per_sec(0)
///     .ttl(Duration::from_secs(10))
///     .build()?;
/// budget.deposit();
/// budget.deposit();
/// assert!(budget.try_withdraw()); // two calls pay for one retry
/// assert!(!budget.try_withdraw());
/// # Ok::<(), baton_retry::BudgetError>(())
/// ```
pub struct RetryBudget {
    /// Per bucket: the bucket's epoch (high 32 bits) and its balance in units (low 32 bits).
    slots: [AtomicU64; SLOTS],
    start: Instant,
    slot_nanos: u64,
    deposit: i32,
    reserve: i64,
    ratio: f64,
    min_per_sec: u32,
    ttl: Duration,
}

fn pack(epoch: u32, units: i32) -> u64 {
    (u64::from(epoch) << 32) | u64::from(units as u32)
}

fn unpack(slot: u64) -> (u32, i32) {
    ((slot >> 32) as u32, slot as u32 as i32)
}

impl RetryBudget {
    /// The shortest `ttl` accepted.
    pub const MIN_TTL: Duration = Duration::from_secs(1);
    /// The longest `ttl` accepted.
    pub const MAX_TTL: Duration = Duration::from_secs(3600);

    /// A builder with tower's defaults: `ratio` 0.2, `min_per_sec` 10, `ttl` 10 s.
    ///
    /// ```
    /// use baton_retry::RetryBudget;
    ///
    /// let budget = RetryBudget::builder().ratio(0.1).build()?;
    /// assert_eq!(budget.ratio(), 0.1);
    /// assert_eq!(budget.available(), 100); // the reserve: 10 per second over 10 s
    /// # Ok::<(), baton_retry::BudgetError>(())
    /// ```
    pub fn builder() -> RetryBudgetBuilder {
        RetryBudgetBuilder::default()
    }

    /// Records a call (not a retry): adds `ratio` of a retry to the budget.
    pub fn deposit(&self) {
        if self.deposit > 0 {
            self.add(self.epoch(), self.deposit);
        }
    }

    /// Asks for a retry: `true` (and the retry is withdrawn) if the budget has one.
    ///
    /// ```
    /// use baton_retry::RetryBudget;
    ///
    /// let budget = RetryBudget::builder().ratio(0.0).min_per_sec(1).build()?;
    /// let granted = (0..100).filter(|_| budget.try_withdraw()).count();
    /// assert_eq!(granted, 10); // 1 per second over the 10 s window
    /// # Ok::<(), baton_retry::BudgetError>(())
    /// ```
    ///
    /// Concurrent callers never withdraw more than the budget holds: each withdraws first and
    /// then checks the balance it left, handing the retry back if that went negative. Under a
    /// race this can refuse a retry it could have granted; it never grants one too many.
    pub fn try_withdraw(&self) -> bool {
        let epoch = self.epoch();
        // Cheap early refusal while the budget is empty (the common case during a storm).
        if self.balance(epoch) < i64::from(UNIT) {
            return false;
        }
        if !self.add(epoch, -UNIT) {
            return false;
        }
        if self.balance(epoch) < 0 {
            self.add(epoch, UNIT);
            return false;
        }
        true
    }

    /// Whole retries available now.
    #[must_use]
    pub fn available(&self) -> u64 {
        u64::try_from(self.balance(self.epoch()) / i64::from(UNIT)).unwrap_or(0)
    }

    /// The share of calls that may be retried.
    #[must_use]
    pub fn ratio(&self) -> f64 {
        self.ratio
    }

    /// The retries per second allowed whatever the traffic.
    #[must_use]
    pub fn min_per_sec(&self) -> u32 {
        self.min_per_sec
    }

    /// How long deposits and withdrawals count.
    #[must_use]
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The current bucket number. Wraps after `2³²` buckets (13 years with the shortest `ttl`).
    fn epoch(&self) -> u32 {
        let elapsed = Instant::now().saturating_duration_since(self.start);
        (crate::delays::nanos(elapsed) / self.slot_nanos) as u32
    }

    /// The reserve plus the balance of the buckets in the window ending at `epoch`, in units.
    fn balance(&self, epoch: u32) -> i64 {
        let mut sum = self.reserve;
        for slot in &self.slots {
            let (tag, units) = unpack(slot.load(Ordering::Relaxed));
            if epoch.wrapping_sub(tag) < SLOTS as u32 {
                sum += i64::from(units);
            }
        }
        sum
    }

    /// Adds `units` to the bucket of `epoch`, resetting it if it holds an expired epoch. Returns
    /// `false` if nothing was recorded: a withdrawal that would overflow the bucket, or a writer
    /// that fell a whole window behind (its epoch has expired). Deposits saturate.
    fn add(&self, epoch: u32, units: i32) -> bool {
        let slot = &self.slots[epoch as usize % SLOTS];
        let mut current = slot.load(Ordering::Relaxed);
        loop {
            let (tag, balance) = unpack(current);
            let balance = if tag == epoch {
                match balance.checked_add(units) {
                    Some(balance) => balance,
                    None if units > 0 => i32::MAX,
                    None => return false,
                }
            } else if tag.wrapping_sub(epoch) < STALE {
                return false;
            } else {
                units
            };
            match slot.compare_exchange_weak(
                current,
                pack(epoch, balance),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => current = actual,
            }
        }
    }
}

impl Default for RetryBudget {
    /// `ratio` 0.2, `min_per_sec` 10, `ttl` 10 s (tower's defaults).
    fn default() -> Self {
        RetryBudgetBuilder::default().assemble()
    }
}

impl fmt::Debug for RetryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryBudget")
            .field("ratio", &self.ratio)
            .field("min_per_sec", &self.min_per_sec)
            .field("ttl", &self.ttl)
            .field("available", &self.available())
            .finish()
    }
}

/// Builds a [`RetryBudget`]; [`build`](Self::build) checks the values.
#[derive(Debug, Clone, Copy, PartialEq)]
#[must_use = "a builder does nothing until `.build()`"]
pub struct RetryBudgetBuilder {
    ratio: f64,
    min_per_sec: u32,
    ttl: Duration,
}

impl Default for RetryBudgetBuilder {
    fn default() -> Self {
        Self {
            ratio: 0.2,
            min_per_sec: 10,
            ttl: Duration::from_secs(10),
        }
    }
}

impl RetryBudgetBuilder {
    /// The share of calls that may be retried, from 0 to 1 (0.1 = 10%), in steps of 0.001 (finer
    /// values are rounded to the nearest step).
    pub fn ratio(mut self, ratio: f64) -> Self {
        self.ratio = ratio;
        self
    }

    /// Retries per second allowed whatever the traffic, so that a quiet client can still retry.
    pub fn min_per_sec(mut self, min_per_sec: u32) -> Self {
        self.min_per_sec = min_per_sec;
        self
    }

    /// How long deposits and withdrawals count, from [`RetryBudget::MIN_TTL`] to
    /// [`RetryBudget::MAX_TTL`].
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Checks the values and creates the budget; its window starts now, on tokio's clock.
    ///
    /// # Errors
    /// [`BudgetError::InvalidRatio`] for a ratio outside `[0, 1]` or not a number;
    /// [`BudgetError::InvalidTtl`] for a `ttl` outside the accepted range.
    ///
    /// ```
    /// use baton_retry::{BudgetError, RetryBudget};
    ///
    /// let err = RetryBudget::builder().ratio(1.5).build().unwrap_err();
    /// assert_eq!(err, BudgetError::InvalidRatio { ratio: 1.5 });
    /// ```
    pub fn build(self) -> Result<RetryBudget, BudgetError> {
        if !(0.0..=1.0).contains(&self.ratio) {
            return Err(BudgetError::InvalidRatio { ratio: self.ratio });
        }
        if !(RetryBudget::MIN_TTL..=RetryBudget::MAX_TTL).contains(&self.ttl) {
            return Err(BudgetError::InvalidTtl { ttl: self.ttl });
        }
        Ok(self.assemble())
    }

    /// Creates the budget from checked values.
    fn assemble(self) -> RetryBudget {
        let ttl_millis = self.ttl.as_millis() as i64; // at most 3.6 million
        RetryBudget {
            slots: std::array::from_fn(|_| AtomicU64::new(pack(0, 0))),
            start: Instant::now(),
            slot_nanos: (self.ttl.as_nanos() / SLOTS as u128) as u64,
            deposit: (self.ratio * f64::from(UNIT)).round() as i32,
            // `min_per_sec × ttl` retries of `UNIT` units each; `UNIT` per second is one per ms.
            reserve: i64::from(self.min_per_sec) * ttl_millis,
            ratio: self.ratio,
            min_per_sec: self.min_per_sec,
            ttl: self.ttl,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(ratio: f64, min_per_sec: u32) -> RetryBudget {
        RetryBudget::builder()
            .ratio(ratio)
            .min_per_sec(min_per_sec)
            .ttl(Duration::from_secs(10))
            .build()
            .unwrap()
    }

    #[test]
    fn validation_names_the_field() {
        for ratio in [-0.1, 1.01, f64::NAN, f64::INFINITY] {
            let err = RetryBudget::builder().ratio(ratio).build().unwrap_err();
            assert!(err.to_string().starts_with("`ratio`"), "{err}");
        }
        for ttl in [
            Duration::ZERO,
            Duration::from_millis(999),
            Duration::from_secs(3601),
        ] {
            let err = RetryBudget::builder().ttl(ttl).build().unwrap_err();
            assert_eq!(err, BudgetError::InvalidTtl { ttl });
        }
        assert!(RetryBudget::builder().ratio(0.0).ratio(1.0).build().is_ok());
    }

    #[test]
    fn defaults_match_tower() {
        let b = RetryBudget::default();
        assert_eq!(
            (b.ratio(), b.min_per_sec(), b.ttl()),
            (0.2, 10, Duration::from_secs(10))
        );
        assert_eq!(b.available(), 100);
        assert!(format!("{b:?}").contains("available: 100"));
    }

    #[test]
    fn deposits_pay_for_a_share_of_retries() {
        let b = budget(0.1, 0);
        assert!(!b.try_withdraw());
        for _ in 0..25 {
            b.deposit();
        }
        assert_eq!(b.available(), 2);
        assert!(b.try_withdraw());
        assert!(b.try_withdraw());
        assert!(!b.try_withdraw());
    }

    #[test]
    fn pack_round_trips() {
        for (epoch, units) in [
            (0, 0),
            (u32::MAX, i32::MIN),
            (7, -1000),
            (1 << 31, i32::MAX),
        ] {
            assert_eq!(unpack(pack(epoch, units)), (epoch, units));
        }
    }

    #[test]
    fn stale_writers_and_overflow_are_refused() {
        let b = budget(1.0, 0);
        b.slots[3].store(pack(13, 0), Ordering::Relaxed);
        assert!(!b.add(3, UNIT), "epoch 3 expired when epoch 13 was written");
        b.slots[4].store(pack(4, i32::MIN + 10), Ordering::Relaxed);
        assert!(!b.add(4, -UNIT));
        b.slots[5].store(pack(5, i32::MAX - 10), Ordering::Relaxed);
        assert!(b.add(5, UNIT));
        assert_eq!(unpack(b.slots[5].load(Ordering::Relaxed)), (5, i32::MAX));
    }

    #[tokio::test(start_paused = true)]
    async fn window_slides_on_tokios_clock() {
        let b = budget(0.0, 1);
        while b.try_withdraw() {}
        assert_eq!(b.available(), 0);
        // Withdrawals made in bucket 0 expire once the window (10 buckets of 1 s) has moved on.
        tokio::time::advance(Duration::from_secs(9)).await;
        assert_eq!(b.available(), 0);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(b.available(), 10);
    }
}

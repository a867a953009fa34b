//! [`QueueStats`]: a snapshot of a queue's depth, counters and wait times.

use std::ops::{Index, IndexMut};
use std::time::Duration;

use crate::Priority;

/// One count per priority level, indexable by [`Priority`].
///
/// ```
/// use baton_queue::{LevelCounts, Priority};
///
/// let mut depth = LevelCounts::default();
/// depth[Priority::High] += 2;
/// depth[Priority::Low] += 1;
/// assert_eq!(depth.total(), 3);
/// assert_eq!(depth.high, 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct LevelCounts {
    /// Count at `Critical`.
    pub critical: usize,
    /// Count at `High`.
    pub high: usize,
    /// Count at `Normal`.
    pub normal: usize,
    /// Count at `Low`.
    pub low: usize,
    /// Count at `Background`.
    pub background: usize,
}

impl LevelCounts {
    /// The sum over all levels.
    pub fn total(&self) -> usize {
        self.critical + self.high + self.normal + self.low + self.background
    }

    /// The count at `priority`.
    pub fn get(&self, priority: Priority) -> usize {
        self[priority]
    }
}

impl Index<Priority> for LevelCounts {
    type Output = usize;

    fn index(&self, priority: Priority) -> &usize {
        match priority {
            Priority::Critical => &self.critical,
            Priority::High => &self.high,
            Priority::Normal => &self.normal,
            Priority::Low => &self.low,
            Priority::Background => &self.background,
        }
    }
}

impl IndexMut<Priority> for LevelCounts {
    fn index_mut(&mut self, priority: Priority) -> &mut usize {
        match priority {
            Priority::Critical => &mut self.critical,
            Priority::High => &mut self.high,
            Priority::Normal => &mut self.normal,
            Priority::Low => &mut self.low,
            Priority::Background => &mut self.background,
        }
    }
}

/// How long popped tasks waited between becoming ready and being popped. All zero unless the
/// queue tracks wait times ([`QueueBuilder::track_wait_times`](crate::QueueBuilder::track_wait_times)).
///
/// ```
/// use std::time::Duration;
/// use baton_queue::WaitStats;
///
/// let waits = WaitStats::default();
/// assert_eq!(waits.mean(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct WaitStats {
    /// How many waits were recorded (one per pop).
    pub count: u64,
    /// Their sum (saturates at `Duration::MAX`).
    pub total: Duration,
    /// The longest.
    pub max: Duration,
}

impl WaitStats {
    /// The mean wait, if any task was popped.
    pub fn mean(&self) -> Option<Duration> {
        if self.count == 0 {
            return None;
        }
        // Divide in nanoseconds as u128: `Duration / u32` would truncate large counts.
        let nanos = self.total.as_nanos() / u128::from(self.count);
        Some(Duration::from_nanos(
            u64::try_from(nanos).unwrap_or(u64::MAX),
        ))
    }

    /// Builds the stats from a count, a total in nanoseconds, and the maximum.
    pub(crate) fn from_parts(count: u64, total_nanos: u128, max: Duration) -> WaitStats {
        let total = match u64::try_from(total_nanos / 1_000_000_000) {
            Ok(secs) => Duration::new(secs, (total_nanos % 1_000_000_000) as u32),
            Err(_) => Duration::MAX,
        };
        WaitStats { count, total, max }
    }
}

/// A snapshot of a queue.
///
/// ```
/// use baton_queue::{Priority, PriorityQueue};
///
/// let queue = PriorityQueue::builder().track_wait_times(true).build()?;
/// queue.try_push(1, Priority::High)?;
/// queue.try_push(2, Priority::Low)?;
/// queue.try_pop()?;
/// let stats = queue.stats();
/// assert_eq!(stats.depth[Priority::Low], 1);
/// assert_eq!((stats.pushed, stats.popped, stats.cancelled), (2, 1, 0));
/// assert_eq!(stats.waits.count, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct QueueStats {
    /// Tasks ready or queued at each level (delayed tasks that are not yet due are not counted).
    pub depth: LevelCounts,
    /// Tasks whose not-before instant has not come yet.
    pub delayed: usize,
    /// The capacity, if the queue is bounded (queued and delayed tasks both count against it).
    pub capacity: Option<usize>,
    /// Whether the queue is closed.
    pub closed: bool,
    /// Tasks accepted since the queue was built.
    pub pushed: u64,
    /// Tasks popped since the queue was built.
    pub popped: u64,
    /// Tasks cancelled since the queue was built.
    pub cancelled: u64,
    /// Wait times of the popped tasks.
    pub waits: WaitStats,
}

impl QueueStats {
    /// All tasks held: queued at any level plus delayed.
    pub fn len(&self) -> usize {
        self.depth.total() + self.delayed
    }

    /// Whether no task is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_handles_large_counts_and_saturation() {
        let w = WaitStats::from_parts(2, 40_000_000, Duration::from_millis(30));
        assert_eq!(w.total, Duration::from_millis(40));
        assert_eq!(w.mean(), Some(Duration::from_millis(20)));
        let w = WaitStats::from_parts(3, u128::MAX, Duration::MAX);
        assert_eq!(w.total, Duration::MAX);
        assert!(w.mean().is_some());
        let w = WaitStats::from_parts(u64::MAX, 5_000_000_001, Duration::from_secs(5));
        assert_eq!(w.total, Duration::new(5, 1));
        assert_eq!(w.mean(), Some(Duration::ZERO));
    }

    #[test]
    fn level_counts_index_every_level() {
        let mut c = LevelCounts::default();
        for (i, p) in Priority::ALL.into_iter().enumerate() {
            c[p] = i + 1;
        }
        assert_eq!(c.critical, 1);
        assert_eq!(c.background, 5);
        assert_eq!(c.get(Priority::Normal), 3);
        assert_eq!(c.total(), 15);
    }
}

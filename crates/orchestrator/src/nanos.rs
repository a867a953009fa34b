//! [`Nanos`]: a count of nanoseconds, or none, in eight bytes.

use std::time::Duration;

/// Nanoseconds (an instant as an offset from some start, or a duration), or none: eight bytes
/// where an `Option<u64>` or an `Option<Duration>` takes sixteen. `u64::MAX` is none: a
/// duration that long saturates one below (584 years).
///
/// The engine's per-task times use it to keep a task's state in one cache line, and an
/// attempt's timeout to keep the attempt small enough to move inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Nanos(u64);

impl Nanos {
    pub(crate) const NONE: Nanos = Nanos(u64::MAX);

    /// `n` nanoseconds: an offset the engine measured, so below 584 years (on the hot path, so
    /// checked only in debug builds).
    #[inline]
    pub(crate) const fn new(n: u64) -> Self {
        debug_assert!(n != u64::MAX, "u64::MAX nanoseconds would read as none");
        Nanos(n)
    }

    /// A duration, or none; 584 years or more saturate.
    pub(crate) fn of(duration: Option<Duration>) -> Self {
        duration.map_or(Self::NONE, |d| {
            Nanos(
                u64::try_from(d.as_nanos())
                    .unwrap_or(u64::MAX)
                    .min(u64::MAX - 1),
            )
        })
    }

    #[inline]
    pub(crate) fn get(self) -> Option<u64> {
        (self != Self::NONE).then_some(self.0)
    }

    /// As a duration.
    pub(crate) fn duration(self) -> Option<Duration> {
        self.get().map(Duration::from_nanos)
    }

    #[inline]
    pub(crate) fn is_some(self) -> bool {
        self != Self::NONE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_bytes_with_none_apart_from_every_value() {
        assert_eq!(size_of::<Nanos>(), 8);
        assert_eq!((Nanos::NONE.get(), Nanos::NONE.is_some()), (None, false));
        assert_eq!(
            (Nanos::new(0).get(), Nanos::new(0).is_some()),
            (Some(0), true)
        );
        assert_eq!(Nanos::of(None), Nanos::NONE);
        let second = Nanos::of(Some(Duration::from_secs(1)));
        assert_eq!(second.duration(), Some(Duration::from_secs(1)));
        assert_eq!(
            Nanos::of(Some(Duration::ZERO)).duration(),
            Some(Duration::ZERO),
            "zero is a duration, not none"
        );
        assert_eq!(
            Nanos::of(Some(Duration::MAX)).duration(),
            Some(Duration::from_nanos(u64::MAX - 1)),
            "the longest is 584 years"
        );
    }
}

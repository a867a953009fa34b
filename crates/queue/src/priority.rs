//! [`Priority`]: the five levels a task can be queued at.

use std::fmt;
use std::str::FromStr;

/// How urgent a task is: `Critical > High > Normal > Low > Background`.
///
/// The queue serves higher levels first and keeps FIFO order within one level. Priorities compare
/// with `<`/`>` in that order, display and parse as their lower-case names, and (with the `serde`
/// feature) serialize as those names too.
///
/// ```
/// use baton_queue::Priority;
///
/// assert!(Priority::Critical > Priority::Background);
/// assert_eq!("high".parse::<Priority>(), Ok(Priority::High));
/// assert_eq!(Priority::Low.to_string(), "low");
/// assert_eq!(Priority::default(), Priority::Normal);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[repr(u8)]
pub enum Priority {
    /// Served before everything else.
    Critical = 4,
    /// Served before `Normal` work.
    High = 3,
    /// The default level.
    #[default]
    Normal = 2,
    /// Served after `Normal` work.
    Low = 1,
    /// Served only when nothing more urgent is waiting (or when aging lifts it).
    Background = 0,
}

impl Priority {
    /// Every level, highest first.
    ///
    /// ```
    /// use baton_queue::Priority;
    ///
    /// assert_eq!(Priority::ALL.first(), Some(&Priority::Critical));
    /// assert!(Priority::ALL.windows(2).all(|w| w[0] > w[1]));
    /// ```
    pub const ALL: [Priority; 5] = [
        Priority::Critical,
        Priority::High,
        Priority::Normal,
        Priority::Low,
        Priority::Background,
    ];

    /// The lower-case name used by `Display`, `FromStr` and serde.
    pub const fn as_str(self) -> &'static str {
        match self {
            Priority::Critical => "critical",
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Low => "low",
            Priority::Background => "background",
        }
    }

    /// Position in [`Priority::ALL`]: 0 for `Critical` up to 4 for `Background`.
    pub(crate) const fn index(self) -> usize {
        4 - self as usize
    }

    /// The inverse of [`Priority::index`]. `index` must be below 5.
    pub(crate) const fn from_index(index: usize) -> Priority {
        Priority::ALL[index]
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Priority {
    type Err = ParsePriorityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Priority::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| ParsePriorityError {
                value: s.to_owned(),
            })
    }
}

/// A string that is not one of the five priority names.
///
/// ```
/// use baton_queue::Priority;
///
/// let err = "urgent".parse::<Priority>().unwrap_err();
/// assert_eq!(err.value(), "urgent");
/// assert_eq!(
///     err.to_string(),
///     "unknown priority \"urgent\": expected one of critical, high, normal, low, background"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown priority {value:?}: expected one of critical, high, normal, low, background")]
pub struct ParsePriorityError {
    value: String,
}

impl ParsePriorityError {
    /// The string that failed to parse.
    pub fn value(&self) -> &str {
        &self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_round_trips_and_orders_highest_first() {
        for (i, p) in Priority::ALL.into_iter().enumerate() {
            assert_eq!(p.index(), i);
            assert_eq!(Priority::from_index(i), p);
        }
        assert!(Priority::Critical > Priority::High);
        assert!(Priority::High > Priority::Normal);
        assert!(Priority::Normal > Priority::Low);
        assert!(Priority::Low > Priority::Background);
    }

    #[test]
    fn names_round_trip_and_are_case_sensitive() {
        for p in Priority::ALL {
            assert_eq!(p.to_string().parse::<Priority>(), Ok(p));
        }
        let err = "High".parse::<Priority>().unwrap_err();
        assert_eq!(err.value(), "High");
        assert!(err.to_string().contains("\"High\""));
        assert!("".parse::<Priority>().is_err());
    }

    #[test]
    fn display_honours_padding() {
        assert_eq!(format!("[{:>6}]", Priority::Low), "[   low]");
    }
}

//! The limits `baton` enforces on its input, in one place. `baton validate` rejects a file (and
//! `baton run` a command line) that passes one, naming the field and the limit, so that nothing
//! it accepts can fail later for being too large: memory and time stay bounded whatever the
//! input. `docs/workflow-file.md` lists them for people.

use std::time::Duration;

/// The largest workflow file read, in bytes (a larger one is refused before it is read).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The most tasks that may run at once: `workflow.max_parallel`, `--workers`, an agent's
/// `workers`. A large limit costs nothing until tasks need the workers.
pub const MAX_WORKERS: usize = 10_000;

/// The largest agent `weight`.
pub const MAX_WEIGHT: u32 = 1_000;

/// The longest duration anywhere: timeouts, retry delays and caps, `--grace`: one year
/// (365.25 days, humantime's `1year`).
pub const MAX_DURATION: Duration = Duration::from_secs(31_557_600);

/// The longest `workflow.name`, in characters (it names the run's directory).
pub const MAX_NAME_CHARS: usize = 200;

/// The longest file name: a task's id must leave its log's name (`<id>.log`, each byte other
/// than a letter, a digit, `-` or `_` written as `%XX`) within it.
pub const MAX_FILE_NAME_BYTES: usize = 255;

/// The longest agent id or capability, in characters.
pub const MAX_LABEL_CHARS: usize = 255;

/// Why `d` is refused, if it is over [`MAX_DURATION`]: `"…" is longer than the longest
/// duration baton accepts (1year)`.
pub(crate) fn check_duration(d: Duration, written: &str) -> Result<Duration, String> {
    if d > MAX_DURATION {
        Err(format!(
            "{written:?} is longer than the longest duration baton accepts ({})",
            humantime::format_duration(MAX_DURATION)
        ))
    } else {
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_duration_reads_as_a_year() {
        assert_eq!(
            humantime::format_duration(MAX_DURATION).to_string(),
            "1year"
        );
        assert!(check_duration(MAX_DURATION, "1y").is_ok());
        let error = check_duration(MAX_DURATION + Duration::from_secs(1), "366d").unwrap_err();
        assert_eq!(
            error,
            "\"366d\" is longer than the longest duration baton accepts (1year)"
        );
    }
}

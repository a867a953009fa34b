//! A run's directory and its task logs: where they go, how they are opened so that nobody else's
//! file can be written through them, and how a log's last lines are read in bounded memory.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;

/// At most this many bytes from a log's end are read for its tail, however long the log or its
/// last line.
const TAIL_WINDOW: u64 = 64 * 1024;
/// A tail line longer than this many characters is shown by its end, after an ellipsis.
const TAIL_LINE_CHARS: usize = 400;

/// A file name for task `id`'s log: letters, digits, `-` and `_` kept, every other byte of the id
/// written `%XX` (so two ids never share a file), then `.log`.
pub(crate) fn log_name(id: &str) -> String {
    let mut name = String::with_capacity(id.len() + 4);
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_') {
            name.push(char::from(byte));
        } else {
            name.push_str(&format!("%{byte:02X}"));
        }
    }
    name.push_str(".log");
    name
}

/// `text` with anything but letters, digits, `-`, `_` and `.` replaced by `_`, never starting
/// with a dot (for the run directory's name).
fn sanitize(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.starts_with('.') {
        format!("_{clean}")
    } else {
        clean
    }
}

/// The run directory of a run of `workflow` started at `unix` seconds by process `pid`, under
/// `beside` (the workflow file's directory, empty for the current one): `.baton/runs/<workflow>-
/// <unix>-<pid>`.
pub(crate) fn run_dir_path(beside: &Path, workflow: &str, unix: u64, pid: u32) -> PathBuf {
    beside
        .join(".baton")
        .join("runs")
        .join(format!("{}-{unix}-{pid}", sanitize(workflow)))
}

/// Creates the run directory `path` fresh: its parents as needed, the directory itself never
/// reused (an existing one, or a symlink in its place, is an error), so no file in it can be
/// one that somebody else put there.
pub(crate) fn create_run_dir(path: &Path) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::create_dir(path)
}

/// Opens task log `path` to append to: created with `O_EXCL` the first time (`first`), so a file
/// or symlink already there is an error, and never through a symlink (`O_NOFOLLOW`) later.
pub(crate) fn open_log(path: &Path, first: bool) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options
        .append(true)
        .custom_flags(OFlag::O_NOFOLLOW.bits() | OFlag::O_CLOEXEC.bits());
    if first {
        options.create_new(true);
    }
    options.open(path)
}

/// The last lines of a log, as read by [`tail`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tail {
    /// The lines, oldest first, each at most [`TAIL_LINE_CHARS`] characters and an ellipsis.
    pub(crate) lines: Vec<String>,
}

/// The last `n` lines of the file at `path`, read from its end: at most [`TAIL_WINDOW`] bytes,
/// whatever the file's size, and a line longer than [`TAIL_LINE_CHARS`] (or cut by the window)
/// shown by its end after `…`. Not valid UTF-8 is shown with replacement characters.
pub(crate) fn tail(path: &Path, n: usize) -> std::io::Result<Tail> {
    let mut file = File::open(path)?;
    let len = file.seek(SeekFrom::End(0))?;
    let start = len.saturating_sub(TAIL_WINDOW);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::with_capacity((len - start) as usize);
    file.take(TAIL_WINDOW).read_to_end(&mut bytes)?;
    Ok(Tail {
        lines: last_lines(&bytes, start > 0, n),
    })
}

/// The last `n` lines of `bytes`; `cut` says the first line may have begun before them.
fn last_lines(bytes: &[u8], cut: bool, n: usize) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_suffix('\n').unwrap_or(&text);
    if text.is_empty() || n == 0 {
        return Vec::new();
    }
    let all: Vec<&str> = text.split('\n').collect();
    let skip = all.len().saturating_sub(n);
    all[skip..]
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let partial = cut && skip == 0 && i == 0;
            shorten(line, partial)
        })
        .collect()
}

/// `line`, or its last [`TAIL_LINE_CHARS`] characters after `…` when longer or `partial`.
fn shorten(line: &str, partial: bool) -> String {
    let chars = line.chars().count();
    if chars <= TAIL_LINE_CHARS && !partial {
        return line.to_owned();
    }
    let keep: String = line
        .chars()
        .skip(chars.saturating_sub(TAIL_LINE_CHARS))
        .collect();
    format!("\u{2026}{keep}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("baton-logs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn names_keep_safe_bytes_and_encode_the_rest() {
        assert_eq!(log_name("build"), "build.log");
        assert_eq!(log_name("a/b c"), "a%2Fb%20c.log");
        assert_ne!(log_name("a b"), log_name("a_b"));
        assert_eq!(sanitize(".hidden"), "_.hidden");
        assert_eq!(
            run_dir_path(Path::new(""), "re lease", 7, 9),
            Path::new(".baton/runs/re_lease-7-9")
        );
    }

    #[test]
    fn tails_keep_the_last_lines() {
        assert_eq!(last_lines(b"a\nb\nc\n", false, 2), ["b", "c"]);
        assert_eq!(last_lines(b"a\r\nb", false, 10), ["a", "b"]);
        assert!(last_lines(b"", false, 3).is_empty());
        assert!(last_lines(b"\n", false, 3).is_empty());
        assert_eq!(last_lines(b"\n\nx\n", false, 3), ["", "", "x"]);
        // The window began inside the first line it holds.
        assert_eq!(
            last_lines(b"end of a\nb", true, 5),
            ["\u{2026}end of a", "b"]
        );
        assert_eq!(last_lines(b"end of a\nb", true, 1), ["b"]);
        let long = "x".repeat(TAIL_LINE_CHARS + 5) + "END";
        let shown = &last_lines(long.as_bytes(), false, 1)[0];
        assert!(
            shown.starts_with('\u{2026}') && shown.ends_with("END"),
            "{shown}"
        );
        assert_eq!(shown.chars().count(), TAIL_LINE_CHARS + 1);
    }

    #[test]
    fn a_huge_log_of_one_line_is_read_by_its_end_only() {
        let dir = scratch("huge");
        let path = dir.join("t.log");
        let mut text = "y".repeat(3 * TAIL_WINDOW as usize);
        text.push_str("the error\n");
        std::fs::write(&path, &text).unwrap();
        let tail = tail(&path, 10).unwrap();
        assert_eq!(tail.lines.len(), 1);
        assert!(tail.lines[0].ends_with("the error"), "{:?}", tail.lines);
        assert_eq!(tail.lines[0].chars().count(), TAIL_LINE_CHARS + 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn logs_are_never_opened_through_a_symlink_or_over_an_existing_file() {
        let dir = scratch("open");
        let victim = dir.join("victim");
        std::fs::write(&victim, "precious\n").unwrap();
        let link = dir.join("t.log");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        assert!(open_log(&link, true).is_err());
        assert!(open_log(&link, false).is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        let fresh = dir.join("fresh.log");
        drop(open_log(&fresh, true).unwrap());
        assert!(open_log(&fresh, true).is_err(), "created twice");
        drop(open_log(&fresh, false).unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_run_directory_is_never_reused() {
        let dir = scratch("rundir");
        let run = run_dir_path(&dir, "w", 1, 2);
        create_run_dir(&run).unwrap();
        assert_eq!(
            create_run_dir(&run).unwrap_err().kind(),
            std::io::ErrorKind::AlreadyExists
        );
        let other = run_dir_path(&dir, "w", 1, 3);
        std::os::unix::fs::symlink(&run, &other).unwrap();
        assert!(create_run_dir(&other).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

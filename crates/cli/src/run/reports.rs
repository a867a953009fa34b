//! The report files of `--report` and `--report-json`: checked before anything runs, written
//! whole or not at all.
//!
//! [`PendingReport::prepare`] creates the report's folder if needed and a temporary file beside
//! the report (`.baton-report-<pid>-<n>.tmp`), so an unwritable path fails before any task
//! starts. At the
//! end, [`PendingReport::commit`] writes the content into the temporary file, flushes it to disk
//! and renames it over the report: a reader sees the old report or the new one, never a part of
//! one, and a full disk leaves the old one in place.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// A report that will be written at the end of the run.
#[derive(Debug)]
pub(crate) struct PendingReport {
    path: PathBuf,
    temporary: PathBuf,
    file: Option<File>,
}

impl PendingReport {
    /// Makes sure a report can be written to `path`: its folder exists (created if missing) and
    /// takes a new file, and `path` is not a folder.
    pub(crate) fn prepare(path: &Path) -> std::io::Result<Self> {
        if path.is_dir() {
            return Err(std::io::Error::other("it is a directory"));
        }
        if path.file_name().is_none() {
            return Err(std::io::Error::other("it names no file"));
        }
        let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(folder) = folder {
            if let Some(file) = folder.ancestors().find(|a| a.is_file()) {
                return Err(std::io::Error::other(format!(
                    "{} is not a directory",
                    file.display()
                )));
            }
            std::fs::create_dir_all(folder)?;
        }
        // Short, and unique within the process: any report name fits a file name beside it.
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let temporary = folder.unwrap_or(Path::new(".")).join(format!(
            ".baton-report-{}-{}.tmp",
            std::process::id(),
            NEXT.fetch_add(1, Relaxed)
        ));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)?;
        Ok(Self {
            path: path.to_owned(),
            temporary,
            file: Some(file),
        })
    }

    /// Where the report goes.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `contents` as the report, atomically (see the module docs).
    pub(crate) fn commit(mut self, contents: &[u8]) -> std::io::Result<()> {
        let mut file = self
            .file
            .take()
            .ok_or_else(|| std::io::Error::other("the report was written already"))?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&self.temporary, &self.path)
    }
}

impl Drop for PendingReport {
    /// A report not committed (or whose commit failed) leaves no temporary file behind.
    fn drop(&mut self) {
        if self.temporary.exists() {
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("baton-reports-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_report_is_replaced_whole_and_leaves_nothing_behind() {
        let dir = scratch("whole");
        let path = dir.join("deep/er/report.json");
        let pending = PendingReport::prepare(&path).unwrap();
        assert!(!path.exists(), "nothing is written before the end");
        pending.commit(b"{}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}\n");
        let again = PendingReport::prepare(&path).unwrap();
        drop(again);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}\n");
        let left: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(left.len(), 1, "{left:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unwritable_paths_are_refused_up_front() {
        let dir = scratch("refused");
        assert!(PendingReport::prepare(&dir).is_err(), "a directory");
        std::fs::write(dir.join("file"), "").unwrap();
        assert!(PendingReport::prepare(&dir.join("file/report.html")).is_err());
        assert!(PendingReport::prepare(Path::new("/proc/baton/report.html")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

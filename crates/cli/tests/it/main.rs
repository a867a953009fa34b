//! Integration tests: the real `baton` binary on example, invalid and purpose-made workflow files,
//! each test in its own directory under `CARGO_TARGET_TMPDIR`.

mod cli;
mod examples;
mod fuzz;
mod hostile;
mod interrupt;
mod invalid;
mod report;
mod run;
mod scale;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `baton` binary under test.
fn baton() -> Command {
    Command::new(env!("CARGO_BIN_EXE_baton"))
}

/// A fresh, empty directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("baton-cli-it")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What a finished `baton` said and how it exited.
#[derive(Debug)]
struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `baton args...` in `dir` to its end.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    let output = baton().args(args).current_dir(dir).output().unwrap();
    Output {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The example workflow files shipped with the crate, sorted.
fn examples() -> Vec<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// The run directories `baton run` made beside a workflow file in `dir`.
fn run_dirs(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir.join(".baton").join("runs")) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

/// The process id a command wrote to `path`, waiting for it to be written (the deadline only
/// guards against a hang).
fn pid_in(path: &Path) -> i32 {
    (0..3000)
        .find_map(|_| {
            let pid = std::fs::read_to_string(path)
                .ok()
                .and_then(|t| t.trim().parse::<i32>().ok());
            if pid.is_none() {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            pid
        })
        .unwrap_or_else(|| panic!("{} was not written", path.display()))
}

/// Whether process `pid` is gone (or a zombie) by a generous deadline: signals are delivered
/// asynchronously, so this polls; the deadline only guards against a hang.
fn gone(pid: i32) -> bool {
    (0..2000).any(|_| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let alive = stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z'));
        if alive {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        !alive
    })
}

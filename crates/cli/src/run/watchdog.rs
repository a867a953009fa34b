//! The watchdog: a small process that outlives `baton` to kill what it left running.
//!
//! `kill -9` of `baton` gives it no chance to stop its commands, which would run on under init.
//! So `baton run` starts one watchdog per run (`baton __watchdog`, in a process group of its own
//! so that a terminal's Ctrl-C does not reach it), and tells it through a pipe on its standard
//! input which process groups are alive: each record is four bytes, a process group id
//! (positive: started; negative: gone). When the pipe closes (`baton` exited, however it
//! exited, since the kernel closes a dead process's files), the watchdog sends SIGKILL to every
//! group still listed, and exits. A run that ends normally has none left by then.
//!
//! One process per run, not per task: starting a task costs two small pipe writes, not another
//! process. It works wherever pipes and process groups do (Linux and macOS alike). What it cannot
//! cover: a command that leaves its process group (`setsid`), and a group started in the
//! microseconds between `fork` and the record reaching the pipe if `baton` dies right then.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, PoisonError};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// The hidden command line that runs the watchdog: `baton __watchdog`.
pub(crate) const COMMAND: &str = "__watchdog";

/// `baton run`'s end of the pipe to its watchdog.
#[derive(Debug)]
pub(crate) struct Watchdog {
    pipe: Mutex<Option<ChildStdin>>,
    child: Mutex<Option<Child>>,
}

impl Watchdog {
    /// Starts the watchdog: this program run again as `baton __watchdog`. Only the `baton`
    /// binary can be (a program that calls [`crate::main`] itself is not asked to act as one).
    pub(crate) fn start() -> std::io::Result<Self> {
        let exe = std::env::current_exe()?;
        if exe.file_stem().and_then(|s| s.to_str()) != Some("baton") {
            return Err(std::io::Error::other(format!(
                "{} is not the baton binary",
                exe.display()
            )));
        }
        let mut child = Command::new(exe)
            .arg(COMMAND)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()?;
        let pipe = child.stdin.take();
        Ok(Self {
            pipe: Mutex::new(pipe),
            child: Mutex::new(Some(child)),
        })
    }

    /// Process group `group` started.
    pub(crate) fn started(&self, group: i32) {
        self.send(group);
    }

    /// Process group `group` is gone.
    pub(crate) fn gone(&self, group: i32) {
        self.send(-group);
    }

    fn send(&self, record: i32) {
        let mut pipe = self.pipe.lock().unwrap_or_else(PoisonError::into_inner);
        // A watchdog that died leaves the run unguarded, not broken.
        if let Some(writer) = pipe.as_mut()
            && writer.write_all(&record.to_ne_bytes()).is_err()
        {
            *pipe = None;
        }
    }

    /// Closes the pipe (the watchdog then exits, killing any group still listed) and reaps it.
    pub(crate) fn finish(&self) {
        drop(
            self.pipe
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        if let Some(mut child) = self
            .child
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = child.wait();
        }
    }
}

/// The watchdog's own loop (`baton __watchdog`): reads records from standard input until it
/// closes, then kills every group still listed. Returns how many it signalled.
pub(crate) fn serve(mut input: impl Read) -> usize {
    let mut live: HashSet<i32> = HashSet::new();
    let mut record = [0u8; 4];
    while input.read_exact(&mut record).is_ok() {
        let group = i32::from_ne_bytes(record);
        if group > 0 {
            live.insert(group);
        } else if group < 0 {
            live.remove(&group.saturating_neg());
        }
    }
    live.into_iter()
        .filter(|&group| killpg(Pid::from_raw(group), Signal::SIGKILL).is_ok())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_groups_still_listed_are_killed() {
        // Three sleepers in groups of their own; the watchdog is told two started and one of
        // those ended: only the other dies.
        let mut sleepers: Vec<Child> = (0..3)
            .map(|_| {
                Command::new("sleep")
                    .arg("30")
                    .process_group(0)
                    .spawn()
                    .unwrap()
            })
            .collect();
        let ids: Vec<i32> = sleepers.iter().map(|c| c.id() as i32).collect();
        let mut input = Vec::new();
        for record in [ids[0], ids[1], -ids[1]] {
            input.extend_from_slice(&record.to_ne_bytes());
        }
        assert_eq!(serve(input.as_slice()), 1);
        let status = sleepers[0].wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9)
        );
        for sleeper in &mut sleepers[1..] {
            assert!(
                sleeper.try_wait().unwrap().is_none(),
                "killed a group not listed"
            );
            sleeper.kill().unwrap();
            sleeper.wait().unwrap();
        }
    }
}

//! Starting a task's commands and stopping them: each attempt is `sh -c` in a process group of
//! its own, its output appended to the task's log.
//!
//! # The life of an attempt
//! 1. It waits until no process of the task's previous attempt is left (there is one only after
//!    an attempt was dropped: see 4), then opens the log and writes `--- attempt N ---`.
//! 2. Its command starts; the attempt's timeout runs from here, so time spent in step 1 never
//!    counts against it.
//! 3. The command exits, or its timeout passes. Either way, what is left of its process group is
//!    stopped before the attempt ends (SIGTERM, then SIGKILL after the grace period), so that
//!    the next attempt never finds it running; the attempt's end goes into the log
//!    (`--- attempt N: exit status 0 ---`). A timeout is reported as one
//!    ([`TaskError::timed_out`]), after the teardown.
//! 4. If the orchestrator drops the attempt (the run was cancelled or stopped by fail-fast),
//!    [`ChildGuard`] hands the group to a background reaper (same signals); [`Launcher::settle`]
//!    waits for every reaper, so `baton` never exits while a command it stopped may still run.
//!
//! A second Ctrl-C calls [`Launcher::abort`]: every group is killed at once and no command starts
//! any more, compensations included.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use baton_orchestrator::TaskError;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::Child;

use super::watchdog::Watchdog;
use crate::logs::open_log;
use crate::phase::Phase;

/// How often a stopped group is checked for members while its grace period runs.
const POLL: Duration = Duration::from_millis(20);
/// How long a group may take to vanish after SIGKILL before it is taken as gone.
const KILL_WAIT: Duration = Duration::from_secs(1);

/// What a task's attempts share: its log and a lock held while any of its processes may run.
#[derive(Debug)]
pub(crate) struct TaskFiles {
    /// The task's id.
    task: String,
    /// The log file that receives stdout and stderr (appended to, a line before and after
    /// each attempt).
    log: PathBuf,
    /// Whether the log was created yet (the first open creates it, exclusively).
    created: AtomicBool,
    /// Held by an attempt, and after a dropped attempt by the reaper of its process group.
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl TaskFiles {
    /// The files of task `task`, whose log is `log`.
    pub(crate) fn new(task: impl Into<String>, log: PathBuf) -> Arc<Self> {
        Arc::new(Self {
            task: task.into(),
            log,
            created: AtomicBool::new(false),
            lock: Arc::default(),
        })
    }

    /// Opens the log for an attempt and writes its header: the command's stdout and stderr.
    fn open(&self, label: &str, attempt: u32) -> std::io::Result<(std::fs::File, std::fs::File)> {
        let first = !self.created.swap(true, SeqCst);
        let mut log = open_log(&self.log, first)?;
        writeln!(log, "--- {label} {attempt} ---")?;
        let copy = log.try_clone()?;
        Ok((log, copy))
    }

    /// Writes how an attempt ended into the log, once all its processes are gone (best effort:
    /// the run goes on without it). Opened again rather than kept open, so that a running command
    /// costs `baton` no file descriptor.
    fn close(&self, label: &str, attempt: u32, ending: &str) {
        if let Ok(mut log) = open_log(&self.log, false) {
            let _ = writeln!(log, "--- {label} {attempt}: {ending} ---");
        }
    }
}

/// One shell command of a task (its `run` or its `compensate`) and where it runs.
#[derive(Debug, Clone)]
pub(crate) struct Shell {
    /// The task's log and lock.
    pub(crate) files: Arc<TaskFiles>,
    /// The script given to `sh -c`.
    pub(crate) script: String,
    /// Extra environment variables.
    pub(crate) env: BTreeMap<String, String>,
    /// The working directory.
    pub(crate) cwd: PathBuf,
    /// How long one attempt may run, from its command's start.
    pub(crate) timeout: Option<Duration>,
}

/// Starts commands for one run and keeps track of the ones it had to stop.
#[derive(Debug)]
pub(crate) struct Launcher {
    run_dir: PathBuf,
    workflow: String,
    grace: Duration,
    watchdog: Option<Watchdog>,
    /// Reapers still running, and a wake-up each time one ends (for [`Launcher::settle`]).
    reaping: AtomicUsize,
    reaped: tokio::sync::Notify,
    /// The process groups started and not yet known to be gone (for a second Ctrl-C).
    live: Mutex<BTreeSet<i32>>,
    /// Set by [`abort`](Self::abort): nothing starts any more.
    aborted: AtomicBool,
}

impl Launcher {
    /// A launcher for the run of `workflow` whose files go to `run_dir`; a stopped command gets
    /// `grace` between SIGTERM and SIGKILL; `watchdog`, if any, hears of every process group.
    pub(crate) fn new(
        run_dir: PathBuf,
        workflow: impl Into<String>,
        grace: Duration,
        watchdog: Option<Watchdog>,
    ) -> Arc<Self> {
        Arc::new(Self {
            run_dir,
            workflow: workflow.into(),
            grace,
            watchdog,
            reaping: AtomicUsize::new(0),
            reaped: tokio::sync::Notify::new(),
            live: Mutex::new(BTreeSet::new()),
            aborted: AtomicBool::new(false),
        })
    }

    /// Kills every process group still alive at once (SIGKILL), and refuses to start any command
    /// from now on: what a second Ctrl-C does. Returns how many groups it hit.
    pub(crate) fn abort(&self) -> usize {
        self.aborted.store(true, SeqCst);
        let live = self
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        live.into_iter()
            .filter(|&group| killpg(Pid::from_raw(group), Signal::SIGKILL).is_ok())
            .count()
    }

    /// Records that `group` started (or is gone), and tells the watchdog, under the same lock:
    /// a group id reused at once reaches the watchdog after the old one's end, never before.
    fn track(&self, group: Pid, alive: bool) {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        let changed = if alive {
            live.insert(group.as_raw())
        } else {
            live.remove(&group.as_raw())
        };
        if let (true, Some(watchdog)) = (changed, &self.watchdog) {
            if alive {
                watchdog.started(group.as_raw());
            } else {
                watchdog.gone(group.as_raw());
            }
        }
    }

    /// Tells the watchdog (if any) that the run is over, and waits for it to exit.
    pub(crate) fn finish(&self) {
        if let Some(watchdog) = &self.watchdog {
            watchdog.finish();
        }
    }

    /// Runs `shell` once (`attempt` from 1) and waits for it: `Ok` on exit status 0, otherwise a
    /// failed attempt with the message `exit status N` (or the signal that killed it), or a
    /// timeout. The command gets `BATON_RUN_DIR`, `BATON_WORKFLOW`, `BATON_TASK`,
    /// `BATON_ATTEMPT` and, on an agent, `BATON_AGENT` in its environment. Dropping the returned
    /// future stops the command (see the module docs).
    pub(crate) async fn run(
        self: &Arc<Self>,
        shell: &Shell,
        phase: Phase,
        attempt: u32,
        agent: Option<&str>,
    ) -> Result<(), TaskError> {
        let label = match phase {
            Phase::Run => "attempt",
            Phase::Compensate => "compensation attempt",
        };
        let files = &shell.files;
        // Only after a dropped attempt can its processes still be running.
        let lock = Arc::clone(&files.lock).lock_owned().await;
        if self.aborted.load(SeqCst) {
            return Err(TaskError::permanent(
                "not started: baton was stopped by a second signal",
            ));
        }
        let (out, err) = files.open(label, attempt).map_err(|e| {
            TaskError::msg(format!("cannot open the log {}: {e}", files.log.display()))
        })?;
        // An absolute path: no search through PATH for every task.
        let mut command = tokio::process::Command::new("/bin/sh");
        command
            .arg("-c")
            .arg(&shell.script)
            .current_dir(&shell.cwd)
            .envs(&shell.env)
            // Baton's own variables win over the file's and the environment's.
            .env("BATON_RUN_DIR", &self.run_dir)
            .env("BATON_WORKFLOW", &self.workflow)
            .env("BATON_TASK", &files.task)
            .env("BATON_ATTEMPT", attempt.to_string())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        match agent {
            Some(agent) => command.env("BATON_AGENT", agent),
            None => command.env_remove("BATON_AGENT"),
        };
        let spawned = command.spawn();
        // The command keeps its copies of the log's descriptors until it is dropped.
        drop(command);
        let child = spawned.map_err(|e| {
            let message = format!("cannot start `sh -c` in {}: {e}", shell.cwd.display());
            files.close(label, attempt, &format!("not started: {e}"));
            TaskError::msg(message)
        })?;
        let group = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .map(Pid::from_raw);
        let mut guard = ChildGuard {
            child: Some(child),
            group,
            lock: Some(lock),
            ending: Some((Arc::clone(files), label, attempt)),
            launcher: Arc::clone(self),
        };
        if let Some(group) = group {
            self.track(group, true);
            // A second signal between the check above and now found no group to kill: kill it.
            if self.aborted.load(SeqCst) {
                let _ = killpg(group, Signal::SIGKILL);
            }
        }
        let ended = match shell.timeout {
            Some(limit) => tokio::time::timeout(limit, guard.wait()).await.ok(),
            None => Some(guard.wait().await),
        };
        let result = match ended {
            Some(Ok(status)) => {
                let ending = describe(status);
                // The shell is gone; anything it left running in its group (`server &`) ends
                // with the attempt.
                guard.stop().await;
                files.close(label, attempt, &ending);
                if status.success() {
                    Ok(())
                } else if self.aborted.load(SeqCst) {
                    Err(TaskError::permanent(format!(
                        "{ending}: baton was stopped by a second signal"
                    )))
                } else {
                    Err(TaskError::msg(ending))
                }
            }
            Some(Err(error)) => {
                guard.stop().await;
                files.close(label, attempt, "lost");
                Err(TaskError::msg(format!("cannot wait for `sh -c`: {error}")))
            }
            None => {
                guard.stop().await;
                let limit = shell.timeout.unwrap_or_default();
                let error = TaskError::timed_out(limit);
                files.close(label, attempt, error.message());
                Err(error)
            }
        };
        drop(guard);
        result
    }

    /// Stops what is left of process group `group` (SIGTERM, then SIGKILL after the grace
    /// period if any member is still alive), reaping `child` (its leader) if it was not yet, and
    /// waits until the group is gone.
    ///
    /// `child` is borrowed, not taken: if this future is dropped part way (the attempt stopping
    /// its group was itself dropped), the guard still holds what is left for a background reaper.
    async fn stop_group(&self, group: Pid, child: &mut Option<Child>) {
        if child.is_some() || group_alive(group) {
            let _ = killpg(group, Signal::SIGTERM);
            // A member stopped by job control (SIGTTIN, say) only acts on SIGTERM once continued.
            let _ = killpg(group, Signal::SIGCONT);
            let deadline = tokio::time::Instant::now() + self.grace;
            // The leader first: while it is an unreaped zombie its id cannot be reused, so
            // signalling the group is safe.
            if let Some(leader) = child.as_mut()
                && tokio::time::timeout_at(deadline, leader.wait())
                    .await
                    .is_ok()
            {
                *child = None;
            }
            // Then any other member (background commands), until the deadline.
            while child.is_none() && group_alive(group) && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(POLL).await;
            }
            if child.is_some() || group_alive(group) {
                let _ = killpg(group, Signal::SIGKILL);
            }
            if let Some(leader) = child.as_mut() {
                let _ = leader.wait().await;
                *child = None;
            }
            // SIGKILL cannot be caught: the members are gone as soon as the kernel gets to them
            // (waited for briefly, where zombies cannot be told from live members).
            let settle = tokio::time::Instant::now() + KILL_WAIT;
            while group_alive(group) && tokio::time::Instant::now() < settle {
                tokio::time::sleep(POLL).await;
            }
        }
        self.track(group, false);
    }

    /// Stops `group` in the background (the attempt that ran it was dropped); `lock` is released
    /// once the group is gone. [`settle`](Self::settle) waits for it.
    fn reap_in_background(
        self: &Arc<Self>,
        group: Pid,
        child: Option<Child>,
        lock: Option<tokio::sync::OwnedMutexGuard<()>>,
        ending: Option<Ending>,
    ) {
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                self.reaping.fetch_add(1, SeqCst);
                let launcher = Arc::clone(self);
                runtime.spawn(async move {
                    let _lock = lock;
                    let mut child = child;
                    launcher.stop_group(group, &mut child).await;
                    if let Some((files, label, attempt)) = ending {
                        files.close(label, attempt, "stopped by baton (the run was stopping)");
                    }
                    launcher.reaping.fetch_sub(1, SeqCst);
                    launcher.reaped.notify_waiters();
                });
            }
            // No runtime to wait on (it is shutting down): no grace either.
            Err(_) => {
                let _ = killpg(group, Signal::SIGKILL);
            }
        }
    }

    /// Waits until every command this launcher stopped in the background has exited (at most the
    /// grace period after the last one was stopped). Cancel-safe: dropping the wait loses
    /// nothing.
    pub(crate) async fn settle(&self) {
        loop {
            let ended = self.reaped.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            if self.reaping.load(SeqCst) == 0 {
                return;
            }
            ended.await;
        }
    }
}

/// `exit status N`, or the signal that ended the command.
pub(crate) fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => match Signal::try_from(signal) {
            Ok(name) => format!("killed by signal {signal} ({name})"),
            Err(_) => format!("killed by signal {signal}"),
        },
        (None, None) => format!("ended with {status}"),
    }
}

/// A running command and its process group. [`stop`](Self::stop) ends the group and waits;
/// dropping the guard before that hands the group to a background reaper. It holds its task's
/// lock, so the task's next attempt waits for the group to be gone.
#[derive(Debug)]
pub(crate) struct ChildGuard {
    child: Option<Child>,
    group: Option<Pid>,
    lock: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// Where to say the attempt was stopped, if it is dropped before it ends.
    ending: Option<Ending>,
    launcher: Arc<Launcher>,
}

/// An attempt's log and how to name it in its end line.
type Ending = (Arc<TaskFiles>, &'static str, u32);

impl ChildGuard {
    /// Waits for the command (the group's leader) to exit.
    pub(crate) async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        let Some(child) = self.child.as_mut() else {
            return Err(std::io::Error::other("the command was already waited for"));
        };
        let status = child.wait().await;
        if status.is_ok() {
            self.child = None;
        }
        status
    }

    /// Stops whatever of the group is still alive (SIGTERM, SIGKILL after the grace period) and
    /// waits until it is gone.
    pub(crate) async fn stop(&mut self) {
        if let Some(group) = self.group {
            // Dropped during this await, the guard still holds the group, the leader (if not
            // reaped yet) and the lock, and hands them to a background reaper.
            self.launcher.stop_group(group, &mut self.child).await;
            self.group = None;
        }
        self.ending = None;
        self.lock = None;
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(group) = self.group.take() {
            self.launcher.reap_in_background(
                group,
                self.child.take(),
                self.lock.take(),
                self.ending.take(),
            );
        }
    }
}

/// Whether process group `group` still has a member that can run. A zombie (an ended process its
/// parent, often init, has not reaped yet) cannot, and is not counted where the system says which
/// processes are zombies (Linux's `/proc`); elsewhere every member counts.
fn group_alive(group: Pid) -> bool {
    if killpg(group, None).is_err() {
        return false;
    }
    #[cfg(target_os = "linux")]
    if let Some(running) = linux::group_has_running_member(group.as_raw()) {
        return running;
    }
    true
}

#[cfg(target_os = "linux")]
mod linux {
    /// Whether some process of group `group` is not a zombie, from `/proc/<pid>/stat` (`None` if
    /// `/proc` cannot be read). Only called once a group outlives its leader, which is rare.
    pub(super) fn group_has_running_member(group: i32) -> Option<bool> {
        let entries = std::fs::read_dir("/proc").ok()?;
        let running = entries.flatten().any(|entry| {
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            else {
                return false;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // `pid (comm) state ppid pgrp ...`: the command may hold spaces and parentheses.
            let Some((_, rest)) = stat.rsplit_once(") ") else {
                return false;
            };
            let mut fields = rest.split(' ');
            let (state, _ppid, pgrp) = (fields.next(), fields.next(), fields.next());
            pgrp.and_then(|p| p.parse::<i32>().ok()) == Some(group) && state != Some("Z")
        });
        Some(running)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("baton-run-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn shell(dir: &Path, script: &str) -> Shell {
        Shell {
            files: TaskFiles::new("t", dir.join("t.log")),
            script: script.into(),
            env: BTreeMap::from([("GREETING".to_owned(), "hello".to_owned())]),
            cwd: dir.to_owned(),
            timeout: None,
        }
    }

    #[tokio::test]
    async fn commands_log_their_output_and_fail_with_their_status() {
        let dir = scratch("status");
        let launcher = Launcher::new(dir.clone(), "w", Duration::from_secs(5), None);
        let ok = shell(
            &dir,
            "echo \"$GREETING $BATON_TASK $BATON_ATTEMPT\"; echo oops >&2",
        );
        launcher.run(&ok, Phase::Run, 1, None).await.unwrap();
        let failing = Shell {
            script: "exit 3".into(),
            ..ok.clone()
        };
        let error = launcher
            .run(&failing, Phase::Run, 2, None)
            .await
            .unwrap_err();
        assert_eq!(error.message(), "exit status 3");
        let log = std::fs::read_to_string(dir.join("t.log")).unwrap();
        assert_eq!(
            log,
            "--- attempt 1 ---\nhello t 1\noops\n--- attempt 1: exit status 0 ---\n\
             --- attempt 2 ---\n--- attempt 2: exit status 3 ---\n"
        );
        let missing = Shell {
            cwd: dir.join("nowhere"),
            ..ok.clone()
        };
        let error = launcher
            .run(&missing, Phase::Compensate, 1, None)
            .await
            .unwrap_err();
        assert!(
            error.message().starts_with("cannot start `sh -c` in "),
            "{error:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_timeout_stops_the_group_before_the_attempt_ends() {
        let dir = scratch("timeout");
        let launcher = Launcher::new(dir.clone(), "w", Duration::from_millis(300), None);
        // Ignores SIGTERM: only the SIGKILL after the grace period ends it.
        let stubborn = Shell {
            timeout: Some(Duration::from_millis(100)),
            ..shell(&dir, "trap '' TERM; sleep 30 & echo $! > bg.pid; wait")
        };
        let started = std::time::Instant::now();
        let error = launcher
            .run(&stubborn, Phase::Run, 1, None)
            .await
            .unwrap_err();
        assert!(error.is_timeout(), "{error:?}");
        assert_eq!(error.message(), "timed out after 100ms");
        assert!(started.elapsed() >= Duration::from_millis(400));
        let pid = pid_in(&dir.join("bg.pid"));
        assert!(
            gone_within_deadline(pid),
            "the background command {pid} still runs"
        );
        let log = std::fs::read_to_string(dir.join("t.log")).unwrap();
        assert!(
            log.ends_with("--- attempt 1: timed out after 100ms ---\n"),
            "{log}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_dropped_attempt_stops_the_whole_process_group() {
        let dir = scratch("drop");
        let launcher = Launcher::new(dir.clone(), "w", Duration::from_secs(5), None);
        // The grandchild writes its pid; the shell waits for it.
        let sleeper = shell(&dir, "sleep 30 & echo $! > grandchild.pid; wait");
        let attempt = launcher.run(&sleeper, Phase::Run, 1, None);
        let pid_file = dir.join("grandchild.pid");
        let pid = tokio::select! {
            result = attempt => panic!("the command ended early: {result:?}"),
            pid = async {
                loop {
                    if let Ok(text) = std::fs::read_to_string(&pid_file)
                        && let Ok(pid) = text.trim().parse::<i32>()
                    {
                        return pid;
                    }
                    tokio::task::yield_now().await;
                }
            } => pid,
        };
        // Leaving the select dropped the attempt: SIGTERM went to the group.
        launcher.settle().await;
        assert!(
            gone_within_deadline(pid),
            "the grandchild {pid} survived its group's SIGTERM"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn an_attempt_dropped_while_it_stops_its_group_still_has_it_killed() {
        let dir = scratch("drop-while-stopping");
        let launcher = Launcher::new(dir.clone(), "w", Duration::from_millis(400), None);
        // The shell exits at once, leaving a member that ignores SIGTERM: stopping it takes the
        // grace period, and the attempt is dropped during it.
        let leaves = shell(
            &dir,
            "sh -c 'trap \"\" TERM; sleep 30' & echo $! > bg.pid; exit 0",
        );
        tokio::select! {
            result = launcher.run(&leaves, Phase::Run, 1, None) => {
                panic!("the attempt ended within the grace period: {result:?}")
            }
            () = tokio::time::sleep(Duration::from_millis(150)) => {}
        }
        launcher.settle().await;
        let pid = pid_in(&dir.join("bg.pid"));
        assert!(
            gone_within_deadline(pid),
            "the member {pid} outlived the attempt"
        );
        let log = std::fs::read_to_string(dir.join("t.log")).unwrap();
        assert!(
            log.ends_with("--- attempt 1: stopped by baton (the run was stopping) ---\n"),
            "{log}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn after_an_abort_nothing_starts() {
        let dir = scratch("abort");
        let launcher = Launcher::new(dir.clone(), "w", Duration::from_secs(5), None);
        assert_eq!(launcher.abort(), 0);
        let error = launcher
            .run(&shell(&dir, "touch ran"), Phase::Compensate, 1, None)
            .await
            .unwrap_err();
        assert!(!error.is_retryable());
        assert!(!dir.join("ran").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The process id a command wrote to `path`.
    fn pid_in(path: &Path) -> i32 {
        std::fs::read_to_string(path)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    /// Whether process `pid` is gone (or a zombie) within a generous deadline: signals are
    /// delivered asynchronously, so this polls; the deadline only guards against a hang.
    fn gone_within_deadline(pid: i32) -> bool {
        (0..1000).any(|_| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let alive = stat
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| !rest.starts_with('Z'));
            if alive {
                std::thread::sleep(Duration::from_millis(10));
            }
            !alive
        })
    }

    #[test]
    fn statuses_are_described() {
        assert_eq!(describe(ExitStatus::from_raw(2 << 8)), "exit status 2");
        assert_eq!(
            describe(ExitStatus::from_raw(15)),
            "killed by signal 15 (SIGTERM)"
        );
    }
}

//! `baton run`: each task as `sh -c` in its own process group, output to a log file, stopped
//! with SIGTERM then SIGKILL when the orchestrator drops its attempt (cancellation, timeout,
//! fail-fast), and the run driven to its end under SIGINT/SIGTERM.
//!
//! # Stopping commands
//! The orchestrator cancels an attempt by dropping its future. The running command is held by a
//! [`ChildGuard`]: dropping it sends SIGTERM to the command's process group (so `sh -c`'s children
//! stop too) and hands the child to a reaper task that sends SIGKILL to the group if the command
//! is still alive after the grace period, then reaps it. [`Launcher::settle`] waits for every
//! reaper, so `baton` never exits while a command it stopped may still be running.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::{IsTerminal, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use baton_orchestrator::agents::AgentExecutor;
use baton_orchestrator::crates::agents::{AgentSpec, Registry};
use baton_orchestrator::crates::pool::balance::Strategy;
use baton_orchestrator::{
    BuildError, EventKind, Executor, Orchestrator, Pool, PriorityQueue, RunReport, Task, TaskError,
};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::Child;
use tokio::signal::unix::{SignalKind, signal};

use crate::Exit;
use crate::args::RunArgs;
use crate::phase::Phase;
use crate::progress::{Mode, Progress};
use crate::report_html::{self, Timeline};
use crate::summary;
use crate::validate::Plan;

/// One shell command of a task (its `run` or its `compensate`) and where it runs.
#[derive(Debug, Clone)]
pub(crate) struct Shell {
    /// The task's id.
    pub(crate) task: String,
    /// The script given to `sh -c`.
    pub(crate) script: String,
    /// Extra environment variables.
    pub(crate) env: BTreeMap<String, String>,
    /// The working directory.
    pub(crate) cwd: PathBuf,
    /// The log file that receives stdout and stderr (appended to, one header line per attempt).
    pub(crate) log: PathBuf,
}

/// Starts commands for one run and keeps track of the ones it had to stop.
#[derive(Debug)]
pub(crate) struct Launcher {
    run_dir: PathBuf,
    workflow: String,
    grace: Duration,
    /// Reapers still running, and a wake-up each time one ends (for [`Launcher::settle`]).
    reaping: std::sync::atomic::AtomicUsize,
    reaped: tokio::sync::Notify,
    /// One lock per task, held by an attempt (and, after it, by the reaper of its process group):
    /// a retry never starts while the previous attempt's processes still run.
    tasks: Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// The process groups started and not yet known to be gone (for a second Ctrl-C).
    live: Mutex<std::collections::BTreeSet<i32>>,
}

impl Launcher {
    /// A launcher for the run of `workflow` whose files go to `run_dir`; a stopped command gets
    /// `grace` between SIGTERM and SIGKILL.
    pub(crate) fn new(run_dir: PathBuf, workflow: impl Into<String>, grace: Duration) -> Arc<Self> {
        Arc::new(Self {
            run_dir,
            workflow: workflow.into(),
            grace,
            reaping: std::sync::atomic::AtomicUsize::new(0),
            reaped: tokio::sync::Notify::new(),
            tasks: Mutex::new(BTreeMap::new()),
            live: Mutex::new(std::collections::BTreeSet::new()),
        })
    }

    /// Kills every process group still alive at once (SIGKILL): what a second Ctrl-C does when
    /// the first one's grace period or a compensation takes too long. Returns how many it hit.
    pub(crate) fn kill_all(&self) -> usize {
        let live = self
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        live.into_iter()
            .filter(|&group| killpg(Pid::from_raw(group), Signal::SIGKILL).is_ok())
            .count()
    }

    fn track(&self, group: Pid, alive: bool) {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        if alive {
            live.insert(group.as_raw());
        } else {
            live.remove(&group.as_raw());
        }
    }

    /// The lock of task `task`'s processes.
    fn task_lock(&self, task: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(tasks.entry(task.to_owned()).or_default())
    }

    /// Stops what is left of process group `group` (SIGTERM, then SIGKILL after the grace period
    /// if any member is still alive), reaping `child` (its leader) if it was not yet; `lock` is
    /// released once the group is gone. Runs in the background; [`settle`](Self::settle) waits.
    fn stop_group(
        self: &Arc<Self>,
        group: Pid,
        child: Option<Child>,
        lock: tokio::sync::OwnedMutexGuard<()>,
    ) {
        let _ = killpg(group, Signal::SIGTERM);
        // A member stopped by job control (SIGTTIN, say) only acts on SIGTERM once continued.
        let _ = killpg(group, Signal::SIGCONT);
        let grace = self.grace;
        let launcher = Arc::clone(self);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                self.reaping.fetch_add(1, SeqCst);
                runtime.spawn(async move {
                    let _lock = lock;
                    let mut child = child;
                    let deadline = tokio::time::Instant::now() + grace;
                    // The leader first: while it is an unreaped zombie its id cannot be reused,
                    // so signalling the group is safe.
                    if let Some(leader) = child.as_mut()
                        && tokio::time::timeout_at(deadline, leader.wait())
                            .await
                            .is_ok()
                    {
                        child = None;
                    }
                    // Then any other member (background commands), until the deadline.
                    while child.is_none()
                        && group_alive(group)
                        && tokio::time::Instant::now() < deadline
                    {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    if child.is_some() || group_alive(group) {
                        let _ = killpg(group, Signal::SIGKILL);
                    }
                    if let Some(mut leader) = child {
                        let _ = leader.wait().await;
                    }
                    launcher.track(group, false);
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

    /// Runs `shell` once (`attempt` from 1) and waits for it: `Ok` on exit status 0, otherwise a
    /// failed attempt with the message `exit status N` (or the signal that killed it). The
    /// command gets `BATON_RUN_DIR`, `BATON_WORKFLOW`, `BATON_TASK` and `BATON_ATTEMPT` in its
    /// environment. Dropping the returned future stops the command (see the module docs).
    pub(crate) async fn run(
        self: &Arc<Self>,
        shell: &Shell,
        phase: Phase,
        attempt: u32,
    ) -> Result<(), TaskError> {
        let label = match phase {
            Phase::Run => "attempt",
            Phase::Compensate => "compensation attempt",
        };
        // The previous attempt's processes (stopped after a timeout, say) end first.
        let lock = self.task_lock(&shell.task).lock_owned().await;
        let open = || -> std::io::Result<(std::fs::File, std::fs::File)> {
            let mut log = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&shell.log)?;
            writeln!(log, "--- {label} {attempt} ---")?;
            let copy = log.try_clone()?;
            Ok((log, copy))
        };
        let (out, err) = open().map_err(|e| {
            TaskError::msg(format!("cannot open the log {}: {e}", shell.log.display()))
        })?;
        // An absolute path: no search through PATH for every task (eight failed execve calls here).
        let mut command = tokio::process::Command::new("/bin/sh");
        command
            .arg("-c")
            .arg(&shell.script)
            .current_dir(&shell.cwd)
            .envs(&shell.env)
            .env("BATON_RUN_DIR", &self.run_dir)
            .env("BATON_WORKFLOW", &self.workflow)
            .env("BATON_TASK", &shell.task)
            .env("BATON_ATTEMPT", attempt.to_string())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = command.spawn().map_err(|e| {
            TaskError::msg(format!(
                "cannot start `sh -c` in {}: {e}",
                shell.cwd.display()
            ))
        })?;
        let group = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .map(Pid::from_raw);
        if let Some(group) = group {
            self.track(group, true);
        }
        let mut guard = ChildGuard {
            child: Some(child),
            group,
            lock: Some(lock),
            launcher: Arc::clone(self),
        };
        let status = guard
            .wait()
            .await
            .map_err(|e| TaskError::msg(format!("cannot wait for `sh -c`: {e}")))?;
        // The shell is gone; anything it left running in its group (`server &`) ends with the
        // task.
        guard.stop_leftovers();
        if status.success() {
            Ok(())
        } else {
            Err(TaskError::msg(describe(status)))
        }
    }

    /// Waits until every command this launcher stopped has exited (at most the grace period after
    /// the last one was stopped). Cancel-safe: dropping the wait loses nothing.
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

/// A running command; dropping it before the command ended stops the command's process group
/// (SIGTERM now, SIGKILL after the grace period). It holds its task's lock, so the next attempt of
/// the task waits for the group to be gone.
#[derive(Debug)]
pub(crate) struct ChildGuard {
    child: Option<Child>,
    group: Option<Pid>,
    lock: Option<tokio::sync::OwnedMutexGuard<()>>,
    launcher: Arc<Launcher>,
}

impl ChildGuard {
    /// Waits for the command to exit; afterwards, dropping the guard stops only what the command
    /// left behind in its process group.
    pub(crate) async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        let Some(child) = self.child.as_mut() else {
            return Err(std::io::Error::other("the command was already waited for"));
        };
        let status = child.wait().await;
        self.child = None;
        status
    }

    /// After the shell exited: stops the members of its process group that are still alive
    /// (in the background, holding the task's lock until they are gone).
    fn stop_leftovers(&mut self) {
        if self.child.is_some() {
            return;
        }
        if let (Some(group), Some(lock)) = (self.group, self.lock.take()) {
            if group_alive(group) {
                self.launcher.stop_group(group, None, lock);
            } else {
                self.launcher.track(group, false);
            }
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let Some(child) = self.child.take() else {
            self.stop_leftovers();
            return;
        };
        let (Some(group), Some(lock)) = (self.group, self.lock.take()) else {
            return;
        };
        self.launcher.stop_group(group, Some(child), lock);
    }
}

/// Whether process group `group` still has a member.
fn group_alive(group: Pid) -> bool {
    killpg(group, None).is_ok()
}

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

/// Why `baton run` could not run a valid workflow.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RunFailure {
    /// The run directory could not be created.
    #[error("cannot create the run directory {}: {source}", path.display())]
    RunDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The orchestrator could not be built.
    #[error("cannot start the orchestrator: {0}")]
    Orchestrator(#[from] BuildError),
    /// The `[[agent]]`s could not be set up.
    #[error("cannot set up the agents: {0}")]
    Agents(String),
    /// The run could not start or finish.
    #[error("the run failed to complete: {0}")]
    Run(#[from] baton_orchestrator::RunError),
    /// Signal handlers could not be installed.
    #[error("cannot handle SIGINT/SIGTERM: {0}")]
    Signals(std::io::Error),
    /// `--report-json` or `--report` could not be written.
    #[error("cannot write the report to {}: {source}", path.display())]
    Report {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// How progress is shown for these options: JSON, quiet, or lines / a live line depending on
/// whether stderr is a terminal.
pub(crate) fn mode(args: &RunArgs) -> Mode {
    if args.json {
        Mode::Json
    } else if args.quiet {
        Mode::Quiet
    } else if std::io::stderr().is_terminal() {
        Mode::Live
    } else {
        Mode::Lines
    }
}

/// Runs a validated workflow as `baton run` does: creates the run directory, runs every task's
/// command, shows progress, handles SIGINT and SIGTERM, prints the summary (on stdout, or stderr
/// with `--json`), writes `--report-json` and `--report` (HTML), and returns the exit code. Needs a tokio runtime with
/// I/O, time and signals enabled.
pub(crate) async fn run(plan: &Plan, args: &RunArgs) -> Result<Exit, RunFailure> {
    let mode = mode(args);
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // As the user would write it: `.baton/runs/...` rather than `./.baton/runs/...`.
    let beside = if plan.dir == Path::new(".") {
        PathBuf::new()
    } else {
        plan.dir.clone()
    };
    let shown_dir = beside.join(".baton").join("runs").join(format!(
        "{}-{unix}-{}",
        sanitize(&plan.file.name),
        std::process::id()
    ));
    let dir_error = |source| RunFailure::RunDir {
        path: shown_dir.clone(),
        source,
    };
    std::fs::create_dir_all(&shown_dir).map_err(dir_error)?;
    let run_dir = shown_dir.canonicalize().map_err(dir_error)?;
    let base = plan.dir.canonicalize().map_err(dir_error)?;
    if !args.quiet {
        say!("baton: run directory {}", shown_dir.display());
    }

    let launcher = Launcher::new(run_dir.clone(), plan.file.name.clone(), args.grace);
    let workflow = plan.workflow(|id, def| {
        let shell = |script: &str| Shell {
            task: id.to_owned(),
            script: script.to_owned(),
            env: def.env.clone(),
            cwd: def
                .cwd
                .as_ref()
                .map_or_else(|| base.clone(), |cwd| base.join(cwd)),
            log: run_dir.join(log_name(id)),
        };
        let handler = |shell: Shell, phase: Phase| {
            let (shell, launcher) = (Arc::new(shell), Arc::clone(&launcher));
            move |ctx: baton_orchestrator::TaskContext| {
                let (shell, launcher) = (Arc::clone(&shell), Arc::clone(&launcher));
                async move { launcher.run(&shell, phase, ctx.attempt()).await }
            }
        };
        let task = Task::new(id, handler(shell(&def.run), Phase::Run));
        match &def.compensate {
            Some(script) => task.compensate(handler(shell(script), Phase::Compensate)),
            None => task,
        }
    });

    let workers = args
        .workers
        .or(plan.file.max_parallel.as_ref().map(|m| m.value))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(4, |n| n.get().max(4)));
    // No prefetch: a shell command takes a millisecond or more, so handing commands over early
    // gains nothing, and every task shown as running is a command that runs.
    let orchestrator =
        Orchestrator::with_parts_and_prefetch(PriorityQueue::new(), executor(plan, workers)?, 0)?;
    let mut events = orchestrator.subscribe();
    let ids: Vec<String> = workflow.task_ids().map(str::to_owned).collect();
    let collect = args.report.is_some();
    // Progress writes to stdout and stderr with blocking calls (a terminal paused with Ctrl-S, or
    // `--json` piped into a slow reader, blocks them): on the blocking pool, never on a worker.
    let progress = tokio::task::spawn_blocking(move || {
        let mut progress = Progress::new(mode, ids.iter().map(String::as_str));
        let mut timeline = Timeline::new();
        while let Some(event) = events.blocking_recv() {
            let last = matches!(event.kind, EventKind::RunFinished { .. });
            if collect {
                timeline.event(&event);
            }
            progress.event(&event);
            if last {
                break;
            }
        }
        progress.finish();
        timeline
    });

    let mut interrupt = signal(SignalKind::interrupt()).map_err(RunFailure::Signals)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(RunFailure::Signals)?;
    let mut handle = orchestrator.start(&workflow)?;
    let mut interrupted = false;
    let outcome = loop {
        let name = tokio::select! {
            report = &mut handle => break report,
            _ = interrupt.recv() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
        };
        // Written without panicking: stderr may be a closed pipe (`baton run | tee`, Ctrl-C).
        let mut err = std::io::stderr().lock();
        if interrupted {
            let killed = launcher.kill_all();
            let _ = writeln!(
                err,
                "baton: {name} again: killed {killed} process group(s) at once (SIGKILL); \
                 compensations that are still to run will run"
            );
        } else {
            interrupted = true;
            handle.cancel();
            let _ = writeln!(
                err,
                "baton: {name}: cancelling the run (commands get SIGTERM, then SIGKILL after {})",
                humantime::format_duration(args.grace)
            );
        }
    };
    // Whatever happened, no command is left running when baton exits. A signal while waiting for
    // stopped commands (their grace period) kills them at once.
    loop {
        tokio::select! {
            () = launcher.settle() => break,
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        interrupted = true;
        let killed = launcher.kill_all();
        say!("baton: signal again: killed {killed} process group(s) at once (SIGKILL)");
    }
    let report: RunReport = outcome?;
    // If the progress task panicked, its bars are lost: the HTML report still has its table.
    let timeline = progress.await.unwrap_or_default();
    launcher.settle().await;

    // Both reports are attempted before an error is returned.
    let mut written = Ok(());
    if let Some(path) = &args.report {
        let bars = timeline.finish(report.duration);
        let html = report_html::render(&report, &bars);
        written = write_creating_parent(path, html).map_err(|source| RunFailure::Report {
            path: path.clone(),
            source,
        });
    }
    if let Some(path) = &args.report_json {
        let json = serde_json::to_string_pretty(&report).map_err(std::io::Error::other);
        let result = json
            .and_then(|json| write_creating_parent(path, json + "\n"))
            .map_err(|source| RunFailure::Report {
                path: path.clone(),
                source,
            });
        written = written.and(result);
    }
    if let Err(failure) = written {
        if !interrupted {
            return Err(failure);
        }
        // Interrupted: the report error is shown, and the exit code still says so (130).
        let _ = writeln!(std::io::stderr().lock(), "baton: {failure}");
    }
    let text = summary::render(&report, &shown_dir, log_name, interrupted);
    if args.json {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    } else {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
    Ok(if interrupted {
        Exit::Interrupted
    } else if report.is_success() {
        Exit::Success
    } else {
        Exit::Failed
    })
}

/// Where the tasks run: one local pool of `workers`, or, when the file declares `[[agent]]`s, each
/// agent its own pool, tasks placed by their `requires` (least loaded first), and an agent's work
/// rescheduled if it is lost.
fn executor(plan: &Plan, workers: usize) -> Result<Arc<dyn Executor>, RunFailure> {
    if plan.file.agents.is_empty() {
        let pool = Pool::builder()
            .workers(workers)
            .build()
            .map_err(BuildError::from)?;
        return Ok(Arc::new(pool));
    }
    let registry = Registry::builder()
        .build()
        .map_err(|e| RunFailure::Agents(e.to_string()))?;
    let agents = AgentExecutor::new(registry, Strategy::LeastLoaded.balancer())?;
    for def in &plan.file.agents {
        let Some(id) = &def.id else { continue };
        let mut spec = AgentSpec::new(id.value.clone()).weight(def.weight);
        for capability in &def.capabilities {
            spec = spec.capability(capability.value.clone());
        }
        let pool = Pool::builder()
            .workers(def.workers)
            .build()
            .map_err(BuildError::from)?;
        agents
            .add(spec, pool)
            .map_err(|e| RunFailure::Agents(e.to_string()))?;
    }
    Ok(Arc::new(agents))
}

/// Writes `contents` to `path`, creating its parent folders first (a report path like
/// `.baton/report.html` should not need a `mkdir`).
fn write_creating_parent(path: &Path, contents: String) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("baton-run-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn shell(dir: &Path, script: &str) -> Shell {
        Shell {
            task: "t".into(),
            script: script.into(),
            env: BTreeMap::from([("GREETING".to_owned(), "hello".to_owned())]),
            cwd: dir.to_owned(),
            log: dir.join("t.log"),
        }
    }

    #[tokio::test]
    async fn commands_log_their_output_and_fail_with_their_status() {
        let dir = scratch("status");
        let launcher = Launcher::new(dir.clone(), "w", Duration::from_secs(5));
        let ok = shell(
            &dir,
            "echo \"$GREETING $BATON_TASK $BATON_ATTEMPT\"; echo oops >&2",
        );
        launcher.run(&ok, Phase::Run, 1).await.unwrap();
        let failing = shell(&dir, "exit 3");
        let error = launcher.run(&failing, Phase::Run, 2).await.unwrap_err();
        assert_eq!(error.message(), "exit status 3");
        let log = std::fs::read_to_string(dir.join("t.log")).unwrap();
        assert_eq!(
            log,
            "--- attempt 1 ---\nhello t 1\noops\n--- attempt 2 ---\n"
        );
        let missing = Shell {
            cwd: dir.join("nowhere"),
            ..shell(&dir, "true")
        };
        let error = launcher
            .run(&missing, Phase::Compensate, 1)
            .await
            .unwrap_err();
        assert!(
            error.message().starts_with("cannot start `sh -c` in "),
            "{error:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_dropped_attempt_stops_the_whole_process_group() {
        let dir = scratch("drop");
        let launcher = Launcher::new(dir.clone(), "w", Duration::from_secs(5));
        // The grandchild writes its pid; the shell waits for it.
        let script = "sleep 30 & echo $! > grandchild.pid; wait";
        let sleeper = shell(&dir, script);
        let attempt = launcher.run(&sleeper, Phase::Run, 1);
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
    fn statuses_and_names_are_described() {
        assert_eq!(describe(ExitStatus::from_raw(2 << 8)), "exit status 2");
        assert_eq!(
            describe(ExitStatus::from_raw(15)),
            "killed by signal 15 (SIGTERM)"
        );
        assert_eq!(sanitize(".hidden"), "_.hidden");
        assert_eq!(log_name("x y"), "x%20y.log");
        assert_eq!(log_name("build"), "build.log");
        assert_eq!(log_name("a/b c"), "a%2Fb%20c.log");
        assert_ne!(log_name("a b"), log_name("a_b"));
    }
}

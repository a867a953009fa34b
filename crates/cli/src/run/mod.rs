//! `baton run`: a validated workflow's tasks as shell commands, driven to the end of the run
//! under SIGINT and SIGTERM, then the summary and the reports.
//!
//! [`run`] reads as its steps: check the report paths, create the run directory, start the
//! watchdog, turn the plan's tasks into commands ([`launcher`]), start the orchestrator and the
//! progress display, drive the run through signals, wait for every stopped command, print the
//! summary, write the reports ([`reports`]).

mod launcher;
mod reports;
pub(crate) mod watchdog;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use baton_orchestrator::agents::AgentExecutor;
use baton_orchestrator::crates::agents::{AgentSpec, Registry};
use baton_orchestrator::crates::pool::balance::Strategy;
use baton_orchestrator::{
    BuildError, EventKind, Executor, Orchestrator, Pool, PriorityQueue, QueuedTask, RunHandle,
    RunReport, Task, TaskContext, Workflow,
};
use tokio::signal::unix::{Signal, SignalKind, signal};

use self::launcher::{Launcher, Shell, TaskFiles};
use self::reports::PendingReport;
use self::watchdog::Watchdog;
use crate::Exit;
use crate::args::RunArgs;
use crate::escape::terminal;
use crate::logs::{self, log_name};
use crate::phase::Phase;
use crate::progress::{Mode, Progress, Update};
use crate::report_html::{self, Timeline};
use crate::summary;
use crate::validate::Plan;

/// The orchestrator `baton run` drives: the in-process queue, and a pool or agents.
type Runner = Orchestrator<PriorityQueue<QueuedTask>, Arc<dyn Executor>>;

/// Why `baton run` could not run a valid workflow.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RunFailure {
    /// A report path cannot be written (found before anything ran).
    #[error("cannot write the report to {}: {source}", path.display())]
    ReportPath {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
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
}

impl RunFailure {
    /// How `baton` exits for it: a report path it cannot write is a bad command line (2).
    pub(crate) fn exit(&self) -> Exit {
        match self {
            Self::ReportPath { .. } => Exit::Invalid,
            _ => Exit::Failed,
        }
    }
}

/// How progress is shown for these options: JSON, quiet, or lines / a live line depending on
/// whether stderr is a terminal.
fn mode(args: &RunArgs) -> Mode {
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

/// Runs a validated workflow as `baton run` does (see the module docs) and returns how `baton`
/// exits. Needs a tokio runtime with I/O, time and signals enabled.
pub(crate) async fn run(plan: &Plan, args: &RunArgs) -> Result<Exit, RunFailure> {
    if let (Some(html), Some(json)) = (&args.report, &args.report_json)
        && std::path::absolute(html).ok() == std::path::absolute(json).ok()
    {
        return Err(RunFailure::ReportPath {
            path: json.clone(),
            source: std::io::Error::other("--report names the same file"),
        });
    }
    let html = prepare_report(args.report.as_deref())?;
    let json = prepare_report(args.report_json.as_deref())?;
    let dirs = RunDirs::create(plan)?;
    let workers = workers(plan, args);
    if let Some(files) = raise_open_files_limit()
        && files < workers as u64 + 64
    {
        say!(
            "baton: warning: up to {workers} commands may run at once, but baton may open only \
             {files} files (ulimit -n): commands past about {} would fail to start",
            files.saturating_sub(64)
        );
    }
    if !args.quiet {
        say!(
            "baton: run directory {}",
            terminal(&dirs.shown.to_string_lossy())
        );
    }
    let watchdog = Watchdog::start()
        .inspect_err(|e| {
            say!("baton: warning: no watchdog ({e}): a `kill -9` of baton would leave its commands running");
        })
        .ok();
    let launcher = Launcher::new(
        dirs.absolute.clone(),
        plan.file.name.clone(),
        args.grace,
        watchdog,
    );
    let workflow = commands(plan, &launcher, &dirs);
    let orchestrator = orchestrator(plan, workers)?;
    let display = Display::start(mode(args), &workflow, &orchestrator, args.report.is_some());
    let driven = drive(&orchestrator, &workflow, &launcher, &display, args.grace).await;
    launcher.finish();
    let (report, interrupted) = driven?;
    let timeline = display.finish().await;

    let text = summary::render(&report, &dirs.shown, args.all, interrupted);
    print_summary(&text, args.json);
    let mut written = true;
    if let Some(pending) = html {
        let bars = timeline.finish(report.duration);
        let page = report_html::render(&report, &bars, &dirs.shown);
        written &= commit(pending, page.as_bytes());
    }
    if let Some(pending) = json {
        let text = serde_json::to_string_pretty(&report).map(|json| json + "\n");
        written &= match text {
            Ok(text) => commit(pending, text.as_bytes()),
            Err(error) => {
                say!(
                    "baton: cannot write the report to {}: {error}",
                    pending.path().display()
                );
                false
            }
        };
    }
    Ok(if interrupted {
        Exit::Interrupted
    } else if report.is_success() && written {
        Exit::Success
    } else {
        Exit::Failed
    })
}

/// Raises the soft limit on open files to the hard one, and returns the limit now: each running
/// command costs `baton` a descriptor (to learn of its exit), and 10,000 may run at once, where
/// the usual soft limit is 1,024. Best effort: the run goes on under the old limit.
fn raise_open_files_limit() -> Option<u64> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
        return Some(hard);
    }
    Some(soft)
}

/// How many commands may run at once: `--workers`, else `max_parallel`, else the CPU count (at
/// least 4); with `[[agent]]`s, the sum of their workers.
fn workers(plan: &Plan, args: &RunArgs) -> usize {
    if !plan.file.agents.is_empty() {
        return plan.file.agents.iter().map(|a| a.workers).sum();
    }
    args.workers
        .or(plan.file.max_parallel.as_ref().map(|m| m.value))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(4, |n| n.get().max(4)))
}

/// Checks that a report can be written to `path` before anything runs (see [`reports`]).
fn prepare_report(path: Option<&Path>) -> Result<Option<PendingReport>, RunFailure> {
    path.map(|path| {
        PendingReport::prepare(path).map_err(|source| RunFailure::ReportPath {
            path: path.to_owned(),
            source,
        })
    })
    .transpose()
}

/// Writes a report, saying why if it cannot; true if it was written.
fn commit(pending: PendingReport, contents: &[u8]) -> bool {
    let path = pending.path().to_owned();
    match pending.commit(contents) {
        Ok(()) => true,
        Err(error) => {
            say!(
                "baton: cannot write the report to {}: {error}",
                path.display()
            );
            false
        }
    }
}

/// The summary, on stdout (on stderr with `--json`, whose stdout holds only events).
fn print_summary(text: &str, json: bool) {
    if json {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    } else {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
}

/// Where a run's files go.
struct RunDirs {
    /// The run directory as the user would write it (`.baton/runs/...`, relative to where
    /// `baton` runs).
    shown: PathBuf,
    /// The run directory, absolute (for commands, which run elsewhere).
    absolute: PathBuf,
    /// The workflow file's directory, absolute (relative `cwd`s are based there).
    base: PathBuf,
}

impl RunDirs {
    /// Creates the run directory, fresh, beside the workflow file.
    fn create(plan: &Plan) -> Result<Self, RunFailure> {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        // As the user would write it: `.baton/runs/...` rather than `./.baton/runs/...`.
        let beside = if plan.dir == Path::new(".") {
            PathBuf::new()
        } else {
            plan.dir.clone()
        };
        let shown = logs::run_dir_path(&beside, &plan.file.name, unix, std::process::id());
        let error = |source| RunFailure::RunDir {
            path: shown.clone(),
            source,
        };
        logs::create_run_dir(&shown).map_err(error)?;
        let absolute = shown.canonicalize().map_err(error)?;
        let base = plan.dir.canonicalize().map_err(error)?;
        Ok(Self {
            shown,
            absolute,
            base,
        })
    }
}

/// The workflow with each task's `run` (and `compensate`) as a command started by `launcher`;
/// task timeouts are the commands' own (see [`launcher`]).
fn commands(plan: &Plan, launcher: &Arc<Launcher>, dirs: &RunDirs) -> Workflow {
    plan.workflow_with_handler_timeouts(|id, def| {
        let files = TaskFiles::new(id, dirs.absolute.join(log_name(id)));
        let shell = |script: &str| Shell {
            files: Arc::clone(&files),
            script: script.to_owned(),
            env: def.env.clone(),
            cwd: def
                .cwd
                .as_ref()
                .map_or_else(|| dirs.base.clone(), |cwd| dirs.base.join(&cwd.value)),
            timeout: def.timeout.as_ref().map(|t| t.value),
        };
        let handler = |shell: Shell, phase: Phase| {
            let (shell, launcher) = (Arc::new(shell), Arc::clone(launcher));
            move |ctx: TaskContext| {
                let (shell, launcher) = (Arc::clone(&shell), Arc::clone(&launcher));
                async move {
                    launcher
                        .run(&shell, phase, ctx.attempt(), ctx.agent())
                        .await
                }
            }
        };
        let task = Task::new(id, handler(shell(&def.run), Phase::Run));
        match &def.compensate {
            Some(script) => task.compensate(handler(shell(script), Phase::Compensate)),
            None => task,
        }
    })
}

/// The orchestrator: the workflow's own parallelism limit applies in the engine, and the pool has
/// `workers` (the agents, their own).
fn orchestrator(plan: &Plan, workers: usize) -> Result<Runner, RunFailure> {
    // No prefetch: a shell command takes a millisecond or more, so handing commands over early
    // gains nothing, and every task shown as running is a command that runs.
    Ok(Orchestrator::with_parts_and_prefetch(
        PriorityQueue::new(),
        executor(plan, workers)?,
        0,
    )?)
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

/// The progress display, on a thread of its own: it writes to the terminal with blocking calls (a
/// terminal paused with Ctrl-S, or `--json` piped into a slow reader, blocks them), which must
/// never stall a worker.
struct Display {
    updates: mpsc::Sender<Update>,
    thread: tokio::task::JoinHandle<Timeline>,
}

impl Display {
    /// Shows the orchestrator's events in `mode`, collecting the timeline if `collect`.
    fn start(mode: Mode, workflow: &Workflow, orchestrator: &Runner, collect: bool) -> Self {
        let (updates, received) = mpsc::channel();
        let mut events = orchestrator.subscribe();
        let forward = updates.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                let last = matches!(event.kind, EventKind::RunFinished { .. });
                if forward.send(Update::Event(event)).is_err() || last {
                    break;
                }
            }
        });
        let ids: Vec<String> = workflow.task_ids().map(str::to_owned).collect();
        let thread = tokio::task::spawn_blocking(move || {
            let mut progress = Progress::new(mode, ids.iter().map(String::as_str));
            let mut timeline = Timeline::new();
            progress.show(&received, |event| {
                if collect {
                    timeline.event(event);
                }
            });
            timeline
        });
        Self { updates, thread }
    }

    /// Shows `text` on a line of its own.
    fn notice(&self, text: String) {
        if let Err(mpsc::SendError(Update::Notice(text))) = self.updates.send(Update::Notice(text))
        {
            say!("{text}");
        }
    }

    /// Waits for the display to show the run's end; the attempts it collected.
    async fn finish(self) -> Timeline {
        drop(self.updates);
        // If the display panicked, its bars are lost: the HTML report still has its table.
        self.thread.await.unwrap_or_default()
    }
}

/// Starts the run and drives it to its end: the first SIGINT or SIGTERM cancels it (running
/// commands get SIGTERM, then SIGKILL after `grace`; a saga still compensates), a second one
/// kills every command at once and lets nothing else start. Returns the report and whether a
/// signal interrupted the run, once no command it started is left.
async fn drive(
    orchestrator: &Runner,
    workflow: &Workflow,
    launcher: &Arc<Launcher>,
    display: &Display,
    grace: Duration,
) -> Result<(RunReport, bool), RunFailure> {
    let mut signals = Signals::new()?;
    let mut handle: RunHandle = orchestrator.start(workflow)?;
    let mut interrupted = false;
    let outcome = loop {
        let name = tokio::select! {
            report = &mut handle => break report,
            name = signals.next() => name,
        };
        if interrupted {
            let killed = launcher.abort();
            display.notice(format!(
                "baton: {name} again: killed {} at once (SIGKILL); nothing more will start, \
                 compensations included",
                summary::count(killed as u64, "process group", "process groups")
            ));
        } else {
            interrupted = true;
            handle.cancel();
            display.notice(format!(
                "baton: {name}: cancelling the run (commands get SIGTERM, then SIGKILL after {}; \
                 a second signal kills them at once)",
                humantime::format_duration(grace)
            ));
        }
    };
    // Whatever happened, no command is left running when baton exits. A signal while waiting for
    // stopped commands (their grace period) kills them at once.
    loop {
        tokio::select! {
            () = launcher.settle() => break,
            name = signals.next() => {
                interrupted = true;
                let killed = launcher.abort();
                say!(
                    "baton: {name} again: killed {} at once (SIGKILL)",
                    summary::count(killed as u64, "process group", "process groups")
                );
            }
        }
    }
    Ok((outcome?, interrupted))
}

/// SIGINT and SIGTERM, as one stream.
struct Signals {
    interrupt: Signal,
    terminate: Signal,
}

impl Signals {
    fn new() -> Result<Self, RunFailure> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt()).map_err(RunFailure::Signals)?,
            terminate: signal(SignalKind::terminate()).map_err(RunFailure::Signals)?,
        })
    }

    /// The next signal's name.
    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
        }
    }
}

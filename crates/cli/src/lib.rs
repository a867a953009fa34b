//! The `baton` command: write a workflow file, run it, watch it, and read what happened.
//!
//! # Commands
//! - `baton validate FILE`: reads the file and builds the workflow; prints every problem as
//!   `FILE:LINE:COL: <field path>: <message>` (unknown fields, wrong types, bad durations,
//!   priorities and retry policies, values past a [limit](limits), unknown dependencies with a
//!   suggestion, duplicate ids with both places, self-dependencies, cycles with their members in
//!   order, ...) and exits 2, or prints a one-line OK and exits 0.
//! - `baton graph FILE [--format mermaid|dot]`: prints the dependency graph (Mermaid by default).
//! - `baton run FILE [--quiet] [--json] [--all] [--report-json PATH] [--report PATH.html]
//!   [--workers N] [--grace DURATION]`: validates (nothing runs if the file is invalid), then
//!   runs each task as `/bin/sh -c <run>` in a process group of its own, its output appended to
//!   `<run dir>/<task id>.log` (the run directory, `.baton/runs/<workflow>-<unix time>-<pid>/`
//!   beside the workflow file, is created fresh for each run). Progress goes to stderr, a
//!   summary to stdout, and the reports to their paths (checked before anything runs, written
//!   whole). Ctrl-C or SIGTERM cancels the run (commands get SIGTERM, then SIGKILL after the
//!   grace period; a saga still compensates); a second one kills every command at once and
//!   starts nothing more. A watchdog process kills the commands if `baton` itself is killed.
//! - `baton help [COMMAND | format]`.
//!
//! `docs/workflow-file.md` in the repository is the reference of the file format, the
//! environment commands see, the logs, the limits and the output; `baton help format` prints it
//! in short.
//!
//! # Exit codes
//! | code | meaning |
//! |------|---------|
//! | 0    | success (the file is valid; the run succeeded) |
//! | 1    | the workflow failed, or timed out (or a report could not be written at its end) |
//! | 2    | invalid workflow file or command line |
//! | 130  | interrupted by SIGINT or SIGTERM |
//!
//! # The workflow file
//! TOML; unknown fields are errors everywhere.
//!
//! ```toml
//! [workflow]
//! name = "release"
//! max_parallel = 4
//! saga = true
//!
//! [defaults]
//! retry = { strategy = "exponential", initial = "1s", attempts = 3 }
//!
//! [[task]]
//! id = "build"
//! run = "cargo build --release"
//! timeout = "20m"
//!
//! [[task]]
//! id = "publish"
//! run = "./publish.sh"
//! needs = ["build"]
//! compensate = "./unpublish.sh"
//! ```
//!
//! # As a library
//! [`main`] is the whole command. The public modules are the parts a program can reuse: [`args`]
//! (the command line), [`file`](mod@file) (the format and its spans), [`validate`] (a file
//! checked into a [`validate::Plan`], every problem located) and [`limits`]. Running, progress,
//! the summary and the reports are the command's own (`baton run`), not API.
//!
//! ```
//! use baton_cli::{Exit, args, validate};
//! use std::path::Path;
//!
//! let source = "[workflow]\nname = \"hello\"\n\n[[task]]\nid = \"greet\"\nrun = \"echo hi\"\n";
//! let plan = validate::check(Path::new("hello.toml"), source).unwrap();
//! assert_eq!(plan.file.tasks.len(), 1);
//! assert_eq!(baton_cli::main(["--version"]), Exit::Success);
//! assert_eq!(baton_cli::main(["validate"]), Exit::Invalid);
//! # let _ = args::parse(["--help"]);
//! ```
#![forbid(unsafe_code)]

/// `eprintln!` of one line that cannot panic (stderr may be a closed pipe: `baton run | tee
/// log`, then Ctrl-C kills `tee` too, and a message that cannot be shown must not abort the run)
/// and is escaped for the terminal: paths and values from the command line or the file cannot
/// put control characters on it.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let line = format!($($arg)*);
        let _ = writeln!(std::io::stderr().lock(), "{}", crate::escape::terminal(&line));
    }};
}

pub mod args;
mod escape;
pub mod file;
pub mod limits;
mod logs;
mod phase;
mod progress;
mod report_html;
mod run;
mod suggest;
mod summary;
pub mod validate;

use std::ffi::OsString;
use std::process::ExitCode;

use args::{Command, GraphFormat};
use validate::LoadError;

/// How `baton` exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Exit {
    /// 0: the file is valid, the run succeeded.
    Success,
    /// 1: the workflow failed (or timed out, or could not be started).
    Failed,
    /// 2: an invalid workflow file or command line.
    Invalid,
    /// 130: interrupted by SIGINT or SIGTERM.
    Interrupted,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Failed => 1,
            Self::Invalid => 2,
            Self::Interrupted => 130,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}

/// Runs the `baton` command with `args` (without the program name), printing to stdout and
/// stderr, and returns how it should exit.
pub fn main<I>(args: I) -> Exit
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let command = match args::parse(args) {
        Ok(command) => command,
        Err(error) => {
            say!("baton: {error}");
            say!("{}", error.hint());
            return Exit::Invalid;
        }
    };
    match command {
        Command::Help(topic) => {
            print!("{}", topic.text());
            Exit::Success
        }
        Command::Version => {
            println!("baton {}", env!("CARGO_PKG_VERSION"));
            Exit::Success
        }
        Command::Watchdog => {
            run::watchdog::serve(std::io::stdin().lock());
            Exit::Success
        }
        Command::Validate { file } => match load(&file) {
            Ok(plan) => {
                println!(
                    "{}: OK: workflow \"{}\", {}",
                    escape::terminal(&file.to_string_lossy()),
                    escape::terminal(&plan.file.name),
                    summary::count(plan.file.tasks.len() as u64, "task", "tasks")
                );
                Exit::Success
            }
            Err(exit) => exit,
        },
        Command::Graph { file, format } => match load(&file) {
            Ok(plan) => {
                let workflow =
                    plan.workflow(|id, _| baton_orchestrator::Task::new(id, |_| async { Ok(()) }));
                match format {
                    GraphFormat::Dot => print!("{}", workflow.dag().to_dot()),
                    _ => print!("{}", workflow.dag().to_mermaid()),
                }
                Exit::Success
            }
            Err(exit) => exit,
        },
        Command::Run(run_args) => {
            let plan = match load(&run_args.file) {
                Ok(plan) => plan,
                Err(exit) => return exit,
            };
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => {
                    say!("baton: cannot start the async runtime: {error}");
                    return Exit::Failed;
                }
            };
            match runtime.block_on(run::run(&plan, &run_args)) {
                Ok(exit) => exit,
                Err(error) => {
                    say!("baton: {error}");
                    error.exit()
                }
            }
        }
    }
}

/// Loads and validates a workflow file, printing its problems (exit 2) if it has any.
fn load(file: &std::path::Path) -> Result<validate::Plan, Exit> {
    validate::load(file).map_err(|error| {
        match error {
            LoadError::Invalid(invalid) => {
                eprint!("{invalid}");
                say!("{}", validate::HINT);
            }
            other => say!("baton: {other}"),
        }
        Exit::Invalid
    })
}

//! Command-line arguments (parsed with `lexopt`).

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// `baton validate FILE`.
    Validate {
        /// The workflow file.
        file: PathBuf,
    },
    /// `baton graph FILE [--format dot|mermaid]`.
    Graph {
        /// The workflow file.
        file: PathBuf,
        /// The output format.
        format: GraphFormat,
    },
    /// `baton run FILE [options]`.
    Run(RunArgs),
    /// `--help`, for the whole command or one subcommand.
    Help(Topic),
    /// `--version`.
    Version,
    /// `baton __watchdog`: the process `baton run` starts to kill its commands if it is killed
    /// (not for people; see the run's docs).
    #[doc(hidden)]
    Watchdog,
}

/// Which help text to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Topic {
    /// `baton --help`.
    Main,
    /// `baton validate --help`.
    Validate,
    /// `baton graph --help`.
    Graph,
    /// `baton run --help`.
    Run,
    /// `baton help format`: the workflow file's fields, in short.
    Format,
}

impl Topic {
    /// The help text.
    pub fn text(self) -> &'static str {
        match self {
            Self::Main => MAIN_HELP,
            Self::Validate => VALIDATE_HELP,
            Self::Graph => GRAPH_HELP,
            Self::Run => RUN_HELP,
            Self::Format => FORMAT_HELP,
        }
    }
}

/// `baton graph`'s output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum GraphFormat {
    /// A Mermaid flowchart (the default).
    #[default]
    Mermaid,
    /// Graphviz DOT.
    Dot,
}

/// `baton run`'s options.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunArgs {
    /// The workflow file.
    pub file: PathBuf,
    /// `--quiet`: print only the summary.
    pub quiet: bool,
    /// `--json`: one JSON object per event on stdout.
    pub json: bool,
    /// `--report-json PATH`: where to write the run report.
    pub report_json: Option<PathBuf>,
    /// `--report PATH.html`: where to write the HTML run report (timeline and task table).
    pub report: Option<PathBuf>,
    /// `--workers N`: how many tasks may run at once.
    pub workers: Option<usize>,
    /// `--grace DURATION`: how long a stopped command has between SIGTERM and SIGKILL.
    pub grace: Duration,
    /// `--all`: every task's row in the summary, however many.
    pub all: bool,
}

impl RunArgs {
    /// The default grace period between SIGTERM and SIGKILL.
    pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

    /// Default options for running `file`.
    pub fn new(file: impl Into<PathBuf>) -> Self {
        Self {
            file: file.into(),
            quiet: false,
            json: false,
            report_json: None,
            report: None,
            workers: None,
            grace: Self::DEFAULT_GRACE,
            all: false,
        }
    }
}

/// A command line that makes no sense: the message, and the help topic to hint at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct UsageError {
    /// What is wrong.
    pub message: String,
    /// The help that would have helped.
    pub topic: Topic,
}

impl UsageError {
    fn new(topic: Topic, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            topic,
        }
    }

    /// The one-line hint printed after the message.
    pub fn hint(&self) -> &'static str {
        match self.topic {
            Topic::Main => "try `baton --help`",
            Topic::Validate => "try `baton validate --help`",
            Topic::Graph => "try `baton graph --help`",
            Topic::Run => "try `baton run --help`",
            Topic::Format => "try `baton help format`",
        }
    }
}

impl From<lexopt::Error> for UsageError {
    fn from(error: lexopt::Error) -> Self {
        Self::new(Topic::Main, error.to_string())
    }
}

/// Parses the arguments after the program name.
///
/// ```
/// use baton_cli::args::{parse, Command, GraphFormat};
///
/// let command = parse(["graph", "release.toml", "--format", "dot"]).unwrap();
/// assert_eq!(
///     command,
///     Command::Graph { file: "release.toml".into(), format: GraphFormat::Dot }
/// );
/// let error = parse(["run"]).unwrap_err();
/// assert_eq!(error.to_string(), "missing the workflow FILE to run");
/// assert_eq!(error.hint(), "try `baton run --help`");
/// ```
pub fn parse<I>(args: I) -> Result<Command, UsageError>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    use lexopt::prelude::*;

    let mut parser = lexopt::Parser::from_args(args);
    let sub = match parser.next()? {
        None => {
            return Err(UsageError::new(
                Topic::Main,
                "missing a command (validate, graph or run)",
            ));
        }
        Some(Short('h') | Long("help")) => return Ok(Command::Help(Topic::Main)),
        Some(Short('V') | Long("version")) => return Ok(Command::Version),
        Some(Value(value)) if value == crate::run::watchdog::COMMAND => {
            return Ok(Command::Watchdog);
        }
        Some(Value(value)) => value.string()?,
        Some(other) => return Err(UsageError::new(Topic::Main, other.unexpected().to_string())),
    };
    let topic = match sub.as_str() {
        "validate" => Topic::Validate,
        "graph" => Topic::Graph,
        "run" => Topic::Run,
        "help" => {
            return Ok(Command::Help(match parser.next()? {
                None | Some(Short('h') | Long("help")) => Topic::Main,
                Some(Value(v)) => match v.string()?.as_str() {
                    "validate" => Topic::Validate,
                    "graph" => Topic::Graph,
                    "run" => Topic::Run,
                    "format" => Topic::Format,
                    other => {
                        return Err(UsageError::new(
                            Topic::Main,
                            format!("no help for unknown command `{other}`"),
                        ));
                    }
                },
                Some(other) => {
                    return Err(UsageError::new(Topic::Main, other.unexpected().to_string()));
                }
            }));
        }
        other => {
            return Err(UsageError::new(
                Topic::Main,
                format!("unknown command `{other}` (expected validate, graph or run)"),
            ));
        }
    };
    let usage = |message: String| UsageError::new(topic, message);
    let mut file: Option<PathBuf> = None;
    let mut format = GraphFormat::default();
    let mut run = RunArgs::new(PathBuf::new());
    while let Some(arg) = parser.next().map_err(|e| usage(e.to_string()))? {
        match (topic, arg) {
            (_, Short('h') | Long("help")) => return Ok(Command::Help(topic)),
            (_, Value(value)) if file.is_none() => file = Some(value.into()),
            (Topic::Graph, Long("format")) => {
                let value = parser.value().map_err(|e| usage(e.to_string()))?;
                format = match value.to_str() {
                    Some("mermaid") => GraphFormat::Mermaid,
                    Some("dot") => GraphFormat::Dot,
                    _ => {
                        return Err(usage(format!(
                            "invalid --format {}: expected `mermaid` or `dot`",
                            value.to_string_lossy()
                        )));
                    }
                }
            }
            (Topic::Run, Short('q') | Long("quiet")) => run.quiet = true,
            (Topic::Run, Long("all")) => run.all = true,
            (Topic::Run, Long("json")) => run.json = true,
            (Topic::Run, Long("report-json")) => {
                run.report_json = Some(parser.value().map_err(|e| usage(e.to_string()))?.into());
            }
            (Topic::Run, Long("report")) => {
                run.report = Some(parser.value().map_err(|e| usage(e.to_string()))?.into());
            }
            (Topic::Run, Long("workers")) => {
                let value = parser.value().map_err(|e| usage(e.to_string()))?;
                let text = value.to_string_lossy();
                let max = crate::limits::MAX_WORKERS;
                match text.parse::<usize>() {
                    Ok(n) if (1..=max).contains(&n) => run.workers = Some(n),
                    _ => {
                        return Err(usage(format!(
                            "invalid --workers {text}: expected a whole number from 1 to {max}"
                        )));
                    }
                }
            }
            (Topic::Run, Long("grace")) => {
                let value = parser.value().map_err(|e| usage(e.to_string()))?;
                let text = value.to_string_lossy();
                run.grace = humantime::parse_duration(&text)
                    .map_err(|e| format!("{e} (write it like \"5s\")"))
                    .and_then(|d| crate::limits::check_duration(d, &text))
                    .map_err(|e| usage(format!("invalid --grace {text}: {e}")))?;
            }
            (_, arg) => return Err(usage(arg.unexpected().to_string())),
        }
    }
    let Some(file) = file else {
        let verb = match topic {
            Topic::Validate => "validate",
            Topic::Graph => "graph",
            _ => "run",
        };
        return Err(usage(format!("missing the workflow FILE to {verb}")));
    };
    Ok(match topic {
        Topic::Validate => Command::Validate { file },
        Topic::Graph => Command::Graph { file, format },
        _ => Command::Run(RunArgs { file, ..run }),
    })
}

const MAIN_HELP: &str = "\
baton: run workflows of shell commands with dependencies, retries and compensation

Usage: baton <COMMAND> [OPTIONS] FILE

Commands:
  validate FILE   check a workflow file and print every problem
  graph FILE      print the workflow's dependency graph (Mermaid or DOT)
  run FILE        run the workflow
  help [COMMAND]  print this help, or a command's
  help format     the workflow file's tables and fields, in short

The workflow file is TOML: `baton help format` lists its fields; docs/workflow-file.md in
Baton's repository is the full reference (types, defaults, limits, examples).

Options:
  -h, --help      print help
  -V, --version   print the version

Exit codes: 0 success, 1 the workflow failed or timed out, 2 invalid file or usage,
130 interrupted (SIGINT or SIGTERM).
";

const VALIDATE_HELP: &str = "\
baton validate: check a workflow file

Usage: baton validate FILE

Prints every problem as FILE:LINE:COL: <field>: <message> and exits 2, or prints a one-line OK
and exits 0.
";

const GRAPH_HELP: &str = "\
baton graph: print a workflow's dependency graph

Usage: baton graph FILE [--format mermaid|dot]

Options:
      --format FORMAT   mermaid (default) or dot (Graphviz)
";

const RUN_HELP: &str = "\
baton run: run a workflow

Usage: baton run FILE [OPTIONS]

Each task runs `sh -c <run>` in its own process group, its output in
.baton/runs/<workflow>-<unix time>-<pid>/<task>.log beside the workflow file.

Options:
  -q, --quiet              print only the summary
      --json               print one JSON object per event on stdout (nothing else goes there)
      --report-json PATH   write the run report as JSON to PATH
      --report PATH.html   write a self-contained HTML report to PATH.html: a timeline with
                           one bar per attempt (retries, compensations, the critical path)
                           and a table of the tasks; written however the run ends
      --workers N          run at most N tasks at once (default: the workflow's max_parallel,
                           else the number of CPUs, at least 4)
      --grace DURATION     time a stopped command has between SIGTERM and SIGKILL (default 5s)
      --all                show every task in the summary (a run of more than 30 tasks shows
                           its failures and a count of the rest)

Ctrl-C or SIGTERM cancels the run: running commands are stopped, a saga compensates what
completed, and baton exits 130.
";

const FORMAT_HELP: &str = "\
baton help format: the workflow file (TOML), in short; docs/workflow-file.md has it all

[workflow]                    required
  name = \"release\"            required, at most 200 characters
  max_parallel = 4            1 to 10000; tasks of the run at once
  fail_mode = \"fail-fast\"     default; or \"continue\" (only dependents of a failure skip)
  saga = false                true: compensate completed tasks when the run fails
  timeout = \"30m\"             the whole run's limit

[defaults]                    optional: retry, timeout, priority, env, cwd for every task

[[task]]                      at least one
  id = \"build\"                required, unique; names its log, <id>.log
  run = \"make\"                required; run as /bin/sh -c, exit 0 is success
  needs = [\"fetch\"]           tasks that must succeed first
  priority = \"normal\"         critical, high, normal, low, background
  retry = { strategy = \"exponential\", initial = \"1s\", attempts = 3 }
                              attempts counts every try, the first included
  timeout = \"10m\"             per attempt, from the command's start
  compensate = \"make clean\"   undoes the task in a saga
  env = { K = \"v\" }           over [defaults] env; values are not expanded
  cwd = \"sub\"                 relative to the workflow file's directory; must exist
  requires = [\"gpu\"]          capabilities of the agent that runs it

[[agent]]                     optional: local agents, each a pool of its own
  id = \"gpu-box\"   capabilities = [\"gpu\"]   workers = 2   weight = 1

Retry strategies: fixed (delay), exponential (initial, factor), linear (initial, increment),
random (min, max); all take attempts, max_delay, max_elapsed, jitter (none, full, equal,
decorrelated). Durations are strings: \"250ms\", \"30s\", \"10m\", at most 1 year.
Commands see BATON_RUN_DIR, BATON_WORKFLOW, BATON_TASK, BATON_ATTEMPT and BATON_AGENT.
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_options_parse() {
        let command = parse([
            "run",
            "-q",
            "wf.toml",
            "--json",
            "--report-json",
            "r.json",
            "--report",
            "r.html",
            "--workers=3",
            "--grace",
            "250ms",
        ])
        .unwrap();
        let Command::Run(run) = command else {
            panic!("a run command expected, got {command:?}");
        };
        assert_eq!(run.file, PathBuf::from("wf.toml"));
        assert!(run.quiet && run.json);
        assert_eq!(run.report_json, Some(PathBuf::from("r.json")));
        assert_eq!(run.report, Some(PathBuf::from("r.html")));
        assert_eq!(run.workers, Some(3));
        assert_eq!(run.grace, Duration::from_millis(250));
    }

    #[test]
    fn help_and_version() {
        assert_eq!(parse(["--help"]), Ok(Command::Help(Topic::Main)));
        assert_eq!(parse(["-V"]), Ok(Command::Version));
        assert_eq!(parse(["run", "--help"]), Ok(Command::Help(Topic::Run)));
        assert_eq!(parse(["help", "graph"]), Ok(Command::Help(Topic::Graph)));
        assert!(Topic::Run.text().contains("--grace"));
        assert!(Topic::Run.text().contains("--report PATH.html"));
    }

    #[test]
    fn usage_errors_say_what_and_hint_where() {
        let cases: [(&[&str], &str, &str); 7] = [
            (&[], "missing a command", "try `baton --help`"),
            (
                &["launch"],
                "unknown command `launch`",
                "try `baton --help`",
            ),
            (
                &["run", "a", "b"],
                "unexpected argument",
                "try `baton run --help`",
            ),
            (
                &["run", "a", "--workers", "0"],
                "invalid --workers 0",
                "try `baton run --help`",
            ),
            (
                &["run", "a", "--grace", "soon"],
                "invalid --grace soon",
                "try `baton run --help`",
            ),
            (
                &["graph", "a", "--format", "png"],
                "invalid --format png",
                "try `baton graph --help`",
            ),
            (
                &["validate", "--json", "a"],
                "invalid option '--json'",
                "try `baton validate --help`",
            ),
        ];
        for (args, message, hint) in cases {
            let error = parse(args.iter().copied()).unwrap_err();
            assert!(error.message.contains(message), "{args:?}: {error}");
            assert_eq!(error.hint(), hint, "{args:?}");
        }
    }

    #[test]
    fn graph_defaults_to_mermaid() {
        assert_eq!(
            parse(["graph", "f.toml"]),
            Ok(Command::Graph {
                file: "f.toml".into(),
                format: GraphFormat::Mermaid
            })
        );
        assert_eq!(
            parse(["validate", "f.toml"]),
            Ok(Command::Validate {
                file: "f.toml".into()
            })
        );
    }
}

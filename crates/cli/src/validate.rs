//! Validation: a workflow file read with [`file::parse`], then built into an
//! orchestrator [`Workflow`], every problem of both steps located in the file.

use std::fmt;
use std::path::{Path, PathBuf};

use baton_orchestrator::{Problem as GraphProblem, Task, Workflow, WorkflowError, WorkflowProblem};

use crate::escape::terminal;
use crate::file::{self, Diagnostic, LineIndex, TaskDef, WorkflowFile};
use crate::suggest::Suggestions;

/// A valid workflow file: what it says, and where it is.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Plan {
    /// The file's content.
    pub file: WorkflowFile,
    /// The file's path, as given.
    pub path: PathBuf,
    /// The directory the file is in (relative `cwd`s and the run directory are based there).
    pub dir: PathBuf,
}

impl Plan {
    /// The orchestrator workflow, each task made by `make` (which is given the task's id and
    /// definition and sets its handler and compensation; `build` adds the dependencies, priority,
    /// retry policy and timeout).
    pub fn workflow(&self, make: impl FnMut(&str, &TaskDef) -> Task) -> Workflow {
        self.build(make, Timeouts::Orchestrator)
    }

    /// [`workflow`](Self::workflow), but the tasks' timeouts are left to their handlers (`baton
    /// run`'s commands enforce their own, from the start of the command, with a grace period).
    pub(crate) fn workflow_with_handler_timeouts(
        &self,
        make: impl FnMut(&str, &TaskDef) -> Task,
    ) -> Workflow {
        self.build(make, Timeouts::Handler)
    }

    fn build(&self, make: impl FnMut(&str, &TaskDef) -> Task, timeouts: Timeouts) -> Workflow {
        build(&self.file, make, timeouts).unwrap_or_else(|(problems, _)| {
            panic!("a validated plan builds (validation ran the same builder): {problems:?}")
        })
    }
}

/// Who enforces the tasks' timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timeouts {
    /// The orchestrator (the task's `timeout`).
    Orchestrator,
    /// The task's handler.
    Handler,
}

/// The line printed after a file's problems: where every field is described.
pub const HINT: &str =
    "hint: `baton help format` lists every field; docs/workflow-file.md is the full reference";

/// Why a file is not a valid workflow: its problems, located.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Invalid {
    /// The file's path, as given.
    pub path: PathBuf,
    /// Every problem, each as `LINE:COL: path: message` would show it, in source order.
    pub problems: Vec<Problem>,
}

/// One problem of a workflow file, with its line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// The line, from 1.
    pub line: usize,
    /// The column (in characters), from 1.
    pub column: usize,
    /// The field at fault (empty for a syntax error).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Invalid {
    /// One line per problem: `FILE:LINE:COL: <field path>: <message>`, every part escaped for
    /// the terminal (a task id or key written with a newline or ESC cannot forge a line).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.path.to_string_lossy();
        for p in &self.problems {
            write!(f, "{}:{}:{}: ", terminal(&file), p.line, p.column)?;
            if !p.path.is_empty() {
                write!(f, "{}: ", terminal(&p.path))?;
            }
            writeln!(f, "{}", terminal(&p.message))?;
        }
        Ok(())
    }
}

/// Why a workflow file could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read workflow file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The path names something other than a regular file (a directory, a device such as
    /// `/dev/zero`, a FIFO...).
    #[error("cannot read workflow file {}: it is not a regular file ({kind})", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// The file is larger than [`MAX_FILE_BYTES`](crate::limits::MAX_FILE_BYTES).
    #[error(
        "cannot read workflow file {}: it is {size} bytes, over the limit of {} bytes",
        path.display(),
        crate::limits::MAX_FILE_BYTES
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size, or at least how much was read of it.
        size: u64,
    },
    /// The file is not a valid workflow.
    #[error("{0}")]
    Invalid(Invalid),
}

/// Reads and validates the workflow file at `path`: a regular file (or a symlink to one) of at
/// most [`MAX_FILE_BYTES`](crate::limits::MAX_FILE_BYTES), read in bounded memory whatever it
/// is.
pub fn load(path: &Path) -> Result<Plan, LoadError> {
    let source = read_bounded(path)?;
    check(path, &source).map_err(LoadError::Invalid)
}

/// The text of the file at `path`, refusing anything but a regular file within the size limit.
fn read_bounded(path: &Path) -> Result<String, LoadError> {
    use std::io::Read as _;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};

    let read_error = |source| LoadError::Read {
        path: path.to_owned(),
        source,
    };
    let check_kind = |meta: &std::fs::Metadata| {
        let kind = meta.file_type();
        let what = if kind.is_file() {
            return Ok(());
        } else if kind.is_dir() {
            "a directory"
        } else if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_char_device() || kind.is_block_device() {
            "a device"
        } else if kind.is_socket() {
            "a socket"
        } else {
            "not a file"
        };
        Err(LoadError::NotAFile {
            path: path.to_owned(),
            kind: what,
        })
    };
    // Looked at before it is opened: opening a FIFO would wait for a writer.
    check_kind(&std::fs::metadata(path).map_err(read_error)?)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(path)
        .map_err(read_error)?;
    let meta = file.metadata().map_err(read_error)?;
    check_kind(&meta)?;
    let limit = crate::limits::MAX_FILE_BYTES;
    let too_large = |size| LoadError::TooLarge {
        path: path.to_owned(),
        size,
    };
    if meta.len() > limit {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| {
        read_error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "it is not UTF-8 text (byte {} is not part of a UTF-8 character)",
                e.utf8_error().valid_up_to() + 1
            ),
        ))
    })
}

/// Validates `source`, the text of the workflow file at `path`: every format problem, then every
/// problem the orchestrator's workflow builder finds (unknown dependencies with a suggestion,
/// duplicate ids with both places, self-dependencies, cycles with their members in order, zero
/// timeouts and parallelism, an empty workflow), each located in the file.
///
/// ```
/// use std::path::Path;
/// use baton_cli::validate;
///
/// let source = "[workflow]\nname = \"w\"\n[[task]]\nid = \"fetch\"\nrun = \"true\"\n\
///               [[task]]\nid = \"build\"\nrun = \"true\"\nneeds = [\"fetc\"]\n";
/// let invalid = validate::check(Path::new("w.toml"), source).unwrap_err();
/// assert_eq!(
///     invalid.to_string(),
///     "w.toml:9:10: task[1].needs[0]: unknown task \"fetc\" (did you mean \"fetch\"?)\n"
/// );
/// ```
pub fn check(path: &Path, source: &str) -> Result<Plan, Invalid> {
    let (file, mut problems) = file::parse(source);
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    problems.extend(missing_cwds(&file, &dir));
    let index = LineIndex::new(source);
    // A syntax error (the only problem with no field path) leaves nothing to build.
    let unreadable = problems.iter().any(|d| d.path.is_empty());
    let built = build(
        &file,
        |id, _| Task::new(id, |_| async { Ok(()) }),
        Timeouts::Orchestrator,
    );
    if let (false, Err((graph, positions))) = (unreadable, built) {
        // A `task` key that is not an array of tables already explains why there is no task.
        let tasks_unreadable = problems.iter().any(|d| d.path == "task");
        let suggestions = Suggestions::new(
            file.tasks
                .iter()
                .filter_map(|t| Some(t.id.as_ref()?.value.as_str())),
        );
        problems.extend(
            graph
                .iter()
                .filter(|p| !(tasks_unreadable && **p == WorkflowProblem::Empty))
                .map(|p| locate(&file, &index, &positions, &suggestions, p)),
        );
    }
    problems.sort_by_key(|d| (d.span.start, d.span.end));
    problems.dedup();
    if problems.is_empty() {
        return Ok(Plan {
            file,
            path: path.to_owned(),
            dir,
        });
    }
    let problems = problems
        .into_iter()
        .map(|d| {
            let (line, column) = index.line_col(d.span.start);
            Problem {
                line,
                column,
                path: d.path,
                message: d.message,
            }
        })
        .collect();
    Err(Invalid {
        path: path.to_owned(),
        problems,
    })
}

/// Every task's `cwd` that is not a directory, relative to `dir` (the workflow file's): a command
/// could not start there. A `cwd` set in `[defaults]` is reported once, where it is written.
fn missing_cwds(file: &WorkflowFile, dir: &Path) -> Vec<Diagnostic> {
    let mut problems: Vec<Diagnostic> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for cwd in file.tasks.iter().filter_map(|t| t.cwd.as_ref()) {
        if !seen.insert(cwd.span.start) {
            continue;
        }
        let full = dir.join(&cwd.value);
        let message = match std::fs::metadata(&full) {
            Ok(meta) if meta.is_dir() => continue,
            Ok(_) => format!("{:?} is not a directory", full.display().to_string()),
            Err(error) => format!(
                "directory {:?} cannot be used: {error} (a relative cwd is relative to the \
                 workflow file's directory)",
                full.display().to_string()
            ),
        };
        problems.push(Diagnostic::new(cwd.span.clone(), cwd.path.clone(), message));
    }
    problems
}

/// Builds the workflow from every task that has an id; on failure, returns the builder's problems
/// and the file position of each task the builder was given (the builder's task `i` is the file's
/// task `positions[i]`).
fn build(
    file: &WorkflowFile,
    mut make: impl FnMut(&str, &TaskDef) -> Task,
    timeouts: Timeouts,
) -> Result<Workflow, (Vec<WorkflowProblem>, Vec<usize>)> {
    let mut builder = Workflow::builder(file.name.clone())
        .failure_mode(file.fail_mode)
        .saga(file.saga);
    if let Some(n) = &file.max_parallel {
        builder = builder.max_parallelism(n.value);
    }
    if let Some(t) = &file.timeout {
        builder = builder.timeout(t.value);
    }
    if let Some(policy) = file.retry {
        builder = builder.retry(policy);
    }
    // The builder's position `i` is the file's task `positions[i]`.
    let mut positions = Vec::new();
    for def in &file.tasks {
        let Some(id) = &def.id else { continue };
        let mut task = make(&id.value, def)
            .needs(def.needs.iter().map(|n| n.value.clone()))
            .requires(def.requires.iter().map(|c| c.value.clone()))
            .priority(def.priority);
        if let Some(policy) = def.retry {
            task = task.retry(policy);
        }
        if let (Some(t), Timeouts::Orchestrator) = (&def.timeout, timeouts) {
            task = task.timeout(t.value);
        }
        builder = builder.task(task);
        positions.push(def.index);
    }
    builder
        .build()
        .map_err(|error: WorkflowError| (error.problems().to_vec(), positions))
}

/// Where a builder problem is in the file.
fn locate(
    file: &WorkflowFile,
    index: &LineIndex<'_>,
    positions: &[usize],
    suggestions: &Suggestions<'_>,
    problem: &WorkflowProblem,
) -> Diagnostic {
    let task = |position: usize| &file.tasks[positions[position]];
    let header = || Diagnostic::new(file.header.clone(), "workflow", problem.to_string());
    match problem {
        WorkflowProblem::Graph(GraphProblem::UnknownDependency {
            dependency,
            position,
            dependency_index,
            ..
        }) => {
            let need = &task(*position).needs[*dependency_index];
            let hint = suggestions
                .best(dependency)
                .map(|s| format!(" (did you mean \"{s}\"?)"))
                .unwrap_or_default();
            Diagnostic::new(
                need.span.clone(),
                need.path.clone(),
                format!("unknown task \"{dependency}\"{hint}"),
            )
        }
        WorkflowProblem::Graph(GraphProblem::DuplicateId {
            id,
            first,
            position,
            ..
        }) => {
            let (first, later) = (task(*first), task(*position));
            let (Some(first_id), Some(later_id)) = (&first.id, &later.id) else {
                return header();
            };
            let (line, column) = index.line_col(first_id.span.start);
            Diagnostic::new(
                later_id.span.clone(),
                later_id.path.clone(),
                format!(
                    "duplicate id \"{id}\": also declared as {} at {line}:{column}",
                    first_id.path
                ),
            )
        }
        WorkflowProblem::Graph(GraphProblem::SelfDependency {
            node,
            position,
            dependency_index,
        }) => {
            let need = &task(*position).needs[*dependency_index];
            Diagnostic::new(
                need.span.clone(),
                need.path.clone(),
                format!("task \"{node}\" depends on itself"),
            )
        }
        WorkflowProblem::Graph(GraphProblem::Cycle {
            nodes,
            positions: members,
        }) => {
            let mut text: Vec<String> = nodes.iter().map(|n| format!("\"{n}\"")).collect();
            text.push(text[0].clone());
            let message = format!("cycle: {}", text.join(" -> "));
            // Point at the first member's `needs` entry that names the next member.
            let first = task(members[0]);
            let next = &nodes[1 % nodes.len()];
            match first.needs.iter().find(|n| &n.value == next) {
                Some(need) => Diagnostic::new(need.span.clone(), need.path.clone(), message),
                None => Diagnostic::new(
                    first.header.clone(),
                    format!("task[{}]", first.index),
                    message,
                ),
            }
        }
        // Zero timeouts and parallelism are refused where the file is read: these cannot come.
        WorkflowProblem::Empty => Diagnostic::new(
            file.header.clone(),
            "task",
            "the workflow has no task: add at least one [[task]] table",
        ),
        _ => header(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(source: &str) -> Vec<String> {
        match check(Path::new("f.toml"), source) {
            Ok(_) => Vec::new(),
            Err(invalid) => invalid.to_string().lines().map(str::to_owned).collect(),
        }
    }

    const HEAD: &str = "[workflow]\nname = \"w\"\n";

    fn task(id: &str, needs: &str) -> String {
        format!("[[task]]\nid = \"{id}\"\nrun = \"true\"\nneeds = [{needs}]\n")
    }

    #[test]
    fn a_valid_file_is_a_plan_in_its_directory() {
        let source = format!("{HEAD}{}{}", task("a", ""), task("b", "\"a\""));
        let plan = check(Path::new("dir/f.toml"), &source).unwrap();
        assert_eq!(plan.dir, Path::new("dir"));
        let workflow = plan.workflow(|id, _| Task::new(id, |_| async { Ok(()) }));
        assert_eq!(workflow.len(), 2);
        assert_eq!(workflow.name(), "w");
        let here = check(Path::new("f.toml"), &source).unwrap();
        assert_eq!(here.dir, Path::new("."));
    }

    #[test]
    fn cycles_name_their_members_in_order() {
        let source = format!(
            "{HEAD}{}{}{}",
            task("a", "\"c\""),
            task("b", "\"a\""),
            task("c", "\"b\"")
        );
        assert_eq!(
            messages(&source),
            ["f.toml:6:10: task[0].needs[0]: cycle: \"a\" -> \"c\" -> \"b\" -> \"a\""]
        );
    }

    #[test]
    fn duplicates_name_both_places_and_self_dependencies_their_entry() {
        let source = format!("{HEAD}{}{}", task("a", "\"a\""), task("a", ""));
        assert_eq!(
            messages(&source),
            [
                "f.toml:6:10: task[0].needs[0]: task \"a\" depends on itself",
                "f.toml:8:6: task[1].id: duplicate id \"a\": also declared as task[0].id at 4:6",
            ]
        );
    }

    #[test]
    fn format_and_graph_problems_come_together_in_source_order() {
        let source = format!(
            "{HEAD}max_parallel = 0\n{}priority = \"top\"\n{}",
            task("a", "\"nope\""),
            task("b", "")
        );
        assert_eq!(
            messages(&source),
            [
                "f.toml:3:16: workflow.max_parallel: must be at least 1, got 0",
                "f.toml:7:10: task[0].needs[0]: unknown task \"nope\"",
                "f.toml:8:12: task[0].priority: unknown priority \"top\": expected one of critical, high, normal, low, background",
            ]
        );
    }

    #[test]
    fn zero_timeouts_point_at_where_they_were_set() {
        let source = format!(
            "{HEAD}[defaults]\ntimeout = \"0s\"\n{}{}",
            task("a", ""),
            task("b", "")
        );
        assert_eq!(
            messages(&source),
            ["f.toml:4:11: defaults.timeout: a timeout must be greater than zero"]
        );
        assert_eq!(
            messages("[workflow]\nname = \"w\"\n"),
            ["f.toml:1:2: task: the workflow has no task: add at least one [[task]] table"]
        );
    }
}

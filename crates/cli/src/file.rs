//! The workflow file format: TOML read into [`WorkflowFile`] with the source spans of everything
//! a message may need to point at, and every format problem found as a [`Diagnostic`].
//!
//! Parsing never stops at the first problem: [`parse`] walks the whole document, checks every
//! table's keys (unknown fields are errors everywhere), every value's type, every duration,
//! priority and retry policy, and returns what it could read together with everything it could
//! not. The dependency graph is checked afterwards, by the orchestrator's workflow builder (see
//! [`validate`](crate::validate)).

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use baton_orchestrator::{FailureMode, Policy, Priority};
use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::limits;
use crate::suggest::suggest;

/// One problem in a workflow file: where (a byte range of the source), which field (a path such
/// as `task[2].needs[0]`), and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Diagnostic {
    /// The bytes of the source the problem is about.
    pub span: Range<usize>,
    /// The field at fault, e.g. `workflow.timeout` or `task[1].retry.factor` (empty for a TOML
    /// syntax error, which is about the text rather than a field).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl Diagnostic {
    /// A problem with the field `path`, at `span`.
    pub fn new(span: Range<usize>, path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            span,
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Converts byte offsets of a source text to 1-based line and column numbers (columns count
/// characters, not bytes).
///
/// ```
/// use baton_cli::file::LineIndex;
///
/// let index = LineIndex::new("[workflow]\nname = \"é x\"\n");
/// assert_eq!(index.line_col(0), (1, 1));
/// assert_eq!(index.line_col(11), (2, 1));
/// assert_eq!(index.line_col(21), (2, 10)); // after the two-byte 'é'
/// ```
#[derive(Debug, Clone)]
pub struct LineIndex<'s> {
    source: &'s str,
    /// The byte offset where each line starts.
    starts: Vec<usize>,
}

impl<'s> LineIndex<'s> {
    /// Indexes `source`'s lines.
    pub fn new(source: &'s str) -> Self {
        let starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { source, starts }
    }

    /// The line and column (both from 1) of byte `offset`; an offset past the end (or inside a
    /// multi-byte character) is clamped to the nearest character boundary before it.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.source.len());
        while !self.source.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&start| start <= offset) - 1;
        let column = self.source[self.starts[line]..offset].chars().count() + 1;
        (line + 1, column)
    }
}

/// A value read from the file, with the span it was read from and the path of its field
/// (a default from `[defaults]` keeps the default's path and span).
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub span: Range<usize>,
    /// Its field path, e.g. `defaults.timeout`.
    pub path: String,
}

/// A workflow file as read: the workflow's settings and its tasks, with `[defaults]` already
/// applied to each task.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WorkflowFile {
    /// `workflow.name` (empty if missing: a diagnostic says so).
    pub name: String,
    /// `workflow.max_parallel`.
    pub max_parallel: Option<Located<usize>>,
    /// `workflow.fail_mode`.
    pub fail_mode: FailureMode,
    /// `workflow.saga`.
    pub saga: bool,
    /// `workflow.timeout`.
    pub timeout: Option<Located<Duration>>,
    /// `defaults.retry`: the retry policy of tasks that set none.
    pub retry: Option<Policy>,
    /// The tasks, in file order.
    pub tasks: Vec<TaskDef>,
    /// The `[[agent]]`s, in file order (none: tasks run on one local pool).
    pub agents: Vec<AgentDef>,
    /// The span of the `[workflow]` header (the start of the file if there is none).
    pub header: Range<usize>,
}

/// One `[[task]]`, with `[defaults]` applied.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TaskDef {
    /// Its position among the file's tasks (from 0), as in `task[2]`.
    pub index: usize,
    /// Where its `[[task]]` header is.
    pub header: Range<usize>,
    /// `id` (missing: a diagnostic says so, and the task is left out of the graph).
    pub id: Option<Located<String>>,
    /// `run`: the shell command.
    pub run: String,
    /// `needs`.
    pub needs: Vec<Located<String>>,
    /// `priority` (or the default's).
    pub priority: Priority,
    /// `retry` (or none: the workflow's default policy applies).
    pub retry: Option<Policy>,
    /// `timeout` (or the default's).
    pub timeout: Option<Located<Duration>>,
    /// `compensate`: the shell command that undoes the task.
    pub compensate: Option<String>,
    /// `env` over the default's `env`.
    pub env: BTreeMap<String, String>,
    /// `cwd` (or the default's) as written: relative to the workflow file's directory.
    pub cwd: Option<Located<String>>,
    /// `requires`: capabilities the agent that runs the task must have.
    pub requires: Vec<Located<String>>,
}

/// One `[[agent]]`: a local agent (a pool of its own) with capabilities that tasks can require.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AgentDef {
    /// Where its `[[agent]]` header is.
    pub header: Range<usize>,
    /// `id`.
    pub id: Option<Located<String>>,
    /// `capabilities`.
    pub capabilities: Vec<Located<String>>,
    /// `workers` (default 2): how many of its tasks run at once.
    pub workers: usize,
    /// `weight` (default 1): its share of the work against other agents.
    pub weight: u32,
}

const TOP_KEYS: &[&str] = &["workflow", "defaults", "task", "agent"];
const AGENT_KEYS: &[&str] = &["id", "capabilities", "workers", "weight"];
const WORKFLOW_KEYS: &[&str] = &["name", "max_parallel", "fail_mode", "saga", "timeout"];
const DEFAULTS_KEYS: &[&str] = &["retry", "timeout", "priority", "env", "cwd"];
const TASK_KEYS: &[&str] = &[
    "id",
    "run",
    "needs",
    "priority",
    "retry",
    "timeout",
    "compensate",
    "env",
    "cwd",
    "requires",
];

/// Reads a workflow file's text: what could be read, and every problem found (empty when the
/// file is well-formed). Problems are in source order.
///
/// ```
/// use baton_cli::file;
///
/// let (file, problems) = file::parse(
///     "[workflow]\nname = \"demo\"\n\n[[task]]\nid = \"a\"\nrun = \"true\"\ntimeout = \"5 parsecs\"\n",
/// );
/// assert_eq!(file.tasks.len(), 1);
/// assert_eq!(problems.len(), 1);
/// assert_eq!(problems[0].path, "task[0].timeout");
/// assert!(problems[0].message.contains("is not a duration"));
/// ```
pub fn parse(source: &str) -> (WorkflowFile, Vec<Diagnostic>) {
    let mut walker = Walker::default();
    let mut file = WorkflowFile {
        name: String::new(),
        max_parallel: None,
        fail_mode: FailureMode::FailFast,
        saga: false,
        timeout: None,
        retry: None,
        tasks: Vec::new(),
        agents: Vec::new(),
        header: 0..0,
    };
    let root = match DeTable::parse(source) {
        Ok(root) => root,
        Err(error) => {
            let span = error.span().unwrap_or(0..0);
            let message = format!("TOML syntax error: {}", error.message().trim_end());
            walker.push(span, "", message);
            return (file, walker.finish());
        }
    };
    let root = root.get_ref();
    walker.check_keys(root, TOP_KEYS, "");

    match entry(root, "workflow") {
        None => walker.push(0..0, "workflow", "missing table [workflow]"),
        Some((key, value)) => {
            file.header = key.span();
            walker.workflow(value, &mut file);
        }
    }
    let defaults = match entry(root, "defaults") {
        Some((_, value)) => walker.defaults(value, &mut file),
        None => Defaults::default(),
    };
    if let Some((_, value)) = entry(root, "task") {
        match value.get_ref() {
            DeValue::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    if let Some(task) = walker.task(item, index, &defaults) {
                        file.tasks.push(task);
                    }
                }
            }
            other => walker.push(
                value.span(),
                "task",
                format!(
                    "expected an array of tables (write each task as [[task]]), found {}",
                    type_phrase(other)
                ),
            ),
        }
    }
    if let Some((_, value)) = entry(root, "agent") {
        match value.get_ref() {
            DeValue::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    if let Some(agent) = walker.agent(item, index) {
                        file.agents.push(agent);
                    }
                }
            }
            other => walker.push(
                value.span(),
                "agent",
                format!(
                    "expected an array of tables (write each agent as [[agent]]), found {}",
                    type_phrase(other)
                ),
            ),
        }
    }
    walker.check_agents(&file);
    (file, walker.finish())
}

/// What `[defaults]` sets for every task.
#[derive(Debug, Default)]
struct Defaults {
    timeout: Option<Located<Duration>>,
    priority: Option<Priority>,
    env: BTreeMap<String, String>,
    cwd: Option<Located<String>>,
}

fn entry<'a, 'i>(
    table: &'a DeTable<'i>,
    key: &str,
) -> Option<(
    &'a Spanned<toml::de::DeString<'i>>,
    &'a Spanned<DeValue<'i>>,
)> {
    table.iter().find(|(k, _)| k.get_ref() == key)
}

/// "a string", "an integer", ...: a value's type for messages.
fn type_phrase(value: &DeValue<'_>) -> String {
    let name = match value {
        DeValue::String(_) => "string",
        DeValue::Integer(_) => "integer",
        DeValue::Float(_) => "float",
        DeValue::Boolean(_) => "boolean",
        DeValue::Datetime(_) => "datetime",
        DeValue::Array(_) => "array",
        DeValue::Table(_) => "table",
    };
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name}")
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Reads values, collecting problems.
#[derive(Debug, Default)]
struct Walker {
    problems: Vec<Diagnostic>,
}

type Value<'i> = Spanned<DeValue<'i>>;

impl Walker {
    fn push(&mut self, span: Range<usize>, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Diagnostic::new(span, path, message));
    }

    fn finish(mut self) -> Vec<Diagnostic> {
        self.problems.sort_by_key(|d| (d.span.start, d.span.end));
        self.problems.dedup();
        self.problems
    }

    fn check_keys(&mut self, table: &DeTable<'_>, allowed: &[&str], path: &str) {
        for key in table.keys() {
            let name = key.get_ref();
            if allowed.contains(&name.as_ref()) {
                continue;
            }
            let expected = allowed
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let hint = suggest(name, allowed.iter().copied())
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            let (span, field) = (key.span(), join(path, name));
            self.push(
                span,
                field,
                format!("unknown field `{name}`{hint}, expected one of {expected}"),
            );
        }
    }

    fn table<'a, 'i>(&mut self, value: &'a Value<'i>, path: &str) -> Option<&'a DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(table) => Some(table),
            other => {
                self.push(
                    value.span(),
                    path,
                    format!("expected a table, found {}", type_phrase(other)),
                );
                None
            }
        }
    }

    /// A string: any string in the file but one holding a NUL byte, which no command, file name,
    /// argument or environment variable can hold.
    fn string(&mut self, value: &Value<'_>, path: &str) -> Option<String> {
        match value.get_ref() {
            DeValue::String(s) if s.contains('\0') => {
                self.push(
                    value.span(),
                    path,
                    "contains a NUL byte (\\0), which no command, file name or environment \
                     variable can hold",
                );
                None
            }
            DeValue::String(s) => Some(s.to_string()),
            other => {
                self.push(
                    value.span(),
                    path,
                    format!("expected a string, found {}", type_phrase(other)),
                );
                None
            }
        }
    }

    /// A non-empty string with where it was written.
    fn located_string(&mut self, value: &Value<'_>, path: &str) -> Option<Located<String>> {
        self.non_empty_string(value, path).map(|text| Located {
            value: text,
            span: value.span(),
            path: path.to_owned(),
        })
    }

    /// A name: a non-empty string without control characters.
    fn name(&mut self, value: &Value<'_>, path: &str) -> Option<Located<String>> {
        self.located_string(value, path)
            .filter(|name| self.no_control(&name.value, value, path))
    }

    /// A task's id: a non-empty string whose log file's name fits in a file name.
    fn task_id(&mut self, value: &Value<'_>, path: &str) -> Option<Located<String>> {
        let id = self.name(value, path)?;
        let bytes = crate::logs::log_name(&id.value).len();
        if bytes > limits::MAX_FILE_NAME_BYTES {
            self.push(
                value.span(),
                path,
                format!(
                    "is too long: its log file's name would take {bytes} bytes, over the {} a \
                     file name can hold (letters, digits, `-` and `_` take one byte each, any \
                     other byte three)",
                    limits::MAX_FILE_NAME_BYTES
                ),
            );
            return None;
        }
        Some(id)
    }

    /// A name of at most `max` characters.
    fn label(&mut self, value: &Value<'_>, path: &str, max: usize) -> Option<Located<String>> {
        let label = self.name(value, path)?;
        let chars = label.value.chars().count();
        if chars > max {
            self.push(
                value.span(),
                path,
                format!("is {chars} characters long, over the limit of {max}"),
            );
            return None;
        }
        Some(label)
    }

    fn non_empty_string(&mut self, value: &Value<'_>, path: &str) -> Option<String> {
        let text = self.string(value, path)?;
        if text.trim().is_empty() {
            self.push(value.span(), path, "must not be empty");
            return None;
        }
        Some(text)
    }

    fn boolean(&mut self, value: &Value<'_>, path: &str) -> Option<bool> {
        match value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            other => {
                self.push(
                    value.span(),
                    path,
                    format!(
                        "expected a boolean (true or false), found {}",
                        type_phrase(other)
                    ),
                );
                None
            }
        }
    }

    /// A timeout: a duration string, more than zero and at most the limit.
    fn timeout(&mut self, value: &Value<'_>, path: &str) -> Option<Located<Duration>> {
        let text = match value.get_ref() {
            DeValue::String(s) => s.to_string(),
            other => {
                self.push(
                    value.span(),
                    path,
                    format!(
                        "expected a duration string such as \"30s\" or \"10m\", found {}",
                        type_phrase(other)
                    ),
                );
                return None;
            }
        };
        match humantime::parse_duration(&text) {
            Ok(d) if d.is_zero() => {
                self.push(value.span(), path, "a timeout must be greater than zero");
                None
            }
            Ok(d) => match limits::check_duration(d, &text) {
                Ok(d) => Some(Located {
                    value: d,
                    span: value.span(),
                    path: path.to_owned(),
                }),
                Err(message) => {
                    self.push(value.span(), path, message);
                    None
                }
            },
            Err(error) => {
                self.push(
                    value.span(),
                    path,
                    format!(
                        "{text:?} is not a duration: {error} (write it like \"250ms\", \"30s\" or \"10m\")"
                    ),
                );
                None
            }
        }
    }

    fn priority(&mut self, value: &Value<'_>, path: &str) -> Option<Priority> {
        let text = self.string(value, path)?;
        match text.parse::<Priority>() {
            Ok(p) => Some(p),
            Err(error) => {
                self.push(value.span(), path, error.to_string());
                None
            }
        }
    }

    /// An array of strings; `what` names its items in the error ("task ids", "capabilities").
    fn strings(&mut self, value: &Value<'_>, path: &str, what: &str) -> Vec<Located<String>> {
        let DeValue::Array(items) = value.get_ref() else {
            self.push(
                value.span(),
                path,
                format!(
                    "expected an array of {what}, found {}",
                    type_phrase(value.get_ref())
                ),
            );
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let path = format!("{path}[{i}]");
                self.string(item, &path)
                    .filter(|text| self.no_control(text, item, &path))
                    .map(|value| Located {
                        value,
                        span: item.span(),
                        path,
                    })
            })
            .collect()
    }

    /// Whether `text` (a name: an id, a capability, a variable's name) is free of control
    /// characters (newlines, ESC, BEL...), which a name has no use for; reported if not.
    fn no_control(&mut self, text: &str, value: &Value<'_>, path: &str) -> bool {
        match text.chars().find(|c| c.is_control()) {
            None => true,
            Some(c) => {
                self.push(
                    value.span(),
                    path,
                    format!(
                        "contains the control character U+{:04X}: a name may not (commands and \
                         values may)",
                        u32::from(c)
                    ),
                );
                false
            }
        }
    }

    fn env(&mut self, value: &Value<'_>, path: &str) -> BTreeMap<String, String> {
        let Some(table) = self.table(value, path) else {
            return BTreeMap::new();
        };
        let mut env = BTreeMap::new();
        for (key, value) in table.iter() {
            let name = key.get_ref().to_string();
            let field = join(path, &name);
            if name.is_empty() || name.contains('=') || name.chars().any(char::is_control) {
                self.push(
                    key.span(),
                    &field,
                    "an environment variable name must be non-empty, without '=', NUL or \
                     another control character",
                );
                continue;
            }
            if let Some(text) = self.string(value, &field) {
                env.insert(name, text);
            }
        }
        env
    }

    fn policy(&mut self, value: &Value<'_>, path: &str) -> Option<Policy> {
        let table = self.table(value, path)?;
        // Every duration anywhere is within the limit: any string of the table that reads as a
        // duration (whichever field the retry crate takes it as) is checked here.
        let mut too_long = false;
        for (key, field) in table.iter() {
            if let DeValue::String(text) = field.get_ref()
                && let Ok(d) = humantime::parse_duration(text)
                && let Err(message) = limits::check_duration(d, text)
            {
                self.push(field.span(), join(path, key.get_ref()), message);
                too_long = true;
            }
        }
        if too_long {
            return None;
        }
        match Policy::deserialize(ValueDeserializer::from(value.clone())) {
            Ok(policy) => Some(policy),
            Err(error) => {
                let message = error.message().to_owned();
                // The retry crate's messages start with the field at fault in backticks:
                // point at that field when the table has it.
                let field = message
                    .strip_prefix('`')
                    .and_then(|rest| rest.split_once('`'))
                    .map(|(field, _)| field)
                    .or_else(|| {
                        message
                            .strip_prefix("unknown field `")
                            .and_then(|rest| rest.split_once('`'))
                            .map(|(field, _)| field)
                    });
                let located = field.and_then(|f| entry(table, f).map(|(k, v)| (f, k, v)));
                match located {
                    Some((field, key, found)) => {
                        let span = if message.starts_with("unknown field") {
                            key.span()
                        } else {
                            found.span()
                        };
                        self.push(span, join(path, field), message);
                    }
                    None => {
                        let span = error.span().unwrap_or_else(|| value.span());
                        self.push(span, path, message);
                    }
                }
                None
            }
        }
    }

    fn workflow(&mut self, value: &Value<'_>, file: &mut WorkflowFile) {
        let Some(table) = self.table(value, "workflow") else {
            return;
        };
        self.check_keys(table, WORKFLOW_KEYS, "workflow");
        match entry(table, "name") {
            Some((_, v)) => {
                if let Some(name) = self.label(v, "workflow.name", limits::MAX_NAME_CHARS) {
                    file.name = name.value;
                }
            }
            None => self.push(
                file.header.clone(),
                "workflow",
                "missing field `name` (the workflow's name)",
            ),
        }
        if let Some((_, v)) = entry(table, "max_parallel")
            && let Some(n) = self.positive(v, "workflow.max_parallel", limits::MAX_WORKERS as u64)
        {
            file.max_parallel = Some(Located {
                value: n as usize,
                span: v.span(),
                path: "workflow.max_parallel".into(),
            });
        }
        if let Some((_, v)) = entry(table, "fail_mode")
            && let Some(mode) = self.string(v, "workflow.fail_mode")
        {
            match mode.as_str() {
                "fail-fast" => file.fail_mode = FailureMode::FailFast,
                "continue" => file.fail_mode = FailureMode::Continue,
                other => self.push(
                    v.span(),
                    "workflow.fail_mode",
                    format!("unknown fail mode {other:?}: expected \"fail-fast\" or \"continue\""),
                ),
            }
        }
        if let Some((_, v)) = entry(table, "saga")
            && let Some(saga) = self.boolean(v, "workflow.saga")
        {
            file.saga = saga;
        }
        if let Some((_, v)) = entry(table, "timeout") {
            file.timeout = self.timeout(v, "workflow.timeout");
        }
    }

    fn defaults(&mut self, value: &Value<'_>, file: &mut WorkflowFile) -> Defaults {
        let mut defaults = Defaults::default();
        let Some(table) = self.table(value, "defaults") else {
            return defaults;
        };
        self.check_keys(table, DEFAULTS_KEYS, "defaults");
        if let Some((_, v)) = entry(table, "retry") {
            file.retry = self.policy(v, "defaults.retry");
        }
        if let Some((_, v)) = entry(table, "timeout") {
            defaults.timeout = self.timeout(v, "defaults.timeout");
        }
        if let Some((_, v)) = entry(table, "priority") {
            defaults.priority = self.priority(v, "defaults.priority");
        }
        if let Some((_, v)) = entry(table, "env") {
            defaults.env = self.env(v, "defaults.env");
        }
        if let Some((_, v)) = entry(table, "cwd") {
            defaults.cwd = self.located_string(v, "defaults.cwd");
        }
        defaults
    }

    fn task(&mut self, value: &Value<'_>, index: usize, defaults: &Defaults) -> Option<TaskDef> {
        let path = format!("task[{index}]");
        let table = self.table(value, &path)?;
        self.check_keys(table, TASK_KEYS, &path);
        let field = |name: &str| format!("{path}.{name}");
        let mut task = TaskDef {
            index,
            header: value.span(),
            id: None,
            run: String::new(),
            needs: Vec::new(),
            priority: defaults.priority.unwrap_or_default(),
            retry: None,
            timeout: defaults.timeout.clone(),
            compensate: None,
            env: defaults.env.clone(),
            cwd: defaults.cwd.clone(),
            requires: Vec::new(),
        };
        match entry(table, "id") {
            Some((_, v)) => task.id = self.task_id(v, &field("id")),
            None => self.push(value.span(), &path, "missing field `id` (the task's name)"),
        }
        match entry(table, "run") {
            Some((_, v)) => {
                if let Some(run) = self.non_empty_string(v, &field("run")) {
                    task.run = run;
                }
            }
            None => self.push(
                value.span(),
                &path,
                "missing field `run` (the shell command to run)",
            ),
        }
        if let Some((_, v)) = entry(table, "needs") {
            task.needs = self.strings(v, &field("needs"), "task ids");
        }
        if let Some((_, v)) = entry(table, "priority")
            && let Some(p) = self.priority(v, &field("priority"))
        {
            task.priority = p;
        }
        if let Some((_, v)) = entry(table, "retry") {
            task.retry = self.policy(v, &field("retry"));
        }
        if let Some((_, v)) = entry(table, "timeout") {
            task.timeout = self.timeout(v, &field("timeout"));
        }
        if let Some((_, v)) = entry(table, "compensate") {
            task.compensate = self.non_empty_string(v, &field("compensate"));
        }
        if let Some((_, v)) = entry(table, "env") {
            task.env.extend(self.env(v, &field("env")));
        }
        if let Some((_, v)) = entry(table, "cwd")
            && let Some(cwd) = self.located_string(v, &field("cwd"))
        {
            task.cwd = Some(cwd);
        }
        if let Some((_, v)) = entry(table, "requires") {
            task.requires = self.strings(v, &field("requires"), "capabilities");
        }
        Some(task)
    }

    fn agent(&mut self, value: &Value<'_>, index: usize) -> Option<AgentDef> {
        let path = format!("agent[{index}]");
        let table = self.table(value, &path)?;
        self.check_keys(table, AGENT_KEYS, &path);
        let field = |name: &str| format!("{path}.{name}");
        let mut agent = AgentDef {
            header: value.span(),
            id: None,
            capabilities: Vec::new(),
            workers: 2,
            weight: 1,
        };
        match entry(table, "id") {
            Some((_, v)) => agent.id = self.label(v, &field("id"), limits::MAX_LABEL_CHARS),
            None => self.push(value.span(), &path, "missing field `id` (the agent's name)"),
        }
        if let Some((_, v)) = entry(table, "capabilities") {
            agent.capabilities = self.strings(v, &field("capabilities"), "capabilities");
        }
        if let Some((_, v)) = entry(table, "workers")
            && let Some(n) = self.positive(v, &field("workers"), limits::MAX_WORKERS as u64)
        {
            agent.workers = n as usize;
        }
        if let Some((_, v)) = entry(table, "weight")
            && let Some(n) = self.positive(v, &field("weight"), u64::from(limits::MAX_WEIGHT))
        {
            agent.weight = n as u32;
        }
        Some(agent)
    }

    /// A whole number from 1 to `max`.
    fn positive(&mut self, v: &Value<'_>, path: &str, max: u64) -> Option<u64> {
        match v.get_ref() {
            // `as_str` holds the digits without a 0x/0o/0b prefix: parse them in their radix.
            DeValue::Integer(n) => match i64::from_str_radix(n.as_str(), n.radix()) {
                Ok(n) if n >= 1 && n as u64 <= max => Some(n as u64),
                Ok(n) if n >= 1 => {
                    self.push(v.span(), path, format!("must be at most {max}, got {n}"));
                    None
                }
                Ok(n) => {
                    self.push(v.span(), path, format!("must be at least 1, got {n}"));
                    None
                }
                Err(_) => {
                    let message = format!("{n} is not a whole number this machine can count to");
                    self.push(v.span(), path, message);
                    None
                }
            },
            other => {
                let message = format!(
                    "expected an integer of at least 1, found {}",
                    type_phrase(other)
                );
                self.push(v.span(), path, message);
                None
            }
        }
    }

    /// Agent ids are unique, and every capability a task requires is some agent's.
    fn check_agents(&mut self, file: &WorkflowFile) {
        let mut seen: BTreeMap<&str, Range<usize>> = BTreeMap::new();
        for agent in &file.agents {
            let Some(id) = &agent.id else { continue };
            if seen.insert(&id.value, id.span.clone()).is_some() {
                let message = format!("duplicate agent id {:?}", id.value);
                self.push(id.span.clone(), &id.path, message);
            }
        }
        let offered: std::collections::HashSet<&str> = file
            .agents
            .iter()
            .flat_map(|a| a.capabilities.iter().map(|c| c.value.as_str()))
            .collect();
        for task in &file.tasks {
            for (i, capability) in task.requires.iter().enumerate() {
                let path = format!("task[{}].requires[{i}]", task.index);
                if file.agents.is_empty() {
                    let message = format!(
                        "requires {:?}, but no [[agent]] is declared (tasks with requirements run on agents)",
                        capability.value
                    );
                    self.push(capability.span.clone(), path, message);
                } else if !offered.contains(capability.value.as_str()) {
                    let message = format!("no [[agent]] has the capability {:?}", capability.value);
                    self.push(capability.span.clone(), path, message);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(source: &str) -> Vec<(String, (usize, usize), String)> {
        let index = LineIndex::new(source);
        parse(source)
            .1
            .into_iter()
            .map(|d| (d.path, index.line_col(d.span.start), d.message))
            .collect()
    }

    const HEAD: &str = "[workflow]\nname = \"w\"\n";

    #[test]
    fn line_col_counts_lines_and_characters() {
        let index = LineIndex::new("ab\ncdé\n\nx");
        assert_eq!(index.line_col(0), (1, 1));
        assert_eq!(index.line_col(2), (1, 3));
        assert_eq!(index.line_col(3), (2, 1));
        assert_eq!(index.line_col(7), (2, 4)); // after é (2 bytes)
        assert_eq!(index.line_col(6), (2, 3)); // inside é: clamped to its start
        assert_eq!(index.line_col(8), (3, 1));
        assert_eq!(index.line_col(9), (4, 1));
        assert_eq!(index.line_col(100), (4, 2));
        assert_eq!(LineIndex::new("").line_col(0), (1, 1));
    }

    #[test]
    fn a_good_file_reads_with_defaults_applied() {
        let source = format!(
            "{HEAD}max_parallel = 3\nfail_mode = \"continue\"\nsaga = true\ntimeout = \"1m\"\n\
             [defaults]\ntimeout = \"10s\"\npriority = \"low\"\nenv = {{ A = \"1\", B = \"2\" }}\n\
             retry = {{ strategy = \"fixed\", delay = \"1s\", attempts = 3 }}\ncwd = \"sub\"\n\
             [[task]]\nid = \"a\"\nrun = \"echo a\"\nenv = {{ B = \"3\" }}\n\
             [[task]]\nid = \"b\"\nrun = \"echo b\"\nneeds = [\"a\"]\npriority = \"high\"\n\
             timeout = \"2s\"\ncompensate = \"echo undo\"\ncwd = \"other\"\n"
        );
        let (file, problems) = parse(&source);
        assert_eq!(problems, []);
        assert_eq!(file.name, "w");
        assert_eq!(file.max_parallel.as_ref().map(|m| m.value), Some(3));
        assert_eq!(file.fail_mode, FailureMode::Continue);
        assert!(file.saga);
        assert_eq!(file.timeout.map(|t| t.value), Some(Duration::from_secs(60)));
        assert_eq!(file.retry.map(|p| p.attempts()), Some(3));
        let [a, b] = &file.tasks[..] else {
            panic!("two tasks expected, got {:?}", file.tasks);
        };
        assert_eq!(a.priority, Priority::Low);
        assert_eq!(
            a.timeout.as_ref().map(|t| t.path.as_str()),
            Some("defaults.timeout")
        );
        assert_eq!(a.env["A"], "1");
        assert_eq!(a.env["B"], "3");
        assert_eq!(a.cwd.as_ref().map(|c| c.value.as_str()), Some("sub"));
        assert_eq!(b.needs[0].value, "a");
        assert_eq!(b.priority, Priority::High);
        assert_eq!(
            b.timeout.as_ref().map(|t| t.value),
            Some(Duration::from_secs(2))
        );
        assert_eq!(b.compensate.as_deref(), Some("echo undo"));
        assert_eq!(b.cwd.as_ref().map(|c| c.value.as_str()), Some("other"));
    }

    #[test]
    fn every_problem_is_reported_with_its_position() {
        let source = format!(
            "{HEAD}timeout = \"soon\"\nsaga = \"yes\"\ncolour = 1\n\
             [[task]]\nid = \"a\"\nrun = \"x\"\npriority = \"urgent\"\n\
             [[task]]\nrun = \"y\"\nretry = {{ strategy = \"fixed\", delay = \"1s\", factor = 2 }}\n"
        );
        let found = problems(&source);
        let summary: Vec<_> = found.iter().map(|(p, lc, _)| (p.as_str(), *lc)).collect();
        assert_eq!(
            summary,
            [
                ("workflow.timeout", (3, 11)),
                ("workflow.saga", (4, 8)),
                ("workflow.colour", (5, 1)),
                ("task[0].priority", (9, 12)),
                ("task[1]", (10, 1)),
                ("task[1].retry.factor", (12, 54)),
            ],
            "{found:#?}"
        );
        assert!(
            found[0].2.contains("\"soon\" is not a duration"),
            "{found:?}"
        );
        assert!(found[1].2.contains("expected a boolean"), "{found:?}");
        assert!(
            found[2].2.starts_with("unknown field `colour`"),
            "{found:?}"
        );
        assert!(
            found[3].2.contains("unknown priority \"urgent\""),
            "{found:?}"
        );
        assert!(found[4].2.contains("missing field `id`"), "{found:?}");
        assert!(found[5].2.contains("only valid with strategy"), "{found:?}");
    }

    #[test]
    fn syntax_errors_have_the_parser_position() {
        let found = problems("[workflow\nname = 1\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1, (1, 10));
        assert!(found[0].2.starts_with("TOML syntax error"), "{found:?}");
    }

    #[test]
    fn unknown_fields_suggest_the_near_ones() {
        let found = problems(&format!(
            "{HEAD}[[task]]\nid = \"a\"\nrun = \"x\"\nneds = []\n"
        ));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "task[0].neds");
        assert!(found[0].2.contains("(did you mean `needs`?)"), "{found:?}");
    }

    #[test]
    fn bare_numbers_are_not_durations() {
        let found = problems(&format!("{HEAD}timeout = 30\n"));
        assert_eq!(found[0].0, "workflow.timeout");
        assert!(found[0].2.contains("found an integer"), "{found:?}");
    }

    use proptest::prelude::*;

    /// Text from an alphabet with multi-byte characters and both line endings.
    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop::sample::select(vec!['a', '\n', 'é', ' ', '\r', '€', 'x', '\n']),
            0..40,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    /// A small valid file mangled by up to four character insertions or deletions.
    fn mangled() -> impl Strategy<Value = String> {
        let good = "[workflow]\nname = \"w\"\nsaga = true\n[defaults]\ntimeout = \"1s\"\n\
                    [[task]]\nid = \"a\"\nrun = \"true\"\nneeds = [\"b\"]\n\
                    retry = { strategy = \"fixed\", delay = \"1s\" }\n\
                    [[task]]\nid = \"b\"\nrun = \"true\"\nenv = { K = \"v\" }\n";
        let noise = prop::sample::select(vec![
            '"', '[', ']', '=', '\n', 'x', '0', ',', '{', '}', ' ', '.',
        ]);
        let edit = (any::<prop::sample::Index>(), any::<bool>(), noise);
        proptest::collection::vec(edit, 1..5).prop_map(move |edits| {
            let mut text: Vec<char> = good.chars().collect();
            for (at, remove, c) in edits {
                let at = at.index(text.len());
                if remove {
                    text.remove(at);
                } else {
                    text.insert(at, c);
                }
            }
            text.into_iter().collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn line_col_agrees_with_a_naive_count(text in text()) {
            let index = LineIndex::new(&text);
            for (offset, _) in text.char_indices().chain([(text.len(), ' ')]) {
                let before = &text[..offset];
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().unwrap().chars().count() + 1;
                prop_assert_eq!(index.line_col(offset), (line, column), "{:?} at {}", text, offset);
            }
        }

        #[test]
        fn mangled_files_give_ordered_problems_inside_the_file(text in mangled()) {
            // Validation (which also builds the graph) must not panic either.
            let _ = crate::validate::check(std::path::Path::new("f.toml"), &text);
            let (_, problems) = parse(&text);
            for p in &problems {
                prop_assert!(p.span.start <= p.span.end && p.span.end <= text.len(), "{:?}", p);
                prop_assert!(!p.message.is_empty(), "{:?}", p);
            }
            prop_assert!(problems.windows(2).all(|w| w[0].span.start <= w[1].span.start));
        }
    }
}

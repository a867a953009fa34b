//! The workflow file format: TOML read into [`WorkflowFile`] with the source spans of everything
//! a message may need to point at, and every format problem found as a [`Diagnostic`].
//!
//! Parsing never stops at the first problem: [`parse`] walks the whole document, checks every
//! table's keys (unknown fields are errors everywhere), every value's type, every duration,
//! priority and retry policy, and returns what it could read together with everything it could
//! not. The dependency graph is checked afterwards, by the orchestrator's workflow builder (see
//! [`validate`](crate::validate)).
//!
//! This module holds the types and [`parse`]; values.rs reads one value (the same rules
//! wherever it appears), tables.rs reads each table.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use baton_orchestrator::{FailureMode, Policy, Priority};
use toml::de::{DeTable, DeValue};

mod tables;
mod values;

use self::tables::Defaults;
use self::values::{Walker, entry, type_phrase};

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
    /// Every [`BLOCK`] bytes (moved back to a character boundary): the offset, and the
    /// characters before it. A column is then counted over at most a block, however long its
    /// line: a problem's position costs the same on a one-line file as on a tidy one.
    blocks: Vec<(usize, usize)>,
}

/// The span of text counted character by character at most, to find a column.
const BLOCK: usize = 4096;

impl<'s> LineIndex<'s> {
    /// Indexes `source`'s lines.
    pub fn new(source: &'s str) -> Self {
        let starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let mut blocks = Vec::with_capacity(source.len() / BLOCK + 1);
        let (mut at, mut chars) = (0, 0);
        for k in 0..=source.len() / BLOCK {
            let mut boundary = k * BLOCK;
            while !source.is_char_boundary(boundary) {
                boundary -= 1;
            }
            chars += source[at..boundary].chars().count();
            at = boundary;
            blocks.push((at, chars));
        }
        Self {
            source,
            starts,
            blocks,
        }
    }

    /// How many characters come before byte `offset` (a character boundary).
    fn chars_before(&self, offset: usize) -> usize {
        let (at, chars) = self.blocks[offset / BLOCK];
        chars + self.source[at..offset].chars().count()
    }

    /// The line and column (both from 1) of byte `offset`; an offset past the end (or inside a
    /// multi-byte character) is clamped to the nearest character boundary before it.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.source.len());
        while !self.source.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&start| start <= offset) - 1;
        let column = self.chars_before(offset) - self.chars_before(self.starts[line]) + 1;
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
    fn columns_on_a_long_line_of_wide_characters_are_counted_in_blocks() {
        let line: String = "é".repeat(3 * BLOCK) + "x";
        let text = format!("a\n{line}\nb");
        let index = LineIndex::new(&text);
        let x = text.find('x').unwrap();
        assert_eq!(index.line_col(x), (2, 3 * BLOCK + 1));
        assert_eq!(
            index.line_col(x - 1),
            (2, 3 * BLOCK),
            "inside the last é: its start"
        );
        assert_eq!(index.line_col(text.len()), (3, 2));
    }

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

    /// Every field the reader knows is described in docs/workflow-file.md and in `baton help
    /// format`, so the reference cannot fall behind the reader.
    #[test]
    fn every_field_is_documented() {
        let doc = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/workflow-file.md"),
        )
        .unwrap();
        let help = crate::args::Topic::Format.text();
        let retry = [
            "strategy",
            "delay",
            "initial",
            "factor",
            "increment",
            "min",
            "max",
            "attempts",
            "max_delay",
            "max_elapsed",
            "jitter",
        ];
        for table in TOP_KEYS {
            assert!(
                doc.contains(&format!("[{table}]")),
                "docs/workflow-file.md lacks [{table}]"
            );
            assert!(
                help.contains(&format!("[{table}]")),
                "baton help format lacks [{table}]"
            );
        }
        for key in WORKFLOW_KEYS
            .iter()
            .chain(DEFAULTS_KEYS)
            .chain(TASK_KEYS)
            .chain(AGENT_KEYS)
            .chain(&retry)
        {
            assert!(
                doc.contains(&format!("`{key}`")),
                "docs/workflow-file.md lacks `{key}`"
            );
            assert!(help.contains(key), "baton help format lacks {key}");
        }
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

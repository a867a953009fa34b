//! Reading one value of a workflow file: a string, a name, a timeout, a retry table..., each
//! checked by the same rules wherever it appears (no NUL in a string, no control character in a
//! name, durations within the limit), problems collected rather than stopping at the first.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use baton_orchestrator::{Policy, Priority};
use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::{Diagnostic, Located};
use crate::limits;
use crate::suggest::suggest;

pub(super) fn entry<'a, 'i>(
    table: &'a DeTable<'i>,
    key: &str,
) -> Option<(
    &'a Spanned<toml::de::DeString<'i>>,
    &'a Spanned<DeValue<'i>>,
)> {
    table.iter().find(|(k, _)| k.get_ref() == key)
}

/// "a string", "an integer", ...: a value's type for messages.
pub(super) fn type_phrase(value: &DeValue<'_>) -> String {
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

pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Reads values, collecting problems.
#[derive(Debug, Default)]
pub(super) struct Walker {
    problems: Vec<Diagnostic>,
}

pub(super) type Value<'i> = Spanned<DeValue<'i>>;
impl Walker {
    pub(super) fn push(
        &mut self,
        span: Range<usize>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.problems.push(Diagnostic::new(span, path, message));
    }

    pub(super) fn finish(mut self) -> Vec<Diagnostic> {
        self.problems.sort_by_key(|d| (d.span.start, d.span.end));
        self.problems.dedup();
        self.problems
    }

    pub(super) fn check_keys(&mut self, table: &DeTable<'_>, allowed: &[&str], path: &str) {
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

    pub(super) fn table<'a, 'i>(
        &mut self,
        value: &'a Value<'i>,
        path: &str,
    ) -> Option<&'a DeTable<'i>> {
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
    pub(super) fn string(&mut self, value: &Value<'_>, path: &str) -> Option<String> {
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
    pub(super) fn located_string(
        &mut self,
        value: &Value<'_>,
        path: &str,
    ) -> Option<Located<String>> {
        self.non_empty_string(value, path).map(|text| Located {
            value: text,
            span: value.span(),
            path: path.to_owned(),
        })
    }

    /// A name: a non-empty string without control characters.
    pub(super) fn name(&mut self, value: &Value<'_>, path: &str) -> Option<Located<String>> {
        self.located_string(value, path)
            .filter(|name| self.no_control(&name.value, value, path))
    }

    /// A task's id: a non-empty string whose log file's name fits in a file name.
    pub(super) fn task_id(&mut self, value: &Value<'_>, path: &str) -> Option<Located<String>> {
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
    pub(super) fn label(
        &mut self,
        value: &Value<'_>,
        path: &str,
        max: usize,
    ) -> Option<Located<String>> {
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

    pub(super) fn non_empty_string(&mut self, value: &Value<'_>, path: &str) -> Option<String> {
        let text = self.string(value, path)?;
        if text.trim().is_empty() {
            self.push(value.span(), path, "must not be empty");
            return None;
        }
        Some(text)
    }

    pub(super) fn boolean(&mut self, value: &Value<'_>, path: &str) -> Option<bool> {
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
    pub(super) fn timeout(&mut self, value: &Value<'_>, path: &str) -> Option<Located<Duration>> {
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

    pub(super) fn priority(&mut self, value: &Value<'_>, path: &str) -> Option<Priority> {
        let text = self.string(value, path)?;
        match text.parse::<Priority>() {
            Ok(p) => Some(p),
            Err(error) => {
                self.push(value.span(), path, error.to_string());
                None
            }
        }
    }

    /// An array of names (each at most [`MAX_LABEL_CHARS`](limits::MAX_LABEL_CHARS)); `what`
    /// names its items in the error ("task ids", "capabilities").
    pub(super) fn strings(
        &mut self,
        value: &Value<'_>,
        path: &str,
        what: &str,
    ) -> Vec<Located<String>> {
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
                self.label(item, &format!("{path}[{i}]"), limits::MAX_LABEL_CHARS)
            })
            .collect()
    }

    /// Whether `text` (a name: an id, a capability, a variable's name) is free of control
    /// characters (newlines, ESC, BEL...), which a name has no use for; reported if not.
    pub(super) fn no_control(&mut self, text: &str, value: &Value<'_>, path: &str) -> bool {
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

    pub(super) fn env(&mut self, value: &Value<'_>, path: &str) -> BTreeMap<String, String> {
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

    pub(super) fn policy(&mut self, value: &Value<'_>, path: &str) -> Option<Policy> {
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

    /// A whole number from 1 to `max`.
    pub(super) fn positive(&mut self, v: &Value<'_>, path: &str, max: u64) -> Option<u64> {
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
}

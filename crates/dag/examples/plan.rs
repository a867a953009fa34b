//! Plans a workflow file with `baton-dag`: validates the tasks' dependencies (every problem at
//! once, each with its line, and its column for a bad entry of `needs`), then prints the stages
//! that can run in parallel, the critical path, and a Mermaid diagram.
//!
//! ```sh
//! cargo run -p baton-dag --example plan -- crates/dag/examples/release.toml
//! cargo run -p baton-dag --example plan -- crates/dag/examples/broken.toml   # exit 2, located errors
//! ```
//!
//! The file holds `[[task]]` tables with `id`, optional `needs` (ids) and `weight` (an estimate,
//! any unit): the same shape as Baton's workflow files.

use std::process::ExitCode;

use baton_dag::{DagBuilder, Problem};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Plan {
    #[serde(default)]
    task: Vec<Task>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Task {
    id: toml::Spanned<String>,
    #[serde(default)]
    needs: Vec<toml::Spanned<String>>,
    #[serde(default = "one")]
    weight: u64,
}

fn one() -> u64 {
    1
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: plan FILE.toml");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let plan: Plan = match toml::from_str(&text) {
        Ok(plan) => plan,
        Err(e) => {
            // toml's message carries the line, column and field.
            eprintln!("error: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    if plan.task.is_empty() {
        eprintln!("error: {path}: no [[task]] entries");
        return ExitCode::from(2);
    }

    let dag = match builder(&plan).build() {
        Ok(dag) => dag,
        Err(errors) => {
            eprintln!(
                "error: {path}: {} problem(s), nothing planned:",
                errors.problems().len()
            );
            for problem in errors.problems() {
                match locate(problem, &plan, &text) {
                    Some(place) => eprintln!("  {path}:{place}: {problem}"),
                    None => eprintln!("  {path}: {problem}"),
                }
            }
            return ExitCode::from(2);
        }
    };

    println!(
        "{} tasks, {} stages\n",
        dag.node_count(),
        dag.generations().len()
    );
    for (stage, nodes) in dag.generations().enumerate() {
        let names: Vec<&str> = nodes.iter().map(|&n| dag.id(n).as_str()).collect();
        println!("stage {}: {}", stage + 1, names.join(", "));
    }
    let critical = dag.critical_path();
    let chain: Vec<&str> = critical.nodes.iter().map(|&n| dag.id(n).as_str()).collect();
    println!(
        "\ncritical path (weight {}): {}",
        critical.weight,
        chain.join(" → ")
    );
    println!("\n```mermaid\n{}```", dag.to_mermaid());
    ExitCode::SUCCESS
}

/// The plan's tasks, declared in file order (so problem positions index `plan.task`).
fn builder(plan: &Plan) -> DagBuilder<String> {
    let mut builder = DagBuilder::new();
    for task in &plan.task {
        builder.add(
            task.id.get_ref().clone(),
            task.needs.iter().map(|need| need.get_ref().clone()),
            task.weight,
        );
    }
    builder
}

/// Where in the file a problem is: `line` of the declaration it names, or `line:column` of the
/// bad entry of `needs` (`dependency_index` in that task's list).
fn locate(problem: &Problem<String>, plan: &Plan, text: &str) -> Option<String> {
    let task = |position: usize| &plan.task[position];
    match problem {
        Problem::UnknownDependency {
            position,
            dependency_index,
            ..
        }
        | Problem::SelfDependency {
            position,
            dependency_index,
            ..
        } => Some(place(
            text,
            task(*position).needs[*dependency_index].span().start,
            true,
        )),
        Problem::DuplicateId { position, .. } => {
            Some(place(text, task(*position).id.span().start, false))
        }
        Problem::Cycle { positions, .. } => positions
            .first()
            .map(|&p| place(text, task(p).id.span().start, false)),
        _ => None,
    }
}

/// `line` or `line:column` (1-based, columns in characters) of a byte offset in `text`.
fn place(text: &str, offset: usize, with_column: bool) -> String {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    if !with_column {
        return line.to_string();
    }
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    format!("{line}:{}", before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn located(text: &str) -> Vec<String> {
        let plan: Plan = toml::from_str(text).expect("valid TOML");
        let errors = builder(&plan).build().expect_err("an invalid plan");
        errors
            .problems()
            .iter()
            .map(|p| format!("{}: {p}", locate(p, &plan, text).unwrap_or_default()))
            .collect()
    }

    #[test]
    fn every_problem_of_the_broken_example_is_located() {
        assert_eq!(
            located(include_str!("broken.toml")),
            [
                "13:10: `deploy` depends on unknown `tset`",
                "16: duplicate id `deploy`: declared at positions 2 and 3",
                "4: cycle: build → test → build",
            ]
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        // `ü` opens at character 15 of line 3, byte 16: `é` before it is two bytes.
        let text = "[[task]]\nid = \"a\"\nneeds = [\"é\", \"ü\"]\n";
        assert_eq!(
            located(text),
            [
                "3:10: `a` depends on unknown `é`",
                "3:15: `a` depends on unknown `ü`"
            ]
        );
    }
}

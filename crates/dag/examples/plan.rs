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

    let mut builder = DagBuilder::new();
    for task in &plan.task {
        builder.add(
            task.id.get_ref().clone(),
            task.needs.iter().map(|need| need.get_ref().clone()),
            task.weight,
        );
    }
    // `line` or `line:column` of a byte offset in the file.
    let place = |offset: usize, with_column: bool| {
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        if with_column {
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("{line}:{column}")
        } else {
            line.to_string()
        }
    };
    let line_of = |position: usize| place(plan.task[position].id.span().start, false);
    // The entry of `needs` a problem points at (`dependency_index` in that task's list).
    let need_at =
        |position: usize, index: usize| place(plan.task[position].needs[index].span().start, true);
    let dag = match builder.build() {
        Ok(dag) => dag,
        Err(errors) => {
            eprintln!(
                "error: {path}: {} problem(s), nothing planned:",
                errors.problems().len()
            );
            for problem in errors.problems() {
                let line = match problem {
                    Problem::UnknownDependency {
                        position,
                        dependency_index,
                        ..
                    }
                    | Problem::SelfDependency {
                        position,
                        dependency_index,
                        ..
                    } => Some(need_at(*position, *dependency_index)),
                    Problem::DuplicateId { position, .. } => Some(line_of(*position)),
                    Problem::Cycle { positions, .. } => positions.first().map(|&p| line_of(p)),
                    _ => None,
                };
                match line {
                    Some(line) => eprintln!("  {path}:{line}: {problem}"),
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

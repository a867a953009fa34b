//! Plans a workflow file with `baton-dag`: validates the tasks' dependencies (every problem at
//! once, each with its line), then prints the stages that can run in parallel, the critical path,
//! and a Mermaid diagram.
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
    needs: Vec<String>,
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
            task.needs.iter().cloned(),
            task.weight,
        );
    }
    let line_of = |position: usize| {
        let offset = plan.task[position].id.span().start;
        text[..offset].matches('\n').count() + 1
    };
    let dag = match builder.build() {
        Ok(dag) => dag,
        Err(errors) => {
            eprintln!(
                "error: {path}: {} problem(s), nothing planned:",
                errors.problems().len()
            );
            for problem in errors.problems() {
                let line = match problem {
                    Problem::UnknownDependency { position, .. }
                    | Problem::DuplicateId { position, .. }
                    | Problem::SelfDependency { position, .. } => Some(line_of(*position)),
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

//! The shipped examples: valid, graphable, and they run to success with a log per task.

use baton_cli::validate;

use super::{examples, run_dirs, run_in, scratch};

#[test]
fn the_four_examples_exist() {
    let names: Vec<String> = examples()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for name in ["agents.toml", "fanout.toml", "flaky.toml", "release.toml"] {
        assert!(names.contains(&name.to_owned()), "{names:?}");
    }
}

#[test]
fn every_example_validates_graphs_and_runs() {
    for example in examples() {
        let name = example.file_stem().unwrap().to_string_lossy().into_owned();
        // Runs write beside the file: work on a copy.
        let dir = scratch(&format!("example-{name}"));
        let file = format!("{name}.toml");
        std::fs::copy(&example, dir.join(&file)).unwrap();
        let plan = validate::load(&dir.join(&file)).unwrap();
        let ids: Vec<String> = plan
            .file
            .tasks
            .iter()
            .map(|t| t.id.clone().unwrap().value)
            .collect();

        let valid = run_in(&dir, &["validate", &file]);
        assert_eq!(valid.code, Some(0), "{valid:?}");
        assert_eq!(
            valid.stdout,
            format!(
                "{file}: OK: workflow \"{}\", {} tasks\n",
                plan.file.name,
                ids.len()
            )
        );
        let mermaid = run_in(&dir, &["graph", &file]);
        assert!(mermaid.stdout.starts_with("flowchart TD\n"), "{mermaid:?}");
        let dot = run_in(&dir, &["graph", &file, "--format", "dot"]);
        assert!(dot.stdout.starts_with("digraph {\n"), "{dot:?}");
        for id in &ids {
            assert!(
                mermaid.stdout.contains(&format!("[\"{id}\"]")),
                "{id}: {mermaid:?}"
            );
            assert!(
                dot.stdout.contains(&format!("[label=\"{id}\"]")),
                "{id}: {dot:?}"
            );
        }

        let run = run_in(&dir, &["run", &file]);
        assert_eq!(run.code, Some(0), "{name}: {run:?}");
        let rows: Vec<&str> = run.stdout.lines().skip(1).take(ids.len()).collect();
        for (id, row) in ids.iter().zip(&rows) {
            let cells: Vec<&str> = row.split_whitespace().collect();
            assert_eq!(cells[..2], [id.as_str(), "succeeded"], "{name}: {row}");
        }
        assert!(
            run.stdout
                .contains(&format!("workflow \"{}\" succeeded: ", plan.file.name)),
            "{run:?}"
        );
        let [run_dir] = &run_dirs(&dir)[..] else {
            panic!("one run directory expected in {}", dir.display());
        };
        assert!(
            run.stderr.starts_with("baton: run directory .baton/runs/"),
            "{run:?}"
        );
        for id in &ids {
            let log = std::fs::read_to_string(run_dir.join(format!("{id}.log"))).unwrap();
            assert!(log.starts_with("--- attempt 1 ---\n"), "{id}: {log}");
            assert!(
                run.stderr.contains(&format!("{id:<10} succeeded")),
                "{run:?}"
            );
        }
    }
}

#[test]
fn the_commands_in_each_example_header_work_from_the_repository_root() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for example in examples() {
        let text = std::fs::read_to_string(&example).unwrap();
        let commands: Vec<Vec<&str>> = text
            .lines()
            .take_while(|l| l.starts_with('#'))
            .filter_map(|l| l.strip_prefix("#   "))
            .map(|l| l.split('#').next().unwrap().split_whitespace().collect())
            .collect();
        assert!(
            !commands.is_empty(),
            "{}: no command in its header",
            example.display()
        );
        for words in commands {
            // `VAR=value baton ...`: the variables do not change what is checked here.
            let words: Vec<&str> = words.into_iter().skip_while(|w| w.contains('=')).collect();
            assert_eq!(words[0], "baton", "{}: {words:?}", example.display());
            let (command, file) = (words[1], words[2]);
            assert!(
                root.join(file).is_file(),
                "{}: {file} does not exist from the root",
                example.display()
            );
            // `run` would leave a run directory in the source tree: `validate` reads the same file.
            let checked = if command == "run" {
                "validate"
            } else {
                command
            };
            let out = run_in(&root, &[checked, file]);
            assert_eq!(
                out.code,
                Some(0),
                "{}: baton {checked} {file}: {out:?}",
                example.display()
            );
        }
    }
}

//! The invalid corpus: every file under `tests/invalid/` says, in its first line, the located
//! message `baton` must give; `validate` and `run` both exit 2 with it, and nothing runs.

use std::path::Path;

use super::{run_dirs, run_in, scratch};

/// (file name, expected `LINE:COL: path: message` fragment).
fn corpus() -> Vec<(String, String)> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid");
    let mut files: Vec<(String, String)> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let first = text.lines().next().unwrap_or_default();
            let expect = first
                .strip_prefix("# expect: ")
                .unwrap_or_else(|| panic!("{} has no `# expect:` line", path.display()));
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, expect.to_owned())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn the_corpus_has_at_least_twenty_files() {
    assert!(corpus().len() >= 20, "{:?}", corpus());
}

#[test]
fn every_invalid_file_is_reported_where_it_is_wrong_and_nothing_runs() {
    let dir = scratch("invalid");
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid");
    for (name, expect) in corpus() {
        std::fs::copy(folder.join(&name), dir.join(&name)).unwrap();
        for command in ["validate", "run"] {
            let out = run_in(&dir, &[command, &name]);
            assert_eq!(out.code, Some(2), "{command} {name}: {out:?}");
            let wanted = format!("{name}:{expect}");
            assert!(
                out.stderr.lines().any(|l| l.starts_with(&wanted)),
                "{command} {name}: expected a line starting with\n  {wanted}\ngot\n{}",
                out.stderr
            );
            let (last, problems) = out
                .stderr
                .lines()
                .collect::<Vec<_>>()
                .split_last()
                .map(|(l, p)| (*l, p.to_vec()))
                .unwrap();
            assert!(
                problems.iter().all(|l| l.starts_with(&format!("{name}:"))),
                "{command} {name}: every line is a located problem:\n{}",
                out.stderr
            );
            assert_eq!(last, baton_cli::validate::HINT, "{command} {name}");
            assert_eq!(out.stdout, "", "{command} {name}");
        }
    }
    // Every invalid file's tasks would `touch marker-<name>`: none ran, no run directory exists.
    let markers: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("marker-"))
        .collect();
    assert_eq!(markers, Vec::<String>::new());
    assert_eq!(run_dirs(&dir), Vec::<std::path::PathBuf>::new());
    // The markers would have worked: a valid file with the same kind of task leaves one.
    std::fs::write(
        dir.join("valid.toml"),
        "[workflow]\nname = \"valid\"\n[[task]]\nid = \"a\"\nrun = \"touch marker-valid\"\n",
    )
    .unwrap();
    assert_eq!(
        run_in(&dir, &["run", "--quiet", "valid.toml"]).code,
        Some(0)
    );
    assert!(dir.join("marker-valid").exists());
}

//! Hostile input: NUL bytes, control characters, over-long ids and names, huge and overflowing
//! numbers and durations, oversized and non-regular files. Each case is refused by `validate` and
//! by `run` with exit 2 and a message that says where; no task runs and no run directory is made.

use std::path::Path;

use super::{run_dirs, run_in, scratch};

/// A workflow file whose one task would `touch ran`, with `extra` lines in its `[workflow]`
/// table, its task and after it.
fn file(workflow: &str, task: &str, after: &str) -> String {
    format!(
        "[workflow]\nname = \"hostile\"\n{workflow}\n[[task]]\nid = \"t\"\nrun = \"touch ran\"\n{task}\n{after}"
    )
}

/// (case name, file text, the `field: message` fragment the located line must hold).
fn cases() -> Vec<(&'static str, String, &'static str)> {
    let nul = "contains a NUL byte";
    let control = "contains the control character";
    let long_id = "a".repeat(252);
    let e_acute = "\u{e9}".repeat(43);
    vec![
        // NUL bytes, wherever a string is read.
        (
            "nul-run",
            file("", "", "[[task]]\nid = \"u\"\nrun = \"echo \\u0000 x\"\n"),
            nul,
        ),
        (
            "nul-compensate",
            file("", "compensate = \"rm \\u0000\"", ""),
            nul,
        ),
        (
            "nul-env-value",
            file("", "env = { A = \"x\\u0000y\" }", ""),
            nul,
        ),
        (
            "nul-env-name",
            file("", "env = { \"A\\u0000\" = \"x\" }", ""),
            "task[0].env.A",
        ),
        ("nul-cwd", file("", "cwd = \"sub\\u0000dir\"", ""), nul),
        (
            "nul-id",
            file("", "", "[[task]]\nid = \"u\\u0000\"\nrun = \"true\"\n"),
            nul,
        ),
        (
            "nul-name",
            "[workflow]\nname = \"a\\u0000b\"\n[[task]]\nid = \"t\"\nrun = \"touch ran\"\n".into(),
            nul,
        ),
        ("nul-needs", file("", "needs = [\"\\u0000\"]", ""), nul),
        (
            "nul-requires",
            file(
                "",
                "requires = [\"gpu\\u0000\"]",
                "[[agent]]\nid = \"a\"\ncapabilities = [\"gpu\"]\n",
            ),
            nul,
        ),
        (
            "nul-agent-id",
            file("", "", "[[agent]]\nid = \"a\\u0000\"\n"),
            nul,
        ),
        (
            "nul-capability",
            file(
                "",
                "",
                "[[agent]]\nid = \"a\"\ncapabilities = [\"\\u0000\"]\n",
            ),
            nul,
        ),
        (
            "nul-defaults-cwd",
            format!("[defaults]\ncwd = \"\\u0000\"\n{}", file("", "", "")),
            nul,
        ),
        (
            "nul-defaults-env",
            format!(
                "[defaults]\nenv = {{ K = \"\\u0000\" }}\n{}",
                file("", "", "")
            ),
            nul,
        ),
        (
            "nul-fail-mode",
            file("fail_mode = \"continue\\u0000\"", "", ""),
            nul,
        ),
        // Control characters in names.
        (
            "newline-id",
            file("", "", "[[task]]\nid = \"u\\nFORGED\"\nrun = \"true\"\n"),
            control,
        ),
        (
            "escape-id",
            file("", "", "[[task]]\nid = \"\\u001b[2J\"\nrun = \"true\"\n"),
            control,
        ),
        (
            "bell-name",
            "[workflow]\nname = \"w\\u0007\"\n[[task]]\nid = \"t\"\nrun = \"touch ran\"\n".into(),
            control,
        ),
        (
            "escape-needs",
            file("", "needs = [\"\\u001b\"]", ""),
            control,
        ),
        (
            "escape-agent-id",
            file("", "", "[[agent]]\nid = \"\\u001b]0;x\\u0007\"\n"),
            control,
        ),
        (
            "newline-capability",
            file(
                "",
                "",
                "[[agent]]\nid = \"a\"\ncapabilities = [\"g\\npu\"]\n",
            ),
            control,
        ),
        (
            "escape-env-name",
            file("", "env = { \"A\\u001b\" = \"x\" }", ""),
            "without '=', NUL or another control character",
        ),
        (
            "delete-id",
            file("", "", "[[task]]\nid = \"a\\u007f\"\nrun = \"true\"\n"),
            control,
        ),
        // Over-long ids and names.
        (
            "long-ascii-id",
            file(
                "",
                "",
                &format!("[[task]]\nid = \"{long_id}\"\nrun = \"true\"\n"),
            ),
            "its log file's name would take 256 bytes",
        ),
        (
            "long-accented-id",
            file(
                "",
                "",
                &format!("[[task]]\nid = \"{e_acute}\"\nrun = \"true\"\n"),
            ),
            "its log file's name would take 262 bytes",
        ),
        (
            "long-name",
            format!(
                "[workflow]\nname = \"{}\"\n[[task]]\nid = \"t\"\nrun = \"touch ran\"\n",
                "n".repeat(10_000)
            ),
            "is 10000 characters long, over the limit of 200",
        ),
        (
            "long-agent-id",
            file(
                "",
                "",
                &format!("[[agent]]\nid = \"{}\"\n", "a".repeat(300)),
            ),
            "over the limit of 255",
        ),
        (
            "long-capability",
            file(
                "",
                "",
                &format!(
                    "[[agent]]\nid = \"a\"\ncapabilities = [\"{}\"]\n",
                    "c".repeat(300)
                ),
            ),
            "agent[0].capabilities[0]: is 300 characters long, over the limit of 255",
        ),
        // Huge and overflowing numbers.
        (
            "max-parallel-i64-max",
            file("max_parallel = 9223372036854775807", "", ""),
            "workflow.max_parallel: must be at most 10000",
        ),
        (
            "max-parallel-billion",
            file("max_parallel = 1000000000", "", ""),
            "must be at most 10000",
        ),
        (
            "max-parallel-overflow",
            file("max_parallel = 99999999999999999999", "", ""),
            "workflow.max_parallel",
        ),
        (
            "max-parallel-just-over",
            file("max_parallel = 10001", "", ""),
            "must be at most 10000, got 10001",
        ),
        (
            "agent-workers-huge",
            file("", "", "[[agent]]\nid = \"a\"\nworkers = 100000\n"),
            "agent[0].workers: must be at most 10000",
        ),
        (
            "agent-workers-hex",
            file(
                "",
                "",
                "[[agent]]\nid = \"a\"\nworkers = 0x7fffffffffffffff\n",
            ),
            "must be at most 10000",
        ),
        (
            "agent-weight-huge",
            file("", "", "[[agent]]\nid = \"a\"\nweight = 4294967296\n"),
            "agent[0].weight: must be at most 1000",
        ),
        (
            "retry-attempts-huge",
            file(
                "",
                "retry = { strategy = \"fixed\", delay = \"1s\", attempts = 99999999999 }",
                "",
            ),
            "attempts",
        ),
        (
            "retry-factor-inf",
            file(
                "",
                "retry = { strategy = \"exponential\", initial = \"1s\", factor = inf }",
                "",
            ),
            "factor",
        ),
        (
            "retry-factor-nan",
            file(
                "",
                "retry = { strategy = \"exponential\", initial = \"1s\", factor = nan }",
                "",
            ),
            "factor",
        ),
        // Huge and overflowing durations.
        (
            "timeout-u64-max",
            file("", "timeout = \"18446744073709551615s\"", ""),
            "task[0].timeout: \"18446744073709551615s\" is longer than the longest duration baton accepts (1year)",
        ),
        (
            "workflow-timeout-u64-max",
            file("timeout = \"18446744073709551615s\"", "", ""),
            "workflow.timeout: \"18446744073709551615s\" is longer",
        ),
        (
            "defaults-timeout-years",
            format!("[defaults]\ntimeout = \"500years\"\n{}", file("", "", "")),
            "defaults.timeout: \"500years\" is longer",
        ),
        (
            "timeout-overflowing",
            file("", "timeout = \"99999999999999999999999s\"", ""),
            "task[0].timeout",
        ),
        (
            "timeout-just-over",
            file("", "timeout = \"366d\"", ""),
            "is longer than the longest duration",
        ),
        (
            "retry-delay-u64-max",
            file(
                "",
                "retry = { strategy = \"fixed\", delay = \"18446744073709551615s\" }",
                "",
            ),
            "task[0].retry.delay: \"18446744073709551615s\" is longer",
        ),
        (
            "retry-max-delay-huge",
            file(
                "",
                "retry = { strategy = \"fixed\", delay = \"1s\", max_delay = \"1000years\" }",
                "",
            ),
            "task[0].retry.max_delay",
        ),
        (
            "retry-elapsed-huge",
            file(
                "",
                "retry = { strategy = \"exponential\", initial = \"1s\", max_elapsed = \"2y\" }",
                "",
            ),
            "task[0].retry.max_elapsed",
        ),
        (
            "defaults-retry-huge",
            format!(
                "[defaults]\nretry = {{ strategy = \"random\", min = \"1s\", max = \"9999999h\" }}\n{}",
                file("", "", "")
            ),
            "defaults.retry.max",
        ),
        // A cwd that cannot be used.
        (
            "missing-cwd",
            file("", "cwd = \"no/such/dir\"", ""),
            "task[0].cwd: directory",
        ),
        (
            "cwd-is-a-file",
            file("", "cwd = \"wf.toml\"", ""),
            "is not a directory",
        ),
        (
            "missing-defaults-cwd",
            format!("[defaults]\ncwd = \"nowhere\"\n{}", file("", "", "")),
            "defaults.cwd: directory",
        ),
    ]
}

#[test]
fn every_hostile_file_is_refused_where_it_is_wrong_and_nothing_runs() {
    let cases = cases();
    assert!(cases.len() >= 40, "{}", cases.len());
    let dir = scratch("hostile");
    std::fs::write(dir.join("wf.toml"), "").unwrap();
    for (name, text, fragment) in &cases {
        let file = format!("{name}.toml");
        std::fs::write(dir.join(&file), text).unwrap();
        for command in ["validate", "run"] {
            let out = run_in(&dir, &[command, &file]);
            assert_eq!(out.code, Some(2), "{command} {name}: {out:?}");
            assert_eq!(out.stdout, "", "{command} {name}");
            let located = out.stderr.lines().any(|line| {
                let Some(rest) = line.strip_prefix(&format!("{file}:")) else {
                    return false;
                };
                // LINE:COL: then the fragment.
                let mut parts = rest.splitn(3, ':');
                let (line_no, col) = (parts.next(), parts.next());
                line_no.is_some_and(|l| l.parse::<usize>().is_ok())
                    && col.is_some_and(|c| c.parse::<usize>().is_ok())
                    && parts.next().is_some_and(|m| m.contains(fragment))
            });
            assert!(
                located,
                "{command} {name}: no located line holding {fragment:?}:\n{}",
                out.stderr
            );
            assert!(
                !out.stderr.contains('\u{1b}') && !out.stderr.contains('\u{7}'),
                "{command} {name}: raw control characters in {:?}",
                out.stderr
            );
        }
    }
    assert!(!dir.join("ran").exists(), "a task ran");
    assert_eq!(run_dirs(&dir), Vec::<std::path::PathBuf>::new());
}

#[test]
fn files_that_are_not_workflow_files_are_refused_before_they_are_read() {
    let dir = scratch("not-files");
    let big = dir.join("big.toml");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(baton_cli::limits::MAX_FILE_BYTES + 1)
        .unwrap();
    let fifo = dir.join("fifo.toml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    std::fs::write(dir.join("latin1.toml"), b"[workflow]\nname = \"caf\xe9\"\n").unwrap();
    std::fs::create_dir(dir.join("folder.toml")).unwrap();
    let cases: [(&str, &str); 5] = [
        ("/dev/zero", "it is not a regular file (a device)"),
        ("fifo.toml", "it is not a regular file (a FIFO)"),
        ("folder.toml", "it is not a regular file (a directory)"),
        (
            "big.toml",
            "it is 67108865 bytes, over the limit of 67108864 bytes",
        ),
        (
            "latin1.toml",
            "it is not UTF-8 text (byte 23 is not part of a UTF-8 character)",
        ),
    ];
    for (path, message) in cases {
        for command in ["validate", "run", "graph"] {
            let started = std::time::Instant::now();
            let out = run_in(&dir, &[command, path]);
            assert_eq!(out.code, Some(2), "{command} {path}: {out:?}");
            assert_eq!(
                out.stderr,
                format!("baton: cannot read workflow file {path}: {message}\n"),
                "{command} {path}"
            );
            // Refused, not read: /dev/zero would take all the memory there is.
            assert!(started.elapsed() < std::time::Duration::from_secs(30));
        }
    }
    assert_eq!(run_dirs(&dir), Vec::<std::path::PathBuf>::new());
}

#[test]
fn huge_numbers_and_durations_on_the_command_line_are_refused() {
    let dir = scratch("hostile-flags");
    std::fs::write(
        dir.join("wf.toml"),
        "[workflow]\nname = \"w\"\n[[task]]\nid = \"t\"\nrun = \"touch ran\"\n",
    )
    .unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["--workers", "9223372036854775807"],
            "invalid --workers 9223372036854775807: expected a whole number from 1 to 10000",
        ),
        (&["--workers", "10001"], "invalid --workers 10001"),
        (
            &["--workers", "100000000000000000000000"],
            "invalid --workers",
        ),
        (
            &["--grace", "18446744073709551615s"],
            "invalid --grace 18446744073709551615s: \"18446744073709551615s\" is longer than the longest duration baton accepts (1year)",
        ),
        (&["--grace", "2years"], "invalid --grace 2years"),
    ];
    for (flags, message) in cases {
        let mut args = vec!["run", "wf.toml"];
        args.extend_from_slice(flags);
        let out = run_in(&dir, &args);
        assert_eq!(out.code, Some(2), "{flags:?}: {out:?}");
        assert!(out.stderr.contains(message), "{flags:?}: {out:?}");
    }
    assert!(!dir.join("ran").exists());
    assert!(run_dirs(&dir).is_empty());
    // The limits themselves are accepted.
    let out = run_in(
        &dir,
        &[
            "run",
            "wf.toml",
            "-q",
            "--workers",
            "10000",
            "--grace",
            "1year",
        ],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(Path::new(&dir.join("ran")).exists());
}

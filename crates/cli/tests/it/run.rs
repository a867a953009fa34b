//! `baton run`: failures, JSON events, the JSON report.

use serde_json::Value;

use super::{run_dirs, run_in, scratch};

const FAILING: &str = r#"
[workflow]
name = "failing"
fail_mode = "continue"

[[task]]
id = "noisy"
run = "i=1; while [ $i -le 12 ]; do echo line $i; i=$((i + 1)); done; exit 3"
retry = { strategy = "fixed", delay = "10ms", attempts = 2 }

[[task]]
id = "after"
needs = ["noisy"]
run = "touch after-ran"

[[task]]
id = "beside"
run = "echo independent"
"#;

#[test]
fn a_failing_task_fails_the_run_with_its_log_tail_and_skips_its_dependents() {
    let dir = scratch("failing");
    std::fs::write(dir.join("failing.toml"), FAILING).unwrap();
    let out = run_in(&dir, &["run", "failing.toml"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    let rows: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .skip(1)
        .take(3)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0][..3], ["noisy", "failed", "2"], "{out:?}");
    assert_eq!(rows[1][..3], ["after", "skipped", "0"], "{out:?}");
    assert_eq!(rows[2][..3], ["beside", "succeeded", "1"], "{out:?}");
    assert!(
        out.stdout.contains("\nnoisy failed: exit status 3\n"),
        "{out:?}"
    );
    // The last 10 lines of the log: the second attempt's lines 4 to 12, and how it ended.
    let tail: Vec<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("  | "))
        .collect();
    let mut expected: Vec<String> = (4..=12).map(|i| format!("line {i}")).collect();
    expected.push("--- attempt 2: exit status 3 ---".to_owned());
    assert_eq!(tail, expected, "{out:?}");
    assert!(
        out.stdout
            .contains("workflow \"failing\" failed (noisy): 3 tasks in "),
        "{out:?}"
    );
    assert!(!dir.join("after-ran").exists());
    assert!(
        out.stderr
            .contains("noisy      attempt 1 failed: exit status 3; retrying in 0.01s"),
        "{out:?}"
    );
}

#[test]
fn json_events_are_alone_on_stdout_and_the_report_adds_up() {
    let dir = scratch("json");
    std::fs::write(dir.join("failing.toml"), FAILING).unwrap();
    let out = run_in(
        &dir,
        &[
            "run",
            "failing.toml",
            "--json",
            "--report-json",
            "report.json",
        ],
    );
    assert_eq!(out.code, Some(1), "{out:?}");
    let events: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["kind"]["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"run_started"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"run_finished"), "{kinds:?}");
    assert_eq!(
        kinds.iter().filter(|k| **k == "retrying").count(),
        1,
        "{kinds:?}"
    );
    // The summary went to stderr.
    assert!(out.stderr.contains("TASK"), "{out:?}");

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let totals = &report["totals"];
    let count = |key: &str| totals[key].as_u64().unwrap();
    assert_eq!(count("tasks"), 3);
    assert_eq!(report["tasks"].as_array().unwrap().len(), 3);
    let states = [
        "succeeded",
        "failed",
        "timed_out",
        "cancelled",
        "skipped",
        "compensated",
    ];
    assert_eq!(states.iter().map(|s| count(s)).sum::<u64>(), count("tasks"));
    assert_eq!(
        (count("succeeded"), count("failed"), count("skipped")),
        (1, 1, 1)
    );
    assert_eq!(count("attempts"), 3);
    assert_eq!(report["outcome"]["status"], "failed");
    assert_eq!(report["workflow"], "failing");
}

#[test]
fn quiet_prints_only_the_summary_and_a_saga_rolls_back() {
    let dir = scratch("saga");
    std::fs::write(
        dir.join("saga.toml"),
        r#"
[workflow]
name = "saga"
saga = true

[[task]]
id = "reserve"
run = "echo reserved > reserved"
compensate = "rm reserved && echo released > released"

[[task]]
id = "charge"
needs = ["reserve"]
run = "echo declined >&2; exit 7"
"#,
    )
    .unwrap();
    let out = run_in(&dir, &["run", "-q", "saga.toml"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.stderr, "", "{out:?}");
    assert!(
        out.stdout.contains("rollback: compensated reserve\n"),
        "{out:?}"
    );
    assert!(out.stdout.contains("  | declined\n"), "{out:?}");
    assert!(dir.join("released").exists() && !dir.join("reserved").exists());
    let [run_dir] = &run_dirs(&dir)[..] else {
        panic!("one run directory expected");
    };
    let log = std::fs::read_to_string(run_dir.join("reserve.log")).unwrap();
    assert_eq!(
        log,
        "--- attempt 1 ---\n--- attempt 1: exit status 0 ---\n\
         --- compensation attempt 1 ---\n--- compensation attempt 1: exit status 0 ---\n"
    );
}

#[test]
fn processes_a_task_leaves_behind_end_with_it_and_retries_wait_for_them() {
    let dir = scratch("leftovers");
    // `bg` starts a background sleep that ignores SIGTERM and exits at once; a task ending must
    // not leave it running (SIGKILL after the grace period).
    std::fs::write(
        dir.join("wf.toml"),
        r#"[workflow]
name = "leftovers"

[[task]]
id = "bg"
run = "sh -c 'trap \"\" TERM; sleep 60' & echo $! > bg.pid"
"#,
    )
    .unwrap();
    let out = run_in(&dir, &["run", "wf.toml", "-q", "--grace", "200ms"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let pid = crate::pid_in(&dir.join("bg.pid"));
    assert!(
        crate::gone(pid),
        "the background command {pid} outlived baton"
    );
}

#[test]
fn distinct_task_ids_never_share_a_log_file_and_hex_numbers_are_read_as_hex() {
    let dir = scratch("log-names");
    std::fs::write(
        dir.join("wf.toml"),
        r#"[workflow]
name = "names"
max_parallel = 0x2

[[task]]
id = "a b"
run = "echo first"

[[task]]
id = "a_b"
run = "echo second"
"#,
    )
    .unwrap();
    let out = run_in(&dir, &["run", "wf.toml", "-q"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let runs = run_dirs(&dir);
    let logs = &runs[0];
    let first = std::fs::read_to_string(logs.join("a%20b.log")).unwrap();
    let second = std::fs::read_to_string(logs.join("a_b.log")).unwrap();
    assert!(
        first.contains("first") && !first.contains("second"),
        "{first}"
    );
    assert!(
        second.contains("second") && !second.contains("first"),
        "{second}"
    );
}

#[test]
fn a_retry_after_a_timeout_runs_its_command_with_its_whole_timeout() {
    let dir = scratch("timeout-retry");
    // The first attempt ignores SIGTERM, so its teardown takes the whole grace period (1 s),
    // longer than the timeout (300 ms); the second attempt must still run its command.
    std::fs::write(
        dir.join("wf.toml"),
        r#"[workflow]
name = "stubborn"

[[task]]
id = "slow"
timeout = "300ms"
retry = { strategy = "fixed", delay = "10ms", attempts = 2 }
run = '''
if [ "$BATON_ATTEMPT" = 2 ]; then echo ran > second-attempt-ran; exit 0; fi
trap '' TERM
sleep 30 &
wait
'''
"#,
    )
    .unwrap();
    let out = run_in(&dir, &["run", "wf.toml", "--grace", "1s"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(dir.join("second-attempt-ran")).unwrap(),
        "ran\n"
    );
    assert!(
        out.stderr
            .contains("slow       attempt 1 failed: timed out after 300ms; retrying in 0.01s"),
        "{out:?}"
    );
    let [run] = &run_dirs(&dir)[..] else {
        panic!("one run directory expected");
    };
    let log = std::fs::read_to_string(run.join("slow.log")).unwrap();
    assert_eq!(
        log,
        "--- attempt 1 ---\n--- attempt 1: timed out after 300ms ---\n\
         --- attempt 2 ---\n--- attempt 2: exit status 0 ---\n"
    );
}

#[test]
fn a_workflow_timeout_says_which_timeout_ended_each_task() {
    let dir = scratch("workflow-timeout");
    std::fs::write(
        dir.join("wf.toml"),
        r#"[workflow]
name = "deadline"
timeout = "300ms"
max_parallel = 1

[[task]]
id = "long"
run = "sleep 30"

[[task]]
id = "never"
needs = ["long"]
run = "true"
"#,
    )
    .unwrap();
    let out = run_in(&dir, &["run", "wf.toml", "--grace", "100ms"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stdout
            .contains("\nlong timed_out: the workflow's timeout of 300ms passed\n"),
        "{out:?}"
    );
    assert!(
        out.stdout.contains(
            "workflow \"deadline\" timed out (the workflow's timeout of 300ms passed): 2 tasks in "
        ),
        "{out:?}"
    );
}

#[test]
fn control_characters_from_commands_and_files_never_reach_the_terminal_raw() {
    let dir = scratch("escapes");
    std::fs::write(
        dir.join("wf.toml"),
        "[workflow]\nname = \"escapes\"\n\n[[task]]\nid = \"noisy\"\n\
         run = \"printf 'ok\\\\033[2J\\\\007\\\\n'; exit 4\"\n",
    )
    .unwrap();
    let out = run_in(&dir, &["run", "wf.toml"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stdout.contains("  | ok\\u{1b}[2J\\u{7}\n"), "{out:?}");
    // A key with an escape sequence in it, reported as unknown.
    std::fs::write(
        dir.join("bad.toml"),
        "[workflow]\nname = \"w\"\n\"col\\u001b[31mour\" = 1\n[[task]]\nid = \"t\"\nrun = \"true\"\n",
    )
    .unwrap();
    let bad = run_in(&dir, &["validate", "bad.toml"]);
    assert_eq!(bad.code, Some(2), "{bad:?}");
    assert!(
        bad.stderr.contains("unknown field `col\\u{1b}[31mour`"),
        "{bad:?}"
    );
    for text in [&out.stdout, &out.stderr, &bad.stderr] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
    }
}

#[test]
fn which_agent_ran_a_task_is_in_its_environment_the_summary_the_events_and_both_reports() {
    let dir = scratch("agents-shown");
    std::fs::write(
        dir.join("wf.toml"),
        r#"[workflow]
name = "placed"

[[agent]]
id = "gpu-box"
capabilities = ["gpu"]
workers = 1

[[task]]
id = "train"
requires = ["gpu"]
env = { BATON_AGENT = "forged" }
run = "echo \"$BATON_AGENT\" > trained-on"

[[task]]
id = "anywhere"
run = "echo \"$BATON_AGENT\" > ran-on"
"#,
    )
    .unwrap();
    let out = run_in(
        &dir,
        &[
            "run",
            "wf.toml",
            "--json",
            "--report",
            "r.html",
            "--report-json",
            "r.json",
        ],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    assert_eq!(read("trained-on"), "gpu-box\n");
    // A task with no `requires` lands on any agent (here the only one).
    assert_eq!(read("ran-on"), "gpu-box\n");
    assert!(
        out.stderr
            .contains("TASK      STATE      ATTEMPTS  DURATION  AGENT\n"),
        "{out:?}"
    );
    assert!(out.stderr.contains("  gpu-box\n"), "{out:?}");
    let ends: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["kind"]["event"] == "succeeded")
        .collect();
    assert_eq!(ends.len(), 2);
    assert!(ends.iter().all(|e| e["agent"] == "gpu-box"), "{ends:?}");
    let report: Value = serde_json::from_str(&read("r.json")).unwrap();
    assert_eq!(report["tasks"][0]["agent"], "gpu-box");
    assert!(read("r.html").contains("<td class=\"agent\">gpu-box</td>"));
    // Without agents there is no BATON_AGENT, even one inherited from baton's environment.
    std::fs::write(
        dir.join("plain.toml"),
        "[workflow]\nname = \"plain\"\n[[task]]\nid = \"t\"\nrun = \"echo ${BATON_AGENT-unset} > plain-on\"\n",
    )
    .unwrap();
    let plain = crate::baton()
        .args(["run", "plain.toml", "-q"])
        .env("BATON_AGENT", "outer")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(plain.status.success(), "{plain:?}");
    assert_eq!(read("plain-on"), "unset\n");
}

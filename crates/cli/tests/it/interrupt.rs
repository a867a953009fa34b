//! Ctrl-C: SIGINT cancels the run, stops the running command's whole process group, lets the
//! saga compensate, and exits 130.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::{baton, gone, pid_in, scratch};

const SAGA: &str = r#"
[workflow]
name = "interrupted"
saga = true

[[task]]
id = "setup"
run = "echo set up"
compensate = "echo undone > compensated.txt"

[[task]]
id = "sleeper"
needs = ["setup"]
run = "sleep 30 & echo $! > sleeper.pid; wait"
"#;

#[test]
fn sigint_stops_the_commands_compensates_and_exits_130() {
    let dir = scratch("interrupt");
    std::fs::write(dir.join("saga.toml"), SAGA).unwrap();
    let mut child = baton()
        .args([
            "run",
            "saga.toml",
            "--grace",
            "2s",
            "--report",
            "report.html",
        ])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    // Wait for the sleeper's "started" line (the deadline only guards against a hang).
    let mut seen = Vec::new();
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("no 'sleeper started' line ({e}); saw {seen:#?}"));
        let started = line.contains("sleeper") && line.contains("started (attempt 1)");
        seen.push(line);
        if started {
            break;
        }
    }
    // The shell writes the sleep's pid right after starting it.
    let sleeper = pid_in(&dir.join("sleeper.pid"));

    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let (done_tx, done) = mpsc::channel();
    std::thread::spawn(move || {
        let output = child.wait_with_output();
        let _ = done_tx.send(output);
    });
    let output = done
        .recv_timeout(Duration::from_secs(20))
        .expect("baton exits within a few seconds of SIGINT")
        .unwrap();
    let rest: Vec<String> = lines.try_iter().collect();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(130), "{stdout}\n{rest:#?}");
    assert!(
        gone(sleeper),
        "the sleeping process {sleeper} is still alive"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("compensated.txt")).unwrap(),
        "undone\n"
    );
    assert!(
        rest.iter()
            .any(|l| l.contains("SIGINT: cancelling the run")),
        "{rest:#?}"
    );
    assert!(
        stdout.contains("workflow \"interrupted\" was interrupted"),
        "{stdout}"
    );
    assert!(stdout.contains("rollback: compensated setup"), "{stdout}");
    // The HTML report is written on Ctrl-C too: the cancelled sleeper, the compensated setup.
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("data-outcome=\"cancelled\""), "{html}");
    assert_eq!(
        html.matches("<rect class=\"attempt cancelled\" data-task=\"sleeper\"")
            .count(),
        1,
        "{html}"
    );
    assert_eq!(
        html.matches("<rect class=\"compensation succeeded\" data-task=\"setup\"")
            .count(),
        1,
        "{html}"
    );
}

#[test]
fn a_second_sigint_kills_commands_that_ignore_sigterm_without_waiting_for_the_grace_period() {
    let dir = scratch("interrupt-twice");
    std::fs::write(
        dir.join("stubborn.toml"),
        r#"[workflow]
name = "stubborn"

[[task]]
id = "stubborn"
run = "trap '' TERM; echo $$ > shell.pid; sleep 60 & echo $! > sleep.pid; wait"
"#,
    )
    .unwrap();
    let child = baton()
        .args(["run", "stubborn.toml", "--grace", "60s"])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (shell, sleep) = (
        pid_in(&dir.join("shell.pid")),
        pid_in(&dir.join("sleep.pid")),
    );
    let baton_pid = Pid::from_raw(child.id() as i32);
    kill(baton_pid, Signal::SIGINT).unwrap();
    // The first SIGINT sends SIGTERM, which the command ignores: it would wait 60 s.
    std::thread::sleep(Duration::from_millis(300));
    kill(baton_pid, Signal::SIGINT).unwrap();
    let status = exit_within(child, Duration::from_secs(20))
        .expect("baton exits soon after the second SIGINT, not after the 60 s grace period");
    assert_eq!(status.code(), Some(130));
    assert!(gone(shell), "the shell {shell} survived");
    assert!(gone(sleep), "the sleep {sleep} survived");
}

/// Waits for `child` to exit within `limit`; its status, or `None` (and the child killed).
fn exit_within(child: std::process::Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let pid = Pid::from_raw(child.id() as i32);
    let (done_tx, done) = mpsc::channel();
    let mut child = child;
    std::thread::spawn(move || {
        let _ = done_tx.send(child.wait());
    });
    match done.recv_timeout(limit) {
        Ok(status) => Some(status.unwrap()),
        Err(_) => {
            let _ = kill(pid, Signal::SIGKILL);
            None
        }
    }
}

#[test]
fn a_second_sigint_stops_a_hanging_compensation_and_every_one_after_it() {
    let dir = scratch("interrupt-compensation");
    // `charge` fails, so `reserve` is compensated; its compensation ignores SIGTERM and hangs,
    // and would be retried ten times (the default compensation policy).
    std::fs::write(
        dir.join("saga.toml"),
        r#"[workflow]
name = "hanging"
saga = true

[[task]]
id = "reserve"
run = "true"
compensate = "trap '' TERM; echo $$ >> compensation.pids; sleep 60 & wait"

[[task]]
id = "charge"
needs = ["reserve"]
run = "exit 1"
"#,
    )
    .unwrap();
    let child = baton()
        .args(["run", "saga.toml", "--grace", "60s"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let first = pid_in(&dir.join("compensation.pids"));
    let baton_pid = Pid::from_raw(child.id() as i32);
    kill(baton_pid, Signal::SIGINT).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    kill(baton_pid, Signal::SIGINT).unwrap();
    let status = exit_within(child, Duration::from_secs(20)).expect(
        "baton exits soon after the second SIGINT, without spending the compensation's retries",
    );
    assert_eq!(status.code(), Some(130));
    assert!(gone(first), "the compensation {first} survived");
    let started = std::fs::read_to_string(dir.join("compensation.pids")).unwrap();
    assert_eq!(
        started.lines().count(),
        1,
        "a compensation started after the abort: {started}"
    );
}

#[test]
fn kill_9_of_baton_takes_every_command_and_its_background_jobs_with_it() {
    let dir = scratch("kill-9");
    std::fs::write(
        dir.join("wf.toml"),
        r#"[workflow]
name = "orphans"

[[task]]
id = "a"
run = "sleep 1000 & echo $! > a.pid; sleep 1000 | cat & wait"

[[task]]
id = "b"
run = "echo $$ > b.pid; exec sleep 1000"
"#,
    )
    .unwrap();
    let mut child = baton()
        .args(["run", "wf.toml", "-q"])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (a, b) = (pid_in(&dir.join("a.pid")), pid_in(&dir.join("b.pid")));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
    child.wait().unwrap();
    let killed = std::time::Instant::now();
    assert!(gone(a), "the background job {a} outlived baton");
    assert!(gone(b), "the command {b} outlived baton");
    // The watchdog acts as soon as the pipe closes: well within a second on an idle machine (the
    // bound is loose for a loaded one).
    assert!(
        killed.elapsed() < Duration::from_secs(5),
        "{:?}",
        killed.elapsed()
    );
    // The logs say what had started, and nothing claims to have finished.
    let [run] = &crate::run_dirs(&dir)[..] else {
        panic!("one run directory expected");
    };
    let log = std::fs::read_to_string(run.join("a.log")).unwrap();
    assert_eq!(log, "--- attempt 1 ---\n");
}

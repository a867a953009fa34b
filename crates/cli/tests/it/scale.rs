//! Growth with input: the same steps on 10,000 and 100,000 tasks must cost about ten times more,
//! not a hundred (a quadratic path), and a 300 MB log must not make `baton` big.
//!
//! Costs are CPU seconds (user + system) of `baton` and everything it waited for, as GNU time
//! reports them (`/usr/bin/time`): they hardly move with the machine's load, unlike the clock.
//! No single size is timed against a bound; each run has a wall-clock cap only against a hang.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::scratch;

/// What GNU time measured of one command.
#[derive(Debug, Clone, Copy)]
struct Cost {
    /// User plus system CPU seconds, the command's waited-for children included.
    cpu: f64,
    /// Peak resident memory, in KiB.
    peak_kib: u64,
    /// Its exit code.
    code: Option<i32>,
}

/// Runs `baton args` in `dir` under `/usr/bin/time`, killed if it passes `cap`.
fn measured(dir: &Path, args: &[&str], cap: Duration) -> Cost {
    let report = dir.join("time.txt");
    let mut child = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%U %S %M")
        .arg("-o")
        .arg(&report)
        .arg(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("/usr/bin/time (GNU time, Debian's `time` package) runs");
    let pid = Pid::from_raw(child.id() as i32);
    let (done_tx, done) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done_tx.send(child.wait());
    });
    let status = match done.recv_timeout(cap) {
        Ok(status) => status.unwrap(),
        Err(_) => {
            let _ = kill(pid, Signal::SIGKILL);
            panic!("baton {args:?} passed its cap of {cap:?}");
        }
    };
    let text = std::fs::read_to_string(&report).unwrap();
    // GNU time writes "Command exited with non-zero status N" first when it did.
    let last = text.lines().last().unwrap_or_default();
    let fields: Vec<&str> = last.split_whitespace().collect();
    let [user, system, peak] = fields[..] else {
        panic!("unexpected GNU time output {text:?}");
    };
    Cost {
        cpu: user.parse::<f64>().unwrap() + system.parse::<f64>().unwrap(),
        peak_kib: peak.parse().unwrap(),
        code: status.code(),
    }
}

/// A workflow of `n` tasks that run `true`: a random DAG (each task needs up to two earlier
/// ones, drawn from a fixed-seed generator), with `typos` of its dependencies misspelt.
fn workflow(n: usize, typos: bool) -> String {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut text = format!("[workflow]\nname = \"scale-{n}\"\nmax_parallel = 8\n");
    for i in 0..n {
        text.push_str(&format!("\n[[task]]\nid = \"task-{i}\"\nrun = \"true\"\n"));
        if i > 0 {
            let a = next() as usize % i;
            let b = next() as usize % i;
            let first = if typos && i % 2 == 0 {
                format!("tsak-{a}")
            } else {
                format!("task-{a}")
            };
            text.push_str(&format!("needs = [\"{first}\", \"task-{b}\"]\n"));
        }
    }
    text
}

/// The CPU cost of validating (a valid file and one with `n / 2` misspelt dependencies, each
/// with its suggestion), graphing and running `n` tasks with both reports.
fn pipeline(dir: &Path, n: usize) -> f64 {
    let valid = format!("valid-{n}.toml");
    let typos = format!("typos-{n}.toml");
    std::fs::write(dir.join(&valid), workflow(n, false)).unwrap();
    std::fs::write(dir.join(&typos), workflow(n, true)).unwrap();
    let cap = Duration::from_secs(600);
    let steps: [(&[&str], i32); 4] = [
        (&["validate", &valid], 0),
        (&["validate", &typos], 2),
        (&["graph", &valid], 0),
        (
            &[
                "run",
                &valid,
                "-q",
                "--report",
                "report.html",
                "--report-json",
                "report.json",
            ],
            0,
        ),
    ];
    let mut total = 0.0;
    for (args, code) in steps {
        let cost = measured(dir, args, cap);
        assert_eq!(cost.code, Some(code), "baton {args:?}: {cost:?}");
        println!("{n} tasks: baton {}: {:.2} CPU s", args[0], cost.cpu);
        total += cost.cpu;
    }
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert_eq!(html.matches("<div class=\"task-row").count(), n);
    total
}

#[test]
fn ten_times_the_tasks_costs_about_ten_times_as_much() {
    let dir = scratch("scale");
    let small = pipeline(&dir, 10_000);
    let large = pipeline(&dir, 100_000);
    let ratio = large / small;
    println!("10k: {small:.2} CPU s, 100k: {large:.2} CPU s, ratio {ratio:.1}");
    // Linear growth is 10x; quadratic would be 100x.
    assert!(
        ratio <= 20.0,
        "100k tasks cost {ratio:.1}x 10k tasks ({large:.2} s / {small:.2} s)"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The run directory of the only run in `dir`.
fn only_run(dir: &Path) -> PathBuf {
    let runs = super::run_dirs(dir);
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs[0].clone()
}

#[test]
fn a_300_mb_log_leaves_baton_small() {
    for (name, command) in [
        (
            "lines",
            "yes 'a line of the log' | head -c 300000000; exit 1",
        ),
        (
            "one-line",
            "head -c 300000000 /dev/zero | tr '\\\\0' x; echo; echo the end; exit 1",
        ),
    ] {
        let dir = scratch(&format!("big-log-{name}"));
        std::fs::write(
            dir.join("wf.toml"),
            format!("[workflow]\nname = \"big\"\n\n[[task]]\nid = \"loud\"\nrun = \"{command}\"\n"),
        )
        .unwrap();
        let cost = measured(
            &dir,
            &["run", "wf.toml", "--report", "report.html"],
            Duration::from_secs(300),
        );
        assert_eq!(cost.code, Some(1), "{name}: {cost:?}");
        let log = only_run(&dir).join("loud.log");
        assert!(std::fs::metadata(&log).unwrap().len() >= 300_000_000);
        println!("{name}: peak RSS {} KiB", cost.peak_kib);
        assert!(
            cost.peak_kib < 100 * 1024,
            "{name}: baton peaked at {} KiB with a 300 MB log",
            cost.peak_kib
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn ten_thousand_workers_cost_nothing_until_tasks_need_them() {
    let dir = scratch("many-workers");
    std::fs::write(
        dir.join("one.toml"),
        "[workflow]\nname = \"one\"\n\n[[task]]\nid = \"t\"\nrun = \"true\"\n",
    )
    .unwrap();
    let cap = Duration::from_secs(60);
    let one = measured(&dir, &["run", "one.toml", "-q", "--workers", "1"], cap);
    let many = measured(&dir, &["run", "one.toml", "-q", "--workers", "10000"], cap);
    assert_eq!((one.code, many.code), (Some(0), Some(0)));
    println!("one worker: {one:?}; 10,000 workers: {many:?}");
    // 10,000 started workers took about 100 MB and a second here.
    assert!(
        many.peak_kib < one.peak_kib + 16 * 1024,
        "{many:?} against {one:?}"
    );
    assert!(many.cpu < one.cpu + 0.5, "{many:?} against {one:?}");
}

#[test]
fn more_commands_than_the_usual_open_files_limit_run_at_once() {
    let hard = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .unwrap()
        .1;
    if hard < 4096 {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "the hard limit on open files ({hard}) is too low for this test, which CI=true requires"
        );
        println!("hard limit on open files {hard}: skipped");
        return;
    }
    let dir = scratch("wide");
    let mut text = String::from("[workflow]\nname = \"wide\"\n");
    for i in 0..1200 {
        text.push_str(&format!("\n[[task]]\nid = \"t{i}\"\nrun = \"sleep 2\"\n"));
    }
    std::fs::write(dir.join("wide.toml"), text).unwrap();
    // Under the usual soft limit of 1,024 open files: baton raises it to the hard limit.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -S -n 1024; exec {} run wide.toml -q --workers 1200",
            env!("CARGO_BIN_EXE_baton")
        ))
        .current_dir(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1200 tasks in "), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}

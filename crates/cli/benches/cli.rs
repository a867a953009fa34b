//! Benchmark of the `baton` command against `xargs`:
//!
//! - `cli/run_1000_true`: 1,000 tasks that each run `sh -c true`, 8 at a time. `baton`:
//!   `baton run --quiet` of a generated workflow file (`max_parallel = 8`, no dependencies), end to
//!   end: process start, validation, the orchestrator, one log file per task, the summary.
//!   `baton_report_html`: the same with `--report PATH.html` (events collected, 1,000 bars drawn).
//!   `xargs`: `xargs -P 8` running the same 1,000 `sh -c true` commands.
//!
//! Both spawn the same 1,000 shells; the difference is what Baton adds around them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const TASKS: usize = 1_000;

/// A scratch folder for this bench, with the generated workflow file in it.
fn workflow_file() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("baton-cli-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    let mut text = String::from("[workflow]\nname = \"bench\"\nmax_parallel = 8\n");
    for i in 0..TASKS {
        text.push_str(&format!("\n[[task]]\nid = \"t{i}\"\nrun = \"true\"\n"));
    }
    let file = dir.join("bench.toml");
    std::fs::write(&file, text).expect("the workflow file");
    file
}

fn run_baton(file: &Path, extra: &[&std::ffi::OsStr]) -> Duration {
    let start = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["run", "--quiet", "--workers", "8"])
        .arg(file)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("baton runs");
    let took = start.elapsed();
    assert!(status.success(), "baton run failed: {status}");
    // Run directories (1,000 logs each) stay until the group ends, as they would for a user:
    // deleting them between runs makes the file system's next creations slower (ext4 skips
    // recently deleted inodes), which would measure the benchmark's cleanup, not Baton.
    took
}

fn run_xargs() -> Duration {
    let input: String = (0..TASKS).map(|i| format!("{i}\n")).collect();
    let start = Instant::now();
    let mut child = Command::new("xargs")
        .args(["-P", "8", "-I", "{}", "sh", "-c", "true"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("xargs runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("a pipe");
        stdin.write_all(input.as_bytes()).expect("the input");
    }
    let status = child.wait().expect("xargs ends");
    let took = start.elapsed();
    assert!(status.success(), "xargs failed: {status}");
    took
}

fn run_1000_true(c: &mut Criterion) {
    let file = workflow_file();
    let mut group = c.benchmark_group("cli/run_1000_true");
    group.throughput(Throughput::Elements(TASKS as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("baton", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| run_baton(&file, &[])).sum());
    });
    let html = file.with_file_name("report.html");
    group.bench_function("baton_report_html", |b| {
        let extra = [std::ffi::OsStr::new("--report"), html.as_os_str()];
        b.iter_custom(|iters| (0..iters).map(|_| run_baton(&file, &extra)).sum());
    });
    group.bench_function("xargs", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| run_xargs()).sum());
    });
    group.finish();
    let _ = std::fs::remove_dir_all(file.parent().expect("a folder"));
}

criterion_group!(benches, run_1000_true);
criterion_main!(benches);

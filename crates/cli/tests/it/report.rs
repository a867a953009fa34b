//! `baton run --report PATH.html`: the HTML report of a real run, checked as text and, when
//! Chromium is installed, as the DOM a browser builds from it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

use super::{run_in, scratch};

/// Runs the flaky example (its `fetch` fails twice before it succeeds) in a fresh directory with
/// `--report report.html --report-json report.json`; returns the directory, the HTML and the
/// attempts the JSON report counted.
fn flaky_run(name: &str) -> (PathBuf, String, u64) {
    let dir = scratch(name);
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/workflows/flaky.toml");
    std::fs::copy(example, dir.join("flaky.toml")).unwrap();
    let out = run_in(
        &dir,
        &[
            "run",
            "flaky.toml",
            "--quiet",
            "--report",
            "report.html",
            "--report-json",
            "report.json",
        ],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    let html = std::fs::read_to_string(dir.join("report.html")).expect("the HTML report exists");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let attempts = json["totals"]["attempts"].as_u64().unwrap();
    (dir, html, attempts)
}

#[test]
fn the_html_report_is_self_contained_and_has_a_bar_per_attempt() {
    let (_dir, html, attempts) = flaky_run("report-html");
    // fetch: 2 failures and a success; report: 1 success.
    assert_eq!(attempts, 4);
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(
        html.contains("<title>baton run report: flaky</title>"),
        "{html}"
    );
    for external in ["http://", "https://", "src=", "href=", "<link", "@import"] {
        assert!(!html.contains(external), "{external} in {html}");
    }
    // One script, inline: the filter's.
    assert_eq!(html.matches("<script").count(), 1, "{html}");
    assert!(html.contains("<script>\n// The report's filter"), "{html}");
    for id in ["fetch", "report"] {
        assert!(
            html.contains(&format!("data-task=\"{id}\"")),
            "{id}: {html}"
        );
        assert!(
            html.contains(&format!("<td class=\"task\">{id}</td>")),
            "{id}: {html}"
        );
    }
    assert_eq!(html.matches("class=\"attempt ").count() as u64, attempts);
    assert_eq!(
        html.matches("<rect class=\"attempt failed\" data-task=\"fetch\"")
            .count(),
        2,
        "{html}"
    );
    assert_eq!(
        html.matches("<rect class=\"attempt succeeded\" data-task=\"fetch\" data-attempt=\"3\"")
            .count(),
        1,
        "{html}"
    );
    // Two retry waits, drawn as gaps between fetch's attempts.
    assert_eq!(html.matches("<line class=\"wait\"").count(), 2, "{html}");
    // fetch then report decided the run's length.
    assert!(
        html.contains("<div class=\"task-row critical\" data-task=\"fetch\""),
        "{html}"
    );
    assert!(
        html.contains("<div class=\"task-row critical\" data-task=\"report\""),
        "{html}"
    );
    assert!(html.contains("data-outcome=\"succeeded\""), "{html}");
}

#[test]
fn report_folders_are_created_and_an_unwritable_path_fails_the_run_naming_it() {
    let dir = scratch("report-unwritable");
    std::fs::write(
        dir.join("one.toml"),
        "[workflow]\nname = \"one\"\n\n[[task]]\nid = \"t\"\nrun = \"true\"\n",
    )
    .unwrap();
    // Missing folders are created...
    let out = run_in(
        &dir,
        &["run", "one.toml", "-q", "--report", "missing/dir/r.html"],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(dir.join("missing/dir/r.html").is_file());
    // ...but a path under a file cannot be written: said before anything runs (exit 2).
    let runs_before = super::run_dirs(&dir).len();
    for (flag, path) in [
        ("--report", "one.toml/r.html"),
        ("--report-json", "one.toml/r.json"),
    ] {
        let out = run_in(&dir, &["run", "one.toml", "-q", flag, path]);
        assert_eq!(out.code, Some(2), "{out:?}");
        assert_eq!(
            out.stderr,
            format!("baton: cannot write the report to {path}: one.toml is not a directory\n"),
            "{out:?}"
        );
        assert_eq!(out.stdout, "", "{out:?}");
    }
    // Both reports to one file, or a name as long as a file name can be.
    let long = format!("{}.json", "r".repeat(250));
    let out = run_in(
        &dir,
        &[
            "run",
            "one.toml",
            "-q",
            "--report",
            "x",
            "--report-json",
            "./x",
        ],
    );
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(
        out.stderr.contains("--report names the same file"),
        "{out:?}"
    );
    assert_eq!(super::run_dirs(&dir).len(), runs_before, "nothing ran");
    let out = run_in(&dir, &["run", "one.toml", "-q", "--report-json", &long]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(dir.join(&long).is_file());
}

#[test]
fn a_report_that_cannot_be_written_at_the_end_still_leaves_the_summary() {
    // /dev/full takes the temporary file's creation (it is a device in /dev, where a file cannot
    // be created by most users), so point the report at a folder that vanishes during the run.
    let dir = scratch("report-vanishes");
    std::fs::write(
        dir.join("one.toml"),
        "[workflow]\nname = \"one\"\n\n[[task]]\nid = \"t\"\nrun = \"rm -r out\"\n",
    )
    .unwrap();
    let out = run_in(&dir, &["run", "one.toml", "--report-json", "out/r.json"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stdout
            .contains("workflow \"one\" succeeded: 1 task in "),
        "the summary is printed: {out:?}"
    );
    assert!(
        out.stderr
            .contains("baton: cannot write the report to out/r.json: "),
        "{out:?}"
    );
    assert!(!dir.join("out/r.json").exists());
}

/// Chromium, or `None` (the test is skipped) where it is not installed; under `CI=true` it must
/// be.
fn chromium_or_skip() -> Option<PathBuf> {
    let browser = chromium();
    if browser.is_none() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "chromium is not installed, and CI=true requires this test to run"
        );
        println!("chromium not installed: skipped");
    }
    browser
}

/// `chromium` or `chromium-browser`, if one is on PATH.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find_map(|dir| {
        ["chromium", "chromium-browser"]
            .iter()
            .map(|name| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

#[test]
fn chromium_renders_one_bar_per_attempt() {
    let Some(browser) = chromium_or_skip() else {
        return;
    };
    let (dir, _html, attempts) = flaky_run("report-chromium");
    let page = dir.join("report.html").canonicalize().unwrap();
    let (dom, output) = dump_dom(&browser, &dir, &format!("file://{}", page.display()));
    assert!(output.success(), "{output}: {dom}");
    assert!(
        dom.contains("<title>baton run report: flaky</title>"),
        "{dom}"
    );
    assert_eq!(
        dom.matches("<rect class=\"attempt ").count() as u64,
        attempts,
        "{dom}"
    );
    assert_eq!(
        dom.matches("<rect class=\"attempt failed\" data-task=\"fetch\"")
            .count(),
        2,
        "{dom}"
    );
}

/// The DOM Chromium builds from `url` (scripts run), and how the browser exited.
fn dump_dom(browser: &Path, dir: &Path, url: &str) -> (String, std::process::ExitStatus) {
    let profile = dir.join("chromium-profile");
    let child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.display()));
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
    let (done_tx, done) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done_tx.send(child.wait_with_output());
    });
    // The timeout only guards against a hung browser.
    let output = match done.recv_timeout(Duration::from_secs(60)) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = kill(pid, Signal::SIGKILL);
            panic!(
                "{} --dump-dom did not finish within 60 s",
                browser.display()
            );
        }
    };
    let dom = String::from_utf8_lossy(&output.stdout).into_owned();
    (dom, output.status)
}

#[test]
fn chromium_applies_the_filter_named_in_the_address() {
    let Some(browser) = chromium_or_skip() else {
        return;
    };
    let (dir, _html, _) = flaky_run("report-filter");
    let page = dir.join("report.html").canonicalize().unwrap();
    // `fetch` was retried, `report` was not.
    let (dom, status) = dump_dom(
        &browser,
        &dir,
        &format!("file://{}#retried", page.display()),
    );
    assert!(status.success(), "{status}: {dom}");
    let row = |id: &str| -> String {
        let start = dom
            .find(&format!("class=\"task-row critical\" data-task=\"{id}\""))
            .unwrap_or_else(|| panic!("no row for {id} in {dom}"));
        let open = dom[..start].rfind('<').unwrap();
        dom[open..dom[open..].find('>').unwrap() + open].to_owned()
    };
    assert!(!row("fetch").contains("hidden"), "{}", row("fetch"));
    assert!(row("report").contains("hidden"), "{}", row("report"));
    assert!(
        dom.contains("<input type=\"checkbox\" name=\"retried\""),
        "{dom}"
    );
    assert!(dom.contains(">1 of 2 tasks</output>"), "{dom}");
    // A text filter: only ids containing "rep".
    let (dom, _) = dump_dom(
        &browser,
        &dir,
        &format!("file://{}#text=rep", page.display()),
    );
    assert!(dom.contains(">1 of 2 tasks</output>"), "{dom}");
    // A flag and a text together.
    let url = format!("file://{}#critical,text=fet", page.display());
    let (dom, _) = dump_dom(&browser, &dir, &url);
    assert!(dom.contains(">1 of 2 tasks</output>"), "{dom}");
    // A malformed text in the address is dropped; the rest of the filter still applies.
    let url = format!("file://{}#retried,text=%E0%A4%A", page.display());
    let (dom, status) = dump_dom(&browser, &dir, &url);
    assert!(status.success());
    assert!(dom.contains(">1 of 2 tasks</output>"), "{dom}");
}

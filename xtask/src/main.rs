//! Baton's automation, written in Rust so it runs wherever cargo does.
//!
//! - `cargo xtask ci`: every check a change must pass, stopping at the first failure.
//! - `cargo xtask bench [CARGO BENCH ARGS]`: runs the criterion benches and prints the comparison table.
//! - `cargo xtask bench-report`: prints the table from every result criterion has kept, without
//!   running anything.

mod bench;
mod ci;
mod layering;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The error type of every task: a message for the person at the terminal.
type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("ci") => ci::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("bench-report") => bench::report(),
        Some("layering") => layering::check(),
        Some("help" | "-h" | "--help") | None => {
            print_help();
            Ok(())
        }
        Some(other) => Err(format!("unknown task `{other}`; run `cargo xtask help`")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("\nxtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn print_help() {
    println!(
        "Baton automation\n\n\
         USAGE: cargo xtask <TASK>\n\n\
         TASKS:\n  \
         ci              fmt, clippy, layering, tests, rustdoc, benches in test mode, cargo-deny\n  \
         bench [ARGS]    run `cargo bench` (ARGS passed through) and print the comparison table\n  \
         bench-report    print the comparison table from every result criterion has kept\n  \
         layering        check that crates depend only on the Baton crates they may"
    );
}

/// The workspace root (the parent of this crate's folder).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// `cargo`, as the one that invoked us (so toolchain overrides carry through).
fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root());
    cmd
}

/// Runs a command to completion, inheriting stdio; an error names the command and its exit status.
fn run_command(mut cmd: Command) -> Result {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

/// Runs a command and returns its standard output.
fn command_output(mut cmd: Command) -> Result<String> {
    let shown = format!("{cmd:?}");
    let output = cmd
        .output()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{shown} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8(output.stdout).map_err(|e| format!("{shown} printed non-UTF-8 output: {e}"))
}

/// `cargo metadata` for the workspace, parsed.
fn metadata(no_deps: bool) -> Result<serde_json::Value> {
    let mut cmd = cargo();
    cmd.args(["metadata", "--format-version", "1"]);
    if no_deps {
        cmd.arg("--no-deps");
    }
    let text = command_output(cmd)?;
    serde_json::from_str(&text).map_err(|e| format!("cargo metadata printed invalid JSON: {e}"))
}

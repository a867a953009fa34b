//! `cargo xtask ci`: every validation step, in order from cheapest to dearest, stopping at the first
//! failure with a message that names the step.

use std::time::Instant;

use crate::{Result, cargo, layering, run_command};

/// One step of the pipeline.
struct Step {
    name: &'static str,
    run: fn() -> Result,
}

const STEPS: &[Step] = &[
    Step {
        name: "format (cargo fmt --check)",
        run: fmt,
    },
    Step {
        name: "layering (Baton crates depend only downwards)",
        run: layering::check,
    },
    Step {
        name: "lint (clippy, all targets, -D warnings)",
        run: clippy,
    },
    Step {
        name: "test (unit, integration, property)",
        run: test,
    },
    Step {
        name: "doc-tests",
        run: doctest,
    },
    Step {
        name: "rustdoc (warnings denied)",
        run: rustdoc,
    },
    Step {
        name: "benches (each once, in test mode)",
        run: benches,
    },
    Step {
        name: "dependencies (cargo deny: bans, licenses, sources)",
        run: deny,
    },
];

pub(crate) fn run(args: &[String]) -> Result {
    if let Some(arg) = args.first() {
        return Err(format!("`cargo xtask ci` takes no arguments (got `{arg}`)"));
    }
    let started = Instant::now();
    for (i, step) in STEPS.iter().enumerate() {
        println!("\n==> [{}/{}] {}", i + 1, STEPS.len(), step.name);
        let t = Instant::now();
        (step.run)().map_err(|e| format!("step `{}` failed: {e}", step.name))?;
        println!("==> {} passed in {:.1?}", step.name, t.elapsed());
    }
    println!(
        "\nci: all {} steps passed in {:.1?}",
        STEPS.len(),
        started.elapsed()
    );
    Ok(())
}

fn fmt() -> Result {
    let mut cmd = cargo();
    cmd.args(["fmt", "--all", "--", "--check"]);
    run_command(cmd)
}

fn clippy() -> Result {
    let mut cmd = cargo();
    cmd.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]);
    run_command(cmd)
}

fn test() -> Result {
    let mut cmd = cargo();
    // Benches are left out here: they run below, in release mode, where their inputs are affordable.
    cmd.args([
        "test",
        "--workspace",
        "--all-features",
        "--locked",
        "--lib",
        "--bins",
        "--tests",
        "--examples",
    ]);
    run_command(cmd)
}

fn doctest() -> Result {
    let mut cmd = cargo();
    cmd.args(["test", "--workspace", "--all-features", "--locked", "--doc"]);
    run_command(cmd)
}

fn rustdoc() -> Result {
    let mut cmd = cargo();
    cmd.args([
        "doc",
        "--workspace",
        "--all-features",
        "--no-deps",
        "--locked",
    ]);
    cmd.env("RUSTDOCFLAGS", "-D warnings");
    run_command(cmd)
}

fn benches() -> Result {
    let mut cmd = cargo();
    cmd.args([
        "bench",
        "--workspace",
        "--locked",
        "--benches",
        "--",
        "--test",
    ]);
    run_command(cmd)
}

fn deny() -> Result {
    let installed = cargo()
        .args(["deny", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        if std::env::var_os("CI").is_some() {
            return Err(
                "cargo-deny is not installed; CI requires it (`cargo install --locked cargo-deny`)"
                    .into(),
            );
        }
        println!(
            "cargo-deny is not installed: skipping (install it with `cargo install --locked cargo-deny`)"
        );
        return Ok(());
    }
    let mut cmd = cargo();
    // Advisories need the advisory database from the network; run `cargo deny check advisories` where
    // it can be fetched.
    cmd.args([
        "deny",
        "--all-features",
        "check",
        "bans",
        "licenses",
        "sources",
    ]);
    run_command(cmd)
}

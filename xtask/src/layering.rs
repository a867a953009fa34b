//! The layering rule, checked: a Baton crate may depend only on the Baton crates below it.
//! Leaf crates (`queue`, `dag`, `retry`, `pool`) depend on no other Baton crate; `saga` may use
//! `retry`; only the orchestrator knows them all, and only the CLI knows the orchestrator.

use crate::{Result, metadata};

/// Each Baton package and the Baton packages it may depend on (normal and build dependencies).
const ALLOWED: &[(&str, &[&str])] = &[
    ("baton-queue", &[]),
    ("baton-dag", &[]),
    ("baton-retry", &[]),
    ("baton-pool", &[]),
    ("baton-breaker", &[]),
    ("baton-agents", &["baton-pool"]),
    ("baton-saga", &["baton-retry"]),
    (
        "baton-orchestrator",
        &[
            "baton-queue",
            "baton-dag",
            "baton-retry",
            "baton-pool",
            "baton-saga",
            "baton-breaker",
            "baton-agents",
        ],
    ),
    (
        "baton-cli",
        &[
            "baton-orchestrator",
            "baton-queue",
            "baton-dag",
            "baton-retry",
            "baton-pool",
            "baton-saga",
            "baton-breaker",
            "baton-agents",
        ],
    ),
];

pub(crate) fn check() -> Result {
    let meta = metadata(true)?;
    let packages = meta["packages"]
        .as_array()
        .ok_or("cargo metadata has no `packages`")?;
    let mut problems = Vec::new();
    for package in packages {
        let name = package["name"].as_str().unwrap_or_default();
        if !name.starts_with("baton-") {
            continue;
        }
        let Some((_, allowed)) = ALLOWED.iter().find(|(n, _)| *n == name) else {
            problems.push(format!(
                "{name} is not in the layering table (xtask/src/layering.rs): add it with the Baton crates it may use"
            ));
            continue;
        };
        for dep in package["dependencies"].as_array().into_iter().flatten() {
            let dep_name = dep["name"].as_str().unwrap_or_default();
            let is_dev = dep["kind"].as_str() == Some("dev");
            if dep_name.starts_with("baton-") && !is_dev && !allowed.contains(&dep_name) {
                problems.push(format!(
                    "{name} depends on {dep_name}, which the layering does not allow"
                ));
            }
        }
    }
    if problems.is_empty() {
        println!("layering: every Baton crate depends only on the crates below it");
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

//! `cargo xtask bench`: runs the criterion benches, then prints one table comparing Baton with the
//! baseline measured in the same group of the same run.
//!
//! Convention (every bench in the workspace follows it): inside a criterion group, the function whose
//! id starts with `baton` measures Baton; every other function is a baseline on the same input. Each
//! group sets `Throughput::Elements`, so the table reads as operations per second. A group's target
//! applies to the function named exactly `baton` (the default configuration); variants such as
//! `baton_logged` are reported beside it for information.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::SystemTime;

use crate::{Result, cargo, metadata, run_command};

/// What a group must reach, from `shared/design/benchmarks.md` and the issues.
enum Target {
    /// Baton's throughput divided by the named baseline's must be at least this.
    Ratio(&'static str, f64),
    /// Baton's time per element must be at most this many nanoseconds.
    NsPerElement(f64),
}

const TARGETS: &[(&str, Target)] = &[
    (
        "queue/push_pop_1m_5_levels",
        Target::Ratio("mutex_binary_heap", 2.0),
    ),
    ("queue/mpmc_2p_2c", Target::Ratio("async_channel", 0.5)),
    (
        "dag/validate_toposort_1m_4m",
        Target::Ratio("petgraph_toposort", 10.0),
    ),
    ("dag/ready_tracking_1m", Target::NsPerElement(50.0)),
    ("retry/first_try_success", Target::Ratio("backon", 1.0)),
    ("retry/delays", Target::Ratio("backon", 1.0)),
    ("pool/noop_1m", Target::Ratio("tokio_joinset", 2.0)),
    ("pool/noop_1m", Target::Ratio("mpsc_pool", 1.0)),
    (
        "saga/10k_steps_compensate",
        Target::Ratio("hand_written_loop", 0.5),
    ),
    (
        "orchestrator/dag_100k",
        Target::Ratio("pool_independent", 0.5),
    ),
    ("cli/run_1000_true", Target::Ratio("xargs", 0.8)),
    ("breaker/success_1t", Target::Ratio("recloser", 1.0)),
    ("breaker/success_1t", Target::Ratio("failsafe", 1.0)),
    ("breaker/success_2t", Target::Ratio("recloser", 1.0)),
    ("breaker/success_2t", Target::Ratio("failsafe", 1.0)),
];

/// One measured function.
struct Measurement {
    group: String,
    function: String,
    parameter: Option<String>,
    /// Median time per iteration, in nanoseconds.
    ns_per_iter: f64,
    /// Elements processed per iteration.
    elements: f64,
    /// When criterion wrote the estimate.
    modified: SystemTime,
}

impl Measurement {
    fn per_second(&self) -> f64 {
        self.elements / (self.ns_per_iter * 1e-9)
    }
    fn ns_per_element(&self) -> f64 {
        self.ns_per_iter / self.elements
    }
}

pub(crate) fn run(args: &[String]) -> Result {
    let started = SystemTime::now();
    let mut cmd = cargo();
    cmd.args(["bench", "--benches"]);
    // `-p NAME` narrows the run to some crates; otherwise every crate's benches run.
    if !args
        .iter()
        .any(|a| a.starts_with("-p") || a.starts_with("--package"))
    {
        cmd.arg("--workspace");
    }
    cmd.args(args);
    run_command(cmd)?;
    // Only what this run measured: older results of benches that were renamed or not run stay out.
    print_table(Some(started))
}

/// Prints the table from every result criterion has kept, however old.
pub(crate) fn report() -> Result {
    print_table(None)
}

fn print_table(since: Option<SystemTime>) -> Result {
    let meta = metadata(true)?;
    let target_dir = meta["target_directory"]
        .as_str()
        .ok_or("cargo metadata has no target_directory")?;
    let criterion = Path::new(target_dir).join("criterion");
    let mut found = Vec::new();
    collect(&criterion, &mut found)?;
    found.retain(|m| since.is_none_or(|t| m.modified >= t));
    if found.is_empty() {
        return Err(format!(
            "no criterion results under {}; run `cargo xtask bench` first",
            criterion.display()
        ));
    }
    print!("{}", table(&found));
    Ok(())
}

/// Walks `target/criterion`, reading every `new/benchmark.json` with its `new/estimates.json`.
fn collect(dir: &Path, out: &mut Vec<Measurement>) -> Result {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
    };
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") {
            if let Some(m) = read_measurement(&path)? {
                out.push(m);
            }
        } else {
            collect(&path, out)?;
        }
    }
    Ok(())
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not valid JSON: {e}", path.display()))
}

fn read_measurement(dir: &Path) -> Result<Option<Measurement>> {
    let (bench, estimates) = (dir.join("benchmark.json"), dir.join("estimates.json"));
    if !bench.exists() || !estimates.exists() {
        return Ok(None);
    }
    let modified = std::fs::metadata(&estimates)
        .and_then(|m| m.modified())
        .map_err(|e| format!("cannot stat {}: {e}", estimates.display()))?;
    let bench = read_json(&bench)?;
    let estimates = read_json(&estimates)?;
    let Some(elements) = bench["throughput"]["Elements"].as_f64() else {
        return Ok(None); // not a throughput benchmark: nothing to put in the table
    };
    let ns_per_iter = estimates["median"]["point_estimate"]
        .as_f64()
        .ok_or_else(|| format!("{} has no median estimate", dir.display()))?;
    Ok(Some(Measurement {
        group: bench["group_id"].as_str().unwrap_or_default().to_owned(),
        function: bench["function_id"].as_str().unwrap_or_default().to_owned(),
        parameter: bench["value_str"].as_str().map(str::to_owned),
        ns_per_iter,
        elements,
        modified,
    }))
}

fn human_rate(per_second: f64) -> String {
    if per_second >= 1e9 {
        format!("{:.2} G/s", per_second / 1e9)
    } else if per_second >= 1e6 {
        format!("{:.2} M/s", per_second / 1e6)
    } else if per_second >= 1e3 {
        format!("{:.2} K/s", per_second / 1e3)
    } else {
        format!("{per_second:.1} /s")
    }
}

/// The Markdown table: one row per (group, parameter, Baton function, baseline).
fn table(found: &[Measurement]) -> String {
    let mut groups: BTreeMap<(&str, Option<&str>), Vec<&Measurement>> = BTreeMap::new();
    for m in found {
        groups
            .entry((&m.group, m.parameter.as_deref()))
            .or_default()
            .push(m);
    }
    let mut out = String::new();
    out.push_str(
        "| group | Baton | per element | baseline | baseline's | ratio | target | meets |\n",
    );
    out.push_str("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for ((group, parameter), members) in &groups {
        let name = match parameter {
            Some(p) => format!("{group}/{p}"),
            None => (*group).to_owned(),
        };
        // Targets apply to the default configuration, the function named exactly `baton`;
        // variants (`baton_logged`, `baton_wait_times`...) are shown for information.
        let targets: Vec<&Target> = TARGETS
            .iter()
            .filter(|(g, _)| g == group)
            .map(|(_, t)| t)
            .collect();
        let (batons, baselines): (Vec<&&Measurement>, Vec<&&Measurement>) = members
            .iter()
            .partition(|m| m.function.starts_with("baton"));
        for baton in &batons {
            let targets: &[&Target] = if baton.function == "baton" {
                &targets
            } else {
                &[]
            };
            let label = if batons.len() > 1 {
                format!("{name} ({})", baton.function)
            } else {
                name.clone()
            };
            let rate = human_rate(baton.per_second());
            let per = format!("{:.1} ns", baton.ns_per_element());
            if baselines.is_empty() {
                let target = targets.iter().find_map(|t| match t {
                    Target::NsPerElement(max) => Some(*max),
                    Target::Ratio(..) => None,
                });
                let (target_text, meets) = match target {
                    Some(max) => (format!("≤ {max} ns"), yes_no(baton.ns_per_element() <= max)),
                    None => (String::new(), ""),
                };
                let _ = writeln!(
                    out,
                    "| {label} | {rate} | {per} | | | | {target_text} | {meets} |"
                );
            }
            for base in &baselines {
                let ratio = baton.per_second() / base.per_second();
                let target = targets.iter().find_map(|t| match t {
                    Target::Ratio(b, min) if *b == base.function => Some(*min),
                    _ => None,
                });
                let (target_text, meets) = match target {
                    Some(min) => (format!("≥ {min}×"), yes_no(ratio >= min)),
                    None => (String::new(), ""),
                };
                let _ = writeln!(
                    out,
                    "| {label} | {rate} | {per} | {} | {} | {ratio:.2}× | {target_text} | {meets} |",
                    base.function,
                    human_rate(base.per_second()),
                );
            }
            // A target whose baseline this run did not measure (renamed, filtered out) is not met.
            for target in targets {
                if let Target::Ratio(b, min) = target
                    && !baselines.iter().any(|m| m.function == *b)
                {
                    let _ = writeln!(
                        out,
                        "| {label} | {rate} | {per} | {b} | not measured | | ≥ {min}× | NO |"
                    );
                }
            }
        }
    }
    out
}

fn yes_no(ok: bool) -> &'static str {
    if ok { "yes" } else { "NO" }
}

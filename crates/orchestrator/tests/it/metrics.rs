//! Metrics through the `metrics` facade, and report totals that add up.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use baton_orchestrator::{
    Boost, FailureMode, Fault, FaultPlan, Policy, Priority, RunOptions, Task, TaskError, TaskState,
    Workflow,
};
use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};

use crate::support::{ms, noop, orchestrator, sleeper};

/// A recorder that keeps every value, by metric name and labels.
#[derive(Default)]
struct TestRecorder {
    counters: Mutex<HashMap<String, Arc<AtomicU64>>>,
    gauges: Mutex<HashMap<String, Arc<TestGauge>>>,
    histograms: Mutex<HashMap<String, Arc<TestHistogram>>>,
}

#[derive(Default)]
struct TestGauge(Mutex<f64>);
impl GaugeFn for TestGauge {
    fn increment(&self, v: f64) {
        *self.0.lock().unwrap() += v;
    }
    fn decrement(&self, v: f64) {
        *self.0.lock().unwrap() -= v;
    }
    fn set(&self, v: f64) {
        *self.0.lock().unwrap() = v;
    }
}

#[derive(Default)]
struct TestHistogram(Mutex<Vec<f64>>);
impl HistogramFn for TestHistogram {
    fn record(&self, v: f64) {
        self.0.lock().unwrap().push(v);
    }
}

struct Shared(Arc<AtomicU64>);
impl CounterFn for Shared {
    fn increment(&self, v: u64) {
        self.0.fetch_add(v, SeqCst);
    }
    fn absolute(&self, v: u64) {
        self.0.fetch_max(v, SeqCst);
    }
}

fn name(key: &Key) -> String {
    let labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    if labels.is_empty() {
        key.name().to_owned()
    } else {
        format!("{}{{{}}}", key.name(), labels.join(","))
    }
}

impl Recorder for TestRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let cell = Arc::clone(self.counters.lock().unwrap().entry(name(key)).or_default());
        Counter::from_arc(Arc::new(Shared(cell)))
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        let cell = Arc::clone(self.gauges.lock().unwrap().entry(name(key)).or_default());
        Gauge::from_arc(cell)
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        let cell = Arc::clone(
            self.histograms
                .lock()
                .unwrap()
                .entry(name(key))
                .or_default(),
        );
        Histogram::from_arc(cell)
    }
}

impl TestRecorder {
    fn counter(&self, name: &str) -> u64 {
        self.counters
            .lock()
            .unwrap()
            .get(name)
            .map_or(0, |c| c.load(SeqCst))
    }
    fn gauge(&self, name: &str) -> f64 {
        self.gauges
            .lock()
            .unwrap()
            .get(name)
            .map_or(f64::NAN, |g| *g.0.lock().unwrap())
    }
    fn histogram(&self, name: &str) -> Vec<f64> {
        self.histograms
            .lock()
            .unwrap()
            .get(name)
            .map_or_else(Vec::new, |h| h.0.lock().unwrap().clone())
    }
}

#[tokio::test(start_paused = true)]
async fn metrics_and_report_totals_add_up() {
    let recorder = Arc::new(TestRecorder::default());
    // Handles bind to the recorder installed when the orchestrator is built.
    let orchestrator = metrics::with_local_recorder(&*recorder, || orchestrator(2));
    let workflow = Workflow::builder("counted")
        .task(sleeper("ok-1", ms(10)))
        .task(sleeper("ok-2", ms(20)))
        .task(noop("retried").retry(Policy::fixed(ms(5)).attempts(3).build().unwrap()))
        .task(noop("broken"))
        .task(noop("skipped").needs(["broken"]))
        .task(noop("slow").timeout(ms(50)))
        .failure_mode(FailureMode::Continue)
        .build()
        .unwrap();
    let plan = FaultPlan::new()
        .inject("retried", Fault::Fail, 1..=2)
        .inject("broken", Fault::Fail, 1..=1)
        .inject("slow", Fault::Hang, 1..=1);
    let report = orchestrator
        .run_with(&workflow, RunOptions::new().faults(plan))
        .await
        .unwrap();
    let totals = report.totals;
    assert!(totals.adds_up(), "{totals:?}");
    assert_eq!(
        (
            totals.succeeded,
            totals.failed,
            totals.timed_out,
            totals.skipped
        ),
        (3, 1, 1, 1)
    );
    assert_eq!((totals.attempts, totals.retries), (7, 2));
    assert_eq!(
        totals.run_time,
        report.tasks().iter().map(|t| t.run_time).sum()
    );
    assert_eq!(totals.run_time, ms(10 + 20 + 50));

    assert_eq!(recorder.counter("baton_tasks_total{state=succeeded}"), 3);
    assert_eq!(recorder.counter("baton_tasks_total{state=failed}"), 1);
    assert_eq!(recorder.counter("baton_tasks_total{state=timed_out}"), 1);
    assert_eq!(recorder.counter("baton_tasks_total{state=skipped}"), 1);
    assert_eq!(recorder.counter("baton_attempts_total"), 7);
    assert_eq!(recorder.counter("baton_retries_total"), 2);
    assert_eq!(recorder.counter("baton_runs_total{outcome=failed}"), 1);
    assert_eq!(recorder.gauge("baton_runs_active"), 0.0);
    assert_eq!(recorder.gauge("baton_queue_depth"), 0.0);
    assert_eq!(recorder.gauge("baton_workers_busy"), 0.0);
    let run_times = recorder.histogram("baton_task_run_seconds");
    assert_eq!(run_times.len(), 7);
    let total: f64 = run_times.iter().sum();
    assert!((total - 0.080).abs() < 1e-9, "{total}");
    assert_eq!(recorder.histogram("baton_task_queue_wait_seconds").len(), 7);
}

#[tokio::test(start_paused = true)]
async fn the_report_serialises_with_seconds_and_snake_case_states() {
    let workflow = Workflow::builder("json")
        .task(sleeper("a", ms(1500)))
        .task(Task::new("b", |_| async { Ok(()) }).needs(["a"]))
        .build()
        .unwrap();
    let report = orchestrator(1).run(&workflow).await.unwrap();
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["workflow"], "json");
    assert_eq!(json["outcome"]["status"], "succeeded");
    assert_eq!(json["duration"], 1.5);
    assert_eq!(json["tasks"][0]["state"], "succeeded");
    assert_eq!(json["tasks"][0]["run_time"], 1.5);
    assert_eq!(json["tasks"][1]["started_at"], 1.5);
    assert_eq!(json["critical_path"]["tasks"][1], "b");
    assert_eq!(json["totals"]["succeeded"], 2);
}

#[tokio::test(start_paused = true)]
async fn a_report_s_rows_read_the_same_however_and_wherever_they_are_first_read() {
    let workflow = Workflow::builder("rows")
        .task(sleeper("a", ms(20)))
        .task(Task::new("b", |_| async { Err::<(), _>(TaskError::msg("no")) }).needs(["a"]))
        .task(Task::new("c", |_| async { Ok(()) }).needs(["b"]))
        .failure_mode(FailureMode::Continue)
        .build()
        .unwrap();
    let orchestrator = orchestrator(2);
    let (first, second) = (
        orchestrator.run(&workflow).await.unwrap(),
        orchestrator.run(&workflow).await.unwrap(),
    );
    drop(orchestrator);
    // Built on another thread, after the orchestrator is gone; the other report read here.
    let json = std::thread::spawn(move || serde_json::to_value(&first).unwrap())
        .join()
        .unwrap();
    let rows = second.tasks();
    assert_eq!(json["tasks"].as_array().map(Vec::len), Some(3));
    for (row, json) in rows.iter().zip(json["tasks"].as_array().unwrap()) {
        assert_eq!(json["id"], &*row.id);
        assert_eq!(json["attempts"], row.attempts);
        assert_eq!(json["run_time"], row.run_time.as_secs_f64());
    }
    assert_eq!(
        rows.iter().map(|t| t.state).collect::<Vec<_>>(),
        [TaskState::Succeeded, TaskState::Failed, TaskState::Skipped]
    );
    assert_eq!(rows[1].error.as_deref(), Some("no"));
    assert!(rows[2].error.is_some(), "a skip says why");
    assert_eq!(rows[0].run_time, ms(20));
    assert!(std::ptr::eq(rows, second.tasks()), "built once, then kept");
    assert_eq!(second.task("b").map(|t| t.state), Some(TaskState::Failed));
    let mut edited = second.clone();
    assert_eq!(edited, second, "a clone has the same rows");
    edited.tasks_mut()[1].error = None;
    assert_ne!(edited, second, "rows take part in equality");
    assert!(
        format!("{second:?}").contains("Skipped"),
        "Debug shows the rows"
    );
}

#[tokio::test(start_paused = true)]
async fn queue_wait_counts_from_when_a_task_is_ready_and_leaves_out_retry_delays() {
    // One worker: `a` (critical) runs first; `side`, ready from the start, runs next; `b`,
    // ready when `a` ends, waits for `side`.
    let workflow = Workflow::builder("waits")
        .task(sleeper("a", ms(10)).priority(Priority::Critical))
        .task(sleeper("side", ms(30)))
        .task(sleeper("b", ms(10)).needs(["a"]))
        .boost(Boost::None)
        .build()
        .unwrap();
    let report = orchestrator(1).run(&workflow).await.unwrap();
    let wait = |id: &str| report.task(id).unwrap().wait;
    assert_eq!(
        (wait("a"), wait("side"), wait("b")),
        (ms(0), ms(10), ms(30))
    );
    assert_eq!(report.task("b").unwrap().started_at, Some(ms(40)));
    assert_eq!(report.totals.wait, ms(40));

    // A retry's delay is neither wait nor run time: 5 ms, then 100 ms of delay, then 5 ms.
    let tries = Arc::new(AtomicU64::new(0));
    let flaky = Task::new("flaky", move |_| {
        let attempt = tries.fetch_add(1, SeqCst);
        async move {
            tokio::time::sleep(ms(5)).await;
            if attempt == 0 {
                Err(TaskError::msg("once"))
            } else {
                Ok(())
            }
        }
    })
    .retry(Policy::fixed(ms(100)).attempts(2).build().unwrap());
    let workflow = Workflow::builder("retry").task(flaky).build().unwrap();
    let report = orchestrator(1).run(&workflow).await.unwrap();
    let flaky = report.task("flaky").unwrap();
    assert_eq!(flaky.attempts, 2);
    assert_eq!((flaky.wait, flaky.run_time), (ms(0), ms(10)));
    assert_eq!(
        (flaky.started_at, flaky.ended_at),
        (Some(ms(0)), Some(ms(110)))
    );
}

#[tokio::test(start_paused = true)]
async fn queue_wait_means_the_same_whether_the_pool_or_the_workflow_limits_parallelism() {
    let workflow = |limit: Option<usize>| {
        let mut builder = Workflow::builder("limits")
            .task(sleeper("a", ms(10)).priority(Priority::Critical))
            .task(sleeper("side", ms(30)))
            .task(sleeper("b", ms(10)).needs(["a"]))
            .boost(Boost::None);
        if let Some(limit) = limit {
            builder = builder.max_parallelism(limit);
        }
        builder.build().unwrap()
    };
    // One worker, or four workers and a workflow limit of one: the same waits.
    let by_pool = orchestrator(1).run(&workflow(None)).await.unwrap();
    let by_limit = orchestrator(4).run(&workflow(Some(1))).await.unwrap();
    for id in ["a", "side", "b"] {
        assert_eq!(
            by_limit.task(id).unwrap().wait,
            by_pool.task(id).unwrap().wait,
            "{id}"
        );
    }
    assert_eq!(by_limit.totals.wait, ms(40));
}

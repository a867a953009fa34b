//! Model-based tests of the `ReadyTracker`: random operation sequences applied both to the tracker
//! and to a simple reference model (states in a `Vec`, readiness recomputed from scratch), compared
//! after every step; and random complete runs with failures and cancellation, checked for their
//! end state.

use std::collections::BTreeSet;

use baton_dag::{Dag, NodeId, NodeState, ReadyTracker, TrackerError};
use proptest::prelude::*;

use crate::graphs::{self, Graph};

/// One call on the tracker, on a concrete node index (possibly out of range).
#[derive(Debug, Clone, Copy)]
enum Op {
    Start(u32),
    Complete(u32),
    Fail(u32),
    CancelPending,
    Reset,
}

/// Which node an operation targets: any index (often the wrong state, or out of range, to
/// exercise the errors), or one of the nodes the operation accepts, picked when it runs, so that
/// sequences get deep into a run.
#[derive(Debug, Clone, Copy)]
enum Pick {
    Any(u32),
    Valid(prop::sample::Index),
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Start(Pick),
    Complete(Pick),
    Fail(Pick),
    CancelPending,
    Reset,
}

fn steps(max_node: u32) -> impl Strategy<Value = Vec<Step>> {
    let pick = prop_oneof![
        1 => (0..max_node + 2).prop_map(Pick::Any),
        3 => any::<prop::sample::Index>().prop_map(Pick::Valid),
    ];
    let step = prop_oneof![
        10 => pick.clone().prop_map(Step::Start),
        10 => pick.clone().prop_map(Step::Complete),
        3 => pick.prop_map(Step::Fail),
        1 => Just(Step::CancelPending),
        1 => Just(Step::Reset),
    ];
    prop::collection::vec(step, 0..150)
}

/// The reference: each node's state, and the graph's adjacency.
struct Model {
    deps: Vec<Vec<usize>>,
    dependents: Vec<Vec<usize>>,
    state: Vec<NodeState>,
}

/// What an operation did in the model: the nodes it changed, or the kind of error.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Changed(BTreeSet<usize>),
    Refused(&'static str),
}

impl Model {
    /// The concrete operation for `step`, given the current states.
    fn resolve(&self, step: Step) -> Op {
        let node = |pick: Pick, accepts: &dyn Fn(NodeState) -> bool| -> u32 {
            match pick {
                Pick::Any(v) => v,
                Pick::Valid(index) => {
                    let valid: Vec<usize> = (0..self.state.len())
                        .filter(|&v| accepts(self.state[v]))
                        .collect();
                    if valid.is_empty() {
                        index.index(self.state.len() + 2) as u32
                    } else {
                        valid[index.index(valid.len())] as u32
                    }
                }
            }
        };
        match step {
            Step::Start(pick) => Op::Start(node(pick, &|s| s == NodeState::Ready)),
            Step::Complete(pick) => Op::Complete(node(pick, &|s| s == NodeState::Running)),
            Step::Fail(pick) => Op::Fail(node(pick, &|s| {
                matches!(s, NodeState::Ready | NodeState::Running)
            })),
            Step::CancelPending => Op::CancelPending,
            Step::Reset => Op::Reset,
        }
    }

    fn new(g: &Graph) -> Self {
        let deps = g.dependencies();
        let state = deps
            .iter()
            .map(|d| {
                if d.is_empty() {
                    NodeState::Ready
                } else {
                    NodeState::Waiting
                }
            })
            .collect();
        Self {
            dependents: g.dependents(),
            deps,
            state,
        }
    }

    fn refusal(&self, v: usize, action: &str) -> &'static str {
        match self.state.get(v) {
            None => "unknown",
            Some(NodeState::Waiting) if action != "complete" => "not ready",
            Some(NodeState::Waiting | NodeState::Ready) => "not started",
            Some(NodeState::Running) => "already running",
            Some(_) => "already ended",
        }
    }

    fn apply(&mut self, op: Op) -> Outcome {
        match op {
            Op::Reset => {
                *self = Self {
                    state: self
                        .deps
                        .iter()
                        .map(|d| {
                            if d.is_empty() {
                                NodeState::Ready
                            } else {
                                NodeState::Waiting
                            }
                        })
                        .collect(),
                    deps: std::mem::take(&mut self.deps),
                    dependents: std::mem::take(&mut self.dependents),
                };
                Outcome::Changed(BTreeSet::new())
            }
            Op::Start(v) => {
                let v = v as usize;
                if self.state.get(v) != Some(&NodeState::Ready) {
                    return Outcome::Refused(self.refusal(v, "start"));
                }
                self.state[v] = NodeState::Running;
                Outcome::Changed(BTreeSet::new())
            }
            Op::Complete(v) => {
                let v = v as usize;
                if self.state.get(v) != Some(&NodeState::Running) {
                    return Outcome::Refused(self.refusal(v, "complete"));
                }
                self.state[v] = NodeState::Done;
                let mut ready = BTreeSet::new();
                for &w in &self.dependents[v] {
                    let all_done = self.deps[w]
                        .iter()
                        .all(|&u| self.state[u] == NodeState::Done);
                    if self.state[w] == NodeState::Waiting && all_done {
                        self.state[w] = NodeState::Ready;
                        ready.insert(w);
                    }
                }
                Outcome::Changed(ready)
            }
            Op::Fail(v) => {
                let v = v as usize;
                if !matches!(
                    self.state.get(v),
                    Some(NodeState::Ready | NodeState::Running)
                ) {
                    return Outcome::Refused(self.refusal(v, "fail"));
                }
                self.state[v] = NodeState::Failed;
                // Every descendant still waiting is skipped.
                let mut skipped = BTreeSet::new();
                let mut stack = self.dependents[v].clone();
                while let Some(w) = stack.pop() {
                    if self.state[w] == NodeState::Waiting {
                        self.state[w] = NodeState::Skipped;
                        skipped.insert(w);
                        stack.extend(&self.dependents[w]);
                    }
                }
                Outcome::Changed(skipped)
            }
            Op::CancelPending => {
                // Every node not started ends; running nodes are left alone.
                let mut cancelled = BTreeSet::new();
                for (v, state) in self.state.iter_mut().enumerate() {
                    if matches!(state, NodeState::Waiting | NodeState::Ready) {
                        *state = NodeState::Cancelled;
                        cancelled.insert(v);
                    }
                }
                Outcome::Changed(cancelled)
            }
        }
    }
}

fn kind(error: &TrackerError) -> &'static str {
    match error {
        TrackerError::UnknownNode { .. } => "unknown",
        TrackerError::NotReady { .. } => "not ready",
        TrackerError::NotStarted { .. } => "not started",
        TrackerError::AlreadyRunning { .. } => "already running",
        TrackerError::AlreadyEnded { .. } => "already ended",
        other => panic!("unexpected error {other:?}"),
    }
}

fn apply(tracker: &mut ReadyTracker, op: Op) -> Outcome {
    let changed = |nodes: &[NodeId]| Outcome::Changed(nodes.iter().map(|n| n.index()).collect());
    let result = match op {
        Op::Reset => {
            tracker.reset();
            Ok(Outcome::Changed(BTreeSet::new()))
        }
        Op::Start(v) => tracker
            .start(NodeId::new(v))
            .map(|()| Outcome::Changed(BTreeSet::new())),
        Op::Complete(v) => tracker.complete(NodeId::new(v)).map(changed),
        Op::Fail(v) => tracker.fail(NodeId::new(v)).map(changed),
        Op::CancelPending => {
            let cancelled = tracker.cancel_pending();
            assert!(cancelled.is_sorted(), "cancelled in index order");
            Ok(changed(cancelled))
        }
    };
    result.unwrap_or_else(|e| Outcome::Refused(kind(&e)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// After every operation (start, complete, fail, cancel the pending nodes, reset), the tracker
    /// agrees with the model on the outcome (nodes changed, or the kind of error), on every node's
    /// state and on the progress counts; no node is ever ready, running or done before all its
    /// dependencies are done.
    #[test]
    fn tracker_matches_the_model(g in graphs::dag(25), steps in steps(25)) {
        let dag = Dag::from_edges(g.n, &g.edges).expect("a random DAG is valid");
        let mut tracker = ReadyTracker::new(&dag);
        let mut model = Model::new(&g);
        for step in steps {
            let op = model.resolve(step);
            let expected = model.apply(op);
            let got = apply(&mut tracker, op);
            prop_assert_eq!(&got, &expected, "after {:?}", op);
            let mut counts = [0usize; 7];
            for v in 0..g.n {
                let state = tracker.state(NodeId::new(v as u32));
                prop_assert_eq!(state, Some(model.state[v]), "node {} after {:?}", v, op);
                let before_dependencies = matches!(model.state[v], NodeState::Ready | NodeState::Running | NodeState::Done)
                    && model.deps[v].iter().any(|&u| model.state[u] != NodeState::Done);
                prop_assert!(!before_dependencies, "node {} is {:?} before its dependencies", v, model.state[v]);
                counts[model.state[v] as usize] += 1;
            }
            prop_assert_eq!(tracker.state(NodeId::new(g.n as u32)), None);
            let p = tracker.progress();
            prop_assert_eq!(
                [p.waiting, p.ready, p.running, p.done, p.failed, p.skipped, p.cancelled],
                counts
            );
            prop_assert_eq!(p.total, g.n);
            prop_assert_eq!(p.remaining() + p.ended(), g.n);
            prop_assert_eq!(tracker.is_finished(), p.remaining() == 0);
            let ready: Vec<usize> = tracker.nodes_in(NodeState::Ready).map(|n| n.index()).collect();
            let expected_ready: Vec<usize> = (0..g.n).filter(|&v| model.state[v] == NodeState::Ready).collect();
            prop_assert_eq!(ready, expected_ready);
        }
    }

    /// A whole run in a random valid order, failing some nodes, and maybe cancelled part way
    /// (with some nodes still running, which then end): every node ends exactly once, as done,
    /// failed, skipped or cancelled; the skipped nodes are exactly the descendants of failed
    /// nodes that did not run; the cancelled ones are exactly those not started nor skipped at
    /// the cancellation; nothing became ready before its dependencies were done.
    #[test]
    fn random_runs_end_every_node_exactly_once(
        g in graphs::dag(40),
        choices in prop::collection::vec((any::<prop::sample::Index>(), 0..10u8), 0..100),
        cancel_at in prop::option::of(0..60usize),
    ) {
        let dag = Dag::from_edges(g.n, &g.edges).expect("a random DAG is valid");
        let deps = g.dependencies();
        let mut tracker = ReadyTracker::new(&dag);
        let mut ready: Vec<NodeId> = tracker.initial_ready().to_vec();
        let mut ended = vec![0u32; g.n];
        let mut done = vec![false; g.n];
        let mut failed = BTreeSet::new();
        let mut skipped = BTreeSet::new();
        let mut cancelled = BTreeSet::new();
        let mut step = 0;
        while !ready.is_empty() {
            if cancel_at == Some(step) {
                // Start the ready nodes, cancel the rest, then let the running ones end.
                let running = std::mem::take(&mut ready);
                for &node in &running {
                    tracker.start(node).expect("ready");
                }
                let not_started: BTreeSet<usize> = (0..g.n)
                    .filter(|&v| {
                        ended[v] == 0
                            && !skipped.contains(&v)
                            && !running.contains(&NodeId::new(v as u32))
                    })
                    .collect();
                cancelled.extend(tracker.cancel_pending().iter().map(|n| n.index()));
                prop_assert_eq!(&cancelled, &not_started);
                prop_assert_eq!(tracker.progress().running, running.len());
                for (k, node) in running.into_iter().enumerate() {
                    let v = node.index();
                    if k % 3 == 2 {
                        prop_assert_eq!(tracker.fail(node).expect("running"), &[] as &[NodeId]);
                        failed.insert(v);
                    } else {
                        prop_assert_eq!(tracker.complete(node).expect("running"), &[] as &[NodeId]);
                        done[v] = true;
                    }
                    ended[v] += 1;
                }
                break;
            }
            let (pick, roll) = match choices.get(step % choices.len().max(1)) {
                Some((index, roll)) => (index.index(ready.len()), *roll),
                None => (0, 9),
            };
            step += 1;
            let node = ready.swap_remove(pick);
            let v = node.index();
            prop_assert!(deps[v].iter().all(|&u| done[u]), "{} ready before its dependencies", v);
            if roll == 0 {
                // Fail a ready node without starting it, now and then.
                skipped.extend(tracker.fail(node).expect("ready").iter().map(|n| n.index()));
                failed.insert(v);
            } else {
                tracker.start(node).expect("ready");
                if roll == 1 {
                    skipped.extend(tracker.fail(node).expect("running").iter().map(|n| n.index()));
                    failed.insert(v);
                } else {
                    ready.extend_from_slice(tracker.complete(node).expect("running"));
                    done[v] = true;
                }
            }
            ended[v] += 1;
        }
        for &v in skipped.iter().chain(&cancelled) {
            ended[v] += 1;
        }
        prop_assert!(ended.iter().all(|&e| e == 1), "every node ends exactly once: {:?}", ended);
        prop_assert!(tracker.is_finished());
        let p = tracker.progress();
        prop_assert_eq!(
            (p.done, p.failed, p.skipped, p.cancelled),
            (done.iter().filter(|&&d| d).count(), failed.len(), skipped.len(), cancelled.len())
        );
        // Skipped = the descendants of failed nodes that neither ran nor failed nor were cancelled
        // (nothing is skipped after the cancellation: every descendant had ended by then).
        let reach = crate::reference::reachability(&g);
        let expected: BTreeSet<usize> = (0..g.n)
            .filter(|&w| {
                !done[w]
                    && !failed.contains(&w)
                    && !cancelled.contains(&w)
                    && failed.iter().any(|&f| reach[f][w])
            })
            .collect();
        prop_assert_eq!(skipped, expected);
    }
}

#[test]
fn reset_reuses_the_tracker() {
    let dag = Dag::from_edges(3, &[(0, 1), (1, 2)]).expect("valid");
    let mut tracker = ReadyTracker::new(&dag);
    for _ in 0..3 {
        let mut node = NodeId::new(0);
        loop {
            tracker.start(node).expect("ready");
            match tracker.complete(node).expect("running") {
                [next] => node = *next,
                [] => break,
                more => panic!("a chain frees one node at a time, got {more:?}"),
            }
        }
        assert!(tracker.is_finished());
        tracker.reset();
        assert_eq!(tracker.progress().ready, 1);
    }
}

#[test]
fn wide_fan_in_uses_wider_state_words() {
    // 300 roots feeding one node: more dependencies than a one-byte word counts.
    let edges: Vec<(u32, u32)> = (0..300).map(|u| (u, 300)).collect();
    let dag = Dag::from_edges(301, &edges).expect("valid");
    let mut tracker = ReadyTracker::new(&dag);
    let hub = NodeId::new(300);
    for u in 0..300 {
        let node = NodeId::new(u);
        tracker.start(node).expect("ready");
        let freed = tracker.complete(node).expect("running");
        assert_eq!(freed.is_empty(), u < 299);
        if u == 150 {
            assert_eq!(
                tracker.start(hub),
                Err(TrackerError::NotReady {
                    node: hub,
                    action: baton_dag::Action::Start,
                    pending: 149
                })
            );
        }
    }
    assert_eq!(tracker.state(hub), Some(NodeState::Ready));
}

#[test]
fn cancelling_with_wide_state_words() {
    // 300 roots feeding one node (two-byte words); half the roots run, then the run is cancelled.
    let edges: Vec<(u32, u32)> = (0..300).map(|u| (u, 300)).collect();
    let dag = Dag::from_edges(301, &edges).expect("valid");
    let mut tracker = ReadyTracker::new(&dag);
    for u in 0..150 {
        tracker.start(NodeId::new(u)).expect("ready");
    }
    let cancelled = tracker.cancel_pending().to_vec();
    let expected: Vec<NodeId> = (150..=300).map(NodeId::new).collect();
    assert_eq!(cancelled, expected);
    for u in 0..150 {
        assert_eq!(tracker.complete(NodeId::new(u)).expect("running"), []);
    }
    assert_eq!(tracker.state(NodeId::new(300)), Some(NodeState::Cancelled));
    assert!(tracker.is_finished());
    let p = tracker.progress();
    assert_eq!((p.done, p.cancelled, p.ended()), (150, 151, 301));
}

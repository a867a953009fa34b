//! Benchmarks for baton-dag: building + validating + ordering a 1M-node, 4M-edge random DAG beside
//! `petgraph::algo::toposort`, and ready-tracking every node of it in topological order.
//!
//! The graph is generated once per group, outside the timing, with a seeded RNG: a random
//! permutation of the nodes, then edges `u → v` between random pairs with `u` before `v` in the
//! permutation (so the graph is acyclic, and its edges arrive in random order).
//!
//! - `dag/validate_toposort_1m_4m`: `baton` builds a `Dag` from the edge list with
//!   `Dag::from_edges` (compact adjacency, validation with cycle detection, topological order and
//!   generations) and drops it; `petgraph_toposort` runs `petgraph::algo::toposort` (which also
//!   detects cycles) on a `petgraph::Graph` built from the same edges before timing, which favours
//!   petgraph.
//! - `dag/ready_tracking_1m`: start and complete every node in topological order. `baton`
//!   includes making the `ReadyTracker`; `baton_prebuilt` makes it in untimed setup.

use std::hint::black_box;
use std::time::Duration;

use baton_dag::{Dag, NodeId, ReadyTracker};
use criterion::{BatchSize, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use petgraph::graph::{DiGraph, NodeIndex};
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

const NODES: usize = 1_000_000;
const EDGES: usize = 4_000_000;
const SEED: u64 = 0x0BA7_0DA6;

/// `edges` random edges over `nodes` nodes, acyclic (see the module docs).
fn random_dag(nodes: usize, edges: usize, seed: u64) -> Vec<(u32, u32)> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut rank: Vec<u32> = (0..nodes as u32).collect();
    rank.shuffle(&mut rng);
    (0..edges)
        .map(|_| {
            loop {
                let a = rng.random_range(0..nodes);
                let b = rng.random_range(0..nodes);
                if a != b {
                    break (rank[a.min(b)], rank[a.max(b)]);
                }
            }
        })
        .collect()
}

fn validate_toposort(c: &mut Criterion) {
    let edges = random_dag(NODES, EDGES, SEED);
    let mut graph: DiGraph<(), ()> = DiGraph::with_capacity(NODES, EDGES);
    for _ in 0..NODES {
        graph.add_node(());
    }
    for &(u, v) in &edges {
        graph.add_edge(NodeIndex::new(u as usize), NodeIndex::new(v as usize), ());
    }

    let mut group = c.benchmark_group("dag/validate_toposort_1m_4m");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        // petgraph takes about a second per run here: ten of them.
        .measurement_time(Duration::from_secs(12))
        .throughput(Throughput::Elements(NODES as u64));
    // Build the compact graph from the edge list, detect cycles, compute the topological order
    // (and the generations, which come with it).
    group.bench_function("baton", |b| {
        b.iter(|| {
            let dag = Dag::from_edges(NODES, black_box(&edges)).expect("the graph is acyclic");
            black_box(dag.topological_order()[NODES - 1])
        });
    });
    // petgraph's graph is built before timing: only the sort (with its cycle check) is measured.
    group.bench_function("petgraph_toposort", |b| {
        b.iter(|| {
            let order =
                petgraph::algo::toposort(black_box(&graph), None).expect("the graph is acyclic");
            black_box(order[NODES - 1])
        });
    });
    group.finish();
}

/// Starts and completes every node in `order`; returns how many became ready.
fn drive(tracker: &mut ReadyTracker, order: &[NodeId]) -> usize {
    let mut freed = 0;
    for &node in order {
        tracker.start(node).expect("ready in topological order");
        freed += tracker.complete(node).expect("running").len();
    }
    assert!(tracker.is_finished());
    freed
}

fn ready_tracking(c: &mut Criterion) {
    let edges = random_dag(NODES, EDGES, SEED);
    let dag = Dag::from_edges(NODES, &edges).expect("the graph is acyclic");
    let order = dag.topological_order().to_vec();

    let mut group = c.benchmark_group("dag/ready_tracking_1m");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(NODES as u64));
    // Tracker construction inside the timing.
    group.bench_function("baton", |b| {
        b.iter(|| {
            let mut tracker = ReadyTracker::new(&dag);
            drive(&mut tracker, black_box(&order))
        });
    });
    // Tracker built in the (untimed) setup: start + complete only.
    group.bench_function("baton_prebuilt", |b| {
        b.iter_batched_ref(
            || ReadyTracker::new(&dag),
            |tracker| drive(tracker, black_box(&order)),
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

criterion_group!(benches, validate_toposort, ready_tracking);
criterion_main!(benches);

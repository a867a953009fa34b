//! The builder through the public API: id types, forward references, weights, and the handles a
//! workflow runner needs (ids back from nodes, a tracker that outlives the builder).

use std::sync::Arc;

use baton_dag::{DagBuilder, NodeId, ReadyTracker};

#[test]
fn string_ids_forward_references_and_weights() {
    let tasks = [
        ("deploy", vec!["test", "package"], 2),
        ("test", vec!["build"], 30),
        ("package", vec!["build", "build"], 5),
        ("build", vec![], 60),
    ];
    let mut builder = DagBuilder::<String>::with_capacity(tasks.len());
    for (id, deps, weight) in &tasks {
        builder.add(
            (*id).to_owned(),
            deps.iter().map(|d| (*d).to_owned()),
            *weight,
        );
    }
    assert_eq!(builder.len(), 4);
    let dag = builder.build().expect("valid");
    assert_eq!(dag.edge_count(), 4, "the repeated dependency counts once");
    let name = |n: NodeId| dag.id(n).as_str();
    let order: Vec<&str> = dag.topological_order().iter().map(|&n| name(n)).collect();
    assert_eq!(order, ["build", "test", "package", "deploy"]);
    let path = dag.critical_path();
    let names: Vec<&str> = path.nodes.iter().map(|&n| name(n)).collect();
    assert_eq!(names, ["build", "test", "deploy"]);
    assert_eq!(path.weight, 92);
    let priority = dag.downstream_weights();
    let build = dag.node_id("build").expect("declared");
    assert_eq!(priority[build.index()], 92);
    assert_eq!(dag.weight(build), 60);
}

#[test]
fn a_tracker_outlives_the_dag_it_came_from() {
    let tracker = {
        let dag = DagBuilder::new()
            .node(1u64, [])
            .node(2, [1])
            .build()
            .expect("valid");
        ReadyTracker::new(&dag)
    };
    let shared = Arc::new(std::sync::Mutex::new(tracker));
    let worker = {
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || {
            let mut tracker = shared.lock().expect("not poisoned");
            tracker.start(NodeId::new(0)).expect("ready");
            tracker.complete(NodeId::new(0)).expect("running").to_vec()
        })
    };
    assert_eq!(worker.join().expect("no panic"), [NodeId::new(1)]);
}

#[test]
fn custom_key_types() {
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    struct TaskKey {
        workflow: u32,
        name: &'static str,
    }
    impl std::fmt::Display for TaskKey {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{}/{}", self.workflow, self.name)
        }
    }
    let a = TaskKey {
        workflow: 7,
        name: "a",
    };
    let b = TaskKey {
        workflow: 7,
        name: "b",
    };
    let errors = DagBuilder::new()
        .node(a.clone(), [b.clone()])
        .node(b.clone(), [a.clone()])
        .build()
        .expect_err("cycle");
    assert_eq!(errors.to_string(), "cycle: 7/a → 7/b → 7/a");
    let dag = DagBuilder::new()
        .node(a.clone(), [])
        .node(b, [a.clone()])
        .build()
        .expect("valid");
    assert!(dag.to_dot().contains("label=\"7/a\""));
    assert_eq!(dag.node_id(&a), Some(NodeId::new(0)));
}

#[test]
fn dot_and_mermaid_have_one_line_per_node_and_edge() {
    let dag = DagBuilder::new()
        .node("a b", [])
        .node("\"c\"", ["a b"])
        .node("é", ["a b", "\"c\""])
        .build()
        .expect("valid");
    let dot = dag.to_dot();
    assert_eq!(dot.lines().filter(|l| l.contains(" -> ")).count(), 3);
    assert_eq!(dot.lines().filter(|l| l.contains("[label=")).count(), 3);
    let mermaid = dag.to_mermaid();
    assert_eq!(mermaid.lines().filter(|l| l.contains(" --> ")).count(), 3);
    assert!(mermaid.contains("n1[\"#quot;c#quot;\"]"));
    assert!(mermaid.contains("n2[\"é\"]"));
}

//! Serde round trips of the public data types (feature `serde`).

use baton_dag::{
    Dag, DagBuilder, NodeId, NodeState, Problem, ReadyTracker, TrackerError, ValidationErrors,
};

#[test]
fn validation_errors_round_trip_through_json() {
    let errors = DagBuilder::new()
        .node("a".to_owned(), ["b".to_owned()])
        .node("b".to_owned(), ["a".to_owned(), "zz".to_owned()])
        .build()
        .expect_err("invalid");
    let json = serde_json::to_string(&errors).expect("serializes");
    assert!(
        json.contains("\"problem\":\"unknown_dependency\""),
        "{json}"
    );
    assert!(json.contains("\"problem\":\"cycle\""), "{json}");
    assert!(json.contains("\"dependency_index\":1"), "{json}");
    let back: ValidationErrors<String> = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(back, errors);
    assert!(matches!(back.problems()[1], Problem::Cycle { .. }));
}

#[test]
fn ids_states_progress_and_paths_round_trip() {
    assert_eq!(serde_json::to_string(&NodeId::new(5)).expect("ok"), "5");
    let node: NodeId = serde_json::from_str("9").expect("ok");
    assert_eq!(node, NodeId::new(9));
    assert_eq!(
        serde_json::to_string(&NodeState::Skipped).expect("ok"),
        "\"skipped\""
    );
    assert_eq!(
        serde_json::to_string(&NodeState::Cancelled).expect("ok"),
        "\"cancelled\""
    );

    let dag = Dag::from_edges(2, &[(0, 1)]).expect("valid");
    let mut tracker = ReadyTracker::new(&dag);
    tracker.start(NodeId::new(0)).expect("ready");
    let progress = tracker.progress();
    let json = serde_json::to_string(&progress).expect("ok");
    assert_eq!(
        serde_json::from_str::<baton_dag::Progress>(&json).expect("ok"),
        progress
    );

    let error = tracker.start(NodeId::new(0)).expect_err("running");
    let json = serde_json::to_string(&error).expect("ok");
    assert_eq!(
        serde_json::from_str::<TrackerError>(&json).expect("ok"),
        error
    );

    let path = dag.critical_path();
    let json = serde_json::to_string(&path).expect("ok");
    assert_eq!(
        serde_json::from_str::<baton_dag::CriticalPath>(&json).expect("ok"),
        path
    );
}

//! Validation: every cyclic strongly connected component reported with a real cycle, acyclic
//! graphs accepted, and every kind of problem reported together, with positions.

use std::collections::BTreeSet;

use baton_dag::{Dag, DagBuilder, Problem};
use proptest::prelude::*;

use crate::graphs;
use crate::reference;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Exactly one cycle per cyclic strongly connected component (per the naive reachability
    /// definition), each elementary, inside its component, real in dependency order (each member
    /// depends on the next: `(next, member)` is an edge), and starting at its smallest member.
    #[test]
    fn one_real_cycle_per_cyclic_component(g in graphs::with_cycles(25)) {
        let components = reference::cyclic_components(&g);
        prop_assert!(!components.is_empty(), "a planted ring makes a cycle");
        let errors = Dag::from_edges(g.n, &g.edges).expect_err("cyclic");
        let cycles: Vec<Vec<usize>> = errors
            .problems()
            .iter()
            .map(|p| match p {
                Problem::Cycle { nodes, positions } => {
                    let members: Vec<usize> = nodes.iter().map(|&v| v as usize).collect();
                    assert_eq!(&members, positions, "index ids are their positions");
                    members
                }
                other => panic!("only cycles expected, got {other:?}"),
            })
            .collect();
        prop_assert_eq!(cycles.len(), components.len());
        for cycle in &cycles {
            let distinct: BTreeSet<usize> = cycle.iter().copied().collect();
            prop_assert_eq!(distinct.len(), cycle.len(), "elementary: {:?}", cycle);
            prop_assert!(cycle.len() >= 2);
            let component = components
                .iter()
                .find(|c| c.contains(&cycle[0]))
                .expect("a cycle lies in a cyclic component");
            prop_assert!(cycle.iter().all(|v| component.contains(v)));
            prop_assert_eq!(cycle[0], component[0], "starts at the smallest member");
            for (i, &member) in cycle.iter().enumerate() {
                let next = cycle[(i + 1) % cycle.len()];
                prop_assert!(g.has_edge(next, member), "{} does not depend on {}", member, next);
            }
        }
        // One per component, in order of smallest member.
        let firsts: Vec<usize> = cycles.iter().map(|c| c[0]).collect();
        let expected: Vec<usize> = components.iter().map(|c| c[0]).collect();
        prop_assert_eq!(firsts, expected);
        // The message names every member, arrow by arrow.
        let text = errors.to_string();
        prop_assert_eq!(text.lines().count(), cycles.len());
        prop_assert!(text.lines().all(|line| line.starts_with("cycle: ")));
    }

    /// Random DAGs are accepted, through both constructors.
    #[test]
    fn acyclic_graphs_report_nothing(g in graphs::dag(40)) {
        prop_assert!(Dag::from_edges(g.n, &g.edges).is_ok());
        let names: Vec<String> = (0..g.n).map(|v| format!("task-{v}")).collect();
        let deps = g.dependencies();
        let mut builder = DagBuilder::new();
        for (name, (dependencies, &weight)) in names.iter().zip(deps.iter().zip(&g.weights)) {
            builder.add(name.clone(), dependencies.iter().map(|&u| names[u].clone()), weight);
        }
        let dag = builder.build().expect("a random DAG is valid");
        prop_assert_eq!(dag.node_count(), g.n);
        for (v, name) in names.iter().enumerate() {
            prop_assert_eq!(dag.node_id(name).map(|n| n.index()), Some(v));
        }
    }

    /// The same graph through the builder reports the same cycles, by id and position.
    #[test]
    fn builder_reports_the_same_cycles(g in graphs::with_cycles(20)) {
        let by_index = Dag::from_edges(g.n, &g.edges).expect_err("cyclic");
        let deps = g.dependencies();
        let mut builder = DagBuilder::new();
        for (v, dependencies) in deps.iter().enumerate() {
            builder.add(v.to_string(), dependencies.iter().map(|u| u.to_string()), 1);
        }
        let by_id = builder.build().expect_err("cyclic");
        let as_text = |nodes: &[u32]| nodes.iter().map(u32::to_string).collect::<Vec<_>>();
        let expected: Vec<Vec<String>> = by_index
            .problems()
            .iter()
            .map(|p| match p {
                Problem::Cycle { nodes, .. } => as_text(nodes),
                other => panic!("{other:?}"),
            })
            .collect();
        let got: Vec<Vec<String>> = by_id
            .cycles()
            .map(|p| match p {
                Problem::Cycle { nodes, .. } => nodes.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        prop_assert_eq!(got, expected);
    }
}

#[test]
fn every_kind_of_problem_is_reported_together_with_positions() {
    let errors = DagBuilder::new()
        .node("fetch", []) // 0
        .node("deploy", ["test", "biuld"]) // 1: unknown `biuld`
        .node("test", ["test", "compile"]) // 2: self-dependency
        .node("compile", ["link"]) // 3
        .node("link", ["compile"]) // 4: cycle compile ⇄ link
        .node("fetch", ["nowhere"]) // 5: duplicate, and unknown `nowhere`
        .build()
        .expect_err("invalid");
    assert_eq!(
        errors.problems(),
        [
            Problem::UnknownDependency {
                node: "deploy",
                position: 1,
                dependency: "biuld",
                dependency_index: 1
            },
            Problem::SelfDependency {
                node: "test",
                position: 2,
                dependency_index: 0
            },
            Problem::DuplicateId {
                id: "fetch",
                first: 0,
                position: 5
            },
            Problem::UnknownDependency {
                node: "fetch",
                position: 5,
                dependency: "nowhere",
                dependency_index: 0
            },
            Problem::Cycle {
                nodes: vec!["compile", "link"],
                positions: vec![3, 4]
            },
        ]
    );
    assert_eq!(
        errors.to_string(),
        "`deploy` depends on unknown `biuld`\n\
         `test` depends on itself\n\
         duplicate id `fetch`: declared at positions 0 and 5\n\
         `fetch` depends on unknown `nowhere`\n\
         cycle: compile → link → compile"
    );
    assert_eq!(errors.cycles().count(), 1);
    assert_eq!((&errors).into_iter().count(), 5);
}

#[test]
fn index_problems_name_edges_and_nodes() {
    let errors = Dag::from_edges(3, &[(0, 1), (4, 0), (2, 2), (1, 0)]).expect_err("invalid");
    assert_eq!(
        errors.into_problems(),
        [
            Problem::EdgeOutOfRange {
                edge: 1,
                from: 4,
                to: 0,
                node_count: 3
            },
            Problem::SelfDependency {
                node: 2,
                position: 2,
                dependency_index: 2
            },
            Problem::Cycle {
                nodes: vec![0, 1],
                positions: vec![0, 1]
            },
        ]
    );
}

#[test]
fn errors_are_std_errors() {
    fn assert_error<E: std::error::Error + Send + Sync + 'static>(_: &E) {}
    let errors = DagBuilder::new()
        .node("a".to_owned(), ["a".to_owned()])
        .build()
        .expect_err("self");
    assert_error(&errors);
    let tracker_error = baton_dag::TrackerError::AlreadyRunning {
        node: baton_dag::NodeId::new(0),
    };
    assert_error(&tracker_error);
}

#[test]
fn dependency_problems_point_at_the_entry_in_the_list() {
    let needs = ["fetch", "nope", "build", "fetch", "gone"];
    let errors = DagBuilder::new()
        .node("fetch", [])
        .node("build", needs)
        .build()
        .expect_err("invalid");
    let entries: Vec<(usize, usize, &str)> = errors
        .problems()
        .iter()
        .map(|problem| match problem {
            Problem::UnknownDependency {
                position,
                dependency_index,
                dependency,
                ..
            } => (*position, *dependency_index, *dependency),
            Problem::SelfDependency {
                position,
                dependency_index,
                node,
            } => (*position, *dependency_index, *node),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(entries, [(1, 1, "nope"), (1, 2, "build"), (1, 4, "gone")]);
    for (_, index, id) in entries {
        assert_eq!(needs[index], id);
    }
}

//! `DagBuilder`: declare nodes by id with their dependencies, then validate into a [`Dag`].

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::hash::Hash;
use std::ops::Range;

use crate::graph::{DEFAULT_WEIGHT, Graph};
use crate::{Dag, MAX_NODES, NodeId, Problem, ValidationErrors};

/// Collects node declarations (id, dependencies, weight) and validates them all at once in
/// [`build`](Self::build).
///
/// Ids can be any `K: Hash + Eq + Clone` (`&str`, `String`, integers, your own key type).
/// Dependencies may name nodes declared later. A node's weight (used by
/// [`Dag::critical_path`] and [`Dag::downstream_weights`]) defaults to 1, so unweighted graphs
/// measure paths in tasks. Listing the same dependency twice is harmless: it counts once.
///
/// ```
/// use baton_dag::DagBuilder;
///
/// let dag = DagBuilder::new()
///     .node("deploy", ["test", "package"])
///     .node("test", ["build"])
///     .node("package", ["build"])
///     .weighted_node("build", 5, [])
///     .build()?;
/// assert_eq!(dag.node_count(), 4);
/// assert_eq!(dag.edge_count(), 4);
/// # Ok::<(), baton_dag::ValidationErrors<&str>>(())
/// ```
///
/// In a loop, [`add`](Self::add) takes `&mut self` and returns the declaration's position, which is
/// what [`Problem`]s report, so a caller can map each problem back to its source:
///
/// ```
/// use baton_dag::{DagBuilder, Problem};
///
/// let tasks = [("fetch", vec![]), ("build", vec!["fetch", "lint"])];
/// let mut builder = DagBuilder::with_capacity(tasks.len());
/// let mut lines = Vec::new();
/// for (line, (id, deps)) in tasks.iter().enumerate() {
///     let position = builder.add(*id, deps.iter().copied(), 1);
///     lines.push(line + 1);
///     assert_eq!(lines.len(), position + 1);
/// }
/// let errors = builder.build().unwrap_err();
/// let Problem::UnknownDependency { position, .. } = &errors.problems()[0] else { panic!() };
/// assert_eq!(lines[*position], 2);
/// ```
#[derive(Clone)]
pub struct DagBuilder<K> {
    declarations: Vec<Declaration>,
    ids: Vec<K>,
    dependencies: Vec<K>,
}

/// One call to [`DagBuilder::add`]: its dependencies are `dependencies[range]`.
#[derive(Debug, Clone)]
struct Declaration {
    dependencies: Range<usize>,
    weight: u64,
}

impl<K> Default for DagBuilder<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: fmt::Debug> fmt::Debug for DagBuilder<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for (id, declaration) in self.ids.iter().zip(&self.declarations) {
            list.entry(&(
                id,
                &self.dependencies[declaration.dependencies.clone()],
                declaration.weight,
            ));
        }
        list.finish()
    }
}

impl<K> DagBuilder<K> {
    /// An empty builder.
    ///
    /// ```
    /// let builder = baton_dag::DagBuilder::<String>::new();
    /// assert!(builder.is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self {
            declarations: Vec::new(),
            ids: Vec::new(),
            dependencies: Vec::new(),
        }
    }

    /// An empty builder with room for `nodes` declarations.
    ///
    /// ```
    /// let builder = baton_dag::DagBuilder::<u64>::with_capacity(100);
    /// assert_eq!(builder.len(), 0);
    /// ```
    #[must_use]
    pub fn with_capacity(nodes: usize) -> Self {
        Self {
            declarations: Vec::with_capacity(nodes),
            ids: Vec::with_capacity(nodes),
            dependencies: Vec::with_capacity(nodes),
        }
    }

    /// Declares node `id`, which depends on `dependencies`, with weight 1.
    ///
    /// ```
    /// use baton_dag::DagBuilder;
    ///
    /// let dag = DagBuilder::new().node("b", ["a"]).node("a", []).build()?;
    /// let first = dag.topological_order()[0];
    /// assert_eq!(*dag.id(first), "a");
    /// # Ok::<(), baton_dag::ValidationErrors<&str>>(())
    /// ```
    #[must_use]
    pub fn node(mut self, id: K, dependencies: impl IntoIterator<Item = K>) -> Self {
        self.add(id, dependencies, DEFAULT_WEIGHT);
        self
    }

    /// Declares node `id` with a weight (its cost, such as an expected duration), which depends on
    /// `dependencies`.
    ///
    /// ```
    /// use baton_dag::DagBuilder;
    ///
    /// let dag = DagBuilder::new()
    ///     .weighted_node("slow", 10, [])
    ///     .weighted_node("fast", 2, [])
    ///     .weighted_node("end", 1, ["slow", "fast"])
    ///     .build()?;
    /// assert_eq!(dag.critical_path().weight, 11);
    /// # Ok::<(), baton_dag::ValidationErrors<&str>>(())
    /// ```
    #[must_use]
    pub fn weighted_node(
        mut self,
        id: K,
        weight: u64,
        dependencies: impl IntoIterator<Item = K>,
    ) -> Self {
        self.add(id, dependencies, weight);
        self
    }

    /// Declares a node in place and returns its position (0-based declaration order), the
    /// `position` that [`Problem`]s report.
    ///
    /// ```
    /// let mut builder = baton_dag::DagBuilder::new();
    /// assert_eq!(builder.add("a", [], 1), 0);
    /// assert_eq!(builder.add("b", ["a"], 3), 1);
    /// ```
    pub fn add(&mut self, id: K, dependencies: impl IntoIterator<Item = K>, weight: u64) -> usize {
        let start = self.dependencies.len();
        self.dependencies.extend(dependencies);
        self.declarations.push(Declaration {
            dependencies: start..self.dependencies.len(),
            weight,
        });
        self.ids.push(id);
        self.ids.len() - 1
    }

    /// How many declarations were made.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no declaration was made.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

impl<K: Hash + Eq + Clone> DagBuilder<K> {
    /// Validates every declaration and builds the [`Dag`], or returns every problem found:
    /// duplicate ids, unknown dependencies, self-dependencies and cycles (one per strongly connected
    /// component, see [`Problem::Cycle`]), all in one [`ValidationErrors`].
    ///
    /// Node `i` of the `Dag` is the `i`-th declaration.
    ///
    /// ```
    /// use baton_dag::DagBuilder;
    ///
    /// let errors = DagBuilder::new()
    ///     .node("a", ["a"])
    ///     .node("b", ["c"])
    ///     .node("b", [])
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(
    ///     errors.to_string(),
    ///     "`a` depends on itself\n\
    ///      `b` depends on unknown `c`\n\
    ///      duplicate id `b`: declared at positions 1 and 2"
    /// );
    /// ```
    pub fn build(self) -> Result<Dag<K>, ValidationErrors<K>> {
        let Self {
            declarations,
            ids,
            dependencies,
        } = self;
        if ids.len() > MAX_NODES {
            return Err(ValidationErrors::single(Problem::TooManyNodes {
                count: ids.len(),
            }));
        }
        let mut problems = Vec::new();
        // Number the first declaration of each id; later ones are duplicates.
        let mut index: HashMap<K, NodeId> = HashMap::with_capacity(ids.len());
        // For each node, the position of its declaration; `None` for a duplicate declaration.
        let mut node_of_position: Vec<Option<NodeId>> = Vec::with_capacity(ids.len());
        let mut position_of_node: Vec<usize> = Vec::with_capacity(ids.len());
        for (position, id) in ids.iter().enumerate() {
            match index.entry(id.clone()) {
                Entry::Occupied(first) => {
                    problems.push((
                        position,
                        Problem::DuplicateId {
                            id: id.clone(),
                            first: position_of_node[first.get().index()],
                            position,
                        },
                    ));
                    node_of_position.push(None);
                }
                Entry::Vacant(slot) => {
                    slot.insert(NodeId::new(position_of_node.len() as u32));
                    node_of_position.push(Some(NodeId::new(position_of_node.len() as u32)));
                    position_of_node.push(position);
                }
            }
        }
        // Resolve dependencies into edges (dependency → node), skipping repeats.
        let node_count = position_of_node.len();
        let mut edges: Vec<(u32, u32)> = Vec::with_capacity(dependencies.len());
        let mut last_dependent = vec![u32::MAX; node_count];
        let mut weights = Vec::with_capacity(node_count);
        for (position, declaration) in declarations.iter().enumerate() {
            let id = &ids[position];
            let node = node_of_position[position];
            if node.is_some() {
                weights.push(declaration.weight);
            }
            let listed = &dependencies[declaration.dependencies.clone()];
            for (dependency_index, dependency) in listed.iter().enumerate() {
                if dependency == id {
                    problems.push((
                        position,
                        Problem::SelfDependency {
                            node: id.clone(),
                            position,
                            dependency_index,
                        },
                    ));
                    continue;
                }
                match (index.get(dependency), node) {
                    (None, _) => problems.push((
                        position,
                        Problem::UnknownDependency {
                            node: id.clone(),
                            position,
                            dependency: dependency.clone(),
                            dependency_index,
                        },
                    )),
                    (Some(from), Some(to)) => {
                        if last_dependent[from.index()] != to.as_u32() {
                            last_dependent[from.index()] = to.as_u32();
                            edges.push((from.as_u32(), to.as_u32()));
                        }
                    }
                    // A duplicate declaration's known dependencies add no edge.
                    (Some(_), None) => {}
                }
            }
        }
        // Stable: problems stay in declaration order (duplicates were found in the first loop).
        problems.sort_by_key(|&(position, _)| position);
        let mut problems: Vec<Problem<K>> = problems.into_iter().map(|(_, p)| p).collect();
        if edges.len() > crate::MAX_EDGES {
            problems.push(Problem::TooManyEdges { count: edges.len() });
            return Err(ValidationErrors::from_problems(problems).expect("at least one problem"));
        }
        match Graph::build(node_count, Some(weights), &edges) {
            Ok(graph) => match ValidationErrors::from_problems(problems) {
                Some(errors) => Err(errors),
                None => {
                    // No problem means no duplicate: declaration `i` is node `i`.
                    debug_assert_eq!(ids.len(), node_count);
                    Ok(Dag::from_parts(graph, ids, index))
                }
            },
            Err(invalid) => {
                debug_assert!(
                    invalid.edges.is_empty(),
                    "the builder only makes valid edges"
                );
                problems.extend(invalid.cycles.into_iter().map(|cycle| {
                    Problem::Cycle {
                        nodes: cycle
                            .iter()
                            .map(|&v| ids[position_of_node[v as usize]].clone())
                            .collect(),
                        positions: cycle
                            .iter()
                            .map(|&v| position_of_node[v as usize])
                            .collect(),
                    }
                }));
                Err(ValidationErrors::from_problems(problems).expect("at least one problem"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_references_and_repeated_dependencies() {
        let dag = DagBuilder::new()
            .node("c", ["b", "a", "b"])
            .node("b", ["a"])
            .node("a", [])
            .build()
            .expect("valid");
        assert_eq!(dag.edge_count(), 3);
        let order: Vec<&str> = dag
            .topological_order()
            .iter()
            .map(|&n| *dag.id(n))
            .collect();
        assert_eq!(order, ["a", "b", "c"]);
    }

    #[test]
    fn every_problem_at_once() {
        let errors = DagBuilder::new()
            .node("deploy", ["biuld"]) // 0: unknown
            .node("a", ["a", "b"]) // 1: self
            .node("b", ["c"]) // 2
            .node("c", ["a"]) // 3: a → b → c → a
            .node("a", ["zzz"]) // 4: duplicate, unknown
            .build()
            .expect_err("invalid");
        let text = errors.to_string();
        assert_eq!(
            text,
            "`deploy` depends on unknown `biuld`\n\
             `a` depends on itself\n\
             duplicate id `a`: declared at positions 1 and 4\n\
             `a` depends on unknown `zzz`\n\
             cycle: a → b → c → a"
        );
        let Problem::Cycle { positions, .. } = &errors.problems()[4] else {
            panic!("expected a cycle, got {:?}", errors.problems()[4]);
        };
        assert_eq!(positions, &[1, 2, 3]);
    }

    #[test]
    fn weights_default_to_one() {
        let dag = DagBuilder::new()
            .node(1u8, [])
            .weighted_node(2, 7, [1])
            .build()
            .expect("valid");
        assert_eq!(dag.weight(NodeId::new(0)), 1);
        assert_eq!(dag.weight(NodeId::new(1)), 7);
    }

    #[test]
    fn string_ids() {
        let mut builder = DagBuilder::<String>::new();
        builder.add("x y".to_owned(), ["é".to_owned()], 1);
        builder.add("é".to_owned(), [], 1);
        let dag = builder.build().expect("valid");
        assert_eq!(dag.node_id("é"), Some(NodeId::new(1)));
        assert_eq!(dag.node_id("nope"), None);
    }

    #[test]
    fn debug_lists_declarations() {
        let builder = DagBuilder::new().node("b", ["a"]);
        assert_eq!(format!("{builder:?}"), r#"[("b", ["a"], 1)]"#);
    }
}

//! `ReadyTracker`: which nodes may run now, updated incrementally as work starts and ends.

mod state;
mod words;

use std::fmt;
use std::sync::Arc;

use crate::error::Action;
use crate::graph::Graph;
use crate::{Dag, NodeId, TrackerError};

pub use state::{NodeState, Progress};
use words::{Words, with_words};

/// Transition counters of a [`ReadyTracker`].
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    /// Nodes ready before anything ran (the roots).
    initially_ready: usize,
    /// Nodes made ready by `complete`.
    freed: usize,
    started: usize,
    done: usize,
    failed: usize,
    /// Of the failed nodes, those that failed from ready, without starting.
    failed_ready: usize,
    skipped: usize,
    cancelled: usize,
    /// Of the cancelled nodes, those that were ready (the others were waiting).
    cancelled_ready: usize,
}

impl Counts {
    fn fresh(graph: &Graph) -> Self {
        Self {
            initially_ready: graph.roots().len(),
            ..Self::default()
        }
    }
}

/// Tracks one execution of a [`Dag`]: which nodes are ready, running and ended, and which become
/// ready (or must be skipped) as each node ends.
///
/// Drive it with [`start`](Self::start) when a node begins, then [`complete`](Self::complete) or
/// [`fail`](Self::fail) when it ends. To end a run early (cancellation, fail-fast, shutdown, a
/// run timeout), [`cancel_pending`](Self::cancel_pending) ends every node that has not started;
/// the running ones still complete or fail, then the run is finished. Each returns the nodes whose state it changed, as a slice of
/// a buffer inside the tracker: after the buffer has grown to the largest fan-out, no call
/// allocates. Misuse (unknown node, starting a node that is not ready, completing one that was
/// not started, ending a node twice) is a [`TrackerError`] and changes nothing.
///
/// The tracker shares the graph with the [`Dag`] it was made from (an [`Arc`]): it owns what it
/// needs, is `Send + Sync + 'static`, and can live beside a running workflow. It knows node
/// indices, not ids: map them with [`Dag::id`]. Its own memory is one state word per node: a
/// single byte when no node has more than 124 dependencies, else two or four.
///
/// ```
/// use baton_dag::{DagBuilder, NodeState, ReadyTracker};
///
/// let dag = DagBuilder::new()
///     .node("build", [])
///     .node("test", ["build"])
///     .node("lint", ["build"])
///     .node("ship", ["test", "lint"])
///     .build()?;
/// let node = |id| dag.node_id(id).unwrap();
/// let mut tracker = ReadyTracker::new(&dag);
/// assert_eq!(tracker.initial_ready(), [node("build")]);
///
/// tracker.start(node("build"))?;
/// assert_eq!(tracker.complete(node("build"))?, [node("test"), node("lint")]);
/// tracker.start(node("test"))?;
/// tracker.start(node("lint"))?;
/// assert_eq!(tracker.complete(node("test"))?, []);
/// assert_eq!(tracker.fail(node("lint"))?, [node("ship")]); // ship is skipped
///
/// let progress = tracker.progress();
/// assert_eq!((progress.done, progress.failed, progress.skipped), (2, 1, 1));
/// assert!(tracker.is_finished());
/// assert_eq!(tracker.state(node("ship")), Some(NodeState::Skipped));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ReadyTracker {
    graph: Arc<Graph>,
    /// One word per node: its state, and its pending count while it waits (see `words`).
    words: Words,
    /// The nodes made ready by the last `complete`, in its first entries (sized to the largest
    /// fan-out seen).
    ready_buffer: Vec<NodeId>,
    /// The nodes ended by the last `fail` (skipped) or `cancel_pending` (cancelled).
    ended: Vec<NodeId>,
    /// Transition counters, from which [`progress`](Self::progress) derives the count of every
    /// state. Each operation only ever adds to one or two of them: no counter is read back on
    /// the hot path.
    counts: Counts,
}

impl fmt::Debug for ReadyTracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadyTracker")
            .field("progress", &self.progress())
            .finish_non_exhaustive()
    }
}

impl ReadyTracker {
    /// A tracker for a fresh execution of `dag`: the roots are ready, every other node waits.
    ///
    /// ```
    /// use baton_dag::{Dag, ReadyTracker};
    ///
    /// let dag = Dag::from_edges(3, &[(0, 2), (1, 2)])?;
    /// let tracker = ReadyTracker::new(&dag);
    /// assert_eq!(tracker.progress().ready, 2);
    /// assert_eq!(tracker.progress().waiting, 1);
    /// # Ok::<(), baton_dag::ValidationErrors<u32>>(())
    /// ```
    #[must_use]
    pub fn new<K>(dag: &Dag<K>) -> Self {
        let graph = Arc::clone(dag.graph());
        Self {
            words: Words::new(&graph.in_degree),
            counts: Counts::fresh(&graph),
            graph,
            ready_buffer: Vec::new(),
            ended: Vec::new(),
        }
    }

    /// Starts over, as if new: every node back to waiting or ready. Keeps the allocations.
    ///
    /// ```
    /// use baton_dag::{Dag, NodeId, ReadyTracker};
    ///
    /// let dag = Dag::from_edges(2, &[(0, 1)])?;
    /// let mut tracker = ReadyTracker::new(&dag);
    /// tracker.start(NodeId::new(0))?;
    /// tracker.reset();
    /// assert_eq!(tracker.progress().running, 0);
    /// assert_eq!(tracker.progress().ready, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reset(&mut self) {
        self.words.reset(&self.graph.in_degree);
        self.ended.clear();
        self.counts = Counts::fresh(&self.graph);
    }

    /// The nodes ready at the start: the roots, in index order.
    #[must_use]
    pub fn initial_ready(&self) -> &[NodeId] {
        self.graph.roots()
    }

    /// The number of nodes tracked.
    #[must_use]
    pub fn node_count(&self) -> usize {
        self.words.len()
    }

    /// The state of `node`, or `None` if it is not in the graph.
    #[must_use]
    pub fn state(&self, node: NodeId) -> Option<NodeState> {
        self.words.state(node.index())
    }

    /// The nodes in `state`, in index order (a scan of every node).
    pub fn nodes_in(&self, state: NodeState) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.node_count())
            .filter(move |&i| self.words.state(i) == Some(state))
            .map(|i| NodeId::new(i as u32))
    }

    /// How many nodes are in each state.
    ///
    /// ```
    /// use baton_dag::{Dag, NodeId, ReadyTracker};
    ///
    /// let dag = Dag::from_edges(3, &[(0, 1), (0, 2)])?;
    /// let mut tracker = ReadyTracker::new(&dag);
    /// tracker.start(NodeId::new(0))?;
    /// let p = tracker.progress();
    /// assert_eq!((p.total, p.running, p.waiting, p.remaining()), (3, 1, 2, 3));
    /// tracker.complete(NodeId::new(0))?;
    /// let p = tracker.progress();
    /// assert_eq!((p.done, p.ready, p.ended()), (1, 2, 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn progress(&self) -> Progress {
        let c = &self.counts;
        let total = self.node_count();
        let failed_running = c.failed - c.failed_ready;
        Progress {
            total,
            waiting: total
                - c.initially_ready
                - c.freed
                - c.skipped
                - (c.cancelled - c.cancelled_ready),
            ready: c.initially_ready + c.freed - c.started - c.failed_ready - c.cancelled_ready,
            running: c.started - c.done - failed_running,
            done: c.done,
            failed: c.failed,
            skipped: c.skipped,
            cancelled: c.cancelled,
        }
    }

    /// Whether every node ended (done, failed, skipped or cancelled).
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.progress().is_finished()
    }

    /// Marks a ready node as running.
    ///
    /// # Errors
    /// [`TrackerError::UnknownNode`], [`TrackerError::NotReady`] (it waits on dependencies),
    /// [`TrackerError::AlreadyRunning`], or [`TrackerError::AlreadyEnded`].
    ///
    /// ```
    /// use baton_dag::{Dag, NodeId, ReadyTracker, TrackerError};
    ///
    /// let dag = Dag::from_edges(2, &[(0, 1)])?;
    /// let mut tracker = ReadyTracker::new(&dag);
    /// tracker.start(NodeId::new(0))?;
    /// assert!(matches!(tracker.start(NodeId::new(1)), Err(TrackerError::NotReady { pending: 1, .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn start(&mut self, node: NodeId) -> Result<(), TrackerError> {
        if !with_words!(&mut self.words, w => words::start(w, node.index())) {
            return Err(self.refuse(node, Action::Start));
        }
        self.counts.started += 1;
        Ok(())
    }

    /// Marks a running node as done and returns the nodes this made ready (in the order of
    /// `node`'s dependents), as a slice of an internal buffer: no allocation once the buffer has
    /// grown to the largest fan-out.
    ///
    /// # Errors
    /// [`TrackerError::UnknownNode`], [`TrackerError::NotStarted`] (it is waiting or ready), or
    /// [`TrackerError::AlreadyEnded`] (completing twice, or after failing, being skipped or
    /// being cancelled).
    ///
    /// ```
    /// use baton_dag::{Dag, NodeId, ReadyTracker, TrackerError};
    ///
    /// let dag = Dag::from_edges(3, &[(0, 1), (0, 2)])?;
    /// let mut tracker = ReadyTracker::new(&dag);
    /// tracker.start(NodeId::new(0))?;
    /// assert_eq!(tracker.complete(NodeId::new(0))?, [NodeId::new(1), NodeId::new(2)]);
    /// assert!(matches!(
    ///     tracker.complete(NodeId::new(0)),
    ///     Err(TrackerError::AlreadyEnded { .. })
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn complete(&mut self, node: NodeId) -> Result<&[NodeId], TrackerError> {
        let i = node.index();
        // Once nodes were cancelled no dependent waits: there is nothing to make ready. (A
        // cancellation that ended no node left every word as it was, so counting is enough.)
        let dependents = if self.counts.cancelled == 0 && i < self.graph.node_count() {
            self.graph.dependents.neighbours(i)
        } else {
            &[]
        };
        if self.ready_buffer.len() < dependents.len() {
            self.ready_buffer.resize(dependents.len(), NodeId::new(0));
        }
        let ready = &mut self.ready_buffer[..];
        let Some(newly_ready) =
            with_words!(&mut self.words, w => words::complete(w, i, dependents, ready))
        else {
            return Err(self.refuse(node, Action::Complete));
        };
        self.counts.done += 1;
        self.counts.freed += newly_ready;
        Ok(&self.ready_buffer[..newly_ready])
    }

    /// Marks a running (or ready, never started) node as failed, and skips every descendant that
    /// has not ended. Returns the newly skipped nodes (breadth-first from `node`), as a slice of an
    /// internal buffer. Descendants of a node that has not completed can only be waiting or already
    /// skipped, so nothing done or running is ever skipped.
    ///
    /// # Errors
    /// [`TrackerError::UnknownNode`], [`TrackerError::NotReady`] (it waits on dependencies), or
    /// [`TrackerError::AlreadyEnded`].
    ///
    /// ```
    /// use baton_dag::{Dag, NodeId, ReadyTracker};
    ///
    /// // 0 → 1 → 2, 3 alone
    /// let dag = Dag::from_edges(4, &[(0, 1), (1, 2)])?;
    /// let mut tracker = ReadyTracker::new(&dag);
    /// tracker.start(NodeId::new(0))?;
    /// assert_eq!(tracker.fail(NodeId::new(0))?, [NodeId::new(1), NodeId::new(2)]);
    /// assert_eq!(tracker.progress().remaining(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fail(&mut self, node: NodeId) -> Result<&[NodeId], TrackerError> {
        self.ended.clear();
        let (dependents, skipped) = (&self.graph.dependents, &mut self.ended);
        let Some(from) =
            with_words!(&mut self.words, w => words::fail(w, node.index(), dependents, skipped))
        else {
            return Err(self.refuse(node, Action::Fail));
        };
        self.counts.failed += 1;
        self.counts.failed_ready += usize::from(from == NodeState::Ready);
        self.counts.skipped += self.ended.len();
        Ok(&self.ended)
    }

    /// Ends the run early: every node that has not started (waiting or ready) becomes
    /// [`NodeState::Cancelled`]. Returns them, in index order, as a slice of an internal buffer.
    ///
    /// Running nodes are left alone: they may still [`complete`](Self::complete) (which then
    /// makes nothing ready) or [`fail`](Self::fail) (which then skips nothing); once they have
    /// ended, the run [is finished](Self::is_finished). Calling it again cancels nothing more.
    /// [`reset`](Self::reset) starts a fresh run.
    ///
    /// ```
    /// use baton_dag::{Dag, NodeId, NodeState, ReadyTracker};
    ///
    /// // 0 → 2, 1 → 3
    /// let dag = Dag::from_edges(4, &[(0, 2), (1, 3)])?;
    /// let mut tracker = ReadyTracker::new(&dag);
    /// tracker.start(NodeId::new(0))?;
    /// // Shutting down: node 1 (ready) and nodes 2 and 3 (waiting) will not run.
    /// assert_eq!(tracker.cancel_pending(), [NodeId::new(1), NodeId::new(2), NodeId::new(3)]);
    /// assert!(!tracker.is_finished()); // node 0 still runs
    /// assert_eq!(tracker.complete(NodeId::new(0))?, []); // node 2 stays cancelled
    /// assert!(tracker.is_finished());
    /// assert_eq!(tracker.state(NodeId::new(2)), Some(NodeState::Cancelled));
    /// let progress = tracker.progress();
    /// assert_eq!((progress.done, progress.cancelled, progress.skipped), (1, 3, 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cancel_pending(&mut self) -> &[NodeId] {
        self.ended.clear();
        let ready = with_words!(&mut self.words, w => words::cancel_pending(w, &mut self.ended));
        self.counts.cancelled += self.ended.len();
        self.counts.cancelled_ready += ready;
        &self.ended
    }

    /// The error for `action` on `node`, which its state does not allow.
    #[cold]
    #[inline(never)]
    fn refuse(&self, node: NodeId, action: Action) -> TrackerError {
        let Some(state) = self.words.state(node.index()) else {
            return TrackerError::UnknownNode {
                node,
                node_count: self.node_count(),
            };
        };
        match state {
            NodeState::Waiting if action != Action::Complete => TrackerError::NotReady {
                node,
                action,
                pending: self.words.word(node.index()),
            },
            state @ (NodeState::Waiting | NodeState::Ready) => {
                TrackerError::NotStarted { node, state }
            }
            NodeState::Running => TrackerError::AlreadyRunning { node },
            state => TrackerError::AlreadyEnded {
                node,
                action,
                state,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracker(n: usize, edges: &[(u32, u32)]) -> ReadyTracker {
        ReadyTracker::new(&Dag::from_edges(n, edges).expect("acyclic"))
    }

    const A: NodeId = NodeId::new(0);
    const B: NodeId = NodeId::new(1);
    const C: NodeId = NodeId::new(2);

    #[test]
    fn misuse_is_a_typed_error_and_changes_nothing() {
        let mut t = tracker(3, &[(0, 1), (1, 2)]);
        let before = t.progress();
        assert_eq!(
            t.start(NodeId::new(7)),
            Err(TrackerError::UnknownNode {
                node: NodeId::new(7),
                node_count: 3
            })
        );
        assert_eq!(
            t.start(B),
            Err(TrackerError::NotReady {
                node: B,
                action: Action::Start,
                pending: 1
            })
        );
        assert_eq!(
            t.complete(A),
            Err(TrackerError::NotStarted {
                node: A,
                state: NodeState::Ready
            })
        );
        assert_eq!(
            t.complete(B),
            Err(TrackerError::NotStarted {
                node: B,
                state: NodeState::Waiting
            })
        );
        assert_eq!(
            t.fail(C),
            Err(TrackerError::NotReady {
                node: C,
                action: Action::Fail,
                pending: 1
            })
        );
        assert_eq!(t.progress(), before);
        t.start(A).expect("ready");
        assert_eq!(t.start(A), Err(TrackerError::AlreadyRunning { node: A }));
        t.complete(A).expect("running");
        assert_eq!(
            t.complete(A),
            Err(TrackerError::AlreadyEnded {
                node: A,
                action: Action::Complete,
                state: NodeState::Done
            })
        );
        assert_eq!(
            t.fail(A),
            Err(TrackerError::AlreadyEnded {
                node: A,
                action: Action::Fail,
                state: NodeState::Done
            })
        );
    }

    #[test]
    fn a_node_skipped_by_one_failure_stays_skipped_when_its_other_dependency_completes() {
        // 0 → 2 ← 1
        let mut t = tracker(3, &[(0, 2), (1, 2)]);
        t.start(A).expect("ready");
        t.start(B).expect("ready");
        assert_eq!(t.fail(A).expect("running"), [C]);
        assert_eq!(t.complete(B).expect("running"), []);
        assert_eq!(t.state(C), Some(NodeState::Skipped));
        assert!(t.is_finished());
        let p = t.progress();
        assert_eq!((p.done, p.failed, p.skipped, p.ended()), (1, 1, 1, 3));
    }

    #[test]
    fn a_ready_node_may_fail_without_starting() {
        let mut t = tracker(2, &[(0, 1)]);
        assert_eq!(t.fail(A).expect("ready"), [B]);
        assert_eq!(t.nodes_in(NodeState::Skipped).collect::<Vec<_>>(), [B]);
    }

    #[test]
    fn repeated_edges_count_once_each() {
        let mut t = tracker(2, &[(0, 1), (0, 1)]);
        t.start(A).expect("ready");
        assert_eq!(t.complete(A).expect("running"), [B]);
    }

    #[test]
    fn cancelling_ends_every_node_not_started_and_running_ones_still_end() {
        // 0 → 2, 1 ready, 3 → 4
        let mut t = tracker(5, &[(0, 2), (3, 4)]);
        const D: NodeId = NodeId::new(3);
        const E: NodeId = NodeId::new(4);
        t.start(A).expect("ready");
        t.start(D).expect("ready");
        assert_eq!(t.cancel_pending(), [B, C, E]);
        let p = t.progress();
        assert_eq!(
            (p.waiting, p.ready, p.running, p.cancelled, p.ended()),
            (0, 0, 2, 3, 3)
        );
        assert!(!t.is_finished());
        assert_eq!(
            t.start(B),
            Err(TrackerError::AlreadyEnded {
                node: B,
                action: Action::Start,
                state: NodeState::Cancelled
            })
        );
        assert_eq!(
            t.fail(C),
            Err(TrackerError::AlreadyEnded {
                node: C,
                action: Action::Fail,
                state: NodeState::Cancelled
            })
        );
        // Completing makes nothing ready, failing skips nothing: the dependents are cancelled.
        assert_eq!(t.complete(A).expect("running"), []);
        assert_eq!(t.fail(D).expect("running"), []);
        assert_eq!(t.state(C), Some(NodeState::Cancelled));
        assert_eq!(t.state(E), Some(NodeState::Cancelled));
        assert!(t.is_finished());
        let p = t.progress();
        assert_eq!((p.done, p.failed, p.skipped, p.cancelled), (1, 1, 0, 3));
        assert_eq!(t.cancel_pending(), []);
        assert_eq!(t.progress(), p);
        assert!(NodeState::Cancelled.is_terminal());
        assert_eq!(NodeState::Cancelled.to_string(), "cancelled");

        // A fresh run after a reset frees dependents again.
        t.reset();
        assert_eq!(t.progress().cancelled, 0);
        t.start(A).expect("ready");
        assert_eq!(t.complete(A).expect("running"), [C]);
    }

    #[test]
    fn cancelling_after_a_failure_keeps_skipped_nodes_skipped() {
        // 0 → 1 → 2, 0 → 3 ← 4 (4 still running at the cancellation)
        let mut t = tracker(5, &[(0, 1), (1, 2), (0, 3), (4, 3)]);
        t.start(NodeId::new(4)).expect("ready");
        assert_eq!(t.fail(A).expect("ready"), [B, NodeId::new(3), C]);
        assert_eq!(t.cancel_pending(), []);
        assert_eq!(t.complete(NodeId::new(4)).expect("running"), []);
        assert_eq!(t.state(NodeId::new(3)), Some(NodeState::Skipped));
        let p = t.progress();
        assert_eq!(
            (p.done, p.failed, p.skipped, p.cancelled, p.remaining()),
            (1, 1, 3, 0, 0)
        );
        assert!(t.is_finished());
    }

    #[test]
    fn empty_graph_is_finished() {
        let t = tracker(0, &[]);
        assert!(t.is_finished());
        assert_eq!(t.node_count(), 0);
        assert!(t.initial_ready().is_empty());
    }

    #[test]
    fn tracker_is_send_sync_and_static() {
        fn assert_owned<T: Send + Sync + 'static>(_: &T) {}
        assert_owned(&tracker(1, &[]));
        assert_eq!(NodeState::Running.to_string(), "running");
        assert!(NodeState::Skipped.is_terminal());
        assert!(!NodeState::Ready.is_terminal());
    }
}

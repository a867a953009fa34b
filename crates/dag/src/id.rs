//! `NodeId`: the compact index of a node inside one [`Dag`](crate::Dag).

use std::fmt;

/// The index of a node in a [`Dag`](crate::Dag): `0..node_count`, in insertion order.
///
/// A `NodeId` is only meaningful for the graph that produced it. Methods of [`Dag`](crate::Dag)
/// panic when given an index outside the graph (like slice indexing); the
/// [`ReadyTracker`](crate::ReadyTracker), which runs beside live work, returns a typed error instead.
///
/// ```
/// use baton_dag::NodeId;
///
/// let node = NodeId::new(3);
/// assert_eq!(node.index(), 3);
/// assert_eq!(node.as_u32(), 3);
/// assert_eq!(node.to_string(), "#3");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
#[repr(transparent)]
pub struct NodeId(u32);

impl NodeId {
    /// The node at position `index` (0-based insertion order).
    #[inline]
    #[must_use]
    pub const fn new(index: u32) -> Self {
        Self(index)
    }

    /// The position as a `usize`, ready to index a slice such as [`Dag::ids`](crate::Dag::ids).
    #[inline]
    #[must_use]
    pub const fn index(self) -> usize {
        self.0 as usize
    }

    /// The position as stored: a `u32`.
    #[inline]
    #[must_use]
    pub const fn as_u32(self) -> u32 {
        self.0
    }
}

impl From<u32> for NodeId {
    #[inline]
    fn from(index: u32) -> Self {
        Self(index)
    }
}

impl From<NodeId> for u32 {
    #[inline]
    fn from(node: NodeId) -> Self {
        node.0
    }
}

impl From<NodeId> for usize {
    #[inline]
    fn from(node: NodeId) -> Self {
        node.index()
    }
}

/// Formats as `#<index>`, the form used in [`TrackerError`](crate::TrackerError) messages.
impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

//! What an agent declares when it registers, and what the registry reports about it.

use std::collections::{BTreeMap, BTreeSet};

use tokio::time::Instant;

use crate::health::Health;

/// The description an agent registers with: a unique id, capabilities, a weight and metadata.
///
/// ```
/// use baton_agents::AgentSpec;
/// let spec = AgentSpec::new("worker-1").capability("gpu").weight(2).meta("zone", "eu");
/// assert_eq!(spec.id(), "worker-1");
/// assert_eq!(spec.weight_value(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSpec {
    pub(crate) id: String,
    pub(crate) capabilities: BTreeSet<String>,
    pub(crate) weight: u32,
    pub(crate) metadata: BTreeMap<String, String>,
}

impl AgentSpec {
    /// An agent with this id, no capabilities, weight 1 and no metadata.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            capabilities: BTreeSet::new(),
            weight: 1,
            metadata: BTreeMap::new(),
        }
    }

    /// Adds a capability (a tag that [`Registry::lookup`](crate::Registry::lookup) matches).
    #[must_use]
    pub fn capability(mut self, capability: impl Into<String>) -> Self {
        self.capabilities.insert(capability.into());
        self
    }

    /// Sets the relative capacity used by weighted strategies (must be at least 1).
    #[must_use]
    pub fn weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }

    /// Adds (or replaces) one metadata entry.
    #[must_use]
    pub fn meta(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// The agent's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The weight set so far.
    pub fn weight_value(&self) -> u32 {
        self.weight
    }
}

/// A snapshot of one registered agent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AgentInfo {
    /// The agent's id.
    pub id: String,
    /// Its capabilities.
    pub capabilities: BTreeSet<String>,
    /// Its weight.
    pub weight: u32,
    /// Its metadata.
    pub metadata: BTreeMap<String, String>,
    /// Its current health.
    pub health: Health,
    /// How many [`Selected`](crate::Selected) guards for it are alive.
    pub in_flight: usize,
    /// When it registered or last sent a heartbeat.
    pub last_heartbeat: Instant,
}

impl AgentInfo {
    /// True when the agent has every capability in `required`.
    pub fn has_all<S: AsRef<str>>(&self, required: &[S]) -> bool {
        required
            .iter()
            .all(|c| self.capabilities.contains(c.as_ref()))
    }
}

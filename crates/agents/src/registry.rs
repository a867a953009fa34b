//! The registry: agents, TTL expiry, health reports, events and selection.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use baton_pool::balance::{Balancer, Candidate};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::error::{ConfigError, ProbeError, RegisterError, SelectError, UnknownAgent};
use crate::health::{Health, HealthPolicy, HealthTracker};
use crate::spec::{AgentInfo, AgentSpec};

/// Something that happened in a [`Registry`], delivered to every [`Registry::subscribe`]r.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistryEvent {
    /// An agent registered.
    Registered {
        /// The agent's id.
        id: String,
    },
    /// An agent was removed by [`Registry::deregister`].
    Deregistered {
        /// The agent's id.
        id: String,
    },
    /// An agent sent no heartbeat for the TTL and was removed.
    Expired {
        /// The agent's id.
        id: String,
    },
    /// A probe result moved an agent to another health state.
    HealthChanged {
        /// The agent's id.
        id: String,
        /// The state before.
        from: Health,
        /// The state after.
        to: Health,
    },
}

/// Settings of a [`Registry`]; see [`Registry::builder`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RegistryBuilder {
    ttl: Duration,
    heartbeat_interval: Duration,
    health: HealthPolicy,
}

impl Default for RegistryBuilder {
    /// TTL 30 s, heartbeat interval 10 s, [`HealthPolicy::default`].
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(30),
            heartbeat_interval: Duration::from_secs(10),
            health: HealthPolicy::default(),
        }
    }
}

impl RegistryBuilder {
    /// An agent that sends no heartbeat for this long expires (must exceed the heartbeat
    /// interval). Default 30 s.
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The interval agents are told to heartbeat at, and the period of
    /// [`Registry::spawn_sweeper`]. Default 10 s.
    #[must_use]
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.heartbeat_interval = interval;
        self
    }

    /// The health thresholds. Default [`HealthPolicy::default`].
    #[must_use]
    pub fn health(mut self, policy: HealthPolicy) -> Self {
        self.health = policy;
        self
    }

    /// Checks the settings and builds the registry (no runtime needed).
    pub fn build(self) -> Result<Registry, ConfigError> {
        if self.heartbeat_interval.is_zero() {
            return Err(ConfigError::ZeroHeartbeatInterval);
        }
        if self.ttl <= self.heartbeat_interval {
            return Err(ConfigError::TtlNotAboveHeartbeat {
                ttl: self.ttl,
                heartbeat_interval: self.heartbeat_interval,
            });
        }
        self.health.validate()?;
        Ok(Registry {
            inner: Arc::new(Inner {
                ttl: self.ttl,
                heartbeat_interval: self.heartbeat_interval,
                policy: self.health,
                state: Mutex::new(State::default()),
            }),
        })
    }
}

#[derive(Debug)]
struct Entry {
    spec: AgentSpec,
    last_heartbeat: Instant,
    health: HealthTracker,
    in_flight: Arc<AtomicUsize>,
    /// Distinguishes this registration from a later one under the same id.
    generation: u64,
}

impl Entry {
    fn info(&self) -> AgentInfo {
        AgentInfo {
            id: self.spec.id.clone(),
            capabilities: self.spec.capabilities.clone(),
            weight: self.spec.weight,
            metadata: self.spec.metadata.clone(),
            health: self.health.health(),
            in_flight: self.in_flight.load(Ordering::Relaxed),
            last_heartbeat: self.last_heartbeat,
        }
    }

    fn selectable<S: AsRef<str>>(&self, required: &[S]) -> bool {
        self.health.health() != Health::Unhealthy
            && required
                .iter()
                .all(|c| self.spec.capabilities.contains(c.as_ref()))
    }
}

#[derive(Debug, Default)]
struct State {
    agents: BTreeMap<String, Entry>,
    subscribers: Vec<mpsc::UnboundedSender<RegistryEvent>>,
    next_generation: u64,
}

impl State {
    fn emit(&mut self, event: RegistryEvent) {
        self.subscribers.retain(|tx| tx.send(event.clone()).is_ok());
    }

    /// Removes every agent silent for `ttl` or longer at `now`; returns their ids.
    fn sweep(&mut self, ttl: Duration, now: Instant) -> Vec<String> {
        let expired: Vec<String> = self
            .agents
            .iter()
            .filter(|(_, e)| now.saturating_duration_since(e.last_heartbeat) >= ttl)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &expired {
            self.agents.remove(id);
            self.emit(RegistryEvent::Expired { id: id.clone() });
        }
        expired
    }
}

#[derive(Debug)]
struct Inner {
    ttl: Duration,
    heartbeat_interval: Duration,
    policy: HealthPolicy,
    state: Mutex<State>,
}

impl Inner {
    /// Locks the state after removing the agents that have expired by now, so that every
    /// operation sees exactly the agents that are alive.
    fn live(&self) -> MutexGuard<'_, State> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.sweep(self.ttl, Instant::now());
        state
    }

    /// Records a probe result for registration `generation` of `id` (any registration if `None`).
    fn report(&self, id: &str, ok: bool, generation: Option<u64>) -> Result<Health, UnknownAgent> {
        let mut state = self.live();
        let unknown = || UnknownAgent { id: id.to_owned() };
        let entry = state.agents.get_mut(id).ok_or_else(unknown)?;
        if generation.is_some_and(|g| g != entry.generation) {
            return Err(unknown());
        }
        let change = entry.health.record(&self.policy, ok, Instant::now());
        let health = entry.health.health();
        if let Some((from, to)) = change {
            state.emit(RegistryEvent::HealthChanged {
                id: id.to_owned(),
                from,
                to,
            });
        }
        Ok(health)
    }
}

/// A registry of agents with TTL heartbeats, health tracking and capability-aware selection.
///
/// Cheap to clone (clones share the same agents) and safe to use from any thread. Every
/// operation first removes the agents whose TTL has run out (emitting
/// [`RegistryEvent::Expired`]), so an agent is visible exactly while it is alive;
/// [`spawn_sweeper`](Self::spawn_sweeper) or [`expire`](Self::expire) make expiry happen (and be
/// reported) even when nobody calls the registry.
///
/// See the [crate documentation](crate) for an example.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self
            .inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("Registry")
            .field("ttl", &self.inner.ttl)
            .field("heartbeat_interval", &self.inner.heartbeat_interval)
            .field("policy", &self.inner.policy)
            .field("agents", &state.agents.len())
            .finish()
    }
}

impl Registry {
    /// Settings for a new registry, starting from the defaults (TTL 30 s, heartbeat 10 s).
    pub fn builder() -> RegistryBuilder {
        RegistryBuilder::default()
    }

    /// The configured time to live.
    pub fn ttl(&self) -> Duration {
        self.inner.ttl
    }

    /// The configured heartbeat interval (what agents should use).
    pub fn heartbeat_interval(&self) -> Duration {
        self.inner.heartbeat_interval
    }

    /// The configured health policy.
    pub fn health_policy(&self) -> HealthPolicy {
        self.inner.policy
    }

    /// Adds an agent, healthy, with its heartbeat clock starting now.
    ///
    /// Fails with [`RegisterError::Duplicate`] if an alive agent has the same id, and
    /// [`RegisterError::ZeroWeight`] if its weight is 0.
    pub fn register(&self, spec: AgentSpec) -> Result<(), RegisterError> {
        if spec.weight == 0 {
            return Err(RegisterError::ZeroWeight { id: spec.id });
        }
        let mut state = self.inner.live();
        if state.agents.contains_key(&spec.id) {
            return Err(RegisterError::Duplicate { id: spec.id });
        }
        let generation = state.next_generation;
        state.next_generation += 1;
        let id = spec.id.clone();
        state.agents.insert(
            id.clone(),
            Entry {
                spec,
                last_heartbeat: Instant::now(),
                health: HealthTracker::new(),
                in_flight: Arc::new(AtomicUsize::new(0)),
                generation,
            },
        );
        state.emit(RegistryEvent::Registered { id });
        Ok(())
    }

    /// Renews the agent's TTL. Fails if it is absent or has already expired.
    pub fn heartbeat(&self, id: &str) -> Result<(), UnknownAgent> {
        let mut state = self.inner.live();
        let entry = state
            .agents
            .get_mut(id)
            .ok_or_else(|| UnknownAgent { id: id.to_owned() })?;
        entry.last_heartbeat = Instant::now();
        Ok(())
    }

    /// Removes the agent; returns whether it was registered (and alive).
    pub fn deregister(&self, id: &str) -> bool {
        let mut state = self.inner.live();
        let removed = state.agents.remove(id).is_some();
        if removed {
            state.emit(RegistryEvent::Deregistered { id: id.to_owned() });
        }
        removed
    }

    /// Removes the agents whose last heartbeat is `ttl` or more before `now`, emits
    /// [`RegistryEvent::Expired`] for each and returns their ids (sorted).
    pub fn expire(&self, now: Instant) -> Vec<String> {
        let mut state = self
            .inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        state.sweep(self.inner.ttl, now)
    }

    /// Spawns a tokio task calling [`expire`](Self::expire) every heartbeat interval. The task
    /// ends by itself once every handle to the registry is dropped (or abort it through the
    /// returned handle). Must be called within a tokio runtime.
    pub fn spawn_sweeper(&self) -> JoinHandle<()> {
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let period = self.inner.heartbeat_interval;
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(Instant::now() + period, period);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                let mut state = inner.state.lock().unwrap_or_else(PoisonError::into_inner);
                state.sweep(inner.ttl, Instant::now());
            }
        })
    }

    /// A snapshot of every alive agent, sorted by id.
    pub fn agents(&self) -> Vec<AgentInfo> {
        self.inner.live().agents.values().map(Entry::info).collect()
    }

    /// The alive agents that are not [`Health::Unhealthy`] and have every capability in
    /// `required`, sorted by id.
    pub fn lookup<S: AsRef<str>>(&self, required: &[S]) -> Vec<AgentInfo> {
        self.inner
            .live()
            .agents
            .values()
            .filter(|e| e.selectable(required))
            .map(Entry::info)
            .collect()
    }

    /// A receiver of every event from now on. Dropping it unsubscribes.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<RegistryEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .subscribers
            .push(tx);
        rx
    }

    /// Feeds one probe result (`ok` = the probe passed) and returns the agent's new health,
    /// emitting [`RegistryEvent::HealthChanged`] on a transition.
    pub fn report_probe(&self, id: &str, ok: bool) -> Result<Health, UnknownAgent> {
        self.inner.report(id, ok, None)
    }

    /// The agent's current health, or `None` if it is not registered.
    pub fn health(&self, id: &str) -> Option<Health> {
        self.inner.live().agents.get(id).map(|e| e.health.health())
    }

    /// The agent's health transitions (time, new state), oldest first, at most the last
    /// [`HISTORY_LIMIT`](crate::HISTORY_LIMIT); empty for an unknown agent. Registration itself
    /// is not a transition (an agent starts [`Health::Healthy`]).
    pub fn health_history(&self, id: &str) -> Vec<(Instant, Health)> {
        self.inner
            .live()
            .agents
            .get(id)
            .map(|e| e.health.history())
            .unwrap_or_default()
    }

    /// Spawns a tokio task that runs `probe` every `interval` (first run after one interval) and
    /// reports each result, until this registration of the agent leaves (deregistered or
    /// expired; a later registration under the same id is not probed) or every registry handle
    /// is dropped. Must be called within a tokio runtime.
    pub fn spawn_probe<F, Fut>(
        &self,
        id: &str,
        interval: Duration,
        probe: F,
    ) -> Result<JoinHandle<()>, ProbeError>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        if interval.is_zero() {
            return Err(ProbeError::ZeroInterval { id: id.to_owned() });
        }
        let generation = self
            .inner
            .live()
            .agents
            .get(id)
            .map(|e| e.generation)
            .ok_or_else(|| UnknownAgent { id: id.to_owned() })?;
        let weak = Arc::downgrade(&self.inner);
        let id = id.to_owned();
        Ok(tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(Instant::now() + interval, interval);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let ok = probe().await;
                let Some(inner) = weak.upgrade() else { break };
                if inner.report(&id, ok, Some(generation)).is_err() {
                    break;
                }
            }
        }))
    }

    /// Picks one of [`lookup(required)`](Self::lookup)'s agents with `balancer`, which sees each
    /// candidate's weight and its number of live [`Selected`] guards as its in-flight count.
    ///
    /// The returned guard counts as one job in flight on the agent until it is dropped, so
    /// [`LeastLoaded`](baton_pool::balance::LeastLoaded) prefers idle agents.
    pub fn select<S, B>(&self, required: &[S], balancer: &B) -> Result<Selected, SelectError>
    where
        S: AsRef<str>,
        B: Balancer + ?Sized,
    {
        let state = self.inner.live();
        let eligible: Vec<&Entry> = state
            .agents
            .values()
            .filter(|e| e.selectable(required))
            .collect();
        let view: Vec<Candidate> = eligible
            .iter()
            .map(|e| Candidate::new(e.in_flight.load(Ordering::Relaxed), e.spec.weight))
            .collect();
        let chosen = balancer
            .pick(&view)
            .and_then(|i| eligible.get(i))
            .ok_or_else(|| SelectError::NoAgent {
                required: required.iter().map(|c| c.as_ref().to_owned()).collect(),
            })?;
        chosen.in_flight.fetch_add(1, Ordering::Relaxed);
        Ok(Selected {
            id: chosen.spec.id.clone(),
            in_flight: Arc::clone(&chosen.in_flight),
        })
    }
}

/// An agent chosen by [`Registry::select`]; counts as one job in flight on it until dropped.
///
/// Dereferences to the agent's id.
#[derive(Debug)]
pub struct Selected {
    id: String,
    in_flight: Arc<AtomicUsize>,
}

impl Selected {
    /// The chosen agent's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Deref for Selected {
    type Target = str;
    fn deref(&self) -> &str {
        &self.id
    }
}

impl Drop for Selected {
    fn drop(&mut self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_pool::balance::Strategy;

    fn registry() -> Registry {
        Registry::builder()
            .ttl(Duration::from_secs(30))
            .heartbeat_interval(Duration::from_secs(10))
            .build()
            .unwrap()
    }

    #[test]
    fn builds_without_a_runtime_and_rejects_bad_timing() {
        let r = registry();
        assert_eq!(r.ttl(), Duration::from_secs(30));
        assert_eq!(r.heartbeat_interval(), Duration::from_secs(10));
        assert_eq!(r.health_policy(), HealthPolicy::default());
        assert_eq!(
            Registry::builder()
                .heartbeat_interval(Duration::ZERO)
                .build()
                .unwrap_err(),
            ConfigError::ZeroHeartbeatInterval
        );
        assert!(format!("{r:?}").contains("agents: 0"));
    }

    #[test]
    fn guards_count_in_flight_and_release_on_drop() {
        let r = registry();
        r.register(AgentSpec::new("a")).unwrap();
        let b = Strategy::RoundRobin.balancer();
        let g1 = r.select(&["x"; 0], &b).unwrap();
        let g2 = r.select(&["x"; 0], &b).unwrap();
        assert_eq!(g1.id(), "a");
        assert_eq!(&*g2, "a");
        assert_eq!(r.agents()[0].in_flight, 2);
        drop(g1);
        assert_eq!(r.agents()[0].in_flight, 1);
        drop(g2);
        assert_eq!(r.agents()[0].in_flight, 0);
    }

    #[test]
    fn events_reach_every_subscriber_and_closed_ones_are_dropped() {
        let r = registry();
        let mut rx1 = r.subscribe();
        let rx2 = r.subscribe();
        drop(rx2);
        r.register(AgentSpec::new("a")).unwrap();
        assert!(r.deregister("a"));
        assert!(!r.deregister("a"));
        assert_eq!(
            rx1.try_recv().unwrap(),
            RegistryEvent::Registered { id: "a".into() }
        );
        assert_eq!(
            rx1.try_recv().unwrap(),
            RegistryEvent::Deregistered { id: "a".into() }
        );
        assert!(rx1.try_recv().is_err());
        assert_eq!(r.inner.state.lock().unwrap().subscribers.len(), 1);
    }

    #[test]
    fn expire_uses_the_given_instant() {
        let r = registry();
        r.register(AgentSpec::new("b")).unwrap();
        r.register(AgentSpec::new("a")).unwrap();
        let now = Instant::now();
        assert!(r.expire(now).is_empty());
        assert_eq!(r.expire(now + Duration::from_secs(30)), ["a", "b"]);
        assert!(r.agents().is_empty());
    }

    #[test]
    fn unknown_agents_are_reported_by_name() {
        let r = registry();
        let err = r.heartbeat("ghost").unwrap_err();
        assert!(err.to_string().contains("`ghost`"), "{err}");
        assert!(r.report_probe("ghost", true).is_err());
        assert!(r.health_history("ghost").is_empty());
        assert_eq!(r.health("ghost"), None);
    }
}

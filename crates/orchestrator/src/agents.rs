//! Running tasks on agents: [`AgentExecutor`] picks, for each attempt, a healthy agent of a
//! `baton-agents` [`Registry`] that has the task's required capabilities, through one of the
//! pool's balancing strategies, and hands the attempt to that agent's own [`Executor`].
//!
//! When an agent turns `Unhealthy`, expires or is deregistered, the attempts running on it are
//! interrupted: each ends as a failed attempt ("agent lost"), which the task's retry policy
//! counts and retries, on another agent.
//!
//! The executor's [`capacity`](Executor::capacity) is the sum of its available agents' own:
//! it grows as agents are added (or recover) and shrinks as they are lost, and the orchestrator
//! follows it, so parallelism tracks the agents there are.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, PoisonError};

use baton_agents::{AgentSpec, Health, RegisterError, Registry, RegistryEvent};
use baton_pool::Outcome;
use baton_pool::balance::Balancer;
use baton_saga::CancelToken;

use crate::error::{BuildError, TaskError};
use crate::executor::{Attempt, AttemptFuture, Executor, Placement};

/// One agent: where its attempts run, and the token that interrupts them if it is lost.
struct Agent {
    executor: Arc<dyn Executor>,
    lost: CancelToken,
    /// Whether it counts towards the capacity (not lost since it was added or recovered).
    available: bool,
    /// Its id, as attempts placed on it carry it.
    name: Placement,
}

/// An [`Executor`] over a registry of agents (see the module docs).
///
/// ```
/// use baton_orchestrator::agents::AgentExecutor;
/// use baton_orchestrator::crates::agents::{AgentSpec, Registry};
/// use baton_orchestrator::crates::pool::balance::Strategy;
/// use baton_orchestrator::{Orchestrator, Pool, PriorityQueue, Task, Workflow};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let registry = Registry::builder().build()?;
/// let agents = AgentExecutor::new(registry.clone(), Strategy::LeastLoaded.balancer())?;
/// agents.add(AgentSpec::new("gpu-1").capability("gpu"), Pool::builder().workers(2).build()?)?;
/// agents.add(AgentSpec::new("cpu-1"), Pool::builder().workers(2).build()?)?;
/// let orchestrator = Orchestrator::with_parts(PriorityQueue::new(), agents)?;
/// let workflow = Workflow::builder("train")
///     .task(Task::new("train", |_| async { Ok(()) }).requires(["gpu"]))
///     .build()?;
/// assert!(orchestrator.run(&workflow).await?.is_success());
/// # Ok(())
/// # }
/// ```
pub struct AgentExecutor {
    registry: Registry,
    balancer: Arc<dyn Balancer>,
    agents: Arc<Mutex<HashMap<String, Agent>>>,
    /// The sum of the available agents' capacities, kept as they come and go.
    capacity: Arc<AtomicUsize>,
}

impl AgentExecutor {
    /// An executor over `registry`'s agents, choosing among them with `balancer` (for example
    /// `Strategy::LeastLoaded.balancer()`). It watches the registry for lost agents from a task on
    /// the current tokio runtime: [`BuildError::NoRuntime`] outside one.
    pub fn new(registry: Registry, balancer: Arc<dyn Balancer>) -> Result<Self, BuildError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| BuildError::NoRuntime)?;
        let agents: Arc<Mutex<HashMap<String, Agent>>> = Arc::default();
        let capacity = Arc::new(AtomicUsize::new(0));
        let mut events = registry.subscribe();
        let watched = Arc::downgrade(&agents);
        let total = Arc::clone(&capacity);
        runtime.spawn(async move {
            while let Some(event) = events.recv().await {
                let (id, available) = match event {
                    RegistryEvent::HealthChanged {
                        id,
                        to: Health::Unhealthy,
                        ..
                    }
                    | RegistryEvent::Expired { id }
                    | RegistryEvent::Deregistered { id } => (id, false),
                    RegistryEvent::HealthChanged { id, .. } => (id, true),
                    _ => continue,
                };
                let Some(agents) = watched.upgrade() else {
                    break;
                };
                let mut agents = agents.lock().unwrap_or_else(PoisonError::into_inner);
                let Some(agent) = agents.get_mut(&id) else {
                    continue;
                };
                if !available {
                    // Interrupt what runs there; later attempts get a fresh token.
                    agent.lost.cancel();
                    agent.lost = CancelToken::new();
                }
                if agent.available != available {
                    agent.available = available;
                    let own = agent.executor.capacity();
                    if available {
                        total.fetch_add(own, SeqCst);
                    } else {
                        total.fetch_sub(own, SeqCst);
                    }
                }
            }
        });
        Ok(Self {
            registry,
            balancer,
            agents,
            capacity,
        })
    }

    /// Registers an agent described by `spec` whose attempts run on `executor` (in process: a
    /// [`Pool`](crate::Pool)). Its capacity adds to this executor's.
    pub fn add(&self, spec: AgentSpec, executor: impl Executor) -> Result<(), RegisterError> {
        let id = spec.id().to_owned();
        let id_for_name = id.clone();
        let capacity = executor.capacity();
        self.registry.register(spec)?;
        let mut agents = self.agents.lock().unwrap_or_else(PoisonError::into_inner);
        let replaced = agents.insert(
            id,
            Agent {
                executor: Arc::new(executor),
                lost: CancelToken::new(),
                available: true,
                name: Arc::new(Arc::from(id_for_name.as_str())),
            },
        );
        if let Some(old) = replaced.filter(|old| old.available) {
            self.capacity.fetch_sub(old.executor.capacity(), SeqCst);
        }
        self.capacity.fetch_add(capacity, SeqCst);
        Ok(())
    }

    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}

impl Executor for AgentExecutor {
    fn capacity(&self) -> usize {
        self.capacity.load(SeqCst).max(1)
    }

    fn capacity_varies(&self) -> bool {
        true
    }

    fn execute(&self, attempt: Attempt) {
        let selected = match self.registry.select(attempt.requires(), &self.balancer) {
            Ok(selected) => selected,
            Err(error) => {
                let (_, done) = attempt.into_parts();
                done.finish(Outcome::Failed(TaskError::msg(error.to_string())));
                return;
            }
        };
        let agent = {
            let agents = self.agents.lock().unwrap_or_else(PoisonError::into_inner);
            agents
                .get(selected.id())
                .map(|a| (Arc::clone(&a.executor), a.lost.clone(), Arc::clone(&a.name)))
        };
        let Some((executor, lost, name)) = agent else {
            let (_, done) = attempt.into_parts();
            let message = format!("agent `{}` has no executor", selected.id());
            done.finish(Outcome::Failed(TaskError::msg(message)));
            return;
        };
        let Attempt {
            mut future,
            timeout,
            mut done,
            requires,
        } = attempt;
        future.place(&name);
        done.place(&name);
        let agent_id = selected.id().to_owned();
        let wrapped = async move {
            // The guard counts this attempt as the agent's work until it ends.
            let _selected = selected;
            tokio::select! {
                biased;
                result = future => result,
                () = lost.cancelled() => Err(TaskError::msg(format!("agent lost: `{agent_id}`"))),
            }
        };
        executor.execute(Attempt {
            future: AttemptFuture::wrapped(wrapped),
            timeout,
            done,
            requires,
        });
    }
}

impl fmt::Debug for AgentExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentExecutor")
            .field("agents", &self.registry.agents().len())
            .finish_non_exhaustive()
    }
}

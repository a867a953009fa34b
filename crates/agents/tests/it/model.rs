//! Model-based property test: random operation sequences against a simple model of the alive
//! set and each agent's health.

use std::collections::BTreeMap;
use std::time::Duration;

use baton_agents::{AgentSpec, Health, RegisterError, Registry};
use proptest::prelude::*;

const TTL_MS: u64 = 10_000;
const AGENTS: usize = 4;

#[derive(Debug, Clone)]
enum Op {
    Register(usize),
    Deregister(usize),
    Heartbeat(usize),
    Advance(u64),
    Probe(usize, bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..AGENTS).prop_map(Op::Register),
        (0..AGENTS).prop_map(Op::Deregister),
        (0..AGENTS).prop_map(Op::Heartbeat),
        // Whole seconds as well, so advances land exactly on the TTL boundary.
        prop_oneof![0u64..12_000, (0u64..=10).prop_map(|s| s * 1_000)].prop_map(Op::Advance),
        (0..AGENTS, any::<bool>()).prop_map(|(i, ok)| Op::Probe(i, ok)),
    ]
}

#[derive(Debug, Clone)]
struct ModelAgent {
    last_heartbeat: u64,
    failures: u32,
    successes: u32,
    health: Health,
}

#[derive(Debug, Default)]
struct Model {
    now: u64,
    agents: BTreeMap<usize, ModelAgent>,
}

impl Model {
    fn sweep(&mut self) {
        let now = self.now;
        self.agents.retain(|_, a| now - a.last_heartbeat < TTL_MS);
    }

    /// Default policy: degraded after 1 failure, unhealthy after 3, healthy after 2 successes.
    fn probe(&mut self, i: usize, ok: bool) -> Option<Health> {
        let a = self.agents.get_mut(&i)?;
        if ok {
            a.failures = 0;
            a.successes += 1;
            if a.successes >= 2 {
                a.health = Health::Healthy;
            }
        } else {
            a.successes = 0;
            a.failures += 1;
            if a.failures >= 3 {
                a.health = Health::Unhealthy;
            } else if a.health == Health::Healthy {
                a.health = Health::Degraded;
            }
        }
        Some(a.health)
    }

    fn lookup(&self, cap: Option<&str>) -> Vec<String> {
        self.agents
            .iter()
            .filter(|(i, a)| {
                a.health != Health::Unhealthy && cap.is_none_or(|c| caps(**i).contains(&c))
            })
            .map(|(i, _)| name(*i))
            .collect()
    }
}

fn name(i: usize) -> String {
    format!("agent-{i}")
}

fn caps(i: usize) -> Vec<&'static str> {
    if i.is_multiple_of(2) {
        vec!["any", "even"]
    } else {
        vec!["any", "odd"]
    }
}

fn spec(i: usize) -> AgentSpec {
    caps(i)
        .into_iter()
        .fold(AgentSpec::new(name(i)), AgentSpec::capability)
}

fn ids(r: &Registry, required: &[&str]) -> Vec<String> {
    r.lookup(required).into_iter().map(|a| a.id).collect()
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let r = Registry::builder()
            .ttl(Duration::from_millis(TTL_MS))
            .heartbeat_interval(Duration::from_millis(TTL_MS / 3))
            .build()
            .expect("valid config");
        let mut m = Model::default();
        for op in ops {
            match op {
                Op::Register(i) => {
                    m.sweep();
                    let res = r.register(spec(i));
                    if m.agents.contains_key(&i) {
                        prop_assert_eq!(res, Err(RegisterError::Duplicate { id: name(i) }));
                    } else {
                        prop_assert_eq!(res, Ok(()));
                        m.agents.insert(
                            i,
                            ModelAgent {
                                last_heartbeat: m.now,
                                failures: 0,
                                successes: 0,
                                health: Health::Healthy,
                            },
                        );
                    }
                }
                Op::Deregister(i) => {
                    m.sweep();
                    prop_assert_eq!(r.deregister(&name(i)), m.agents.remove(&i).is_some());
                }
                Op::Heartbeat(i) => {
                    m.sweep();
                    let res = r.heartbeat(&name(i));
                    let now = m.now;
                    match m.agents.get_mut(&i) {
                        Some(a) => {
                            prop_assert!(res.is_ok());
                            a.last_heartbeat = now;
                        }
                        None => prop_assert!(res.is_err()),
                    }
                }
                Op::Advance(ms) => {
                    tokio::time::advance(Duration::from_millis(ms)).await;
                    m.now += ms;
                }
                Op::Probe(i, ok) => {
                    m.sweep();
                    prop_assert_eq!(r.report_probe(&name(i), ok).ok(), m.probe(i, ok));
                }
            }
            m.sweep();
            prop_assert_eq!(ids(&r, &[]), m.lookup(None));
            prop_assert_eq!(ids(&r, &["any"]), m.lookup(Some("any")));
            prop_assert_eq!(ids(&r, &["even"]), m.lookup(Some("even")));
            prop_assert_eq!(ids(&r, &["odd", "any"]), m.lookup(Some("odd")));
            let alive: Vec<String> = r.agents().into_iter().map(|a| a.id).collect();
            let expected: Vec<String> = m.agents.keys().map(|i| name(*i)).collect();
            prop_assert_eq!(alive, expected);
            for (i, a) in &m.agents {
                prop_assert_eq!(r.health(&name(*i)), Some(a.health));
            }
        }
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn lookup_matches_the_model(ops in proptest::collection::vec(op(), 1..60)) {
        run(ops)?;
    }
}

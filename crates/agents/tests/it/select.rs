use baton_agents::{AgentSpec, SelectError};
use baton_pool::balance::Strategy;

use crate::registry;

#[test]
fn weighted_selection_follows_weights_1_2_3() {
    let r = registry();
    r.register(AgentSpec::new("one").weight(1)).unwrap();
    r.register(AgentSpec::new("two").weight(2)).unwrap();
    r.register(AgentSpec::new("three").weight(3)).unwrap();
    let weighted = Strategy::Weighted.balancer();
    let mut counts = [0usize; 3];
    for _ in 0..6_000 {
        let guard = r.select(&[""; 0], &weighted).unwrap();
        let slot = match guard.id() {
            "one" => 0,
            "two" => 1,
            "three" => 2,
            other => panic!("unexpected agent {other}"),
        };
        counts[slot] += 1;
    }
    for (count, weight) in counts.into_iter().zip([1.0, 2.0, 3.0]) {
        let share = count as f64 / 6_000.0;
        let expected = weight / 6.0;
        assert!(
            (share - expected).abs() <= 0.03,
            "share {share} vs {expected}: {counts:?}"
        );
    }
}

#[test]
fn least_loaded_prefers_the_idle_agent() {
    let r = registry();
    r.register(AgentSpec::new("a")).unwrap();
    r.register(AgentSpec::new("b")).unwrap();
    let least = Strategy::LeastLoaded.balancer();
    let held = r.select(&[""; 0], &least).unwrap();
    let busy = held.id().to_owned();
    for _ in 0..5 {
        let next = r.select(&[""; 0], &least).unwrap();
        assert_ne!(next.id(), busy);
    }
    drop(held);
    assert!(r.agents().iter().all(|a| a.in_flight == 0));
}

#[test]
fn least_loaded_with_a_guard_on_a_picks_b() {
    let r = registry();
    r.register(AgentSpec::new("a").capability("x")).unwrap();
    let least = Strategy::LeastLoaded.balancer();
    let on_a = r.select(&["x"], &least).unwrap();
    assert_eq!(on_a.id(), "a");
    r.register(AgentSpec::new("b").capability("x")).unwrap();
    assert_eq!(r.select(&["x"], &least).unwrap().id(), "b");
    assert_eq!(r.select(&["x"], &least).unwrap().id(), "b");
}

#[test]
fn capability_filtering_requires_every_capability() {
    let r = registry();
    r.register(
        AgentSpec::new("gpu-linux")
            .capability("gpu")
            .capability("linux"),
    )
    .unwrap();
    r.register(AgentSpec::new("gpu-only").capability("gpu"))
        .unwrap();
    r.register(AgentSpec::new("linux-only").capability("linux"))
        .unwrap();
    let ids = |caps: &[&str]| -> Vec<String> { r.lookup(caps).into_iter().map(|a| a.id).collect() };
    assert_eq!(ids(&["gpu", "linux"]), ["gpu-linux"]);
    assert_eq!(ids(&["gpu"]), ["gpu-linux", "gpu-only"]);
    assert_eq!(ids(&[]).len(), 3);

    let rr = Strategy::RoundRobin.balancer();
    for _ in 0..4 {
        assert_eq!(r.select(&["gpu", "linux"], &rr).unwrap().id(), "gpu-linux");
    }
    let err = r.select(&["gpu", "tpu"], &rr).unwrap_err();
    assert_eq!(
        err,
        SelectError::NoAgent {
            required: vec!["gpu".into(), "tpu".into()]
        }
    );
    let msg = err.to_string();
    assert!(msg.contains("gpu") && msg.contains("tpu"), "{msg}");
}

#[test]
fn every_strategy_works_through_the_registry() {
    for strategy in [
        Strategy::RoundRobin,
        Strategy::LeastLoaded,
        Strategy::Weighted,
        Strategy::PowerOfTwo { seed: 7 },
    ] {
        let r = registry();
        let b = strategy.balancer();
        assert!(r.select(&[""; 0], &b).is_err(), "{strategy:?}: empty");
        r.register(AgentSpec::new("only")).unwrap();
        assert_eq!(r.select(&[""; 0], &b).unwrap().id(), "only", "{strategy:?}");
    }
}

use std::time::Duration;

use baton_agents::{AgentSpec, RegistryEvent, UnknownAgent};
use tokio::time::{Instant, advance};

use crate::registry;

/// Lets spawned tasks run after the clock moved.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn heartbeats_keep_an_agent_alive() {
    let r = registry();
    let sweeper = r.spawn_sweeper();
    let mut events = r.subscribe();
    r.register(AgentSpec::new("w")).unwrap();
    for _ in 0..10 {
        advance(Duration::from_secs(20)).await;
        settle().await;
        r.heartbeat("w").unwrap();
    }
    assert_eq!(r.agents().len(), 1);
    assert_eq!(
        events.try_recv().unwrap(),
        RegistryEvent::Registered { id: "w".into() }
    );
    assert!(events.try_recv().is_err(), "no expiry while heartbeating");
    sweeper.abort();
}

#[tokio::test(start_paused = true)]
async fn a_silent_agent_expires_through_the_sweeper() {
    let r = registry();
    let sweeper = r.spawn_sweeper();
    let mut events = r.subscribe();
    r.register(AgentSpec::new("w")).unwrap();
    assert_eq!(
        events.recv().await,
        Some(RegistryEvent::Registered { id: "w".into() })
    );
    let start = Instant::now();
    // The sweeper (not a registry call) reports the expiry.
    assert_eq!(
        events.recv().await,
        Some(RegistryEvent::Expired { id: "w".into() })
    );
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(30) && waited <= Duration::from_secs(40),
        "{waited:?}"
    );
    assert!(r.agents().is_empty());
    assert_eq!(r.heartbeat("w"), Err(UnknownAgent { id: "w".into() }));
    sweeper.abort();
}

#[tokio::test(start_paused = true)]
async fn an_agent_past_its_ttl_is_gone_even_without_a_sweeper() {
    let r = registry();
    r.register(AgentSpec::new("w").capability("gpu")).unwrap();
    advance(Duration::from_secs(29)).await;
    assert_eq!(r.lookup(&["gpu"]).len(), 1);
    advance(Duration::from_secs(1)).await;
    let mut events = r.subscribe();
    assert!(r.lookup(&["gpu"]).is_empty());
    assert_eq!(
        events.try_recv().unwrap(),
        RegistryEvent::Expired { id: "w".into() }
    );
    assert!(r.heartbeat("w").is_err());
    // The id is free again.
    r.register(AgentSpec::new("w")).unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_sweeper_stops_when_the_registry_is_dropped() {
    let r = registry();
    let sweeper = r.spawn_sweeper();
    drop(r);
    advance(Duration::from_secs(10)).await;
    sweeper.await.expect("sweeper ends cleanly");
}

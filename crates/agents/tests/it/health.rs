use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use baton_agents::{AgentSpec, Health, ProbeError, RegistryEvent};
use baton_pool::balance::Strategy;
use tokio::time::{Instant, advance};

use crate::registry;

async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn transitions_follow_the_default_policy_and_are_recorded() {
    let r = registry();
    r.register(AgentSpec::new("w")).unwrap();
    let mut events = r.subscribe();
    assert_eq!(r.health("w"), Some(Health::Healthy));

    let t1 = Instant::now();
    assert_eq!(r.report_probe("w", false), Ok(Health::Degraded));
    advance(Duration::from_secs(1)).await;
    assert_eq!(r.report_probe("w", false), Ok(Health::Degraded));
    let t3 = Instant::now();
    assert_eq!(r.report_probe("w", false), Ok(Health::Unhealthy));
    advance(Duration::from_secs(1)).await;
    assert_eq!(r.report_probe("w", true), Ok(Health::Unhealthy));
    let t5 = Instant::now();
    assert_eq!(r.report_probe("w", true), Ok(Health::Healthy));

    assert_eq!(
        r.health_history("w"),
        [
            (t1, Health::Degraded),
            (t3, Health::Unhealthy),
            (t5, Health::Healthy)
        ]
    );
    let changes: Vec<_> = std::iter::from_fn(|| events.try_recv().ok()).collect();
    let change = |from, to| RegistryEvent::HealthChanged {
        id: "w".into(),
        from,
        to,
    };
    assert_eq!(
        changes,
        [
            change(Health::Healthy, Health::Degraded),
            change(Health::Degraded, Health::Unhealthy),
            change(Health::Unhealthy, Health::Healthy),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn unhealthy_agents_are_not_selected_but_degraded_ones_are() {
    let r = registry();
    r.register(AgentSpec::new("a")).unwrap();
    r.register(AgentSpec::new("b")).unwrap();
    let rr = Strategy::RoundRobin.balancer();
    for _ in 0..3 {
        r.report_probe("a", false).unwrap();
    }
    r.report_probe("b", false).unwrap();
    assert_eq!(r.health("b"), Some(Health::Degraded));
    for _ in 0..10 {
        assert_eq!(r.select(&[""; 0], &rr).unwrap().id(), "b");
    }
    let ids: Vec<String> = r.lookup(&[""; 0]).into_iter().map(|a| a.id).collect();
    assert_eq!(ids, ["b"]);
    // Still listed, with its state.
    assert_eq!(r.agents()[0].health, Health::Unhealthy);
}

#[tokio::test(start_paused = true)]
async fn spawn_probe_drives_transitions_on_the_paused_clock() {
    let r = registry();
    r.register(AgentSpec::new("w")).unwrap();
    let up = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&up);
    let probe = r
        .spawn_probe("w", Duration::from_secs(1), move || {
            let ok = flag.load(Ordering::SeqCst);
            async move { ok }
        })
        .unwrap();
    let step = || async {
        advance(Duration::from_secs(1)).await;
        settle().await;
    };
    settle().await;
    assert_eq!(
        r.health("w"),
        Some(Health::Healthy),
        "first probe after one interval"
    );
    step().await;
    assert_eq!(r.health("w"), Some(Health::Degraded));
    step().await;
    step().await;
    assert_eq!(r.health("w"), Some(Health::Unhealthy));
    up.store(true, Ordering::SeqCst);
    step().await;
    assert_eq!(r.health("w"), Some(Health::Unhealthy));
    step().await;
    assert_eq!(r.health("w"), Some(Health::Healthy));
    let states: Vec<Health> = r.health_history("w").into_iter().map(|(_, h)| h).collect();
    assert_eq!(
        states,
        [Health::Degraded, Health::Unhealthy, Health::Healthy]
    );

    // The probe ends when the agent leaves, and does not probe a new registration.
    assert!(r.deregister("w"));
    r.register(AgentSpec::new("w")).unwrap();
    up.store(false, Ordering::SeqCst);
    step().await;
    probe.await.expect("probe task ends cleanly");
    assert_eq!(r.health("w"), Some(Health::Healthy));
}

#[tokio::test(start_paused = true)]
async fn spawn_probe_rejects_unknown_agents_and_zero_intervals() {
    let r = registry();
    let err = r
        .spawn_probe("ghost", Duration::from_secs(1), || async { true })
        .unwrap_err();
    assert!(matches!(err, ProbeError::UnknownAgent(ref u) if u.id == "ghost"));
    r.register(AgentSpec::new("w")).unwrap();
    let err = r
        .spawn_probe("w", Duration::ZERO, || async { true })
        .unwrap_err();
    assert_eq!(err, ProbeError::ZeroInterval { id: "w".into() });
}

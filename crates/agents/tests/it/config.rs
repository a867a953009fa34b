use std::time::Duration;

use baton_agents::{AgentSpec, ConfigError, HealthPolicy, RegisterError, Registry};

use crate::registry;

#[test]
fn duplicate_id_is_an_error_not_a_replace() {
    let r = registry();
    r.register(AgentSpec::new("worker-1").capability("gpu"))
        .unwrap();
    let err = r
        .register(AgentSpec::new("worker-1").capability("cpu"))
        .unwrap_err();
    assert_eq!(
        err,
        RegisterError::Duplicate {
            id: "worker-1".into()
        }
    );
    assert!(err.to_string().contains("worker-1"));
    let agents = r.agents();
    assert_eq!(agents.len(), 1);
    assert!(agents[0].capabilities.contains("gpu"));
}

#[test]
fn zero_weight_is_an_error() {
    let r = registry();
    let err = r.register(AgentSpec::new("w0").weight(0)).unwrap_err();
    assert_eq!(err, RegisterError::ZeroWeight { id: "w0".into() });
    assert!(err.to_string().contains("`w0`"));
    assert!(r.agents().is_empty());
}

#[test]
fn ttl_must_exceed_the_heartbeat_interval() {
    for ttl in [5, 10] {
        let err = Registry::builder()
            .ttl(Duration::from_secs(ttl))
            .heartbeat_interval(Duration::from_secs(10))
            .build()
            .unwrap_err();
        assert_eq!(
            err,
            ConfigError::TtlNotAboveHeartbeat {
                ttl: Duration::from_secs(ttl),
                heartbeat_interval: Duration::from_secs(10),
            }
        );
        assert!(err.to_string().contains("ttl"));
    }
}

#[test]
fn bad_health_policies_are_rejected() {
    let cases = [
        (HealthPolicy::new(0, 3, 2), ConfigError::ZeroDegradedAfter),
        (
            HealthPolicy::new(3, 1, 2),
            ConfigError::UnhealthyBeforeDegraded {
                degraded_after: 3,
                unhealthy_after: 1,
            },
        ),
        (HealthPolicy::new(1, 3, 0), ConfigError::ZeroHealthyAfter),
    ];
    for (policy, expected) in cases {
        let err = Registry::builder().health(policy).build().unwrap_err();
        assert_eq!(err, expected);
    }
    let ok = Registry::builder()
        .health(HealthPolicy::new(2, 2, 1))
        .build()
        .unwrap();
    assert_eq!(ok.health_policy(), HealthPolicy::new(2, 2, 1));
}

#[test]
fn agents_snapshot_is_sorted_and_complete() {
    let r = registry();
    r.register(AgentSpec::new("b").weight(3).meta("zone", "eu"))
        .unwrap();
    r.register(AgentSpec::new("a").capability("gpu")).unwrap();
    let agents = r.agents();
    let ids: Vec<&str> = agents.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(agents[1].weight, 3);
    assert_eq!(
        agents[1].metadata.get("zone").map(String::as_str),
        Some("eu")
    );
    assert_eq!(agents[0].in_flight, 0);
}

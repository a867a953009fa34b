//! `BreakerRegistry`: creation on first use, duplicates, removal and snapshots.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use baton_breaker::{Breaker, BreakerRegistry, DuplicateKey, State, Trip};

use crate::support::fail;

#[test]
fn get_creates_once_even_under_contention() {
    let registry: Arc<BreakerRegistry<String>> = Arc::new(
        BreakerRegistry::new(Breaker::builder().trip(Trip::consecutive_failures(2)))
            .expect("valid"),
    );
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let registry = Arc::clone(&registry);
            thread::spawn(move || registry.get("db"))
        })
        .collect();
    let breakers: Vec<Breaker> = threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect();
    assert!(breakers.windows(2).all(|w| w[0].ptr_eq(&w[1])));
    assert_eq!(registry.len(), 1);
    assert_eq!(
        breakers[0].trip_policy(),
        Trip::consecutive_failures(2),
        "built from the template"
    );
    fail(&registry.get("db"), 2);
    assert_eq!(breakers[3].state(), State::Open, "shared state");
}

#[test]
fn insert_never_replaces() {
    let registry = BreakerRegistry::new(Breaker::builder()).expect("valid");
    let custom = Breaker::builder()
        .trip(Trip::consecutive_failures(9))
        .build()
        .expect("valid");
    registry.insert(1_u32, custom.clone()).expect("new key");
    let other = Breaker::builder().build().expect("valid");
    let DuplicateKey { key, breaker } = registry.insert(1, other.clone()).expect_err("duplicate");
    assert_eq!(key, 1);
    assert!(
        breaker.ptr_eq(&other),
        "the rejected breaker is handed back"
    );
    assert!(registry.get(&1).ptr_eq(&custom), "the first one stays");
    let message = registry
        .insert(1, other)
        .expect_err("duplicate")
        .to_string();
    assert_eq!(
        message,
        "breaker registry: a breaker is already registered under key 1"
    );
}

#[test]
fn snapshot_lists_every_key_with_its_state() {
    let transitions = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&transitions);
    let registry: BreakerRegistry<String> = BreakerRegistry::new(
        Breaker::builder()
            .trip(Trip::consecutive_failures(1))
            .on_transition(move |_| {
                counter.fetch_add(1, Ordering::SeqCst);
            }),
    )
    .expect("valid");
    for key in ["c", "a", "b"] {
        registry.get(key);
    }
    fail(&registry.get("b"), 1);
    let mut unordered = registry.snapshot();
    unordered.sort_by(|a, b| a.0.cmp(&b.0));
    let sorted = registry.snapshot_sorted();
    assert_eq!(sorted, unordered);
    assert_eq!(
        sorted,
        vec![
            ("a".to_string(), State::Closed),
            ("b".to_string(), State::Open),
            ("c".to_string(), State::Closed)
        ]
    );
    assert_eq!(
        transitions.load(Ordering::SeqCst),
        1,
        "template listeners are shared"
    );
    assert!(registry.remove("b").is_some());
    assert_eq!(registry.len(), 2);
    assert!(!registry.is_empty());
}

//! Breakers by key, created on first use from a template.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt::{self, Debug};
use std::hash::Hash;
use std::sync::{Arc, PoisonError, RwLock};

use crate::config::{BreakerBuilder, Config};
use crate::{Breaker, ConfigError, State};

/// [`BreakerRegistry::insert`] found a breaker under the key already; nothing was replaced.
#[derive(Debug, thiserror::Error)]
#[error("breaker registry: a breaker is already registered under key {key:?}")]
pub struct DuplicateKey<K: Debug> {
    /// The key given.
    pub key: K,
    /// The breaker that was not inserted, handed back.
    pub breaker: Breaker,
}

/// Breakers by key (a task name, a host, an endpoint...). A key seen for the first time gets
/// a breaker built from the template, named after the key's `Debug` form; the template's
/// listeners are shared by all of them (tell them apart with [`Transition`](crate::Transition)
/// listeners per breaker via [`insert`](Self::insert), or by [`Breaker::name`]).
///
/// Reads take a shared lock and clone the breaker (one atomic increment); creating a breaker
/// takes the exclusive lock once per key.
///
/// ```
/// use baton_breaker::{BreakerRegistry, Breaker, State, Trip};
///
/// let registry: BreakerRegistry<String> =
///     BreakerRegistry::new(Breaker::builder().trip(Trip::consecutive_failures(3)))?;
/// let payments = registry.get("payments");
/// assert!(payments.ptr_eq(&registry.get("payments")), "created once, then shared");
/// assert_eq!(payments.name(), Some("\"payments\""));
/// assert_eq!(registry.snapshot_sorted(), vec![("payments".to_string(), State::Closed)]);
/// # Ok::<(), baton_breaker::ConfigError>(())
/// ```
pub struct BreakerRegistry<K> {
    template: Config,
    breakers: RwLock<HashMap<K, Breaker>>,
}

impl<K> BreakerRegistry<K>
where
    K: Hash + Eq + Clone + Send + Sync + Debug,
{
    /// A registry whose new breakers are built from `template`.
    ///
    /// # Errors
    /// The template's [`ConfigError`], found now rather than at the first [`get`](Self::get).
    pub fn new(template: BreakerBuilder) -> Result<Self, ConfigError> {
        Ok(Self {
            template: template.validate()?,
            breakers: RwLock::new(HashMap::new()),
        })
    }

    /// The breaker for `key`, created from the template on first use.
    pub fn get<Q>(&self, key: &Q) -> Breaker
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(breaker) = self.read().get(key) {
            return breaker.clone();
        }
        let owned = key.to_owned();
        let mut map = self
            .breakers
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        match map.entry(owned) {
            Entry::Occupied(entry) => entry.get().clone(),
            Entry::Vacant(entry) => {
                let name: Arc<str> = format!("{:?}", entry.key()).into();
                let breaker = Breaker::from_config(self.template.clone(), Some(name));
                entry.insert(breaker).clone()
            }
        }
    }

    /// Registers `breaker` under `key` (a breaker configured differently from the template).
    ///
    /// # Errors
    /// [`DuplicateKey`], with the breaker handed back, if `key` already has one: never a silent
    /// replace.
    pub fn insert(&self, key: K, breaker: Breaker) -> Result<(), DuplicateKey<K>> {
        let mut map = self
            .breakers
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        match map.entry(key) {
            Entry::Occupied(entry) => Err(DuplicateKey {
                key: entry.key().clone(),
                breaker,
            }),
            Entry::Vacant(entry) => {
                entry.insert(breaker);
                Ok(())
            }
        }
    }

    /// Removes and returns the breaker for `key` (clones held elsewhere keep working; the next
    /// [`get`](Self::get) creates a fresh one).
    pub fn remove<Q>(&self, key: &Q) -> Option<Breaker>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.breakers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key)
    }

    /// Whether `key` has a breaker.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.read().contains_key(key)
    }

    /// Every key with its breaker's state, in no particular order (the map's); see
    /// [`snapshot_sorted`](Self::snapshot_sorted).
    pub fn snapshot(&self) -> Vec<(K, State)> {
        self.read()
            .iter()
            .map(|(k, b)| (k.clone(), b.state()))
            .collect()
    }

    /// [`snapshot`](Self::snapshot) sorted by key.
    pub fn snapshot_sorted(&self) -> Vec<(K, State)>
    where
        K: Ord,
    {
        let mut all = self.snapshot();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// How many keys have a breaker.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether no key has a breaker.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<K, Breaker>> {
        self.breakers.read().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<K: Debug> Debug for BreakerRegistry<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let map = self.breakers.read().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("BreakerRegistry")
            .field("template", &self.template)
            .field("breakers", &*map)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Trip;

    #[test]
    fn get_borrows_and_names_after_the_key() {
        let registry: BreakerRegistry<String> =
            BreakerRegistry::new(Breaker::builder()).expect("valid");
        assert!(registry.is_empty());
        let a = registry.get("a");
        assert_eq!(a.name(), Some("\"a\""));
        assert!(registry.contains_key("a") && !registry.contains_key("b"));
        assert_eq!(registry.len(), 1);
        assert!(format!("{registry:?}").contains("\"a\""));
    }

    #[test]
    fn an_invalid_template_is_refused_up_front() {
        let err =
            BreakerRegistry::<u32>::new(Breaker::builder().trip(Trip::consecutive_failures(0)))
                .expect_err("invalid template");
        assert_eq!(err, ConfigError::ZeroConsecutiveFailures);
    }

    #[test]
    fn remove_then_get_creates_a_fresh_breaker() {
        let registry = BreakerRegistry::new(Breaker::builder()).expect("valid");
        let first = registry.get(&7_u32);
        let removed = registry.remove(&7).expect("present");
        assert!(removed.ptr_eq(&first));
        assert!(registry.remove(&7).is_none());
        assert!(!registry.get(&7).ptr_eq(&first));
    }
}

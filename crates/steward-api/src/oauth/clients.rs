//! A per-node cache of what the token endpoint reads on every request: the client's app (with
//! its registration and parsed public keys) and the scopes granted to it.
//!
//! A committed app or grant change forgets the cache ([`ClientCache::forget`], applied from
//! domain events by `crate::outbox`): at once on the node that made it, within a second on the
//! others (the outbox follower); an entry is also read again after [`FRESH_FOR`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use steward_core::apps::{jwk_is_active, App, ClientSecret, OidcClient};
use steward_oauth::jwk::{self, Jwk};
use steward_store::{Store, StoreError};

/// How long an entry is used before it is read again.
pub const FRESH_FOR: Duration = Duration::from_secs(1);
/// Entries kept per map; past it, the map starts over (a bound, not an LRU: clients are few).
const MAX_ENTRIES: usize = 10_000;

/// An OIDC client as the token endpoint needs it.
pub struct Registration {
    pub app: App,
    pub oidc: OidcClient,
    /// The client's ACTIVE public keys for `private_key_jwt`, parsed once.
    pub keys: Vec<Jwk>,
    /// argon2id hashes of the client's ACTIVE secrets (at most two during a rotation).
    pub secret_hashes: Vec<String>,
}

struct Entry<T> {
    value: T,
    loaded: Instant,
    generation: u64,
}

pub struct ClientCache {
    generation: AtomicU64,
    fresh_for_ms: AtomicU64,
    registrations: DashMap<String, Entry<Arc<Registration>>>,
    /// (app id, issuer) → scopes ACTIVE-granted.
    grants: DashMap<(String, String), Entry<Arc<Vec<String>>>>,
}

impl Default for ClientCache {
    fn default() -> Self {
        ClientCache {
            generation: AtomicU64::new(0),
            fresh_for_ms: AtomicU64::new(FRESH_FOR.as_millis() as u64),
            registrations: DashMap::new(),
            grants: DashMap::new(),
        }
    }
}

impl ClientCache {
    /// How long an entry is used before it is read again ([`FRESH_FOR`] unless set; tests
    /// lengthen it to show that invalidation, not expiry, removed an entry).
    pub fn set_fresh_for(&self, fresh_for: Duration) {
        self.fresh_for_ms.store(
            fresh_for.as_millis().min(u64::MAX as u128) as u64,
            Ordering::Relaxed,
        );
    }

    /// Forgets every entry: an app or a grant changed.
    pub fn forget(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn fresh<T: Clone>(&self, entry: Option<&Entry<T>>) -> Option<T> {
        let entry = entry?;
        (entry.generation == self.generation.load(Ordering::Acquire)
            && entry.loaded.elapsed()
                < Duration::from_millis(self.fresh_for_ms.load(Ordering::Relaxed)))
        .then(|| entry.value.clone())
    }

    fn put<K: std::hash::Hash + Eq, T>(
        &self,
        map: &DashMap<K, Entry<T>>,
        key: K,
        value: T,
        generation: u64,
    ) {
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(
            key,
            Entry {
                value,
                loaded: Instant::now(),
                generation,
            },
        );
    }

    /// The app whose OIDC client id this is (any status; the caller checks it).
    pub async fn registration(
        &self,
        store: &Store,
        client_id: &str,
    ) -> Result<Option<Arc<Registration>>, StoreError> {
        if let Some(hit) = self.fresh(self.registrations.get(client_id).as_deref()) {
            return Ok(Some(hit));
        }
        // Read the generation first: a change that lands during the read makes the entry stale.
        let generation = self.generation.load(Ordering::Acquire);
        let app = match store.app_by_client_id(client_id).await {
            Ok(app) => app,
            Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(oidc) = app.oidc.clone() else {
            return Ok(None);
        };
        // Only ACTIVE keys and secrets authenticate the client.
        let keys = oidc
            .jwks
            .as_ref()
            .and_then(|set| set.get("keys"))
            .and_then(serde_json::Value::as_array)
            .map(|keys| {
                keys.iter()
                    .filter(|k| jwk_is_active(k))
                    .filter_map(|k| jwk::Jwk::from_value(k).ok())
                    .collect()
            })
            .unwrap_or_default();
        let secret_hashes = store
            .client_secrets(&app.id)
            .await?
            .into_iter()
            .filter(ClientSecret::is_active)
            .map(|s| s.hash)
            .collect();
        let registration = Arc::new(Registration {
            app,
            oidc,
            keys,
            secret_hashes,
        });
        self.put(
            &self.registrations,
            client_id.to_string(),
            registration.clone(),
            generation,
        );
        Ok(Some(registration))
    }

    /// The scopes ACTIVE-granted to an app for this issuer.
    pub async fn granted_scopes(
        &self,
        store: &Store,
        app_id: &str,
        issuer: &str,
    ) -> Result<Arc<Vec<String>>, StoreError> {
        let key = (app_id.to_string(), issuer.to_string());
        if let Some(hit) = self.fresh(self.grants.get(&key).as_deref()) {
            return Ok(hit);
        }
        let generation = self.generation.load(Ordering::Acquire);
        let scopes = Arc::new(store.active_granted_scopes(app_id, issuer).await?);
        self.put(&self.grants, key, scopes.clone(), generation);
        Ok(scopes)
    }
}

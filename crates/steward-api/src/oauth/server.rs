//! The authorization server's shared state on one node: the signing key ring (loaded from the
//! store, sealed at rest under the master key), DPoP nonces, the verified-token cache and the set
//! of revoked token ids, which every node learns by polling the store.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use dashmap::DashMap;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use steward_core::timefmt::now_millis;
use steward_oauth::dpop::DpopNonces;
use steward_oauth::jwt::{self, AccessTokenClaims};
use steward_oauth::keys::{
    KeyRing, KeyStatus, Rotation, RsaPublicJwk, SealedSigningKey, SigningKey,
};
use steward_store::{Store, StoreError, StoredKey};

/// Retired keys stay published this long: the longest token lifetime (1 h) plus the hour
/// verifiers cache a JWKS.
pub const RETAIN_RETIRED_MS: i64 = 2 * 3600 * 1000;
/// Verified tokens kept per node (by hash) so a hot token is verified once.
const TOKEN_CACHE_MAX: usize = 50_000;
/// DPoP proof `jti`s remembered per node; past it, new proofs are refused until entries expire.
const DPOP_JTI_MAX: usize = 500_000;
/// How far back each revocation poll reads again (see [`AuthServer::refresh_revocations`]).
const REVOCATION_OVERLAP_MS: i64 = 60_000;

#[derive(Debug, thiserror::Error)]
pub enum KeyServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing keys: {0}")]
    Keys(#[from] steward_oauth::keys::KeyError),
}

pub struct AuthServer {
    master_key: [u8; 32],
    ring: RwLock<Arc<KeyRing>>,
    verification_keys: RwLock<Arc<Vec<RsaPublicJwk>>>,
    pub dpop_nonces: DpopNonces,
    /// The key the sign-in forms' CSRF tokens are derived with (from the master key, so every
    /// node accepts every node's form).
    pub(crate) csrf_key: [u8; 32],
    /// sha256(`bearer <token>`) → claims of a verified Bearer access token.
    token_cache: Expiring<Arc<AccessTokenClaims>>,
    /// jti → exp (s) of revoked tokens not yet expired.
    revoked: DashMap<String, i64>,
    revoked_watermark: AtomicI64,
    /// DPoP proof `jti`s seen by this node's resource server, with their expiry (s).
    dpop_jtis: Expiring<i64>,
    /// A hash to verify against when the client or user does not exist, so a miss costs as much
    /// as a hit.
    pub dummy_hash: String,
    /// The key Workflows connections seal their secrets and tokens with (derived from the
    /// master key, [`steward_app::flows::connections::SEALING_LABEL`]).
    pub connections_key: [u8; 32],
}

/// A concurrent map of entries that expire (epoch seconds), bounded to `max` entries. Expired
/// entries are swept at most once a second, however busy the map is.
struct Expiring<V> {
    map: DashMap<String, V>,
    max: usize,
    /// Epoch second from which the next sweep may run.
    next_sweep: AtomicI64,
    expiry: fn(&V) -> i64,
}

impl<V> Expiring<V> {
    fn new(max: usize, expiry: fn(&V) -> i64) -> Self {
        Expiring {
            map: DashMap::new(),
            max,
            next_sweep: AtomicI64::new(0),
            expiry,
        }
    }

    /// Drops expired entries, unless that was done less than a second ago.
    fn sweep(&self, now: i64) {
        let due = self.next_sweep.load(Ordering::Relaxed);
        if now >= due
            && self
                .next_sweep
                .compare_exchange(due, now + 1, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let expiry = self.expiry;
            self.map.retain(|_, v| expiry(v) > now);
        }
    }

    /// Sweeps when due, then tells whether one more entry fits.
    fn has_room(&self, now: i64) -> bool {
        self.sweep(now);
        self.map.len() < self.max
    }
}

impl Expiring<i64> {
    /// Records `key` until `exp`; false when it is already there (and live) or there is no room.
    fn record(&self, key: &str, now: i64, exp: i64) -> bool {
        // Before `entry`, which holds a shard lock that `len` would wait for.
        let room = self.has_room(now);
        match self.map.entry(key.to_string()) {
            dashmap::mapref::entry::Entry::Occupied(mut o) => {
                if *o.get() > now {
                    false
                } else {
                    o.insert(exp);
                    true
                }
            }
            dashmap::mapref::entry::Entry::Vacant(v) => {
                if room {
                    v.insert(exp);
                } else {
                    tracing::warn!("the DPoP jti set is full; refusing a proof");
                }
                room
            }
        }
    }
}

fn to_stored(key: &SigningKey, master: &[u8; 32]) -> Result<StoredKey, KeyServiceError> {
    let sealed = key.seal(master)?;
    Ok(StoredKey {
        kid: sealed.kid,
        status: sealed.status.as_str().into(),
        created: sealed.created,
        retired: sealed.retired,
        n: sealed.n,
        e: sealed.e,
        private_sealed: sealed.private_sealed,
    })
}

fn status_of(s: &str) -> KeyStatus {
    match s {
        "ACTIVE" => KeyStatus::Active,
        "NEXT" => KeyStatus::Next,
        _ => KeyStatus::Retired,
    }
}

/// Opens the stored keys into a ring.
fn ring_from_rows(rows: &[StoredKey], master: &[u8; 32]) -> Result<KeyRing, KeyServiceError> {
    let keys = rows
        .iter()
        .map(|r| {
            SealedSigningKey {
                kid: r.kid.clone(),
                private_sealed: r.private_sealed.clone(),
                n: r.n.clone(),
                e: r.e.clone(),
                created: r.created,
                status: status_of(&r.status),
                retired: r.retired,
            }
            .open(master)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(KeyRing::from_keys(keys)?)
}

/// Changes the stored key set under the key lock: reads the keys inside the transaction, lets
/// `change` decide (None: nothing to do), and writes the new ring. Two nodes doing this at once
/// (first start, scheduled rotation) serialise on the lock, and the second sees the first's work.
async fn change_keys(
    store: &Store,
    master: &[u8; 32],
    change: impl FnOnce(Option<KeyRing>) -> Result<Option<KeyRing>, KeyServiceError>,
) -> Result<Option<KeyRing>, KeyServiceError> {
    let mut tx = store.begin().await?;
    tx.lock_signing_keys().await?;
    let previous = tx.signing_keys().await?;
    let current = if previous.is_empty() {
        None
    } else {
        Some(ring_from_rows(&previous, master)?)
    };
    let Some(ring) = change(current)? else {
        return Ok(None);
    };
    for old in &previous {
        if ring.get(&old.kid).is_none() {
            tx.delete_signing_key(&old.kid).await?;
        }
    }
    for key in ring.keys() {
        match previous.iter().find(|p| p.kid == key.kid) {
            Some(_) => {
                tx.update_signing_key_status(&key.kid, key.status.as_str(), key.retired)
                    .await?
            }
            None => tx.insert_signing_key(&to_stored(key, master)?).await?,
        }
    }
    tx.commit().await?;
    Ok(Some(ring))
}

/// A key for one purpose, derived from the master key: HMAC-SHA256(master key, `label`).
fn derive_key(master_key: &[u8; 32], label: &[u8]) -> Result<[u8; 32], KeyServiceError> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master_key)
        .map_err(|_| steward_oauth::keys::KeyError::InvalidPem("master key".into()))?;
    mac.update(label);
    let mut key = [0u8; 32];
    key.copy_from_slice(&mac.finalize().into_bytes());
    Ok(key)
}

impl AuthServer {
    /// Loads the key ring, creating one on a store that has none.
    pub async fn start(store: &Store, master_key: [u8; 32]) -> Result<AuthServer, KeyServiceError> {
        let rows = store.signing_keys().await?;
        let ring = if rows.is_empty() {
            // First start: create the keys, unless another node just did.
            let created = change_keys(store, &master_key, |current| match current {
                Some(_) => Ok(None),
                None => Ok(Some(KeyRing::generate(now_millis())?)),
            })
            .await?;
            match created {
                Some(ring) => ring,
                None => ring_from_rows(&store.signing_keys().await?, &master_key)?,
            }
        } else {
            ring_from_rows(&rows, &master_key)?
        };
        let dpop_key = derive_key(&master_key, b"steward dpop nonces")?;
        let csrf_key = derive_key(&master_key, b"steward csrf tokens")?;
        let dummy_hash =
            steward_oauth::secrets::hash_secret(&steward_oauth::secrets::random_token(16))
                .map_err(|e| steward_oauth::keys::KeyError::InvalidPem(e.to_string()))?;
        let connections_key = steward_oauth::keys::derive_key(
            &master_key,
            steward_app::flows::connections::SEALING_LABEL,
        );
        let server = AuthServer {
            connections_key,
            master_key,
            verification_keys: RwLock::new(Arc::new(ring.verification_keys())),
            ring: RwLock::new(Arc::new(ring)),
            dpop_nonces: DpopNonces::new(dpop_key),
            csrf_key,
            token_cache: Expiring::new(TOKEN_CACHE_MAX, |c| c.exp),
            revoked: DashMap::new(),
            revoked_watermark: AtomicI64::new(0),
            dpop_jtis: Expiring::new(DPOP_JTI_MAX, |exp| *exp),
            dummy_hash,
        };
        server.refresh_revocations(store).await?;
        Ok(server)
    }

    pub fn ring(&self) -> Arc<KeyRing> {
        self.ring
            .read()
            .map(|r| r.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    pub fn verification_keys(&self) -> Arc<Vec<RsaPublicJwk>> {
        self.verification_keys
            .read()
            .map(|r| r.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    fn install(&self, ring: KeyRing) {
        let keys = Arc::new(ring.verification_keys());
        if let Ok(mut slot) = self.verification_keys.write() {
            *slot = keys;
        }
        if let Ok(mut slot) = self.ring.write() {
            *slot = Arc::new(ring);
        }
    }

    /// Re-reads the keys (another node may have rotated them).
    pub async fn reload_keys(&self, store: &Store) -> Result<(), KeyServiceError> {
        let rows = store.signing_keys().await?;
        if !rows.is_empty() {
            self.install(ring_from_rows(&rows, &self.master_key)?);
        }
        Ok(())
    }

    /// Rotates: next → active, a fresh next, active → retired. A ring with no published next key
    /// only gains one (verifiers must be able to fetch a key before tokens are signed with it).
    /// Returns the active kid and whether it changed.
    pub async fn rotate(&self, store: &Store) -> Result<(String, bool), KeyServiceError> {
        let rotation = self.rotate_when(store, |_| true).await?;
        let promoted = rotation == Some(Rotation::Promoted);
        Ok((self.ring().active().kid.clone(), promoted))
    }

    /// Rotates when the active key is older than `max_age` (decided under the key lock, so
    /// nodes checking together rotate once); `Some(kid)` when this call made a new key active.
    pub async fn rotate_if_due(
        &self,
        store: &Store,
        max_age: Duration,
    ) -> Result<Option<String>, KeyServiceError> {
        let max_age = max_age.as_millis() as i64;
        let rotation = self
            .rotate_when(store, |ring| {
                now_millis() - ring.active().created >= max_age
            })
            .await?;
        self.reload_keys(store).await?;
        // Only a promotion is a rotation; creating a missing next key is not.
        Ok((rotation == Some(Rotation::Promoted)).then(|| self.ring().active().kid.clone()))
    }

    /// Rotates the stored ring under the key lock when `due` says so; what the rotation did.
    async fn rotate_when(
        &self,
        store: &Store,
        due: impl FnOnce(&KeyRing) -> bool,
    ) -> Result<Option<Rotation>, KeyServiceError> {
        let mut rotation = None;
        let changed = change_keys(store, &self.master_key, |current| {
            let Some(mut ring) = current else {
                return Ok(None);
            };
            if !due(&ring) {
                return Ok(None);
            }
            rotation = Some(ring.rotate(now_millis(), RETAIN_RETIRED_MS)?);
            Ok(Some(ring))
        })
        .await?;
        if let Some(ring) = changed {
            self.install(ring);
        }
        Ok(rotation)
    }

    pub fn cached_token(&self, hash: &str) -> Option<Arc<AccessTokenClaims>> {
        self.token_cache.map.get(hash).map(|c| c.clone())
    }

    /// Caches a verified token's claims under `hash` (see `credential_digest`). Expired entries
    /// are swept at most once a second; when the cache is full of live tokens, the new one is
    /// simply not cached (it is verified again next time) rather than wiping everyone's.
    pub fn cache_token(&self, hash: String, claims: Arc<AccessTokenClaims>) {
        if self.token_cache.has_room(now_millis() / 1000) {
            self.token_cache.map.insert(hash, claims);
        }
    }

    /// Records a DPoP proof `jti` at the resource server; false when it was already used, or
    /// when the node already holds [`DPOP_JTI_MAX`] live ones (replay protection cannot be
    /// promised then, so the proof is refused). Proofs are accepted within ±300 s of their
    /// `iat`, so entries live 10 minutes.
    pub fn use_dpop_jti(&self, key: &str, now: i64) -> bool {
        self.dpop_jtis.record(key, now, now + 600)
    }

    pub fn is_revoked(&self, jti: &str) -> bool {
        self.revoked.contains_key(jti)
    }

    /// Marks a token revoked on this node at once (the store has it for the others) until `exp`
    /// (epoch seconds). No access token outlives its lifetime from now, so that bounds the entry
    /// when the caller does not know the expiry.
    pub fn note_revoked(&self, jti: &str, exp: i64) {
        let latest = now_millis() / 1000 + jwt::ACCESS_TOKEN_LIFETIME_SECS;
        self.revoked.insert(jti.to_string(), exp.min(latest));
    }

    /// After a committed change that revoked tokens: this node refuses them at once, other
    /// nodes at their next poll. A failure is only logged: the change stands, and the poll
    /// catches up.
    pub async fn learn_revocations(&self, store: &Store) {
        if let Err(e) = self.refresh_revocations(store).await {
            tracing::warn!(error = %e, "could not refresh revocations after revoking tokens");
        }
    }

    /// Learns revocations made anywhere since the last poll, and forgets expired ones.
    pub async fn refresh_revocations(&self, store: &Store) -> Result<(), StoreError> {
        let now = now_millis();
        let since = self.revoked_watermark.load(Ordering::Relaxed);
        let found = store.revoked_since(since, now).await?;
        let mut high = since;
        for (jti, revoked_at, expires) in found {
            high = high.max(revoked_at);
            self.note_revoked(&jti, expires / 1000);
        }
        // `revoked_at` is stamped before its transaction commits: read the last minute again
        // each time, so that a revocation whose commit took that long is still seen.
        self.revoked_watermark.store(
            high.saturating_sub(REVOCATION_OVERLAP_MS).max(0),
            Ordering::Relaxed,
        );
        let now_s = now / 1000;
        self.revoked.retain(|_, exp| *exp > now_s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Expiring;

    #[test]
    fn jtis_are_refused_when_replayed_and_swept_once_a_second() {
        let set = Expiring::new(3, |exp: &i64| *exp);
        assert!(set.record("a", 100, 110));
        assert!(!set.record("a", 100, 110), "replay");
        assert!(set.record("b", 100, 105));
        assert!(set.record("c", 100, 120));
        assert!(!set.record("d", 100, 120), "full of live entries: refused");
        assert_eq!(set.map.len(), 3);
        // At 106 "b" has expired: the sweep (due again) makes room.
        assert!(set.record("d", 106, 126));
        assert_eq!(set.map.len(), 3);
        assert!(!set.map.contains_key("b"));
        // Within the same second no second sweep runs, even though "a" expired at 110.
        set.map.insert("x".into(), 0);
        assert!(!set.record("e", 106, 126));
        assert!(set.map.contains_key("x"), "not swept twice in one second");
        set.sweep(107);
        assert!(!set.map.contains_key("x"), "swept at the next second");
        // A replay after expiry is a new use (the proof's own iat check refuses old proofs).
        assert!(set.record("a", 111, 130));
    }

    #[test]
    fn a_full_cache_keeps_live_entries() {
        let cache = Expiring::new(2, |exp: &i64| *exp);
        assert!(cache.has_room(0));
        cache.map.insert("t1".into(), 50);
        cache.map.insert("t2".into(), 5);
        assert!(!cache.has_room(1));
        assert!(cache.has_room(6), "the expired entry was swept");
        assert!(cache.map.contains_key("t1"));
    }
}

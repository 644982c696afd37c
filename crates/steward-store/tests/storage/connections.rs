//! Workflows connections: names are unique, an authorization's state is spent once, and one
//! claimer at a time refreshes the tokens (the tokens it stores are fenced by its claim).
use steward_store::{SealedTokens, StoreError, StoredConnection};

use crate::common;

fn connection(id: &str, name: &str) -> StoredConnection {
    StoredConnection {
        id: id.into(),
        name: name.into(),
        connector: "okta".into(),
        app_id: "0oa1".into(),
        client_id: "0oa1".into(),
        org_url: "https://steward.example".into(),
        auth_method: "authorization_code".into(),
        sealed_secret: Some("v1.sealed.secret".into()),
        status: "UNAUTHORIZED".into(),
        created: 1000,
        updated: 1000,
        ..StoredConnection::default()
    }
}

fn tokens(access: &str) -> SealedTokens {
    SealedTokens {
        sealed_access_token: access.into(),
        sealed_refresh_token: Some(format!("refresh-{access}")),
        scopes: vec!["openid".into(), "okta.users.read".into()],
        expires: 10_000,
        authorized: None,
    }
}

#[tokio::test]
async fn states_are_spent_once_and_one_claimer_refreshes() {
    for (name, url) in common::urls("steward-connections").await {
        let store = common::open(&url).await;
        let mut tx = store.begin().await.unwrap();
        tx.connections()
            .insert(&connection("fcn1", "Okta"))
            .await
            .unwrap();
        let taken = tx.connections().insert(&connection("fcn2", "Okta")).await;
        assert!(matches!(taken, Err(StoreError::Conflict(_))), "{name}");
        drop(tx);
        let mut tx = store.begin().await.unwrap();
        tx.connections()
            .insert(&connection("fcn1", "Okta"))
            .await
            .unwrap();
        tx.connections()
            .insert(&connection("fcn2", "OIG"))
            .await
            .unwrap();
        tx.connections()
            .set_pending("fcn1", "state-hash", "v1.verifier", 5000, "00u1", 1000)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            store.connections().list(Some("okta")).await.unwrap().len(),
            2
        );
        assert_eq!(
            store.connections().by_name("OIG").await.unwrap().id,
            "fcn2",
            "{name}"
        );

        // The state is spent once.
        let mut tx = store.begin().await.unwrap();
        let pending = tx.connections().take_pending("state-hash").await.unwrap();
        assert_eq!(pending.pending_verifier.as_deref(), Some("v1.verifier"));
        assert_eq!(pending.pending_by.as_deref(), Some("00u1"));
        tx.commit().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        let again = tx.connections().take_pending("state-hash").await;
        assert!(matches!(again, Err(StoreError::NotFound)), "{name}");
        drop(tx);
        assert!(store
            .connections()
            .get("fcn1")
            .await
            .unwrap()
            .pending_state_hash
            .is_none());

        // Authorized: version 1, ACTIVE.
        let mut first = tokens("a1");
        first.authorized = Some(("00u1".into(), 2000));
        let mut tx = store.begin().await.unwrap();
        assert!(tx
            .connections()
            .store_tokens("fcn1", &first, None, 2000)
            .await
            .unwrap());
        tx.commit().await.unwrap();
        let c = store.connections().get("fcn1").await.unwrap();
        assert_eq!(
            (c.token_version, c.status.as_str()),
            (1, "ACTIVE"),
            "{name}"
        );
        assert_eq!(c.token_scopes, ["openid", "okta.users.read"]);
        assert_eq!(c.authorized_by.as_deref(), Some("00u1"));

        // Two claimers of version 1: one wins; the loser cannot store.
        let mut tx = store.begin().await.unwrap();
        assert!(tx
            .connections()
            .claim_refresh("fcn1", 1, "node-a", 3000, 33_000)
            .await
            .unwrap());
        assert!(!tx
            .connections()
            .claim_refresh("fcn1", 1, "node-b", 3000, 33_000)
            .await
            .unwrap());
        assert!(!tx
            .connections()
            .store_tokens("fcn1", &tokens("b2"), Some("node-b"), 3000)
            .await
            .unwrap());
        assert!(tx
            .connections()
            .store_tokens("fcn1", &tokens("a2"), Some("node-a"), 3000)
            .await
            .unwrap());
        tx.commit().await.unwrap();
        let c = store.connections().get("fcn1").await.unwrap();
        assert_eq!(c.sealed_access_token.as_deref(), Some("a2"), "{name}");
        assert_eq!(c.token_version, 2);
        assert!(c.refresh_claim.is_none());
        assert_eq!(
            c.authorized_by.as_deref(),
            Some("00u1"),
            "a refresh keeps who authorized"
        );
        // A claim on a stale version fails; an expired claim can be taken over.
        let mut tx = store.begin().await.unwrap();
        assert!(!tx
            .connections()
            .claim_refresh("fcn1", 1, "node-b", 4000, 34_000)
            .await
            .unwrap());
        assert!(tx
            .connections()
            .claim_refresh("fcn1", 2, "node-b", 4000, 5000)
            .await
            .unwrap());
        assert!(tx
            .connections()
            .claim_refresh("fcn1", 2, "node-c", 6000, 36_000)
            .await
            .unwrap());
        assert!(!tx
            .connections()
            .store_tokens("fcn1", &tokens("b3"), Some("node-b"), 6000)
            .await
            .unwrap());
        tx.connections()
            .release_claim("fcn1", "node-c")
            .await
            .unwrap();
        tx.connections()
            .set_check("fcn1", "BROKEN", Some("refresh failed"), 6000)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let c = store.connections().get("fcn1").await.unwrap();
        assert_eq!(
            (c.status.as_str(), c.last_error.as_deref()),
            ("BROKEN", Some("refresh failed"))
        );
        assert!(c.refresh_claim.is_none());

        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.connections().delete("fcn2").await.unwrap().name, "OIG");
        assert!(matches!(
            tx.connections().delete("fcn2").await,
            Err(StoreError::NotFound)
        ));
        tx.commit().await.unwrap();
    }
}

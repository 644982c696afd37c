//! Apps' client secrets: the secret an app had before migration 13 becomes its first ACTIVE
//! secret, and an app's secrets go with it.
use crate::common;

use steward_core::apps::{App, ClientSecret, OidcClient, SIGN_ON_MODE_OIDC};
use steward_core::ids::{new_id, IdKind};
use steward_store::{Store, StoreError};

async fn app(store: &Store, label: &str) -> App {
    let oidc = OidcClient::from_request(
        &serde_json::json!({"application_type": "service"}),
        &serde_json::json!({}),
    )
    .unwrap();
    let id = new_id(IdKind::App);
    let app = App {
        id: id.clone(),
        name: "oidc_client".into(),
        label: label.into(),
        status: "ACTIVE".into(),
        sign_on_mode: SIGN_ON_MODE_OIDC.into(),
        created: 1_000,
        last_updated: 2_000,
        client_id: Some(id),
        oidc: Some(oidc),
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_app(&app).await.unwrap();
    tx.commit().await.unwrap();
    app
}

/// Takes the database back to before migration 13 (the secret a column of `apps`), with `hash`
/// as the secret of `with_secret`.
async fn undo_migration_13(url: &str, with_secret: &str, hash: &str) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    for sql in [
        "DROP TABLE app_client_secrets",
        "ALTER TABLE apps ADD COLUMN client_secret_hash TEXT",
        "DELETE FROM steward_migrations WHERE version = 13",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    sqlx::query("UPDATE apps SET client_secret_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(with_secret)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

#[tokio::test]
async fn an_apps_secret_survives_migration_13_as_its_first_active_secret() {
    for (name, url) in common::urls("steward-secrets").await {
        let store = common::open(&url).await;
        let with_secret = app(&store, "Had a secret").await;
        let without = app(&store, "Had none").await;
        store.close().await;
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
        undo_migration_13(&url, &with_secret.id, hash).await;

        let store = common::open(&url).await;
        let secrets = store.client_secrets(&with_secret.id).await.unwrap();
        assert_eq!(
            secrets,
            vec![ClientSecret {
                id: format!("ocs{}", &with_secret.id[3..]),
                app_id: with_secret.id.clone(),
                hash: hash.into(),
                masked: None,
                status: "ACTIVE".into(),
                created: 2_000,
                last_updated: 2_000,
            }],
            "{name}"
        );
        assert!(store.client_secrets(&without.id).await.unwrap().is_empty());
        // The app itself reads as before.
        assert_eq!(store.app(&with_secret.id).await.unwrap(), with_secret);

        // Its secrets go with the app.
        let mut tx = store.begin().await.unwrap();
        tx.delete_app(&with_secret.id).await.unwrap();
        tx.commit().await.unwrap();
        assert!(matches!(
            store.client_secret(&with_secret.id, &secrets[0].id).await,
            Err(StoreError::NotFound)
        ));
    }
}

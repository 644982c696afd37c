-- An app's client secrets (Okta's OAuth2ClientSecret): up to two, each ACTIVE or INACTIVE, so
-- that a secret can be rotated without downtime. `hash` is the argon2id PHC string, `masked`
-- shows a few characters of each end (NULL for the secrets moved here from `apps`).
CREATE TABLE app_client_secrets (
    id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    hash TEXT NOT NULL,
    masked TEXT,
    status TEXT NOT NULL,
    created BIGINT NOT NULL,
    last_updated BIGINT NOT NULL
);
CREATE INDEX app_client_secrets_app ON app_client_secrets (app_id);

-- Each app's single secret becomes its first ACTIVE secret (id: `ocs` and the app id's tail),
-- so existing clients keep authenticating.
INSERT INTO app_client_secrets (id, app_id, hash, masked, status, created, last_updated)
SELECT 'ocs' || substr(id, 4), id, client_secret_hash, NULL, 'ACTIVE', last_updated, last_updated
FROM apps WHERE client_secret_hash IS NOT NULL;

ALTER TABLE apps DROP COLUMN client_secret_hash

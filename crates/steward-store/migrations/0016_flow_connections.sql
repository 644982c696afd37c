-- Workflows connections (see docs/workflows.md, "Connections"): an OAuth client of this org that
-- connector cards call the org with. Every secret is sealed (AES-256-GCM under a key derived
-- from the master key, the connection id and the field as associated data): the client secret
-- or private key, the access and refresh tokens, the pending PKCE verifier. `pending_state_hash`
-- is the SHA-256 of an authorization's `state` (single use). `token_version` counts the tokens
-- stored, and `refresh_claim` / `refresh_claim_until` is the lease of the node refreshing them.
CREATE TABLE flow_connections (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    connector TEXT NOT NULL,
    app_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    org_url TEXT NOT NULL,
    auth_method TEXT NOT NULL,
    sealed_secret TEXT,
    sealed_private_key TEXT,
    key_id TEXT,
    sealed_access_token TEXT,
    sealed_refresh_token TEXT,
    token_scopes TEXT,
    token_expires BIGINT,
    authorized_by TEXT,
    authorized_at BIGINT,
    status TEXT NOT NULL,
    last_check BIGINT,
    last_error TEXT,
    pending_state_hash TEXT,
    pending_verifier TEXT,
    pending_expires BIGINT,
    pending_by TEXT,
    token_version BIGINT NOT NULL,
    refresh_claim TEXT,
    refresh_claim_until BIGINT,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL
);
CREATE UNIQUE INDEX flow_connections_pending ON flow_connections (pending_state_hash);
CREATE INDEX flow_connections_connector ON flow_connections (connector, name);

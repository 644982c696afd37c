-- The org authorization server: signing keys (sealed), app scope grants, sign-in sessions,
-- authorization codes, refresh tokens, issued access tokens (for revocation) and replay caches.

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    created BIGINT NOT NULL,
    retired BIGINT,
    n TEXT NOT NULL,
    e TEXT NOT NULL,
    private_sealed TEXT NOT NULL
);

CREATE TABLE app_grants (
    id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    issuer TEXT NOT NULL,
    scope_id TEXT NOT NULL,
    status TEXT NOT NULL,
    source TEXT NOT NULL,
    created_by_id TEXT NOT NULL,
    created_by_type TEXT NOT NULL,
    created BIGINT NOT NULL,
    last_updated BIGINT NOT NULL
);
CREATE INDEX app_grants_app ON app_grants (app_id, scope_id);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created BIGINT NOT NULL,
    expires BIGINT NOT NULL,
    auth_time BIGINT NOT NULL
);

CREATE TABLE auth_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scopes TEXT NOT NULL,
    code_challenge TEXT,
    nonce TEXT,
    auth_time BIGINT NOT NULL,
    dpop_jkt TEXT,
    created BIGINT NOT NULL,
    expires BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    jkt TEXT,
    created BIGINT NOT NULL,
    expires BIGINT NOT NULL,
    rotated_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE issued_tokens (
    jti TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT,
    family_id TEXT,
    code_hash TEXT,
    scopes TEXT NOT NULL,
    created BIGINT NOT NULL,
    expires BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX issued_tokens_family ON issued_tokens (family_id);
CREATE INDEX issued_tokens_code ON issued_tokens (code_hash);
CREATE INDEX issued_tokens_client ON issued_tokens (client_id);
CREATE INDEX issued_tokens_user ON issued_tokens (user_id);
CREATE INDEX issued_tokens_revoked ON issued_tokens (revoked_at);

CREATE TABLE used_jtis (
    kind TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires BIGINT NOT NULL,
    PRIMARY KEY (kind, jti)
);

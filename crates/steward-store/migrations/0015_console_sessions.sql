-- The Admin Console's server-side sessions (crates/steward-console). Only the SHA-256 of the
-- cookie's value is stored. A row with no user is a sign-in in progress: the state, nonce and
-- PKCE verifier of its authorization request, and where to go once signed in. A signed-in row
-- keeps its CSRF token, the ID token (the sign-out's `id_token_hint`), when it was last used
-- (idle expiry) and when it ends whatever happens (`expires`, absolute).
CREATE TABLE console_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    login_state TEXT,
    nonce TEXT,
    code_verifier TEXT,
    return_to TEXT,
    id_token TEXT,
    created BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    expires BIGINT NOT NULL
);
CREATE INDEX console_sessions_expires ON console_sessions (expires);
CREATE INDEX console_sessions_user ON console_sessions (user_id)

-- Activation links (/welcome/{token}): only the SHA-256 of each token is stored.
-- A token is single use (used_at) and expires. A new activation deletes a user's older tokens.
CREATE TABLE activation_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created BIGINT NOT NULL,
    expires BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX activation_tokens_user ON activation_tokens (user_id);
CREATE INDEX activation_tokens_expires ON activation_tokens (expires)

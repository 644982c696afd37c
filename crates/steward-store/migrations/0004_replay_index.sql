-- Replay caches are purged by expiry in the background: index the expiry.
CREATE INDEX used_jtis_expires ON used_jtis (expires);
CREATE INDEX issued_tokens_expires ON issued_tokens (expires);
CREATE INDEX auth_codes_expires ON auth_codes (expires);
CREATE INDEX sessions_expires ON sessions (expires)

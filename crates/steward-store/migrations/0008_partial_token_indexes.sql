-- Most access tokens (client credentials) have no user, family, code or revocation: index
-- those columns only where they are set, so that issuing such a token touches three indexes
-- instead of seven. Lookups by equality or range on these columns still use them.
DROP INDEX issued_tokens_family;
DROP INDEX issued_tokens_code;
DROP INDEX issued_tokens_user;
DROP INDEX issued_tokens_revoked;
CREATE INDEX issued_tokens_family ON issued_tokens (family_id) WHERE family_id IS NOT NULL;
CREATE INDEX issued_tokens_code ON issued_tokens (code_hash) WHERE code_hash IS NOT NULL;
CREATE INDEX issued_tokens_user ON issued_tokens (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX issued_tokens_revoked ON issued_tokens (revoked_at) WHERE revoked_at IS NOT NULL

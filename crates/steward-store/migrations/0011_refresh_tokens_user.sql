-- Removing a user's access to an app revokes their refresh tokens for it: find them by user and
-- client instead of scanning every refresh token.
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id, client_id)

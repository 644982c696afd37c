-- Access granted by access requests. One row per request that granted a group membership or an
-- app assignment: `created_access` is 1 when the access was made by a request (this one, or one
-- still holding it when this one was granted) rather than given beside the requests, `held` is 1
-- until the request's time-bound access is revoked, `expires_at` is its revocation time (NULL:
-- permanent). Revocation removes the access only when a request created it and no other
-- request still holds it.
CREATE TABLE ar_grants (
    request_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    scope_type TEXT NOT NULL,
    scope_id TEXT NOT NULL,
    created_access BIGINT NOT NULL,
    held BIGINT NOT NULL,
    expires_at BIGINT
);
CREATE INDEX ar_grants_access ON ar_grants (user_id, scope_id, scope_type);

-- v1 `permalinkId`s are unique (v2 requests have none).
CREATE UNIQUE INDEX ar_requests_permalink ON ar_requests (permalink)

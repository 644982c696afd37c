-- The org's directory: users, groups, applications, role assignments, API tokens, System Log.
-- Timestamps are epoch milliseconds, profiles and settings are JSON text.

CREATE TABLE org_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL,
    login_lower TEXT NOT NULL UNIQUE,
    email TEXT,
    first_name TEXT,
    last_name TEXT,
    status TEXT NOT NULL,
    created BIGINT NOT NULL,
    activated BIGINT,
    status_changed BIGINT,
    last_login BIGINT,
    last_updated BIGINT NOT NULL,
    password_changed BIGINT,
    profile TEXT NOT NULL,
    password_hash TEXT,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT
);
CREATE INDEX users_status ON users (status, id);
CREATE INDEX users_last_updated ON users (last_updated);

CREATE TABLE okta_groups (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL UNIQUE,
    group_type TEXT NOT NULL,
    description TEXT,
    created BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    last_membership_updated BIGINT NOT NULL,
    profile TEXT NOT NULL
);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES okta_groups (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created BIGINT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id, group_id);

CREATE TABLE apps (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    label TEXT NOT NULL,
    status TEXT NOT NULL,
    sign_on_mode TEXT NOT NULL,
    created BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    client_id TEXT UNIQUE,
    client_secret_hash TEXT,
    oidc TEXT
);

CREATE TABLE app_user_assignments (
    app_id TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    profile TEXT NOT NULL,
    created BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    PRIMARY KEY (app_id, user_id)
);
CREATE INDEX app_user_assignments_user ON app_user_assignments (user_id);

CREATE TABLE app_group_assignments (
    app_id TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES okta_groups (id) ON DELETE CASCADE,
    priority BIGINT NOT NULL,
    profile TEXT NOT NULL,
    created BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    PRIMARY KEY (app_id, group_id)
);
CREATE INDEX app_group_assignments_group ON app_group_assignments (group_id);

CREATE TABLE role_assignments (
    id TEXT PRIMARY KEY,
    principal_type TEXT NOT NULL,
    principal_id TEXT NOT NULL,
    role_type TEXT NOT NULL,
    created BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    UNIQUE (principal_type, principal_id, role_type)
);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);

CREATE TABLE log_events (
    seq {serial},
    uuid TEXT NOT NULL UNIQUE,
    published BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX log_events_published ON log_events (published, seq);

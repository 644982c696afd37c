-- Access Requests (v1 and v2). Each object is kept whole as JSON text (`body`), with the columns
-- that lists filter and sort on beside it.

CREATE TABLE ar_sequences (
    id TEXT PRIMARY KEY,
    created BIGINT NOT NULL,
    body TEXT NOT NULL
);

CREATE TABLE ar_conditions (
    id TEXT PRIMARY KEY,
    resource_id TEXT NOT NULL,
    status TEXT NOT NULL,
    priority BIGINT NOT NULL,
    sequence_id TEXT,
    body TEXT NOT NULL
);
CREATE INDEX ar_conditions_resource ON ar_conditions (resource_id, priority);
CREATE INDEX ar_conditions_sequence ON ar_conditions (sequence_id);

-- 'org' for the org's request settings, else a resource id.
CREATE TABLE ar_settings (
    scope TEXT PRIMARY KEY,
    body TEXT NOT NULL
);

-- v1 and v2 requests. `body` is the request's workflow (v2 view, steps, tasks), v1 requests also
-- keep their v1 view in `v1_body`. `due_at` is when the scheduler must next look at the request
-- (expiry of an undecided request, or revocation of time-bound access), NULL when never.
CREATE TABLE ar_requests (
    id TEXT PRIMARY KEY,
    api_version BIGINT NOT NULL,
    status TEXT NOT NULL,
    v1_status TEXT,
    requested_for TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    access_scope_id TEXT NOT NULL,
    access_scope_type TEXT NOT NULL,
    request_type_id TEXT,
    permalink BIGINT,
    created BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    due_at BIGINT,
    body TEXT NOT NULL,
    v1_body TEXT
);
CREATE INDEX ar_requests_status ON ar_requests (api_version, status, id);
CREATE INDEX ar_requests_v1_status ON ar_requests (api_version, v1_status, id);
CREATE INDEX ar_requests_version ON ar_requests (api_version, id);
CREATE INDEX ar_requests_for ON ar_requests (requested_for, id);
CREATE INDEX ar_requests_due ON ar_requests (due_at);

CREATE TABLE ar_tasks (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    status TEXT NOT NULL,
    task_type TEXT NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX ar_tasks_request ON ar_tasks (request_id);
CREATE INDEX ar_tasks_status ON ar_tasks (status, id);

CREATE TABLE ar_task_assignees (
    user_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    PRIMARY KEY (user_id, task_id)
);
CREATE INDEX ar_task_assignees_task ON ar_task_assignees (task_id);

CREATE TABLE ar_request_types (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    created BIGINT NOT NULL,
    body TEXT NOT NULL
);

CREATE TABLE ar_teams (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    body TEXT NOT NULL
);

CREATE TABLE ar_messages (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    created BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX ar_messages_request ON ar_messages (request_id, created)

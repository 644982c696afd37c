-- Workflows: imported flows, their runs and the runs' card steps (see docs/workflows.md).
-- A flow row holds a flopack with the flow, its helper flows and connection placeholders, so a
-- run needs nothing else. `active`, `save_history`: 0 or 1. `next_fire`: when a scheduled flow
-- that is on fires next (epoch ms).
CREATE TABLE flows (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    folder TEXT,
    kind TEXT NOT NULL,
    active BIGINT NOT NULL,
    save_history BIGINT NOT NULL,
    flopack TEXT NOT NULL,
    client_token_hash TEXT,
    next_fire BIGINT,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL
);
-- A run: QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED. A worker claims it (claimed_by,
-- lease_until, attempts counts claims and fences a worker whose lease another took over),
-- `state` is the interpreter's state after the last finished card, `run_after` delays a retry.
CREATE TABLE flow_runs (
    id TEXT PRIMARY KEY,
    flow_id TEXT NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    input TEXT NOT NULL,
    output TEXT,
    error TEXT,
    attempts BIGINT NOT NULL,
    claimed_by TEXT,
    lease_until BIGINT,
    run_after BIGINT NOT NULL,
    steps BIGINT NOT NULL,
    state TEXT,
    created BIGINT NOT NULL,
    started BIGINT,
    finished BIGINT
);
CREATE INDEX flow_runs_ready ON flow_runs (status, run_after);
CREATE INDEX flow_runs_by_flow ON flow_runs (flow_id, created);
CREATE INDEX flow_runs_by_created ON flow_runs (created);
-- One card that ran. inputs/outputs only when the flow saves history.
CREATE TABLE flow_steps (
    run_id TEXT NOT NULL REFERENCES flow_runs (id) ON DELETE CASCADE,
    idx BIGINT NOT NULL,
    card TEXT NOT NULL,
    name TEXT NOT NULL,
    card_key TEXT NOT NULL,
    block TEXT NOT NULL,
    depth BIGINT NOT NULL,
    status TEXT NOT NULL,
    started BIGINT NOT NULL,
    duration_us BIGINT NOT NULL,
    inputs TEXT,
    outputs TEXT,
    error TEXT,
    PRIMARY KEY (run_id, idx)
)

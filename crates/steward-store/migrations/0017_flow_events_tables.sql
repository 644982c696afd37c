-- Event-triggered flows: one cursor per event flow that is on (docs/workflows.md "Event
-- triggers"). `event_type` is the System Log type its trigger card listens to, `last_seq` the
-- highest outbox seq it has looked at, `gaps` (JSON {"seq": first skipped at, epoch ms}) the
-- seqs below it not committed yet when it looked (PostgreSQL takes seq at insert). The cursor
-- moves in the transaction that queues the runs, under a row lock.
CREATE TABLE flow_event_cursors (
    flow_id TEXT PRIMARY KEY REFERENCES flows (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    last_seq BIGINT NOT NULL,
    gaps TEXT NOT NULL,
    updated BIGINT NOT NULL
);
-- Workflows Tables (module `stash`): a table's columns are its flopack `structure` (JSON
-- [{name, type, default}]), rows are JSON objects keyed by column name.
CREATE TABLE flow_tables (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    folder TEXT,
    structure TEXT NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL
);
CREATE TABLE flow_table_rows (
    id TEXT PRIMARY KEY,
    table_id TEXT NOT NULL REFERENCES flow_tables (id) ON DELETE CASCADE,
    cells TEXT NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL
);
CREATE INDEX flow_table_rows_by_table ON flow_table_rows (table_id, id)

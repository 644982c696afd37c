-- Domain events, written in the transaction of the change they describe (see docs/events.md).
-- `seq` grows with every insert. On PostgreSQL it is taken at insert, not at commit, so readers
-- allow for a lower seq appearing late. `occurred_at` is epoch ms of the writing node's clock.
CREATE TABLE outbox (
    seq {serial},
    occurred_at BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL
);
-- Retention prunes by age.
CREATE INDEX outbox_occurred_at ON outbox (occurred_at)

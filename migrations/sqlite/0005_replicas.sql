-- Kept in step with ../postgres/0005_replicas.sql.
-- Several replicas on one database (PostgreSQL): the work that must happen
-- once runs on the replica that holds its lease (src/server/lease.rs).
-- expires_at is in milliseconds of the DATABASE's clock, so the replicas'
-- own clocks never decide who holds it.
CREATE TABLE leases (
    name       TEXT    PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

-- The rotation alarm last announced on the webhook, per secret ARN (no row:
-- none). A change is announced by the replica whose compare-and-set on this
-- row succeeds, in the same transaction that queues its message, so a
-- takeover neither repeats nor drops a transition. The row with arn '' marks
-- that the start summary was said.
CREATE TABLE alert_state (
    arn   TEXT NOT NULL PRIMARY KEY,
    alarm TEXT NOT NULL
) STRICT;

-- Webhook messages, recorded before they are posted and marked when
-- posted (or given up on): the lease holder posts the pending ones in
-- order, so one recorded by a replica that died is posted by the next.
-- dedupe: a key that makes a message once-only across replicas and
-- restarts (a new reader of a secret); NULL for the others.
CREATE TABLE alert_outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe      TEXT    UNIQUE,
    about       TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'pending',
    done_at     INTEGER
) STRICT;

CREATE INDEX alert_outbox_by_state ON alert_outbox (state, id);

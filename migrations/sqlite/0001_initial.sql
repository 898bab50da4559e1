-- secretscope store, SQLite. Kept in step with ../postgres/0001_initial.sql:
-- the same tables, columns and constraints, so one set of queries serves both.
-- Timestamps are INTEGER unix seconds; booleans are INTEGER 0/1 (sqlx's Any
-- driver reads both backends' integers alike, but not SQLite "BOOLEAN").
-- STRICT makes SQLite reject a value of the wrong type, as PostgreSQL does.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    -- BINARY (byte) order, the same as PostgreSQL's COLLATE "C" below.
    name          TEXT    NOT NULL UNIQUE,
    password_hash TEXT,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE grants (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT    NOT NULL,
    scope   TEXT    NOT NULL,
    UNIQUE (user_id, role, scope)
) STRICT;

-- Append-only: the store has no UPDATE or DELETE for it.
CREATE TABLE audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    client      TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    -- target folded to lower case by the store (Unicode, in Rust), for the
    -- case-insensitive substring filter: SQLite's lower() and LIKE fold ASCII only.
    target_fold TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    detail      TEXT    NOT NULL,
    request_id  TEXT    NOT NULL
) STRICT;

CREATE INDEX audit_at ON audit (at, id);
CREATE INDEX audit_actor ON audit (actor);
CREATE INDEX audit_action ON audit (action);

-- tower-sessions records: data is the record's data as JSON.
CREATE TABLE sessions (
    id     TEXT    PRIMARY KEY NOT NULL,
    data   TEXT    NOT NULL,
    expiry INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_expiry ON sessions (expiry);

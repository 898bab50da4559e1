-- Access requests. Kept in step with ../postgres/0002_access_requests.sql.
-- approvers is a JSON array of user names; timestamps are unix seconds.
CREATE TABLE access_requests (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    secret        TEXT    NOT NULL,
    secret_arn    TEXT    NOT NULL,
    principal     TEXT    NOT NULL,
    justification TEXT    NOT NULL,
    requested_by  TEXT    NOT NULL,
    requested_at  INTEGER NOT NULL,
    duration_secs INTEGER NOT NULL,
    status        TEXT    NOT NULL,
    owner         TEXT    NOT NULL,
    approvers     TEXT    NOT NULL,
    decided_by    TEXT,
    decided_at    INTEGER,
    comment       TEXT,
    expires_at    INTEGER
) STRICT;

-- One pending request per secret and principal: duplicates merge into it.
CREATE UNIQUE INDEX access_requests_one_pending
    ON access_requests (secret_arn, principal) WHERE status = 'pending';
-- access_requests lists newest first, filtered by requester, status or
-- secret; due_grants reads the active ones by expiry.
CREATE INDEX access_requests_at ON access_requests (requested_at, id);
CREATE INDEX access_requests_by ON access_requests (requested_by, requested_at, id);
CREATE INDEX access_requests_status ON access_requests (status, expires_at);
CREATE INDEX access_requests_secret ON access_requests (secret_arn, requested_at, id);

-- Kept in step with ../postgres/0004_hardening.sql.
-- Sessions are now stored under the SHA-256 of their id (the cookie holds
-- the id itself): a copy of this table no longer signs anyone in. Rows
-- written under the raw id are removed; their users sign in again.
DELETE FROM sessions;

-- Everyone who asked for a request, as a JSON array of user names, the first
-- requester included: a merge adds the new asker, and nobody who asked may
-- decide. Rows from before carry their requester only.
ALTER TABLE access_requests ADD COLUMN askers TEXT NOT NULL DEFAULT '[]';
UPDATE access_requests SET askers = json_array(requested_by);

-- Single sign-on users are known by their provider's issuer and subject (the
-- ID token's iss and sub), which never change and no one else can claim,
-- not by a name or an e-mail address that may be reassigned or unverified.
CREATE TABLE sso_identities (
    issuer  TEXT    NOT NULL,
    subject TEXT    NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (issuer, subject)
) STRICT;

CREATE INDEX sso_identities_by_user ON sso_identities (user_id);

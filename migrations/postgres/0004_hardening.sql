-- Kept in step with ../sqlite/0004_hardening.sql.
-- Sessions are now stored under the SHA-256 of their id (the cookie holds
-- the id itself): a copy of this table no longer signs anyone in. Rows
-- written under the raw id are removed; their users sign in again.
DELETE FROM sessions;

-- Everyone who asked for a request, as a JSON array of user names, the first
-- requester included: a merge adds the new asker, and nobody who asked may
-- decide. Rows from before carry their requester only.
ALTER TABLE access_requests ADD COLUMN askers TEXT NOT NULL DEFAULT '[]';
UPDATE access_requests SET askers = json_build_array(requested_by)::text;

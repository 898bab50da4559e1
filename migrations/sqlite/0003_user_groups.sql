-- The groups a single sign-on user was in at their last sign-in (the
-- provider's group claim). Kept in step with ../postgres/0003_user_groups.sql.
CREATE TABLE user_groups (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    grp     TEXT    NOT NULL,
    PRIMARY KEY (user_id, grp)
) STRICT;

CREATE INDEX user_groups_by_group ON user_groups (grp);

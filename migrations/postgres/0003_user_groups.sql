-- The groups a single sign-on user was in at their last sign-in (the
-- provider's group claim). Kept in step with ../sqlite/0003_user_groups.sql.
CREATE TABLE user_groups (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    grp     TEXT   NOT NULL,
    PRIMARY KEY (user_id, grp)
);

CREATE INDEX user_groups_by_group ON user_groups (grp);

//! Users and their grants (roles on scopes).

use super::{corrupt, is_foreign_key_violation, is_unique_violation, Store, StoreError};
use crate::domain::access::{Grant, Role, Scope};
use crate::domain::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::fmt;

/// A dashboard user. `Debug` never shows the password hash.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub name: String,
    /// An argon2id PHC string; None for a user who cannot log in with a
    /// password (not set yet).
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("name", &self.name)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<redacted>"),
            )
            .field("disabled", &self.disabled)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// A grant as stored: its id is what removes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredGrant {
    pub id: i64,
    pub grant: Grant,
}

const USER_COLUMNS: &str = "id, name, password_hash, disabled, created_at, updated_at";

fn user_from_row(row: &AnyRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        password_hash: row.try_get(2)?,
        disabled: row.try_get::<i64, _>(3)? != 0,
        created_at: Timestamp::new(row.try_get(4)?),
        updated_at: Timestamp::new(row.try_get(5)?),
    })
}

fn missing_user(id: i64) -> StoreError {
    StoreError::NotFound(format!("user {id}"))
}

impl Store {
    /// Creates a user, enabled. Names are case-sensitive and taken as given
    /// (the caller trims and validates them); a name already taken is
    /// [`StoreError::Conflict`].
    pub async fn create_user(
        &self,
        name: &str,
        password_hash: Option<&str>,
        now: Timestamp,
    ) -> Result<User, StoreError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (name, password_hash, disabled, created_at, updated_at) \
             VALUES ($1, $2, 0, $3, $4) RETURNING id",
        )
        .bind(name)
        .bind(password_hash)
        .bind(now.secs())
        .bind(now.secs())
        .fetch_one(self.pool())
        .await
        .map_err(|e| match e {
            e if is_unique_violation(&e) => StoreError::Conflict(format!("user {name:?}")),
            e => StoreError::Db(e),
        })?;
        Ok(User {
            id,
            name: name.to_string(),
            password_hash: password_hash.map(str::to_string),
            disabled: false,
            created_at: now,
            updated_at: now,
        })
    }

    pub async fn user_by_name(&self, name: &str) -> Result<Option<User>, StoreError> {
        self.user_where("name", name.to_string()).await
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        self.user_where("id", id).await
    }

    /// The user a single sign-on identity (the ID token's `iss`, `sub`) is
    /// linked to.
    pub async fn user_by_identity(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<User>, StoreError> {
        let sql = format!(
            "SELECT {} FROM users WHERE id = \
             (SELECT user_id FROM sso_identities WHERE issuer = $1 AND subject = $2)",
            USER_COLUMNS
        );
        let row = sqlx::query(&sql)
            .bind(issuer.to_string())
            .bind(subject.to_string())
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    /// Links an identity to user `user_id`; Conflict if it is linked already.
    pub async fn link_identity(
        &self,
        issuer: &str,
        subject: &str,
        user_id: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO sso_identities (issuer, subject, user_id) VALUES ($1, $2, $3)")
            .bind(issuer.to_string())
            .bind(subject.to_string())
            .bind(user_id)
            .execute(self.pool())
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(
                    format!("the identity {subject} of {issuer} is linked already"),
                ),
                e => e.into(),
            })?;
        Ok(())
    }

    /// How many identities are linked to user `user_id`.
    pub async fn identities_of(&self, user_id: i64) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sso_identities WHERE user_id = $1")
                .bind(user_id)
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// The user whose `column` (a unique one) is `value`.
    async fn user_where<T>(
        &self,
        column: &'static str,
        value: T,
    ) -> Result<Option<User>, StoreError>
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + 'static,
    {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = $1");
        let row = sqlx::query(&sql)
            .bind(value)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    /// Every user, by name in byte order (`Bob` before `alice`) on both
    /// backends.
    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY name");
        let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
        Ok(rows.iter().map(user_from_row).collect::<Result<_, _>>()?)
    }

    pub async fn count_users(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(self.pool())
            .await?)
    }

    pub async fn set_password(
        &self,
        id: i64,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.update_user(id, "password_hash", password_hash.to_string(), now)
            .await
    }

    pub async fn set_disabled(
        &self,
        id: i64,
        disabled: bool,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.update_user(id, "disabled", i32::from(disabled), now)
            .await
    }

    /// Sets one column of user `id` and its `updated_at`; NotFound if there
    /// is no such user.
    async fn update_user<T>(
        &self,
        id: i64,
        column: &'static str,
        value: T,
        now: Timestamp,
    ) -> Result<(), StoreError>
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + 'static,
    {
        let sql = format!("UPDATE users SET {column} = $1, updated_at = $2 WHERE id = $3");
        let done = sqlx::query(&sql)
            .bind(value)
            .bind(now.secs())
            .bind(id)
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(missing_user(id));
        }
        Ok(())
    }

    /// Grants `grant` to the user and returns its id; granting the same role
    /// on the same scope again returns the existing id. A missing user is
    /// [`StoreError::NotFound`].
    pub async fn add_grant(&self, user_id: i64, grant: &Grant) -> Result<i64, StoreError> {
        let role = grant.role.as_str();
        let scope = grant.scope.to_string();
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO grants (user_id, role, scope) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, role, scope) DO NOTHING RETURNING id",
        )
        .bind(user_id)
        .bind(role)
        .bind(&scope)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| match e {
            e if is_foreign_key_violation(&e) => missing_user(user_id),
            e => StoreError::Db(e),
        })?;
        if let Some(id) = inserted {
            return Ok(id);
        }
        let existing: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM grants WHERE user_id = $1 AND role = $2 AND scope = $3",
        )
        .bind(user_id)
        .bind(role)
        .bind(&scope)
        .fetch_optional(self.pool())
        .await?;
        // Gone between the two statements: removed concurrently.
        existing.ok_or_else(|| StoreError::NotFound(format!("grant {grant} of user {user_id}")))
    }

    /// Removes a grant; false if there was none with that id.
    pub async fn remove_grant(&self, grant_id: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM grants WHERE id = $1")
            .bind(grant_id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The user's grants, oldest first.
    pub async fn grants_of(&self, user_id: i64) -> Result<Vec<StoredGrant>, StoreError> {
        let rows = sqlx::query("SELECT id, role, scope FROM grants WHERE user_id = $1 ORDER BY id")
            .bind(user_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                let id: i64 = row.try_get(0)?;
                let role: String = row.try_get(1)?;
                let scope: String = row.try_get(2)?;
                let role = Role::parse(&role).map_err(|e| corrupt(format!("grant {id}: {e}")))?;
                let scope =
                    Scope::parse(&scope).map_err(|e| corrupt(format!("grant {id}: {e}")))?;
                Ok(StoredGrant {
                    id,
                    grant: Grant::new(role, scope),
                })
            })
            .collect()
    }
}

impl Store {
    /// Replaces the groups of user `user_id` with `groups` (their single
    /// sign-on group claim), in one transaction.
    pub async fn set_groups(&self, user_id: i64, groups: &[String]) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM user_groups WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let mut seen: Vec<&str> = Vec::new();
        for g in groups.iter().map(String::as_str) {
            if seen.contains(&g) {
                continue;
            }
            seen.push(g);
            sqlx::query("INSERT INTO user_groups (user_id, grp) VALUES ($1, $2)")
                .bind(user_id)
                .bind(g)
                .execute(&mut *tx)
                .await
                .map_err(|e| match e {
                    e if is_foreign_key_violation(&e) => missing_user(user_id),
                    e => StoreError::Db(e),
                })?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The groups of user `user_id`, sorted.
    pub async fn groups_of(&self, user_id: i64) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT grp FROM user_groups WHERE user_id = $1 ORDER BY grp")
            .bind(user_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(StoreError::Db))
            .collect()
    }

    /// The names of the enabled users in `group`, sorted.
    pub async fn users_in_group(&self, group: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.name FROM users u JOIN user_groups g ON g.user_id = u.id \
             WHERE g.grp = $1 AND u.disabled = 0 ORDER BY u.name",
        )
        .bind(group)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(StoreError::Db))
            .collect()
    }
}

//! tower-sessions records in the store's `sessions` table, so that sessions
//! survive a restart and are shared by replicas on PostgreSQL.

use super::Store;
use async_trait::async_trait;
use sqlx::Row;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

/// A [`SessionStore`] over [`Store`]: a row per session, its data as JSON,
/// its expiry in unix seconds (sub-second precision is dropped). A row is
/// keyed by the SHA-256 of the session id, never the id itself: the cookie
/// holds the id, so a copy of the table (a backup, a leaked file) signs
/// nobody in.
#[derive(Clone, Debug)]
pub struct SqlSessionStore(pub Store);

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

/// The key a session is stored under: the hex SHA-256 of its id.
pub(crate) fn key(id: &Id) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(id.to_string().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn now_secs() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

impl SqlSessionStore {
    /// Inserts `record`; on an id already in the table, does `on_conflict`
    /// (`DO NOTHING` or `DO UPDATE …`). Returns the rows written.
    async fn write(&self, record: &Record, on_conflict: &str) -> session_store::Result<u64> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let sql = format!(
            "INSERT INTO sessions (id, data, expiry) VALUES ($1, $2, $3) \
             ON CONFLICT (id) {on_conflict}"
        );
        let done = sqlx::query(&sql)
            .bind(key(&record.id))
            .bind(data)
            .bind(record.expiry_date.unix_timestamp())
            .execute(self.0.pool())
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }
}

impl Store {
    /// Deletes every session of user `uid` (after a password change). A
    /// session's data is its JSON map, whose `uid` entry names the user.
    pub async fn delete_sessions_of(&self, uid: i64) -> Result<u64, super::StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE data LIKE $1 OR data LIKE $2")
            .bind(format!("%\"uid\":{uid},%"))
            .bind(format!("%\"uid\":{uid}}}%"))
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl SessionStore for SqlSessionStore {
    /// Stores a new session; on an id already in use (by any session,
    /// expired or not) it draws new ids until one is free, never
    /// overwriting the other session.
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        while self.write(record, "DO NOTHING").await? == 0 {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.write(
            record,
            "DO UPDATE SET data = excluded.data, expiry = excluded.expiry",
        )
        .await?;
        Ok(())
    }

    /// The session, unless it is missing or expired.
    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let row = sqlx::query("SELECT data, expiry FROM sessions WHERE id = $1 AND expiry > $2")
            .bind(key(session_id))
            .bind(now_secs())
            .fetch_optional(self.0.pool())
            .await
            .map_err(backend)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let data: String = row.try_get(0).map_err(backend)?;
        let expiry: i64 = row.try_get(1).map_err(backend)?;
        Ok(Some(Record {
            id: *session_id,
            data: serde_json::from_str(&data)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?,
            expiry_date: OffsetDateTime::from_unix_timestamp(expiry)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?,
        }))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(key(session_id))
            .execute(self.0.pool())
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for SqlSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE expiry <= $1")
            .bind(now_secs())
            .execute(self.0.pool())
            .await
            .map_err(backend)?;
        Ok(())
    }
}

//! Leases: who runs the work that must happen once (see
//! `crate::server::lease`). One row per lease; its expiry is in
//! milliseconds of the database's own clock, read in the same statement
//! that compares it, so the replicas' clocks never decide who holds it.

use super::{Backend, Store, StoreError};
use sqlx::Row;

/// The database's clock in unix milliseconds, as SQL. The one place the
/// two backends need different text: SQLite has no `clock_timestamp()`,
/// PostgreSQL no `julianday()`.
fn now_ms(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
        Backend::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
    }
}

/// Who holds a lease, as the database sees it now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseHolder {
    pub holder: String,
    /// Milliseconds until it expires (negative: expired, free to take).
    pub remaining_ms: i64,
}

impl Store {
    /// Takes lease `name` for `holder` for `ttl_ms` from now (the
    /// database's now), or extends it when `holder` has it already. One
    /// statement, atomic on both backends: inserts the row, or takes it
    /// over only when it is `holder`'s or expired. True when `holder` has
    /// it now.
    pub async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl_ms: i64,
    ) -> Result<bool, StoreError> {
        let now = now_ms(self.backend);
        let row = sqlx::query(&format!(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, {now} + $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at <= {now} \
             RETURNING holder"
        ))
        .bind(name)
        .bind(holder)
        .bind(ttl_ms.max(0))
        .fetch_optional(self.pool())
        .await?;
        Ok(row.is_some())
    }

    /// Gives lease `name` up if `holder` has it (a clean shutdown): the
    /// next replica takes it at its next try instead of after the expiry.
    /// True when it was `holder`'s.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Who has lease `name` (expired or not); None when nobody took it or
    /// it was released.
    pub async fn lease_holder(&self, name: &str) -> Result<Option<LeaseHolder>, StoreError> {
        let now = now_ms(self.backend);
        let row = sqlx::query(&format!(
            "SELECT holder, expires_at - {now} FROM leases WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(LeaseHolder {
                holder: r.try_get(0)?,
                remaining_ms: r.try_get(1)?,
            })
        })
        .transpose()
    }
}

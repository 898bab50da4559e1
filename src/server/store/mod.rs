//! The persistent store: users, grants, the audit trail and sessions.
//!
//! A SQLite file by default (created on first run), PostgreSQL when the URL
//! says so. Both go through sqlx's `Any` driver, so every query below is one
//! SQL text (`$1` placeholders, `RETURNING`, `ON CONFLICT`: both backends
//! speak them) and one implementation; the migrations in `migrations/sqlite`
//! and `migrations/postgres` keep the two schemas alike, and the contract
//! suite in `tests/` runs every behaviour on both, each as its own test.
//!
//! Values cross the `Any` driver as integers and text only: timestamps are
//! unix seconds, booleans 0/1, roles, scopes, actions and outcomes their text
//! forms from `domain`.

mod audit;
mod lease;
mod outbox;
mod requests;
pub(crate) mod sessions;
#[cfg(test)]
mod tests;
mod users;

pub use audit::{AuditFilter, AuditPage, AuditRecord, AUDIT_PAGE_MAX};
pub use lease::LeaseHolder;
pub use outbox::{AlarmChange, Announced, NewMessage, OutboxRow};
pub use requests::{RequestChange, RequestFilter};
pub use sessions::SqlSessionStore;
pub use users::{StoredGrant, User};

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{AnyConnection, AnyPool, Executor};
use std::borrow::Cow;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

/// The database behind a [`Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value taken twice (a user name).
    #[error("{0} already exists")]
    Conflict(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// The database URL or file cannot be used; the message says why and
    /// what would work.
    #[error("{0}")]
    Config(String),
    /// Parameters are bound, never formatted into SQL, and the databases do
    /// not echo them in their messages: a password hash never appears here.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// A handle on the database; cloning it is cheap (the pool is shared).
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// The URL forms [`Store::open`] accepts, for its error messages.
const ACCEPTED: &str = "use sqlite://PATH (a file, created if missing), sqlite::memory: \
                        or postgres://USER@HOST:PORT/DATABASE";

/// How long SQLite waits for another connection's write lock before it
/// reports the database busy.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

impl Store {
    /// Opens the database at `url` and brings its schema up to date.
    ///
    /// - `sqlite://PATH` or `sqlite:PATH`: a file, created (with its parent
    ///   directories) if missing; WAL journal, foreign keys on, a busy
    ///   timeout. PATH is taken literally (no percent-decoding, no query
    ///   parameters).
    /// - `sqlite::memory:`: a private in-memory database on a single
    ///   connection (for tests).
    /// - `postgres://…` or `postgresql://…`: passed to sqlx as it is.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (pool, backend) = match Target::parse(url)? {
            Target::SqliteFile(path) => {
                let url = sqlite_file_url(&path)?;
                let pool = sqlite_pool_options(4).connect(&url).await?;
                // Persistent in the file: readers no longer wait for a writer.
                pool.execute("PRAGMA journal_mode = WAL").await?;
                (pool, Backend::Sqlite)
            }
            Target::SqliteMemory => {
                // Every new connection to "sqlite::memory:" is a new, empty
                // database: keep exactly one, for ever.
                let pool = sqlite_pool_options(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect("sqlite::memory:")
                    .await?;
                (pool, Backend::Sqlite)
            }
            Target::Postgres(url) => {
                let pool = AnyPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await?;
                (pool, Backend::Postgres)
            }
        };
        migrator(backend).await?.run(&pool).await?;
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A cheap round trip (`SELECT 1`), for readiness and for tests.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.pool.execute("SELECT 1").await?;
        Ok(())
    }

    /// Closes every connection; later calls fail. For shutdown and tests.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Makes the audit table refuse every insert (SQLite only), as a full
    /// disk or a revoked grant would: for the tests that an action whose
    /// record cannot be written does not run.
    #[cfg(test)]
    pub(crate) async fn break_audit_writes(&self) {
        sqlx::query(
            "CREATE TRIGGER audit_unwritable BEFORE INSERT ON audit \
             BEGIN SELECT RAISE(ABORT, 'audit is not writable'); END",
        )
        .execute(self.pool())
        .await
        .unwrap();
    }
}

/// What a database URL names.
#[derive(Debug, PartialEq)]
enum Target<'a> {
    SqliteFile(PathBuf),
    SqliteMemory,
    Postgres(&'a str),
}

impl<'a> Target<'a> {
    fn parse(url: &'a str) -> Result<Target<'a>, StoreError> {
        let url = url.trim();
        if matches!(url, "sqlite::memory:" | "sqlite://:memory:") {
            return Ok(Target::SqliteMemory);
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Target::Postgres(url));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(StoreError::Config(format!(
                    "the database URL {url:?} names no file: {ACCEPTED}"
                )));
            }
            if path.contains('?') {
                return Err(StoreError::Config(format!(
                    "the database URL {url:?} has query parameters; the store sets its own \
                     (WAL, foreign keys, busy timeout): {ACCEPTED}"
                )));
            }
            return Ok(Target::SqliteFile(PathBuf::from(path)));
        }
        // Only the scheme: the rest may hold a password.
        let scheme = url.split_once(':').map_or("(none)", |(s, _)| s);
        Err(StoreError::Config(format!(
            "unsupported database URL scheme {scheme:?}: {ACCEPTED}"
        )))
    }
}

fn sqlite_pool_options(connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(|conn: &mut AnyConnection, _| {
            Box::pin(async move {
                // sqlx's SQLite defaults say the same; set here so the store's
                // guarantees do not hang on a library default.
                conn.execute("PRAGMA foreign_keys = ON").await?;
                conn.execute(&*format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"))
                    .await?;
                Ok(())
            })
        })
}

/// Creates `path`'s directory if needed and returns the sqlx URL of the file
/// (absolute, percent-encoded, `mode=rwc` so that the file is created).
/// [`crate::domain::links::path`] escapes every byte but unreserved ones and
/// `/`, so that the URL parser and sqlx (which percent-decodes the path)
/// give back exactly `path`.
fn sqlite_file_url(path: &Path) -> Result<String, StoreError> {
    let cannot = |what: &str, e: &dyn std::fmt::Display| {
        StoreError::Config(format!(
            "cannot use the SQLite file {}: {what}: {e}",
            path.display()
        ))
    };
    let Some(file) = path.file_name() else {
        return Err(StoreError::Config(format!(
            "the SQLite path {} names no file: {ACCEPTED}",
            path.display()
        )));
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| cannot("cannot create its directory", &e))?;
    let dir = std::fs::canonicalize(dir).map_err(|e| cannot("cannot resolve its directory", &e))?;
    let full = dir.join(file);
    owner_only(&full).map_err(|e| cannot("cannot make it readable by its owner only", &e))?;
    let Some(full) = full.to_str() else {
        return Err(StoreError::Config(format!(
            "the SQLite path {} is not UTF-8",
            path.display()
        )));
    };
    Ok(format!(
        "sqlite://{}?mode=rwc",
        crate::domain::links::path(full)
    ))
}

/// Creates the store file readable and writable by its owner only (0600),
/// or takes group and other permissions off an existing one: it holds
/// users, password hashes, sessions and the audit trail. SQLite gives its
/// `-wal` and `-shm` files the same permissions.
fn owner_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    let mode = file.metadata()?.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(
            "the store {} was readable by others (mode {:o}); it is now 0600",
            path.display(),
            mode & 0o777
        );
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// `futures_core::future::BoxFuture`, which [`MigrationSource`] returns.
type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The migrations of each backend, embedded in the binary. A file added to
/// `migrations/` must be listed here too (a test checks the lists against
/// the folders).
const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../../migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "access_requests",
        include_str!("../../../migrations/sqlite/0002_access_requests.sql"),
    ),
    (
        3,
        "user_groups",
        include_str!("../../../migrations/sqlite/0003_user_groups.sql"),
    ),
    (
        4,
        "hardening",
        include_str!("../../../migrations/sqlite/0004_hardening.sql"),
    ),
    (
        5,
        "replicas",
        include_str!("../../../migrations/sqlite/0005_replicas.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "access_requests",
        include_str!("../../../migrations/postgres/0002_access_requests.sql"),
    ),
    (
        3,
        "user_groups",
        include_str!("../../../migrations/postgres/0003_user_groups.sql"),
    ),
    (
        4,
        "hardening",
        include_str!("../../../migrations/postgres/0004_hardening.sql"),
    ),
    (
        5,
        "replicas",
        include_str!("../../../migrations/postgres/0005_replicas.sql"),
    ),
];

/// A [`MigrationSource`] over embedded SQL, so no `migrations/` folder is
/// needed at run time and no sqlx macros at build time.
#[derive(Debug)]
struct Embedded(&'static [(i64, &'static str, &'static str)]);

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

async fn migrator(backend: Backend) -> Result<Migrator, StoreError> {
    let set = match backend {
        Backend::Sqlite => SQLITE_MIGRATIONS,
        Backend::Postgres => POSTGRES_MIGRATIONS,
    };
    Ok(Migrator::new(Embedded(set)).await?)
}

/// Whether `e` is the database refusing a duplicate unique value.
fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Whether `e` is the database refusing a reference to a missing row.
fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_foreign_key_violation())
}

/// A row whose stored text no longer parses (an unknown role, action…).
fn corrupt(what: String) -> StoreError {
    StoreError::Db(sqlx::Error::Decode(what.into()))
}

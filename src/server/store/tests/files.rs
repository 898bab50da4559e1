//! Opening: URLs, SQLite files and their permissions, migrations.

use super::*;
use sqlx::Row;

pub(super) async fn opening_twice_migrates_once(fixture: &Fixture) {
    let s = &fixture.store;
    let alice = s.create_user("alice", None, t(0)).await.unwrap();
    let again = Store::open(&fixture.url).await.expect("reopen");
    again.ping().await.unwrap();
    assert_eq!(again.backend(), s.backend());
    assert_eq!(
        again.user_by_name("alice").await.unwrap(),
        Some(alice),
        "data kept"
    );
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(again.pool())
        .await
        .unwrap();
    assert_eq!(applied, SQLITE_MIGRATIONS.len() as i64);
    again.close().await;
}

/// Issue 19, finding 7: the demo's store was mode 644, readable by every
/// local user, with usable session ids in it.
#[tokio::test]
async fn store_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let fresh = dir.path().join("fresh.db");
    let store = Store::open(&format!("sqlite://{}", fresh.display()))
        .await
        .unwrap();
    store.ping().await.unwrap();
    assert_eq!(mode(&fresh), 0o600);
    for side in ["fresh.db-wal", "fresh.db-shm"] {
        let p = dir.path().join(side);
        if p.exists() {
            assert_eq!(mode(&p) & 0o077, 0, "{side}");
        }
    }
    // A file someone made world-readable is tightened when opened.
    let old = dir.path().join("old.db");
    std::fs::write(&old, b"").unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
    Store::open(&format!("sqlite://{}", old.display()))
        .await
        .unwrap();
    assert_eq!(mode(&old), 0o600);
}

#[tokio::test]
async fn unknown_schemes_name_the_accepted_forms() {
    for url in [
        "mysql://root:hunter2@localhost/db",
        "sqlite",
        "",
        "file:///tmp/x.db",
    ] {
        let err = Store::open(url).await.unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, StoreError::Config(_)), "{url}: {err:?}");
        assert!(msg.contains("sqlite://PATH"), "{msg}");
        assert!(msg.contains("postgres://"), "{msg}");
        assert!(!msg.contains("hunter2"), "no password in {msg}");
    }
    for url in ["sqlite://", "sqlite://x.db?mode=ro"] {
        let err = Store::open(url).await.unwrap_err();
        assert!(matches!(err, StoreError::Config(_)), "{url}: {err:?}");
    }
}

#[test]
fn urls_name_their_targets() {
    use std::path::PathBuf;
    assert_eq!(
        Target::parse("sqlite::memory:").unwrap(),
        Target::SqliteMemory
    );
    assert_eq!(
        Target::parse(" sqlite://data/store.db ").unwrap(),
        Target::SqliteFile(PathBuf::from("data/store.db"))
    );
    assert_eq!(
        Target::parse("sqlite:///var/lib/secretscope/store.db").unwrap(),
        Target::SqliteFile(PathBuf::from("/var/lib/secretscope/store.db"))
    );
    assert_eq!(
        Target::parse("sqlite:store.db").unwrap(),
        Target::SqliteFile(PathBuf::from("store.db"))
    );
    assert_eq!(
        Target::parse("postgresql://u@h/db").unwrap(),
        Target::Postgres("postgresql://u@h/db")
    );
}

#[tokio::test]
async fn sqlite_files_use_wal_and_odd_paths() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("a dir with spaces, #hash & 100%")
        .join("é.db");
    let store = Store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    assert!(path.is_file());
    let mode: String = sqlx::query("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query("PRAGMA foreign_keys")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(fk, 1);
    store.close().await;
}

#[tokio::test]
async fn memory_databases_are_one_database() {
    let s = Store::open("sqlite::memory:").await.unwrap();
    assert_eq!(s.backend(), Backend::Sqlite);
    // Several concurrent uses share the single connection, and its data.
    s.create_user("mem", None, t(0)).await.unwrap();
    let (a, b) = tokio::join!(s.user_by_name("mem"), s.count_users());
    assert!(a.unwrap().is_some());
    assert_eq!(b.unwrap(), 1);
    let other = Store::open("sqlite::memory:").await.unwrap();
    assert_eq!(
        other.count_users().await.unwrap(),
        0,
        "each open is its own"
    );
}

#[test]
fn embedded_migrations_list_every_file() {
    for (dir, list) in [
        ("migrations/sqlite", SQLITE_MIGRATIONS),
        ("migrations/postgres", POSTGRES_MIGRATIONS),
    ] {
        let mut files: Vec<String> =
            std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
        files.sort();
        let listed: Vec<String> = list
            .iter()
            .map(|(v, d, _)| format!("{v:04}_{d}.sql"))
            .collect();
        assert_eq!(files, listed, "{dir}");
    }
    assert_eq!(SQLITE_MIGRATIONS.len(), POSTGRES_MIGRATIONS.len());
}

//! Sessions: tower-sessions' `SessionStore` over the store.

use super::*;
use sqlx::Row;
use std::collections::HashMap;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{ExpiredDeletion, SessionStore};

pub(super) fn session(data: &[(&str, serde_json::Value)], expires_in: i64) -> Record {
    // Whole seconds: the store keeps expiry in unix seconds.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    Record {
        id: Id::default(),
        data: data
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<HashMap<_, _>>(),
        expiry_date: time::OffsetDateTime::from_unix_timestamp(now + expires_in).unwrap(),
    }
}

pub(super) async fn sessions_are_created_loaded_saved_and_deleted(s: &Store) {
    let sessions = SqlSessionStore(s.clone());
    let mut a = session(
        &[
            ("user_id", serde_json::json!(42)),
            ("csrf", serde_json::json!("'; DROP TABLE sessions; -- ☃")),
        ],
        3600,
    );
    let asked = a.id;
    sessions.create(&mut a).await.unwrap();
    assert_eq!(a.id, asked, "a free id is kept");
    assert_eq!(sessions.load(&a.id).await.unwrap(), Some(a.clone()));
    // At rest, the row is keyed by a hash: the id a cookie carries is not in
    // the table, so a copy of it signs nobody in.
    let stored = |id: String| async move {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sessions WHERE id = $1")
            .bind(id)
            .fetch_one(s.pool())
            .await
            .unwrap()
    };
    assert_eq!(
        stored(a.id.to_string()).await,
        0,
        "the raw id is not stored"
    );
    assert_eq!(stored(crate::server::store::sessions::key(&a.id)).await, 1);
    let all: Vec<String> = sqlx::query_scalar("SELECT id FROM sessions")
        .fetch_all(s.pool())
        .await
        .unwrap();
    assert!(
        all.iter().all(|k| k.len() == 64 && k != &a.id.to_string()),
        "{all:?}"
    );
    assert_eq!(sessions.load(&Id::default()).await.unwrap(), None);

    let mut changed = a.clone();
    changed
        .data
        .insert("user_id".into(), serde_json::json!({"nested": [1, 2]}));
    changed.expiry_date += time::Duration::hours(1);
    sessions.save(&changed).await.unwrap();
    assert_eq!(sessions.load(&a.id).await.unwrap(), Some(changed.clone()));

    // save also stores a session it has not seen.
    let fresh = session(&[], 60);
    sessions.save(&fresh).await.unwrap();
    assert_eq!(sessions.load(&fresh.id).await.unwrap(), Some(fresh.clone()));

    sessions.delete(&a.id).await.unwrap();
    assert_eq!(sessions.load(&a.id).await.unwrap(), None);
    sessions.delete(&a.id).await.unwrap(); // deleting twice is fine
    assert_eq!(sessions.load(&fresh.id).await.unwrap(), Some(fresh));
}

pub(super) async fn expired_sessions_are_not_loaded_and_are_deleted(s: &Store) {
    let sessions = SqlSessionStore(s.clone());
    let mut live = session(&[("k", serde_json::json!("live"))], 3600);
    let mut dead = session(&[("k", serde_json::json!("dead"))], -10);
    sessions.create(&mut live).await.unwrap();
    sessions.create(&mut dead).await.unwrap();
    assert_eq!(sessions.load(&dead.id).await.unwrap(), None, "expired");
    assert_eq!(sessions.load(&live.id).await.unwrap(), Some(live.clone()));
    let rows = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sessions")
            .fetch_one(s.pool())
            .await
            .unwrap()
    };
    assert_eq!(rows().await, 2, "still stored until deleted");
    sessions.delete_expired().await.unwrap();
    assert_eq!(rows().await, 1);
    assert_eq!(sessions.load(&live.id).await.unwrap(), Some(live));
}

pub(super) async fn session_id_collisions_do_not_overwrite(s: &Store) {
    let sessions = SqlSessionStore(s.clone());
    let mut first = session(&[("owner", serde_json::json!("first"))], 3600);
    sessions.create(&mut first).await.unwrap();
    let mut second = session(&[("owner", serde_json::json!("second"))], 3600);
    second.id = first.id;
    sessions.create(&mut second).await.unwrap();
    assert_ne!(second.id, first.id, "a new id was drawn");
    assert_eq!(sessions.load(&first.id).await.unwrap(), Some(first));
    assert_eq!(sessions.load(&second.id).await.unwrap(), Some(second));

    // An expired session's id is still taken until it is deleted.
    let mut dead = session(&[], -10);
    sessions.create(&mut dead).await.unwrap();
    let mut reuse = session(&[("owner", serde_json::json!("third"))], 3600);
    reuse.id = dead.id;
    sessions.create(&mut reuse).await.unwrap();
    assert_ne!(reuse.id, dead.id);
    let data: String = sqlx::query("SELECT data FROM sessions WHERE id = $1")
        .bind(crate::server::store::sessions::key(&dead.id))
        .fetch_one(s.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(data, "{}");
}

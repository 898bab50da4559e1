//! Users, their passwords, groups, SSO identities and grants.

use super::*;
use crate::domain::access::{Grant, Role, Scope};
use tower_sessions::session_store::SessionStore;

pub(super) async fn users_are_created_and_found(s: &Store) {
    s.ping().await.unwrap();
    assert_eq!(s.count_users().await.unwrap(), 0);
    assert_eq!(s.user_by_name("alice").await.unwrap(), None);
    let alice = s
        .create_user(
            "alice",
            Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"),
            t(5),
        )
        .await
        .unwrap();
    assert_eq!(alice.name, "alice");
    assert!(!alice.disabled);
    assert_eq!((alice.created_at, alice.updated_at), (t(5), t(5)));
    let bob = s.create_user("bob", None, t(6)).await.unwrap();
    assert_ne!(alice.id, bob.id);
    assert_eq!(s.user_by_name("alice").await.unwrap(), Some(alice.clone()));
    assert_eq!(s.user_by_id(alice.id).await.unwrap(), Some(alice.clone()));
    assert_eq!(s.user_by_id(bob.id).await.unwrap(), Some(bob.clone()));
    assert_eq!(bob.password_hash, None);
    assert_eq!(s.user_by_id(bob.id + alice.id + 100).await.unwrap(), None);
    assert_eq!(
        s.user_by_name("Alice").await.unwrap(),
        None,
        "case-sensitive"
    );
    assert_eq!(s.count_users().await.unwrap(), 2);
}

pub(super) async fn duplicate_user_names_conflict(s: &Store) {
    s.create_user("alice", Some("hash-one"), t(0))
        .await
        .unwrap();
    let err = s
        .create_user("alice", Some("hash-two"), t(1))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(err.to_string(), "user \"alice\" already exists");
    assert!(!format!("{err} {err:?}").contains("hash-two"));
    // Names are case-sensitive: another spelling is another user.
    s.create_user("Alice", None, t(2)).await.unwrap();
    assert_eq!(s.count_users().await.unwrap(), 2);
    let kept = s.user_by_name("alice").await.unwrap().unwrap();
    assert_eq!(kept.password_hash.as_deref(), Some("hash-one"));
}

pub(super) async fn users_are_listed_by_name_in_byte_order(s: &Store) {
    for name in ["zoe", "alice", "Émile", "Bob", "bob", "a b", "é"] {
        s.create_user(name, None, t(0)).await.unwrap();
    }
    let names: Vec<String> = s
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    let mut expected: Vec<String> = names.clone();
    expected.sort(); // Rust's str order is byte order.
    assert_eq!(names, expected);
    assert_eq!(names, ["Bob", "a b", "alice", "bob", "zoe", "Émile", "é"]);
    assert_eq!(s.count_users().await.unwrap(), 7);
}

pub(super) async fn user_groups_are_replaced_and_looked_up(s: &Store) {
    let ann = s.create_user("ann", None, t(0)).await.unwrap();
    let bob = s.create_user("bob", None, t(0)).await.unwrap();
    let groups = |g: &[&str]| g.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    s.set_groups(ann.id, &groups(&["secops", "payments-oncall", "secops"]))
        .await
        .unwrap();
    assert_eq!(
        s.groups_of(ann.id).await.unwrap(),
        ["payments-oncall", "secops"]
    );
    s.set_groups(bob.id, &groups(&["payments-oncall"]))
        .await
        .unwrap();
    assert_eq!(
        s.users_in_group("payments-oncall").await.unwrap(),
        ["ann", "bob"]
    );
    // A disabled user decides nothing; a replaced list drops old groups.
    s.set_disabled(bob.id, true, t(1)).await.unwrap();
    s.set_groups(ann.id, &groups(&["secops"])).await.unwrap();
    assert!(s
        .users_in_group("payments-oncall")
        .await
        .unwrap()
        .is_empty());
    assert_eq!(s.users_in_group("secops").await.unwrap(), ["ann"]);
    assert!(
        s.users_in_group("SecOps").await.unwrap().is_empty(),
        "exact names"
    );
    assert!(matches!(
        s.set_groups(ann.id + 1000, &groups(&["x"])).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(s.groups_of(ann.id).await.unwrap(), ["secops"], "unchanged");
}

pub(super) async fn sso_identities_link_once_and_find_their_user(s: &Store) {
    let alice = s.create_user("alice", None, t(1)).await.unwrap();
    let bob = s.create_user("bob", None, t(1)).await.unwrap();
    let iss = "https://idp.example.com";
    assert!(s.user_by_identity(iss, "sub-1").await.unwrap().is_none());
    s.link_identity(iss, "sub-1", alice.id).await.unwrap();
    assert_eq!(
        s.user_by_identity(iss, "sub-1")
            .await
            .unwrap()
            .map(|u| u.name),
        Some("alice".into())
    );
    // The same subject of another issuer is another identity.
    assert!(s
        .user_by_identity("https://other.example", "sub-1")
        .await
        .unwrap()
        .is_none());
    // An identity links to one user only.
    assert!(matches!(
        s.link_identity(iss, "sub-1", bob.id).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.identities_of(alice.id).await.unwrap(), 1);
    assert_eq!(s.identities_of(bob.id).await.unwrap(), 0);
}

pub(super) async fn a_password_change_can_end_a_users_sessions(s: &Store) {
    let sessions = SqlSessionStore(s.clone());
    let mut mine = session(
        &[("uid", serde_json::json!(7)), ("at", serde_json::json!(1))],
        3600,
    );
    let mut also_mine = session(
        &[("at", serde_json::json!(2)), ("uid", serde_json::json!(7))],
        3600,
    );
    let mut theirs = session(
        &[("uid", serde_json::json!(70)), ("at", serde_json::json!(1))],
        3600,
    );
    for r in [&mut mine, &mut also_mine, &mut theirs] {
        sessions.create(r).await.unwrap();
    }
    assert_eq!(s.delete_sessions_of(7).await.unwrap(), 2);
    assert_eq!(sessions.load(&mine.id).await.unwrap(), None);
    assert_eq!(sessions.load(&also_mine.id).await.unwrap(), None);
    assert_eq!(sessions.load(&theirs.id).await.unwrap(), Some(theirs));
}

pub(super) async fn users_can_be_disabled_and_given_passwords(s: &Store) {
    let u = s.create_user("carol", None, t(0)).await.unwrap();
    let other = s
        .create_user("dave", Some("dave-hash"), t(0))
        .await
        .unwrap();
    s.set_disabled(u.id, true, t(10)).await.unwrap();
    let got = s.user_by_id(u.id).await.unwrap().unwrap();
    assert!(got.disabled);
    assert_eq!((got.created_at, got.updated_at), (t(0), t(10)));
    s.set_disabled(u.id, false, t(11)).await.unwrap();
    assert!(!s.user_by_name("carol").await.unwrap().unwrap().disabled);

    s.set_password(u.id, "new-hash", t(20)).await.unwrap();
    let got = s.user_by_id(u.id).await.unwrap().unwrap();
    assert_eq!(got.password_hash.as_deref(), Some("new-hash"));
    assert_eq!(got.updated_at, t(20));
    // Only that user changed.
    assert_eq!(s.user_by_id(other.id).await.unwrap(), Some(other));

    let missing = u.id + 1000;
    assert!(matches!(
        s.set_disabled(missing, true, t(30)).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        s.set_password(missing, "x", t(30)).await,
        Err(StoreError::NotFound(_))
    ));
}

pub(super) async fn password_hashes_never_print(s: &Store) {
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$U0VDUkVU$c2VjcmV0LWhhc2g";
    let u = s.create_user("erin", Some(hash), t(0)).await.unwrap();
    for shown in [
        format!("{u:?}"),
        format!("{u:#?}"),
        format!("{:?}", s.user_by_name("erin").await.unwrap()),
        format!("{:?}", s.list_users().await.unwrap()),
    ] {
        assert!(!shown.contains(hash), "{shown}");
        assert!(!shown.contains("c2VjcmV0"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
    let none = s.create_user("frank", None, t(0)).await.unwrap();
    assert!(format!("{none:?}").contains("password_hash: None"));
    let err = s.create_user("erin", Some(hash), t(1)).await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains("c2VjcmV0"));
}

pub(super) async fn grants_are_idempotent_listed_and_removed(s: &Store) {
    let u = s.create_user("gina", None, t(0)).await.unwrap();
    let other = s.create_user("hal", None, t(0)).await.unwrap();
    let grants = [
        Grant::new(Role::Viewer, Scope::All),
        Grant::new(Role::Operator, Scope::Prefix("prod/payments/".into())),
        Grant::new(
            Role::Admin,
            Scope::Tag {
                key: "team".into(),
                value: "payments".into(),
            },
        ),
    ];
    let mut ids = Vec::new();
    for g in &grants {
        ids.push(s.add_grant(u.id, g).await.unwrap());
    }
    for (g, id) in grants.iter().zip(&ids) {
        assert_eq!(s.add_grant(u.id, g).await.unwrap(), *id, "idempotent");
    }
    // The same role on another scope, or another role on the same scope,
    // is another grant.
    let viewer_prod = Grant::new(Role::Viewer, Scope::Prefix("prod/payments/".into()));
    let extra = s.add_grant(u.id, &viewer_prod).await.unwrap();
    assert!(!ids.contains(&extra));
    let other_grant = s.add_grant(other.id, &grants[0]).await.unwrap();
    assert!(!ids.contains(&other_grant));

    let listed = s.grants_of(u.id).await.unwrap();
    let expected: Vec<StoredGrant> = ids
        .iter()
        .zip(&grants)
        .map(|(&id, g)| StoredGrant {
            id,
            grant: g.clone(),
        })
        .chain([StoredGrant {
            id: extra,
            grant: viewer_prod,
        }])
        .collect();
    assert_eq!(
        listed, expected,
        "all three scope forms round-trip, in order"
    );

    assert!(s.remove_grant(ids[1]).await.unwrap());
    assert!(!s.remove_grant(ids[1]).await.unwrap(), "already gone");
    let left: Vec<i64> = s
        .grants_of(u.id)
        .await
        .unwrap()
        .iter()
        .map(|g| g.id)
        .collect();
    assert_eq!(left, [ids[0], ids[2], extra]);
    assert_eq!(s.grants_of(other.id).await.unwrap().len(), 1);
    assert_eq!(s.grants_of(other.id + u.id + 100).await.unwrap(), []);
    // Granting to nobody is refused by the foreign key.
    let err = s
        .add_grant(other.id + u.id + 100, &grants[0])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

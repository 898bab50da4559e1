//! Sessions and scopes: an out-of-scope secret or request looks exactly
//! like a missing one, and a live session ends with its user, its grant,
//! its password and the clock.

use super::super::TestApp;

/// Low finding: an existing secret outside a user's scopes answered
/// differently from a missing one, and so did access requests. Out of
/// scope and missing must look the same.
#[tokio::test]
async fn out_of_scope_and_missing_look_the_same() {
    use crate::domain::links::query_value;
    use crate::server::auth::Principal;
    let s = TestApp::builder().build().await;
    let payments = s.signed_in("payments").await;
    let call = |f: &str, body: String| {
        let payments = payments.clone();
        let f = f.to_string();
        async move {
            let res = payments.post_form(&f, &body).await;
            (res.status, res.body)
        }
    };
    let missing = "prod/orders/no-such-secret-anywhere";
    for f in [
        "/api/get_secret",
        "/api/refresh_secret",
        "/api/rotation_progress",
        "/api/preview_action",
    ] {
        let body = |id: &str| match f {
            "/api/get_secret" => format!("id={}&deprecated=false", query_value(id)),
            "/api/preview_action" => format!("id={}&kind=restore&to_version=", query_value(id)),
            _ => format!("id={}", query_value(id)),
        };
        let (a, ta) = call(f, body(&s.out_of_scope)).await;
        let (b, tb) = call(f, body(missing)).await;
        assert_eq!(a, b, "{f}: {ta} / {tb}");
        assert_eq!(
            ta.replace(&s.out_of_scope, "ID"),
            tb.replace(missing, "ID"),
            "{f}"
        );
    }
    let a = payments.get(&format!("/secret/{}", s.out_of_scope)).await;
    let b = payments.get(&format!("/secret/{missing}")).await;
    assert_eq!(a.status, b.status, "pages: same status");
    // An access request on a secret outside the scopes, against none at all.
    let admin = Principal {
        id: 0,
        name: "admin".into(),
        grants: vec![crate::domain::access::Grant::new(
            crate::domain::access::Role::Admin,
            crate::domain::access::Scope::All,
        )],
    };
    let (r, _) = crate::server::requests::create(
        &s.state,
        &admin,
        &s.out_of_scope,
        "arn:aws:iam::123456789012:role/reader",
        "Needed for the quarterly audit of this system",
        "1h",
    )
    .await
    .unwrap();
    for f in [
        "/api/approve_request",
        "/api/deny_request",
        "/api/revoke_request",
        "/api/preview_approval",
    ] {
        let body = |id: i64| match f {
            "/api/approve_request" => format!("id={id}&duration=&comment="),
            "/api/preview_approval" => format!("id={id}&duration="),
            _ => format!("id={id}&comment=no"),
        };
        let (a, ta) = call(f, body(r.id)).await;
        let (b, tb) = call(f, body(999_999)).await;
        assert_eq!(a, b, "{f}: {ta} / {tb}");
        assert_eq!(
            ta.replace(&r.id.to_string(), "N"),
            tb.replace("999999", "N"),
            "{f}"
        );
        assert!(!ta.contains(&s.out_of_scope), "{f}: {ta}");
    }
}

/// A live session ends when its user is disabled or changes password, and
/// loses what a removed grant gave at once; the idle and absolute timeouts
/// end it too (the test waits past a 1 s timeout; it only checks the end).
#[tokio::test]
async fn live_sessions_end_with_the_user_the_grant_the_password_and_the_clock() {
    use super::super::client::Client;
    use crate::domain::links::query_value;
    use crate::server::auth::{console, users, ManageUsers, RequestInfo};
    let s = TestApp::builder().build().await;
    let store = s.state.auth.store.clone();
    let signed_in = |client: Client| async move {
        client
            .post_form("/api/list_inventory", "q=&path=&sort=&page=1")
            .await
            .status
    };
    // Disabled: out at once.
    let viewer = s.signed_in("viewer").await;
    assert_eq!(signed_in(viewer.clone()).await, 200);
    let v = store.user_by_name("viewer").await.unwrap().unwrap();
    store
        .set_disabled(v.id, true, crate::domain::Timestamp::new(0))
        .await
        .unwrap();
    assert_eq!(signed_in(viewer).await, 401);
    store
        .set_disabled(v.id, false, crate::domain::Timestamp::new(0))
        .await
        .unwrap();

    // A grant removed: what it gave is gone from the live session.
    let payments = s.signed_in("payments").await;
    let body = format!("id={}&deprecated=false", query_value(&s.in_scope));
    assert_eq!(
        payments.post_form("/api/get_secret", &body).await.status,
        200
    );
    let p = store.user_by_name("payments").await.unwrap().unwrap();
    for g in store.grants_of(p.id).await.unwrap() {
        store.remove_grant(g.id).await.unwrap();
    }
    assert_eq!(
        payments.post_form("/api/get_secret", &body).await.status,
        403
    );

    // A new password: every session signed in with the old one ends.
    let operator = s.signed_in("operator").await;
    let other = s.signed_in("operator").await;
    assert_eq!(signed_in(operator.clone()).await, 200);
    let can = console::<ManageUsers>();
    users::set_password(
        &store,
        &can,
        &RequestInfo::default(),
        "operator",
        "a brand new long password".into(),
    )
    .await
    .unwrap();
    assert_eq!(signed_in(operator).await, 401);
    assert_eq!(signed_in(other).await, 401);
    // Another user's session is untouched.
    let admin = s.signed_in("admin").await;
    assert_eq!(signed_in(admin).await, 200);
    s.server.abort();

    // The idle and the absolute timeouts.
    for (idle, absolute) in [(1, 3600), (3600, 1)] {
        let mut config = crate::server::config::Config::default();
        config.auth.idle_timeout_secs = idle;
        config.auth.absolute_timeout_secs = absolute;
        let t = TestApp::builder().config(config).build().await;
        let viewer = t.signed_in("viewer").await;
        assert_eq!(signed_in(viewer.clone()).await, 200);
        tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
        assert_eq!(
            signed_in(viewer).await,
            401,
            "idle {idle} s, absolute {absolute} s"
        );
        t.server.abort();
    }
}

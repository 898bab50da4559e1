//! The audit trail's readers, over HTTP: what the page shows an admin and a
//! scoped user, its filters and paging, the CSV export (itself audited),
//! and that nothing happens when the trail cannot be written.

use super::auth::{audited, call};
use super::TestApp;
use super::{http_get_as, login, post_form, session_cookie};
use crate::api::AuditList;
use crate::domain::audit::{AuditAction, AuditEvent, Outcome};
use crate::domain::links::query_value;
use crate::domain::Timestamp;
use crate::server::auth::{users, RequestInfo};
use crate::server::store::{AuditFilter, Store};
use std::net::SocketAddr;

/// The audit page's server function with these form fields.
async fn audit_page(addr: SocketAddr, cookie: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let mut body = vec!["page=1".to_string()];
    for key in ["actor", "action", "target", "outcome", "from", "to"] {
        let v = fields
            .iter()
            .find(|(k, _)| *k == key)
            .map_or("", |(_, v)| v);
        body.push(format!("{key}={}", query_value(v)));
    }
    if let Some((_, p)) = fields.iter().find(|(k, _)| *k == "page") {
        body[0] = format!("page={p}");
    }
    call(addr, "/api/get_audit", &body.join("&"), Some(cookie)).await
}

async fn list(addr: SocketAddr, cookie: &str, fields: &[(&str, &str)]) -> AuditList {
    let (status, body) = audit_page(addr, cookie, fields).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

async fn append(store: &Store, at: i64, actor: &str, action: AuditAction, target: &str) {
    store
        .append_audit(&AuditEvent {
            at: Timestamp::new(at),
            actor: actor.into(),
            client: "198.51.100.7".into(),
            action,
            target: target.into(),
            outcome: Outcome::Allowed,
            detail: String::new(),
            request_id: "req".into(),
        })
        .await
        .unwrap();
}

/// The body of an HTTP response.
fn body(res: &str) -> &str {
    res.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// A chunked body's data lines (the CSV), without the chunk sizes.
fn csv_lines(res: &str) -> Vec<String> {
    let chunked = res.split_once("\r\n\r\n").is_some_and(|(h, _)| {
        h.to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
    });
    let mut data = String::new();
    let mut rest = body(res);
    if chunked {
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            data.push_str(&tail[..n]);
            rest = &tail[n + 2..];
        }
    } else {
        data.push_str(rest);
    }
    data.split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn each_reader_sees_their_part_filtered_and_paged() {
    let s = TestApp::builder().build().await;
    let store = &s.state.auth.store;
    let admin = login(s.addr, "admin", super::demo_password("admin")).await;
    let viewer = login(s.addr, "viewer", super::demo_password("viewer")).await;
    let scoped = login(s.addr, "payments", super::demo_password("payments")).await;
    // The scoped user is refused a secret outside their grants (their own
    // record), someone else acted on a secret inside them, and on one
    // outside.
    let (status, _) = call(
        s.addr,
        "/api/get_secret",
        &format!("id={}&deprecated=false", query_value(&s.out_of_scope)),
        Some(&scoped),
    )
    .await;
    assert_eq!(status, 403);
    let now = crate::server::aws::sync::now().secs();
    append(store, now, "operator", AuditAction::Rotate, &s.in_scope).await;
    append(store, now, "operator", AuditAction::Rotate, &s.out_of_scope).await;

    // The admin reads the whole trail.
    let all = list(s.addr, &admin, &[]).await;
    let total = store
        .audit_page(&AuditFilter::default(), 0, 1)
        .await
        .unwrap()
        .total;
    assert_eq!(all.total, total as u64);
    assert!(all.exact && all.reach.is_none());
    assert!(all
        .rows
        .iter()
        .any(|r| r.actor == "viewer" && r.action == "login"));
    assert!(all
        .rows
        .windows(2)
        .all(|w| w[0].at.secs() >= w[1].at.secs()));

    // The scoped user reads their own records and those on their secrets.
    let theirs = list(s.addr, &scoped, &[]).await;
    assert!(theirs.reach.is_some());
    assert!(
        theirs
            .rows
            .iter()
            .all(|r| r.actor == "payments" || r.target.starts_with("prod/payments/")),
        "{:?}",
        theirs.rows
    );
    assert!(theirs
        .rows
        .iter()
        .any(|r| r.action == "secret.rotate" && r.target == s.in_scope));
    assert!(theirs
        .rows
        .iter()
        .any(|r| r.action == "denied" && r.actor == "payments"));
    assert!(!theirs.rows.iter().any(|r| r.actor == "viewer"));
    assert!(!theirs
        .rows
        .iter()
        .any(|r| r.action == "secret.rotate" && r.target == s.out_of_scope));
    assert_eq!(theirs.total, theirs.rows.len() as u64);

    // Filters narrow, for both.
    let logins = list(s.addr, &admin, &[("action", "login"), ("actor", "viewer")]).await;
    assert_eq!(logins.total, 1);
    assert_eq!(logins.rows[0].target, "viewer");
    let denied = list(
        s.addr,
        &viewer,
        &[("outcome", "denied"), ("target", "PROD/")],
    )
    .await;
    assert!(denied.rows.iter().all(|r| r.outcome == "denied"));
    let future = list(s.addr, &admin, &[("from", "2999-01-01")]).await;
    assert_eq!((future.total, future.rows.len()), (0, 0));
    let today = Timestamp::new(now).date();
    let to_today = list(s.addr, &admin, &[("to", &today)]).await;
    assert_eq!(
        to_today.total, total as u64,
        "`to` includes the day it names"
    );

    // A filter that does not parse is a 400 with a sentence.
    for (field, bad, says) in [
        ("action", "rotate", "There is no action"),
        ("outcome", "maybe", "allowed, denied or failed"),
        ("from", "last tuesday", "is not a time"),
    ] {
        let (status, body) = audit_page(s.addr, &admin, &[(field, bad)]).await;
        assert_eq!(status, 400, "{field}={bad}: {body}");
        assert!(body.contains(says), "{body}");
    }

    // Paging: newest first, no record twice, none lost; a scoped reader
    // pages through their part the same way.
    for i in 0..70 {
        let target = if i % 2 == 0 {
            &s.in_scope
        } else {
            &s.out_of_scope
        };
        append(
            store,
            now + 10 + i,
            "operator",
            AuditAction::Restore,
            target,
        )
        .await;
    }
    for (cookie, expect) in [(&admin, 70), (&scoped, 35)] {
        let first = list(s.addr, cookie, &[("action", "secret.restore")]).await;
        let second = list(
            s.addr,
            cookie,
            &[("action", "secret.restore"), ("page", "2")],
        )
        .await;
        assert_eq!(first.total, expect);
        assert_eq!(first.pages(), expect.div_ceil(50) as u32);
        let ids: Vec<i64> = first
            .rows
            .iter()
            .chain(&second.rows)
            .map(|r| r.id)
            .collect();
        assert_eq!(ids.len() as u64, expect);
        assert!(
            ids.windows(2).all(|w| w[0] > w[1]),
            "newest first, each once"
        );
    }
    s.server.abort();
}

#[tokio::test]
async fn the_csv_export_follows_filter_and_scope_and_is_audited() {
    let s = TestApp::builder().build().await;
    let store = &s.state.auth.store;
    let admin = login(s.addr, "admin", super::demo_password("admin")).await;
    let scoped = login(s.addr, "payments", super::demo_password("payments")).await;
    let now = crate::server::aws::sync::now().secs();
    append(
        store,
        now,
        "=HYPERLINK(\"x\")",
        AuditAction::LoginFailed,
        "a,b\"c",
    )
    .await;
    append(store, now, "operator", AuditAction::Rotate, &s.out_of_scope).await;

    let exports = || audited(store, AuditAction::AuditExport, None);
    let before = exports().await;
    let res = http_get_as(s.addr, "/export/audit.csv?action=login", &admin).await;
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    assert!(res.to_ascii_lowercase().contains("content-type: text/csv"));
    let lines = csv_lines(&res);
    assert_eq!(
        lines[0],
        "id,time,actor,client,action,target,outcome,detail,request_id"
    );
    assert_eq!(
        lines.len() as i64 - 1,
        audited(store, AuditAction::Login, None).await
    );
    assert!(
        lines[1..].iter().all(|l| l.contains(",login,")),
        "{lines:?}"
    );
    assert_eq!(exports().await, before + 1);
    let last = store
        .audit_page(
            &AuditFilter {
                action: Some(AuditAction::AuditExport),
                ..AuditFilter::default()
            },
            0,
            1,
        )
        .await
        .unwrap();
    assert_eq!(last.records[0].event.actor, "admin");
    assert_eq!(last.records[0].event.detail, "action=login");

    // Hostile text is quoted and formula-guarded.
    let failed = http_get_as(s.addr, "/export/audit.csv?action=login.failed", &admin).await;
    let lines = csv_lines(&failed);
    assert!(
        lines[1].contains(r#","'=HYPERLINK(""x"")","#) && lines[1].contains(r#","a,b""c","#),
        "{lines:?}"
    );

    // The scoped user's export holds their part only.
    let theirs = csv_lines(&http_get_as(s.addr, "/export/audit.csv", &scoped).await);
    assert!(theirs.len() > 1);
    assert!(!theirs
        .iter()
        .any(|l| l.contains(&s.out_of_scope) && l.contains("secret.rotate")));
    assert!(!theirs.iter().any(|l| l.contains(",admin,login,")));

    // Refused: without a session, and with a filter that does not parse;
    // neither is an export.
    let before = exports().await;
    let anon = super::http_raw(
        s.addr,
        format!(
            "GET /export/audit.csv HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            s.addr
        ),
    )
    .await;
    assert!(anon.starts_with("HTTP/1.1 401"), "{anon}");
    let bad = http_get_as(s.addr, "/export/audit.csv?to=never", &admin).await;
    assert!(bad.starts_with("HTTP/1.1 400"), "{bad}");
    assert!(body(&bad).contains("Nothing was exported"));
    assert_eq!(exports().await, before);
    s.server.abort();
}

#[tokio::test]
async fn nothing_happens_when_the_audit_trail_cannot_be_written() {
    let s = TestApp::builder().build().await;
    let store = &s.state.auth.store;
    let admin = login(s.addr, "admin", super::demo_password("admin")).await;
    let records = || async {
        store
            .audit_page(&AuditFilter::default(), 0, 1)
            .await
            .unwrap()
            .total
    };
    store.break_audit_writes().await;
    let before = records().await;

    // A sign-in that cannot be recorded does not happen.
    let res = post_form(
        s.addr,
        "/login",
        &format!(
            "name=viewer&password={}&next=%2F",
            super::demo_password("viewer")
        ),
        "",
    )
    .await;
    assert!(res.starts_with("HTTP/1.1 503"), "{res}");
    assert!(
        body(&res).contains("audit trail cannot be written"),
        "{res}"
    );
    let cookie = session_cookie(&res);
    if let Some(c) = cookie {
        let page = http_get_as(s.addr, "/export/secrets.csv", &c).await;
        assert!(
            page.starts_with("HTTP/1.1 401"),
            "a session was created: {page}"
        );
    }

    // Nor does a user change.
    let added = users::add(
        store,
        &users::local_admin(),
        &RequestInfo::default(),
        "mallory",
        "a-long-enough-password".into(),
        crate::domain::access::Grant::new(
            crate::domain::access::Role::Admin,
            crate::domain::access::Scope::All,
        ),
    )
    .await;
    let e = added.unwrap_err();
    assert!(e.user.contains("audit trail cannot be written"), "{e:?}");
    assert!(store.user_by_name("mallory").await.unwrap().is_none());

    // Nor an export of the trail.
    let export = http_get_as(s.addr, "/export/audit.csv", &admin).await;
    assert!(export.starts_with("HTTP/1.1 500"), "{export}");
    assert!(!body(&export).contains("id,time,actor"));
    assert_eq!(records().await, before);
    s.server.abort();
}

//! The audit trail's readers, over HTTP: what the page shows an admin and a
//! scoped user, its filters and paging, the CSV export (itself audited),
//! and that nothing happens when the trail cannot be written.

use super::auth::audited;
use super::client::{Client, Response};
use super::TestApp;
use crate::api::AuditList;
use crate::domain::audit::{AuditAction, AuditEvent, Outcome};
use crate::domain::links::query_value;
use crate::domain::Timestamp;
use crate::server::auth::{users, RequestInfo};
use crate::server::store::{AuditFilter, Store};

/// The audit page's server function with these form fields.
async fn audit_page(client: &Client, fields: &[(&str, &str)]) -> Response {
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
    client.post_form("/api/get_audit", &body.join("&")).await
}

async fn list(client: &Client, fields: &[(&str, &str)]) -> AuditList {
    let res = audit_page(client, fields).await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.json()
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

/// The CSV's lines (the client has already undone any chunking).
fn csv_lines(res: &Response) -> Vec<String> {
    res.body
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn each_reader_sees_their_part_filtered_and_paged() {
    let s = TestApp::builder().build().await;
    let store = &s.state.auth.store;
    let admin = s.signed_in("admin").await;
    let viewer = s.signed_in("viewer").await;
    let scoped = s.signed_in("payments").await;
    // The scoped user is refused a secret outside their grants (their own
    // record), someone else acted on a secret inside them, and on one
    // outside.
    let res = scoped
        .post_form(
            "/api/get_secret",
            &format!("id={}&deprecated=false", query_value(&s.out_of_scope)),
        )
        .await;
    assert_eq!(res.status, 403);
    let now = crate::server::clock::now().secs();
    append(store, now, "operator", AuditAction::Rotate, &s.in_scope).await;
    append(store, now, "operator", AuditAction::Rotate, &s.out_of_scope).await;

    // The admin reads the whole trail.
    let all = list(&admin, &[]).await;
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
    let theirs = list(&scoped, &[]).await;
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
    let logins = list(&admin, &[("action", "login"), ("actor", "viewer")]).await;
    assert_eq!(logins.total, 1);
    assert_eq!(logins.rows[0].target, "viewer");
    let denied = list(&viewer, &[("outcome", "denied"), ("target", "PROD/")]).await;
    assert!(denied.rows.iter().all(|r| r.outcome == "denied"));
    let future = list(&admin, &[("from", "2999-01-01")]).await;
    assert_eq!((future.total, future.rows.len()), (0, 0));
    let today = Timestamp::new(now).date();
    let to_today = list(&admin, &[("to", &today)]).await;
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
        let res = audit_page(&admin, &[(field, bad)]).await;
        assert_eq!(res.status, 400, "{field}={bad}: {}", res.body);
        assert!(res.body.contains(says), "{}", res.body);
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
        let first = list(cookie, &[("action", "secret.restore")]).await;
        let second = list(cookie, &[("action", "secret.restore"), ("page", "2")]).await;
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
    let admin = s.signed_in("admin").await;
    let scoped = s.signed_in("payments").await;
    let now = crate::server::clock::now().secs();
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
    let res = admin.get("/export/audit.csv?action=login").await;
    assert_eq!(res.status, 200, "{}", res.body);
    let content_type = res.header("content-type").unwrap_or_default();
    assert!(content_type.starts_with("text/csv"), "{content_type}");
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
    let failed = admin.get("/export/audit.csv?action=login.failed").await;
    let lines = csv_lines(&failed);
    assert!(
        lines[1].contains(r#","'=HYPERLINK(""x"")","#) && lines[1].contains(r#","a,b""c","#),
        "{lines:?}"
    );

    // The scoped user's export holds their part only.
    let theirs = csv_lines(&scoped.get("/export/audit.csv").await);
    assert!(theirs.len() > 1);
    assert!(!theirs
        .iter()
        .any(|l| l.contains(&s.out_of_scope) && l.contains("secret.rotate")));
    assert!(!theirs.iter().any(|l| l.contains(",admin,login,")));

    // Refused: without a session, and with a filter that does not parse;
    // neither is an export.
    let before = exports().await;
    let anon = s.client().get("/export/audit.csv").await;
    assert_eq!(anon.status, 401, "{}", anon.body);
    let bad = admin.get("/export/audit.csv?to=never").await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("Nothing was exported"));
    assert_eq!(exports().await, before);
    s.server.abort();
}

#[tokio::test]
async fn nothing_happens_when_the_audit_trail_cannot_be_written() {
    let s = TestApp::builder().build().await;
    let store = &s.state.auth.store;
    let admin = s.signed_in("admin").await;
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
    let res = s
        .client()
        .post_form(
            "/login",
            &format!(
                "name=viewer&password={}&next=%2F",
                super::demo_password("viewer")
            ),
        )
        .await;
    assert_eq!(res.status, 503, "{res:?}");
    assert!(
        res.body.contains("audit trail cannot be written"),
        "{res:?}"
    );
    if let Some(c) = res.session_cookie() {
        let page = s.client().with_cookie(c).get("/export/secrets.csv").await;
        assert_eq!(page.status, 401, "a session was created: {page:?}");
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
    let export = admin.get("/export/audit.csv").await;
    assert_eq!(export.status, 500, "{export:?}");
    assert!(!export.body.contains("id,time,actor"));
    assert_eq!(records().await, before);
    s.server.abort();
}

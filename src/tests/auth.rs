//! The permission matrix: every server function, called over HTTP directly
//! (not through the UI) as anonymous, viewer, operator, admin and a user
//! scoped to `prod/payments/`, with the status each must get; plus origin
//! checks, session fixation, logout and login throttling, and the audit
//! records each leaves.

use super::{http_get_as, http_raw, login, session_cookie, TestApp};
use crate::domain::audit::{AuditAction, Outcome};
use crate::server::store::AuditFilter;
use std::collections::BTreeSet;
use std::net::SocketAddr;

/// How many audit records of `action` (with `outcome`, if given) exist.
pub(super) async fn audited(
    store: &crate::server::store::Store,
    action: AuditAction,
    outcome: Option<Outcome>,
) -> i64 {
    store
        .audit_page(
            &AuditFilter {
                action: Some(action),
                outcome,
                ..Default::default()
            },
            0,
            1,
        )
        .await
        .unwrap()
        .total
}

/// Who calls.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Caller {
    Anonymous,
    Viewer,
    Operator,
    Admin,
    /// Operator on `prod/payments/` only.
    Scoped,
}

const CALLERS: [Caller; 5] = [
    Caller::Anonymous,
    Caller::Viewer,
    Caller::Operator,
    Caller::Admin,
    Caller::Scoped,
];

impl Caller {
    fn login(self) -> Option<&'static str> {
        match self {
            Caller::Anonymous => None,
            Caller::Viewer => Some("viewer"),
            Caller::Operator => Some("operator"),
            Caller::Admin => Some("admin"),
            Caller::Scoped => Some("payments"),
        }
    }
}

/// POSTs a server function as the browser's hydrated page would (same
/// origin), with `cookie` if any; the status and body.
pub(super) async fn call(
    addr: SocketAddr,
    path: &str,
    body: &str,
    cookie: Option<&str>,
) -> (u16, String) {
    let cookie = cookie.map_or(String::new(), |c| format!("Cookie: {c}\r\n"));
    let res = http_raw(
        addr,
        format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\n{cookie}\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;
    let status = res[9..12].parse().unwrap();
    let body = res
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

/// What `caller` must get from `path` (with the out-of-scope secret as the
/// target, where a function has one).
fn expected(path: &str, caller: Caller) -> u16 {
    match (path, caller) {
        // Who am I: anyone (anonymous gets null).
        ("/api/get_me", _) => 200,
        // How to sign in: asked before anyone has.
        ("/api/get_login_options", _) => 200,
        (_, Caller::Anonymous) => 401,
        // The sources and their errors: admins only.
        ("/api/list_sources", Caller::Admin) => 200,
        ("/api/list_sources", _) => 403,
        // A secret outside the scoped user's grants.
        ("/api/get_secret" | "/api/refresh_secret" | "/api/rotation_progress", Caller::Scoped) => {
            403
        }
        // Actions need the operator role on the secret; the operator and
        // admin get past the guard and are refused their unreadable input
        // (the bodies below), which changes nothing either.
        (p, Caller::Viewer | Caller::Scoped) if ACTIONS.contains(&p) => 403,
        (p, Caller::Operator | Caller::Admin) if ACTIONS.contains(&p) => 400,
        // Asking for access to a secret the caller cannot see: refused as
        // if absent; anyone who sees it is refused the bad principal below.
        ("/api/request_access", Caller::Scoped) => 403,
        ("/api/request_access", _) => 400,
        // Deciding a request that does not exist.
        (p, _) if DECISIONS.contains(&p) => 404,
        _ => 200,
    }
}

pub(super) fn body_for(path: &str, target: &str) -> String {
    let id = crate::domain::links::query_value(target);
    match path {
        "/api/list_inventory" => "q=&path=&sort=&page=1".into(),
        "/api/get_secret" => format!("id={id}&deprecated=false"),
        "/api/refresh_secret" | "/api/rotation_progress" => format!("id={id}"),
        "/api/get_audit" => "actor=&action=&target=&outcome=&from=&to=&page=1".into(),
        // Restoring a secret that is not scheduled for deletion: refused.
        "/api/preview_action" => format!("id={id}&kind=restore&to_version="),
        // A view of the secret that does not parse: refused.
        "/api/rollback_secret" => format!("id={id}&to_version=&seen=%7B%7D&typed_name=&token="),
        "/api/enable_rotation" => {
            format!("id={id}&immediately=false&seen=%7B%7D&typed_name=&token=")
        }
        "/api/request_access" => {
            format!("id={id}&principal=*&justification=because+I+need+it&duration=1h")
        }
        "/api/preview_approval" => "id=999999&duration=".into(),
        "/api/approve_request" => "id=999999&duration=&comment=".into(),
        "/api/deny_request" | "/api/revoke_request" => "id=999999&comment=no".into(),
        p if ACTIONS.contains(&p) => format!("id={id}&seen=%7B%7D&typed_name=&token="),
        _ => String::new(),
    }
}

/// The decisions on an access request (their own tests cover who may).
const DECISIONS: &[&str] = &[
    "/api/preview_approval",
    "/api/approve_request",
    "/api/deny_request",
    "/api/revoke_request",
    "/api/list_sources",
    "/api/get_login_options",
];

/// The server functions that change a secret, and the dialog's preview.
const ACTIONS: &[&str] = &[
    "/api/preview_action",
    "/api/rotate_secret",
    "/api/retry_rotation",
    "/api/cancel_rotation",
    "/api/clear_pending",
    "/api/enable_rotation",
    "/api/rollback_secret",
    "/api/restore_secret",
];

/// Every server function the app registers. Adding one without adding it
/// here (and to `expected`) fails `every_server_function_is_in_the_matrix`.
pub(super) const MATRIX: &[&str] = &[
    "/api/get_me",
    "/api/get_sync_info",
    "/api/list_inventory",
    "/api/get_overview",
    "/api/get_oncall",
    "/api/get_secret",
    "/api/refresh_secret",
    "/api/get_audit",
    "/api/preview_action",
    "/api/rotate_secret",
    "/api/retry_rotation",
    "/api/cancel_rotation",
    "/api/clear_pending",
    "/api/enable_rotation",
    "/api/rollback_secret",
    "/api/restore_secret",
    "/api/rotation_progress",
    "/api/list_requests",
    "/api/request_access",
    "/api/preview_approval",
    "/api/approve_request",
    "/api/deny_request",
    "/api/revoke_request",
    "/api/list_sources",
    "/api/get_login_options",
];

#[test]
fn every_server_function_is_in_the_matrix() {
    // Registration happens at start-up (inventory); the router does it too.
    let _ = crate::web::router;
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, _)| p.to_string())
        .collect();
    let known: BTreeSet<String> = MATRIX.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        registered, known,
        "a server function is missing from the permission matrix (or gone from the app)"
    );
}

#[tokio::test]
async fn permission_matrix() {
    let s = TestApp::builder().build().await;
    let mut cookies = Vec::new();
    for caller in CALLERS {
        cookies.push(match caller.login() {
            Some(name) => Some(login(s.addr, name, super::demo_password(name)).await),
            None => None,
        });
    }
    let store = &s.state.auth.store;
    let denied_before = audited(store, AuditAction::Denied, None).await;
    let mut denials = 0;
    let mut anonymous = 0;
    for path in MATRIX {
        for (caller, cookie) in CALLERS.iter().zip(&cookies) {
            let (status, body) = call(
                s.addr,
                path,
                &body_for(path, &s.out_of_scope),
                cookie.as_deref(),
            )
            .await;
            assert_eq!(
                status,
                expected(path, *caller),
                "{path} as {caller:?}: {body}"
            );
            if status == 401 || status == 403 {
                if *caller == Caller::Anonymous {
                    anonymous += 1;
                } else {
                    denials += 1;
                }
                assert!(!body.contains(&s.out_of_scope) || status == 403, "{body}");
            }
        }
    }
    // Each refusal left exactly one `denied` record.
    let denied_after = audited(store, AuditAction::Denied, None).await;
    // Anonymous refusals: one record each up to the per-minute allowance,
    // then one record with the count of the rest once the minute is over.
    let recorded = anonymous.min(crate::server::auth::limiter::ANON_DENIALS_PER_MINUTE as i64);
    assert_eq!(denied_after - denied_before, denials + recorded);
    crate::server::auth::flush_anonymous_denials(
        &s.state,
        std::time::Instant::now() + std::time::Duration::from_secs(61),
    )
    .await;
    let flushed = audited(store, AuditAction::Denied, None).await;
    assert_eq!(flushed - denied_after, i64::from(anonymous > recorded));

    // The scoped user reaches their own secret, and lists show only theirs.
    let scoped = cookies[4].as_deref();
    let (status, body) = call(
        s.addr,
        "/api/get_secret",
        &body_for("/api/get_secret", &s.in_scope),
        scoped,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, list) = call(
        s.addr,
        "/api/list_inventory",
        "q=&path=&sort=&page=1",
        scoped,
    )
    .await;
    let page: crate::api::InventoryPage = serde_json::from_str(&list).unwrap();
    assert!(
        page.total > 0
            && page
                .rows
                .iter()
                .all(|r| r.name.starts_with("prod/payments/")),
        "{list}"
    );
    let (_, list) = call(
        s.addr,
        "/api/list_inventory",
        "q=&path=&sort=&page=1",
        cookies[1].as_deref(),
    )
    .await;
    let all: crate::api::InventoryPage = serde_json::from_str(&list).unwrap();
    assert!(all.total > page.total);
    // Exports follow the same scopes.
    let csv = http_get_as(s.addr, "/export/secrets.csv", scoped.unwrap()).await;
    assert!(csv.starts_with("HTTP/1.1 200"), "{csv}");
    assert!(!csv.contains(&s.out_of_scope));
    s.server.abort();
}

#[tokio::test]
async fn origin_fixation_logout_and_throttling() {
    let s = TestApp::builder().build().await;
    let addr = s.addr;
    let post = |extra: String, cookie: Option<String>| async move {
        let cookie = cookie.map_or(String::new(), |c| format!("Cookie: {c}\r\n"));
        http_raw(
            addr,
            format!(
                "POST /api/get_overview HTTP/1.1\r\nHost: {addr}\r\n{extra}{cookie}Content-Length: 0\r\nConnection: close\r\n\r\n"
            ),
        )
        .await
    };
    let cookie = login(addr, "viewer", super::demo_password("viewer")).await;
    // Cross-origin and origin-less POSTs are refused before any handler.
    for extra in [
        "Origin: http://evil.example\r\n".to_string(),
        String::new(),
        "Sec-Fetch-Site: cross-site\r\n".to_string(),
    ] {
        let res = post(extra.clone(), Some(cookie.clone())).await;
        assert!(res.starts_with("HTTP/1.1 403"), "{extra:?}: {res}");
    }
    let ok = post(
        "Sec-Fetch-Site: same-origin\r\n".into(),
        Some(cookie.clone()),
    )
    .await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    // Cross-origin login is refused too (login CSRF).
    let forged = http_raw(
        addr,
        format!("POST /login HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://evil.example\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 9\r\nConnection: close\r\n\r\nname=x&p="),
    )
    .await;
    assert!(forged.starts_with("HTTP/1.1 403"), "{forged}");

    // Session fixation: an id from before the login is useless after it.
    let page = http_raw(
        addr,
        format!("GET /login HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
    .await;
    let planted = session_cookie(&page).unwrap_or_else(|| "secretscope_session=planted".into());
    let body = format!(
        "name=viewer&password={}&next=%2F",
        super::demo_password("viewer")
    );
    let res = super::post_form(addr, "/login", &body, &format!("Cookie: {planted}\r\n")).await;
    let fresh = session_cookie(&res).expect("a new session id at login");
    assert_ne!(fresh, planted);
    let with_planted = http_get_as(addr, "/export/secrets.json", &planted).await;
    assert!(with_planted.starts_with("HTTP/1.1 401"), "{with_planted}");
    assert!(http_get_as(addr, "/export/secrets.json", &fresh)
        .await
        .starts_with("HTTP/1.1 200"));

    // Logout deletes the session on the server: replaying the cookie fails.
    let res = http_raw(
        addr,
        format!("POST /logout HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\nCookie: {fresh}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert!(res.starts_with("HTTP/1.1 303"), "{res}");
    assert!(http_get_as(addr, "/export/secrets.json", &fresh)
        .await
        .starts_with("HTTP/1.1 401"));

    // Throttling: five wrong passwords for a name, then even the right one
    // is refused with a wait.
    let attempt = |password: &'static str| async move {
        let body = format!("name=operator&password={password}&next=%2F");
        super::post_form(addr, "/login", &body, "").await
    };
    for _ in 0..5 {
        let r = attempt("wrong-password").await;
        assert!(r.contains("location: /login?error=1"), "{r}");
    }
    let r = attempt("demo-operator-password").await;
    assert!(r.contains("location: /login?retry="), "{r}");
    assert!(session_cookie(&r).is_none() || !r.contains("location: /\r\n"));

    // The audit trail holds each case.
    let store = &s.state.auth.store;
    let count = |action, outcome| audited(store, action, Some(outcome));
    assert_eq!(count(AuditAction::Login, Outcome::Allowed).await, 2);
    assert_eq!(count(AuditAction::Logout, Outcome::Allowed).await, 1);
    assert_eq!(count(AuditAction::LoginFailed, Outcome::Denied).await, 5);
    assert_eq!(count(AuditAction::LoginThrottled, Outcome::Denied).await, 1);
    // Three refused POSTs to the server function and one to /login.
    assert_eq!(count(AuditAction::Denied, Outcome::Denied).await, 4);
    s.server.abort();
}

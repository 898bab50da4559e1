//! The permission matrix: every server function, called over HTTP directly
//! (not through the UI) as anonymous, viewer, operator, admin and a user
//! scoped to `prod/payments/`, with the status each must get; plus origin
//! checks, session fixation, logout and login throttling, and the audit
//! records each leaves.

use super::TestApp;
use crate::domain::audit::{AuditAction, Outcome};
use crate::server::store::AuditFilter;
use std::collections::BTreeSet;

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
        (
            "/api/get_secret"
            | "/api/refresh_secret"
            | "/api/rotation_progress"
            | "/api/get_diagnosis"
            | "/api/diagnosis_fragment"
            | "/api/get_readers"
            | "/api/readers_brief"
            | "/api/readers_fragment"
            | "/api/readers_brief_fragment"
            | "/api/rotation_fragment",
            Caller::Scoped,
        ) => 403,
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
        "/api/find_secrets" => "text=prod".into(),
        "/api/get_secret" => format!("id={id}&deprecated=false"),
        "/api/refresh_secret" | "/api/rotation_progress" | "/api/get_diagnosis" => {
            format!("id={id}")
        }
        "/api/diagnosis_fragment" => format!("id={id}&failing=false"),
        "/api/get_readers" => format!("id={id}&refresh=false"),
        "/api/readers_brief" => format!("id={id}&focus=last-day"),
        "/api/readers_fragment" => format!("id={id}&refresh=false"),
        "/api/readers_brief_fragment" => format!("id={id}&focus=last-day"),
        "/api/rotation_fragment" => format!("id={id}&kind=rotate&elsewhere=false"),
        "/api/get_audit" => "actor=&action=&target=&outcome=&from=&to=&page=1".into(),
        // Restoring a secret that is not scheduled for deletion: refused.
        "/api/preview_action" => format!("id={id}&kind=restore&to_version="),
        // A view of the secret that does not parse: refused.
        "/api/rollback_secret" => format!("id={id}&to_version=&seen=%7B%7D&typed_name=&token="),
        "/api/enable_rotation" => {
            format!("id={id}&immediately=false&seen=%7B%7D&typed_name=&token=")
        }
        "/api/perform_action" => format!(
            "kind=rotate&id={id}&to_version=&immediately=false&seen=%7B%7D&typed_name=&token="
        ),
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
    "/api/perform_action",
];

/// Every server function the app registers. Adding one without adding it
/// here (and to `expected`) fails `every_server_function_is_in_the_matrix`.
pub(super) const MATRIX: &[&str] = &[
    "/api/get_me",
    "/api/get_sync_info",
    "/api/list_inventory",
    "/api/get_overview",
    "/api/get_oncall",
    "/api/get_oncall_state",
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
    "/api/perform_action",
    "/api/rotation_progress",
    "/api/rotation_fragment",
    "/api/get_diagnosis",
    "/api/diagnosis_fragment",
    "/api/get_readers",
    "/api/readers_brief",
    "/api/readers_fragment",
    "/api/readers_brief_fragment",
    "/api/list_requests",
    "/api/find_secrets",
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
    let mut clients = Vec::new();
    for caller in CALLERS {
        clients.push(match caller.login() {
            Some(name) => s.signed_in(name).await,
            None => s.client(),
        });
    }
    let store = &s.state.auth.store;
    let denied_before = audited(store, AuditAction::Denied, None).await;
    let mut denials = 0;
    let mut anonymous = 0;
    for path in MATRIX {
        for (caller, client) in CALLERS.iter().zip(&clients) {
            let res = client
                .post_form(path, &body_for(path, &s.out_of_scope))
                .await;
            let (status, body) = (res.status, res.body);
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
    let scoped = &clients[4];
    let res = scoped
        .post_form("/api/get_secret", &body_for("/api/get_secret", &s.in_scope))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let list = scoped
        .post_form("/api/list_inventory", "q=&path=&sort=&page=1")
        .await
        .body;
    let page: crate::api::InventoryPage = serde_json::from_str(&list).unwrap();
    assert!(
        page.total > 0
            && page
                .rows
                .iter()
                .all(|r| r.name.starts_with("prod/payments/")),
        "{list}"
    );
    let list = clients[1]
        .post_form("/api/list_inventory", "q=&path=&sort=&page=1")
        .await
        .body;
    let all: crate::api::InventoryPage = serde_json::from_str(&list).unwrap();
    assert!(all.total > page.total);
    // Exports follow the same scopes.
    let csv = scoped.get("/export/secrets.csv").await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert!(!csv.body.contains(&s.out_of_scope));
    s.server.abort();
}

#[tokio::test]
async fn origin_fixation_logout_and_throttling() {
    let s = TestApp::builder().build().await;
    let anonymous = s.client();
    let viewer = s.signed_in("viewer").await;
    let origin = format!("http://{}", s.addr);
    let post = |headers: &'static [(&'static str, &'static str)]| {
        let viewer = viewer.clone();
        async move {
            viewer
                .send(http::Method::POST, "/api/get_overview", headers, "")
                .await
        }
    };
    // Cross-origin and origin-less POSTs are refused before any handler.
    for headers in [
        &[("origin", "http://evil.example")][..],
        &[][..],
        &[("sec-fetch-site", "cross-site")][..],
    ] {
        let res = post(headers).await;
        assert_eq!(res.status, 403, "{headers:?}: {}", res.body);
    }
    let ok = post(&[("sec-fetch-site", "same-origin")]).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    // Cross-origin login is refused too (login CSRF).
    let forged = anonymous
        .send(
            http::Method::POST,
            "/login",
            &[
                ("origin", "http://evil.example"),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            "name=x&p=",
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);

    // Session fixation: an id from before the login is useless after it.
    let page = anonymous.get("/login").await;
    let planted = page
        .session_cookie()
        .unwrap_or_else(|| "secretscope_session=planted".into());
    let body = format!(
        "name=viewer&password={}&next=%2F",
        super::demo_password("viewer")
    );
    let res = anonymous
        .with_cookie(planted.clone())
        .post_form("/login", &body)
        .await;
    let fresh = res.session_cookie().expect("a new session id at login");
    assert_ne!(fresh, planted);
    let with_planted = anonymous
        .with_cookie(planted.clone())
        .get("/export/secrets.json")
        .await;
    assert_eq!(with_planted.status, 401, "{}", with_planted.body);
    let fresh = anonymous.with_cookie(fresh);
    assert_eq!(fresh.get("/export/secrets.json").await.status, 200);

    // Logout deletes the session on the server: replaying the cookie fails.
    let res = fresh
        .send(http::Method::POST, "/logout", &[("origin", &origin)], "")
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(fresh.get("/export/secrets.json").await.status, 401);

    // Throttling: five wrong passwords for a name, then even the right one
    // is refused with a wait.
    let attempt = |password: &'static str| {
        let anonymous = anonymous.clone();
        async move {
            let body = format!("name=operator&password={password}&next=%2F");
            anonymous.post_form("/login", &body).await
        }
    };
    for _ in 0..5 {
        let r = attempt("wrong-password").await;
        let to = r.header("location").unwrap_or_default();
        assert!(to.starts_with("/login?error=1"), "{r:?}");
    }
    let r = attempt("demo-operator-password").await;
    let to = r.header("location").unwrap_or_default();
    assert!(to.starts_with("/login?retry="), "{r:?}");
    assert!(r.session_cookie().is_none() || to != "/");

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

/// The reader search terms in the permission matrix's view of exports: a
/// search by who reads a secret never widens what a scoped user exports.
/// Readers are set on the secrets by hand (the CloudTrail lookup is not
/// what is tested): the same role reads secrets in and out of the scoped
/// user's grant, and only secrets out of it have no readers or were never
/// looked up. The scoped user's CSV and JSON exports of each search hold
/// exactly their own secrets that match it: for `reader:*` the same rows
/// as without the term; for `readers:none` nothing, however many secrets
/// elsewhere nobody read.
#[tokio::test]
async fn reader_searches_export_only_what_the_scope_allows() {
    use crate::domain::query::Query;
    use crate::domain::reads::{Asked, Principal, ReadError, ReadEvent, Readers};
    use crate::domain::Secret;
    use std::sync::Arc;
    let s = TestApp::builder().build().await;
    let inventory = &s.state.inventory;
    let snap = inventory.snapshot();
    let at = snap.taken_at.expect("the test app has listed");
    let etl = "arn:aws:sts::999988887777:assumed-role/etl/job-1";
    let ci = "arn:aws:iam::111122223333:user/ci";
    // Each identity's reads of one secret: the first refused, the second not.
    let read_by = |who: &[&str]| {
        let events: Vec<ReadEvent> = who
            .iter()
            .flat_map(|&w| [(w, false), (w, true)])
            .enumerate()
            .map(|(i, (w, ok))| ReadEvent {
                event_id: format!("e{i}").into(),
                at,
                principal: Principal::from_identity(None, Some(w), None, None, None).unwrap(),
                asked: Asked::Default,
                error: (!ok).then_some(ReadError::AccessDenied),
            })
            .collect();
        Some(Arc::new(Readers::from_events(&events, at, at, None)))
    };
    let in_scope = |x: &Secret| x.name.starts_with("prod/payments/");
    // Replicas (listed too) share their primary's name, so its readers.
    let mut secrets: Vec<Secret> = snap.all_secrets().map(|x| (**x).clone()).collect();
    for x in &mut secrets {
        let k = x.name.bytes().map(usize::from).sum::<usize>();
        x.reads = match (in_scope(x), k % 3) {
            (true, 0) => read_by(&[etl, ci]),
            (true, _) => read_by(&[etl]),
            (false, 0) => read_by(&[etl, ci]),
            (false, 1) => read_by(&[]),
            (false, _) => None,
        };
    }
    assert!(secrets.iter().any(in_scope) && !secrets.iter().all(in_scope));
    // As the readers lookup does: the inventory's book attaches them.
    for x in &secrets {
        if let Some(r) = &x.reads {
            inventory.note_reads(x.arn.clone(), r.clone());
        }
    }
    let names_of = |json: &str| -> BTreeSet<String> {
        let rows: Vec<serde_json::Value> = serde_json::from_str(json).unwrap();
        rows.iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect()
    };
    let (viewer, scoped) = (s.signed_in("viewer").await, s.signed_in("payments").await);
    let export = |client: &super::client::Client, q: &str, ext: &str| {
        let (client, path) = (
            client.clone(),
            format!(
                "/export/secrets.{ext}?q={}",
                crate::domain::links::query_value(q)
            ),
        );
        async move {
            let res = client.get(&path).await;
            assert_eq!(res.status, 200, "{path}: {}", res.body);
            res.body
        }
    };
    let unfiltered = names_of(&export(&scoped, "", "json").await);
    assert!(!unfiltered.is_empty() && unfiltered.iter().all(|n| n.starts_with("prod/payments/")));
    for q in [
        "reader:*",
        "reader:etl",
        "reader:arn:aws:iam::999988887777:role/etl",
        "reader:*:999988887777:*",
        "reader:ci",
        "-reader:ci",
        "readers:>0",
        "readers:>=2",
        "readers:1",
        "readers:none",
        "readers:unknown",
        "-reader:*",
        "readers:none OR readers:unknown OR reader:ci",
    ] {
        let query = Query::parse(q).unwrap();
        let matching = |scoped: bool| -> BTreeSet<String> {
            secrets
                .iter()
                .filter(|x| (!scoped || in_scope(x)) && query.matches(x))
                .map(|x| x.name.to_string())
                .collect()
        };
        let mine = names_of(&export(&scoped, q, "json").await);
        assert_eq!(mine, matching(true), "the scoped user's export of {q:?}");
        assert!(mine.is_subset(&unfiltered), "{q:?} widened the scope");
        let csv = export(&scoped, q, "csv").await;
        assert!(csv.starts_with("name,arn,"), "{q:?}: {csv}");
        assert!(!csv.contains(&s.out_of_scope), "{q:?}: {csv}");
        let all = names_of(&export(&viewer, q, "json").await);
        assert_eq!(all, matching(false), "the viewer's export of {q:?}");
    }
    // Every secret of the scoped user's is read: the reader term takes
    // nothing away and adds nothing.
    let read_any = names_of(&export(&scoped, "reader:*", "json").await);
    assert_eq!(read_any, unfiltered);
    assert!(names_of(&export(&viewer, "reader:*", "json").await).len() > read_any.len());
    // Out of scope, nobody read some and some were never looked up; the
    // scoped user hears of neither.
    for q in ["readers:none", "readers:unknown", "-reader:*"] {
        assert!(
            names_of(&export(&scoped, q, "json").await).is_empty(),
            "{q}"
        );
        assert!(
            !names_of(&export(&viewer, q, "json").await).is_empty(),
            "{q}"
        );
    }
    s.server.abort();
}

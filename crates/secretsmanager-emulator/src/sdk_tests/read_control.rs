//! `POST /__secretscope/reads`, `GET /__secretscope/reads` and
//! `LocalEndpoint::add_reads`: what they refuse, what an added reader
//! leaves on CloudTrail and in LastAccessedDate, and an organisation
//! adding reads in the account and region of the secret's ARN.

use super::trail_reads::{lookup_all, ms, trail, Q};
use super::*;
use crate::org::{OrgOptions, PAYMENTS_ACCOUNT};
use crate::seed::reads::FOREIGN_ACCOUNT;
use crate::seed::{EpochMs, PlannedReader, ReaderKind};
use aws_sdk_cloudtrail::types::LookupAttributeKey;
use axum::body::Body;
use serde_json::{json, Value};
use tower::ServiceExt;

const NOW_MS: EpochMs = NOW * 1000;
const DAY_MS: EpochMs = 86_400_000;

/// One control request: status and JSON body (Null when not JSON).
async fn send(router: axum::Router, method: &str, uri: &str, body: String) -> (u16, Value) {
    send_as(router, method, uri, Some("application/json"), body).await
}

async fn send_as(
    router: axum::Router,
    method: &str,
    uri: &str,
    content_type: Option<&str>,
    body: String,
) -> (u16, Value) {
    let mut b = axum::http::Request::builder().method(method).uri(uri);
    if let Some(t) = content_type {
        b = b.header("content-type", t);
    }
    let resp = router
        .oneshot(b.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn get_uri(id: &str) -> String {
    let mut uri = "/__secretscope/reads?secret_id=".to_string();
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

/// Every malformed or invalid request is refused with its reason, and
/// adds nothing: the count and cadence bounds, the principal, account and
/// session, stage and version together, an error without its code, an
/// unknown field, an unknown secret (404), not JSON (415), a body over
/// the limit (413).
#[tokio::test]
async fn the_reads_route_refuses_what_it_cannot_record() {
    let ep = LocalEndpoint::new(options(40));
    let p = pick(&ep.plan(), |_| true).clone();
    let before = ep.readers(&p.arn).unwrap();
    let base = json!({
        "secret_id": p.arn,
        "principal": "arn:aws:iam::123456789012:role/payments-api",
        "start_ms": NOW_MS - 3_600_000,
        "every_ms": 60_000,
        "count": 10,
    });
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let mut both = with("stage", json!("AWSPREVIOUS"));
    both["version_id"] = json!("a".repeat(32));
    let mut batch_stage = with("stage", json!("AWSPREVIOUS"));
    batch_stage["batch"] = json!(true);
    let cases = [
        (with("count", json!(0)), "count"),
        (with("count", json!(100_001)), "count"),
        (with("every_ms", json!(999)), "every_ms"),
        (
            with("principal", json!("arn:aws:iam::123:role/x")),
            "principal",
        ),
        (
            with("principal", json!("arn:aws:iam::123456789012:group/devs")),
            "principal",
        ),
        (
            with("account", json!("210987654321")),
            "not the principal's",
        ),
        (with("session", json!("a")), "session"),
        (both, "not both"),
        (batch_stage, "AWSCURRENT only"),
        (with("error_message", json!("no")), "error_code"),
        (
            with("error_code", json!("ThrottlingException")),
            "error_message",
        ),
        (with("frobnicate", json!(1)), "frobnicate"),
    ];
    for (body, why) in cases {
        let (status, answer) = send(
            ep.router(),
            "POST",
            "/__secretscope/reads",
            body.to_string(),
        )
        .await;
        assert_eq!(status, 400, "{body}: {answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains(why), "{body}: {error}");
    }
    let (status, _) = send(ep.router(), "POST", "/__secretscope/reads", "{".into()).await;
    assert_eq!(status, 400);
    let unknown = with("secret_id", json!("no/such/secret"));
    let (status, _) = send(
        ep.router(),
        "POST",
        "/__secretscope/reads",
        unknown.to_string(),
    )
    .await;
    assert_eq!(status, 404);
    let plain = send_as(
        ep.router(),
        "POST",
        "/__secretscope/reads",
        Some("text/plain"),
        base.to_string(),
    )
    .await;
    assert_eq!(plain.0, 415);
    let huge = with("session", json!("x".repeat(crate::reads::BODY_LIMIT)));
    let (status, _) = send(
        ep.router(),
        "POST",
        "/__secretscope/reads",
        huge.to_string(),
    )
    .await;
    assert_eq!(status, 413);
    let (status, _) = send(ep.router(), "GET", "/__secretscope/reads", String::new()).await;
    assert_eq!(status, 400);
    let (status, _) = send(
        ep.router(),
        "GET",
        &get_uri("no/such/secret"),
        String::new(),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(ep.readers(&p.arn).unwrap(), before, "nothing was added");

    // The Rust path refuses the same way, in the same words.
    let reader: PlannedReader = PlannedReader {
        principal: "arn:aws:iam::123456789012:role/payments-api".into(),
        account: "123456789012".into(),
        session: "payments-api".into(),
        stage: None,
        version_id: None,
        error: None,
        batch: false,
        from: NOW_MS,
        until: None,
        every: 999,
        kind: ReaderKind::Steady,
    };
    let e = ep.add_reads(&p.arn, reader).unwrap_err();
    assert!(e.contains("at least 1000"), "{e}");
}

/// A busy secret (10,000 reads) and a newcomer at a chosen time: the route
/// answers how many reads it added, lists the reader after the seed's, and
/// CloudTrail has each read (those up to the clock). SecretListEntry's
/// LastAccessedDate: "The date that the secret was last accessed in the
/// Region." — the added reads move it (and the version's) to the day of
/// the last one.
#[tokio::test]
async fn added_reads_are_recorded_and_move_last_accessed() {
    let ep = start(300).await;
    let c = trail(&ep.url()).await;
    let sm = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| p.scenario == Scenario::Unused && !p.deleted).clone();
    let start = NOW_MS - 10_000 * 60_000;
    let body = json!({
        "secret_id": p.name,
        "principal": "arn:aws:iam::123456789012:role/bench-reader",
        "session": "bench-1",
        "start_ms": start,
        "every_ms": 60_000,
        "count": 10_000,
    });
    let router = ep.endpoint.router();
    let (status, answer) = send(
        router.clone(),
        "POST",
        "/__secretscope/reads",
        body.to_string(),
    )
    .await;
    assert_eq!((status, answer), (200, json!({"added": 10_000})));
    let (status, listed) = send(router.clone(), "GET", &get_uri(&p.arn), String::new()).await;
    assert_eq!(status, 200);
    let listed: Vec<PlannedReader> = serde_json::from_value(listed).unwrap();
    assert_eq!(listed.len(), p.readers.len() + 1);
    let added = listed.last().unwrap();
    assert_eq!(
        (added.kind, added.until),
        (ReaderKind::Steady, Some(NOW_MS))
    );
    let q = Q::window(
        Some((LookupAttributeKey::Username, "bench-1")),
        start,
        NOW_MS,
    );
    let events = lookup_all(&c, &q).await;
    assert_eq!(events.len(), 10_000);
    assert_eq!(ms(&events[0]), NOW_MS - 60_000);
    let d = sm.describe_secret().secret_id(&p.arn).send().await.unwrap();
    let day = (NOW_MS - 60_000).div_euclid(DAY_MS) * DAY_MS / 1000;
    assert_eq!(d.last_accessed_date().map(|t| t.secs()), Some(day));
    let versions = sm
        .list_secret_version_ids()
        .secret_id(&p.arn)
        .send()
        .await
        .unwrap();
    let current = versions
        .versions()
        .iter()
        .find(|v| v.version_stages().iter().any(|s| s == "AWSCURRENT"))
        .unwrap();
    assert_eq!(current.last_accessed_date().map(|t| t.secs()), Some(day));

    // A newcomer from another account, from an hour ago, every half hour:
    // the reads up to the clock are there now, the rest come with it.
    let now = ep.endpoint.now_ms();
    let newcomer = json!({
        "secret_id": p.arn,
        "principal": format!("arn:aws:iam::{FOREIGN_ACCOUNT}:role/vendor-onboarding"),
        "session": "vendor-onboarding-1",
        "start_ms": now - 3_601_000,
        "every_ms": 1_800_000,
        "count": 10,
        "kind": "Newcomer",
    });
    let (status, answer) = send(router, "POST", "/__secretscope/reads", newcomer.to_string()).await;
    assert_eq!((status, answer), (200, json!({"added": 10})));
    let q = Q::window(
        Some((LookupAttributeKey::Username, "vendor-onboarding-1")),
        now - DAY_MS,
        now + DAY_MS,
    );
    let events = lookup_all(&c, &q).await;
    assert_eq!(events.len(), 3);
    let r = &ep.endpoint.readers(&p.arn).unwrap()[p.readers.len() + 1];
    assert_eq!(
        (r.kind, r.account.as_str()),
        (ReaderKind::Newcomer, FOREIGN_ACCOUNT)
    );
}

/// In an organisation, the route adds reads in the account and region of
/// the secret's ARN (a name is the first account's); the seed's readers
/// from other accounts are mostly the organisation's.
#[tokio::test]
async fn an_organisation_adds_reads_where_the_secret_is() {
    let opts = OrgOptions::demo(LocalOptions {
        now: Some(NOW),
        seed_secrets: 300,
        ..LocalOptions::default()
    });
    let org = crate::spawn_org(opts, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let o = org.org.as_ref().unwrap();
    let payments = o.tenant(PAYMENTS_ACCOUNT, REGION).unwrap();
    let p = pick(&payments.plan(), |p| !p.deleted).clone();
    let body = json!({
        "secret_id": p.arn,
        "principal": format!("arn:aws:iam::{PAYMENTS_ACCOUNT}:role/payments-api"),
        "start_ms": NOW_MS - DAY_MS,
        "every_ms": 3_600_000,
        "count": 24,
    });
    let (status, answer) = send(o.router(), "POST", "/__secretscope/reads", body.to_string()).await;
    assert_eq!((status, answer), (200, json!({"added": 24})));
    assert_eq!(payments.readers(&p.arn).unwrap().len(), p.readers.len() + 1);
    let (status, listed) = send(o.router(), "GET", &get_uri(&p.arn), String::new()).await;
    assert_eq!(status, 200);
    assert_eq!(listed.as_array().unwrap().len(), p.readers.len() + 1);

    let accounts: std::collections::BTreeSet<String> = o
        .first()
        .plan()
        .iter()
        .flat_map(|p| &p.readers)
        .map(|r| r.account.clone())
        .collect();
    for a in [
        ACCOUNT,
        PAYMENTS_ACCOUNT,
        crate::org::LEGACY_ACCOUNT,
        FOREIGN_ACCOUNT,
    ] {
        assert!(accounts.contains(a), "{a}: {accounts:?}");
    }
}

//! Access requests against the demo endpoint: who decides (owner
//! resolution over the seed), approval puts exactly one statement in the
//! secret's resource policy (principal, actions, expiry), expiry and early
//! revocation take it out again, nothing else in the policy is touched, a
//! denial applies nothing, and only the owner or an admin decides, never
//! the requester.

use super::auth::audited;
use super::TestApp;
use crate::domain::access::{Grant, Role, Scope};
use crate::domain::audit::AuditAction;
use crate::domain::owner::{owner_with_tag, OwnerSource};
use crate::domain::requests::{RequestStatus, GRANTED_ACTIONS};
use crate::domain::{Secret, Timestamp};
use crate::server::auth::Principal;
use crate::server::config::Config;
use crate::server::error::ErrorKind;
use crate::server::requests;
use crate::server::store::RequestChange;
use serde_json::Value;
use std::sync::Arc;

const READER: &str = "arn:aws:iam::123456789012:role/incident-reader";
const WHY: &str = "Debugging INC-4242: the worker cannot connect";

fn who(name: &str, role: Role) -> Principal {
    Principal {
        id: 0,
        name: name.into(),
        grants: vec![Grant::new(role, Scope::All)],
    }
}

/// Grants on, and every owner at example.com decided by `operator`.
fn granting() -> Config {
    let mut config = Config::default();
    config.requests.grants = true;
    config.requests.owners = [("*@example.com".to_string(), vec!["operator".to_string()])]
        .into_iter()
        .collect();
    config
}

async fn serve_granting() -> TestApp {
    TestApp::builder().config(granting()).build().await
}

/// TestApp with `config`: the viewer asks for a target secret and the
/// operator denies it. Returns the server, the secret and the request.
async fn ask_then_deny(
    config: Config,
) -> (TestApp, Arc<Secret>, crate::domain::requests::AccessRequest) {
    let s = TestApp::builder().config(config).build().await;
    let (x, _) = target(&s).await;
    let r = ask(&s, &who("viewer", Role::Viewer), &x, "1h").await;
    requests::deny(
        &s.state,
        &who("operator", Role::Operator),
        r.id,
        "use the replica",
    )
    .await
    .unwrap();
    (s, x, r)
}

/// `read()` once it has `n` items, or as it is after 10 s (a guard against
/// a hang, not a timing assertion): for work done in the background.
async fn when_there_are<T>(n: usize, read: impl Fn() -> Vec<T>) -> Vec<T> {
    for _ in 0..200 {
        let got = read();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    read()
}

/// A live secret owned by someone at example.com that already has a
/// resource policy of its own, and that policy.
async fn target(s: &TestApp) -> (Arc<Secret>, Option<Value>) {
    let snap = s.state.inventory.snapshot();
    for x in snap.secrets().iter().filter(|x| {
        x.deleted.is_none()
            && x.tags
                .iter()
                .any(|t| &*t.key == "owner" && t.value.ends_with("@example.com"))
    }) {
        let p = policy(s, x).await;
        if p.is_some() {
            return (x.clone(), p);
        }
    }
    panic!("the seed has owned secrets with a resource policy")
}

async fn policy(s: &TestApp, x: &Secret) -> Option<Value> {
    let out = s
        .state
        .sources
        .primary()
        .client
        .get_resource_policy()
        .secret_id(&*x.arn)
        .send()
        .await
        .unwrap();
    out.resource_policy
        .map(|p| serde_json::from_str(&p).unwrap())
}

fn statements(p: &Option<Value>) -> Vec<Value> {
    match p.as_ref().map(|p| &p["Statement"]) {
        Some(Value::Array(a)) => a.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        _ => Vec::new(),
    }
}

async fn ask(
    s: &TestApp,
    by: &Principal,
    x: &Secret,
    duration: &str,
) -> crate::domain::requests::AccessRequest {
    requests::create(&s.state, by, &x.name, READER, WHY, duration)
        .await
        .unwrap()
        .0
}

#[tokio::test]
async fn approval_adds_one_statement_and_expiry_removes_it() {
    let s = serve_granting().await;
    let (x, before) = target(&s).await;
    let viewer = who("viewer", Role::Viewer);
    let operator = who("operator", Role::Operator);

    let r = ask(&s, &viewer, &x, "8h").await;
    assert_eq!(r.status, RequestStatus::Pending);
    assert_eq!(r.approvers, vec!["operator".to_string()]);
    assert!(
        r.owner.contains("@example.com (from the owner tag)"),
        "{}",
        r.owner
    );

    // The diff is shown before anything is applied, and changes nothing.
    let plan = requests::plan_approval(&s.state, &operator, r.id, "1h")
        .await
        .unwrap();
    assert!(
        plan.diff
            .iter()
            .any(|l| l.starts_with('+') && l.contains(&r.sid())),
        "{:?}",
        plan.diff
    );
    // Only punctuation leaves (a comma moves): no other statement's line.
    assert!(
        plan.diff
            .iter()
            .filter_map(|l| l.strip_prefix('-'))
            .all(|l| matches!(l.trim(), "}" | "]" | "},")),
        "{:?}",
        plan.diff
    );
    assert_eq!(policy(&s, &x).await, before);
    // Longer than asked is refused.
    let e = requests::plan_approval(&s.state, &operator, r.id, "1d")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput);

    let done = requests::approve(&s.state, &operator, r.id, "1h", "ok for the incident")
        .await
        .unwrap();
    assert_eq!(done.status, RequestStatus::Active);
    let until = done.expires_at.unwrap();
    assert!((until.secs() - done.decided_at.unwrap().secs() - 3_600).abs() <= 2);
    let after = policy(&s, &x).await;
    let ours: Vec<Value> = statements(&after)
        .into_iter()
        .filter(|st| st["Sid"] == done.sid())
        .collect();
    assert_eq!(ours.len(), 1, "{after:?}");
    let st = &ours[0];
    assert_eq!(st["Effect"], "Allow");
    assert_eq!(st["Principal"]["AWS"], READER);
    assert_eq!(st["Action"], serde_json::json!(GRANTED_ACTIONS));
    assert_eq!(
        st["Condition"]["DateLessThan"]["aws:CurrentTime"],
        until.rfc3339()
    );
    // Everything else in the policy is as it was.
    let others: Vec<Value> = statements(&after)
        .into_iter()
        .filter(|st| st["Sid"] != done.sid())
        .collect();
    assert_eq!(others, statements(&before));
    // Two records: the grant about to be written (before PutResourcePolicy,
    // so that no grant is ever without one), and its outcome with the diff.
    assert_eq!(
        audited(&s.state.auth.store, AuditAction::AccessGrant, None).await,
        2
    );

    // Its time comes: the sweep removes it and nothing else.
    let past = Timestamp::new(crate::server::clock::now().secs() - 1);
    s.state
        .auth
        .store
        .transition_request(
            r.id,
            RequestStatus::Active,
            RequestStatus::Active,
            &RequestChange {
                expires_at: Some(past),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(requests::expire_due(&s.state).await.unwrap(), 1);
    assert_eq!(statements(&policy(&s, &x).await), statements(&before));
    let ended = s
        .state
        .auth
        .store
        .access_request(r.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ended.status, RequestStatus::Expired);
    assert_eq!(
        audited(&s.state.auth.store, AuditAction::AccessExpire, None).await,
        1
    );
    // Nothing is left to expire.
    assert_eq!(requests::expire_due(&s.state).await.unwrap(), 0);
    s.server.abort();
}

#[tokio::test]
async fn revocation_removes_early_and_a_denial_applies_nothing() {
    let s = serve_granting().await;
    let (x, before) = target(&s).await;
    let viewer = who("viewer", Role::Viewer);
    let operator = who("operator", Role::Operator);

    let r = ask(&s, &viewer, &x, "1d").await;
    requests::approve(&s.state, &operator, r.id, "", "")
        .await
        .unwrap();
    assert_eq!(
        statements(&policy(&s, &x).await).len(),
        statements(&before).len() + 1
    );
    // The requester gives it up early.
    let done = requests::revoke(&s.state, &viewer, r.id, "incident over")
        .await
        .unwrap();
    assert_eq!(done.status, RequestStatus::Revoked);
    assert_eq!(statements(&policy(&s, &x).await), statements(&before));
    let e = requests::revoke(&s.state, &viewer, r.id, "")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);

    // A denial needs a reason, and applies nothing.
    let r = ask(&s, &viewer, &x, "1d").await;
    let e = requests::deny(&s.state, &operator, r.id, "  ")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    let denied = requests::deny(&s.state, &operator, r.id, "use the read replica's user")
        .await
        .unwrap();
    assert_eq!(denied.status, RequestStatus::Denied);
    assert_eq!(statements(&policy(&s, &x).await), statements(&before));
    // Decided requests cannot be decided again.
    let e = requests::approve(&s.state, &operator, r.id, "", "")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);
    s.server.abort();
}

#[tokio::test]
async fn only_the_owner_or_an_admin_decides_and_never_the_requester() {
    let s = serve_granting().await;
    let (x, _) = target(&s).await;
    let viewer = who("viewer", Role::Viewer);
    let operator = who("operator", Role::Operator);
    let admin = who("admin", Role::Admin);
    let denied_before = audited(&s.state.auth.store, AuditAction::Denied, None).await;

    // The owner asks for itself: it may not approve its own request.
    let own = ask(&s, &operator, &x, "1h").await;
    let e = requests::approve(&s.state, &operator, own.id, "", "")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden);
    assert!(e.user.contains("someone else"), "{}", e.user);
    // Someone who is not the owner may not either.
    let e = requests::approve(&s.state, &viewer, own.id, "", "")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden);
    let e = requests::deny(&s.state, &viewer, own.id, "no")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden);
    assert_eq!(
        audited(&s.state.auth.store, AuditAction::Denied, None).await - denied_before,
        3
    );
    // An admin may.
    let done = requests::approve(&s.state, &admin, own.id, "", "")
        .await
        .unwrap();
    assert_eq!(done.status, RequestStatus::Active);

    // Over HTTP: the viewer's forged approval of another request is 403.
    let r = ask(&s, &who("payments", Role::Operator), &x, "1h").await;
    let viewer = s.signed_in("viewer").await;
    let res = viewer
        .post_form(
            "/api/approve_request",
            &format!("id={}&duration=&comment=", r.id),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.body);
    let still = s
        .state
        .auth
        .store
        .access_request(r.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.status, RequestStatus::Pending);
    s.server.abort();
}

#[tokio::test]
async fn bad_input_is_refused_and_duplicates_merge() {
    let s = serve_granting().await;
    let (x, _) = target(&s).await;
    let viewer = who("viewer", Role::Viewer);
    let create = |principal: &'static str, why: &'static str, duration: &'static str| {
        let (state, viewer, name) = (s.state.clone(), viewer.clone(), x.name.to_string());
        async move { requests::create(&state, &viewer, &name, principal, why, duration).await }
    };
    for (principal, why, duration, says) in [
        ("*", WHY, "1h", "not an IAM principal ARN"),
        (
            "arn:aws:sts::123456789012:assumed-role/app/s",
            WHY,
            "1h",
            "name the role",
        ),
        (READER, "because", "1h", "at least 10 characters"),
        (READER, WHY, "8d", "longer than the most"),
        (READER, WHY, "soon", "not a duration"),
    ] {
        let e = create(principal, why, duration).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput, "{principal} {duration}");
        assert!(e.user.contains(says), "{}", e.user);
    }
    let all = s
        .state
        .auth
        .store
        .access_requests(&Default::default(), 10)
        .await
        .unwrap();
    assert!(all.is_empty(), "bad input stored nothing");

    let (a, merged_a) = create(READER, WHY, "1h").await.unwrap();
    let (b, merged_b) = requests::create(
        &s.state,
        &who("operator", Role::Operator),
        &x.name,
        READER,
        "Also needed for the postmortem",
        "4h",
    )
    .await
    .unwrap();
    assert_eq!((merged_a, merged_b, a.id), (false, true, b.id));
    assert!(b
        .justification
        .contains("operator: Also needed for the postmortem"));
    assert_eq!(b.duration_secs, 4 * 3_600);

    // A scoped user asking about a secret outside their scopes: refused,
    // as if it did not exist.
    let outside = s
        .state
        .inventory
        .snapshot()
        .secrets()
        .iter()
        .find(|y| !y.name.starts_with("prod/payments/"))
        .cloned()
        .unwrap();
    let payments = Principal {
        id: 0,
        name: "payments".into(),
        grants: vec![Grant::new(
            Role::Operator,
            Scope::Prefix("prod/payments/".into()),
        )],
    };
    let e = requests::create(&s.state, &payments, &outside.name, READER, WHY, "1h")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden);
    s.server.abort();
}

#[tokio::test]
async fn owners_resolve_from_tags_descriptions_rules_and_users() {
    let mut config = Config::default();
    config.requests.owners = [
        ("*@example.com".to_string(), vec!["operator".to_string()]),
        ("@payments-team".to_string(), vec!["payments".to_string()]),
    ]
    .into_iter()
    .collect();
    let s = TestApp::builder().config(config).build().await;
    let snap = s.state.inventory.snapshot();
    let (mut tag, mut description, mut nobody, mut team) = (0, 0, 0, 0);
    for x in snap.secrets() {
        let owner = owner_with_tag(x, "owner");
        let (shown, users) = requests::approvers(&s.state, x).await.unwrap();
        match owner {
            None => {
                nobody += 1;
                assert!(
                    users.is_empty() && shown.contains("the admins decide"),
                    "{shown}"
                );
            }
            Some(o) => {
                match o.source {
                    OwnerSource::Tag(_) => tag += 1,
                    OwnerSource::Description => description += 1,
                }
                let lower = o.name.to_lowercase();
                if lower.ends_with("@example.com") {
                    assert_eq!(users, vec!["operator".to_string()], "{}", o.name);
                } else if lower == "@payments-team" {
                    team += 1;
                    assert_eq!(users, vec!["payments".to_string()]);
                }
                assert!(shown.starts_with(&o.name), "{shown}");
            }
        }
    }
    assert!(
        tag > 0 && description > 0 && nobody > 0,
        "{tag} {description} {nobody}"
    );
    let _ = team;

    // Without a rule, a dashboard user of the owner's name (or its
    // e-mail's local part) decides.
    let mut plain = Config::default();
    plain.requests.owner_tag = "team".into();
    let t = TestApp::builder().config(plain).build().await;
    let x = t
        .state
        .inventory
        .snapshot()
        .secrets()
        .iter()
        .find(|x| {
            x.tags
                .iter()
                .any(|tg| &*tg.key == "team" && &*tg.value == "payments")
        })
        .cloned()
        .expect("a payments team secret");
    let (_, users) = requests::approvers(&t.state, &x).await.unwrap();
    assert_eq!(
        users,
        vec!["payments".to_string()],
        "the team tag names the demo user"
    );
    s.server.abort();
    t.server.abort();
}

#[tokio::test]
async fn an_owner_can_map_to_a_single_sign_on_group() {
    let mut config = Config::default();
    config.requests.owners = [(
        "*@example.com".to_string(),
        vec!["group:payments-oncall".to_string(), "admin".to_string()],
    )]
    .into_iter()
    .collect();
    let s = TestApp::builder().config(config).build().await;
    let store = &s.state.auth.store;
    // Two people signed in through single sign-on, one of them in the group.
    let now = crate::domain::Timestamp::new(1);
    let ann = store.create_user("ann", None, now).await.unwrap();
    let eve = store.create_user("eve", None, now).await.unwrap();
    store
        .set_groups(ann.id, &["payments-oncall".to_string()])
        .await
        .unwrap();
    store
        .set_groups(eve.id, &["growth".to_string()])
        .await
        .unwrap();
    let snap = s.state.inventory.snapshot();
    let x = snap
        .secrets()
        .iter()
        .find(|x| {
            owner_with_tag(x, "owner")
                .is_some_and(|o| o.name.to_lowercase().ends_with("@example.com"))
        })
        .expect("a secret owned by someone at example.com");
    let (_, users) = requests::approvers(&s.state, x).await.unwrap();
    assert_eq!(users, ["ann".to_string(), "admin".to_string()]);
    // Leaving the group (at the next sign-in) ends it.
    store.set_groups(ann.id, &[]).await.unwrap();
    let (_, users) = requests::approvers(&s.state, x).await.unwrap();
    assert_eq!(users, ["admin".to_string()]);
    s.server.abort();
}

#[tokio::test]
async fn requests_and_decisions_reach_the_webhook() {
    let receiver = crate::server::alerts::tests::Receiver::start().await;
    let mut config = granting();
    config.alerts.webhook_url = Some(receiver.url.clone());
    config.alerts.dashboard_url = Some("https://dash.example.test".into());
    let (s, x, _) = ask_then_deny(config).await;
    let texts = when_there_are(2, || {
        receiver
            .bodies()
            .iter()
            .filter_map(|b| b["text"].as_str().map(str::to_string))
            .collect()
    })
    .await;
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(
        texts[0].contains(&format!("viewer asks for read access to {}", x.name)),
        "{}",
        texts[0]
    );
    assert!(
        texts[0].contains("operator decide")
            && texts[0].contains("https://dash.example.test/requests"),
        "{}",
        texts[0]
    );
    assert!(
        texts[1].contains("operator denied viewer's request")
            && texts[1].contains("use the replica"),
        "{}",
        texts[1]
    );
    s.server.abort();
}

/// What a loopback SMTP server received: each message's recipients and text.
type Mailbox = Arc<std::sync::Mutex<Vec<(Vec<String>, String)>>>;

/// A minimal SMTP server on loopback that accepts every message.
async fn smtp_sink() -> (String, Mailbox, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let got: Mailbox = Default::default();
    let kept = got.clone();
    let server = tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read);
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let (mut rcpt, mut line) = (Vec::new(), String::new());
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let upper = line.to_ascii_uppercase();
                    let answer: &[u8] = if upper.starts_with("EHLO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        rcpt.push(line[8..].trim().trim_matches(['<', '>']).to_string());
                        b"250 OK\r\n"
                    } else if upper.starts_with("DATA") {
                        write.write_all(b"354 go on\r\n").await.unwrap();
                        let mut data = String::new();
                        loop {
                            line.clear();
                            lines.read_line(&mut line).await.unwrap();
                            if line == ".\r\n" {
                                break;
                            }
                            data.push_str(&line);
                        }
                        // Undo quoted-printable soft line breaks.
                        let data = data.replace("=\r\n", "");
                        kept.lock().unwrap().push((std::mem::take(&mut rcpt), data));
                        b"250 OK\r\n"
                    } else if upper.starts_with("QUIT") {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        return;
                    } else {
                        b"250 OK\r\n"
                    };
                    write.write_all(answer).await.unwrap();
                }
            });
        }
    });
    (url, got, server)
}

#[tokio::test]
async fn requests_and_decisions_are_mailed_over_smtp() {
    let (url, got, sink) = smtp_sink().await;
    let mut config = granting();
    config.requests.grants = false;
    config.requests.smtp_url = Some(url);
    config.requests.mail_from = "secretscope <secretscope@example.test>".into();
    config.requests.emails = [
        ("operator".to_string(), "ops@example.test".to_string()),
        ("viewer".to_string(), "viewer@example.test".to_string()),
    ]
    .into_iter()
    .collect();
    let (s, x, r) = ask_then_deny(config).await;
    let owner = owner_with_tag(&x, "owner").unwrap().name;
    let mut mail = when_there_are(2, || got.lock().unwrap().clone()).await;
    assert_eq!(mail.len(), 2, "{mail:?}");
    mail.sort_by_key(|(to, _)| to.len());
    let (to_requester, denial) = &mail[0];
    let (to_deciders, asked) = &mail[1];
    let mut expected = vec!["ops@example.test".to_string(), owner];
    expected.sort();
    let mut deciders = to_deciders.clone();
    deciders.sort();
    assert_eq!(deciders, expected);
    assert!(
        asked.contains(&format!("Subject: [secretscope] access request {}", r.id)),
        "{asked}"
    );
    assert!(asked.contains("viewer asks for read access"), "{asked}");
    assert!(
        asked.contains("From: secretscope <secretscope@example.test>"),
        "{asked}"
    );
    assert_eq!(to_requester, &vec!["viewer@example.test".to_string()]);
    assert!(denial.contains("use the replica"), "{denial}");
    sink.abort();
    s.server.abort();
}

/// Issue 19, finding 4: a viewer asks for an hour; the operator who decides
/// for the secret asks for a week for the same principal; the two merge, and
/// the operator must not then approve the week they asked for.
#[tokio::test]
async fn a_decider_who_merged_into_a_request_may_not_decide_it() {
    let s = serve_granting().await;
    let (x, _) = target(&s).await;
    let viewer = who("viewer", Role::Viewer);
    let operator = who("operator", Role::Operator);
    let first = ask(&s, &viewer, &x, "1h").await;
    assert!(
        requests::may_decide(&s.state, &operator, &first)
            .await
            .unwrap(),
        "the operator decides for this secret"
    );
    let (merged, was_merged) = requests::create(
        &s.state,
        &operator,
        &x.name,
        READER,
        "Need it for the week of the migration",
        "3d",
    )
    .await
    .unwrap();
    assert!(was_merged);
    assert_eq!(merged.id, first.id);
    assert_eq!(merged.requested_by, "viewer");
    assert_eq!(merged.askers, ["viewer", "operator"]);
    assert!(!requests::may_decide(&s.state, &operator, &merged)
        .await
        .unwrap());
    let e = requests::approve(&s.state, &operator, merged.id, "", "")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden);
    assert!(e.user.contains("You asked for request"), "{}", e.user);
    let e = requests::deny(&s.state, &operator, merged.id, "no")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden);
    // The inbox does not offer it either; an admin who did not ask decides.
    let done = requests::approve(&s.state, &who("admin", Role::Admin), merged.id, "", "")
        .await
        .unwrap();
    assert_eq!(done.status, RequestStatus::Active);
    s.server.abort();
}

/// Issue 19 (low): a failure after PutResourcePolicy dropped the grant's
/// audit record and left the request approved, which the expiry sweep never
/// read. Now the grant is recorded before the policy changes, and the sweep
/// removes its statement when due whatever the request's status says.
#[tokio::test]
async fn a_failure_after_the_policy_is_written_leaves_a_recorded_grant_that_still_expires() {
    let s = serve_granting().await;
    let (x, before) = target(&s).await;
    let viewer = who("viewer", Role::Viewer);
    let operator = who("operator", Role::Operator);
    let r = ask(&s, &viewer, &x, "1h").await;
    requests::FAIL_AFTER_PUT.store(r.id, std::sync::atomic::Ordering::SeqCst);
    let done = requests::approve(&s.state, &operator, r.id, "", "")
        .await
        .unwrap();
    requests::FAIL_AFTER_PUT.store(0, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(done.status, RequestStatus::Failed);
    // The statement is in the policy, and the trail says so.
    let held = statements(&policy(&s, &x).await);
    assert!(held.iter().any(|st| st["Sid"] == r.sid()), "{held:?}");
    let trail = s
        .state
        .auth
        .store
        .audit_page(
            &crate::server::store::AuditFilter {
                action: Some(AuditAction::AccessGrant),
                ..Default::default()
            },
            0,
            10,
        )
        .await
        .unwrap();
    assert!(
        trail.records.iter().any(|e| e
            .event
            .detail
            .contains(&format!("adding statement {}", r.sid()))),
        "{:?}",
        trail.records
    );
    // Not due yet: nothing happens. Due: the statement goes, the rest stays.
    let until = done.expires_at.expect("an expiry");
    assert_eq!(
        requests::expire_due_at(&s.state, Timestamp::new(until.secs() - 60))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        requests::expire_due_at(&s.state, Timestamp::new(until.secs() + 1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(statements(&policy(&s, &x).await), statements(&before));
    let ended = s
        .state
        .auth
        .store
        .access_request(r.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ended.status, RequestStatus::Expired);
    s.server.abort();
}

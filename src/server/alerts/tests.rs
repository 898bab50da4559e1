//! Messages, escaping, the sink and the delivery against a loopback receiver.

use super::delivery::*;
use super::messages::*;
use super::*;
use crate::domain::health::{self, HealthConfig};
use crate::domain::secret::fixtures::secret;
use crate::domain::{Label, Version, VersionId};
use crate::domain::{Secret, Timestamp};
use crate::server::config::AlertSettings;
use crate::server::health::{Alarm, HealthView, Transition};
use crate::server::inventory::Snapshot;
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

const NOW: i64 = 1_800_000_000;

/// Statuses to answer with, and their `Retry-After`.
type Script = Arc<Mutex<VecDeque<(u16, Option<&'static str>)>>>;

/// A webhook receiver on a free loopback port: records every POST body
/// and answers with the scripted statuses, then 200 "ok".
pub(crate) struct Receiver {
    pub url: String,
    pub bodies: Arc<Mutex<Vec<Value>>>,
    script: Script,
    server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub(crate) async fn start() -> Receiver {
        use axum::http::StatusCode;
        use axum::response::IntoResponse;
        let bodies: Arc<Mutex<Vec<Value>>> = Default::default();
        let script: Script = Default::default();
        let (b, s) = (bodies.clone(), script.clone());
        let app = axum::Router::new().route(
            "/services/{*rest}",
            axum::routing::post(move |body: Bytes| {
                let (b, s) = (b.clone(), s.clone());
                async move {
                    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    b.lock().unwrap().push(v);
                    let (code, retry) = s.lock().unwrap().pop_front().unwrap_or((200, None));
                    let mut resp = (StatusCode::from_u16(code).unwrap(), "ok").into_response();
                    if let Some(r) = retry {
                        resp.headers_mut().insert("retry-after", r.parse().unwrap());
                    }
                    resp
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver {
            url: format!("http://{addr}/services/T000/B000/credential"),
            bodies,
            script,
            server,
        }
    }

    pub(crate) fn answer(&self, statuses: &[(u16, Option<&'static str>)]) {
        self.script.lock().unwrap().extend(statuses.iter().copied());
    }

    pub(crate) fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        first_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
        max_retry_after: Duration::from_millis(20),
        timeout: Duration::from_secs(10),
    }
}

fn settings(url: &str, dashboard: Option<&str>) -> AlertSettings {
    AlertSettings {
        webhook_url: Some(url.to_string()),
        dashboard_url: dashboard.map(String::from),
        ..AlertSettings::default()
    }
}

fn sink_for(url: &str, policy: RetryPolicy) -> (WebhookSink, Delivery, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::new());
    let (sink, delivery) = WebhookSink::new(
        &settings(url, Some("https://dash.example.test/")),
        HealthConfig::default(),
        metrics.clone(),
        policy,
    )
    .unwrap()
    .unwrap();
    (sink, delivery, metrics)
}

/// A secret whose rotation has been stuck for two hours.
fn stuck(name: &str) -> Secret {
    let mut s = secret(name);
    s.rotation_enabled = true;
    s.rotation_lambda_arn = Some("arn:aws:lambda:us-east-1:1:function:rotate-<b>&co".into());
    s.last_rotated = Some(Timestamp::new(NOW - 86_400));
    s.versions.push(Version {
        id: VersionId::parse("pending-1"),
        labels: [Label::Pending].into_iter().collect(),
        created: Some(Timestamp::new(NOW - 7200)),
        last_accessed: None,
    });
    s
}

fn all_text(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(v, &mut out);
    out
}

/// Only Slack's documented block shapes, and every `<` opens a token
/// this module wrote (a date or a dashboard link).
fn assert_slack_shape(v: &Value) {
    assert!(v["text"].as_str().is_some_and(|t| !t.is_empty()), "{v}");
    let blocks = v["blocks"].as_array().expect("blocks");
    assert!(!blocks.is_empty() && blocks.len() <= 50);
    for b in blocks {
        match b["type"].as_str() {
            Some("section") => {
                if let Some(t) = b.get("text") {
                    assert_eq!(t["type"], "mrkdwn");
                    assert!(t["text"].as_str().unwrap().chars().count() <= 3000);
                }
                if let Some(f) = b.get("fields") {
                    let f = f.as_array().unwrap();
                    assert!(!f.is_empty() && f.len() <= 10);
                    for x in f {
                        assert_eq!(x["type"], "mrkdwn");
                        assert!(x["text"].as_str().unwrap().chars().count() <= 2000);
                    }
                }
                assert!(b.get("text").is_some() || b.get("fields").is_some());
            }
            Some("context") => {
                let e = b["elements"].as_array().unwrap();
                assert!(!e.is_empty() && e.len() <= 10);
            }
            other => panic!("unexpected block {other:?}"),
        }
    }
    for t in all_text(v) {
        for (i, _) in t.match_indices('<') {
            let rest = &t[i..];
            assert!(
                rest.starts_with("<!date^") || rest.starts_with("<https://dash.example.test/"),
                "a raw < that is not ours in {t:?}"
            );
        }
    }
}

#[test]
fn escaping_follows_slacks_rules() {
    assert_eq!(
        escape("<!channel> & <https://evil.test|click>"),
        "&lt;!channel&gt; &amp; &lt;https://evil.test|click&gt;"
    );
    assert_eq!(escape("prod/db"), "prod/db");
    assert_eq!(
        escape("&amp;"),
        "&amp;amp;",
        "escaped once more, not trusted"
    );
    assert_eq!(clip("abcdef", 4), "abc…");
    assert_eq!(clip("abc", 4), "abc");
}

#[test]
fn a_failure_message_names_the_secret_and_escapes_it() {
    let s = stuck("prod/<!channel>&db");
    let t = Transition {
        arn: s.arn.clone(),
        name: s.name.clone(),
        from: None,
        to: Some(Alarm::RotationFailed),
    };
    let v = transition_message(
        &t,
        Some(&s),
        &HealthConfig::default(),
        Timestamp::new(NOW),
        Some("https://dash.example.test"),
    );
    assert_slack_shape(&v);
    let body = v.to_string();
    assert!(!body.contains("<!channel>"), "{body}");
    assert_eq!(v["text"], "Rotation failed: prod/&lt;!channel&gt;&amp;db");
    let head = v["blocks"][0]["text"]["text"].as_str().unwrap();
    assert!(
        head.starts_with(":red_circle: *Rotation failed*: *prod/&lt;!channel&gt;&amp;db*"),
        "{head}"
    );
    // The rule's own sentence, escaped (it names the Lambda and the version).
    let detail = health::evaluate(&s, None, &HealthConfig::default(), Timestamp::new(NOW))
        .into_iter()
        .find(|f| f.rule == crate::domain::health::RuleId::RotationFailed)
        .unwrap()
        .detail;
    assert!(head.contains(&escape(&detail)), "{head}");
    let fields = all_text(&v["blocks"][1]);
    assert!(
        fields.contains(&"*Account*\n123456789012".to_string()),
        "{fields:?}"
    );
    assert!(fields.contains(&"*Severity*\ncritical".to_string()));
    assert!(
        fields.contains(&"*Lambda*\nrotate-&lt;b&gt;&amp;co".to_string()),
        "{fields:?}"
    );
    assert!(fields
        .iter()
        .any(|f| f.starts_with(&format!("*Since*\n<!date^{}^", NOW - 7200))));
    let context = v["blocks"][2]["elements"][0]["text"].as_str().unwrap();
    // The link opens the on-call queue on this incident, the name encoded
    // in the query and the fragment (and `&` escaped for mrkdwn).
    assert!(
        context.contains(
            "<https://dash.example.test/oncall?incident=prod%2F%3C%21channel%3E%26db\
             #incident-prod/%3C!channel%3E&amp;db|Open in secretscope>"
        ),
        "{context}"
    );
    assert!(context.contains("rotation-failed"));
}

#[test]
fn overdue_recovered_and_gone() {
    let cfg = HealthConfig::default();
    let mut s = secret("app/api-key");
    s.rotation_enabled = true;
    s.rotation_lambda_arn = Some("arn:aws:lambda:us-east-1:1:function:rot".into());
    s.last_rotated = Some(Timestamp::new(NOW - 40 * 86_400));
    s.next_rotation = Some(Timestamp::new(NOW - 5 * 86_400));
    let t = |from, to| Transition {
        arn: s.arn.clone(),
        name: s.name.clone(),
        from,
        to,
    };
    let overdue = transition_message(
        &t(Some(Alarm::RotationFailed), Some(Alarm::RotationOverdue)),
        Some(&s),
        &cfg,
        Timestamp::new(NOW),
        None,
    );
    assert_slack_shape(&overdue);
    let head = overdue["blocks"][0]["text"]["text"].as_str().unwrap();
    assert!(
        head.starts_with(
            ":large_orange_circle: *Rotation overdue* (was: rotation failed): *app/api-key*\n"
        ),
        "{head}"
    );
    assert!(
        !overdue.to_string().contains("Open in secretscope"),
        "no dashboard URL, no link"
    );

    let recovered = transition_message(
        &t(Some(Alarm::RotationFailed), None),
        Some(&s),
        &cfg,
        Timestamp::new(NOW),
        Some("https://dash.example.test"),
    );
    assert_slack_shape(&recovered);
    assert_eq!(recovered["text"], "Recovered: app/api-key");
    let head = recovered["blocks"][0]["text"]["text"].as_str().unwrap();
    assert_eq!(
        head,
        ":white_check_mark: *Recovered*: *app/api-key* is no longer rotation failed"
    );
    assert!(all_text(&recovered)
        .iter()
        .any(|x| x.starts_with("*Last rotated*")));

    let gone = transition_message(
        &t(Some(Alarm::RotationOverdue), None),
        None,
        &cfg,
        Timestamp::new(NOW),
        Some("https://dash.example.test"),
    );
    assert_slack_shape(&gone);
    assert_eq!(gone["text"], "Gone from the inventory: app/api-key");
    assert_eq!(
        gone["blocks"].as_array().unwrap().len(),
        2,
        "no fields, no link"
    );
}

fn view_of(secrets: Vec<Secret>) -> HealthView {
    let snap = Snapshot::new(
        secrets.into_iter().map(Arc::new).collect(),
        Some(Timestamp::new(NOW)),
    );
    HealthView::compute(
        Arc::new(snap),
        &HealthConfig::default(),
        Timestamp::new(NOW),
        &HashMap::new(),
    )
}

#[test]
fn the_start_summary_is_sent_only_when_something_is_broken() {
    assert_eq!(start_summary(&view_of(vec![secret("fine")]), None), None);
    let many: Vec<Secret> = (0..25).map(|i| stuck(&format!("svc{i:02}/db"))).collect();
    let v = start_summary(&view_of(many), Some("https://dash.example.test")).unwrap();
    assert_slack_shape(&v);
    assert_eq!(v["text"], "secretscope: 25 rotations failed, 0 overdue");
    let list = v["blocks"][1]["text"]["text"].as_str().unwrap();
    assert_eq!(list.lines().count(), MAX_LISTED + 1);
    assert!(list.ends_with("…and 5 more"), "{list}");
    assert!(v.to_string().contains("<https://dash.example.test/oncall|"));
}

#[tokio::test]
async fn the_sink_sends_one_message_per_change_and_a_digest_for_a_flood() {
    let (sink, delivery, metrics) = sink_for("http://127.0.0.1:9/services/x", fast());
    drop(delivery);
    let mut rx = {
        // Swap in a receiver we can read: rebuild with a live channel.
        let (tx, rx) = mpsc::channel(QUEUE);
        let sink = WebhookSink {
            out: Notifier {
                tx,
                ..sink.out.clone()
            },
            ..sink
        };
        let secrets: Vec<Secret> = (0..3).map(|i| stuck(&format!("s{i}"))).collect();
        let view = view_of(secrets.clone());
        let changes: Vec<Transition> = secrets
            .iter()
            .map(|s| Transition {
                arn: s.arn.clone(),
                name: s.name.clone(),
                from: None,
                to: Some(Alarm::RotationFailed),
            })
            .collect();
        sink.transitions(&view, changes.clone());
        let flood: Vec<Transition> = changes.iter().cycle().take(21).cloned().collect();
        sink.transitions(&view, flood);
        sink.baseline(&view, 0);
        rx
    };
    let mut got = Vec::new();
    while let Some(m) = rx.recv().await {
        got.push(m);
    }
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(got[0].about, "rotation-failed \"s0\"");
    assert_eq!(got[3].about, "digest of 21 changes");
    assert_slack_shape(&got[3].payload);
    assert_eq!(metrics.alerts.queued.load(Ordering::Relaxed), 4);
}

#[tokio::test]
async fn a_full_queue_drops_and_counts_without_waiting() {
    let (sink, _delivery, metrics) = sink_for("http://127.0.0.1:9/services/x", fast());
    for i in 0..QUEUE + 2 {
        sink.queue(Message {
            about: format!("m{i}"),
            payload: json!({"text": "x"}),
        });
    }
    assert_eq!(metrics.alerts.dropped.load(Ordering::Relaxed), 2);
    assert_eq!(metrics.alerts.queued.load(Ordering::Relaxed), QUEUE as u64);
}

#[tokio::test]
async fn retries_a_500_then_delivers_and_gives_up_on_a_400() {
    let rx = Receiver::start().await;
    let (_sink, delivery, metrics) = sink_for(&rx.url, fast());
    let msg = Message {
        about: "test".into(),
        payload: json!({"text": "hello", "blocks": []}),
    };
    rx.answer(&[(500, None), (429, Some("0"))]);
    assert!(delivery.deliver(&msg).await);
    let bodies = rx.bodies();
    assert_eq!(bodies.len(), 3, "500, 429, then ok");
    assert!(bodies.iter().all(|b| *b == msg.payload));
    let count = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    assert_eq!(count(&metrics.alerts.retries), 2);
    assert_eq!(count(&metrics.alerts.sent), 1);

    rx.answer(&[(400, None)]);
    assert!(!delivery.deliver(&msg).await);
    assert_eq!(rx.bodies().len(), 4, "a 400 is not retried");
    assert_eq!(count(&metrics.alerts.failed), 1);

    rx.answer(&[(503, None), (503, None), (503, None)]);
    assert!(!delivery.deliver(&msg).await);
    assert_eq!(rx.bodies().len(), 7, "three attempts, then give up");
    assert_eq!(count(&metrics.alerts.failed), 2);
}

#[tokio::test]
async fn connection_errors_are_retried() {
    // A port that was free a moment ago: connection refused.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (_sink, delivery, metrics) =
        sink_for(&format!("http://127.0.0.1:{port}/services/x"), fast());
    let msg = Message {
        about: "test".into(),
        payload: json!({"text": "x"}),
    };
    assert!(!delivery.deliver(&msg).await);
    assert_eq!(metrics.alerts.retries.load(Ordering::Relaxed), 2);
    assert_eq!(metrics.alerts.failed.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn https_urls_speak_tls() {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let first = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 3];
        s.read_exact(&mut buf).await.unwrap();
        buf
    });
    let policy = RetryPolicy {
        attempts: 1,
        ..fast()
    };
    let (_sink, delivery, _) = sink_for(&format!("https://{addr}/services/x"), policy);
    let msg = Message {
        about: "test".into(),
        payload: json!({"text": "x"}),
    };
    let sent = tokio::spawn(async move { delivery.deliver(&msg).await });
    let record = first.await.unwrap();
    assert_eq!(record[0], 0x16, "a TLS handshake record, not plain HTTP");
    assert_eq!(record[1], 0x03);
    assert!(!sent.await.unwrap(), "nobody finished the handshake");
}

#[test]
fn retry_after_and_bad_urls() {
    let mut h = http::HeaderMap::new();
    assert_eq!(retry_after(&h), None);
    h.insert(http::header::RETRY_AFTER, "30".parse().unwrap());
    assert_eq!(retry_after(&h), Some(Duration::from_secs(30)));
    h.insert(
        http::header::RETRY_AFTER,
        "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
    );
    assert_eq!(retry_after(&h), None, "dates fall back to the backoff");

    let m = Arc::new(Metrics::new());
    for bad in ["hooks.slack.com/services/x", "ftp://x/y", "http:///nohost"] {
        let err = WebhookSink::new(
            &settings(bad, None),
            HealthConfig::default(),
            m.clone(),
            fast(),
        )
        .err()
        .unwrap_or_else(|| panic!("{bad} accepted"));
        assert!(!err.to_string().contains(bad), "the URL is not repeated");
    }
    let none = WebhookSink::new(
        &AlertSettings::default(),
        HealthConfig::default(),
        m,
        fast(),
    );
    assert!(matches!(none, Ok(None)));
}

/// Two replicas on one store: a change both see is announced once; a
/// message the holder recorded and never posted (it died) is posted by the
/// next holder, once; messages of other kinds are recorded and posted the
/// same way, a keyed one once ever.
#[tokio::test]
async fn two_replicas_announce_once_and_the_next_holder_posts_what_a_dead_one_recorded() {
    use crate::server::health::HealthMonitor;
    use crate::server::inventory::Inventory;
    let receiver = Receiver::start().await;
    let store = crate::server::store::Store::open("sqlite::memory:")
        .await
        .unwrap();
    let (a, _da, _) = sink_for(&receiver.url, fast());
    let (b, _db, _) = sink_for(&receiver.url, fast());
    let (poster_a, poster_b) = (
        a.notifier().use_store(store.clone()),
        b.notifier().use_store(store.clone()),
    );
    let announcer = |outbox: &outbox::Outbox| outbox::Announcer {
        outbox: outbox.clone(),
        health: Arc::new(HealthMonitor::new(
            HealthConfig::default(),
            Arc::new(Inventory::new()),
            Duration::from_secs(30),
            None,
        )),
        cfg: HealthConfig::default(),
        dashboard_url: None,
    };
    let (on_a, on_b) = (announcer(poster_a.outbox()), announcer(poster_b.outbox()));

    // Nothing broken at the start: the start is silent, on both.
    let healthy = view_of(vec![secret("prod/db"), secret("prod/api")]);
    assert_eq!(on_a.round(&healthy).await.unwrap(), 0);
    assert_eq!(on_b.round(&healthy).await.unwrap(), 0);
    // prod/db fails: announced by a, not again by b, which sees it too.
    let failing = view_of(vec![stuck("prod/db"), secret("prod/api")]);
    let db = failing
        .snapshot
        .secrets()
        .iter()
        .position(|s| &*s.name == "prod/db");
    assert!(Alarm::of(&failing.summaries[db.unwrap()]).is_some());
    assert_eq!(on_a.round(&failing).await.unwrap(), 1);
    assert_eq!(on_b.round(&failing).await.unwrap(), 0);
    assert_eq!(on_a.round(&failing).await.unwrap(), 0);
    // The sink stays quiet: the announcer speaks for it.
    a.transitions(
        &failing,
        vec![Transition {
            arn: failing.snapshot.secrets()[db.unwrap()].arn.clone(),
            name: "prod/db".into(),
            from: None,
            to: Some(Alarm::RotationFailed),
        }],
    );
    // a dies before posting; b holds the lease now and posts it, once.
    drop(poster_a);
    assert_eq!(poster_b.post_pending().await.unwrap(), 1);
    assert_eq!(poster_b.post_pending().await.unwrap(), 0);
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert!(all_text(&bodies[0]).iter().any(|t| t.contains("prod/db")));

    // Other messages: recorded (in a task) and posted by the holder; a
    // keyed one once whichever replica sends it.
    b.notifier()
        .send("access request 1".into(), "asks for access");
    for n in [a.notifier(), b.notifier()] {
        n.send_once("new-reader k".into(), "new-reader".into(), "read by x");
    }
    let mut posted = 0;
    for _ in 0..200 {
        posted += poster_b.post_pending().await.unwrap();
        if posted >= 2 && store.message_counts().await.unwrap().0 == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(posted, 2);
    assert_eq!(receiver.bodies().len(), 3);
    assert_eq!(store.message_counts().await.unwrap(), (0, 3, 0));
}

/// A new holder announces nothing from a snapshot taken before it took
/// the lease (it may be behind what the last holder announced): it waits
/// for its first snapshot taken since.
#[tokio::test]
async fn a_new_holder_announces_from_its_first_snapshot_taken_since() {
    use crate::server::health::HealthMonitor;
    use crate::server::inventory::{Inventory, ListStats};
    let store = crate::server::store::Store::open("sqlite::memory:")
        .await
        .unwrap();
    let (sink, _delivery, _) = sink_for("http://127.0.0.1:9/x", fast());
    let poster = sink.notifier().use_store(store.clone());
    let inventory = Arc::new(Inventory::new());
    let publish = |at: i64| {
        inventory.publish_list(
            vec![Arc::new(secret("prod/db"))],
            ListStats::default(),
            Timestamp::new(at),
            0,
        )
    };
    let since = crate::server::clock::now();
    publish(since.secs() - 60);
    let announcer = outbox::Announcer {
        outbox: poster.outbox().clone(),
        health: Arc::new(HealthMonitor::new(
            HealthConfig::default(),
            inventory.clone(),
            Duration::from_secs(1),
            None,
        )),
        cfg: HealthConfig::default(),
        dashboard_url: None,
    };
    let running = tokio::spawn(announcer.run(since));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        !store.announced().await.unwrap().baseline,
        "nothing announced from the old snapshot"
    );
    publish(since.secs());
    let mut waited = 0;
    while !store.announced().await.unwrap().baseline {
        waited += 1;
        assert!(waited < 300, "the fresh snapshot was never announced");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    running.abort();
}

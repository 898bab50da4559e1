//! The alerting path end to end, as `serve` runs it: the demo endpoint, the
//! sync and the health monitor started by [`Background`], the dashboard
//! router, and a webhook receiver on loopback. A rotation is driven to
//! failure and back through the SDK; the failure must show on the on-call
//! queue, in `/metrics` and in exactly one webhook call, and the recovery in
//! exactly one more.

use super::client::Client;
use crate::api::build::health as overview;
use crate::api::Oncall;
use crate::domain::health::RuleId;
use crate::server::alerts::tests::Receiver;
use crate::server::aws::build_client;
use crate::server::clock::now;
use crate::server::config::{AlertSettings, Config, SyncSettings};
use crate::server::inventory::Inventory;
use crate::server::metrics::tests::{parse, value};
use crate::server::Background;
use aws_sdk_secretsmanager::types::{RotationRulesType, Tag};
use secretsmanager_emulator::{self as local, seed, LambdaBehaviour, LocalOptions};
use serde_json::Value;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

const NAME: &str = "prod/alerts/orders-db";
/// Generous: a guard against a hang, not a timing assertion.
const DEADLINE: Duration = Duration::from_secs(90);

/// Polls `f` until it gives a value; panics naming `what` at the deadline.
async fn until<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(started.elapsed() < DEADLINE, "gave up waiting: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `/metrics`, checked for its content type and parsed strictly.
async fn metrics(client: &Client) -> Vec<crate::server::metrics::tests::Sample> {
    let res = client.get("/metrics").await;
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(
        res.header("content-type")
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8"),
        "{res:?}"
    );
    let body = &res.body;
    parse(body).unwrap_or_else(|e| panic!("{e}\n{body}"))
}

fn failed_in_metrics(samples: &[crate::server::metrics::tests::Sample]) -> f64 {
    value(
        samples,
        "secretscope_findings",
        &[("rule", "rotation-failed"), ("severity", "critical")],
    )
    .expect("the rotation-failed sample")
}

/// The webhook bodies whose fallback text names the secret.
fn calls_about(rx: &Receiver, name: &str) -> Vec<Value> {
    rx.bodies()
        .into_iter()
        .filter(|b| b["text"].as_str().is_some_and(|t| t.contains(name)))
        .collect()
}

fn row_is_failed(o: &Oncall) -> bool {
    o.rows
        .iter()
        .any(|r| r.name == NAME && r.problem == RuleId::RotationFailed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_rotation_reaches_oncall_metrics_and_one_webhook_call_then_recovers() {
    let receiver = Receiver::start().await;
    // No seeded secrets: every alarm in this test is the one it causes.
    let ep = local::spawn(
        LocalOptions {
            seed_secrets: 0,
            rotation_step: Duration::from_millis(20),
            ..LocalOptions::default()
        },
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .unwrap();

    let mut config = Config::default();
    config.aws.endpoint_url = Some(ep.url());
    config.aws.region = Some("us-east-1".into());
    config.aws.max_attempts = 3;
    config.sync = SyncSettings {
        interval_secs: 1,
        list_rate_per_sec: 0.0,
        version_rate_per_sec: 0.0,
        ..SyncSettings::default()
    };
    // A rotation left pending for 2 s counts as failed; a successful
    // simulated rotation is over in a few rotation steps.
    config.health.pending_grace_secs = 2;
    config.alerts = AlertSettings {
        webhook_url: Some(receiver.url.clone()),
        dashboard_url: Some("https://dash.example.test".into()),
        evaluate_every_secs: 1,
    };

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let source = build_client(&config.aws).await;
    let state = super::test_state(addr, Arc::new(Inventory::new()), config, source).await;
    let server = super::serve_router(listener, state.clone());
    let background = Background::start(&state);
    let anonymous = Client::new(addr);
    let operator = anonymous
        .login("operator", super::demo_password("operator"))
        .await;

    until("the first sync", || async {
        state.inventory.is_ready().then_some(())
    })
    .await;
    assert_eq!(anonymous.get("/readyz").await.status, 200);
    // The first evaluation of a real snapshot is the baseline: nothing is
    // broken, so nothing is sent.
    assert_eq!(state.health.current(now()).counts.secrets, 0);
    assert_eq!(failed_in_metrics(&metrics(&anonymous).await), 0.0);

    // A secret whose rotation Lambda fails at setSecret.
    let client = &state.sources.primary().client;
    client
        .create_secret()
        .name(NAME)
        .description("Orders database")
        .tags(Tag::builder().key("owner").value("team-orders").build())
        .send()
        .await
        .unwrap();
    let broken = seed::lambda_arn(
        "us-east-1",
        "123456789012",
        LambdaBehaviour::Broken,
        "orders",
    );
    client
        .rotate_secret()
        .secret_id(NAME)
        .rotation_lambda_arn(&broken)
        .rotation_rules(
            RotationRulesType::builder()
                .automatically_after_days(30)
                .build(),
        )
        .send()
        .await
        .unwrap();

    // On the on-call queue: its data, and the page a person opens.
    let oncall = until("the failure on the on-call queue", || async {
        let o = overview::oncall(&state, &state.health.current(now()), false).await;
        row_is_failed(&o).then_some(o)
    })
    .await;
    let row = oncall.rows.iter().find(|r| r.name == NAME).unwrap();
    assert_eq!(oncall.failed, 1);
    assert_eq!(
        row.lambda.as_deref(),
        Some("SecretsManagerRotation-broken-orders")
    );
    assert!(row.pending_version.is_some(), "{row:?}");
    let res = operator.get("/oncall").await;
    assert_eq!(res.status, 200, "{}", res.body);
    let page = res.body;
    assert!(
        page.contains(&format!(">{NAME}</a>")),
        "the secret is listed"
    );
    assert!(page.contains("data-problem=\"rotation-failed\""));
    assert!(page.contains("1 failed, 0 overdue"), "status line");
    assert!(
        row.detail.contains("SecretsManagerRotation-broken-orders"),
        "{}",
        row.detail
    );

    // In /metrics.
    until("the failure in /metrics", || async {
        (failed_in_metrics(&metrics(&anonymous).await) == 1.0).then_some(())
    })
    .await;

    // In exactly one webhook call.
    let failed = until("the failure webhook call", || async {
        let calls = calls_about(&receiver, NAME);
        (!calls.is_empty()).then_some(calls)
    })
    .await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["text"], format!("Rotation failed: {NAME}"));
    let body = failed[0].to_string();
    assert!(
        body.contains("SecretsManagerRotation-broken-orders"),
        "{body}"
    );
    assert!(
        body.contains("123456789012") && body.contains("us-east-1"),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "<https://dash.example.test{}|Open in secretscope>",
            crate::domain::oncall::incident_href(NAME)
        )),
        "{body}"
    );

    // Fixed: the next rotation runs an `-ok-` Lambda. The failed attempt's
    // AWSPENDING is removed first, as Retry rotation does: RotateSecret
    // refuses while it is there (API reference: "any later invocation of
    // RotateSecret assumes that a previous rotation request is still in
    // progress and returns an error").
    let pending = super::stuck_version(client, NAME)
        .await
        .version_id()
        .expect("the failed attempt left AWSPENDING")
        .to_string();
    client
        .update_secret_version_stage()
        .secret_id(NAME)
        .version_stage("AWSPENDING")
        .remove_from_version_id(&pending)
        .send()
        .await
        .unwrap();
    let ok = seed::lambda_arn("us-east-1", "123456789012", LambdaBehaviour::Ok, "orders");
    client
        .rotate_secret()
        .secret_id(NAME)
        .rotation_lambda_arn(&ok)
        .send()
        .await
        .unwrap();
    let recovered = until("the recovery webhook call", || async {
        let calls = calls_about(&receiver, NAME);
        (calls.len() >= 2).then_some(calls)
    })
    .await;
    assert_eq!(recovered.len(), 2, "{recovered:?}");
    assert_eq!(recovered[1]["text"], format!("Recovered: {NAME}"));
    assert!(!row_is_failed(
        &overview::oncall(&state, &state.health.current(now()), false).await
    ));
    let page = operator.get("/oncall").await.body;
    assert!(
        !page.contains(&format!(">{NAME}</a>")),
        "gone from the page"
    );
    until("the recovery in /metrics", || async {
        (failed_in_metrics(&metrics(&anonymous).await) == 0.0).then_some(())
    })
    .await;

    // Two more list passes and their evaluations, every message handed over
    // delivered: still exactly one failure call and one recovery call.
    let syncs = state.inventory.status().syncs_ok;
    until("two more syncs", || async {
        (state.inventory.status().syncs_ok >= syncs + 2).then_some(())
    })
    .await;
    state.health.current(now());
    until("the alert queue to drain", || async {
        (state.metrics.alerts.queued.load(Ordering::Relaxed) == 0).then_some(())
    })
    .await;
    assert_eq!(calls_about(&receiver, NAME).len(), 2);
    assert_eq!(receiver.bodies().len(), 2, "no other calls at all");

    let samples = metrics(&anonymous).await;
    assert_eq!(
        value(
            &samples,
            "secretscope_alerts_sent_total",
            &[("result", "ok")]
        ),
        Some(2.0)
    );
    assert_eq!(
        value(&samples, "secretscope_alerts_enabled", &[]),
        Some(1.0)
    );
    assert!(
        value(
            &samples,
            "secretscope_http_requests_total",
            &[("method", "GET"), ("route", "/metrics"), ("status", "200")]
        )
        .is_some_and(|n| n >= 3.0),
        "the earlier scrapes (at least three) are counted"
    );
    assert_eq!(
        value(
            &samples,
            "secretscope_secrets",
            &[("account", "123456789012"), ("region", "us-east-1")]
        ),
        Some(1.0)
    );
    assert!(value(&samples, "secretscope_syncs_total", &[("result", "ok")]).unwrap() >= 3.0);
    let text = anonymous.get("/metrics").await.body;
    assert!(!text.contains(NAME), "no secret name in the metrics");

    drop(background);
    server.abort();
}

//! The endpoint itself: injected faults through the SDK's retries, the
//! control routes, unknown operations and malformed requests.

use super::*;
use axum::body::Body;
use tower::ServiceExt;

#[tokio::test]
async fn throttling_fails_the_call_and_light_faults_are_retried_through() {
    let ep = start_with(LocalOptions {
        faults: Faults {
            throttle_rate: 1.0,
            ..Faults::default()
        },
        ..options(300)
    })
    .await;
    let c = client_with(&ep.url(), 2).await;
    let err = c.list_secrets().send().await.unwrap_err();
    assert_eq!(err.code(), Some("ThrottlingException"));
    assert_eq!(err.message(), Some("Rate exceeded"));

    ep.endpoint.set_faults(Faults {
        throttle_rate: 0.2,
        error_rate: 0.05,
        latency_ms: 1,
    });
    let patient = client_with(&ep.url(), 12).await;
    let listed = list_all(&patient, 20, true, vec![], None).await;
    assert_eq!(listed.len(), 300);

    ep.endpoint.set_faults(Faults::default());
    ep.endpoint.set_down(true);
    let err = c.list_secrets().send().await.unwrap_err();
    assert_eq!(err.code(), Some("ServiceUnavailable"));
    ep.endpoint.set_down(false);
    assert_eq!(
        c.list_secrets().send().await.unwrap().secret_list().len(),
        100
    );
}

/// One request to the endpoint's router (a protocol call when `target` is
/// given, else a control route): status, `x-amzn-ErrorType`, JSON body.
async fn call(
    ep: &LocalEndpoint,
    method: &str,
    uri: &str,
    target: Option<&str>,
    body: &str,
) -> (axum::http::StatusCode, Option<String>, serde_json::Value) {
    let mut b = axum::http::Request::builder().method(method).uri(uri);
    if let Some(t) = target {
        b = b
            .header("x-amz-target", t)
            .header("content-type", "application/x-amz-json-1.1");
    } else if method == "POST" {
        b = b.header("content-type", "application/json");
    }
    let req = b.body(Body::from(body.to_string())).unwrap();
    let resp = ep.router().oneshot(req).await.unwrap();
    let status = resp.status();
    let error_type = resp
        .headers()
        .get("x-amzn-ErrorType")
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        error_type,
        serde_json::from_slice::<serde_json::Value>(&bytes).unwrap(),
    )
}

#[tokio::test]
async fn control_routes_and_unknown_operations() {
    let ep = LocalEndpoint::new(options(40));

    let (status, kind, body) =
        call(&ep, "POST", "/", Some("secretsmanager.Frobnicate"), "{}").await;
    assert_eq!(status, 400);
    assert_eq!(kind.as_deref(), Some("UnknownOperationException"));
    assert_eq!(body["__type"], "UnknownOperationException");

    let (status, _, body) = call(&ep, "POST", "/", Some("secretsmanager.ListSecrets"), "").await;
    assert_eq!(status, 200);
    assert_eq!(
        body["SecretList"].as_array().unwrap().len(),
        40 - ep.plan().iter().filter(|p| p.deleted).count()
    );

    let (status, _, plan) = call(&ep, "GET", "/__secretscope/plan", None, "").await;
    assert_eq!(status, 200);
    assert_eq!(plan.as_array().unwrap().len(), 40);
    assert!(plan[0]["scenario"].is_string());

    let (status, _, _) = call(
        &ep,
        "POST",
        "/__secretscope/faults",
        None,
        r#"{"throttle_rate": 1.0}"#,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(ep.faults().throttle_rate, 1.0);
    let (_, kind, _) = call(&ep, "POST", "/", Some("secretsmanager.ListSecrets"), "{}").await;
    assert_eq!(kind.as_deref(), Some("ThrottlingException"));
    let (status, _, _) = call(
        &ep,
        "POST",
        "/__secretscope/faults",
        None,
        r#"{"throttle_rate": 2}"#,
    )
    .await;
    assert_eq!(status, 400);
    call(&ep, "POST", "/__secretscope/faults", None, "{}").await;

    // How Secrets Manager retries failed rotations: an hour apart by default.
    let (status, _, retries) = call(&ep, "GET", "/__secretscope/service-retries", None, "").await;
    assert_eq!(status, 200);
    assert_eq!(
        retries,
        serde_json::json!({"delay_ms": 3_600_000, "retries": 3})
    );
    let (status, _, retries) = call(
        &ep,
        "POST",
        "/__secretscope/service-retries",
        None,
        r#"{"delay_ms": 50}"#,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(retries, serde_json::json!({"delay_ms": 50, "retries": 3}));
    assert_eq!(
        ep.service_retries(),
        crate::ServiceRetries {
            delay_ms: 50,
            retries: 3
        }
    );

    // A control POST that does not say JSON (what a web page can send
    // cross-origin without a preflight) is refused and changes nothing.
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let req = axum::http::Request::post("/__secretscope/down")
            .header("content-type", content_type)
            .body(Body::from(r#"{"down": true}"#))
            .unwrap();
        let resp = ep.router().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), 415, "{content_type}");
        assert!(!ep.is_down());
    }
    call(
        &ep,
        "POST",
        "/__secretscope/down",
        None,
        r#"{"down": true}"#,
    )
    .await;
    let (status, kind, _) = call(&ep, "POST", "/", Some("secretsmanager.ListSecrets"), "{}").await;
    assert_eq!(status, 503);
    assert_eq!(kind.as_deref(), Some("ServiceUnavailable"));
    call(
        &ep,
        "POST",
        "/__secretscope/down",
        None,
        r#"{"down": false}"#,
    )
    .await;
    assert!(!ep.is_down());

    let (status, _, body) = call(
        &ep,
        "POST",
        "/",
        Some("secretsmanager.ListSecrets"),
        "{bad json",
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "SerializationException");

    let name = &ep.plan()[0].name;
    let uri = format!(
        "/__secretscope/rotations?secret_id={}",
        name.replace('/', "%2F")
    );
    if !name.contains(['<', '>', '"', ' ']) {
        let (status, _, history) = call(&ep, "GET", &uri, None, "").await;
        assert_eq!(status, 200);
        assert!(history.is_array());
    }
}

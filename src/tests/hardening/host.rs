//! Finding 6: a Host the dashboard does not answer for is refused before
//! anything, whatever the session.

use super::super::{demo_password, TestApp};
use super::raw_exchange;

/// Finding 6: the Host header was trusted, so a page on a rebound name
/// (attacker.example resolving to the dashboard) could sign in and read.
#[tokio::test]
async fn a_host_the_dashboard_does_not_answer_for_is_refused_before_anything() {
    let s = TestApp::builder().build().await;
    let port = s.addr.port();
    let evil = format!("attacker.example:{port}");
    let body = format!("name=admin&password={}&next=%2F", demo_password("admin"));
    let origin = format!("http://{evil}");
    let res = s
        .client()
        .send(
            http::Method::POST,
            "/login",
            &[
                ("host", &evil),
                ("origin", &origin),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            body,
        )
        .await;
    assert_eq!(res.status, 421, "{res:?}");
    assert!(
        res.session_cookie().is_none(),
        "no session for a foreign host: {res:?}"
    );
    assert!(
        res.body.contains("does not answer for that host name"),
        "{res:?}"
    );

    // A session made on the real address is no use through the rebound name.
    let admin = s.signed_in("admin").await;
    for path in [
        "/",
        "/secrets",
        "/export/secrets.json",
        "/healthz",
        "/metrics",
    ] {
        let res = admin
            .send(http::Method::GET, path, &[("host", &evil)], "")
            .await;
        assert_eq!(
            res.status,
            421,
            "{path}: {}",
            &res.body[..res.body.len().min(200)]
        );
        assert!(
            res.header("x-request-id").is_some(),
            "the refusal has a request id: {res:?}"
        );
    }
    // No Host at all (HTTP/1.0): refused too.
    // (hyper always sends a Host, so this one request is written by hand.)
    let res = raw_exchange(s.addr, "GET /healthz HTTP/1.0\r\n\r\n").await;
    assert!(
        res.starts_with("HTTP/1.0 421") || res.starts_with("HTTP/1.1 421"),
        "{res}"
    );
    // The loopback names and the address itself are answered.
    for host in [s.addr.to_string(), format!("localhost:{port}")] {
        let res = s
            .client()
            .send(http::Method::GET, "/healthz", &[("host", &host)], "")
            .await;
        assert_eq!(res.status, 200, "{host}: {res:?}");
    }
}

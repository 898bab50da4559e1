//! Issue 19: what an outside review found, each kept as a test that fails
//! if the hole comes back.

use super::auth::{form_escape, serve};
use super::{demo_password, http_get_as, http_raw, login, session_cookie};

/// The `<head>` of an HTML response (or the whole body if it has none),
/// with the contents of its scripts left out: the hydration script's own
/// code is not markup.
fn head_of(res: &str) -> String {
    let start = res.find("<head>").map_or(0, |i| i + "<head>".len());
    let end = res[start..]
        .find("</head>")
        .map_or(res.len(), |i| start + i);
    let mut head = &res[start..end];
    let mut out = String::new();
    while let Some(i) = head.find("<script") {
        let open_end = head[i..].find('>').map_or(head.len(), |j| i + j + 1);
        out.push_str(&head[..open_end]);
        head = match head[open_end..].find("</script>") {
            Some(j) => &head[open_end + j..],
            None => "",
        };
    }
    out.push_str(head);
    out
}

/// The element names that open in `html`, in order (`<title`, `<meta`, …).
fn tags(html: &str) -> Vec<String> {
    html.match_indices('<')
        .filter_map(|(i, _)| {
            let name: String = html[i + 1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            (!name.is_empty()).then(|| name.to_ascii_lowercase())
        })
        .collect()
}

/// Finding 1 (high): a secret's name from the path reached `<title>`
/// unescaped (leptos_meta writes titles as they are), so
/// `/secret/</title><meta http-equiv=refresh …>` redirected the browser.
/// Every page's head must hold exactly the elements the shell writes,
/// whatever the path, the query and the metadata carry.
#[tokio::test]
async fn every_head_is_well_formed_with_hostile_paths_queries_and_metadata() {
    let s = serve().await;
    let cookie = login(s.addr, "admin", demo_password("admin")).await;
    let payload = r#"</title><meta http-equiv="refresh" content="0;url=https://evil.example/"><script>alert(1)</script>"#;
    let p = form_escape(payload);
    // A secret of the seed whose name is itself a payload.
    let hostile_name = s
        .state
        .inventory
        .snapshot()
        .secrets()
        .iter()
        .map(|x| x.name.to_string())
        .find(|n| n.contains('<'))
        .expect("the seed names a secret with markup");
    let pages = [
        format!("/secret/{p}"),
        format!("/secret/prod/{p}/db"),
        format!("/secret/{}", form_escape(&hostile_name)),
        format!("/secrets?q={p}"),
        format!("/secrets?path={p}&sort={p}&page={p}"),
        format!("/audit?target={p}&actor={p}"),
        format!("/oncall?refresh={p}"),
        format!("/requests?focus={p}"),
        format!("/requests/new?secret={p}"),
        format!("/sources?x={p}"),
        format!("/{p}"),
        format!("/?q={p}"),
    ];
    for path in &pages {
        let res = http_get_as(s.addr, path, &cookie).await;
        assert!(
            res.starts_with("HTTP/1.1 200") || res.starts_with("HTTP/1.1 404"),
            "{path}: {}",
            &res[..res.len().min(200)]
        );
        let head = head_of(&res);
        let opened = tags(&head);
        assert_eq!(
            opened.iter().filter(|t| *t == "title").count(),
            1,
            "{path}: one <title> in {head}"
        );
        for t in &opened {
            assert!(
                ["meta", "link", "script", "title", "style"].contains(&t.as_str()),
                "{path}: <{t}> in the head: {head}"
            );
        }
        assert!(
            !head.to_ascii_lowercase().contains("<meta http-equiv"),
            "{path}: a meta refresh in the head: {head}"
        );
        // The two metas of the shell (charset, viewport), nothing more.
        assert_eq!(
            opened.iter().filter(|t| *t == "meta").count(),
            2,
            "{path}: {head}"
        );
        let title = &head[head.find("<title>").unwrap() + 7..head.find("</title>").unwrap()];
        assert!(
            !title.contains('<') && !title.contains('>'),
            "{path}: title {title:?}"
        );
    }
    // The anonymous visitor's sign-in page, with a hostile `next`.
    let res = http_raw(
        s.addr,
        format!(
            "GET /login?next={p} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            s.addr
        ),
    )
    .await;
    let head = head_of(&res);
    assert!(
        !head.to_ascii_lowercase().contains("<meta http-equiv"),
        "{head}"
    );
    assert_eq!(
        tags(&head).iter().filter(|t| *t == "title").count(),
        1,
        "{head}"
    );
}

/// Finding 6: the Host header was trusted, so a page on a rebound name
/// (attacker.example resolving to the dashboard) could sign in and read.
#[tokio::test]
async fn a_host_the_dashboard_does_not_answer_for_is_refused_before_anything() {
    let s = serve().await;
    let port = s.addr.port();
    let evil = format!("attacker.example:{port}");
    let body = format!("name=admin&password={}&next=%2F", demo_password("admin"));
    let res = http_raw(
        s.addr,
        format!(
            "POST /login HTTP/1.1\r\nHost: {evil}\r\nOrigin: http://{evil}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;
    assert!(res.starts_with("HTTP/1.1 421"), "{res}");
    assert!(
        session_cookie(&res).is_none(),
        "no session for a foreign host: {res}"
    );
    assert!(res.contains("does not answer for that host name"), "{res}");

    // A session made on the real address is no use through the rebound name.
    let cookie = login(s.addr, "admin", demo_password("admin")).await;
    for path in [
        "/",
        "/secrets",
        "/export/secrets.json",
        "/healthz",
        "/metrics",
    ] {
        let res = http_raw(
            s.addr,
            format!("GET {path} HTTP/1.1\r\nHost: {evil}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert!(
            res.starts_with("HTTP/1.1 421"),
            "{path}: {}",
            &res[..res.len().min(200)]
        );
        assert!(
            res.to_ascii_lowercase().contains("x-request-id"),
            "the refusal has a request id: {res}"
        );
    }
    // No Host at all (HTTP/1.0): refused too.
    let res = http_raw(s.addr, "GET /healthz HTTP/1.0\r\n\r\n".into()).await;
    assert!(
        res.starts_with("HTTP/1.0 421") || res.starts_with("HTTP/1.1 421"),
        "{res}"
    );
    // The loopback names and the address itself are answered.
    for host in [s.addr.to_string(), format!("localhost:{port}")] {
        let res = http_raw(
            s.addr,
            format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert!(res.starts_with("HTTP/1.1 200"), "{host}: {res}");
    }
}

/// Finding 8: until the first list pass had finished, `/` and `/secrets`
/// panicked and the browser got an empty response. Every page and every
/// server function must answer on an inventory that has not synced yet.
#[tokio::test]
async fn every_page_and_server_function_answers_before_the_first_sync() {
    use super::auth::{body_for, call, MATRIX};
    let ep = crate::server::local::spawn(
        crate::server::local::LocalOptions {
            seed_secrets: 10,
            seed: 42,
            ..Default::default()
        },
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .unwrap();
    let source = super::source_for(&ep.url(), 1).await;
    // Never synced: what every visitor meets in the first minute.
    let inventory = std::sync::Arc::new(crate::server::inventory::Inventory::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = super::test_state(addr, inventory, Default::default(), source).await;
    let server = super::serve_router(listener, state);
    for who in ["admin", "payments"] {
        let cookie = login(addr, who, demo_password(who)).await;
        for path in [
            "/",
            "/secrets",
            "/secrets?path=prod/payments&q=tag:env",
            "/oncall",
            "/requests",
            "/requests/new",
            "/audit",
            "/sources",
            "/secret/prod/payments/db",
            "/export/secrets.csv",
            "/export/secrets.json",
        ] {
            let res = http_get_as(addr, path, &cookie).await;
            let status: u16 = res.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
            // The exports say "not yet" (503, with a sentence) until there is
            // something to export; pages show the first-sync notice.
            let expected: &[u16] = if path.starts_with("/export/") {
                &[503]
            } else {
                &[200, 403, 404]
            };
            assert!(
                expected.contains(&status),
                "{who} {path}: {}",
                &res[..res.len().min(300)]
            );
            if path == "/" || path.starts_with("/secrets") {
                assert!(
                    res.contains("The first sync is still running"),
                    "{who} {path}: no first-sync notice"
                );
            }
        }
        for path in MATRIX {
            let (status, body) = call(
                addr,
                path,
                &body_for(path, "prod/payments/db"),
                Some(&cookie),
            )
            .await;
            assert!(
                status != 500 && status != 0,
                "{who} {path}: {status} {body}"
            );
        }
    }
    server.abort();
}

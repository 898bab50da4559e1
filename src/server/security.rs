//! Request hygiene that no handler may forget: the same-origin check on
//! every request that can change something, and the security headers on
//! every response (Content-Security-Policy with a per-request nonce for the
//! hydration script, no framing, no sniffing, no caching of pages).

use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use rand::RngCore as _;

/// The nonce of this response's Content-Security-Policy, in the request's
/// extensions for the page renderer (see `crate::web::router`).
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// How the server decides what "same origin" is.
#[derive(Clone, Debug, Default)]
pub struct OriginPolicy {
    /// `https://secrets.example.com` when configured (behind a proxy that
    /// rewrites Host); else the request's own `Host` with `http`/`https`
    /// by [`OriginPolicy::https`].
    pub public_origin: Option<String>,
    pub https: bool,
}

impl OriginPolicy {
    /// The origin this request must come from.
    fn expected(&self, headers: &HeaderMap) -> Option<String> {
        if let Some(o) = &self.public_origin {
            return Some(o.trim_end_matches('/').to_string());
        }
        let host = headers.get(header::HOST)?.to_str().ok()?;
        let scheme = if self.https { "https" } else { "http" };
        Some(format!("{scheme}://{host}"))
    }

    /// `Ok` when a state-changing request is same-origin; else the reason.
    pub fn check(&self, method: &Method, headers: &HeaderMap) -> Result<(), String> {
        if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            return Ok(());
        }
        match headers.get(header::ORIGIN).map(|v| v.to_str()) {
            Some(Ok(origin)) => {
                let expected = self.expected(headers);
                if expected.as_deref() == Some(origin) {
                    Ok(())
                } else {
                    Err(format!(
                        "cross-origin {method} refused: Origin {origin:?}, expected {:?}",
                        expected.unwrap_or_default()
                    ))
                }
            }
            Some(Err(_)) => Err(format!("{method} refused: unreadable Origin header")),
            None => match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
                Some("same-origin") => Ok(()),
                Some(other) => Err(format!(
                    "{method} refused: no Origin header and Sec-Fetch-Site is {other:?}"
                )),
                None => Err(format!(
                    "{method} refused: no Origin header (and no Sec-Fetch-Site: same-origin)"
                )),
            },
        }
    }
}

/// Refuses cross-origin and origin-less state-changing requests with 403,
/// before any handler runs; the refusal is logged and audited.
pub async fn origin_guard(
    State(state): State<super::AppState>,
    req: Request,
    next: Next,
) -> Response {
    if let Err(why) = state.origin.check(req.method(), req.headers()) {
        let path = req.uri().path().to_string();
        let (parts, _) = req.into_parts();
        super::auth::audit_denied(&state, &parts.headers, &parts.extensions, &path, &why).await;
        return (
            StatusCode::FORBIDDEN,
            [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
            "Refused: this request did not come from a secretscope page. Reload the page and try again.\n",
        )
            .into_response();
    }
    next.run(req).await
}

/// Which `Host` headers the dashboard answers: the defence against DNS
/// rebinding, where a page of the attacker's own name, once its name points
/// at the dashboard's address, would read the dashboard as same-origin.
///
/// Answered: IP literals and `localhost` names (no one can rebind them: the
/// browser sends the attacker's name in `Host`, never these), the host of
/// `auth.public_url`, and the names in `auth.allowed_hosts` (for a proxy in
/// front that rewrites `Host`). Every other name is refused before any
/// handler, sessions included.
#[derive(Clone, Debug, Default)]
pub struct HostPolicy {
    /// From `allowed_hosts`, lower case: `name` (any port) or `name:port`.
    names: Vec<String>,
    /// `auth.public_url`'s `host[:port]` (no port for the scheme's default),
    /// matched exactly.
    public: Option<String>,
}

impl HostPolicy {
    pub fn new(public_url: Option<&str>, allowed_hosts: &[String]) -> HostPolicy {
        let names: Vec<String> = allowed_hosts
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        let public = if let Some(url) = public_url {
            let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            let authority = authority.rsplit('@').next().unwrap_or_default();
            let default_port = if scheme.eq_ignore_ascii_case("http") {
                ":80"
            } else {
                ":443"
            };
            let authority = authority.strip_suffix(default_port).unwrap_or(authority);
            (!authority.is_empty()).then(|| authority.to_ascii_lowercase())
        } else {
            None
        };
        HostPolicy { names, public }
    }

    /// True if a request with this `Host` header value is answered.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        if host.is_empty() || host.contains(['/', '@', ' ', '\\']) {
            return false;
        }
        // Split off the port: `[::1]:3000`, `127.0.0.1:3000`, `name:3000`.
        let name = if let Some(rest) = host.strip_prefix('[') {
            match rest.split_once(']') {
                Some((v6, tail)) if tail.is_empty() || valid_port(tail) => {
                    return v6.parse::<std::net::Ipv6Addr>().is_ok();
                }
                _ => return false,
            }
        } else {
            match host.rsplit_once(':') {
                Some((name, port)) if valid_port(&format!(":{port}")) => name,
                Some(_) => return false,
                None => host.as_str(),
            }
        };
        if name.parse::<std::net::Ipv4Addr>().is_ok()
            || name == "localhost"
            || name.ends_with(".localhost")
        {
            return true;
        }
        self.public.as_deref() == Some(host.as_str())
            || self.names.iter().any(|n| *n == host || *n == name)
    }
}

fn valid_port(tail: &str) -> bool {
    tail.strip_prefix(':')
        .is_some_and(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Refuses a request whose `Host` the dashboard does not answer for (see
/// [`HostPolicy`]) with 421, before sessions and handlers.
pub async fn host_guard(
    State(state): State<super::AppState>,
    req: Request,
    next: Next,
) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        // HTTP/2 carries the host in the URI's authority instead.
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    if !host.is_some_and(|h| state.hosts.allows(&h)) {
        tracing::warn!(host = ?req.headers().get(header::HOST), "request refused: Host is not one this dashboard answers for");
        return (
            StatusCode::MISDIRECTED_REQUEST,
            [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
            "Refused: this dashboard does not answer for that host name. Open it at its own address; an operator can add the name to auth.allowed_hosts.\n",
        )
            .into_response();
    }
    next.run(req).await
}

/// Turns a panic while answering a request into a 500 page naming the
/// request id, instead of a dropped connection; the log gets the panic's
/// message with the same id. (A panic is a bug; this keeps it a page.)
pub async fn catch_panic(req: Request, next: Next) -> Response {
    use futures_util::FutureExt as _;
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string();
    let path = req.uri().path().to_string();
    match std::panic::AssertUnwindSafe(next.run(req))
        .catch_unwind()
        .await
    {
        Ok(res) => res,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".into());
            tracing::error!(request_id = %id, %path, panic = %message, "a request panicked");
            let body = format!(
                "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error · secretscope</title></head>\
                 <body><main><h1>Something went wrong on our side</h1>\
                 <p>This page could not be made. Try again in a moment; if it keeps happening, \
                 give whoever runs secretscope the request id <code>{}</code>.</p>\
                 <p><a href=\"/\">Overview</a></p></main></body></html>",
                crate::domain::html::escape(&id)
            );
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/html; charset=utf-8"),
                    ),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                ],
                body,
            )
                .into_response()
        }
    }
}

/// The largest request body accepted. Every form and server function call
/// the pages make is a few kilobytes; a search is at most
/// [`crate::domain::query::MAX_QUERY_CHARS`] characters.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

fn too_large() -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        format!(
            "Refused: the request is larger than {} KiB. Nothing was changed; shorten the text (a search, a justification) and try again.\n",
            MAX_BODY_BYTES / 1024
        ),
    )
        .into_response()
}

/// Refuses bodies over [`MAX_BODY_BYTES`] with 413 and a sentence, whether
/// they announce their length or not, before any handler reads them.
pub async fn body_limit(req: Request, next: Next) -> Response {
    use http_body_util::BodyExt as _;
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match announced {
        Some(n) if n > MAX_BODY_BYTES as u64 => return too_large(),
        Some(_) => return next.run(req).await,
        None if matches!(*req.method(), Method::GET | Method::HEAD) => return next.run(req).await,
        None => {}
    }
    // A body of unannounced length (chunked): read it, up to the limit.
    let (parts, body) = req.into_parts();
    match http_body_util::Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => {
            let req = Request::from_parts(parts, axum::body::Body::from(collected.to_bytes()));
            next.run(req).await
        }
        Err(e) if e.is::<http_body_util::LengthLimitError>() => too_large(),
        Err(_) => (
            StatusCode::BAD_REQUEST,
            "The request body could not be read.\n",
        )
            .into_response(),
    }
}

/// The client's address as the dashboard counts it (sign-in throttling,
/// the audit trail): the peer's, or behind a proxy the last address of the
/// configured `auth.trusted_proxy_header` (the one the proxy itself saw).
#[derive(Clone, Debug)]
pub struct ClientAddr(pub String);

/// The client address of a request, from the configured header only.
pub fn client_addr(
    trusted_header: Option<&str>,
    headers: &HeaderMap,
    peer: Option<std::net::IpAddr>,
) -> String {
    if let Some(name) = trusted_header {
        // The proxy appends the address it saw: the last entry is the one
        // no client can forge (earlier ones are whatever the client sent).
        let last = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|v| !v.is_empty());
        return match last.and_then(|v| v.parse::<std::net::IpAddr>().ok()) {
            Some(ip) => ip.to_string(),
            // The proxy always sets it; without it, all such requests share one key.
            None => "unknown-behind-proxy".into(),
        };
    }
    peer.map_or_else(|| "-".into(), |ip| ip.to_string())
}

/// A request id as a client may send it: 1–64 letters, digits, `-`, `_`, `.`.
pub fn well_formed_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// Drops a client-sent `X-Request-Id` that is not well formed (one is made
/// instead), and records the client's address for everything after.
pub async fn request_facts(
    State(state): State<super::AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let bad_id = req
        .headers()
        .get("x-request-id")
        .is_some_and(|v| !v.to_str().is_ok_and(well_formed_request_id));
    if bad_id {
        req.headers_mut().remove("x-request-id");
    }
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let addr = client_addr(
        state.auth.settings.trusted_proxy_header.as_deref(),
        req.headers(),
        peer,
    );
    req.extensions_mut().insert(ClientAddr(addr));
    next.run(req).await
}

fn nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The policy for a response whose inline scripts carry `nonce`.
pub fn content_security_policy(nonce: &str) -> String {
    // 'wasm-unsafe-eval' lets the page compile its WebAssembly; it does not
    // allow eval() of JavaScript. 'strict-dynamic' lets the nonce'd
    // hydration module import the generated JS glue.
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Adds the security headers to every response, and a nonce for the page
/// renderer to the request.
pub async fn headers(mut req: Request, next: Next) -> Response {
    let nonce = nonce();
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&content_security_policy(&nonce)) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    // Pages and data carry an organisation's inventory: never cache them.
    // Static assets (/pkg, images) may be cached: they hold no data.
    let is_asset = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            t.starts_with("application/wasm")
                || t.starts_with("text/css")
                || t.starts_with("image/")
                || t.starts_with("text/javascript")
                || t.starts_with("application/javascript")
        });
    if !is_asset {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn reads_pass_without_origin() {
        let p = OriginPolicy::default();
        for m in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert!(p.check(&m, &HeaderMap::new()).is_ok());
        }
    }

    #[test]
    fn same_origin_post_passes_and_others_are_refused() {
        let p = OriginPolicy::default();
        let host = ("host", "127.0.0.1:3000");
        assert!(p
            .check(
                &Method::POST,
                &headers(&[host, ("origin", "http://127.0.0.1:3000")])
            )
            .is_ok());
        assert!(p
            .check(
                &Method::POST,
                &headers(&[host, ("sec-fetch-site", "same-origin")])
            )
            .is_ok());
        let refused = [
            headers(&[host, ("origin", "http://evil.example")]),
            headers(&[host, ("origin", "https://127.0.0.1:3000")]),
            headers(&[host, ("origin", "null")]),
            headers(&[host]),
            headers(&[host, ("sec-fetch-site", "cross-site")]),
            headers(&[host, ("sec-fetch-site", "same-site")]),
            headers(&[("origin", "http://127.0.0.1:3000")]),
        ];
        for h in &refused {
            assert!(p.check(&Method::POST, h).is_err(), "{h:?}");
            assert!(p.check(&Method::DELETE, h).is_err(), "{h:?}");
        }
    }

    #[test]
    fn a_configured_public_origin_wins_over_host() {
        let p = OriginPolicy {
            public_origin: Some("https://secrets.example.com/".into()),
            https: true,
        };
        let h = headers(&[
            ("host", "internal:8080"),
            ("origin", "https://secrets.example.com"),
        ]);
        assert!(p.check(&Method::POST, &h).is_ok());
        let h = headers(&[
            ("host", "internal:8080"),
            ("origin", "http://internal:8080"),
        ]);
        assert!(p.check(&Method::POST, &h).is_err());
    }

    #[test]
    fn hosts_answered_are_ip_literals_localhost_and_configured_names() {
        let p = HostPolicy::default();
        for ok in [
            "127.0.0.1:3000",
            "127.0.0.1",
            "10.1.2.3:8080",
            "[::1]:3000",
            "[::1]",
            "localhost:3000",
            "LOCALHOST",
            "app.localhost:9",
        ] {
            assert!(p.allows(ok), "{ok}");
        }
        for bad in [
            "attacker.example:3000",
            "attacker.example",
            "",
            "127.0.0.1:30x0",
            "[::1]x",
            "evil@127.0.0.1",
            "127.0.0.1.nip.io:3000",
            "localhost.evil.example",
        ] {
            assert!(!p.allows(bad), "{bad:?}");
        }
        let p = HostPolicy::new(
            Some("https://Secrets.Example.com:443/base"),
            &["internal:8080".into(), "proxy.lan".into()],
        );
        assert!(p.allows("secrets.example.com"));
        assert!(!p.allows("secrets.example.com:8443"));
        assert!(p.allows("internal:8080"));
        assert!(!p.allows("internal:8081"));
        assert!(
            p.allows("proxy.lan:1234"),
            "a name without a port answers on any port"
        );
        assert!(!p.allows("attacker.example"));
        let p = HostPolicy::new(Some("http://dash.test:8080"), &[]);
        assert!(p.allows("dash.test:8080") && !p.allows("dash.test"));
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_with_its_request_id() {
        use tower::ServiceExt as _;
        let app = axum::Router::new()
            .route(
                "/boom",
                axum::routing::get(|| async {
                    if true {
                        panic!("index out of bounds");
                    }
                    "unreachable"
                }),
            )
            .layer(axum::middleware::from_fn(catch_panic));
        let req = axum::http::Request::get("/boom")
            .header("x-request-id", "req-<1>")
            .body(axum::body::Body::empty())
            .unwrap();
        let res = app.oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("Something went wrong on our side"), "{body}");
        assert!(
            body.contains("<code>req-&lt;1&gt;</code>"),
            "the id, escaped: {body}"
        );
    }

    #[test]
    fn the_client_address_comes_from_the_trusted_header_only() {
        let peer = Some("10.0.0.1".parse().unwrap());
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7")]);
        // Not configured: the header is the client's word, and ignored.
        assert_eq!(client_addr(None, &h, peer), "10.0.0.1");
        // Configured: the last address, the one the proxy saw.
        assert_eq!(
            client_addr(Some("x-forwarded-for"), &h, peer),
            "203.0.113.7"
        );
        let forged = headers(&[("x-forwarded-for", "not-an-ip")]);
        assert_eq!(
            client_addr(Some("x-forwarded-for"), &forged, peer),
            "unknown-behind-proxy"
        );
        assert_eq!(client_addr(None, &HeaderMap::new(), None), "-");
    }

    #[test]
    fn request_ids_from_clients_must_be_well_formed() {
        assert!(well_formed_request_id(
            "3f1c2a9e-0b7d-4e55-9a1f-2c3d4e5f6a7b"
        ));
        assert!(well_formed_request_id("lb.trace_42"));
        for bad in ["", "a b", "<script>", "x\u{7f}", &"a".repeat(65), "id;drop"] {
            assert!(!well_formed_request_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_policy_allows_only_the_nonce_for_scripts() {
        let csp = content_security_policy("abc");
        assert!(csp.contains("script-src 'nonce-abc'"));
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_ne!(nonce(), nonce());
    }
}

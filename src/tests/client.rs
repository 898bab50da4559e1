//! A real HTTP/1.1 client for router tests (hyper, the stack the dashboard
//! already builds), so tests read a status, headers and a body rather than
//! slicing raw response text. Each request is sent as a browser would: the
//! page's own Host and, for POSTs, its own Origin, unless the test says
//! otherwise (the hardening tests forge both on purpose).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::net::SocketAddr;

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Response {
    /// The first value of header `name`, if any.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The session cookie (`name=value`) this response sets, if any.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(http::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .find(|pair| pair.starts_with("secretscope_session="))
            .map(str::to_string)
    }

    /// The body as JSON of type `T` (a server function's answer).
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not the JSON expected ({e}): {}", self.body))
    }
}

/// A client of one dashboard at `addr`, signed in when it holds a cookie.
#[derive(Clone)]
pub struct Client {
    pub addr: SocketAddr,
    pub cookie: Option<String>,
    http: hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>,
}

impl Client {
    pub fn new(addr: SocketAddr) -> Self {
        Client {
            addr,
            cookie: None,
            http: hyper_util::client::legacy::Client::builder(TokioExecutor::new())
                .build(HttpConnector::new()),
        }
    }

    /// The same client with session `cookie` (`secretscope_session=…`).
    pub fn with_cookie(&self, cookie: impl Into<String>) -> Self {
        Client {
            cookie: Some(cookie.into()),
            ..self.clone()
        }
    }

    /// A request to `path` with the page's Host, the session cookie and
    /// `headers`; the response read whole.
    pub async fn send(
        &self,
        method: http::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Response {
        let mut req = http::Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr));
        if let Some(c) = &self.cookie {
            req = req.header(http::header::COOKIE, c);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Full::new(body.into())).expect("a valid request");
        let res = self.http.request(req).await.expect("the dashboard answers");
        let (parts, body) = res.into_parts();
        let bytes = body.collect().await.expect("a whole body").to_bytes();
        Response {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(http::Method::GET, path, &[], Bytes::new()).await
    }

    /// POSTs a form from the page's own origin, as the browser does.
    pub async fn post_form(&self, path: &str, body: &str) -> Response {
        let origin = format!("http://{}", self.addr);
        self.send(
            http::Method::POST,
            path,
            &[
                ("origin", &origin),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            body.to_string(),
        )
        .await
    }

    /// Signs in through `POST /login` as a browser would; this client with
    /// its session.
    pub async fn login(&self, name: &str, password: &str) -> Client {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("name", name)
            .append_pair("password", password)
            .append_pair("next", "/")
            .finish();
        let res = self.post_form("/login", &body).await;
        assert_eq!(res.status, 303, "login as {name}: {}", res.body);
        let cookie = res
            .session_cookie()
            .unwrap_or_else(|| panic!("no session cookie: {res:?}"));
        self.with_cookie(cookie)
    }
}

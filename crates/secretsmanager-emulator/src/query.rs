//! The AWS query protocol's plumbing, shared by STS, EC2 and IAM: a
//! form-encoded request (`Action=…&Version=…&Name.1=…`), an XML answer.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Decodes `application/x-www-form-urlencoded` pairs.
pub(crate) fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                    match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        Some(b) => {
                            out.push(b);
                            i += 2;
                        }
                        None => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// A decoded query request.
pub(crate) struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn new(body: &[u8]) -> Query {
        Query(form_pairs(body))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The values of `PREFIX.1`, `PREFIX.2`, … in index order.
    pub fn list(&self, prefix: &str) -> Vec<String> {
        let mut items: Vec<(u32, String)> = self
            .0
            .iter()
            .filter_map(|(k, v)| {
                let n = k.strip_prefix(prefix)?.strip_prefix('.')?.parse().ok()?;
                Some((n, v.clone()))
            })
            .collect();
        items.sort_by_key(|(n, _)| *n);
        items.into_iter().map(|(_, v)| v).collect()
    }

    /// EC2's filters: `Filter.N.Name` with its `Filter.N.Value.M`.
    pub fn filters(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(u32, String, Vec<String>)> = Vec::new();
        for (k, v) in &self.0 {
            let Some(rest) = k.strip_prefix("Filter.") else {
                continue;
            };
            let Some((n, "Name")) = rest.split_once('.') else {
                continue;
            };
            if let Ok(n) = n.parse::<u32>() {
                out.push((n, v.clone(), self.list(&format!("Filter.{n}.Value"))));
            }
        }
        out.sort_by_key(|(n, _, _)| *n);
        out.into_iter()
            .map(|(_, name, values)| (name, values))
            .collect()
    }
}

pub(crate) fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An XML answer.
pub(crate) fn xml(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("text/xml"));
    resp
}

pub(crate) fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding() {
        let pairs = form_pairs(b"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&RoleSessionName=a+b&X=%zz");
        assert_eq!(pairs[1].1, "arn:aws:iam::1:role/r");
        assert_eq!(pairs[2].1, "a b");
        assert_eq!(pairs[3].1, "%zz");
    }

    #[test]
    fn lists_and_filters() {
        let q = Query::new(
            b"Action=X&ActionNames.member.2=b&ActionNames.member.1=a&ActionNames.member.10=c\
              &Filter.2.Name=service-name&Filter.2.Value.1=s&Filter.1.Name=vpc-id\
              &Filter.1.Value.2=v2&Filter.1.Value.1=v1",
        );
        assert_eq!(q.get("Action"), Some("X"));
        assert_eq!(q.list("ActionNames.member"), ["a", "b", "c"]);
        assert_eq!(
            q.filters(),
            [
                (
                    "vpc-id".to_string(),
                    vec!["v1".to_string(), "v2".to_string()]
                ),
                ("service-name".to_string(), vec!["s".to_string()])
            ]
        );
    }
}

//! Links and URL encoding: which bytes a link escapes, in one place.
//!
//! Built on the `percent-encoding` crate (already in the tree through the
//! AWS SDK, and pure, so it compiles for the browser too). Each function
//! names the [`AsciiSet`] it escapes; the sets are written as "everything
//! but what RFC 3986 lets through there", so a name like `prod/payments/db`
//! stays readable in the address bar and any other byte round-trips.
//!
//! | function | kept as is | space |
//! | --- | --- | --- |
//! | [`query_value`] | unreserved `A-Z a-z 0-9 - . _ ~` | `+` |
//! | [`path`], [`secret_href`] | unreserved and `/` | `%20` |
//! | [`uri_path`] | unreserved, `/`, and the path's sub-delims `! $ & ' ( ) * + , ; =` with `:` `@` | `%20` |

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// RFC 3986 unreserved characters are kept; every other byte is escaped.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A query-string value: unreserved kept, and the space too (it becomes
/// `+` afterwards, as forms write it).
const QUERY_VALUE: &AsciiSet = &UNRESERVED.remove(b' ');

/// A path whose `/` separate segments: unreserved and `/` kept.
const PATH: &AsciiSet = &UNRESERVED.remove(b'/');

/// A URI path as RFC 3986 allows it (`pchar` and `/`): unreserved, the
/// sub-delims, `:` and `@` kept.
const URI_PATH: &AsciiSet = &PATH
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// Percent-encodes a query-string value: unreserved kept, a space as `+`,
/// every other byte (of the UTF-8) as `%XX`.
pub fn query_value(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE)
        .to_string()
        .replace(' ', "+")
}

/// Percent-encodes a path, keeping its `/`: unreserved and `/` kept, every
/// other byte (a space included) as `%XX`. Decoding gives back exactly `s`.
pub fn path(s: &str) -> String {
    utf8_percent_encode(s, PATH).to_string()
}

/// Percent-encodes a relative URI path, escaping only what a URI path
/// cannot hold (for SARIF artifact locations).
pub fn uri_path(s: &str) -> String {
    utf8_percent_encode(s, URI_PATH).to_string()
}

/// The path of a secret's page: each name byte that is not unreserved is
/// percent-encoded, `/` kept, so any name (or ARN) round-trips.
pub fn secret_href(name: &str) -> String {
    format!("/secret/{}", path(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written encoders these replace, kept as the reference.
    fn by_hand(s: &str, keep: &[u8], space: &str) -> String {
        let mut out = String::new();
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || keep.contains(&b) {
                out.push(char::from(b));
            } else if b == b' ' {
                out.push_str(space);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }

    const SAMPLES: &[&str] = &[
        "",
        "prod/payments/db",
        "a b+c",
        "x/<img src=x onerror=alert(1)>",
        "/secrets?q=a b&x",
        "tag:owner=\"Alice Smith\" -rule:unused",
        "ü#?%~*!$&'()+,;=:@\\\"^`{|}[]",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
        "%20",
        "\u{0}\u{7f}\u{80}😀",
    ];

    #[test]
    fn encodings_keep_what_the_old_encoders_kept() {
        for s in SAMPLES {
            assert_eq!(query_value(s), by_hand(s, b"", "+"), "query_value({s:?})");
            assert_eq!(path(s), by_hand(s, b"/", "%20"), "path({s:?})");
            assert_eq!(
                uri_path(s),
                by_hand(s, b"/+=@:!$&'()*,;", "%20"),
                "uri_path({s:?})"
            );
        }
    }

    #[test]
    fn known_links() {
        assert_eq!(secret_href("prod/payments/db"), "/secret/prod/payments/db");
        assert_eq!(secret_href("a b+c"), "/secret/a%20b%2Bc");
        assert_eq!(
            query_value("rule:rotation-failed"),
            "rule%3Arotation-failed"
        );
        assert_eq!(query_value("a b"), "a+b");
        assert_eq!(path("/secrets?q=a b&x"), "/secrets%3Fq%3Da%20b%26x");
        assert_eq!(uri_path("x y/ü#?%"), "x%20y/%C3%BC%23%3F%25");
    }
}

//! ListSecrets filters, with AWS's documented matching rules.
//!
//! - `name`, `tag-key`, `tag-value`, `primary-region`, `owning-service`:
//!   prefix match, case-sensitive (API reference, `Filter`).
//! - `description`: not case-sensitive, by words: every word of the value must
//!   begin a word of the description ("My Description" matches "Description
//!   of my secret", as the user guide's example shows).
//! - `all`: the value is broken into words and every word must begin a word of
//!   one and the same attribute (name, description, a tag key or a tag value);
//!   not case-sensitive. Words are split at punctuation and spaces, at a change
//!   from lower to upper case and between letters and digits
//!   (`credsDatabase#892` → `creds`, `database`, `892`).
//! - A value starting with `!` negates: it matches the secrets the value
//!   without `!` does not match (for tags: no tag matches).
//! - Values of one filter are ORed; filters are ANDed.
//!
//! Limits as in the API model: at most 10 filters, 1–10 values each, at most
//! 512 characters matching `^\!?[a-zA-Z0-9 :_@\/\+\=\.\-\!]*$`; a violation is
//! a ValidationException.

use super::protocol::{ApiError, FilterReq};
use super::seed::SecretData;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKey {
    Description,
    Name,
    TagKey,
    TagValue,
    PrimaryRegion,
    OwningService,
    All,
}

impl FilterKey {
    pub fn parse(s: &str) -> Option<FilterKey> {
        Some(match s {
            "description" => FilterKey::Description,
            "name" => FilterKey::Name,
            "tag-key" => FilterKey::TagKey,
            "tag-value" => FilterKey::TagValue,
            "primary-region" => FilterKey::PrimaryRegion,
            "owning-service" => FilterKey::OwningService,
            "all" => FilterKey::All,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct FilterValue {
    pub negate: bool,
    /// The value without its `!`.
    pub text: String,
    /// Lowercased words, for the word-based keys.
    pub words: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Filter {
    pub key: FilterKey,
    pub values: Vec<FilterValue>,
}

const KEYS: &str = "[description, name, tag-key, tag-value, primary-region, owning-service, all]";

fn value_allowed(v: &str) -> bool {
    let rest = v.strip_prefix('!').unwrap_or(v);
    rest.chars()
        .all(|c| c.is_ascii_alphanumeric() || " :_@/+=.-!".contains(c))
}

/// Validate and compile the request's filters.
pub(crate) fn parse(reqs: &[FilterReq]) -> Result<Vec<Filter>, ApiError> {
    if reqs.len() > 10 {
        return Err(ApiError::validation(
            "Value at 'filters' failed to satisfy constraint: Member must have length less than or equal to 10",
        ));
    }
    let mut out = Vec::with_capacity(reqs.len());
    for (i, r) in reqs.iter().enumerate() {
        let at = i + 1;
        let key_text = r.key.as_deref().unwrap_or("");
        let key = FilterKey::parse(key_text).ok_or_else(|| {
            ApiError::validation(format!(
                "Value '{key_text}' at 'filters.{at}.member.key' failed to satisfy constraint: Member must satisfy enum value set: {KEYS}"
            ))
        })?;
        let values = r.values.as_deref().unwrap_or(&[]);
        if values.is_empty() {
            return Err(ApiError::validation(format!(
                "Value '[]' at 'filters.{at}.member.values' failed to satisfy constraint: Member must have length greater than or equal to 1"
            )));
        }
        if values.len() > 10 {
            return Err(ApiError::validation(format!(
                "Value '[{}]' at 'filters.{at}.member.values' failed to satisfy constraint: Member must have length less than or equal to 10",
                values.join(", ")
            )));
        }
        let mut compiled = Vec::with_capacity(values.len());
        for v in values {
            if v.chars().count() > 512 || !value_allowed(v) {
                return Err(ApiError::validation(format!(
                    "Value '[{}]' at 'filters.{at}.member.values' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 512, Member must satisfy regular expression pattern: ^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$]",
                    values.join(", ")
                )));
            }
            let (negate, text) = match v.strip_prefix('!') {
                Some(rest) => (true, rest.to_string()),
                None => (false, v.clone()),
            };
            let words = split_words(&text);
            compiled.push(FilterValue {
                negate,
                text,
                words,
            });
        }
        out.push(Filter {
            key,
            values: compiled,
        });
    }
    Ok(out)
}

/// Calls `f` with each word of `s` (a slice of `s`, in its own case) until `f`
/// returns true. Words end at anything not a letter or digit, at a change from
/// lower to upper case (`credsDatabase`), before the last capital of an acronym
/// followed by lowercase (`APIKey` → `API`, `Key`), and between letters and
/// digits. Allocation-free: ListSecrets may scan 100,000 secrets with it.
fn any_word(s: &str, mut f: impl FnMut(&str) -> bool) -> bool {
    let mut start: Option<usize> = None;
    let mut prev: Option<char> = None;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if !c.is_alphanumeric() {
            if let Some(st) = start.take() {
                if f(&s[st..i]) {
                    return true;
                }
            }
            prev = None;
            continue;
        }
        if let (Some(p), Some(st)) = (prev, start) {
            let next = chars.peek().map(|&(_, n)| n);
            let boundary = (p.is_lowercase() && c.is_uppercase())
                || (p.is_alphabetic() && c.is_numeric())
                || (p.is_numeric() && c.is_alphabetic())
                || (p.is_uppercase() && c.is_uppercase() && next.is_some_and(char::is_lowercase));
            if boundary {
                if f(&s[st..i]) {
                    return true;
                }
                start = Some(i);
            }
        }
        if start.is_none() {
            start = Some(i);
        }
        prev = Some(c);
    }
    match start {
        Some(st) => f(&s[st..]),
        None => false,
    }
}

/// The words of `s`, lowercased (see [`any_word`] for where words end).
pub fn split_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    any_word(s, |w| {
        words.push(w.to_lowercase());
        false
    });
    words
}

/// `word`, lowercased, starts with `lower_prefix`.
fn starts_with_ci(word: &str, lower_prefix: &str) -> bool {
    let mut w = word.chars().flat_map(char::to_lowercase);
    lower_prefix.chars().all(|p| w.next() == Some(p))
}

/// Every word of the value begins some word of the text.
fn words_match(value_words: &[String], text: &str) -> bool {
    !value_words.is_empty()
        && value_words
            .iter()
            .all(|vw| any_word(text, |t| starts_with_ci(t, vw)))
}

fn positive_match(key: FilterKey, v: &FilterValue, s: &SecretData) -> bool {
    let prefix = |a: &str| a.starts_with(v.text.as_str());
    match key {
        FilterKey::Name => prefix(&s.name),
        FilterKey::TagKey => s.tags.iter().any(|t| prefix(&t.key)),
        FilterKey::TagValue => s.tags.iter().any(|t| prefix(&t.value)),
        FilterKey::PrimaryRegion => s.primary_region.as_deref().is_some_and(prefix),
        FilterKey::OwningService => s.owning_service.as_deref().is_some_and(prefix),
        FilterKey::Description => s
            .description
            .as_deref()
            .is_some_and(|d| words_match(&v.words, d)),
        FilterKey::All => {
            words_match(&v.words, &s.name)
                || s.description
                    .as_deref()
                    .is_some_and(|d| words_match(&v.words, d))
                || s.tags
                    .iter()
                    .any(|t| words_match(&v.words, &t.key) || words_match(&v.words, &t.value))
        }
    }
}

impl Filter {
    pub fn matches(&self, s: &SecretData) -> bool {
        self.values
            .iter()
            .any(|v| positive_match(self.key, v, s) != v.negate)
    }
}

/// All filters match (no filter: everything matches).
pub fn matches_all(filters: &[Filter], s: &SecretData) -> bool {
    filters.iter().all(|f| f.matches(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::Tag;

    fn secret(name: &str, description: Option<&str>, tags: &[(&str, &str)]) -> SecretData {
        SecretData {
            name: name.to_string(),
            arn: format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-abcdef"),
            description: description.map(str::to_string),
            kms_key_id: None,
            rotation_enabled: false,
            rotation_lambda_arn: None,
            rotation_rules: None,
            last_rotated: None,
            last_changed: None,
            last_accessed: None,
            deleted: None,
            deletion_date: None,
            next_rotation: None,
            tags: tags
                .iter()
                .map(|(k, v)| Tag {
                    key: k.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            versions: Vec::new(),
            owning_service: None,
            created: 0,
            primary_region: Some("us-east-1".to_string()),
            replication: Vec::new(),
            resource_policy: None,
        }
    }

    fn f(key: &str, values: &[&str]) -> Vec<Filter> {
        parse(&[FilterReq {
            key: Some(key.to_string()),
            values: Some(values.iter().map(|v| v.to_string()).collect()),
        }])
        .unwrap()
    }

    #[test]
    fn words() {
        assert_eq!(
            split_words("credsDatabase#892"),
            ["creds", "database", "892"]
        );
        assert_eq!(split_words("My_Secret"), ["my", "secret"]);
        assert_eq!(split_words("APIKey v2"), ["api", "key", "v", "2"]);
        assert_eq!(split_words("prod/payments/db"), ["prod", "payments", "db"]);
        assert!(split_words("/-_").is_empty());
    }

    #[test]
    fn name_is_a_case_sensitive_prefix() {
        let s = secret("DatabaseSecret", None, &[]);
        assert!(matches_all(&f("name", &["Data"]), &s));
        assert!(!matches_all(&f("name", &["data"]), &s));
        assert!(!matches_all(&f("name", &["Secret"]), &s));
        assert!(matches_all(&f("name", &["!data"]), &s));
        assert!(matches_all(&f("name", &["x", "Data"]), &s));
    }

    #[test]
    fn description_matches_words_in_any_case() {
        let f = f("description", &["My Description"]);
        for d in [
            "My Description",
            "my description",
            "My basic description",
            "Description of my secret",
        ] {
            assert!(matches_all(&f, &secret("a", Some(d), &[])), "{d}");
        }
        assert!(!matches_all(&f, &secret("a", Some("mine"), &[])));
        assert!(!matches_all(&f, &secret("a", None, &[])));
    }

    #[test]
    fn tags_and_negation() {
        let s = secret(
            "a",
            None,
            &[("owner", "alice@example.com"), ("team", "payments")],
        );
        assert!(matches_all(&f("tag-key", &["own"]), &s));
        assert!(!matches_all(&f("tag-key", &["!owner"]), &s));
        assert!(matches_all(
            &f("tag-key", &["!owner"]),
            &secret("b", None, &[("team", "x")])
        ));
        assert!(matches_all(
            &f("tag-key", &["!owner"]),
            &secret("c", None, &[])
        ));
        assert!(matches_all(&f("tag-value", &["alice"]), &s));
        assert!(!matches_all(&f("tag-value", &["Alice"]), &s));
    }

    #[test]
    fn all_searches_one_attribute_by_words() {
        let s = secret(
            "prod/payments/db",
            Some("Owner: alice@example.com"),
            &[("team", "Search")],
        );
        assert!(matches_all(&f("all", &["PAYMENTS"]), &s));
        assert!(matches_all(&f("all", &["prod db"]), &s));
        assert!(matches_all(&f("all", &["search"]), &s));
        assert!(matches_all(&f("all", &["alice"]), &s));
        // words from two different attributes do not combine
        assert!(!matches_all(&f("all", &["payments alice"]), &s));
    }

    #[test]
    fn limits_are_validation_errors() {
        let e = parse(&[FilterReq {
            key: Some("colour".into()),
            values: Some(vec!["x".into()]),
        }])
        .unwrap_err();
        assert_eq!(e.code, "ValidationException");
        let e = parse(&[FilterReq {
            key: Some("name".into()),
            values: Some((0..11).map(|i| i.to_string()).collect()),
        }])
        .unwrap_err();
        assert_eq!(e.code, "ValidationException");
        let e = parse(&[FilterReq {
            key: Some("name".into()),
            values: Some(vec!["<script>".into()]),
        }])
        .unwrap_err();
        assert_eq!(e.code, "ValidationException");
        let many: Vec<FilterReq> = (0..11)
            .map(|_| FilterReq {
                key: Some("name".into()),
                values: Some(vec!["a".into()]),
            })
            .collect();
        assert_eq!(parse(&many).unwrap_err().code, "ValidationException");
    }
}

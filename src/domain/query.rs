//! Searching the inventory.
//!
//! For now: free words, all of which must appear (case-insensitively) in the
//! name, the description, or a tag value. The full query language (terms,
//! negation, OR, quoting) grows here.

use super::Secret;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    words: Vec<String>,
}

impl Query {
    pub fn parse(input: &str) -> Query {
        Query {
            words: input.split_whitespace().map(|w| w.to_lowercase()).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    pub fn matches(&self, s: &Secret) -> bool {
        self.words.iter().all(|w| {
            contains_ci(&s.name, w)
                || s.description.as_deref().is_some_and(|d| contains_ci(d, w))
                || s.tags.iter().any(|t| contains_ci(&t.value, w))
        })
    }
}

/// `needle` must already be lower case.
fn contains_ci(haystack: &str, needle: &str) -> bool {
    if haystack.is_ascii() && needle.is_ascii() {
        haystack
            .as_bytes()
            .windows(needle.len().max(1))
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
            || needle.is_empty()
    } else {
        haystack.to_lowercase().contains(needle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secret::fixtures::secret;
    use crate::domain::Tag;
    use std::sync::Arc;

    #[test]
    fn words_match_name_description_and_tag_values() {
        let mut s = secret("prod/payments/db");
        s.description = Some("Primary Postgres".into());
        s.tags.push(Tag {
            key: Arc::from("owner"),
            value: Arc::from("Alice@example.com"),
        });
        assert!(Query::parse("").matches(&s));
        assert!(Query::parse("PAYMENTS").matches(&s));
        assert!(
            Query::parse("postgres alice").matches(&s),
            "all words, any field"
        );
        assert!(
            !Query::parse("postgres bob").matches(&s),
            "every word must match"
        );
        assert!(
            !Query::parse("owner").matches(&s),
            "tag keys are not free text"
        );
        s.description = Some("Überprüfung".into());
        assert!(
            Query::parse("überPRÜF").matches(&s),
            "non-ASCII case folding"
        );
    }
}

//! Who owns a secret: the `owner` tag first, else an owner named in the
//! description. Pure; the tag key becomes configurable with access requests.

use super::Secret;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OwnerSource {
    /// The tag with this key (as spelled on the secret).
    Tag(String),
    /// Found in the description.
    Description,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub name: String,
    pub source: OwnerSource,
}

impl Owner {
    /// "the owner tag", "the description": where the owner was found.
    pub fn source_text(&self) -> String {
        match &self.source {
            OwnerSource::Tag(k) => format!("the {k} tag"),
            OwnerSource::Description => "the description".to_string(),
        }
    }
}

pub const OWNER_TAG: &str = "owner";

pub fn owner_of(s: &Secret) -> Option<Owner> {
    owner_with_tag(s, OWNER_TAG)
}

/// The owner by the tag `key` (any case), else from the description.
pub fn owner_with_tag(s: &Secret, key: &str) -> Option<Owner> {
    if let Some(name) = tag_owner(s, key) {
        return Some(name);
    }
    description_owner(s)
}

/// The owner named by the tag `key` (any case, the first non-blank one).
fn tag_owner(s: &Secret, key: &str) -> Option<Owner> {
    let t = s
        .tags
        .iter()
        .find(|t| t.key.eq_ignore_ascii_case(key) && !t.value.trim().is_empty())?;
    Some(Owner {
        name: t.value.trim().to_string(),
        source: OwnerSource::Tag(t.key.to_string()),
    })
}

fn description_owner(s: &Secret) -> Option<Owner> {
    owner_in_text(s.description.as_deref()?).map(|name| Owner {
        name,
        source: OwnerSource::Description,
    })
}

/// Both places an owner can be named, each read on its own: what the
/// inventory's owner column, its `owner:` terms and facets look at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Owners {
    /// From the owner tag.
    pub tag: Option<Owner>,
    /// From the description (read even when the tag names one).
    pub description: Option<Owner>,
}

impl Owners {
    /// The owner: the tag's, else the description's (as [`owner_of`]).
    pub fn owner(&self) -> Option<&Owner> {
        self.tag.as_ref().or(self.description.as_ref())
    }

    /// The tag and the description both name an owner, and not the same one
    /// ([`same_owner`]).
    pub fn conflict(&self) -> bool {
        match (&self.tag, &self.description) {
            (Some(t), Some(d)) => !same_owner(&t.name, &d.name),
            _ => false,
        }
    }
}

/// The owners the `owner` tag and the description name.
pub fn owners_of(s: &Secret) -> Owners {
    Owners {
        tag: tag_owner(s, OWNER_TAG),
        description: description_owner(s),
    }
}

/// Whether two owner names are the same owner: compared without regard to
/// case, surrounding blanks or a leading `@` (`@team-x` is `team-x`), and
/// nothing else: `zoe@x.com` and `zoe.clark@x.com` are two owners, since
/// nothing in the metadata says they are one person.
pub fn same_owner(a: &str, b: &str) -> bool {
    fn norm(s: &str) -> String {
        let s = s.trim();
        s.strip_prefix('@').unwrap_or(s).to_lowercase()
    }
    norm(a) == norm(b)
}

/// `Owner: alice`, `owned by team-x`, `contact bob@example.com`, an e-mail
/// address, or an `@team` handle, in that order of preference.
pub fn owner_in_text(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    for marker in [
        "owner:", "owner =", "owner=", "owned by", "contact:", "contact",
    ] {
        if let Some(i) = lower.find(marker) {
            // Lower-casing can change byte lengths outside ASCII; map back by
            // searching the original from the same character offset.
            let start = lower[..i].chars().count() + marker.chars().count();
            let rest: String = text.chars().skip(start).collect();
            if let Some(word) = first_word(&rest) {
                return Some(word);
            }
        }
    }
    if let Some(email) = text.split_whitespace().map(trim_word).find(|w| is_email(w)) {
        return Some(email.to_string());
    }
    text.split_whitespace()
        .map(trim_word)
        .find(|w| w.len() > 1 && w.starts_with('@') && w[1..].chars().all(handle_char))
        .map(str::to_string)
}

fn first_word(s: &str) -> Option<String> {
    let w = trim_word(s.split_whitespace().next()?);
    (!w.is_empty() && w.chars().all(|c| handle_char(c) || c == '@' || c == '.'))
        .then(|| w.to_string())
}

fn trim_word(w: &str) -> &str {
    w.trim_matches(|c: char| {
        matches!(
            c,
            ',' | ';' | '.' | ')' | '(' | '"' | '\'' | ':' | '<' | '>'
        )
    })
}

fn handle_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '/' | '+')
}

fn is_email(w: &str) -> bool {
    match w.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && local.chars().all(|c| handle_char(c) || c == '.')
                && domain.contains('.')
                && domain
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secret::fixtures::tagged;

    fn with(desc: Option<&str>, tags: &[(&str, &str)]) -> Secret {
        let mut s = tagged("prod/db", tags);
        s.description = desc.map(Into::into);
        s
    }

    #[test]
    fn the_tag_wins() {
        let s = with(Some("Owner: bob"), &[("team", "x"), ("Owner", " alice ")]);
        assert_eq!(
            owner_of(&s),
            Some(Owner {
                name: "alice".into(),
                source: OwnerSource::Tag("Owner".into())
            })
        );
        assert_eq!(owner_of(&s).unwrap().source_text(), "the Owner tag");
    }

    #[test]
    fn an_empty_tag_falls_back_to_the_description() {
        let s = with(Some("Owner: bob@example.com."), &[("owner", "  ")]);
        let o = owner_of(&s).unwrap();
        assert_eq!(o.name, "bob@example.com");
        assert_eq!(o.source, OwnerSource::Description);
    }

    #[test]
    fn owners_in_both_places_and_their_conflicts() {
        let o = owners_of(&with(
            Some("Owner: zoe.clark@x.com"),
            &[("owner", "zoe@x.com")],
        ));
        assert_eq!(o.tag.as_ref().unwrap().name, "zoe@x.com");
        assert_eq!(o.description.as_ref().unwrap().name, "zoe.clark@x.com");
        assert_eq!(o.owner().unwrap().name, "zoe@x.com", "the tag wins");
        assert!(o.conflict(), "two different addresses");

        let same = owners_of(&with(Some("contact ZOE@X.COM"), &[("Owner", "zoe@x.com")]));
        assert!(!same.conflict(), "case does not make another owner");
        let handle = owners_of(&with(Some("Ask @team-x"), &[("owner", "Team-X")]));
        assert!(!handle.conflict(), "a leading @ does not either");

        // One place alone is never a conflict.
        let tag_only = owners_of(&with(Some("used by payments"), &[("owner", "bob")]));
        assert!(tag_only.tag.is_some() && tag_only.description.is_none());
        assert!(!tag_only.conflict());
        let desc_only = owners_of(&with(Some("Owner: bob"), &[]));
        assert_eq!(desc_only.owner().unwrap().source, OwnerSource::Description);
        assert!(!desc_only.conflict());
        let none = owners_of(&with(Some("DO NOT DELETE"), &[("owner", " ")]));
        assert_eq!(none, Owners::default());
        assert!(none.owner().is_none() && !none.conflict());

        assert!(same_owner(" alice ", "ALICE"));
        assert!(!same_owner("zoe@x.com", "zoe.clark@x.com"));
    }

    #[test]
    fn description_forms() {
        for (text, want) in [
            (
                "Schema user. Owner: ivan.petrov@example.com. Rotated weekly.",
                Some("ivan.petrov@example.com"),
            ),
            ("owner=payments-team", Some("payments-team")),
            (
                "Read replica for payments (prod). contact tariq.aziz@example.com",
                Some("tariq.aziz@example.com"),
            ),
            ("Owned by platform/sre", Some("platform/sre")),
            ("Ask @team-payments before changing", Some("@team-payments")),
            ("Mail ops@example.com if broken", Some("ops@example.com")),
            ("DO NOT DELETE - used by payments in prod", None),
            ("contact", None),
            ("an @ sign alone, and a@b", None),
            ("<script>alert(1)</script>", None),
            ("Ünïcode prefix, Owner: zoë", Some("zoë")),
        ] {
            assert_eq!(owner_in_text(text).as_deref(), want, "{text}");
        }
        assert_eq!(owner_of(&with(None, &[])), None);
    }
}

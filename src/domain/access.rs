//! Who may do what: roles granted on scopes.
//!
//! A [`Grant`] is a [`Role`] on a [`Scope`]: everything, a name prefix
//! (`prod/payments/`) or a tag match (`team=payments`). A user holds any
//! number of grants; what they may do to a secret is the best role among the
//! grants whose scope covers it. Pure: the server's guard
//! (`server::auth::guard`) applies these to the secret a request targets.

use super::Secret;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Roles, weakest first: each includes everything the ones before it may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads metadata: lists, details, health, history.
    Viewer,
    /// Also rotates, cancels a rotation, rolls back and restores.
    Operator,
    /// Also manages users, grants and settings, and reads the audit trail.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Role, AccessError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                AccessError(format!("unknown role {s:?}: use viewer, operator or admin"))
            })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a grant covers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Every secret.
    All,
    /// Secrets whose name starts with this prefix (case-sensitive, as AWS
    /// names are).
    Prefix(String),
    /// Secrets carrying this tag key with exactly this value.
    Tag { key: String, value: String },
    /// Secrets in this AWS account (12 digits).
    Account(String),
    /// Secrets in this region (`eu-west-1`).
    Region(String),
}

impl Scope {
    /// Parses the text form: `*`, `prefix:prod/payments/` (or a bare name
    /// prefix such as `prod/payments/`), `tag:team=payments`,
    /// `account:123456789012`, `region:eu-west-1`.
    pub fn parse(s: &str) -> Result<Scope, AccessError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(AccessError(
                "empty scope: use *, a name prefix such as prod/payments/, or tag:KEY=VALUE"
                    .to_string(),
            ));
        }
        if s == "*" {
            return Ok(Scope::All);
        }
        if let Some(rest) = s.strip_prefix("tag:") {
            let Some((key, value)) = rest.split_once('=') else {
                return Err(AccessError(format!(
                    "tag scope {s:?} needs KEY=VALUE, for example tag:team=payments"
                )));
            };
            let (key, value) = (key.trim(), value.trim());
            if key.is_empty() || value.is_empty() {
                return Err(AccessError(format!(
                    "tag scope {s:?} needs a key and a value, for example tag:team=payments"
                )));
            }
            return Ok(Scope::Tag {
                key: key.to_string(),
                value: value.to_string(),
            });
        }
        if let Some(id) = s.strip_prefix("account:") {
            let id = id.trim();
            if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(AccessError(format!(
                    "account scope {s:?} needs a 12-digit account id, for example account:123456789012"
                )));
            }
            return Ok(Scope::Account(id.to_string()));
        }
        if let Some(region) = s.strip_prefix("region:") {
            let region = region.trim();
            let ok = region.split('-').count() >= 3
                && region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok {
                return Err(AccessError(format!(
                    "region scope {s:?} needs a region code, for example region:eu-west-1"
                )));
            }
            return Ok(Scope::Region(region.to_string()));
        }
        let prefix = s.strip_prefix("prefix:").unwrap_or(s);
        if prefix.is_empty() {
            return Err(AccessError("prefix scope needs a name prefix".to_string()));
        }
        Ok(Scope::Prefix(prefix.to_string()))
    }

    pub fn covers(&self, s: &Secret) -> bool {
        match self {
            Scope::All => true,
            Scope::Prefix(p) => s.name.starts_with(p.as_str()),
            Scope::Tag { key, value } => s.tag(key) == Some(value.as_str()),
            Scope::Account(id) => *s.account == **id,
            Scope::Region(r) => *s.region == **r,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::All => f.write_str("*"),
            Scope::Prefix(p) => write!(f, "prefix:{p}"),
            Scope::Tag { key, value } => write!(f, "tag:{key}={value}"),
            Scope::Account(id) => write!(f, "account:{id}"),
            Scope::Region(r) => write!(f, "region:{r}"),
        }
    }
}

/// A role on a scope.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grant {
    pub role: Role,
    pub scope: Scope,
}

impl Grant {
    pub fn new(role: Role, scope: Scope) -> Grant {
        Grant { role, scope }
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on {}", self.role, self.scope)
    }
}

/// The best role `grants` give on `s`, if any.
pub fn role_on(grants: &[Grant], s: &Secret) -> Option<Role> {
    grants
        .iter()
        .filter(|g| g.scope.covers(s))
        .map(|g| g.role)
        .max()
}

/// The best role held on every secret (a grant on `*`): what decides the
/// actions that are not about one secret, such as managing users.
pub fn global_role(grants: &[Grant]) -> Option<Role> {
    grants
        .iter()
        .filter(|g| g.scope == Scope::All)
        .map(|g| g.role)
        .max()
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AccessError(pub String);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secret::fixtures::tagged as secret;

    #[test]
    fn roles_are_ordered_and_parse() {
        assert!(Role::Viewer < Role::Operator && Role::Operator < Role::Admin);
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(r));
        }
        assert_eq!(Role::parse(" Admin "), Ok(Role::Admin));
        assert!(Role::parse("root")
            .unwrap_err()
            .0
            .contains("viewer, operator or admin"));
    }

    #[test]
    fn scopes_parse_and_print_back() {
        for text in [
            "*",
            "prefix:prod/payments/",
            "tag:team=payments",
            "account:210987654321",
            "region:eu-west-1",
        ] {
            let s = Scope::parse(text).unwrap();
            assert_eq!(s.to_string(), text);
            assert_eq!(Scope::parse(&s.to_string()).unwrap(), s);
        }
        assert_eq!(
            Scope::parse("prod/").unwrap(),
            Scope::Prefix("prod/".into())
        );
        for bad in [
            "",
            "  ",
            "tag:team",
            "tag:=x",
            "tag:team=",
            "prefix:",
            "account:12345",
            "account:12345678901x",
            "region:",
            "region:EU-WEST-1",
            "region:europe",
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn scope_coverage() {
        let s = secret("prod/payments/db", &[("team", "payments")]);
        assert!(Scope::All.covers(&s));
        assert!(Scope::Prefix("prod/payments/".into()).covers(&s));
        assert!(Scope::Prefix("prod/".into()).covers(&s));
        assert!(!Scope::Prefix("prod/pay/".into()).covers(&s));
        assert!(
            !Scope::Prefix("Prod/".into()).covers(&s),
            "names are case-sensitive"
        );
        let tag = |k: &str, v: &str| Scope::Tag {
            key: k.into(),
            value: v.into(),
        };
        assert!(tag("team", "payments").covers(&s));
        assert!(!tag("team", "Payments").covers(&s));
        assert!(!tag("owner", "payments").covers(&s));
        // The fixture is in 123456789012, us-east-1.
        assert!(Scope::Account("123456789012".into()).covers(&s));
        assert!(!Scope::Account("210987654321".into()).covers(&s));
        assert!(Scope::Region("us-east-1".into()).covers(&s));
        assert!(!Scope::Region("eu-west-1".into()).covers(&s));
    }

    #[test]
    fn best_role_wins_and_out_of_scope_is_none() {
        let s = secret("prod/payments/db", &[("team", "payments")]);
        let other = secret("dev/search/key", &[("team", "search")]);
        let grants = vec![
            Grant::new(Role::Viewer, Scope::All),
            Grant::new(Role::Operator, Scope::Prefix("prod/payments/".into())),
        ];
        assert_eq!(role_on(&grants, &s), Some(Role::Operator));
        assert_eq!(role_on(&grants, &other), Some(Role::Viewer));
        assert_eq!(global_role(&grants), Some(Role::Viewer));
        let scoped = vec![Grant::new(
            Role::Admin,
            Scope::Tag {
                key: "team".into(),
                value: "payments".into(),
            },
        )];
        assert_eq!(role_on(&scoped, &other), None);
        assert_eq!(
            global_role(&scoped),
            None,
            "a scoped admin is not a global one"
        );
        assert_eq!(role_on(&[], &s), None);
    }
}

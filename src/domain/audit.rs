//! The audit trail's record: who did what to which target, and how it ended.
//!
//! Typed, so every writer fills every field; stored by `server::store` and
//! written before an action's effect is returned (an action whose record
//! cannot be written does not run).

use super::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What happened. The text form (`login.failed`, `user.create`…) is what the
/// store keeps and what the audit page filters on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AuditAction {
    Login,
    LoginFailed,
    LoginThrottled,
    Logout,
    /// A request refused by a guard (401/403) or by the origin check.
    Denied,
    UserCreate,
    UserDisable,
    UserEnable,
    UserPassword,
    GrantAdd,
    GrantRemove,
    /// A secret's suppression tag was honoured or changed (health rules).
    Suppression,
    /// The audit trail itself was exported.
    AuditExport,
    Rotate,
    /// AWSPENDING removed from a failed rotation's version, then RotateSecret.
    RetryRotation,
    CancelRotation,
    /// AWSPENDING removed from a failed or cancelled rotation's version.
    ClearPending,
    /// Automatic rotation turned back on (RotateSecret with the kept configuration).
    EnableRotation,
    Rollback,
    Restore,
    AccessRequest,
    AccessDecision,
    AccessGrant,
    AccessRevoke,
    AccessExpire,
}

impl AuditAction {
    pub const ALL: [AuditAction; 25] = [
        AuditAction::Login,
        AuditAction::LoginFailed,
        AuditAction::LoginThrottled,
        AuditAction::Logout,
        AuditAction::Denied,
        AuditAction::UserCreate,
        AuditAction::UserDisable,
        AuditAction::UserEnable,
        AuditAction::UserPassword,
        AuditAction::GrantAdd,
        AuditAction::GrantRemove,
        AuditAction::Suppression,
        AuditAction::AuditExport,
        AuditAction::Rotate,
        AuditAction::RetryRotation,
        AuditAction::CancelRotation,
        AuditAction::ClearPending,
        AuditAction::EnableRotation,
        AuditAction::Rollback,
        AuditAction::Restore,
        AuditAction::AccessRequest,
        AuditAction::AccessDecision,
        AuditAction::AccessGrant,
        AuditAction::AccessRevoke,
        AuditAction::AccessExpire,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Login => "login",
            AuditAction::LoginFailed => "login.failed",
            AuditAction::LoginThrottled => "login.throttled",
            AuditAction::Logout => "logout",
            AuditAction::Denied => "denied",
            AuditAction::UserCreate => "user.create",
            AuditAction::UserDisable => "user.disable",
            AuditAction::UserEnable => "user.enable",
            AuditAction::UserPassword => "user.password",
            AuditAction::GrantAdd => "grant.add",
            AuditAction::GrantRemove => "grant.remove",
            AuditAction::Suppression => "suppression",
            AuditAction::AuditExport => "audit.export",
            AuditAction::Rotate => "secret.rotate",
            AuditAction::RetryRotation => "secret.retry-rotation",
            AuditAction::CancelRotation => "secret.cancel-rotation",
            AuditAction::ClearPending => "secret.clear-pending",
            AuditAction::EnableRotation => "secret.enable-rotation",
            AuditAction::Rollback => "secret.rollback",
            AuditAction::Restore => "secret.restore",
            AuditAction::AccessRequest => "access.request",
            AuditAction::AccessDecision => "access.decision",
            AuditAction::AccessGrant => "access.grant",
            AuditAction::AccessRevoke => "access.revoke",
            AuditAction::AccessExpire => "access.expire",
        }
    }

    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL
            .into_iter()
            .find(|a| a.as_str() == s.trim())
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Outcome {
    Allowed,
    Denied,
    Failed,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Allowed, Outcome::Denied, Outcome::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s.trim())
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One audit record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub at: Timestamp,
    /// The user name; `-` for an anonymous request; for a failed login, the
    /// name that was tried.
    pub actor: String,
    /// The client address as the server saw it.
    pub client: String,
    pub action: AuditAction,
    /// A secret's name or ARN, a user name, a request path; empty when none.
    pub target: String,
    pub outcome: Outcome,
    /// A sentence: why it was denied, what changed (before → after).
    pub detail: String,
    pub request_id: String,
}

/// Which records to read; every field set narrows the result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Exactly this actor.
    pub actor: Option<String>,
    pub action: Option<AuditAction>,
    /// A substring of the target, ignoring case (Unicode).
    pub target: Option<String>,
    pub outcome: Option<Outcome>,
    /// At or after this time.
    pub from: Option<Timestamp>,
    /// Strictly before this time.
    pub to: Option<Timestamp>,
}

/// The audit page's filter form (and the export's query string) as typed:
/// every field is text, empty for "any".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    /// A date (`2026-11-23`), a minute (`2026-11-23T07:30`) or RFC 3339.
    pub from: String,
    /// As `from`; the day or minute it names is included.
    pub to: String,
}

impl AuditQuery {
    /// The filter these fields describe, or a sentence saying which field
    /// is wrong and what it accepts.
    pub fn filter(&self) -> Result<AuditFilter, String> {
        let text = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_string);
        let action = match text(&self.action) {
            None => None,
            Some(a) => Some(AuditAction::parse(&a).ok_or_else(|| {
                format!(
                    "There is no action {a:?}. Pick one from the list, or leave it empty for any."
                )
            })?),
        };
        let outcome = match text(&self.outcome) {
            None => None,
            Some(o) => Some(Outcome::parse(&o).ok_or_else(|| {
                format!("There is no outcome {o:?}: it is allowed, denied or failed.")
            })?),
        };
        let from = parse_when(&self.from, false).map_err(|e| format!("From: {e}"))?;
        let to = parse_when(&self.to, true).map_err(|e| format!("To: {e}"))?;
        if let (Some(f), Some(t)) = (from, to) {
            if f.secs() >= t.secs() {
                return Err("From must be earlier than To.".to_string());
            }
        }
        Ok(AuditFilter {
            actor: text(&self.actor),
            action,
            target: text(&self.target),
            outcome,
            from,
            to,
        })
    }

    /// The fields by their names in the query string, in form order.
    pub fn fields(&self) -> [(&'static str, &str); 6] {
        [
            ("actor", &self.actor),
            ("action", &self.action),
            ("target", &self.target),
            ("outcome", &self.outcome),
            ("from", &self.from),
            ("to", &self.to),
        ]
    }

    /// True when no field narrows the result.
    pub fn is_empty(&self) -> bool {
        self.fields().iter().all(|(_, v)| v.trim().is_empty())
    }
}

/// A time typed into the audit filter, in UTC: `2026-11-23`,
/// `2026-11-23T07:30` (what a `datetime-local` field sends, also with a
/// space) or RFC 3339. Empty is `None`. With `end`, the whole day or minute
/// named is included: the result is the instant just after it.
pub fn parse_when(s: &str, end: bool) -> Result<Option<Timestamp>, String> {
    use chrono::{NaiveDate, NaiveDateTime};
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let (secs, span) = if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let start = d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
        (start, 86_400)
    } else if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        (Some(t.timestamp()), 1)
    } else if let Some(t) = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    {
        let span = if s.len() <= 16 { 60 } else { 1 };
        (Some(t.and_utc().timestamp()), span)
    } else {
        (None, 0)
    };
    match secs {
        Some(secs) => Ok(Some(Timestamp::new(if end { secs + span } else { secs }))),
        None => Err(format!(
            "{s:?} is not a time. Write a date (2026-11-23), a minute (2026-11-23T07:30) or RFC 3339, in UTC."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_and_outcomes_round_trip_through_text() {
        let mut seen = std::collections::BTreeSet::new();
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
            seen.insert(a.as_str());
        }
        assert_eq!(
            seen.len(),
            AuditAction::ALL.len(),
            "text forms are distinct"
        );
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
        assert_eq!(AuditAction::parse("nope"), None);
    }

    #[test]
    fn times_parse_as_days_minutes_or_rfc3339_and_ends_include_them() {
        let day = 1_795_392_000; // 2026-11-23T00:00:00Z
        let at = |s, end| parse_when(s, end).unwrap().map(Timestamp::secs);
        assert_eq!(at("2026-11-23", false), Some(day));
        assert_eq!(at(" 2026-11-23 ", true), Some(day + 86_400));
        assert_eq!(at("2026-11-23T07:30", false), Some(day + 27_000));
        assert_eq!(at("2026-11-23 07:30", true), Some(day + 27_060));
        assert_eq!(at("2026-11-23T07:30:15", true), Some(day + 27_016));
        assert_eq!(at("2026-11-23T08:30:00+01:00", false), Some(day + 27_000));
        assert_eq!(at("2026-11-23T07:30:00Z", true), Some(day + 27_001));
        assert_eq!(at("", true), None);
        for bad in ["yesterday", "2026-13-01", "23/11/2026", "2026-11-23T25:00"] {
            let e = parse_when(bad, false).unwrap_err();
            assert!(e.contains(bad) && e.contains("2026-11-23"), "{e}");
        }
    }

    #[test]
    fn queries_become_filters_or_say_which_field_is_wrong() {
        let q = AuditQuery {
            actor: " alice ".into(),
            action: "secret.rotate".into(),
            target: "prod/".into(),
            outcome: "denied".into(),
            from: "2026-11-01".into(),
            to: "2026-11-23".into(),
        };
        let f = q.filter().unwrap();
        assert_eq!(f.actor.as_deref(), Some("alice"));
        assert_eq!(f.action, Some(AuditAction::Rotate));
        assert_eq!(f.target.as_deref(), Some("prod/"));
        assert_eq!(f.outcome, Some(Outcome::Denied));
        assert!(f.from.unwrap().secs() < f.to.unwrap().secs());
        assert!(!q.is_empty());
        assert_eq!(
            AuditQuery::default().filter().unwrap(),
            AuditFilter::default()
        );
        assert!(AuditQuery::default().is_empty());

        let wrong = |q: AuditQuery| q.filter().unwrap_err();
        assert!(wrong(AuditQuery {
            action: "rotate".into(),
            ..Default::default()
        })
        .contains("\"rotate\""));
        assert!(wrong(AuditQuery {
            outcome: "ok".into(),
            ..Default::default()
        })
        .contains("allowed, denied or failed"));
        assert!(wrong(AuditQuery {
            from: "soon".into(),
            ..Default::default()
        })
        .starts_with("From:"));
        assert!(wrong(AuditQuery {
            to: "later".into(),
            ..Default::default()
        })
        .starts_with("To:"));
        let reversed = AuditQuery {
            from: "2026-11-23".into(),
            to: "2026-11-22".into(),
            ..Default::default()
        };
        assert_eq!(wrong(reversed), "From must be earlier than To.");
    }
}

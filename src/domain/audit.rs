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
    CancelRotation,
    Rollback,
    Restore,
    AccessRequest,
    AccessDecision,
    AccessGrant,
    AccessRevoke,
    AccessExpire,
}

impl AuditAction {
    pub const ALL: [AuditAction; 22] = [
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
        AuditAction::CancelRotation,
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
            AuditAction::CancelRotation => "secret.cancel-rotation",
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
}

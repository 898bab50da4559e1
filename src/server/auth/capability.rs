//! Capabilities: a mutating service takes a [`Can<A>`], which only the
//! guard ([`super::Principal::can`], [`super::Principal::can_globally`])
//! and the console ([`console`], [`console_doing`]) make, so code that
//! skips the check does not compile.
//!
//! The actions and the role each needs are here, in one place:
//! - dashboard-wide ones, one type each: [`ManageUsers`], [`ReadAudit`],
//!   [`ReadSources`] (admin on every secret);
//! - the actions on one secret, one type for all of them: [`Act`] carries
//!   its [`ActionKind`], and [`Act::role`] says which role each kind needs
//!   on the secret. A `Can<Act>` is proof for exactly that kind on exactly
//!   that secret ([`Can::kind`]), so the services ask it which action they
//!   run instead of matching every kind to a type of its own.

use crate::domain::access::Role;
use crate::domain::actions::ActionKind;

/// An action on a secret (or on the dashboard) and the role it needs.
pub trait Action {
    fn role(&self) -> Role;
    /// "rotate prod/payments/db", for a denial's sentence.
    fn verb(&self) -> &'static str;
}

/// Managing users and grants: admin on every secret.
#[derive(Clone, Copy, Debug, Default)]
pub struct ManageUsers;
impl Action for ManageUsers {
    fn role(&self) -> Role {
        Role::Admin
    }
    fn verb(&self) -> &'static str {
        "manage users"
    }
}

/// Reading the audit trail: admin on every secret.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadAudit;
impl Action for ReadAudit {
    fn role(&self) -> Role {
        Role::Admin
    }
    fn verb(&self) -> &'static str {
        "read the audit trail"
    }
}

/// Seeing the sources (accounts × regions) and their errors: admin on every secret.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadSources;
impl Action for ReadSources {
    fn role(&self) -> Role {
        Role::Admin
    }
    fn verb(&self) -> &'static str {
        "see the sources and their health"
    }
}

/// An action on one secret: rotate, retry a rotation, cancel it, clear a
/// leftover AWSPENDING, turn rotation back on, roll back, restore. Naming
/// one proves nothing; a [`Can<Act>`] does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Act(pub ActionKind);

impl Action for Act {
    /// Which role each action needs on the secret.
    fn role(&self) -> Role {
        match self.0 {
            ActionKind::Rotate
            | ActionKind::RetryRotation
            | ActionKind::CancelRotation
            | ActionKind::ClearPending
            | ActionKind::EnableRotation
            | ActionKind::Rollback
            | ActionKind::Restore => Role::Operator,
        }
    }

    fn verb(&self) -> &'static str {
        match self.0 {
            ActionKind::Rotate => "rotate",
            ActionKind::RetryRotation => "retry the rotation of",
            ActionKind::CancelRotation => "cancel the rotation of",
            ActionKind::ClearPending => "clear the pending version of",
            ActionKind::EnableRotation => "turn rotation back on for",
            ActionKind::Rollback => "roll back",
            ActionKind::Restore => "restore",
        }
    }
}

/// Proof that the guard allowed the action for [`Can::actor`] on
/// [`Can::target`]. Its fields are private and it has no public
/// constructor: only the guard and the console make one.
pub struct Can<A> {
    actor: String,
    target: String,
    action: A,
}

impl<A> Can<A> {
    /// After the guard's check (private to the auth module tree).
    pub(super) fn new(actor: &str, target: &str, action: A) -> Can<A> {
        Can {
            actor: actor.to_string(),
            target: target.to_string(),
            action,
        }
    }

    /// The server itself, or the person at its console (`secretscope user
    /// …`, `serve` creating the bootstrap or demo users): named
    /// `local:<OS user>` in the audit trail. Private to the auth module tree.
    pub(super) fn system(action: A) -> Can<A> {
        let os_user = ["USER", "LOGNAME"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
            .unwrap_or_else(|| "console".to_string());
        Can::new(&format!("local:{os_user}"), "", action)
    }

    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The secret's name, or empty for a dashboard-wide action.
    pub fn target(&self) -> &str {
        &self.target
    }
}

impl Can<Act> {
    /// The one action on the secret this capability allows.
    pub fn kind(&self) -> ActionKind {
        self.action.0
    }
}

/// The capability for `A` of the person at the server's console (the
/// `secretscope user …` commands, run by whoever may read the store and
/// the AWS credentials): recorded as `local:<OS user>`.
pub fn console<A: Action + Default>() -> Can<A> {
    Can::system(A::default())
}

/// The console's capability for `action` (`secretscope rotate|…`).
pub fn console_doing<A: Action>(action: A) -> Can<A> {
    Can::system(action)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The roles as they were when each action had a type of its own.
    #[test]
    fn every_action_on_a_secret_needs_the_operator_role() {
        for kind in ActionKind::ALL {
            assert_eq!(Act(kind).role(), Role::Operator, "{kind:?}");
        }
        assert_eq!(ManageUsers.role(), Role::Admin);
        assert_eq!(ReadAudit.role(), Role::Admin);
        assert_eq!(ReadSources.role(), Role::Admin);
    }
}

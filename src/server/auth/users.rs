//! Managing users: the services behind `secretscope user …` (and later an
//! admin page). Each takes a [`Can<ManageUsers>`] and writes an audit record
//! before it changes anything; if the record cannot be written, nothing
//! changes.

use super::{password, store_error, Can, ManageUsers, RequestInfo};
use crate::domain::access::{Grant, Role, Scope};
use crate::domain::audit::{AuditAction, Outcome};
use crate::server::error::{AppError, ErrorKind};
use crate::server::store::{Store, StoreError, User};

fn now() -> crate::domain::Timestamp {
    crate::server::clock::now()
}

fn invalid(msg: impl Into<String>) -> AppError {
    let msg = msg.into();
    AppError::new(ErrorKind::InvalidInput, msg.clone(), msg)
}

async fn record(
    store: &Store,
    can: &Can<ManageUsers>,
    req: &RequestInfo,
    action: AuditAction,
    target: &str,
    detail: String,
) -> Result<(), AppError> {
    super::write_audit(
        store,
        req,
        can.actor(),
        action,
        target,
        Outcome::Allowed,
        detail,
    )
    .await
}

/// A user name: 1–64 characters, letters, digits and `._@-`.
pub fn check_name(name: &str) -> Result<(), AppError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "{name:?} is not a valid user name: use 1 to 64 letters, digits, '.', '_', '@' or '-'"
        )))
    }
}

async fn hash(password: String) -> Result<String, AppError> {
    password::check_new(&password).map_err(invalid)?;
    password::hash_limited(password)
        .await
        .map_err(|e| AppError::internal(format!("argon2: {e}")))
}

async fn user(store: &Store, name: &str) -> Result<User, AppError> {
    store
        .user_by_name(name)
        .await
        .map_err(store_error)?
        .ok_or_else(|| invalid(format!("there is no user named {name:?}")))
}

/// Creates `name` with `password` and one grant.
pub async fn add(
    store: &Store,
    can: &Can<ManageUsers>,
    req: &RequestInfo,
    name: &str,
    password: String,
    grant: Grant,
) -> Result<User, AppError> {
    check_name(name)?;
    let hash = hash(password).await?;
    if store
        .user_by_name(name)
        .await
        .map_err(store_error)?
        .is_some()
    {
        return Err(invalid(format!("a user named {name:?} already exists")));
    }
    record(
        store,
        can,
        req,
        AuditAction::UserCreate,
        name,
        format!("created with {grant}"),
    )
    .await?;
    let user = match store.create_user(name, Some(&hash), now()).await {
        Ok(u) => u,
        Err(StoreError::Conflict(_)) => {
            return Err(invalid(format!("a user named {name:?} already exists")))
        }
        Err(e) => return Err(store_error(e)),
    };
    store
        .add_grant(user.id, &grant)
        .await
        .map_err(store_error)?;
    Ok(user)
}

/// Adds a grant to an existing user.
pub async fn grant(
    store: &Store,
    can: &Can<ManageUsers>,
    req: &RequestInfo,
    name: &str,
    grant: Grant,
) -> Result<(), AppError> {
    let u = user(store, name).await?;
    record(
        store,
        can,
        req,
        AuditAction::GrantAdd,
        name,
        format!("granted {grant}"),
    )
    .await?;
    store.add_grant(u.id, &grant).await.map_err(store_error)?;
    Ok(())
}

/// Removes every grant of `name` that equals `grant`.
pub async fn revoke(
    store: &Store,
    can: &Can<ManageUsers>,
    req: &RequestInfo,
    name: &str,
    grant: &Grant,
) -> Result<bool, AppError> {
    let u = user(store, name).await?;
    let held = store.grants_of(u.id).await.map_err(store_error)?;
    let Some(g) = held.iter().find(|g| &g.grant == grant) else {
        return Ok(false);
    };
    record(
        store,
        can,
        req,
        AuditAction::GrantRemove,
        name,
        format!("revoked {grant}"),
    )
    .await?;
    store.remove_grant(g.id).await.map_err(store_error)
}

pub async fn set_disabled(
    store: &Store,
    can: &Can<ManageUsers>,
    req: &RequestInfo,
    name: &str,
    disabled: bool,
) -> Result<(), AppError> {
    let u = user(store, name).await?;
    let action = if disabled {
        AuditAction::UserDisable
    } else {
        AuditAction::UserEnable
    };
    record(store, can, req, action, name, String::new()).await?;
    store
        .set_disabled(u.id, disabled, now())
        .await
        .map_err(store_error)
}

pub async fn set_password(
    store: &Store,
    can: &Can<ManageUsers>,
    req: &RequestInfo,
    name: &str,
    password: String,
) -> Result<(), AppError> {
    let u = user(store, name).await?;
    let hash = hash(password).await?;
    record(
        store,
        can,
        req,
        AuditAction::UserPassword,
        name,
        "password changed".into(),
    )
    .await?;
    store
        .set_password(u.id, &hash, now())
        .await
        .map_err(store_error)?;
    // A new password ends every session signed in with the old one.
    store.delete_sessions_of(u.id).await.map_err(store_error)?;
    Ok(())
}

/// The fixed demo logins `serve --demo` creates and prints: (name,
/// password, grant).
pub fn demo_logins() -> Vec<(&'static str, &'static str, Grant)> {
    vec![
        (
            "admin",
            "demo-admin-password",
            Grant::new(Role::Admin, Scope::All),
        ),
        (
            "operator",
            "demo-operator-password",
            Grant::new(Role::Operator, Scope::All),
        ),
        (
            "viewer",
            "demo-viewer-password",
            Grant::new(Role::Viewer, Scope::All),
        ),
        (
            "payments",
            "demo-payments-password",
            Grant::new(Role::Operator, Scope::Prefix("prod/payments/".into())),
        ),
    ]
}

/// Creates the demo logins that are missing (as the local system).
pub async fn ensure_demo_users(store: &Store) -> Result<(), AppError> {
    let can = Can::system(ManageUsers);
    let req = RequestInfo {
        client: "local".into(),
        request_id: "-".into(),
    };
    for (name, password, grant) in demo_logins() {
        if store
            .user_by_name(name)
            .await
            .map_err(store_error)?
            .is_none()
        {
            add(store, &can, &req, name, password.to_string(), grant).await?;
        }
    }
    Ok(())
}

/// On a store without users: creates `admin` (admin on `*`) with a random
/// password and returns it, to be printed once. `None` when users exist.
pub async fn bootstrap_admin(store: &Store) -> Result<Option<String>, AppError> {
    if store.count_users().await.map_err(store_error)? > 0 {
        return Ok(None);
    }
    let password = password::generate();
    let can = Can::system(ManageUsers);
    let req = RequestInfo {
        client: "local".into(),
        request_id: "-".into(),
    };
    add(
        store,
        &can,
        &req,
        "admin",
        password.clone(),
        Grant::new(Role::Admin, Scope::All),
    )
    .await?;
    Ok(Some(password))
}

/// The capability of whoever runs `secretscope user …` on the server: they
/// hold the database itself, so they are trusted like its administrator;
/// the audit trail names them.
pub fn local_admin() -> Can<ManageUsers> {
    Can::system(ManageUsers)
}

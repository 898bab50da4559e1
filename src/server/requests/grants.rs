//! The grants: resource-policy statements written on approval (diff
//! audited), removed on revocation and when they expire.

use super::{addresses, conflict, invalid, notify};
use crate::domain::audit::{AuditAction, Outcome};
use crate::domain::requests::{
    diff, grant_statement, has_statement, pretty, with_statement, without_statement, AccessRequest,
    RequestStatus, SID_PREFIX,
};
use crate::domain::Timestamp;
use crate::server::auth::{self, store_error, RequestInfo};
use crate::server::clock::now;
use crate::server::error::{AppError, ErrorKind};
use crate::server::store::RequestChange;
use crate::server::AppState;
use serde_json::Value;

/// Set by tests to a request's id: its grant fails right after
/// PutResourcePolicy succeeded.
#[cfg(test)]
pub(crate) static FAIL_AFTER_PUT: std::sync::atomic::AtomicI64 =
    std::sync::atomic::AtomicI64::new(0);

/// Removes the statements of active requests whose time is up (IAM stopped
/// honouring them already: the condition holds the expiry).
pub async fn expire_due(state: &AppState) -> Result<usize, AppError> {
    expire_due_at(state, now()).await
}

/// [`expire_due`] as of `at`.
pub(crate) async fn expire_due_at(state: &AppState, at: Timestamp) -> Result<usize, AppError> {
    let due = state.auth.store.due_grants(at).await.map_err(store_error)?;
    let info = RequestInfo {
        client: "local".into(),
        request_id: "-".into(),
    };
    let mut n = 0;
    for r in due {
        match end_grant(state, &info, "secretscope", r, RequestStatus::Expired, "").await {
            Ok(_) => n += 1,
            Err(e) => {
                tracing::warn!(detail = %e.detail, "expiring a grant failed; retried on the next pass")
            }
        }
    }
    Ok(n)
}

/// How long a replica's policy edit may hold its secret's lock before
/// another replica may take it (an edit is a few AWS calls; this only
/// matters when a replica dies mid-edit), and how long one waits for it.
const EDIT_LEASE_MS: i64 = 60_000;
const EDIT_WAIT: std::time::Duration = std::time::Duration::from_secs(70);

/// One resource-policy edit at a time per secret: this process's mutex,
/// then, across replicas, a lease in the store named after the secret,
/// released when the edit is done. Two replicas that read, change and
/// write the same policy at once would lose one of the changes.
pub(super) struct PolicyEdit<'a> {
    _local: tokio::sync::MutexGuard<'a, ()>,
    held: Option<(crate::server::store::Store, String, String)>,
}

impl Drop for PolicyEdit<'_> {
    fn drop(&mut self) {
        if let (Some((store, name, holder)), Ok(rt)) =
            (self.held.take(), tokio::runtime::Handle::try_current())
        {
            rt.spawn(async move {
                let _ = store.release_lease(&name, &holder).await;
            });
        }
    }
}

pub(super) async fn one_edit<'a>(state: &'a AppState, arn: &str) -> PolicyEdit<'a> {
    let local = state.grant_edits.lock().await;
    let store = state.auth.store.clone();
    let name = format!("policy-edit {arn}");
    let holder = crate::server::lease::holder_id();
    let deadline = std::time::Instant::now() + EDIT_WAIT;
    loop {
        match store.acquire_lease(&name, &holder, EDIT_LEASE_MS).await {
            Ok(true) => {
                return PolicyEdit {
                    _local: local,
                    held: Some((store, name, holder)),
                }
            }
            Ok(false) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await
            }
            // The audit record every edit writes first fails closed on a
            // store this broken; the edit is not held up by the lock alone.
            Ok(false) => {
                break tracing::warn!(
                    secret = arn,
                    "another replica's policy edit held the lock too long; editing anyway"
                )
            }
            Err(e) => {
                break tracing::warn!(secret = arn, error = %e, "the policy edit lock could not be taken; editing anyway")
            }
        }
    }
    PolicyEdit {
        _local: local,
        held: None,
    }
}

pub(super) async fn read_policy(
    state: &AppState,
    r: &AccessRequest,
) -> Result<Option<String>, AppError> {
    let src = state.source_of_arn(&r.secret_arn)?;
    let out = src
        .client
        .get_resource_policy()
        .secret_id(&r.secret_arn)
        .send()
        .await
        .map_err(|e| AppError::from_sdk("GetResourcePolicy", &r.secret, &src.endpoint, e))?;
    Ok(out.resource_policy)
}

/// Writes `after` as the secret's policy (validated first, Block Public
/// Policy on), or deletes the policy when nothing is left.
pub(super) async fn write_policy(
    state: &AppState,
    r: &AccessRequest,
    after: Option<&Value>,
) -> Result<(), AppError> {
    let src = state.source_of_arn(&r.secret_arn)?;
    let arn = &r.secret_arn;
    let Some(doc) = after else {
        src.client
            .delete_resource_policy()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| AppError::from_sdk("DeleteResourcePolicy", &r.secret, &src.endpoint, e))?;
        return Ok(());
    };
    let text = doc.to_string();
    let checked = src
        .client
        .validate_resource_policy()
        .secret_id(arn)
        .resource_policy(&text)
        .send()
        .await
        .map_err(|e| AppError::from_sdk("ValidateResourcePolicy", &r.secret, &src.endpoint, e))?;
    if !checked.policy_validation_passed {
        let errors = checked
            .validation_errors
            .unwrap_or_default()
            .into_iter()
            .map(|e| {
                format!(
                    "{}: {}",
                    e.check_name.unwrap_or_default(),
                    e.error_message.unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        let why = format!(
            "Secrets Manager's policy validation refused the new policy of {} ({errors}); nothing was written.",
            r.secret
        );
        return Err(AppError::new(ErrorKind::InvalidInput, why.clone(), why));
    }
    src.client
        .put_resource_policy()
        .secret_id(arn)
        .resource_policy(text)
        .block_public_policy(true)
        .send()
        .await
        .map_err(|e| AppError::from_sdk("PutResourcePolicy", &r.secret, &src.endpoint, e))?;
    Ok(())
}

/// Adds the approved request's statement; active on success, failed (with
/// the reason in its comment) otherwise.
pub(super) async fn apply_grant(
    state: &AppState,
    info: &RequestInfo,
    actor: &str,
    r: AccessRequest,
) -> AccessRequest {
    let _one = one_edit(state, &r.secret_arn).await;
    let until = r.expires_at.unwrap_or_else(now);
    let edited = async {
        let before = read_policy(state, &r).await?;
        let after = with_statement(
            before.as_deref(),
            grant_statement(r.id, &r.principal, until),
        )
        .map_err(invalid)?;
        // Recorded before the policy changes, and nothing changes unless it
        // is: whatever fails after PutResourcePolicy, the grant has a record,
        // its statement expires by IAM's own clock, and the sweep (which
        // reads approved and failed requests too) removes it when due.
        auth::audit(
            state,
            info,
            actor,
            AuditAction::AccessGrant,
            &r.secret,
            Outcome::Allowed,
            format!(
                "request {}: adding statement {} for {} until {} to {}",
                r.id,
                r.sid(),
                r.principal,
                until.rfc3339(),
                r.secret_arn
            ),
        )
        .await?;
        write_policy(state, &r, Some(&after)).await?;
        #[cfg(test)]
        if FAIL_AFTER_PUT.load(std::sync::atomic::Ordering::SeqCst) == r.id {
            return Err(AppError::internal(
                "injected failure after PutResourcePolicy".to_string(),
            ));
        }
        Ok::<_, AppError>(policy_diff(before.as_deref(), Some(&after)))
    }
    .await;
    let (to, outcome, detail, comment) = match edited {
        Ok(d) => (
            RequestStatus::Active,
            Outcome::Allowed,
            format!(
                "request {}: statement {} added for {} until {}. diff:\n{}",
                r.id,
                r.sid(),
                r.principal,
                until.rfc3339(),
                d.join("\n")
            ),
            None,
        ),
        Err(e) => {
            tracing::warn!(request = r.id, detail = %e.detail, "applying a grant failed");
            (
                RequestStatus::Failed,
                Outcome::Failed,
                format!("request {}: the grant was not applied: {}", r.id, e.user),
                Some(format!("The grant was not applied: {}", e.user)),
            )
        }
    };
    let _ = auth::audit(
        state,
        info,
        actor,
        AuditAction::AccessGrant,
        &r.secret,
        outcome,
        detail,
    )
    .await;
    let change = RequestChange {
        comment,
        ..Default::default()
    };
    match state
        .auth
        .store
        .transition_request(r.id, RequestStatus::Approved, to, &change)
        .await
    {
        Ok(done) => done,
        Err(e) => {
            tracing::error!(request = r.id, error = %e, "recording the grant's outcome failed");
            r
        }
    }
}

/// Removes the request's statement (if it is there) and moves the request
/// to `to` (expired or revoked).
pub(super) async fn end_grant(
    state: &AppState,
    info: &RequestInfo,
    actor: &str,
    r: AccessRequest,
    to: RequestStatus,
    note: &str,
) -> Result<AccessRequest, AppError> {
    let _one = one_edit(state, &r.secret_arn).await;
    let sid = r.sid();
    debug_assert!(sid.starts_with(SID_PREFIX));
    let mut diff_text = String::new();
    // Approved and failed grants are checked too: their statement may be in
    // the policy if something failed after it was written.
    let may_hold = matches!(
        r.status,
        RequestStatus::Active | RequestStatus::Approved | RequestStatus::Failed
    ) && state.config.requests.grants;
    if r.status == RequestStatus::Active || may_hold {
        let before = read_policy(state, &r).await?;
        if has_statement(before.as_deref(), &sid) {
            let after = without_statement(before.as_deref(), &sid).map_err(invalid)?;
            write_policy(state, &r, after.as_ref()).await?;
            diff_text = policy_diff(before.as_deref(), after.as_ref()).join("\n");
        } else {
            diff_text = format!("statement {sid} was no longer in the policy");
        }
    }
    let action = match to {
        RequestStatus::Expired => AuditAction::AccessExpire,
        _ => AuditAction::AccessRevoke,
    };
    auth::audit(
        state,
        info,
        actor,
        action,
        &r.secret,
        Outcome::Allowed,
        format!(
            "request {}: {} for {} ended ({}){}. diff:\n{diff_text}",
            r.id,
            to.as_str(),
            r.principal,
            if to == RequestStatus::Expired {
                "its time was up"
            } else {
                "revoked"
            },
            if note.is_empty() {
                String::new()
            } else {
                format!("; comment: {note}")
            }
        ),
    )
    .await?;
    let done = state
        .auth
        .store
        .transition_request(
            r.id,
            r.status,
            to,
            &RequestChange {
                comment: Some(note.to_string()).filter(|c| !c.is_empty()),
                ..Default::default()
            },
        )
        .await
        .map_err(conflict)?;
    notify(
        state,
        &done,
        addresses(state, std::slice::from_ref(&done.requested_by), None),
        format!(
            "{}'s access for {} to {} has {}.",
            done.requested_by,
            done.principal,
            done.secret,
            if to == RequestStatus::Expired {
                "expired"
            } else {
                "been revoked"
            }
        ),
    );
    Ok(done)
}

pub(super) fn policy_diff(before: Option<&str>, after: Option<&Value>) -> Vec<String> {
    let before = before
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .map(|v| pretty(Some(&v)))
        .unwrap_or_default();
    diff(&before, &pretty(after))
}

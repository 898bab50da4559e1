//! Deciding a request: what approving would change, approve (the grant
//! first, then the record), deny, revoke.

use super::deciders::{decidable, load, may_decide_or_refuse};
use super::grants::{apply_grant, end_grant, policy_diff, read_policy};
use super::{addresses, conflict, invalid, notify};
use crate::domain::audit::{AuditAction, Outcome};
use crate::domain::requests::{
    duration_text, grant_statement, parse_duration, with_statement, AccessRequest, RequestStatus,
};
use crate::domain::Timestamp;
use crate::server::auth::{self, Principal, RequestInfo};
use crate::server::clock::now;
use crate::server::error::AppError;
use crate::server::store::{RequestChange, StoreError};
use crate::server::AppState;

/// What approving would change: the duration (no longer than asked), when
/// it ends, and with grants on, the policy diff (read fresh).
#[derive(Debug)]
pub struct ApprovalPlan {
    pub request: AccessRequest,
    pub duration_secs: i64,
    pub until: Timestamp,
    /// Empty with grants off.
    pub diff: Vec<String>,
}

pub async fn plan_approval(
    state: &AppState,
    who: &Principal,
    id: i64,
    duration: &str,
) -> Result<ApprovalPlan, AppError> {
    let r = decidable(state, who, id).await?;
    if r.status != RequestStatus::Pending {
        return Err(conflict(StoreError::Conflict(format!(
            "Request {id} is {}",
            r.status.as_str()
        ))));
    }
    let duration_secs = if duration.trim().is_empty() {
        r.duration_secs
    } else {
        let d =
            parse_duration(duration, state.config.requests.max_duration_secs).map_err(invalid)?;
        if d > r.duration_secs {
            return Err(invalid(format!(
                "{} is longer than was asked for ({}): approval can shorten it, not lengthen it.",
                duration_text(d),
                duration_text(r.duration_secs)
            )));
        }
        d
    };
    let until = Timestamp::new(now().secs() + duration_secs);
    let diff = if state.config.requests.grants {
        let current = read_policy(state, &r).await?;
        let after = with_statement(
            current.as_deref(),
            grant_statement(r.id, &r.principal, until),
        )
        .map_err(invalid)?;
        policy_diff(current.as_deref(), Some(&after))
    } else {
        Vec::new()
    };
    Ok(ApprovalPlan {
        request: r,
        duration_secs,
        until,
        diff,
    })
}

/// Approves request `id` for `duration` (empty: as asked); with grants on,
/// applies the statement. The returned request says where it ended.
pub async fn approve(
    state: &AppState,
    who: &Principal,
    id: i64,
    duration: &str,
    comment: &str,
) -> Result<AccessRequest, AppError> {
    let plan = plan_approval(state, who, id, duration).await?;
    let comment = comment.trim();
    let info = RequestInfo::current();
    let detail = format!(
        "request {id} approved: {} reads it for {} (until {}){}",
        plan.request.principal,
        duration_text(plan.duration_secs),
        plan.until.display(),
        if comment.is_empty() {
            String::new()
        } else {
            format!("; comment: {comment}")
        }
    );
    let change = RequestChange {
        comment: Some(comment.to_string()).filter(|c| !c.is_empty()),
        expires_at: Some(plan.until),
        duration_secs: Some(plan.duration_secs),
        ..Default::default()
    };
    let r = decide(
        state,
        &info,
        who,
        &plan.request,
        RequestStatus::Approved,
        Outcome::Allowed,
        detail,
        change,
    )
    .await?;
    let r = if state.config.requests.grants {
        apply_grant(state, &info, &who.name, r).await
    } else {
        r
    };
    notify(
        state,
        &r,
        addresses(state, std::slice::from_ref(&r.requested_by), None),
        format!(
            "{} approved {}'s request for {} to read {} until {}{}.",
            who.name,
            r.requested_by,
            r.principal,
            r.secret,
            plan.until.display(),
            match r.status {
                RequestStatus::Active => ": the resource policy allows it now".to_string(),
                RequestStatus::Failed => format!(
                    ", but the grant could not be applied: {}",
                    r.comment.clone().unwrap_or_default()
                ),
                _ => "; grants are off, so the owner adds the access by hand".to_string(),
            }
        ),
    );
    Ok(r)
}

/// Denies request `id` with a comment (required: the requester reads it).
pub async fn deny(
    state: &AppState,
    who: &Principal,
    id: i64,
    comment: &str,
) -> Result<AccessRequest, AppError> {
    let r = decidable(state, who, id).await?;
    let comment = comment.trim();
    if comment.is_empty() {
        return Err(invalid(
            "Say why it is denied: the requester reads it. Nothing was done.".to_string(),
        ));
    }
    let info = RequestInfo::current();
    let change = RequestChange {
        comment: Some(comment.to_string()),
        ..Default::default()
    };
    let detail = format!("request {id} denied: {comment}");
    let r = decide(
        state,
        &info,
        who,
        &r,
        RequestStatus::Denied,
        Outcome::Denied,
        detail,
        change,
    )
    .await?;
    notify(
        state,
        &r,
        addresses(state, std::slice::from_ref(&r.requested_by), None),
        format!(
            "{} denied {}'s request for {} to read {}: {comment}",
            who.name, r.requested_by, r.principal, r.secret
        ),
    );
    Ok(r)
}

/// Records the decision on the pending request `r` (audited first: no
/// record, no decision), then moves it to `to` with `change`, who and when.
#[allow(clippy::too_many_arguments)]
pub(super) async fn decide(
    state: &AppState,
    info: &RequestInfo,
    who: &Principal,
    r: &AccessRequest,
    to: RequestStatus,
    outcome: Outcome,
    detail: String,
    change: RequestChange,
) -> Result<AccessRequest, AppError> {
    auth::audit(
        state,
        info,
        &who.name,
        AuditAction::AccessDecision,
        &r.secret,
        outcome,
        detail,
    )
    .await?;
    let change = RequestChange {
        decided_by: Some(who.name.clone()),
        decided_at: Some(now()),
        ..change
    };
    state
        .auth
        .store
        .transition_request(r.id, RequestStatus::Pending, to, &change)
        .await
        .map_err(conflict)
}

/// Ends an approved or active request now: its statement is removed from
/// the policy. The requester may give their own access up too.
pub async fn revoke(
    state: &AppState,
    who: &Principal,
    id: i64,
    comment: &str,
) -> Result<AccessRequest, AppError> {
    let r = load(state, id).await?;
    let r = if r.asked_by(&who.name) {
        r
    } else {
        may_decide_or_refuse(state, who, r).await?
    };
    if !matches!(
        r.status,
        RequestStatus::Active | RequestStatus::Approved | RequestStatus::Failed
    ) {
        return Err(conflict(StoreError::Conflict(format!(
            "Request {id} is {}",
            r.status.as_str()
        ))));
    }
    let info = RequestInfo::current();
    let note = comment.trim().to_string();
    end_grant(state, &info, &who.name, r, RequestStatus::Revoked, &note).await
}

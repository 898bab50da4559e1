//! Access requests: asked for from a secret's page, decided by its owner
//! (or an admin, never the requester), granted as a resource-policy
//! statement whose expiry IAM itself enforces, removed when it expires or
//! is revoked. Every step is audited, policy edits with their diff.
//!
//! Only statements whose Sid starts with [`SID_PREFIX`] are ever written or
//! removed; one policy edit of a secret runs at a time, across replicas too
//! (`grants::one_edit`).
//!
//! Where it lives: filing and listing here; who decides ([`deciders`]);
//! approving, denying and revoking ([`decide`]); the resource-policy
//! statements, their writing and their expiry ([`grants`]).

mod decide;
mod deciders;
mod grants;

pub use decide::{approve, deny, plan_approval, revoke, ApprovalPlan};
pub use deciders::{approvers, may_decide};
pub use grants::expire_due;
#[cfg(test)]
pub(crate) use grants::{expire_due_at, FAIL_AFTER_PUT};

use crate::domain::audit::{AuditAction, Outcome};
use crate::domain::owner::owner_with_tag;
use crate::domain::requests::{
    duration_text, parse_duration, parse_justification, parse_principal, AccessRequest, NewRequest,
    RequestStatus,
};
use crate::server::auth::{self, store_error, Principal, RequestInfo};
use crate::server::clock::now;
use crate::server::detail::reachable;
use crate::server::error::{AppError, ErrorKind};
use crate::server::store::{RequestFilter, StoreError};
use crate::server::AppState;
use deciders::may_decide_cached;
use std::collections::HashMap;

/// Requests listed per page section at most.
const LIST_MAX: i64 = 200;

fn invalid(why: String) -> AppError {
    AppError::new(ErrorKind::InvalidInput, why.clone(), why)
}

fn conflict(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(what) => {
            let mut what = what;
            if let Some(first) = what.get(..1) {
                what = format!("{}{}", first.to_uppercase(), &what[1..]);
            }
            let why = format!("{what} now, so nothing was done. Reload to see it.");
            AppError::new(ErrorKind::Conflict, why.clone(), why)
        }
        StoreError::NotFound(what) => {
            let why = format!("There is no access request {what}.");
            AppError::new(ErrorKind::NotFound, why.clone(), why)
        }
        e => store_error(e),
    }
}

/// A new request from `who` for the secret `id`; an open duplicate (same
/// secret and principal, still pending) is merged into. Returns the request
/// and whether it was merged.
pub async fn create(
    state: &AppState,
    who: &Principal,
    id: &str,
    principal: &str,
    justification: &str,
    duration: &str,
) -> Result<(AccessRequest, bool), AppError> {
    let secret = match reachable(state, who, id) {
        Ok(s) => s,
        Err(e) => return Err(auth::denied(state, who, id, e).await),
    };
    // A name may exist in several accounts and regions: the request must
    // bind to the one the person means, so it takes the ARN then.
    if !id.starts_with("arn:") && !state.inventory.snapshot().name_is_unique(&secret) {
        return Err(invalid(format!(
            "“{id}” names secrets in more than one account or region: pick the one you mean from the list (it fills in its ARN), or give its ARN."
        )));
    }
    let principal = parse_principal(principal).map_err(invalid)?;
    if state.config.requests.refuse_whole_accounts {
        if let Some(account) = crate::domain::requests::whole_account(&principal) {
            return Err(invalid(format!(
                "Access for a whole account ({account}:root) is not granted here (requests.refuse_whole_accounts): ask for the role or user that needs it."
            )));
        }
    }
    let justification = parse_justification(justification).map_err(invalid)?;
    let duration_secs =
        parse_duration(duration, state.config.requests.max_duration_secs).map_err(invalid)?;
    let (owner, approvers) = approvers(state, &secret).await?;
    let new = NewRequest {
        secret: secret.name.to_string(),
        secret_arn: secret.arn.to_string(),
        principal,
        justification,
        requested_by: who.name.clone(),
        requested_at: now(),
        duration_secs,
        owner,
        approvers,
    };
    let (r, merged) = state
        .auth
        .store
        .create_request(&new)
        .await
        .map_err(store_error)?;
    let info = RequestInfo::current();
    auth::audit(
        state,
        &info,
        &who.name,
        AuditAction::AccessRequest,
        &r.secret,
        Outcome::Allowed,
        format!(
            "request {}{}: read access for {} for {}; why: {}",
            r.id,
            if merged {
                " (merged into the open one)"
            } else {
                ""
            },
            new.principal,
            duration_text(new.duration_secs),
            new.justification
        ),
    )
    .await?;
    let owner = owner_with_tag(&secret, &state.config.requests.owner_tag).map(|o| o.name);
    let to = addresses(state, &r.approvers, owner.as_deref());
    notify(
        state,
        &r,
        to,
        format!(
            "{} asks for read access to {} for {} ({}), for {}. Why: {}. Decide at {}",
            who.name,
            r.secret,
            r.principal,
            if r.approvers.is_empty() {
                "the admins decide".to_string()
            } else {
                format!("{} decide", r.approvers.join(", "))
            },
            duration_text(new.duration_secs),
            new.justification,
            link(state, "/requests"),
        ),
    );
    Ok((r, merged))
}

fn link(state: &AppState, path: &str) -> String {
    match state
        .notifier
        .as_ref()
        .and_then(|n| n.dashboard_url.clone())
    {
        Some(base) => format!("{base}{path}"),
        None => path.to_string(),
    }
}

/// The mail addresses of `users` (from `requests.emails`) and of an owner
/// named by an address.
fn addresses(state: &AppState, users: &[String], owner: Option<&str>) -> Vec<String> {
    let emails = &state.config.requests.emails;
    let mut out: Vec<String> = users
        .iter()
        .filter_map(|u| emails.get(u).cloned())
        .collect();
    out.extend(
        owner
            .filter(|o| o.contains('@') && !o.starts_with('@'))
            .map(str::to_string),
    );
    out.sort();
    out.dedup();
    out
}

/// Posts `text` to the alerts webhook, and mails it `to`, when either is
/// set up.
fn notify(state: &AppState, r: &AccessRequest, to: Vec<String>, text: String) {
    if let Some(n) = &state.notifier {
        n.send(format!("access request {}", r.id), &text);
    }
    if let Some(m) = &state.mailer {
        let subject = format!("[secretscope] access request {} for {}", r.id, r.secret);
        m.send(&to, &subject, &text);
    }
}

/// What `who` sees on `/requests`: their own requests, and those they may
/// decide or revoke.
pub async fn lists(
    state: &AppState,
    who: &Principal,
) -> Result<(Vec<AccessRequest>, Vec<AccessRequest>), AppError> {
    let store = &state.auth.store;
    let mine = store
        .access_requests(
            &RequestFilter {
                requested_by: Some(who.name.clone()),
                ..Default::default()
            },
            LIST_MAX,
        )
        .await
        .map_err(store_error)?;
    let open = store
        .access_requests(
            &RequestFilter {
                statuses: vec![
                    RequestStatus::Pending,
                    RequestStatus::Approved,
                    RequestStatus::Active,
                    RequestStatus::Failed,
                ],
                ..Default::default()
            },
            LIST_MAX * 5,
        )
        .await
        .map_err(store_error)?;
    let mut inbox = Vec::new();
    let mut approvers_of = HashMap::new();
    for r in open {
        if may_decide_cached(state, who, &r, &mut approvers_of).await? {
            inbox.push(r);
        }
    }
    Ok((mine, inbox))
}

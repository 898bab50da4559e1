//! Access requests: asked for from a secret's page, decided by its owner
//! (or an admin, never the requester), granted as a resource-policy
//! statement whose expiry IAM itself enforces, removed when it expires or
//! is revoked. Every step is audited, policy edits with their diff.
//!
//! Only statements whose Sid starts with [`SID_PREFIX`] are ever written or
//! removed; one policy edit runs at a time (`AppState::grant_edits`).

use super::auth::{self, store_error, Principal, RequestInfo};
use super::aws::sync::now;
use super::detail::reachable;
use super::error::{AppError, ErrorKind};
use super::store::{RequestChange, RequestFilter, StoreError};
use super::AppState;
use crate::domain::audit::{AuditAction, Outcome};
use crate::domain::owner::owner_with_tag;
use crate::domain::requests::{
    diff, duration_text, grant_statement, has_statement, parse_duration, parse_justification,
    parse_principal, pretty, with_statement, without_statement, AccessRequest, NewRequest,
    RequestStatus, SID_PREFIX,
};
use crate::domain::{glob::glob, Secret, Timestamp};
use serde_json::Value;
use std::collections::HashMap;

/// Requests listed per page section at most.
const LIST_MAX: i64 = 200;

/// Who decides for a secret: its owner, named by the configured tag or in
/// its description, mapped to dashboard users by `[requests.owners]`, else
/// a user of that name (or that e-mail's local part); with nobody found,
/// the admins. Returns (the owner as shown, where it came from; the users).
pub async fn approvers(state: &AppState, s: &Secret) -> Result<(String, Vec<String>), AppError> {
    let settings = &state.config.requests;
    let Some(owner) = owner_with_tag(s, &settings.owner_tag) else {
        return Ok((
            "nobody is named (no owner tag, no owner in the description): the admins decide"
                .to_string(),
            Vec::new(),
        ));
    };
    let shown = format!("{} (from {})", owner.name, owner.source_text());
    let lower = owner.name.to_lowercase();
    // Exact rules first, then globs, in the configuration's (sorted) order.
    let rule = settings
        .owners
        .iter()
        .find(|(k, _)| k.to_lowercase() == lower)
        .or_else(|| {
            settings
                .owners
                .iter()
                .find(|(k, _)| k.contains('*') && glob(&lower, &k.to_lowercase()))
        });
    if let Some((_, users)) = rule {
        // `group:NAME` stands for the users in that single sign-on group.
        let mut out: Vec<String> = Vec::new();
        for u in users {
            let found = match u.strip_prefix("group:") {
                Some(group) => state
                    .auth
                    .store
                    .users_in_group(group.trim())
                    .await
                    .map_err(store_error)?,
                None => vec![u.clone()],
            };
            for name in found {
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
        return Ok((shown, out));
    }
    let wanted = lower.trim_start_matches('@');
    let local = wanted.split('@').next().unwrap_or(wanted);
    let users = state
        .auth
        .store
        .list_users()
        .await
        .map_err(store_error)?
        .into_iter()
        .filter(|u| !u.disabled)
        .map(|u| u.name)
        .filter(|n| {
            let n = n.to_lowercase();
            n == wanted || n == local
        })
        .collect();
    Ok((shown, users))
}

/// True when `who` may approve, deny or revoke `r`, worked out now (not
/// when it was filed: someone who has left the owner's group or lost their
/// grant since may no longer decide): an admin, or one of the secret's
/// approvers as they are now who can see the secret; never anyone who
/// asked for it. A secret gone from the inventory leaves it to the admins.
pub async fn may_decide(
    state: &AppState,
    who: &Principal,
    r: &AccessRequest,
) -> Result<bool, AppError> {
    may_decide_cached(state, who, r, &mut HashMap::new()).await
}

/// [`may_decide`], with the approvers of each secret (by ARN) looked up
/// once in `approvers_of` (a list of requests often holds several of one).
async fn may_decide_cached(
    state: &AppState,
    who: &Principal,
    r: &AccessRequest,
    approvers_of: &mut HashMap<String, Vec<String>>,
) -> Result<bool, AppError> {
    if r.asked_by(&who.name) {
        return Ok(false);
    }
    if who.is_admin() {
        return Ok(true);
    }
    let Some(secret) = state
        .inventory
        .snapshot()
        .arc_by_arn(&r.secret_arn)
        .cloned()
    else {
        return Ok(false);
    };
    if !who.sees(&secret) {
        return Ok(false);
    }
    if !approvers_of.contains_key(&r.secret_arn) {
        let users = approvers(state, &secret).await?.1;
        approvers_of.insert(r.secret_arn.clone(), users);
    }
    Ok(approvers_of[&r.secret_arn].contains(&who.name))
}

/// True when `who` may know that `r` exists: they asked for it, or they
/// can see its secret (whose page lists its open requests anyway).
fn may_know(state: &AppState, who: &Principal, r: &AccessRequest) -> bool {
    r.asked_by(&who.name)
        || who.is_admin()
        || state
            .inventory
            .snapshot()
            .arc_by_arn(&r.secret_arn)
            .is_some_and(|s| who.sees(s))
}

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

/// The request `id`.
async fn load(state: &AppState, id: i64) -> Result<AccessRequest, AppError> {
    state
        .auth
        .store
        .access_request(id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| conflict(StoreError::NotFound(id.to_string())))
}

/// The request `id`, if `who` may decide it (a refusal is audited). One
/// whose secret `who` cannot see answers as if it did not exist.
async fn decidable(state: &AppState, who: &Principal, id: i64) -> Result<AccessRequest, AppError> {
    let r = load(state, id).await?;
    may_decide_or_refuse(state, who, r).await
}

/// `r` back when `who` may decide it; else the refusal, audited.
async fn may_decide_or_refuse(
    state: &AppState,
    who: &Principal,
    r: AccessRequest,
) -> Result<AccessRequest, AppError> {
    if may_decide(state, who, &r).await? {
        return Ok(r);
    }
    let id = r.id;
    if !may_know(state, who, &r) {
        // Out of scope and missing look the same (and leave the same record).
        let e = conflict(StoreError::NotFound(id.to_string()));
        let _ = auth::denied(
            state,
            who,
            &format!("request {id}"),
            auth::forbidden(e.user.clone()),
        )
        .await;
        return Err(e);
    }
    let why = if r.asked_by(&who.name) {
        format!("You asked for request {id}: someone else (its owner or an admin) decides it.")
    } else {
        format!(
            "Only the owner of {} ({}) or an admin decides request {id}.",
            r.secret, r.owner
        )
    };
    Err(auth::denied(state, who, &r.secret, auth::forbidden(why)).await)
}

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

fn policy_diff(before: Option<&str>, after: Option<&Value>) -> Vec<String> {
    let before = before
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .map(|v| pretty(Some(&v)))
        .unwrap_or_default();
    diff(&before, &pretty(after))
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
async fn decide(
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

/// Removes the statements of active requests whose time is up (IAM stopped
/// honouring them already: the condition holds the expiry).
/// Set by tests to a request's id: its grant fails right after
/// PutResourcePolicy succeeded.
#[cfg(test)]
pub(crate) static FAIL_AFTER_PUT: std::sync::atomic::AtomicI64 =
    std::sync::atomic::AtomicI64::new(0);

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

async fn read_policy(state: &AppState, r: &AccessRequest) -> Result<Option<String>, AppError> {
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
async fn write_policy(
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
async fn apply_grant(
    state: &AppState,
    info: &RequestInfo,
    actor: &str,
    r: AccessRequest,
) -> AccessRequest {
    let _one = state.grant_edits.lock().await;
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
async fn end_grant(
    state: &AppState,
    info: &RequestInfo,
    actor: &str,
    r: AccessRequest,
    to: RequestStatus,
    note: &str,
) -> Result<AccessRequest, AppError> {
    let _one = state.grant_edits.lock().await;
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

//! Who decides a request: the secret's owner as named and mapped to
//! users, or the admins; never the requester. Worked out at each decision.

use super::conflict;
use crate::domain::owner::owner_with_tag;
use crate::domain::requests::AccessRequest;
use crate::domain::{glob::glob, Secret};
use crate::server::auth::{self, store_error, Principal};
use crate::server::error::AppError;
use crate::server::store::StoreError;
use crate::server::AppState;
use std::collections::HashMap;

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
pub(super) async fn may_decide_cached(
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
pub(super) fn may_know(state: &AppState, who: &Principal, r: &AccessRequest) -> bool {
    r.asked_by(&who.name)
        || who.is_admin()
        || state
            .inventory
            .snapshot()
            .arc_by_arn(&r.secret_arn)
            .is_some_and(|s| who.sees(s))
}

/// The request `id`.
pub(super) async fn load(state: &AppState, id: i64) -> Result<AccessRequest, AppError> {
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
pub(super) async fn decidable(
    state: &AppState,
    who: &Principal,
    id: i64,
) -> Result<AccessRequest, AppError> {
    let r = load(state, id).await?;
    may_decide_or_refuse(state, who, r).await
}

/// `r` back when `who` may decide it; else the refusal, audited.
pub(super) async fn may_decide_or_refuse(
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

use crate::domain::requests::AccessRequest;
use crate::domain::Timestamp;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A request as a list shows it, with what the reader may do to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestRow {
    pub request: AccessRequest,
    pub can_decide: bool,
    pub can_revoke: bool,
}

/// `/requests`: the reader's own requests and those waiting for them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestsPage {
    pub now: Timestamp,
    pub mine: Vec<RequestRow>,
    /// Requests the reader may decide or revoke (owner or admin).
    pub inbox: Vec<RequestRow>,
    /// Approval adds a resource-policy statement (else it is by hand).
    pub grants: bool,
    pub max_duration: String,
}

/// What the approval dialog shows before anything is applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApprovalPreview {
    pub duration: String,
    /// When the access ends, as the page says it (UTC).
    pub ends: String,
    /// The resource policy's lines, ` `/`-`/`+` prefixed; empty with grants off.
    pub diff: Vec<String>,
    pub grants: bool,
}

/// A request just made: its number, who may decide it, and whether it
/// joined an open one. (Small on purpose: the browser deserializes it, and
/// a whole [`AccessRequest`] would bring its decoder into the bundle.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestMade {
    pub id: i64,
    pub approvers: Vec<String>,
    pub merged: bool,
}

/// A request just decided: its number and where it stands now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestDone {
    pub id: i64,
    pub status: crate::domain::requests::RequestStatus,
}

#[cfg(feature = "ssr")]
impl From<AccessRequest> for RequestDone {
    fn from(r: AccessRequest) -> Self {
        RequestDone {
            id: r.id,
            status: r.status,
        }
    }
}

#[cfg(feature = "ssr")]
fn row(who: &crate::server::auth::Principal, r: AccessRequest, can_decide: bool) -> RequestRow {
    let can_revoke = matches!(
        r.status,
        crate::domain::requests::RequestStatus::Active
            | crate::domain::requests::RequestStatus::Approved
            | crate::domain::requests::RequestStatus::Failed
    ) && (can_decide || r.asked_by(&who.name));
    RequestRow {
        can_decide: can_decide && r.status == crate::domain::requests::RequestStatus::Pending,
        can_revoke,
        request: r,
    }
}

#[server(endpoint = "list_requests")]
pub async fn list_requests() -> Result<RequestsPage, ServerFnError> {
    let (state, who) = super::signed_in("list_requests").await?;
    let (mine, inbox) = crate::server::requests::lists(&state, &who).await?;
    Ok(RequestsPage {
        now: crate::server::clock::now(),
        // Nobody decides what they asked for; the inbox is what they may decide.
        mine: mine.into_iter().map(|r| row(&who, r, false)).collect(),
        inbox: inbox.into_iter().map(|r| row(&who, r, true)).collect(),
        grants: state.config.requests.grants,
        max_duration: crate::domain::requests::duration_text(
            state.config.requests.max_duration_secs,
        ),
    })
}

/// Asks for read access to the secret `id` for an IAM principal; anyone
/// who can see the secret may ask.
/// The longest text the access request form's secret picker searches for.
pub const FIND_TEXT_MAX: usize = 256;

/// Secrets matching `text` (the inventory's search) for the access request
/// form's picker, within the caller's scopes: at most 20, each as its ARN
/// (a name can exist in several accounts and regions) and a label.
#[server(endpoint = "find_secrets")]
pub async fn find_secrets(text: String) -> Result<Vec<(String, String)>, ServerFnError> {
    let (state, who) = super::signed_in("find_secrets").await?;
    if text.chars().count() > FIND_TEXT_MAX {
        use crate::server::error::{AppError, ErrorKind};
        let m = format!("Search for a secret with at most {FIND_TEXT_MAX} characters.");
        return Err(AppError::new(ErrorKind::InvalidInput, m.clone(), m).into());
    }
    let view = state.view_for(&who, crate::server::clock::now());
    let page = super::build::inventory::inventory_page(&view, &text, "", "", 1);
    Ok(page
        .rows
        .into_iter()
        .take(20)
        .map(|r| (r.arn, format!("{} — {} · {}", r.name, r.account, r.region)))
        .collect())
}

#[server(endpoint = "request_access")]
pub async fn request_access(
    id: String,
    principal: String,
    justification: String,
    duration: String,
) -> Result<RequestMade, ServerFnError> {
    let (state, who) = super::signed_in("request_access").await?;
    let (request, merged) =
        crate::server::requests::create(&state, &who, &id, &principal, &justification, &duration)
            .await?;
    Ok(RequestMade {
        id: request.id,
        approvers: request.approvers,
        merged,
    })
}

/// What approving request `id` for `duration` (empty: as asked) would do.
#[server(endpoint = "preview_approval")]
pub async fn preview_approval(id: i64, duration: String) -> Result<ApprovalPreview, ServerFnError> {
    let (state, who) = super::signed_in_reading_aws("preview_approval").await?;
    let p = crate::server::requests::plan_approval(&state, &who, id, &duration).await?;
    Ok(ApprovalPreview {
        duration: crate::domain::requests::duration_text(p.duration_secs),
        ends: p.until.display(),
        diff: p.diff,
        grants: state.config.requests.grants,
    })
}

#[server(endpoint = "approve_request")]
pub async fn approve_request(
    id: i64,
    duration: String,
    comment: String,
) -> Result<RequestDone, ServerFnError> {
    let (state, who) = super::signed_in("approve_request").await?;
    let done = crate::server::requests::approve(&state, &who, id, &duration, &comment).await?;
    Ok(done.into())
}

#[server(endpoint = "deny_request")]
pub async fn deny_request(id: i64, comment: String) -> Result<RequestDone, ServerFnError> {
    let (state, who) = super::signed_in("deny_request").await?;
    let done = crate::server::requests::deny(&state, &who, id, &comment).await?;
    Ok(done.into())
}

#[server(endpoint = "revoke_request")]
pub async fn revoke_request(id: i64, comment: String) -> Result<RequestDone, ServerFnError> {
    let (state, who) = super::signed_in("revoke_request").await?;
    let done = crate::server::requests::revoke(&state, &who, id, &comment).await?;
    Ok(done.into())
}

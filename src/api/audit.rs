use crate::domain::Timestamp;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One audit record as the page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    pub client: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub detail: String,
    pub request_id: String,
}

/// A page of the audit trail, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditList {
    pub now: Timestamp,
    pub rows: Vec<AuditRow>,
    /// Records matching the filter that the reader may see; at least this
    /// many when `exact` is false.
    pub total: u64,
    pub exact: bool,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
    /// What this reader sees, when it is not the whole trail.
    pub reach: Option<String>,
}

impl AuditList {
    /// Pages known to exist (at least this many when not `exact`).
    pub fn pages(&self) -> u32 {
        let per = u64::from(self.per_page.max(1));
        u32::try_from(self.total.div_ceil(per)).unwrap_or(u32::MAX)
    }
}

/// A page of the audit trail for the signed-in user: everything for an
/// admin, otherwise their own records and those about secrets in their
/// scopes. A filter that does not parse answers 400 with the sentence.
#[server(endpoint = "get_audit")]
pub async fn get_audit(
    actor: String,
    action: String,
    target: String,
    outcome: String,
    from: String,
    to: String,
    page: u32,
) -> Result<AuditList, ServerFnError> {
    use crate::domain::audit::AuditQuery;
    use crate::server::audit::{self, Reader};
    use crate::server::error::{AppError, ErrorKind};
    let (state, who) = super::signed_in("get_audit").await?;
    let q = AuditQuery {
        actor,
        action,
        target,
        outcome,
        from,
        to,
    };
    let filter = q
        .filter()
        .map_err(|e| AppError::new(ErrorKind::InvalidInput, e.clone(), e))?;
    let reader = Reader::of(&state, &who);
    let page = page.max(1);
    let seen = audit::page(&state.auth.store, &reader, &filter, page)
        .await
        .map_err(crate::server::auth::store_error)?;
    Ok(AuditList {
        now: crate::server::clock::now(),
        rows: seen
            .records
            .into_iter()
            .map(|r| AuditRow {
                id: r.id,
                at: r.event.at,
                actor: r.event.actor,
                client: r.event.client,
                action: r.event.action.as_str().to_string(),
                target: r.event.target,
                outcome: r.event.outcome.as_str().to_string(),
                detail: r.event.detail,
                request_id: r.event.request_id,
            })
            .collect(),
        total: seen.total,
        exact: seen.exact,
        page,
        per_page: audit::PAGE_SIZE as u32,
        reach: reader.reach(),
    })
}

//! `/__secretscope/reads` in an organisation: in the account and region
//! of the secret's full ARN (a name or partial ARN: the first account's
//! first region), through the endpoint's own implementation (`crate::reads`).

use super::{LocalEndpoint, OrgInner};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::Response;
use std::collections::HashMap;
use std::sync::Arc;

impl OrgInner {
    /// The endpoint holding secret `id`: a full ARN's account and region
    /// (when seeded here), else the first account's first region.
    fn holder(&self, id: &str) -> LocalEndpoint {
        let arn = crate::infra::names::parse_arn(id).filter(|a| a.service == "secretsmanager");
        let found = arn.and_then(|a| {
            self.tenants()
                .iter()
                .find(|t| t.account == a.account && t.region == a.region)
                .map(|t| t.endpoint.clone())
        });
        found.unwrap_or_else(|| self.tenants()[0].endpoint.clone())
    }
}

/// `POST /__secretscope/reads`, in the account and region of the secret's ARN.
pub(super) async fn post(State(inner): State<Arc<OrgInner>>, body: Bytes) -> Response {
    crate::reads::post(&body, |id| inner.holder(id))
}

/// `GET /__secretscope/reads?secret_id=ID`, in the account and region of its ARN.
pub(super) async fn get(
    State(inner): State<Arc<OrgInner>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    crate::reads::get(&q, |id| inner.holder(id))
}

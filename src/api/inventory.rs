use crate::domain::{State, Timestamp};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub const PAGE_SIZE: usize = 50;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecretRow {
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
    pub tags: Vec<(String, String)>,
    pub last_rotated: Option<Timestamp>,
    pub next_rotation: Option<Timestamp>,
    pub state: State,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InventoryPage {
    pub rows: Vec<SecretRow>,
    /// Secrets in the inventory.
    pub total: usize,
    /// Secrets matching the search.
    pub matched: usize,
    /// 1-based, clamped to the available pages.
    pub page: usize,
    pub pages: usize,
    pub query: String,
    pub now: Timestamp,
    /// False until the first sync has completed.
    pub ready: bool,
    /// The search did not parse: nothing was filtered, and this says why.
    pub error: Option<QueryError>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueryError {
    /// Character offset into the query.
    pub position: usize,
    pub message: String,
    pub expected: Vec<String>,
}

#[server]
pub async fn list_inventory(q: String, page: usize) -> Result<InventoryPage, ServerFnError> {
    let state = super::state()?;
    Ok(crate::server::views::inventory_page(&state, &q, page))
}

pub use crate::domain::listing::{parse_sort, sort_param, QueryError, SortKey};
use crate::domain::{State, Timestamp};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub const PAGE_SIZE: usize = 50;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecretRow {
    pub name: String,
    pub arn: String,
    pub account: String,
    pub region: String,
    /// Regions holding a replica of it.
    pub replicas: Vec<String>,
    /// What its page is addressed by: the name, or the ARN when another
    /// account or region has a secret of the same name.
    pub link: String,
    pub description: Option<String>,
    pub tags: Vec<(String, String)>,
    pub last_rotated: Option<Timestamp>,
    pub next_rotation: Option<Timestamp>,
    pub state: State,
    /// The worst active finding's severity; `None`: healthy.
    pub health: Option<crate::domain::health::Severity>,
    /// Rules with an active finding.
    pub findings: Vec<crate::domain::health::RuleId>,
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
    /// The open folder ("" for all), as found in the tree.
    pub path: String,
    pub sort: SortKey,
    pub desc: bool,
    /// The root folder, expanded along `path`.
    pub tree: FolderNode,
    /// Tag keys with the counts of their values in the current result.
    pub facets: Vec<Facet>,
    /// `account` and `region` with their counts in the current result
    /// (when the inventory spans more than one).
    pub places: Vec<Facet>,
}

/// One tag key's values over the current result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Facet {
    pub key: String,
    /// Most frequent values first; `value: None` is "missing".
    pub values: Vec<FacetValue>,
    /// Distinct values left out of `values`.
    pub more: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FacetValue {
    /// `None`: secrets in the result without this tag key.
    pub value: Option<String>,
    pub count: usize,
    /// The search with this value's term added, or removed when `active`.
    pub toggled: String,
    pub active: bool,
}

/// One folder in the tree panel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FolderNode {
    pub path: String,
    pub segment: String,
    pub secrets: usize,
    /// The worst active finding below this folder.
    pub worst: Option<crate::domain::health::Severity>,
    pub has_children: bool,
    /// Sub-folders, filled only along the open path (the tree renders lazily).
    pub children: Option<Vec<FolderNode>>,
    /// How many sub-folders were left out of `children` (very wide folders).
    pub more: usize,
}

#[server(endpoint = "list_inventory")]
pub async fn list_inventory(
    q: String,
    path: String,
    sort: String,
    page: usize,
) -> Result<InventoryPage, ServerFnError> {
    let (state, who) = super::signed_in("list_inventory").await?;
    let view = state.view_for(&who, crate::server::clock::now());
    Ok(super::build::inventory::inventory_page(
        &view, &q, &path, &sort, page,
    ))
}

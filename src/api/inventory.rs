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
    /// Who owns it: the `owner` tag's, else the description's; `None`: neither names one.
    pub owner: Option<OwnerCell>,
    /// Encrypted with the AWS managed key `aws/secretsmanager`.
    pub kms_default: bool,
    /// The key id, ARN or alias when a customer managed key is set.
    pub kms_key: Option<String>,
}

/// The owner column of a row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OwnerCell {
    pub name: String,
    /// "the owner tag", "the description".
    pub from: String,
    /// The other owner the description names when it disagrees with the tag.
    pub conflict: Option<String>,
}

/// How tall the list's rows are; both keep each secret on one line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Density {
    #[default]
    Comfortable,
    Compact,
}

impl Density {
    pub fn parse(s: &str) -> Option<Density> {
        match s.trim() {
            "comfortable" => Some(Density::Comfortable),
            "compact" => Some(Density::Compact),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Density::Comfortable => "comfortable",
            Density::Compact => "compact",
        }
    }
}

/// The cookie that remembers a user's density between visits.
pub const DENSITY_COOKIE: &str = "secretscope_density";

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
    /// Rotation, KMS key, health and owner with their counts in the current
    /// result; each value's `toggled` adds or removes its search term.
    pub quick: Vec<Facet>,
    /// A search applies (it parsed and is not empty): folder counts are of
    /// matching secrets.
    pub searching: bool,
    /// Secrets at the root (no `/` in the name), matching the search if any,
    /// and the search with `-name:*/*` (only those) toggled.
    pub rootless: usize,
    pub rootless_toggled: String,
    pub rootless_active: bool,
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
    /// Secrets below it matching the search (all of them without one).
    pub secrets: usize,
    /// Secrets below it, search or not.
    pub all: usize,
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

/// The list's density while the page renders (on the server): the URL's
/// `density=` when valid, else the one the cookie remembers, else
/// comfortable. One asked for in the URL is remembered (HttpOnly,
/// SameSite=Lax, a year) for the next visit. A preference, not a
/// permission: it needs no sign-in check of its own.
#[cfg(feature = "ssr")]
pub fn density_for(asked: &str) -> Density {
    let https = use_context::<crate::server::AppState>().is_some_and(|s| s.auth.settings.https);
    use axum::http::header::{COOKIE, SET_COOKIE};
    let remembered = use_context::<axum::http::request::Parts>().and_then(|p| {
        p.headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .find(|(k, _)| *k == DENSITY_COOKIE)
            .and_then(|(_, v)| Density::parse(v))
    });
    let Some(asked) = Density::parse(asked) else {
        return remembered.unwrap_or_default();
    };
    if remembered != Some(asked) {
        let secure = if https { "; Secure" } else { "" };
        let cookie = format!(
            "{DENSITY_COOKIE}={}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax{secure}",
            asked.as_str()
        );
        if let (Some(res), Ok(v)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            axum::http::HeaderValue::from_str(&cookie),
        ) {
            res.append_header(SET_COOKIE, v);
        }
    }
    asked
}

/// In the browser the list is not re-rendered: the URL's value or the default.
#[cfg(not(feature = "ssr"))]
pub fn density_for(asked: &str) -> Density {
    Density::parse(asked).unwrap_or_default()
}

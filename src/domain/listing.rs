//! How a list of secrets is ordered, and why a search did not parse: what
//! the server's selection and the pages' controls share.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueryError {
    /// Character offset into the query.
    pub position: usize,
    pub message: String,
    pub expected: Vec<String>,
}

/// What the list can be sorted by; `None` dates always sort last.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortKey {
    #[default]
    Name,
    LastRotated,
    NextRotation,
    LastAccessed,
    Created,
    LastChanged,
}

impl SortKey {
    pub const ALL: [SortKey; 6] = [
        SortKey::Name,
        SortKey::LastRotated,
        SortKey::NextRotation,
        SortKey::LastAccessed,
        SortKey::Created,
        SortKey::LastChanged,
    ];

    pub fn param(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::LastRotated => "last_rotated",
            SortKey::NextRotation => "next_rotation",
            SortKey::LastAccessed => "last_accessed",
            SortKey::Created => "created",
            SortKey::LastChanged => "last_changed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Name => "Name",
            SortKey::LastRotated => "Last rotated",
            SortKey::NextRotation => "Next rotation",
            SortKey::LastAccessed => "Last accessed",
            SortKey::Created => "Created",
            SortKey::LastChanged => "Last changed",
        }
    }
}

/// `sort=name`, `sort=-last_rotated` (a leading `-` means descending).
/// Unknown values fall back to name order.
pub fn parse_sort(s: &str) -> (SortKey, bool) {
    let (desc, key) = match s.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, s),
    };
    match SortKey::ALL.into_iter().find(|k| k.param() == key) {
        Some(k) => (k, desc),
        None => (SortKey::Name, false),
    }
}

pub fn sort_param(key: SortKey, desc: bool) -> String {
    format!("{}{}", if desc { "-" } else { "" }, key.param())
}

//! ListSecrets: filters, sort orders and paging over the cached orders.

use crate::filters;
use crate::protocol::{ApiError, ListSecretsReq, Obj};
use crate::store::checks::{decode_token, encode_token, max_results};
use crate::store::Store;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum SortBy {
    CreatedDate,
    LastAccessedDate,
    LastChangedDate,
    Name,
}

impl SortBy {
    pub(crate) fn parse(s: Option<&str>) -> Result<SortBy, ApiError> {
        Ok(match s {
            None | Some("created-date") => SortBy::CreatedDate,
            Some("last-accessed-date") => SortBy::LastAccessedDate,
            Some("last-changed-date") => SortBy::LastChangedDate,
            Some("name") => SortBy::Name,
            Some(other) => {
                return Err(ApiError::validation(format!(
                    "Value '{other}' at 'sortBy' failed to satisfy constraint: Member must satisfy enum value set: [created-date, last-accessed-date, last-changed-date, name]"
                )))
            }
        })
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SortBy::CreatedDate => "created-date",
            SortBy::LastAccessedDate => "last-accessed-date",
            SortBy::LastChangedDate => "last-changed-date",
            SortBy::Name => "name",
        }
    }
}

/// Where a ListSecrets page ended: the sort key of its last entry.
#[derive(Serialize, Deserialize)]
pub(crate) struct PageToken {
    b: String,
    o: String,
    k: i64,
    s: String,
    q: u32,
}

pub(crate) type SortKey<'a> = (i64, &'a str, u32);

impl Store {
    pub(crate) fn sort_key(&self, seq: u32, by: SortBy) -> SortKey<'_> {
        let d = &self.get(seq).data;
        match by {
            SortBy::Name => (0, d.name.as_str(), seq),
            SortBy::CreatedDate => (d.created, "", seq),
            SortBy::LastChangedDate => (d.last_changed.unwrap_or(i64::MIN), "", seq),
            SortBy::LastAccessedDate => (
                d.last_accessed
                    .map(crate::protocol::day)
                    .unwrap_or(i64::MIN),
                "",
                seq,
            ),
        }
    }

    /// All secrets in ascending order of `by`, cached until the next mutation.
    pub(crate) fn order(&self, by: SortBy) -> Arc<Vec<u32>> {
        let mut cache = self.orders.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(o) = cache.get(&by) {
            return o.clone();
        }
        let mut keyed: Vec<SortKey<'_>> = self
            .secrets
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_some())
            .map(|(i, _)| self.sort_key(i as u32, by))
            .collect();
        keyed.sort_unstable();
        let o = Arc::new(keyed.into_iter().map(|k| k.2).collect::<Vec<u32>>());
        cache.insert(by, o.clone());
        o
    }

    pub(crate) fn list_secrets(&self, req: ListSecretsReq) -> Result<Value, ApiError> {
        let max = max_results(req.max_results)?;
        let desc = match req.sort_order.as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(ApiError::validation(format!(
                    "Value '{other}' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [asc, desc]"
                )))
            }
        };
        let by = SortBy::parse(req.sort_by.as_deref())?;
        let filters = filters::parse(req.filters.as_deref().unwrap_or(&[]))?;
        let include_deleted = req.include_planned_deletion.unwrap_or(false);
        let order_name = if desc { "desc" } else { "asc" };
        let order = self.order(by);

        // Positions still to visit, in visiting order.
        let (start, end) = match req.next_token.as_deref() {
            None => (0, order.len()),
            Some(t) => {
                let t: PageToken = decode_token(t)?;
                if t.b != by.as_str() || t.o != order_name {
                    return Err(ApiError::client(
                        "InvalidNextTokenException",
                        "The NextToken value is invalid for these SortBy and SortOrder values.",
                    ));
                }
                let last = (t.k, t.s.as_str(), t.q);
                if desc {
                    (0, order.partition_point(|&i| self.sort_key(i, by) < last))
                } else {
                    (
                        order.partition_point(|&i| self.sort_key(i, by) <= last),
                        order.len(),
                    )
                }
            }
        };
        let visible = |seq: u32| {
            let d = &self.get(seq).data;
            (include_deleted || d.deleted.is_none()) && filters::matches_all(&filters, d)
        };
        let mut page = Vec::with_capacity(max);
        let mut more = false;
        let range = &order[start..end];
        let mut visit = |seq: u32| -> bool {
            if !visible(seq) {
                return true;
            }
            if page.len() == max {
                more = true;
                return false;
            }
            page.push(seq);
            true
        };
        if desc {
            for &seq in range.iter().rev() {
                if !visit(seq) {
                    break;
                }
            }
        } else {
            for &seq in range {
                if !visit(seq) {
                    break;
                }
            }
        }
        let mut out = Obj::new();
        out.set(
            "SecretList",
            Value::Array(page.iter().map(|&seq| self.entry(seq, false)).collect()),
        );
        if more {
            let last = *page.last().expect("a full page");
            let (k, s, q) = self.sort_key(last, by);
            out.set(
                "NextToken",
                encode_token(&PageToken {
                    b: by.as_str().to_string(),
                    o: order_name.to_string(),
                    k,
                    s: s.to_string(),
                    q,
                }),
            );
        }
        Ok(out.done())
    }
}

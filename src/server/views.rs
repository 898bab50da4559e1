//! Builds the DTOs the pages receive from the current snapshot. No AWS calls.

use super::AppState;
use crate::api::{InventoryPage, QueryError, SecretRow, SyncInfo, PAGE_SIZE};
use crate::domain::query::Query;
use crate::domain::{Secret, State, Timestamp};

pub fn row(s: &Secret, now: Timestamp) -> SecretRow {
    SecretRow {
        name: s.name.to_string(),
        arn: s.arn.to_string(),
        description: s.description.as_deref().map(str::to_string),
        tags: s
            .tags
            .iter()
            .map(|t| (t.key.to_string(), t.value.to_string()))
            .collect(),
        last_rotated: s.last_rotated,
        next_rotation: s.next_rotation,
        state: State::of(s, now),
    }
}

pub fn inventory_page(state: &AppState, q: &str, page: usize) -> InventoryPage {
    let now = super::aws::sync::now();
    let snapshot = state.inventory.snapshot();
    let (query, error) = match Query::parse(q) {
        Ok(query) => (query, None),
        // A broken search never empties the list silently: show everything,
        // and say where the search went wrong.
        Err(e) => (
            Query::from(None),
            Some(QueryError {
                position: e.position,
                message: e.message,
                expected: e.expected,
            }),
        ),
    };
    let matched: Vec<&Secret> = snapshot
        .secrets()
        .iter()
        .map(|s| &**s)
        .filter(|s| query.matches(s))
        .collect();
    let pages = matched.len().div_ceil(PAGE_SIZE).max(1);
    let page = page.clamp(1, pages);
    let rows = matched
        .iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|s| row(s, now))
        .collect();
    InventoryPage {
        rows,
        total: snapshot.secrets().len(),
        matched: matched.len(),
        page,
        pages,
        query: q.to_string(),
        now,
        ready: snapshot.taken_at.is_some(),
        error,
    }
}

pub fn sync_info(state: &AppState) -> SyncInfo {
    let status = state.inventory.status();
    let snapshot = state.inventory.snapshot();
    SyncInfo {
        now: super::aws::sync::now(),
        taken_at: snapshot.taken_at,
        secrets: snapshot.secrets().len(),
        last_error: status.last_error,
        last_error_at: status.last_error_at,
        versions_missing: status.versions_missing,
        source: state.source_label.clone(),
    }
}

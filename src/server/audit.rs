//! The audit trail as its readers see it: the `/audit` page's pages and the
//! CSV export (`/export/audit.csv`, `secretscope audit export`).
//!
//! An admin reads every record. Anyone else reads the records about the
//! secrets their grants cover (actions, denials, access decisions) and
//! their own: a viewer on `prod/payments/` audits `prod/payments/`, not the
//! sign-ins of the rest of the company.

use super::auth::{self, Principal, RequestInfo};
use super::export::csv_field;
use super::health::HealthView;
use super::store::{AuditFilter, AuditRecord, Store, StoreError};
use super::AppState;
use crate::domain::audit::{AuditAction, AuditQuery, Outcome};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use std::sync::Arc;

/// Records per page on `/audit`.
pub const PAGE_SIZE: i64 = 50;

/// How many records a scoped reader's page walks through before it stops
/// counting (and says "at least"); a page further back than that is still
/// found, it just costs the walk to reach it.
pub const COUNT_LIMIT: u64 = 20_000;

/// Records read per query while walking.
const WALK_BATCH: i64 = 500;

/// Whose records a reader may see.
pub enum Reader {
    Everything,
    Scoped {
        name: String,
        /// The reader's restricted view: its snapshot holds exactly the
        /// secrets their grants cover.
        view: Arc<HealthView>,
    },
}

impl Reader {
    pub fn of(state: &AppState, who: &Principal) -> Reader {
        if who.is_admin() {
            Reader::Everything
        } else {
            Reader::Scoped {
                name: who.name.clone(),
                view: state.view_for(who, super::clock::now()),
            }
        }
    }

    pub fn sees(&self, r: &AuditRecord) -> bool {
        match self {
            Reader::Everything => true,
            Reader::Scoped { name, view } => {
                let target = r.event.target.as_str();
                r.event.actor == *name
                    || (!target.is_empty()
                        && (view.snapshot.by_name(target).is_some()
                            || (target.starts_with("arn:")
                                && view.snapshot.by_arn(target).is_some())))
            }
        }
    }

    /// A sentence for the page saying what this reader sees.
    pub fn reach(&self) -> Option<String> {
        match self {
            Reader::Everything => None,
            Reader::Scoped { .. } => Some(
                "You see your own activity and the records about secrets your grants cover. Admins see the whole trail."
                    .to_string(),
            ),
        }
    }
}

/// One page of what `reader` may see, newest first.
pub struct SeenPage {
    pub records: Vec<AuditRecord>,
    /// Records that match in all, or at least this many when not `exact`.
    pub total: u64,
    pub exact: bool,
}

/// Page `page` (1-based) of the records matching `filter` that `reader`
/// may see, newest first.
pub async fn page(
    store: &Store,
    reader: &Reader,
    filter: &AuditFilter,
    page: u32,
) -> Result<SeenPage, StoreError> {
    let offset = i64::from(page.max(1) - 1) * PAGE_SIZE;
    if let Reader::Everything = reader {
        let p = store.audit_page(filter, offset, PAGE_SIZE).await?;
        return Ok(SeenPage {
            records: p.records,
            total: u64::try_from(p.total).unwrap_or(0),
            exact: true,
        });
    }
    // Walk back from the newest record, keeping what the reader may see.
    let (first, last) = (offset as u64, (offset + PAGE_SIZE) as u64);
    let mut records = Vec::new();
    let (mut matched, mut walked) = (0u64, 0u64);
    let mut cursor: Option<AuditRecord> = None;
    loop {
        let batch = store
            .audit_batch_before(filter, cursor.as_ref(), WALK_BATCH)
            .await?;
        let done = (batch.len() as i64) < WALK_BATCH;
        walked += batch.len() as u64;
        for r in &batch {
            if reader.sees(r) {
                if (first..last).contains(&matched) {
                    records.push(r.clone());
                }
                matched += 1;
            }
        }
        if done {
            return Ok(SeenPage {
                records,
                total: matched,
                exact: true,
            });
        }
        if walked >= COUNT_LIMIT && matched >= last {
            return Ok(SeenPage {
                records,
                total: matched,
                exact: false,
            });
        }
        cursor = batch.into_iter().next_back();
    }
}

/// The export's columns, in order.
pub const CSV_COLUMNS: [&str; 9] = [
    "id",
    "time",
    "actor",
    "client",
    "action",
    "target",
    "outcome",
    "detail",
    "request_id",
];

/// One record as a CSV line (RFC 4180, formula-guarded like the secrets
/// export: actors and targets are typed by anyone who can reach the login
/// form).
pub fn csv_line(out: &mut String, r: &AuditRecord) {
    let e = &r.event;
    let fields: [&str; 9] = [
        &r.id.to_string(),
        &e.at.rfc3339(),
        &e.actor,
        &e.client,
        e.action.as_str(),
        &e.target,
        e.outcome.as_str(),
        &e.detail,
        &e.request_id,
    ];
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(out, f);
    }
    out.push_str("\r\n");
}

/// One piece of an export: CSV text and how many records it holds.
pub struct Chunk {
    pub text: String,
    pub records: u64,
}

/// Every record matching `filter` that `reader` may see, oldest first, as
/// CSV (header first), read from the store a batch at a time as the
/// consumer asks for more: an export of millions of records holds one
/// batch in memory, and stays consistent while new records are appended
/// (those after the walk passes are left out).
pub fn csv_stream(
    store: Store,
    reader: Reader,
    filter: AuditFilter,
) -> impl futures_util::Stream<Item = Result<Chunk, StoreError>> {
    enum Step {
        Header,
        After(Option<AuditRecord>),
        Done,
    }
    let ctx = Arc::new((store, reader, filter));
    futures_util::stream::unfold(Step::Header, move |step| {
        let ctx = ctx.clone();
        async move {
            let (store, reader, filter) = &*ctx;
            let cursor = match step {
                Step::Done => return None,
                Step::Header => {
                    let header = Chunk {
                        text: format!("{}\r\n", CSV_COLUMNS.join(",")),
                        records: 0,
                    };
                    return Some((Ok(header), Step::After(None)));
                }
                Step::After(cursor) => cursor,
            };
            let batch = match store
                .audit_batch_after(filter, cursor.as_ref(), WALK_BATCH)
                .await
            {
                Ok(b) => b,
                Err(e) => return Some((Err(e), Step::Done)),
            };
            let mut chunk = Chunk {
                text: String::new(),
                records: 0,
            };
            for r in batch.iter().filter(|r| reader.sees(r)) {
                csv_line(&mut chunk.text, r);
                chunk.records += 1;
            }
            let next = if (batch.len() as i64) < WALK_BATCH {
                Step::Done
            } else {
                Step::After(batch.into_iter().next_back())
            };
            Some((Ok(chunk), next))
        }
    })
}

/// What an export covered, for its own audit record.
pub fn export_detail(q: &AuditQuery) -> String {
    if q.is_empty() {
        "the whole trail".to_string()
    } else {
        let parts: Vec<String> = q
            .fields()
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| format!("{k}={}", v.trim()))
            .collect();
        parts.join(" ")
    }
}

/// `GET /export/audit.csv?actor=…&action=…&target=…&outcome=…&from=…&to=…`:
/// the records the page shows for the same filter (every page of them),
/// oldest first. The export itself is audited first; if that record cannot
/// be written, nothing is exported.
pub async fn csv(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    Query(q): Query<AuditQuery>,
    request: axum::extract::Request,
) -> Response {
    let who = match auth::principal_of(&state, &session).await {
        Ok(Some(who)) => who,
        Ok(None) => {
            let e = auth::unauthenticated();
            return (e.kind.status(), e.user).into_response();
        }
        Err(e) => return (e.kind.status(), e.user).into_response(),
    };
    let filter = match q.filter() {
        Ok(f) => f,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("{e} Nothing was exported; fix the filter and export again.\n"),
            )
                .into_response()
        }
    };
    let info = RequestInfo::of(&request.into_parts().0);
    if let Err(e) = auth::audit(
        &state,
        &info,
        &who.name,
        AuditAction::AuditExport,
        "",
        Outcome::Allowed,
        export_detail(&q),
    )
    .await
    {
        return (e.kind.status(), e.user).into_response();
    }
    let request_id = info.request_id;
    let chunks = csv_stream(state.auth.store.clone(), Reader::of(&state, &who), filter);
    let body = axum::body::Body::from_stream(chunks.map(move |c| {
        c.map(|c| c.text).map_err(|e| {
            // The client sees a broken download, not a file that looks complete.
            tracing::error!(%request_id, "audit export stopped: {e}");
            std::io::Error::other("the audit store failed")
        })
    }));
    let stamp = super::clock::now()
        .to_datetime()
        .map(|d| d.format("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_default();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"secretscope-audit-{stamp}.csv\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

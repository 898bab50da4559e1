//! Access requests: created (or merged into the pending one for the same
//! secret and principal, which a partial unique index keeps single), read,
//! and moved between states by compare-and-set on their status.

use super::{corrupt, is_unique_violation, Store, StoreError};
use crate::domain::requests::{AccessRequest, NewRequest, RequestStatus};
use crate::domain::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

/// Which requests [`Store::access_requests`] lists.
#[derive(Clone, Debug, Default)]
pub struct RequestFilter {
    pub requested_by: Option<String>,
    /// Empty: any status.
    pub statuses: Vec<RequestStatus>,
    pub secret_arn: Option<String>,
}

/// The fields a transition sets; `None` keeps what is stored.
#[derive(Clone, Debug, Default)]
pub struct RequestChange {
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub comment: Option<String>,
    pub expires_at: Option<Timestamp>,
    pub duration_secs: Option<i64>,
}

const COLUMNS: &str = "id, secret, secret_arn, principal, justification, requested_by, \
                       requested_at, duration_secs, status, owner, approvers, decided_by, \
                       decided_at, comment, expires_at, askers";

/// Attempts at merging before giving up (each lost race retries).
const MERGE_ATTEMPTS: usize = 8;

fn from_row(row: &AnyRow) -> Result<AccessRequest, StoreError> {
    let id: i64 = row.try_get(0)?;
    let status: String = row.try_get(8)?;
    let approvers: String = row.try_get(10)?;
    Ok(AccessRequest {
        id,
        secret: row.try_get(1)?,
        secret_arn: row.try_get(2)?,
        principal: row.try_get(3)?,
        justification: row.try_get(4)?,
        requested_by: row.try_get(5)?,
        requested_at: Timestamp::new(row.try_get(6)?),
        duration_secs: row.try_get(7)?,
        status: RequestStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("access request {id}: unknown status {status:?}")))?,
        owner: row.try_get(9)?,
        approvers: serde_json::from_str(&approvers).map_err(|e| {
            corrupt(format!(
                "access request {id}: approvers are not a JSON list: {e}"
            ))
        })?,
        decided_by: row.try_get(11)?,
        decided_at: row.try_get::<Option<i64>, _>(12)?.map(Timestamp::new),
        comment: row.try_get(13)?,
        expires_at: row.try_get::<Option<i64>, _>(14)?.map(Timestamp::new),
        askers: serde_json::from_str(&row.try_get::<String, _>(15)?).map_err(|e| {
            corrupt(format!(
                "access request {id}: askers are not a JSON list: {e}"
            ))
        })?,
    })
}

impl Store {
    /// Inserts `r`, or merges it into the pending request for the same
    /// secret_arn and principal (one at most: a partial unique index keeps
    /// it so): the justification gets a new line
    /// `"{requested_by}: {justification}"` unless that exact text is
    /// already contained (the first line counting as its requester's, as
    /// if prefixed so), and duration_secs becomes the larger of the two.
    /// Returns the stored request and whether it was merged.
    ///
    /// Safe under concurrency: of two identical requests at once, one
    /// inserts and the other's insert fails on the index, so it merges; a
    /// merge writes only if the pending row is still what it read
    /// (compare-and-set), and retries otherwise.
    pub async fn create_request(
        &self,
        r: &NewRequest,
    ) -> Result<(AccessRequest, bool), StoreError> {
        let approvers = serde_json::to_string(&r.approvers).expect("a list of strings serializes");
        for _ in 0..MERGE_ATTEMPTS {
            let inserted = sqlx::query(&format!(
                "INSERT INTO access_requests (secret, secret_arn, principal, justification, \
                 requested_by, requested_at, duration_secs, status, owner, approvers, askers) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {COLUMNS}"
            ))
            .bind(&r.secret)
            .bind(&r.secret_arn)
            .bind(&r.principal)
            .bind(&r.justification)
            .bind(&r.requested_by)
            .bind(r.requested_at.secs())
            .bind(r.duration_secs)
            .bind(RequestStatus::Pending.as_str())
            .bind(&r.owner)
            .bind(&approvers)
            .bind(serde_json::to_string(&[&r.requested_by]).expect("a list of strings serializes"))
            .fetch_one(self.pool())
            .await;
            match inserted {
                Ok(row) => return Ok((from_row(&row)?, false)),
                Err(e) if is_unique_violation(&e) => {}
                Err(e) => return Err(e.into()),
            }
            // A pending one exists: merge into it, unless it changed under us.
            let Some(open) = self.pending_for(&r.secret_arn, &r.principal).await? else {
                continue;
            };
            let line = format!("{}: {}", r.requested_by, r.justification);
            // The first line is the first requester's, stored without the
            // prefix: read it with it, so that asking again in the same
            // words adds nothing.
            let attributed = format!("{}: {}", open.requested_by, open.justification);
            let justification = if attributed.contains(&line) {
                open.justification.clone()
            } else {
                format!("{}\n{line}", open.justification)
            };
            // Everyone who asked stays on the request: none of them may
            // decide it (a decider who merges into a request must not then
            // approve the longer duration they added).
            let mut askers = open.askers.clone();
            if !askers.contains(&r.requested_by) {
                askers.push(r.requested_by.clone());
            }
            let askers_json = serde_json::to_string(&askers).expect("a list of strings serializes");
            let open_askers =
                serde_json::to_string(&open.askers).expect("a list of strings serializes");
            let merged = sqlx::query(&format!(
                "UPDATE access_requests SET justification = $1, duration_secs = $2, askers = $7 \
                 WHERE id = $3 AND status = $4 AND justification = $5 AND duration_secs = $6 \
                 AND askers = $8 RETURNING {COLUMNS}"
            ))
            .bind(&justification)
            .bind(open.duration_secs.max(r.duration_secs))
            .bind(open.id)
            .bind(RequestStatus::Pending.as_str())
            .bind(&open.justification)
            .bind(open.duration_secs)
            .bind(&askers_json)
            .bind(&open_askers)
            .fetch_optional(self.pool())
            .await?;
            if let Some(row) = merged {
                return Ok((from_row(&row)?, true));
            }
        }
        // Only if other merges won every race: the caller may try again.
        Err(StoreError::Conflict(format!(
            "the pending request for {} on {} is being changed",
            r.principal, r.secret
        )))
    }

    async fn pending_for(
        &self,
        secret_arn: &str,
        principal: &str,
    ) -> Result<Option<AccessRequest>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM access_requests \
             WHERE secret_arn = $1 AND principal = $2 AND status = $3"
        ))
        .bind(secret_arn)
        .bind(principal)
        .bind(RequestStatus::Pending.as_str())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn access_request(&self, id: i64) -> Result<Option<AccessRequest>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM access_requests WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The requests matching `f` (every given condition), newest first
    /// (requested_at desc, id desc), at most `limit`.
    pub async fn access_requests(
        &self,
        f: &RequestFilter,
        limit: i64,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        let mut clauses = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        if let Some(by) = &f.requested_by {
            binds.push(by.clone());
            clauses.push(format!("requested_by = ${}", binds.len()));
        }
        if let Some(arn) = &f.secret_arn {
            binds.push(arn.clone());
            clauses.push(format!("secret_arn = ${}", binds.len()));
        }
        if !f.statuses.is_empty() {
            let mut marks = Vec::new();
            for s in &f.statuses {
                binds.push(s.as_str().to_string());
                marks.push(format!("${}", binds.len()));
            }
            clauses.push(format!("status IN ({})", marks.join(", ")));
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM access_requests {filter} \
             ORDER BY requested_at DESC, id DESC LIMIT ${}",
            binds.len() + 1
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b);
        }
        let rows = q.bind(limit.max(0)).fetch_all(self.pool()).await?;
        rows.iter().map(from_row).collect()
    }

    /// Compare-and-set: moves request `id` from status `from` to `to`,
    /// applying the `Some` fields of `change` (the others keep what is
    /// stored). [`StoreError::NotFound`] when there is no such id;
    /// [`StoreError::Conflict`] naming its actual status ("request 4 is
    /// denied") when its status is not `from`.
    pub async fn transition_request(
        &self,
        id: i64,
        from: RequestStatus,
        to: RequestStatus,
        change: &RequestChange,
    ) -> Result<AccessRequest, StoreError> {
        let row = sqlx::query(&format!(
            "UPDATE access_requests SET status = $1, \
             decided_by = COALESCE($2, decided_by), decided_at = COALESCE($3, decided_at), \
             comment = COALESCE($4, comment), expires_at = COALESCE($5, expires_at), \
             duration_secs = COALESCE($6, duration_secs) \
             WHERE id = $7 AND status = $8 RETURNING {COLUMNS}"
        ))
        .bind(to.as_str())
        .bind(change.decided_by.clone())
        .bind(change.decided_at.map(|t| t.secs()))
        .bind(change.comment.clone())
        .bind(change.expires_at.map(|t| t.secs()))
        .bind(change.duration_secs)
        .bind(id)
        .bind(from.as_str())
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(row) => from_row(&row),
            None => match self.access_request(id).await? {
                None => Err(StoreError::NotFound(format!("request {id}"))),
                Some(r) => Err(StoreError::Conflict(format!(
                    "request {id} is {}",
                    r.status.as_str()
                ))),
            },
        }
    }

    /// Active requests whose expires_at <= `now`, the oldest expiry first.
    pub async fn due_grants(&self, now: Timestamp) -> Result<Vec<AccessRequest>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM access_requests \
             WHERE status IN ($1, $3, $4) AND expires_at <= $2 ORDER BY expires_at, id"
        ))
        .bind(RequestStatus::Active.as_str())
        .bind(now.secs())
        // Approved and Failed too: a grant whose outcome was never recorded
        // (a failure after PutResourcePolicy) may still be in the policy.
        .bind(RequestStatus::Approved.as_str())
        .bind(RequestStatus::Failed.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }
}

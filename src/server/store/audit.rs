//! The audit trail: append, page through, and read it all (for export).
//! Append-only: there is no method that updates or deletes a record.

use super::{corrupt, Store, StoreError};
pub use crate::domain::audit::AuditFilter;
use crate::domain::audit::{AuditAction, AuditEvent, Outcome};
use crate::domain::Timestamp;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Arguments, Row};

/// A stored audit event and its id (ids grow with every append).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: i64,
    pub event: AuditEvent,
}

/// One page of records, newest first, and how many match in all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditPage {
    pub records: Vec<AuditRecord>,
    pub total: i64,
}

/// The most records one [`Store::audit_page`] returns.
pub const AUDIT_PAGE_MAX: i64 = 1_000;

/// How many records [`Store::audit_for_each`] reads per query.
pub(super) const BATCH: i64 = 500;

const COLUMNS: &str = "id, at, actor, client, action, target, outcome, detail, request_id";

#[derive(Clone, Copy)]
enum Direction {
    OldestFirst,
    NewestFirst,
}

/// A value bound to a filter's placeholder.
enum Arg {
    Int(i64),
    Text(String),
}

/// A `WHERE` clause (empty, or starting with a space) and its arguments,
/// numbered from `$1`.
#[derive(Default)]
struct Where {
    conditions: Vec<String>,
    args: Vec<Arg>,
}

impl Where {
    fn of(filter: &AuditFilter) -> Where {
        let mut w = Where::default();
        if let Some(actor) = &filter.actor {
            w.push("actor = ", Arg::Text(storable(actor)));
        }
        if let Some(action) = filter.action {
            w.push("action = ", Arg::Text(action.as_str().to_string()));
        }
        if let Some(target) = &filter.target {
            let pattern = format!("%{}%", escape_like(&fold(target)));
            w.push("target_fold LIKE ", Arg::Text(pattern));
            // Both backends accept an ESCAPE clause after the placeholder.
            if let Some(c) = w.conditions.last_mut() {
                c.push_str(" ESCAPE '\\'");
            }
        }
        if let Some(outcome) = filter.outcome {
            w.push("outcome = ", Arg::Text(outcome.as_str().to_string()));
        }
        if let Some(from) = filter.from {
            w.push("at >= ", Arg::Int(from.secs()));
        }
        if let Some(to) = filter.to {
            w.push("at < ", Arg::Int(to.secs()));
        }
        w
    }

    /// Adds the condition `lhs $N`, `arg` bound to `$N`.
    fn push(&mut self, lhs: &str, arg: Arg) {
        let p = self.placeholder(arg);
        self.conditions.push(format!("{lhs}{p}"));
    }

    /// Binds `arg` to the next placeholder and returns it (`$N`).
    fn placeholder(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    /// Only the records after `r` in oldest-first order (`op` is `>`), or
    /// before it (`op` is `<`).
    fn beyond(&mut self, r: &AuditRecord, op: &str) {
        let at = r.event.at.secs();
        let (other, same, id) = (
            self.placeholder(Arg::Int(at)),
            self.placeholder(Arg::Int(at)),
            self.placeholder(Arg::Int(r.id)),
        );
        self.conditions.push(format!(
            "(at {op} {other} OR (at = {same} AND id {op} {id}))"
        ));
    }

    fn sql(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conditions.join(" AND "))
        }
    }

    /// The bound values, in placeholder order.
    fn arguments(&self) -> Result<AnyArguments<'_>, StoreError> {
        let mut args = AnyArguments::default();
        for arg in &self.args {
            match arg {
                Arg::Int(i) => args.add(*i),
                Arg::Text(s) => args.add(s.as_str()),
            }
            .map_err(sqlx::Error::Encode)?;
        }
        Ok(args)
    }
}

/// The case-insensitive form of a target, written beside it and matched by
/// the target filter: Unicode lower case, computed here so that both
/// backends fold alike.
fn fold(s: &str) -> String {
    storable(s).to_lowercase()
}

/// `s` as a LIKE pattern that matches itself only (`\` is the escape).
fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// PostgreSQL's text cannot hold NUL, SQLite's can: the store writes U+FFFD
/// in its place on both, so that a hostile name in an audit record is kept
/// (and written the same everywhere) rather than failing the write.
fn storable(s: &str) -> String {
    s.replace('\0', "\u{FFFD}")
}

fn record_from_row(row: &AnyRow) -> Result<AuditRecord, StoreError> {
    let id: i64 = row.try_get(0)?;
    let action: String = row.try_get(4)?;
    let outcome: String = row.try_get(6)?;
    Ok(AuditRecord {
        id,
        event: AuditEvent {
            at: Timestamp::new(row.try_get(1)?),
            actor: row.try_get(2)?,
            client: row.try_get(3)?,
            action: AuditAction::parse(&action)
                .ok_or_else(|| corrupt(format!("audit {id}: unknown action {action:?}")))?,
            target: row.try_get(5)?,
            outcome: Outcome::parse(&outcome)
                .ok_or_else(|| corrupt(format!("audit {id}: unknown outcome {outcome:?}")))?,
            detail: row.try_get(7)?,
            request_id: row.try_get(8)?,
        },
    })
}

impl Store {
    /// Appends `ev` and returns its id. Text is kept verbatim, except that a
    /// NUL character is written as U+FFFD (PostgreSQL cannot store NUL).
    pub async fn append_audit(&self, ev: &AuditEvent) -> Result<i64, StoreError> {
        let id = sqlx::query_scalar(
            "INSERT INTO audit \
             (at, actor, client, action, target, target_fold, outcome, detail, request_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(ev.at.secs())
        .bind(storable(&ev.actor))
        .bind(storable(&ev.client))
        .bind(ev.action.as_str())
        .bind(storable(&ev.target))
        .bind(fold(&ev.target))
        .bind(ev.outcome.as_str())
        .bind(storable(&ev.detail))
        .bind(storable(&ev.request_id))
        .fetch_one(self.pool())
        .await?;
        Ok(id)
    }

    /// The records matching `filter`, newest first (by time, then by id),
    /// skipping `offset` and returning at most `limit` (clamped to
    /// 0..=[`AUDIT_PAGE_MAX`]), with the number that match in all.
    pub async fn audit_page(
        &self,
        filter: &AuditFilter,
        offset: i64,
        limit: i64,
    ) -> Result<AuditPage, StoreError> {
        let mut w = Where::of(filter);
        let count_sql = format!("SELECT COUNT(*) FROM audit{}", w.sql());
        let total = sqlx::query_scalar_with(&count_sql, w.arguments()?)
            .fetch_one(self.pool())
            .await?;
        let page_sql = format!(
            "SELECT {COLUMNS} FROM audit{} ORDER BY at DESC, id DESC LIMIT {} OFFSET {}",
            w.sql(),
            w.placeholder(Arg::Int(limit.clamp(0, AUDIT_PAGE_MAX))),
            w.placeholder(Arg::Int(offset.max(0))),
        );
        let rows = sqlx::query_with(&page_sql, w.arguments()?)
            .fetch_all(self.pool())
            .await?;
        let records = rows.iter().map(record_from_row).collect::<Result<_, _>>()?;
        Ok(AuditPage { records, total })
    }

    /// Up to `limit` records matching `filter`, oldest first (by time, then
    /// by id), that come after `after` (from the start when None). Reading
    /// on from the last record of each batch walks the whole trail without
    /// holding it in memory, and stays correct while records are appended.
    pub async fn audit_batch_after(
        &self,
        filter: &AuditFilter,
        after: Option<&AuditRecord>,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        self.audit_batch(filter, after, limit, Direction::OldestFirst)
            .await
    }

    /// Up to `limit` records matching `filter`, newest first, that come
    /// before `before` (from the newest when None): the audit page's walk
    /// for a reader who may see only some records.
    pub async fn audit_batch_before(
        &self,
        filter: &AuditFilter,
        before: Option<&AuditRecord>,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        self.audit_batch(filter, before, limit, Direction::NewestFirst)
            .await
    }

    async fn audit_batch(
        &self,
        filter: &AuditFilter,
        from: Option<&AuditRecord>,
        limit: i64,
        direction: Direction,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let (op, order) = match direction {
            Direction::OldestFirst => (">", "at, id"),
            Direction::NewestFirst => ("<", "at DESC, id DESC"),
        };
        let mut w = Where::of(filter);
        if let Some(r) = from {
            w.beyond(r, op);
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM audit{} ORDER BY {order} LIMIT {}",
            w.sql(),
            w.placeholder(Arg::Int(limit.max(0))),
        );
        let rows = sqlx::query_with(&sql, w.arguments()?)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// Calls `f` with every record matching `filter`, oldest first, reading
    /// them in batches; returns how many there were.
    pub async fn audit_for_each(
        &self,
        filter: &AuditFilter,
        mut f: impl FnMut(&AuditRecord),
    ) -> Result<u64, StoreError> {
        let mut seen = 0u64;
        let mut last: Option<AuditRecord> = None;
        loop {
            let batch = self.audit_batch_after(filter, last.as_ref(), BATCH).await?;
            batch.iter().for_each(&mut f);
            seen += batch.len() as u64;
            if (batch.len() as i64) < BATCH {
                return Ok(seen);
            }
            last = batch.into_iter().next_back();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_themselves_only() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
        assert_eq!(escape_like("prod/db"), "prod/db");
    }

    #[test]
    fn folding_is_unicode_and_nul_free() {
        assert_eq!(fold("ÄrgerLICH/Σ"), "ärgerlich/σ");
        assert_eq!(fold("a\0B"), "a\u{FFFD}b");
        assert_eq!(storable("plain ☃"), "plain ☃");
    }

    #[test]
    fn filters_number_their_placeholders_in_order() {
        let filter = AuditFilter {
            actor: Some("alice".into()),
            action: Some(AuditAction::Rotate),
            target: Some("Prod".into()),
            outcome: Some(Outcome::Denied),
            from: Some(Timestamp::new(10)),
            to: Some(Timestamp::new(20)),
        };
        let w = Where::of(&filter);
        assert_eq!(
            w.sql(),
            " WHERE actor = $1 AND action = $2 AND target_fold LIKE $3 ESCAPE '\\' \
             AND outcome = $4 AND at >= $5 AND at < $6"
        );
        assert_eq!(w.args.len(), 6);
        assert_eq!(Where::of(&AuditFilter::default()).sql(), "");
    }
}

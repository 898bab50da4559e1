//! The webhook's outbox and the alarms announced on it (see
//! `crate::server::alerts::outbox`): what makes each alert and each
//! message once-only across replicas, restarts and takeovers.

use super::{Store, StoreError};
use sqlx::Row;

/// The arn of the `alert_state` row that marks the start summary as said.
const BASELINE: &str = "";

/// One message waiting to be posted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub about: String,
    /// The JSON body, as recorded.
    pub payload: String,
}

/// What was announced so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Announced {
    /// Whether the start summary was said (on this store, ever).
    pub baseline: bool,
    /// (secret ARN, alarm) of every secret announced in alarm and not
    /// announced recovered since.
    pub alarms: Vec<(String, String)>,
}

/// One secret's alarm change, to announce: its text forms (None: no alarm).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlarmChange<'a> {
    pub arn: &'a str,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
}

/// Records a message; one of a `dedupe` key already recorded is not.
const RECORD: &str = "INSERT INTO alert_outbox (dedupe, about, payload, created_at) \
                      VALUES ($1, $2, $3, $4) ON CONFLICT (dedupe) DO NOTHING";

/// A message to record: (dedupe key, about, JSON body).
pub type NewMessage = (Option<String>, String, String);

impl Store {
    /// Records a message to post; with a `dedupe` key, only the first
    /// message of that key ever is kept. True when recorded.
    pub async fn record_message(
        &self,
        dedupe: Option<&str>,
        about: &str,
        payload: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(RECORD)
            .bind(dedupe)
            .bind(about)
            .bind(payload)
            .bind(at)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The oldest `limit` messages not yet posted nor given up on, in the
    /// order they were recorded.
    pub async fn pending_messages(&self, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, about, payload FROM alert_outbox WHERE state = 'pending' ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OutboxRow {
                    id: r.try_get(0)?,
                    about: r.try_get(1)?,
                    payload: r.try_get(2)?,
                })
            })
            .collect()
    }

    /// Marks message `id` posted (`delivered`) or given up on (`failed`);
    /// false when it was not pending any more.
    pub async fn finish_message(
        &self,
        id: i64,
        delivered: bool,
        at: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE alert_outbox SET state = $1, done_at = $2 WHERE id = $3 AND state = 'pending'",
        )
        .bind(if delivered { "delivered" } else { "failed" })
        .bind(at)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes the messages posted or given up on before `before` (a
    /// new reader's key with them: by then CloudTrail has forgotten the
    /// read, so it cannot be found new again). Returns how many.
    pub async fn prune_messages(&self, before: i64) -> Result<u64, StoreError> {
        let done =
            sqlx::query("DELETE FROM alert_outbox WHERE state <> 'pending' AND done_at < $1")
                .bind(before)
                .execute(self.pool())
                .await?;
        Ok(done.rows_affected())
    }

    /// Messages by state, for tests and the log: (pending, delivered, failed).
    pub async fn message_counts(&self) -> Result<(i64, i64, i64), StoreError> {
        let row = sqlx::query(
            "SELECT \
               COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0), \
               COALESCE(SUM(CASE WHEN state = 'delivered' THEN 1 ELSE 0 END), 0), \
               COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0) \
             FROM alert_outbox",
        )
        .fetch_one(self.pool())
        .await?;
        Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
    }

    /// The alarms announced so far.
    pub async fn announced(&self) -> Result<Announced, StoreError> {
        let rows = sqlx::query("SELECT arn, alarm FROM alert_state ORDER BY arn")
            .fetch_all(self.pool())
            .await?;
        let mut out = Announced::default();
        for r in rows {
            let arn: String = r.try_get(0)?;
            if arn == BASELINE {
                out.baseline = true;
            } else {
                out.alarms.push((arn, r.try_get(1)?));
            }
        }
        Ok(out)
    }

    /// Announces `changes`, in one transaction: each is a compare-and-set
    /// on its secret's announced alarm (from `from` to `to`), and
    /// `messages` is called with the changes whose set succeeded (another
    /// replica may have announced the others) and returns the messages to
    /// record with them. With `baseline`, the start summary's mark is set
    /// first, and nothing is done when it was set already. Returns the
    /// number of changes announced.
    pub async fn announce<'a>(
        &self,
        changes: &[AlarmChange<'a>],
        baseline: bool,
        at: i64,
        messages: impl FnOnce(&[usize]) -> Vec<NewMessage>,
    ) -> Result<usize, StoreError> {
        let mut tx = self.pool().begin().await?;
        if baseline {
            let marked = sqlx::query(
                "INSERT INTO alert_state (arn, alarm) VALUES ($1, 'baseline') ON CONFLICT (arn) DO NOTHING",
            )
            .bind(BASELINE)
            .execute(&mut *tx)
            .await?;
            if marked.rows_affected() == 0 {
                tx.rollback().await?;
                return Ok(0);
            }
        }
        let mut won = Vec::new();
        for (i, c) in changes.iter().enumerate() {
            let q = match (c.from, c.to) {
                (None, Some(to)) => sqlx::query(
                    "INSERT INTO alert_state (arn, alarm) VALUES ($1, $2) ON CONFLICT (arn) DO NOTHING",
                )
                .bind(c.arn)
                .bind(to),
                (Some(from), Some(to)) => {
                    sqlx::query("UPDATE alert_state SET alarm = $1 WHERE arn = $2 AND alarm = $3")
                        .bind(to)
                        .bind(c.arn)
                        .bind(from)
                }
                (Some(from), None) => {
                    sqlx::query("DELETE FROM alert_state WHERE arn = $1 AND alarm = $2")
                        .bind(c.arn)
                        .bind(from)
                }
                (None, None) => continue,
            };
            if q.execute(&mut *tx).await?.rows_affected() > 0 {
                won.push(i);
            }
        }
        for (dedupe, about, payload) in messages(&won) {
            sqlx::query(RECORD)
                .bind(dedupe)
                .bind(about)
                .bind(payload)
                .bind(at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(won.len())
    }
}

//! Simulated reads added to a secret, for tests and the bench: from Rust
//! ([`LocalEndpoint::add_reads`], [`LocalEndpoint::readers`]) and over HTTP
//! (`POST /__secretscope/reads`, `GET /__secretscope/reads?secret_id=ID`),
//! one implementation behind both.
//!
//! `POST /__secretscope/reads` (JSON, at most [`BODY_LIMIT`] bytes):
//!
//! ```json
//! {"secret_id": "prod/payments/db", "principal": "arn:aws:iam::123456789012:role/payments-api",
//!  "account": "123456789012", "session": "payments-api-7f9c", "stage": "AWSPREVIOUS",
//!  "version_id": null, "error_code": "AccessDenied", "error_message": "…",
//!  "start_ms": 1760000000000, "every_ms": 3600000, "count": 24, "batch": false, "kind": "Steady"}
//! ```
//!
//! Only `secret_id`, `principal`, `start_ms`, `every_ms` and `count` are
//! required: `count` reads from `start_ms`, `every_ms` apart (at least
//! 1000; `count` 1 to [`MAX_READS`]). `account` defaults to the principal's,
//! `session` to its name; `error_message` to AWS's words for `AccessDenied`,
//! `DecryptionFailure` and `InvalidRequestException`; `kind` to what the
//! error or stage says (else Steady). Answers `{"added": count}`; 400 with
//! `{"error": …}` for a malformed or invalid reader, 404 for an unknown
//! secret, 413 for a body over the limit. Reads at or before the clock
//! raise the secret's LastAccessedDate (and its versions') as a real read
//! would; the plan (`GET /__secretscope/plan`) stays as seeded, and
//! `GET /__secretscope/reads` lists the seed's readers and the added ones.

use crate::control::json_response;
use crate::seed::reads::MARKED_FOR_DELETION;
use crate::seed::{EpochMs, PlannedReader, ReaderKind, AWSPREVIOUS};
use crate::LocalEndpoint;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use std::collections::HashMap;

/// The most reads one added reader may make.
pub const MAX_READS: u64 = 100_000;
/// The largest `POST /__secretscope/reads` body.
pub const BODY_LIMIT: usize = 16 * 1024;

/// Why a reader was not added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AddError {
    NoSecret(String),
    Invalid(String),
}

impl std::fmt::Display for AddError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AddError::NoSecret(id) => write!(f, "no secret {id:?} here"),
            AddError::Invalid(why) => f.write_str(why),
        }
    }
}

impl LocalEndpoint {
    /// Adds `reader` to secret `secret_id` (name, ARN or partial ARN): its
    /// reads are on CloudTrail from then on, and those at or before the
    /// clock raise LastAccessedDate. Answers how many reads it makes (up to
    /// its `until`; with none, so far), or why it was refused.
    pub fn add_reads(&self, secret_id: &str, reader: PlannedReader) -> Result<u64, String> {
        self.add_reader(secret_id, reader)
            .map_err(|e| e.to_string())
    }

    pub(crate) fn add_reader(
        &self,
        secret_id: &str,
        reader: PlannedReader,
    ) -> Result<u64, AddError> {
        reader.check().map_err(AddError::Invalid)?;
        if reader.batch && (reader.stage.is_some() || reader.version_id.is_some()) {
            return Err(AddError::Invalid(
                "BatchGetSecretValue reads AWSCURRENT only: no stage or version_id with batch"
                    .to_string(),
            ));
        }
        let now = self.now_ms();
        let reads = reader.count(EpochMs::MIN, reader.until.map_or(now, |u| u - 1));
        if reads > MAX_READS {
            return Err(AddError::Invalid(format!(
                "{reads} reads: at most {MAX_READS}"
            )));
        }
        let mut store = self.inner.store_mut();
        let seq = store
            .lookup(secret_id)
            .map_err(|_| AddError::NoSecret(secret_id.to_string()))?;
        tracing::info!(secret_id, principal = %reader.principal, reads, "demo endpoint reads added");
        store.add_reader(seq, reader, now);
        Ok(reads)
    }

    /// The readers of secret `secret_id`: the seed's, then those added.
    pub fn readers(&self, secret_id: &str) -> Option<Vec<PlannedReader>> {
        self.inner.store().readers(secret_id)
    }
}

/// The body of `POST /__secretscope/reads`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReadsReq {
    secret_id: String,
    principal: String,
    account: Option<String>,
    session: Option<String>,
    stage: Option<String>,
    version_id: Option<String>,
    error_code: Option<String>,
    error_message: Option<String>,
    start_ms: EpochMs,
    every_ms: EpochMs,
    count: u64,
    batch: Option<bool>,
    kind: Option<ReaderKind>,
}

/// AWS's words for an error code, when a request names the code alone.
fn default_message(code: &str, principal: &str, session: &str, secret: &str) -> Option<String> {
    Some(match code {
        "AccessDenied" | "AccessDeniedException" => {
            let (account, name) = principal
                .strip_prefix("arn:aws:iam::")
                .and_then(|r| r.split_once(':'))
                .map(|(a, r)| (a, r.rsplit('/').next().unwrap_or(r)))
                .unwrap_or(("", principal));
            let caller = if principal.contains(":role/") {
                format!("arn:aws:sts::{account}:assumed-role/{name}/{session}")
            } else {
                principal.to_string()
            };
            format!(
                "User: {caller} is not authorized to perform: secretsmanager:GetSecretValue on \
                 resource: {secret} because no identity-based policy allows the \
                 secretsmanager:GetSecretValue action"
            )
        }
        "DecryptionFailure" => {
            "Secrets Manager can't decrypt the protected secret text using the provided KMS key."
                .to_string()
        }
        "InvalidRequestException" => MARKED_FOR_DELETION.to_string(),
        _ => return None,
    })
}

impl ReadsReq {
    /// The reader this request describes (checked further by `add_reader`).
    pub(crate) fn reader(self) -> Result<PlannedReader, AddError> {
        let invalid = |s: &str| AddError::Invalid(s.to_string());
        if !(1..=MAX_READS).contains(&self.count) {
            return Err(AddError::Invalid(format!("count must be 1 to {MAX_READS}")));
        }
        if self.every_ms < 1000 {
            return Err(invalid("every_ms must be at least 1000 (a second)"));
        }
        let until = i64::try_from(self.count)
            .ok()
            .and_then(|n| n.checked_mul(self.every_ms))
            .and_then(|span| span.checked_add(self.start_ms))
            .ok_or_else(|| invalid("start_ms + count × every_ms is out of range"))?;
        let parts = self.principal.strip_prefix("arn:aws:iam::");
        let account = self.account.clone().unwrap_or_else(|| {
            parts
                .and_then(|r| r.split(':').next())
                .unwrap_or_default()
                .to_string()
        });
        let name = self.principal.rsplit('/').next().unwrap_or_default();
        let session = self.session.clone().unwrap_or_else(|| name.to_string());
        let error = match (&self.error_code, self.error_message) {
            (None, None) => None,
            (None, Some(_)) => return Err(invalid("error_message needs an error_code")),
            (Some(code), Some(m)) => Some((code.clone(), m)),
            (Some(code), None) => {
                let m = default_message(code, &self.principal, &session, &self.secret_id)
                    .ok_or_else(|| {
                        AddError::Invalid(format!("error_message is required for {code}"))
                    })?;
                Some((code.clone(), m))
            }
        };
        let kind = self
            .kind
            .unwrap_or(match error.as_ref().map(|e| e.0.as_str()) {
                Some("AccessDenied" | "AccessDeniedException") => ReaderKind::Denied,
                Some("DecryptionFailure") => ReaderKind::DecryptFailed,
                Some("InvalidRequestException") => ReaderKind::AfterDeletion,
                Some(_) => ReaderKind::Denied,
                None if self.stage.as_deref() == Some(AWSPREVIOUS) => ReaderKind::Previous,
                None => ReaderKind::Steady,
            });
        Ok(PlannedReader {
            principal: self.principal,
            account,
            session,
            stage: self.stage,
            version_id: self.version_id,
            error,
            batch: self.batch.unwrap_or(false),
            from: self.start_ms,
            until: Some(until),
            every: self.every_ms,
            kind,
        })
    }
}

fn answer(status: StatusCode, error: impl std::fmt::Display) -> Response {
    json_response(status, json!({"error": error.to_string()}))
}

/// `POST /__secretscope/reads` with `body`, on the endpoint `holder` says
/// holds the secret.
pub(crate) fn post(body: &[u8], holder: impl Fn(&str) -> LocalEndpoint) -> Response {
    let req: ReadsReq = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return answer(StatusCode::BAD_REQUEST, e),
    };
    let id = req.secret_id.clone();
    match req.reader().and_then(|r| holder(&id).add_reader(&id, r)) {
        Ok(added) => json_response(StatusCode::OK, json!({ "added": added })),
        Err(e @ AddError::NoSecret(_)) => answer(StatusCode::NOT_FOUND, e),
        Err(e) => answer(StatusCode::BAD_REQUEST, e),
    }
}

/// `GET /__secretscope/reads?secret_id=ID`, on the endpoint `holder` says
/// holds the secret.
pub(crate) fn get(q: &HashMap<String, String>, holder: impl Fn(&str) -> LocalEndpoint) -> Response {
    let Some(id) = q.get("secret_id") else {
        return answer(StatusCode::BAD_REQUEST, "secret_id is required");
    };
    match holder(id).readers(id) {
        Some(r) => json_response(StatusCode::OK, json!(r)),
        None => answer(StatusCode::NOT_FOUND, "no such secret"),
    }
}

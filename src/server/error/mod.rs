//! One error type. `AppError` carries a sentence for the person (what went
//! wrong and what to do) and a detail for the log; only the first ever
//! reaches a page. AWS errors become such sentences through one table
//! for every service ([`sdk`]).

pub mod sdk;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The endpoint could not be reached (DNS, refused, timeout).
    Unreachable,
    /// AWS refused the dashboard's own identity or permissions.
    AccessDenied,
    /// No usable credentials or region.
    Credentials,
    Throttled,
    NotFound,
    InvalidInput,
    /// AWS answered with an error we do not map more precisely.
    Aws,
    Internal,
    /// No valid session: 401.
    Unauthenticated,
    /// Signed in, but no role or scope allows it: 403.
    Forbidden,
    /// The target changed since the person looked: 409.
    Conflict,
}

impl ErrorKind {
    /// The HTTP status a server function answers with.
    pub fn status(self) -> axum::http::StatusCode {
        use axum::http::StatusCode as S;
        match self {
            ErrorKind::Unauthenticated => S::UNAUTHORIZED,
            ErrorKind::Forbidden => S::FORBIDDEN,
            ErrorKind::Conflict => S::CONFLICT,
            ErrorKind::NotFound => S::NOT_FOUND,
            ErrorKind::InvalidInput => S::BAD_REQUEST,
            ErrorKind::Throttled => S::TOO_MANY_REQUESTS,
            ErrorKind::Unreachable
            | ErrorKind::AccessDenied
            | ErrorKind::Credentials
            | ErrorKind::Aws => S::BAD_GATEWAY,
            ErrorKind::Internal => S::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Deliberately not `std::error::Error`: leptos turns any such error into a
/// `ServerFnError` by its text, which would drop the status and request id.
/// `api` converts it with `From`, the CLI with `anyhow::Error::msg`.
#[derive(Clone, Debug)]
pub struct AppError {
    pub kind: ErrorKind,
    /// Shown to the person: a sentence they can act on.
    pub user: String,
    /// Logged with the request id; may name internals.
    pub detail: String,
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.user)
    }
}

/// The command line reports the person's sentence, as before.
impl From<AppError> for anyhow::Error {
    fn from(e: AppError) -> Self {
        anyhow::Error::msg(e)
    }
}

impl AppError {
    pub fn new(kind: ErrorKind, user: impl Into<String>, detail: impl Into<String>) -> Self {
        AppError {
            kind,
            user: user.into(),
            detail: detail.into(),
        }
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(
            ErrorKind::Internal,
            "Something went wrong inside secretscope. The server log has the details.",
            detail,
        )
    }

    /// The error for a server function: the log gets the detail (inside the
    /// request's span, so with its request id), the page the sentence and
    /// the request id to quote.
    pub fn to_server_fn_error(&self) -> leptos::prelude::ServerFnError {
        let id = leptos::prelude::use_context::<axum::http::request::Parts>().and_then(|p| {
            p.headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        });
        tracing::warn!(kind = ?self.kind, request_id = id.as_deref().unwrap_or("-"), detail = %self.detail, "request failed");
        if let Some(res) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(self.kind.status());
        }
        let user = match id {
            Some(id) if self.kind == ErrorKind::Internal || self.kind == ErrorKind::Aws => {
                format!("{} (request id {id})", self.user)
            }
            _ => self.user.clone(),
        };
        leptos::prelude::ServerFnError::ServerError(user)
    }

    /// Turns a Secrets Manager SDK error from `operation` on `target` (a
    /// secret name, or the region for list calls) into a sentence a person
    /// can act on ([`sdk`]: the table every service's errors go through).
    pub fn from_sdk<E, R>(
        operation: &str,
        target: &str,
        endpoint: &str,
        err: SdkError<E, R>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug,
    {
        sdk::SECRETS_MANAGER.error(operation, target, endpoint, err)
    }
}

/// The error and all its sources on one line, for the log.
pub fn deep(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

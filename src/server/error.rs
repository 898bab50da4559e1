//! One error type. `AppError` carries a sentence for the person (what went
//! wrong and what to do) and a detail for the log; only the first ever
//! reaches a page.

use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
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

    /// Turns an SDK error from `operation` on `target` (a secret name, or the
    /// region for list calls) into a sentence a person can act on.
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
        let detail = format!("{operation} on {target} via {endpoint}: {}", deep(&err));
        match &err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                let code = e.code().unwrap_or("Unknown");
                let message = e.message().unwrap_or("");
                let (kind, user) = match code {
                    "AccessDeniedException" | "AccessDenied" | "UnrecognizedClientException"
                    | "InvalidSignatureException" | "ExpiredTokenException" => (
                        ErrorKind::AccessDenied,
                        format!(
                            "AWS refused the dashboard's credentials for secretsmanager:{operation} on {target} ({code}). \
                             Check that its role allows secretsmanager:{operation} and that the credentials are current."
                        ),
                    ),
                    "ThrottlingException" | "TooManyRequestsException" | "RequestLimitExceeded" => (
                        ErrorKind::Throttled,
                        format!(
                            "AWS throttled secretsmanager:{operation} on {target} even after retrying. \
                             Lower the sync rate (sync.list_rate_per_sec, sync.version_rate_per_sec) or try again shortly."
                        ),
                    ),
                    "ResourceNotFoundException" => (
                        ErrorKind::NotFound,
                        format!("The secret {target} no longer exists in Secrets Manager (it may have been deleted)."),
                    ),
                    "InvalidParameterException" | "InvalidRequestException" | "ValidationException"
                    | "InvalidNextTokenException" => (
                        ErrorKind::InvalidInput,
                        format!("Secrets Manager rejected {operation} on {target}: {message}"),
                    ),
                    _ => (
                        ErrorKind::Aws,
                        format!("Secrets Manager answered {operation} on {target} with {code}: {message}"),
                    ),
                };
                AppError::new(kind, user, detail)
            }
            SdkError::TimeoutError(_) => AppError::new(
                ErrorKind::Unreachable,
                format!(
                    "Secrets Manager at {endpoint} did not answer {operation} in time. \
                     Check the network path to the endpoint; the last good data is still shown."
                ),
                detail,
            ),
            SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
                let text = detail.to_lowercase();
                if text.contains("credential") {
                    AppError::new(
                        ErrorKind::Credentials,
                        "No AWS credentials were found. Set AWS_PROFILE (or --profile), \
                         AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where an instance or task role is available.",
                        detail,
                    )
                } else {
                    AppError::new(
                        ErrorKind::Unreachable,
                        format!(
                            "Could not reach Secrets Manager at {endpoint} for {operation}. \
                             Check --endpoint-url, the region and the network; the last good data is still shown."
                        ),
                        detail,
                    )
                }
            }
            SdkError::ConstructionFailure(_) => {
                let text = detail.to_lowercase();
                if text.contains("region") {
                    AppError::new(
                        ErrorKind::Credentials,
                        "No AWS region is set. Pass --region, set AWS_REGION, or set a region in your AWS profile.",
                        detail,
                    )
                } else if text.contains("credential") {
                    AppError::new(
                        ErrorKind::Credentials,
                        "No AWS credentials were found. Set AWS_PROFILE (or --profile) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.",
                        detail,
                    )
                } else {
                    AppError::internal(detail)
                }
            }
            _ => AppError::new(
                ErrorKind::Aws,
                format!("The call {operation} to Secrets Manager failed; the server log has the details."),
                detail,
            ),
        }
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

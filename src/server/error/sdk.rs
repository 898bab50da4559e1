//! AWS errors as sentences a person can act on, one table for every
//! service the dashboard calls (Secrets Manager, CloudTrail, STS).
//!
//! Two steps: [`Failure::of`] reads what went wrong from any SDK error
//! (the error code through [`CODES`], or how the call failed: a timeout,
//! no connection, no credentials, no region), the same for every service;
//! then the service's [`Service::words`] says it to the person, naming the
//! permission to add or the setting to change. The log gets the detail
//! (operation, target, endpoint and the whole error chain).

use super::{deep, AppError, ErrorKind};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::fmt;

/// What an AWS error code means, whichever service answered it.
pub const CODES: &[(&str, Failure)] = &[
    // The dashboard's identity or its permissions.
    ("AccessDeniedException", Failure::Denied),
    ("AccessDenied", Failure::Denied),
    ("UnrecognizedClientException", Failure::Denied),
    ("InvalidSignatureException", Failure::Denied),
    ("ExpiredTokenException", Failure::Denied),
    ("OperationNotPermittedException", Failure::Denied),
    // Too many calls, even after the SDK's retries.
    ("ThrottlingException", Failure::Throttled),
    ("TooManyRequestsException", Failure::Throttled),
    ("RequestLimitExceeded", Failure::Throttled),
    // The target is gone.
    ("ResourceNotFoundException", Failure::NotFound),
    // The request itself was refused.
    ("InvalidParameterException", Failure::Invalid),
    ("InvalidRequestException", Failure::Invalid),
    ("ValidationException", Failure::Invalid),
    ("InvalidNextTokenException", Failure::Invalid),
    ("InvalidLookupAttributesException", Failure::Invalid),
    ("InvalidTimeRangeException", Failure::Invalid),
    ("InvalidMaxResultsException", Failure::Invalid),
    ("InvalidEventCategoryException", Failure::Invalid),
];

/// What went wrong with one call, whichever service it went to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The service refused the dashboard's identity or permissions.
    Denied,
    Throttled,
    NotFound,
    /// The service rejected the request's parameters.
    Invalid,
    /// The service answered with a code [`CODES`] does not list.
    Answered,
    /// No answer in time.
    Timeout,
    /// The endpoint could not be reached.
    Unreachable,
    /// No credentials were found when the call was sent.
    NoCredentials,
    /// No credentials were found when the call was built.
    NoCredentialsToBuild,
    /// No region is set.
    NoRegion,
    /// The call could not be built for another reason.
    NotBuilt,
    /// Anything else the SDK reports.
    Other,
}

/// One failed call, as the sentences name it.
pub struct Call<'a> {
    pub operation: &'a str,
    /// A secret's name, or the region for list calls.
    pub target: &'a str,
    pub endpoint: &'a str,
    /// The error code and message the service answered, if it did.
    pub code: &'a str,
    pub message: &'a str,
}

/// A service: its words for each [`Failure`] and its log detail.
pub struct Service {
    pub words: fn(Failure, &Call<'_>) -> (ErrorKind, String),
    /// The log line's head: "RotateSecret on prod/db via …".
    pub detail: fn(&Call<'_>) -> String,
}

impl Failure {
    /// What went wrong, and the code and message the service answered.
    pub fn of<E, R>(err: &SdkError<E, R>, detail: &str) -> (Failure, String, String)
    where
        E: ProvideErrorMetadata,
    {
        let text = detail.to_lowercase();
        let failure = match err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                let code = e.code().unwrap_or("Unknown");
                let failure = CODES
                    .iter()
                    .find(|(c, _)| *c == code)
                    .map_or(Failure::Answered, |(_, f)| *f);
                let message = e.message().unwrap_or("");
                return (failure, code.to_string(), message.to_string());
            }
            SdkError::TimeoutError(_) => Failure::Timeout,
            SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
                if text.contains("credential") {
                    Failure::NoCredentials
                } else {
                    Failure::Unreachable
                }
            }
            SdkError::ConstructionFailure(_) => {
                if text.contains("region") {
                    Failure::NoRegion
                } else if text.contains("credential") {
                    Failure::NoCredentialsToBuild
                } else {
                    Failure::NotBuilt
                }
            }
            _ => Failure::Other,
        };
        (failure, String::new(), String::new())
    }
}

impl Service {
    /// `err` from `operation` on `target` via `endpoint` as an [`AppError`].
    pub fn error<E, R>(
        &self,
        operation: &str,
        target: &str,
        endpoint: &str,
        err: SdkError<E, R>,
    ) -> AppError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug,
    {
        let head = (self.detail)(&Call {
            operation,
            target,
            endpoint,
            code: "",
            message: "",
        });
        let detail = format!("{head}: {}", deep(&err));
        let (failure, code, message) = Failure::of(&err, &detail);
        let call = Call {
            operation,
            target,
            endpoint,
            code: &code,
            message: &message,
        };
        let (kind, user) = (self.words)(failure, &call);
        AppError::new(kind, user, detail)
    }
}

const NO_CREDENTIALS: &str =
    "Set AWS_PROFILE (or --profile), AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, \
     or run where an instance or task role is available.";

/// Secrets Manager: every call the dashboard makes to it.
pub const SECRETS_MANAGER: Service = Service {
    detail: |c| format!("{} on {} via {}", c.operation, c.target, c.endpoint),
    words: |f, c| {
        let Call {
            operation,
            target,
            endpoint,
            code,
            message,
        } = c;
        match f {
            Failure::Denied => (
                ErrorKind::AccessDenied,
                format!(
                    "AWS refused the dashboard's credentials for secretsmanager:{operation} on {target} ({code}). \
                     Check that its role allows secretsmanager:{operation} and that the credentials are current."
                ),
            ),
            Failure::Throttled => (
                ErrorKind::Throttled,
                format!(
                    "AWS throttled secretsmanager:{operation} on {target} even after retrying. \
                     Lower the sync rate (sync.list_rate_per_sec, sync.version_rate_per_sec) or try again shortly."
                ),
            ),
            Failure::NotFound => (
                ErrorKind::NotFound,
                format!("The secret {target} no longer exists in Secrets Manager (it may have been deleted)."),
            ),
            Failure::Invalid => (
                ErrorKind::InvalidInput,
                format!("Secrets Manager rejected {operation} on {target}: {message}"),
            ),
            Failure::Answered => (
                ErrorKind::Aws,
                format!("Secrets Manager answered {operation} on {target} with {code}: {message}"),
            ),
            Failure::Timeout => (
                ErrorKind::Unreachable,
                format!(
                    "Secrets Manager at {endpoint} did not answer {operation} in time. \
                     Check the network path to the endpoint; the last good data is still shown."
                ),
            ),
            Failure::Unreachable => (
                ErrorKind::Unreachable,
                format!(
                    "Could not reach Secrets Manager at {endpoint} for {operation}. \
                     Check --endpoint-url, the region and the network; the last good data is still shown."
                ),
            ),
            Failure::NoCredentials => (
                ErrorKind::Credentials,
                format!("No AWS credentials were found. {NO_CREDENTIALS}"),
            ),
            Failure::NoCredentialsToBuild => (
                ErrorKind::Credentials,
                "No AWS credentials were found. Set AWS_PROFILE (or --profile) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY."
                    .to_string(),
            ),
            Failure::NoRegion => (
                ErrorKind::Credentials,
                "No AWS region is set. Pass --region, set AWS_REGION, or set a region in your AWS profile."
                    .to_string(),
            ),
            Failure::NotBuilt => {
                let e = AppError::internal("");
                (e.kind, e.user)
            }
            Failure::Other => (
                ErrorKind::Aws,
                format!("The call {operation} to Secrets Manager failed; the server log has the details."),
            ),
        }
    },
};

/// CloudTrail's LookupEvents: rotation history and failure messages.
pub const CLOUDTRAIL: Service = Service {
    detail: |c| format!("{} for {} via {}", c.operation, c.target, c.endpoint),
    words: |f, c| {
        let Call {
            operation,
            target,
            endpoint,
            code,
            message,
        } = c;
        match f {
            Failure::Denied => (
                ErrorKind::AccessDenied,
                format!(
                    "The dashboard's role may not call cloudtrail:{operation} ({code}), so rotation \
                     failure times and messages for {target} cannot be shown. Allow cloudtrail:{operation} \
                     for the role, or set [cloudtrail] enabled = false; rotation state still shows from labels and dates."
                ),
            ),
            Failure::Throttled => (
                ErrorKind::Throttled,
                format!(
                    "CloudTrail throttled {operation} for {target} even after retrying (its quota is \
                     2 calls a second per account and region). Try again in a moment."
                ),
            ),
            Failure::Invalid => (
                ErrorKind::InvalidInput,
                format!("CloudTrail rejected the lookup for {target}: {message}"),
            ),
            Failure::NotFound | Failure::Answered => (
                ErrorKind::Aws,
                format!("CloudTrail answered {operation} for {target} with {code}: {message}"),
            ),
            Failure::Timeout => (
                ErrorKind::Unreachable,
                format!(
                    "CloudTrail at {endpoint} did not answer in time, so rotation history for {target} is \
                     not shown. Check the network path to CloudTrail ([cloudtrail] endpoint_url)."
                ),
            ),
            Failure::Unreachable => (
                ErrorKind::Unreachable,
                format!(
                    "Could not reach CloudTrail at {endpoint}, so rotation history for {target} is not \
                     shown. Check [cloudtrail] endpoint_url, the region and the network."
                ),
            ),
            Failure::NoCredentials => (
                ErrorKind::Credentials,
                format!("No AWS credentials were found for CloudTrail. {NO_CREDENTIALS}"),
            ),
            Failure::NoRegion => (
                ErrorKind::Credentials,
                "No AWS region is set for CloudTrail. Pass --region, set AWS_REGION, or set a region in your AWS profile."
                    .to_string(),
            ),
            Failure::NoCredentialsToBuild | Failure::NotBuilt | Failure::Other => (
                ErrorKind::Aws,
                "The CloudTrail lookup failed; the server log has the details.".to_string(),
            ),
        }
    },
};

/// STS's AssumeRole, for a source read through another account's role.
/// The SDK reports STS's refusal inside the failed call's error (as a
/// credentials failure), so its code is looked for in `e`'s detail.
pub fn assume_role_error(role: &str, e: AppError) -> AppError {
    let text = e.detail.to_lowercase();
    if !(text.contains("assumerole") || text.contains("assume_role") || text.contains("sts")) {
        return e;
    }
    let user = if text.contains("accessdenied") || text.contains("not authorized") {
        format!(
            "AssumeRole denied for {role}: the trust policy does not allow this principal \
             (or requires an external id that does not match). Add the dashboard's role to the \
             trust policy of {role}, with sts:AssumeRole and the configured external id."
        )
    } else if text.contains("expired") || text.contains("invalidclienttokenid") {
        format!(
            "AssumeRole for {role} failed: the dashboard's own credentials are expired or invalid. \
             Renew them (AWS_PROFILE, SSO login, instance role)."
        )
    } else {
        format!(
            "AssumeRole for {role} failed, so this source cannot be read. Check that STS is reachable \
             and that {role} exists."
        )
    };
    AppError::new(ErrorKind::AccessDenied, user, e.detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_secretsmanager::error::ErrorMetadata;
    use aws_sdk_secretsmanager::operation::rotate_secret::RotateSecretError;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    fn answered(code: &str) -> SdkError<RotateSecretError, Response> {
        let err =
            RotateSecretError::generic(ErrorMetadata::builder().code(code).message("m").build());
        let raw = Response::new(StatusCode::try_from(400).unwrap(), SdkBody::empty());
        SdkError::service_error(err, raw)
    }

    #[test]
    fn one_table_for_every_service_each_in_its_words() {
        let e = SECRETS_MANAGER.error(
            "RotateSecret",
            "prod/db",
            "ep",
            answered("AccessDeniedException"),
        );
        assert_eq!(e.kind, ErrorKind::AccessDenied);
        assert_eq!(
            e.user,
            "AWS refused the dashboard's credentials for secretsmanager:RotateSecret on prod/db (AccessDeniedException). \
             Check that its role allows secretsmanager:RotateSecret and that the credentials are current."
        );
        assert!(
            e.detail.starts_with("RotateSecret on prod/db via ep: "),
            "{}",
            e.detail
        );

        let e = CLOUDTRAIL.error(
            "LookupEvents",
            "prod/db",
            "ep",
            answered("ThrottlingException"),
        );
        assert_eq!(e.kind, ErrorKind::Throttled);
        assert!(
            e.user
                .starts_with("CloudTrail throttled LookupEvents for prod/db"),
            "{}",
            e.user
        );
        assert!(
            e.detail.starts_with("LookupEvents for prod/db via ep: "),
            "{}",
            e.detail
        );

        let e = SECRETS_MANAGER.error("DescribeSecret", "prod/db", "ep", answered("SomethingNew"));
        assert_eq!(
            (e.kind, e.user.as_str()),
            (
                ErrorKind::Aws,
                "Secrets Manager answered DescribeSecret on prod/db with SomethingNew: m"
            )
        );
        let e = SECRETS_MANAGER.error(
            "DescribeSecret",
            "prod/db",
            "ep",
            answered("ResourceNotFoundException"),
        );
        assert_eq!(e.kind, ErrorKind::NotFound);

        let slow = SdkError::<RotateSecretError, Response>::timeout_error("slow");
        let e = SECRETS_MANAGER.error("ListSecrets", "us-east-1", "ep", slow);
        assert_eq!(e.kind, ErrorKind::Unreachable);
        assert!(
            e.user.contains("did not answer ListSecrets in time"),
            "{}",
            e.user
        );
    }

    #[test]
    fn sts_refusals_name_the_role() {
        let e = AppError::new(
            ErrorKind::Credentials,
            "No AWS credentials were found.",
            "ListSecrets on us-east-1 via ep: dispatch failure: AssumeRole: AccessDenied: not authorized",
        );
        let e = assume_role_error("arn:aws:iam::1:role/r", e);
        assert_eq!(e.kind, ErrorKind::AccessDenied);
        assert!(
            e.user
                .starts_with("AssumeRole denied for arn:aws:iam::1:role/r"),
            "{}",
            e.user
        );
        let other = AppError::internal("nothing about roles");
        assert_eq!(assume_role_error("r", other.clone()).user, other.user);
    }
}

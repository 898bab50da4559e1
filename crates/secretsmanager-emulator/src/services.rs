//! One listener, several services: which one a request is for, the gate
//! every protocol request passes (down, latency, injected faults, each
//! answered in that service's own error shape), and the dispatch.
//!
//! - `POST /` with `X-Amz-Target: secretsmanager.<Op>`: Secrets Manager;
//!   `…CloudTrail_20131101.<Op>`: CloudTrail; `TrentService.<Op>`: KMS.
//! - `POST /` form-encoded (the query protocol): the SigV4 credential scope
//!   (`Credential=KEY/DATE/REGION/SERVICE/aws4_request`) names the service:
//!   `ec2`, `iam`, else STS (which only an organisation answers).
//! - `GET /2015-03-31/functions/{FunctionName}[/policy]`: Lambda.
//!
//! The account is the endpoint's; the region is the credential scope's
//! (else the endpoint's), so a standalone endpoint answers Lambda, KMS and
//! EC2 calls for any region of its account.

use crate::faults::Injected;
use crate::infra::{self, caller_arn, not_authorized};
use crate::protocol::{ApiError, CONTENT_TYPE};
use crate::{cloudtrail, Inner};
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// The SigV4 credential scope of a request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Scope {
    pub key: String,
    pub region: String,
    pub service: String,
}

/// The credential scope of a SigV4 `Authorization` header.
pub(crate) fn scope(headers: &HeaderMap) -> Option<Scope> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let cred = auth.split("Credential=").nth(1)?;
    let cred = cred.split([',', ' ']).next()?;
    let mut parts = cred.split('/');
    let key = parts.next()?.to_string();
    let _date = parts.next()?;
    let region = parts.next()?.to_string();
    let service = parts.next().unwrap_or_default().to_string();
    Some(Scope {
        key,
        region,
        service,
    })
}

/// The service of a `POST /`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Service {
    SecretsManager(String),
    CloudTrail(String),
    Kms(String),
    Ec2,
    Iam,
    Sts,
    /// An `X-Amz-Target` no service here answers.
    Unknown(String),
}

pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
}

pub(crate) fn service_of(headers: &HeaderMap) -> Service {
    if is_form(headers) {
        return match scope(headers).map(|s| s.service).as_deref() {
            Some("ec2") => Service::Ec2,
            Some("iam") => Service::Iam,
            _ => Service::Sts,
        };
    }
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Some(op) = target.strip_prefix("secretsmanager.") {
        Service::SecretsManager(op.to_string())
    } else if let Some(op) = cloudtrail::operation(target) {
        Service::CloudTrail(op.to_string())
    } else if let Some(op) = target.strip_prefix(infra::kms::TARGET_PREFIX) {
        Service::Kms(op.to_string())
    } else {
        Service::Unknown(target.to_string())
    }
}

/// What the gate lets through.
enum Gate {
    Pass,
    Throttle,
    ServerError,
    Down,
}

/// Down, then the injected latency and faults (the dice are seeded).
async fn gate(inner: &Inner) -> Gate {
    if inner.down.load(Ordering::SeqCst) {
        return Gate::Down;
    }
    let faults = *inner.faults.lock().unwrap_or_else(|e| e.into_inner());
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    let roll = faults.roll(&mut *inner.fault_rng.lock().unwrap_or_else(|e| e.into_inner()));
    match roll {
        Injected::Throttle => Gate::Throttle,
        Injected::ServerError => Gate::ServerError,
        Injected::Nothing => Gate::Pass,
    }
}

fn json_ok(v: serde_json::Value) -> Response {
    let mut resp = (StatusCode::OK, v.to_string()).into_response();
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
    resp
}

fn with_request_id(mut resp: Response) -> Response {
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        resp.headers_mut().insert("x-amzn-RequestId", v);
    }
    resp
}

/// The gate's refusal in `service`'s shape.
fn refused(service: &Service, gate: Gate) -> Response {
    use crate::infra::{ec2, iam};
    match (service, gate) {
        (Service::Ec2, Gate::Throttle) => ec2::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "RequestLimitExceeded",
            "Request limit exceeded.",
        ),
        (Service::Ec2, Gate::ServerError) => ec2::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "An internal error has occurred",
        ),
        (Service::Ec2, _) => ec2::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Unavailable",
            "The service is unavailable. Try again later.",
        ),
        (Service::Iam, Gate::Throttle) => {
            iam::error(StatusCode::BAD_REQUEST, "Throttling", "Rate exceeded")
        }
        (Service::Iam, Gate::ServerError) => iam::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceFailure",
            "An error occurred on the server side.",
        ),
        (Service::Iam, _) => iam::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "The service is unavailable. Try again later.",
        ),
        (Service::Kms(_), Gate::ServerError) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "KMSInternalException",
            "An internal error has occurred.",
        )
        .into_response(),
        (_, Gate::Throttle) => ApiError::throttling().into_response(),
        (_, Gate::ServerError) => ApiError::internal().into_response(),
        (_, _) => ApiError::unavailable().into_response(),
    }
}

/// The `SecretId` of a JSON request, if any (the resource of a denial).
fn secret_id(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("SecretId")?
        .as_str()
        .map(str::to_string)
}

/// Answers one `POST /` (see the module's doc).
pub(crate) async fn serve_protocol(inner: Arc<Inner>, headers: HeaderMap, body: Bytes) -> Response {
    let service = service_of(&headers);
    let scope = scope(&headers).unwrap_or_default();
    let region = if scope.region.is_empty() {
        inner.region.clone()
    } else {
        scope.region.clone()
    };
    let account = inner.account.clone();
    let caller = caller_arn(Some(&scope.key), &account);
    let unknown = match &service {
        Service::Unknown(_) | Service::Sts => true,
        Service::SecretsManager(op) | Service::CloudTrail(op) | Service::Kms(op) => op.is_empty(),
        Service::Ec2 | Service::Iam => false,
    };
    if unknown {
        let target = headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        return with_request_id(
            ApiError::client(
                "UnknownOperationException",
                format!(
                    "Unknown target '{target}': expected X-Amz-Target: secretsmanager.<Operation> \
                     or {}<Operation>.",
                    cloudtrail::TARGET_PREFIX
                ),
            )
            .into_response(),
        );
    }
    if let Service::SecretsManager(op) | Service::CloudTrail(op) = &service {
        let name = match &service {
            Service::SecretsManager(_) => format!("secretsmanager:{op}"),
            _ => format!("cloudtrail:{op}"),
        };
        *inner.lock_calls().entry(name).or_default() += 1;
    }
    if matches!(&service, Service::CloudTrail(op) if op == "LookupEvents")
        && !inner.take_lookup_slot()
    {
        tracing::info!("LookupEvents over its quota: throttled");
        return with_request_id(ApiError::throttling().into_response());
    }
    let passed = gate(&inner).await;
    if !matches!(passed, Gate::Pass) {
        tracing::info!(?service, "demo endpoint request refused by injected faults");
        return with_request_id(refused(&service, passed));
    }
    let infra = inner.infra.clone();
    let who = (account.as_str(), region.as_str(), caller.as_str());
    let result = match &service {
        Service::Ec2 => return with_request_id(infra::ec2::dispatch(&infra, who, &body)),
        Service::Iam => {
            return with_request_id(infra::iam::dispatch(&infra, &account, &caller, &body))
        }
        Service::Kms(op) => infra::kms::dispatch(&infra, who, op, &body),
        Service::SecretsManager(op) | Service::CloudTrail(op) => {
            let action = match &service {
                Service::SecretsManager(_) => format!("secretsmanager:{op}"),
                _ => format!("cloudtrail:{op}"),
            };
            if infra.denied(&account, &action) {
                let resource = secret_id(&body).unwrap_or_else(|| "*".into());
                Err(ApiError::client(
                    "AccessDeniedException",
                    not_authorized(&caller, &action, Some(&resource)),
                ))
            } else if matches!(service, Service::SecretsManager(_)) {
                inner.dispatch(op, &body)
            } else {
                cloudtrail::dispatch(&inner.store(), op, &body, inner.clock.now_ms())
            }
        }
        Service::Unknown(_) | Service::Sts => unreachable!("answered above"),
    };
    let resp = match result {
        Ok(v) => {
            tracing::debug!(?service, status = 200, "demo endpoint request");
            json_ok(v)
        }
        Err(e) => {
            tracing::info!(
                ?service,
                status = e.status.as_u16(),
                code = e.code,
                "demo endpoint request failed"
            );
            e.into_response()
        }
    };
    with_request_id(resp)
}

/// Answers Lambda's GetFunction (`policy` false) or GetPolicy.
pub(crate) async fn serve_lambda(
    inner: Arc<Inner>,
    headers: HeaderMap,
    function: String,
    policy: bool,
    qualifier: Option<String>,
) -> Response {
    let scope = scope(&headers).unwrap_or_default();
    let region = if scope.region.is_empty() {
        inner.region.clone()
    } else {
        scope.region.clone()
    };
    let caller = caller_arn(Some(&scope.key), &inner.account);
    match gate(&inner).await {
        Gate::Pass => {}
        Gate::Throttle => {
            return infra::lambda::error(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequestsException",
                json!({"Type": "User", "message": "Rate exceeded", "Reason": "CallerRateLimitExceeded"}),
            )
        }
        Gate::ServerError | Gate::Down => {
            return infra::lambda::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServiceException",
                json!({"Type": "Service", "message": "An error occurred on the server side."}),
            )
        }
    }
    infra::lambda::get(
        &inner.infra,
        (&inner.account, &region, &caller),
        &function,
        policy,
        qualifier.as_deref(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(service: &str, form: bool) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            HeaderValue::from_str(&format!(
                "AWS4-HMAC-SHA256 Credential=ASIA210987654321ABCD/20261123/eu-west-1/{service}/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature=00"
            ))
            .unwrap(),
        );
        if form {
            h.insert(
                "content-type",
                HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
            );
        }
        h
    }

    #[test]
    fn the_credential_scope_names_the_service() {
        let s = scope(&signed("ec2", true)).unwrap();
        assert_eq!(
            (s.region.as_str(), s.service.as_str()),
            ("eu-west-1", "ec2")
        );
        assert_eq!(s.key, "ASIA210987654321ABCD");
        assert_eq!(service_of(&signed("ec2", true)), Service::Ec2);
        assert_eq!(service_of(&signed("iam", true)), Service::Iam);
        assert_eq!(service_of(&signed("sts", true)), Service::Sts);
        let mut unsigned_form = HeaderMap::new();
        unsigned_form.insert(
            "content-type",
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        assert_eq!(
            service_of(&unsigned_form),
            Service::Sts,
            "form posts without a scope stay STS's"
        );
        let mut kms = signed("kms", false);
        kms.insert(
            "x-amz-target",
            HeaderValue::from_static("TrentService.DescribeKey"),
        );
        assert_eq!(service_of(&kms), Service::Kms("DescribeKey".into()));
        assert!(scope(&HeaderMap::new()).is_none());
    }
}

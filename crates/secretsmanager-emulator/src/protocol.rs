//! The AWS JSON 1.1 wire format of Secrets Manager: request shapes, errors,
//! timestamps.

use super::seed::{EpochMs, DAY};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Map, Value};

pub(crate) const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// An error as Secrets Manager reports it: HTTP status, `__type` code, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn client(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn secret_not_found() -> Self {
        Self::client(
            "ResourceNotFoundException",
            "Secrets Manager can't find the specified secret.",
        )
    }

    pub fn version_not_found() -> Self {
        Self::client(
            "ResourceNotFoundException",
            "Secrets Manager can't find the specified secret version.",
        )
    }

    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::client("InvalidParameterException", message)
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::client("InvalidRequestException", message)
    }

    /// A model constraint violated (AWS answers these with ValidationException).
    pub fn validation(message: impl Into<String>) -> Self {
        Self::client(
            "ValidationException",
            format!("1 validation error detected: {}", message.into()),
        )
    }

    pub fn marked_for_deletion() -> Self {
        Self::invalid_request(
            "You can't perform this operation on the secret because it was marked for deletion.",
        )
    }

    /// A change asked of a replica. AWS answers it with
    /// InvalidParameterException and this text (as seen from real accounts:
    /// gruntwork-io/cloud-nuke#435 on DeleteSecret,
    /// lgallard/terraform-aws-secrets-manager#188 on PutResourcePolicy);
    /// the user guide: "A replica secret can't be updated independently from
    /// its primary secret, except for its encryption key."
    pub fn replica() -> Self {
        Self::invalid_parameter(
            "Operation not permitted on a replica secret. Call must be made in primary secret's region.",
        )
    }

    /// A string member outside the length range the service model gives it
    /// (`field` as the model's member name, lower camel case).
    pub fn length(field: &str, len: usize, min: usize, max: usize) -> Option<Self> {
        let bound = if len < min {
            format!("greater than or equal to {min}")
        } else if len > max {
            format!("less than or equal to {max}")
        } else {
            return None;
        };
        Some(Self::validation(format!(
            "Value at '{field}' failed to satisfy constraint: Member must have length {bound}"
        )))
    }

    pub fn throttling() -> Self {
        Self::client("ThrottlingException", "Rate exceeded")
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServiceError",
            "An error occurred on the server side.",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "Secrets Manager is temporarily unavailable. Try again later.",
        )
    }

    pub fn serialization(message: impl Into<String>) -> Self {
        Self::client("SerializationException", message)
    }

    pub fn missing(field: &str) -> Self {
        Self::validation(format!(
            "Value null at '{}' failed to satisfy constraint: Member must not be null",
            lower_first(field)
        ))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"__type": self.code, "message": self.message}).to_string();
        let mut resp = (self.status, body).into_response();
        let h = resp.headers_mut();
        h.insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
        h.insert("x-amzn-ErrorType", HeaderValue::from_static(self.code));
        resp
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Parse a request body into its shape; an empty body is `{}`.
pub(crate) fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        // serde's message names the field and type, never a value.
        ApiError::serialization(format!("The request could not be parsed: {e}"))
    })
}

/// Epoch seconds as AWS sends them: a JSON number, fractional when needed.
pub(crate) fn ts(ms: EpochMs) -> Value {
    if ms % 1000 == 0 {
        json!(ms / 1000)
    } else {
        json!(ms as f64 / 1000.0)
    }
}

/// AWS truncates LastAccessedDate to the day.
pub(crate) fn day(ms: EpochMs) -> EpochMs {
    ms.div_euclid(DAY) * DAY
}

/// A JSON object builder that leaves out absent fields, as AWS does.
#[derive(Default)]
pub(crate) struct Obj(pub Map<String, Value>);

impl Obj {
    pub fn new() -> Self {
        Obj(Map::new())
    }
    pub fn set(&mut self, k: &str, v: impl Into<Value>) -> &mut Self {
        self.0.insert(k.to_string(), v.into());
        self
    }
    pub fn opt<V: Into<Value>>(&mut self, k: &str, v: Option<V>) -> &mut Self {
        if let Some(v) = v {
            self.0.insert(k.to_string(), v.into());
        }
        self
    }
    pub fn ts(&mut self, k: &str, v: Option<EpochMs>) -> &mut Self {
        if let Some(v) = v {
            self.0.insert(k.to_string(), ts(v));
        }
        self
    }
    pub fn done(self) -> Value {
        Value::Object(self.0)
    }
}

// ---- request shapes -------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct FilterReq {
    pub key: Option<String>,
    pub values: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct ListSecretsReq {
    pub include_planned_deletion: Option<bool>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
    pub filters: Option<Vec<FilterReq>>,
    pub sort_order: Option<String>,
    pub sort_by: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct SecretIdReq {
    pub secret_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct ListVersionsReq {
    pub secret_id: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
    pub include_deprecated: Option<bool>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct RulesReq {
    pub automatically_after_days: Option<i64>,
    pub duration: Option<String>,
    pub schedule_expression: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct RotateReq {
    pub secret_id: Option<String>,
    pub client_request_token: Option<String>,
    #[serde(rename = "RotationLambdaARN")]
    pub rotation_lambda_arn: Option<String>,
    pub rotation_rules: Option<RulesReq>,
    pub rotate_immediately: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct DeleteReq {
    pub secret_id: Option<String>,
    pub recovery_window_in_days: Option<i64>,
    pub force_delete_without_recovery: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct UpdateStageReq {
    pub secret_id: Option<String>,
    pub version_stage: Option<String>,
    pub move_to_version_id: Option<String>,
    pub remove_from_version_id: Option<String>,
}

/// PutSecretValue. SecretString and SecretBinary are not fields here:
/// serde skips them, so no value is ever kept.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct PutValueReq {
    pub secret_id: Option<String>,
    pub client_request_token: Option<String>,
    pub version_stages: Option<Vec<String>>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct TagReq {
    pub key: Option<String>,
    pub value: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct TagResourceReq {
    pub secret_id: Option<String>,
    pub tags: Option<Vec<TagReq>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct UntagResourceReq {
    pub secret_id: Option<String>,
    pub tag_keys: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct PutPolicyReq {
    pub secret_id: Option<String>,
    pub resource_policy: Option<String>,
    pub block_public_policy: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct ReplicaRegionReq {
    pub region: Option<String>,
    pub kms_key_id: Option<String>,
}

/// CreateSecret. SecretString and SecretBinary are not fields here: serde
/// skips them, so no value is ever kept.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct CreateReq {
    pub name: Option<String>,
    pub description: Option<String>,
    pub kms_key_id: Option<String>,
    pub tags: Option<Vec<TagReq>>,
    pub client_request_token: Option<String>,
    pub add_replica_regions: Option<Vec<ReplicaRegionReq>>,
    #[serde(deserialize_with = "present")]
    pub secret_string: bool,
    #[serde(deserialize_with = "present")]
    pub secret_binary: bool,
}

/// Records only whether a field was sent, dropping its content.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(d)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_epoch_seconds() {
        assert_eq!(ts(1_700_000_000_000).to_string(), "1700000000");
        assert_eq!(ts(1_700_000_000_500).to_string(), "1700000000.5");
        assert_eq!(day(1_700_000_123_456), 1_699_920_000_000);
    }

    #[test]
    fn create_drops_values() {
        let r: CreateReq = parse(br#"{"Name":"a","SecretString":"hunter2"}"#).unwrap();
        assert!(r.secret_string);
        assert!(!r.secret_binary);
        let r: CreateReq = parse(b"").unwrap();
        assert!(r.name.is_none());
        assert!(parse::<CreateReq>(b"{").is_err());
    }
}

//! PutResourcePolicy, and the policy checks ValidateResourcePolicy shares.

use crate::protocol::{ApiError, PutPolicyReq};
use crate::store::checks::{check_len, required};
use crate::store::Store;
use serde_json::{json, Value};

/// A policy statement that allows everyone (`"*"` as principal).
pub(crate) fn is_public(policy: &Value) -> bool {
    let statements: Vec<&Value> = match policy.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    };
    let star = |v: &Value| match v {
        Value::String(s) => s == "*",
        Value::Array(a) => a.iter().any(|x| x.as_str() == Some("*")),
        _ => false,
    };
    statements.iter().any(|s| {
        s.get("Effect").and_then(Value::as_str) == Some("Allow")
            && match s.get("Principal") {
                Some(p @ Value::String(_)) => star(p),
                Some(Value::Object(m)) => m.values().any(star),
                _ => false,
            }
    })
}

impl Store {
    /// The checks PutResourcePolicy makes (and ValidateResourcePolicy reports).
    pub(crate) fn check_policy(text: &str, block_public: bool) -> Result<(), ApiError> {
        let policy: Value = serde_json::from_str(text).map_err(|_| {
            ApiError::client(
                "MalformedPolicyDocumentException",
                "This resource policy contains a syntax error.",
            )
        })?;
        let statements_ok = match policy.get("Statement") {
            Some(Value::Array(a)) => !a.is_empty() && a.iter().all(Value::is_object),
            Some(Value::Object(_)) => true,
            _ => false,
        };
        if !policy.is_object() || !statements_ok {
            return Err(ApiError::client(
                "MalformedPolicyDocumentException",
                "This resource policy contains an unsupported or malformed Statement.",
            ));
        }
        if block_public && is_public(&policy) {
            return Err(ApiError::client(
                "PublicPolicyException",
                "The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.",
            ));
        }
        Ok(())
    }

    pub(crate) fn put_policy(&mut self, req: PutPolicyReq) -> Result<Value, ApiError> {
        let policy_text = required(req.resource_policy, "ResourcePolicy")?;
        check_len("resourcePolicy", Some(&policy_text), 1, 20480)?;
        Self::check_policy(&policy_text, req.block_public_policy == Some(true))?;
        let (_, s) = self.live_mut(req.secret_id)?;
        s.data.resource_policy = Some(policy_text);
        let out = json!({"ARN": s.data.arn, "Name": s.data.name});
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_policies() {
        let p = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        assert!(is_public(&p(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*"}]}"#
        )));
        assert!(is_public(&p(
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":["*"]}}}"#
        )));
        assert!(!is_public(&p(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:role/x"}}]}"#
        )));
        assert!(!is_public(&p(
            r#"{"Statement":[{"Effect":"Deny","Principal":"*"}]}"#
        )));
    }
}

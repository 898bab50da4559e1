//! ValidateResourcePolicy.

use crate::protocol::{ApiError, PutPolicyReq};
use crate::store::checks::{check_len, required};
use crate::store::Store;
use serde_json::{json, Value};

impl Store {
    /// ValidateResourcePolicy: the same checks as PutResourcePolicy, with
    /// broad access reported as a failed check (as Zelkova's verdict is).
    pub(crate) fn validate_policy(&self, req: PutPolicyReq) -> Result<Value, ApiError> {
        let text = required(req.resource_policy, "ResourcePolicy")?;
        check_len("resourcePolicy", Some(&text), 1, 20480)?;
        if let Some(id) = req.secret_id {
            check_len("secretId", Some(&id), 1, 2048)?;
            self.lookup(&id)?;
        }
        Ok(match Self::check_policy(&text, true) {
            Ok(()) => json!({"PolicyValidationPassed": true, "ValidationErrors": []}),
            Err(e) if e.code == "PublicPolicyException" => json!({
                "PolicyValidationPassed": false,
                "ValidationErrors": [{"CheckName": "BLOCK_PUBLIC_POLICY", "ErrorMessage": e.message}],
            }),
            Err(e) => return Err(e),
        })
    }
}

//! DeleteResourcePolicy.

use crate::protocol::{ApiError, SecretIdReq};
use crate::store::Store;
use serde_json::{json, Value};

impl Store {
    pub(crate) fn delete_policy(&mut self, req: SecretIdReq) -> Result<Value, ApiError> {
        let (_, s) = self.live_mut(req.secret_id)?;
        s.data.resource_policy = None;
        let out = json!({"ARN": s.data.arn, "Name": s.data.name});
        Ok(out)
    }
}

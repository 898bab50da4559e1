//! RestoreSecret.

use crate::protocol::{ApiError, SecretIdReq};
use crate::seed::EpochMs;
use crate::store::Store;
use serde_json::{json, Value};

impl Store {
    pub(crate) fn restore(&mut self, req: SecretIdReq, now: EpochMs) -> Result<Value, ApiError> {
        let seq = self.changeable(req.secret_id)?;
        let s = self.get_mut(seq);
        if s.data.deleted.is_none() {
            return Err(ApiError::invalid_request(
                "You can't restore the secret because it isn't scheduled for deletion.",
            ));
        }
        s.data.deleted = None;
        s.data.deletion_date = None;
        s.data.last_changed = Some(now);
        let out = json!({"ARN": s.data.arn, "Name": s.data.name});
        self.touch(seq);
        Ok(out)
    }
}

//! GetResourcePolicy.

use crate::protocol::{ApiError, Obj, SecretIdReq};
use crate::store::checks::secret_id;
use crate::store::Store;
use serde_json::Value;

impl Store {
    pub(crate) fn get_policy(&self, req: SecretIdReq) -> Result<Value, ApiError> {
        let id = secret_id(req.secret_id)?;
        let s = self.get(self.lookup(&id)?);
        if s.data.deleted.is_some() {
            return Err(ApiError::marked_for_deletion());
        }
        let mut o = Obj::new();
        o.set("ARN", s.data.arn.clone())
            .set("Name", s.data.name.clone());
        o.opt("ResourcePolicy", s.data.resource_policy.clone());
        Ok(o.done())
    }
}

//! UntagResource.

use crate::protocol::{ApiError, UntagResourceReq};
use crate::seed::EpochMs;
use crate::store::checks::required_list;
use crate::store::Store;
use serde_json::{json, Value};

impl Store {
    pub(crate) fn untag(&mut self, req: UntagResourceReq, now: EpochMs) -> Result<Value, ApiError> {
        let keys = required_list(req.tag_keys, "TagKeys")?;
        let (seq, s) = self.live_mut(req.secret_id)?;
        s.data.tags.retain(|t| !keys.contains(&t.key));
        s.data.last_changed = Some(now);
        self.touch(seq);
        Ok(json!({}))
    }
}

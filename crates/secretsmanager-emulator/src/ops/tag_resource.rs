//! TagResource.

use crate::protocol::{ApiError, TagResourceReq};
use crate::seed::EpochMs;
use crate::store::checks::{required_list, validate_tags};
use crate::store::Store;
use serde_json::{json, Value};

impl Store {
    pub(crate) fn tag(&mut self, req: TagResourceReq, now: EpochMs) -> Result<Value, ApiError> {
        let tags = validate_tags(&required_list(req.tags, "Tags")?)?;
        let (seq, s) = self.live_mut(req.secret_id)?;
        let mut merged = s.data.tags.clone();
        for t in tags {
            match merged.iter_mut().find(|m| m.key == t.key) {
                Some(m) => m.value = t.value,
                None => merged.push(t),
            }
        }
        if merged.len() > 50 {
            return Err(ApiError::invalid_parameter(
                "A secret can have at most 50 tags.",
            ));
        }
        s.data.tags = merged;
        s.data.last_changed = Some(now);
        self.touch(seq);
        Ok(json!({}))
    }
}

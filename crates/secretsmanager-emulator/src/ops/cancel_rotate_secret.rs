//! CancelRotateSecret.

use crate::protocol::{ApiError, Obj, SecretIdReq};
use crate::rotation::RotationOutcome;
use crate::seed::{EpochMs, AWSPENDING};
use crate::store::{has_label, CancelCall, Store, HISTORY_LIMIT};
use serde_json::Value;

impl Store {
    pub(crate) fn cancel_rotate(
        &mut self,
        req: SecretIdReq,
        now: EpochMs,
    ) -> Result<Value, ApiError> {
        let (seq, s) = self.live_mut(req.secret_id)?;
        if let Some(id) = s.running.take() {
            if let Some(r) = s.history.iter_mut().find(|r| r.id == id) {
                r.outcome = RotationOutcome::Cancelled;
                r.finished = Some(now);
            }
        }
        s.data.rotation_enabled = false;
        s.data.next_rotation = None;
        s.data.last_changed = Some(now);
        let pending = s
            .data
            .versions
            .iter()
            .find(|v| has_label(v, AWSPENDING))
            .map(|v| v.id.clone());
        s.cancels.push(CancelCall {
            at: now,
            version_id: pending.clone(),
        });
        if s.cancels.len() > HISTORY_LIMIT {
            s.cancels.remove(0);
        }
        let mut o = Obj::new();
        o.set("ARN", s.data.arn.clone())
            .set("Name", s.data.name.clone());
        o.opt("VersionId", pending);
        self.touch(seq);
        Ok(o.done())
    }
}

//! DeleteSecret: scheduled deletion, or at once with ForceDeleteWithoutRecovery.

use crate::protocol::{ts, ApiError, DeleteReq};
use crate::rotation::RotationOutcome;
use crate::seed::{EpochMs, DAY};
use crate::store::checks::secret_id;
use crate::store::Store;
use serde_json::{json, Value};

impl Store {
    pub(crate) fn delete(&mut self, req: DeleteReq, now: EpochMs) -> Result<Value, ApiError> {
        let force = req.force_delete_without_recovery.unwrap_or(false);
        if force && req.recovery_window_in_days.is_some() {
            return Err(ApiError::invalid_parameter(
                "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
            ));
        }
        let window = req.recovery_window_in_days.unwrap_or(30);
        if !(7..=30).contains(&window) {
            return Err(ApiError::invalid_parameter(
                "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
            ));
        }
        let id = secret_id(req.secret_id)?;
        let seq = match self.lookup(&id) {
            Ok(seq) => seq,
            // A forced delete of a secret that is not there is not an error.
            Err(_) if force => return Ok(json!({"Name": id, "DeletionDate": ts(now)})),
            Err(e) => return Err(e),
        };
        if self.is_replica(&self.get(seq).data) {
            return Err(ApiError::replica());
        }
        let s = self.get_mut(seq);
        if let Some(service) = &s.data.owning_service {
            return Err(ApiError::invalid_request(format!(
                "You can't delete secret {} because it's managed by {service}. Use {service} to delete it.",
                s.data.name
            )));
        }
        if !s.data.replication.is_empty() {
            return Err(ApiError::invalid_request(format!(
                "You can't delete secret {} because it's replicated to other Regions. Remove its replicas with RemoveRegionsFromReplication first.",
                s.data.name
            )));
        }
        if s.data.deleted.is_some() && !force {
            return Err(ApiError::marked_for_deletion());
        }
        if let Some(rid) = s.running.take() {
            if let Some(r) = s.history.iter_mut().find(|r| r.id == rid) {
                r.outcome = RotationOutcome::Cancelled;
                r.finished = Some(now);
            }
        }
        let (arn, name) = (s.data.arn.clone(), s.data.name.clone());
        let deletion_date = if force {
            self.secrets[seq as usize] = None;
            self.by_name.remove(&name);
            self.by_arn.remove(&arn);
            now
        } else {
            s.data.deleted = Some(now);
            s.data.deletion_date = Some(now + window * DAY);
            now + window * DAY
        };
        self.touch(seq);
        Ok(json!({"ARN": arn, "Name": name, "DeletionDate": ts(deletion_date)}))
    }
}

//! UpdateSecretVersionStage: moving staging labels between versions.

use crate::protocol::{ApiError, UpdateStageReq};
use crate::seed::{EpochMs, VersionData, AWSCURRENT, AWSPREVIOUS};
use crate::store::checks::{check_len, check_version_id, required};
use crate::store::{has_label, Store};
use serde_json::{json, Value};

impl Store {
    pub(crate) fn update_stage(
        &mut self,
        req: UpdateStageReq,
        now: EpochMs,
    ) -> Result<Value, ApiError> {
        let stage = required(req.version_stage, "VersionStage")?;
        check_len("versionStage", Some(&stage), 1, 256)?;
        // The model's SecretVersionIdType (32 to 64 characters), checked
        // before the secret is looked up, as every model constraint is.
        check_version_id("moveToVersionId", req.move_to_version_id.as_deref())?;
        check_version_id("removeFromVersionId", req.remove_from_version_id.as_deref())?;
        let (seq, s) = self.live_mut(req.secret_id)?;
        let versions = &mut s.data.versions;
        let find = |versions: &[VersionData], id: &str| versions.iter().position(|v| v.id == id);
        let holder = versions.iter().position(|v| has_label(v, &stage));
        match (
            req.move_to_version_id.as_deref(),
            req.remove_from_version_id.as_deref(),
        ) {
            (None, None) => {
                return Err(ApiError::invalid_parameter(
                    "You must specify MoveToVersionId, RemoveFromVersionId, or both.",
                ))
            }
            (Some(to), remove_from) => {
                let to_idx = find(versions, to).ok_or_else(ApiError::version_not_found)?;
                if let Some(rf) = remove_from {
                    let rf_idx = find(versions, rf).ok_or_else(ApiError::version_not_found)?;
                    if holder != Some(rf_idx) {
                        return Err(ApiError::invalid_parameter(format!(
                            "The staging label {stage} isn't attached to the version {rf} that you specified in RemoveFromVersionId."
                        )));
                    }
                }
                if holder != Some(to_idx) {
                    if let Some(h) = holder {
                        if remove_from.is_none() {
                            return Err(ApiError::invalid_parameter(format!(
                                "The parameter RemoveFromVersionId can't be empty. Staging label {stage} is currently attached to version {}, so you must explicitly reference that version in RemoveFromVersionId.",
                                versions[h].id
                            )));
                        }
                        versions[h].stages.retain(|l| *l != stage);
                    }
                    versions[to_idx].stages.push(stage.clone());
                    if stage == AWSCURRENT {
                        if let Some(h) = holder {
                            for v in versions.iter_mut() {
                                v.stages.retain(|l| l != AWSPREVIOUS);
                            }
                            versions[h].stages.push(AWSPREVIOUS.to_string());
                        }
                    }
                }
            }
            (None, Some(rf)) => {
                let rf_idx = find(versions, rf).ok_or_else(ApiError::version_not_found)?;
                if holder != Some(rf_idx) {
                    return Err(ApiError::invalid_parameter(format!(
                        "The staging label {stage} isn't attached to the version {rf} that you specified in RemoveFromVersionId."
                    )));
                }
                if stage == AWSCURRENT {
                    return Err(ApiError::invalid_parameter(
                        "You can't remove the staging label AWSCURRENT from a version. Move it to another version with MoveToVersionId instead.",
                    ));
                }
                versions[rf_idx].stages.retain(|l| *l != stage);
            }
        }
        s.data.last_changed = Some(now);
        let out = json!({"ARN": s.data.arn, "Name": s.data.name});
        self.touch(seq);
        Ok(out)
    }
}

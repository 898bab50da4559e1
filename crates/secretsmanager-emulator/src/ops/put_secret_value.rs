//! PutSecretValue (the value itself is dropped: the endpoint holds none).

use crate::protocol::{ApiError, PutValueReq};
use crate::seed::{EpochMs, SecretData, VersionData, AWSCURRENT, AWSPREVIOUS};
use crate::store::checks::{check_len, check_version_id};
use crate::store::{has_label, new_uuid, Store};
use serde_json::{json, Value};

impl Store {
    /// PutSecretValue, for the metadata only: the value is dropped, the
    /// version and its labels are kept. "If you don't include VersionStages,
    /// then Secrets Manager automatically moves the staging label AWSCURRENT
    /// to this version." (PutSecretValue, API reference)
    pub(crate) fn put_value(&mut self, req: PutValueReq, now: EpochMs) -> Result<Value, ApiError> {
        check_version_id("clientRequestToken", req.client_request_token.as_deref())?;
        let stages = req
            .version_stages
            .unwrap_or_else(|| vec![AWSCURRENT.to_string()]);
        if stages.is_empty() || stages.len() > 20 {
            return Err(ApiError::validation(format!(
                "Value at 'versionStages' failed to satisfy constraint: Member must have length {}",
                if stages.is_empty() {
                    "greater than or equal to 1"
                } else {
                    "less than or equal to 20"
                }
            )));
        }
        for stage in &stages {
            check_len("versionStages.member", Some(stage), 1, 256)?;
        }
        let (seq, s) = self.live_mut(req.secret_id)?;
        let id = req.client_request_token.unwrap_or_else(new_uuid);
        let response = |d: &SecretData, stages: &[String]| json!({"ARN": d.arn, "Name": d.name, "VersionId": id, "VersionStages": stages});
        if let Some(v) = s.data.versions.iter().find(|v| v.id == id) {
            // The same token again is the same request (there is no value
            // here to compare).
            return Ok(response(&s.data, &v.stages));
        }
        let versions = &mut s.data.versions;
        let old_current = versions.iter().position(|v| has_label(v, AWSCURRENT));
        for v in versions.iter_mut() {
            v.stages.retain(|l| !stages.contains(l));
        }
        if let Some(old) = old_current.filter(|_| stages.iter().any(|l| l == AWSCURRENT)) {
            for v in versions.iter_mut() {
                v.stages.retain(|l| l != AWSPREVIOUS);
            }
            versions[old].stages.push(AWSPREVIOUS.to_string());
        }
        versions.push(VersionData {
            id: id.clone(),
            stages: stages.clone(),
            created: now,
            last_accessed: None,
        });
        s.data.last_changed = Some(now);
        let out = response(&s.data, &stages);
        self.touch(seq);
        Ok(out)
    }
}

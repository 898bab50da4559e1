//! DescribeSecret, and the secret entry ListSecrets shares with it.

use crate::protocol::{ApiError, Obj, SecretIdReq};
use crate::store::checks::secret_id;
use crate::store::Store;
use serde_json::{json, Value};

impl Store {
    /// A SecretListEntry (ListSecrets) or a DescribeSecret response.
    pub(crate) fn entry(&self, seq: u32, describe: bool) -> Value {
        let d = &self.get(seq).data;
        let mut o = Obj::new();
        o.set("ARN", d.arn.clone()).set("Name", d.name.clone());
        o.opt("Description", d.description.clone());
        o.opt("KmsKeyId", d.kms_key_id.clone());
        o.set("RotationEnabled", d.rotation_enabled);
        o.opt("RotationLambdaARN", d.rotation_lambda_arn.clone());
        if let Some(r) = &d.rotation_rules {
            let mut rules = Obj::new();
            rules.opt("AutomaticallyAfterDays", r.automatically_after_days);
            rules.opt("Duration", r.duration.clone());
            rules.opt("ScheduleExpression", r.schedule_expression.clone());
            o.set("RotationRules", rules.done());
        }
        o.ts("LastRotatedDate", d.last_rotated);
        o.ts("LastChangedDate", d.last_changed);
        o.ts(
            "LastAccessedDate",
            d.last_accessed.map(crate::protocol::day),
        );
        o.ts("DeletedDate", d.deleted);
        o.ts("NextRotationDate", d.next_rotation);
        if !d.tags.is_empty() {
            o.set(
                "Tags",
                Value::Array(
                    d.tags
                        .iter()
                        .map(|t| json!({"Key": t.key, "Value": t.value}))
                        .collect(),
                ),
            );
        }
        let stages: serde_json::Map<String, Value> = d
            .versions
            .iter()
            .filter(|v| !v.stages.is_empty())
            .map(|v| (v.id.clone(), json!(v.stages)))
            .collect();
        o.set(
            if describe {
                "VersionIdsToStages"
            } else {
                "SecretVersionsToStages"
            },
            Value::Object(stages),
        );
        o.opt("OwningService", d.owning_service.clone());
        o.ts("CreatedDate", Some(d.created));
        o.opt("PrimaryRegion", d.primary_region.clone());
        if describe && !d.replication.is_empty() {
            let replicas: Vec<Value> = d
                .replication
                .iter()
                .map(|r| {
                    let mut ro = Obj::new();
                    ro.set("Region", r.region.clone());
                    ro.opt("KmsKeyId", r.kms_key_id.clone());
                    ro.set("Status", r.status.as_str());
                    ro.opt("StatusMessage", r.status_message.clone());
                    ro.ts(
                        "LastAccessedDate",
                        r.last_accessed.map(crate::protocol::day),
                    );
                    ro.done()
                })
                .collect();
            o.set("ReplicationStatus", Value::Array(replicas));
        }
        o.done()
    }

    pub(crate) fn describe(&self, req: SecretIdReq) -> Result<Value, ApiError> {
        let id = secret_id(req.secret_id)?;
        let seq = self.lookup(&id)?;
        Ok(self.entry(seq, true))
    }
}

//! CreateSecret (the value itself is dropped: the endpoint holds none).

use crate::protocol::{ApiError, CreateReq, Obj};
use crate::seed::{EpochMs, Replica, ReplicaStatus, SecretData, VersionData, AWSCURRENT};
use crate::store::checks::{check_version_id, name_allowed, required, validate_tags};
use crate::store::{new_uuid, random_suffix, Secret, Store};
use serde_json::{json, Value};

impl Store {
    pub(crate) fn create(&mut self, req: CreateReq, now: EpochMs) -> Result<Value, ApiError> {
        let name = required(req.name, "Name")?;
        if !name_allowed(&name) {
            return Err(ApiError::invalid_parameter(
                "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!",
            ));
        }
        if req
            .description
            .as_ref()
            .is_some_and(|d| d.chars().count() > 2048)
        {
            return Err(ApiError::validation(
                "Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 2048",
            ));
        }
        check_version_id("clientRequestToken", req.client_request_token.as_deref())?;
        let tags = validate_tags(req.tags.as_deref().unwrap_or(&[]))?;
        if tags.len() > 50 {
            return Err(ApiError::invalid_parameter(
                "A secret can have at most 50 tags.",
            ));
        }
        if let Some(&seq) = self.by_name.get(&name) {
            let s = self.get(seq);
            if s.data.deleted.is_some() {
                return Err(ApiError::invalid_request(
                    "You can't create this secret because a secret with this name is already scheduled for deletion.",
                ));
            }
            if let Some(t) = &req.client_request_token {
                if s.data.versions.iter().any(|v| &v.id == t) {
                    return Ok(json!({"ARN": s.data.arn, "Name": s.data.name, "VersionId": t}));
                }
            }
            return Err(ApiError::client(
                "ResourceExistsException",
                format!("The operation failed because the secret {name} already exists."),
            ));
        }
        let kms_key_id = req
            .kms_key_id
            .filter(|k| k != "alias/aws/secretsmanager" && !k.is_empty());
        let arn = format!(
            "arn:aws:secretsmanager:{}:{}:secret:{name}-{}",
            self.region,
            self.account,
            random_suffix()
        );
        let version_id =
            if req.client_request_token.is_some() || req.secret_string || req.secret_binary {
                Some(req.client_request_token.unwrap_or_else(new_uuid))
            } else {
                None
            };
        let mut replication = Vec::new();
        for r in req.add_replica_regions.unwrap_or_default() {
            let region = r
                .region
                .ok_or_else(|| ApiError::missing("AddReplicaRegions.member.Region"))?;
            replication.push(Replica {
                region,
                kms_key_id: Some(
                    r.kms_key_id
                        .unwrap_or_else(|| "alias/aws/secretsmanager".to_string()),
                ),
                status: ReplicaStatus::InSync,
                status_message: Some("Replication succeeded".to_string()),
                last_accessed: None,
            });
        }
        let data = SecretData {
            name: name.clone(),
            arn: arn.clone(),
            description: req.description,
            kms_key_id,
            rotation_enabled: false,
            rotation_lambda_arn: None,
            rotation_rules: None,
            last_rotated: None,
            last_changed: Some(now),
            last_accessed: None,
            deleted: None,
            deletion_date: None,
            next_rotation: None,
            tags,
            versions: version_id
                .iter()
                .map(|id| VersionData {
                    id: id.clone(),
                    stages: vec![AWSCURRENT.to_string()],
                    created: now,
                    last_accessed: None,
                })
                .collect(),
            owning_service: None,
            created: now,
            primary_region: Some(self.region.clone()),
            replication,
            resource_policy: None,
        };
        let mut out = Obj::new();
        out.set("ARN", arn).set("Name", name);
        out.opt("VersionId", version_id);
        if !data.replication.is_empty() {
            out.set(
                "ReplicationStatus",
                Value::Array(
                    data.replication
                        .iter()
                        .map(|r| json!({"Region": r.region, "KmsKeyId": r.kms_key_id, "Status": r.status.as_str()}))
                        .collect(),
                ),
            );
        }
        let seq = self.insert(Secret::new(data, Vec::new()));
        self.touch(seq);
        Ok(out.done())
    }
}

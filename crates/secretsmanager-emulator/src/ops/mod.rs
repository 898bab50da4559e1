//! One file per Secrets Manager operation, each an `impl Store` block with
//! the operation's method (the dispatch table is [`Inner::dispatch`]).

mod cancel_rotate_secret;
mod create_secret;
mod delete_resource_policy;
mod delete_secret;
mod describe_secret;
mod get_resource_policy;
pub(crate) mod list_secret_version_ids;
pub(crate) mod list_secrets;
pub(crate) mod put_resource_policy;
mod put_secret_value;
mod restore_secret;
pub(crate) mod rotate_secret;
mod tag_resource;
mod untag_resource;
mod update_secret_version_stage;
mod validate_resource_policy;

use crate::protocol::{parse, ApiError};
use crate::{rotation, Inner};
use serde_json::Value;
use std::sync::Arc;

impl Inner {
    /// Runs Secrets Manager operation `op` on request `body`.
    pub(crate) fn dispatch(self: &Arc<Self>, op: &str, body: &[u8]) -> Result<Value, ApiError> {
        let now = self.clock.now_ms();
        let out = self.run(op, body, now)?;
        if let Some(name) = crate::cloudtrail::writes::event_name(op) {
            self.store_mut().record_write(name, body, &out, now);
        }
        Ok(out)
    }

    fn run(self: &Arc<Self>, op: &str, body: &[u8], now: i64) -> Result<Value, ApiError> {
        match op {
            "ListSecrets" => self.store().list_secrets(parse(body)?),
            "DescribeSecret" => self.store().describe(parse(body)?),
            "ListSecretVersionIds" => self.store().list_versions(parse(body)?),
            "GetResourcePolicy" => self.store().get_policy(parse(body)?),
            "PutResourcePolicy" => self.store_mut().put_policy(parse(body)?),
            "DeleteResourcePolicy" => self.store_mut().delete_policy(parse(body)?),
            "ValidateResourcePolicy" => self.store().validate_policy(parse(body)?),
            "RotateSecret" => {
                let (out, job) = self.store_mut().rotate(parse(body)?, now)?;
                if let Some((seq, rotation_id)) = job {
                    tokio::spawn(rotation::run(self.clone(), seq, rotation_id));
                }
                Ok(out)
            }
            "CancelRotateSecret" => self.store_mut().cancel_rotate(parse(body)?, now),
            "DeleteSecret" => self.store_mut().delete(parse(body)?, now),
            "RestoreSecret" => self.store_mut().restore(parse(body)?, now),
            "UpdateSecretVersionStage" => self.store_mut().update_stage(parse(body)?, now),
            "TagResource" => self.store_mut().tag(parse(body)?, now),
            "UntagResource" => self.store_mut().untag(parse(body)?, now),
            "CreateSecret" => self.store_mut().create(parse(body)?, now),
            "PutSecretValue" => self.store_mut().put_value(parse(body)?, now),
            "GetSecretValue" | "BatchGetSecretValue" => Err(ApiError::invalid_request(
                "The secretscope demo endpoint holds no secret values, so it does not implement GetSecretValue.",
            )),
            _ => Err(ApiError::client(
                "UnknownOperationException",
                format!("The operation {op} is not supported by the secretscope demo endpoint."),
            )),
        }
    }
}

//! The rotation Lambda: GetFunction (configuration and tags; of its
//! environment only `SECRETS_MANAGER_ENDPOINT`) and GetPolicy (who may
//! invoke it), with the client of the function's own region.

use super::{present, region_of, Diagnoser, Op, Place};
use crate::domain::diagnosis::{LambdaFacts, Read, VpcConfig};
use crate::domain::Timestamp;
use aws_sdk_lambda::operation::get_function::GetFunctionOutput;

/// The one environment variable read: the AWS rotation templates call
/// Secrets Manager at it.
pub const ENDPOINT_VARIABLE: &str = "SECRETS_MANAGER_ENDPOINT";

impl Diagnoser {
    /// GetFunction of `arn`, then (when found) GetPolicy into its `policy`.
    pub(super) async fn lambda(&self, at: Place<'_>, arn: &str) -> Read<LambdaFacts> {
        let region = region_of(arn).unwrap_or(&at.source.region);
        let clients = self.clients(at.source, region);
        let key = at.key(region, arn);
        let function = self
            .functions
            .get(&key, || async {
                let request = clients.lambda.get_function().function_name(arn);
                match self
                    .call(Op::GetFunction, at.account, region, request.send())
                    .await
                {
                    Ok(out) => Read::Found(lambda_facts(arn, &out)),
                    Err(miss) => miss,
                }
            })
            .await;
        let Read::Found(mut function) = function else {
            return function;
        };
        function.policy = self
            .function_policies
            .get(&key, || async {
                let request = clients.lambda.get_policy().function_name(arn);
                match self
                    .call(Op::GetPolicy, at.account, region, request.send())
                    .await
                {
                    Ok(out) => present(out.policy()),
                    Err(miss) => miss,
                }
            })
            .await;
        Read::Found(function)
    }
}

/// What the diagnosis keeps of GetFunction's answer. The rest (other
/// environment variables, the code's download URL) is dropped here and
/// never logged.
pub fn lambda_facts(arn: &str, out: &GetFunctionOutput) -> LambdaFacts {
    let c = out.configuration();
    let vpc = c.and_then(|c| c.vpc_config()).and_then(|v| {
        let vpc_id = v.vpc_id().filter(|id| !id.is_empty())?;
        Some(VpcConfig {
            vpc_id: vpc_id.to_string(),
            subnet_ids: v.subnet_ids().to_vec(),
            security_group_ids: v.security_group_ids().to_vec(),
        })
    });
    let mut tags: Vec<(String, String)> = out
        .tags()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    tags.sort();
    LambdaFacts {
        arn: c.and_then(|c| c.function_arn()).unwrap_or(arn).to_string(),
        runtime: c.and_then(|c| c.runtime()).map(|r| r.as_str().to_string()),
        timeout: c
            .and_then(|c| c.timeout())
            .and_then(|t| u32::try_from(t).ok()),
        last_modified: c.and_then(|c| c.last_modified()).and_then(lambda_time),
        role: c.and_then(|c| c.role()).map(str::to_string),
        vpc,
        secrets_manager_endpoint: c
            .and_then(|c| c.environment())
            .and_then(|e| e.variables())
            .and_then(|v| v.get(ENDPOINT_VARIABLE))
            .cloned(),
        tags,
        policy: Read::default(),
    }
}

/// Lambda's `LastModified`: `2024-03-01T12:34:56.789+0000` (or RFC 3339).
pub fn lambda_time(s: &str) -> Option<Timestamp> {
    chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(s))
        .ok()
        .map(|d| Timestamp::new(d.timestamp()))
}

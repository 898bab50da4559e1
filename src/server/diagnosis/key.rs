//! The secret's KMS key: DescribeKey (of the key id, ARN or alias the
//! secret names, or `alias/aws/secretsmanager`), and for a customer
//! managed key its `default` policy (GetKeyPolicy) and grants (ListGrants).

use super::{region_of, Diagnoser, Op, Place, MAX_PAGES};
use crate::domain::diagnosis::{Grant, KeyFacts, Read};
use crate::domain::Secret;
use crate::server::aws::sync::ts;
use aws_sdk_kms::types::{KeyManagerType, KeyMetadata};

/// The key of a secret that names none.
pub const DEFAULT_KEY: &str = "alias/aws/secretsmanager";

const AWS_MANAGED: &str = "not read: AWS manages the policy and grants of an AWS managed key";

impl Diagnoser {
    pub(super) async fn key(&self, at: Place<'_>, secret: &Secret) -> Read<KeyFacts> {
        let id = secret.kms_key_id.as_deref().unwrap_or(DEFAULT_KEY);
        let region = region_of(id).unwrap_or(&secret.region);
        let clients = self.clients(at.source, region);
        let kms = &clients.kms;
        let described = self
            .keys
            .get(&at.key(region, id), || async {
                let request = kms.describe_key().key_id(id);
                match self
                    .call(Op::DescribeKey, at.account, region, request.send())
                    .await
                {
                    Ok(out) => match out.key_metadata() {
                        Some(meta) => Read::Found(key_facts(meta)),
                        None => Read::NotFound,
                    },
                    Err(miss) => miss,
                }
            })
            .await;
        let Read::Found(mut key) = described else {
            return described;
        };
        if key.managed_by_aws {
            key.policy = Read::Failed {
                message: AWS_MANAGED.into(),
            };
            key.grants = Read::Failed {
                message: AWS_MANAGED.into(),
            };
            return Read::Found(key);
        }
        let arn = key.arn.clone();
        let cache_key = at.key(region, &arn);
        let policy = self.key_policies.get(&cache_key, || async {
            let request = kms.get_key_policy().key_id(&arn).policy_name("default");
            match self
                .call(Op::GetKeyPolicy, at.account, region, request.send())
                .await
            {
                Ok(out) => super::present(out.policy()),
                Err(miss) => miss,
            }
        });
        let grants = self.grants.get(&cache_key, || async {
            let mut out = Vec::new();
            let mut marker: Option<String> = None;
            for _ in 0..MAX_PAGES {
                let request = kms
                    .list_grants()
                    .key_id(&arn)
                    .limit(100)
                    .set_marker(marker.take());
                let page = match self
                    .call(Op::ListGrants, at.account, region, request.send())
                    .await
                {
                    Ok(page) => page,
                    Err(miss) => return miss,
                };
                out.extend(page.grants().iter().map(|g| {
                    Grant {
                        grantee: g.grantee_principal().unwrap_or_default().to_string(),
                        operations: g
                            .operations()
                            .iter()
                            .map(|o| o.as_str().to_string())
                            .collect(),
                    }
                }));
                marker = page
                    .next_marker()
                    .filter(|_| page.truncated())
                    .map(str::to_string);
                if marker.is_none() {
                    break;
                }
            }
            Read::Found(out)
        });
        (key.policy, key.grants) = tokio::join!(policy, grants);
        Read::Found(key)
    }
}

/// What the diagnosis keeps of DescribeKey's answer (its policy and grants
/// are read after).
pub fn key_facts(meta: &KeyMetadata) -> KeyFacts {
    KeyFacts {
        arn: meta.arn().unwrap_or(meta.key_id()).to_string(),
        state: meta
            .key_state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        managed_by_aws: meta.key_manager() == Some(&KeyManagerType::Aws),
        deletion_date: ts(meta.deletion_date()),
        policy: Read::default(),
        grants: Read::default(),
    }
}

//! KMS (AWS JSON 1.1, `X-Amz-Target: TrentService.<Operation>`):
//! DescribeKey, GetKeyPolicy and ListGrants, over the keys of each account
//! × region: the AWS managed `aws/secretsmanager` key, the customer managed
//! keys the seed's secrets use (Enabled, their policy delegating to the
//! account root), and the special keys of [`SpecialKey`] (KeyAdmin only,
//! Disabled, PendingDeletion), reachable by their aliases too.

use super::names::{fnv, parse_arn, role_arn, SpecialKey, BACKUP_ROLE, KEY_ADMIN_ROLE};
use super::{not_authorized, policy, Infra};
use crate::protocol::{parse, ts, ApiError, Obj};
use crate::seed::{EpochMs, DAY};
use serde::Deserialize;
use serde_json::{json, Value};

/// The JSON 1.1 target prefix of KMS.
pub(crate) const TARGET_PREFIX: &str = "TrentService.";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// One of the seed's customer managed keys.
    Customer,
    Special(SpecialKey),
}

/// A KMS key as DescribeKey, GetKeyPolicy and ListGrants show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    pub id: String,
    pub arn: String,
    pub account: String,
    pub region: String,
    pub kind: KeyKind,
}

/// The policy AWS gives a new key: the account root may do everything, so
/// the account's IAM policies decide.
fn root_delegation(account: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
            "Action": "kms:*",
            "Resource": "*"
        }]
    })
}

impl Key {
    fn special(k: SpecialKey, account: &str, region: &str) -> Key {
        Key {
            id: k.key_id(account, region),
            arn: k.arn(account, region),
            account: account.to_string(),
            region: region.to_string(),
            kind: KeyKind::Special(k),
        }
    }

    pub fn state(&self) -> &'static str {
        match self.kind {
            KeyKind::Special(SpecialKey::Disabled) => "Disabled",
            KeyKind::Special(SpecialKey::PendingDeletion) => "PendingDeletion",
            _ => "Enabled",
        }
    }

    pub fn aws_managed(&self) -> bool {
        self.kind == KeyKind::Special(SpecialKey::AwsManaged)
    }

    /// When a key pending deletion is deleted: 20 days after the seed's
    /// clock (its 30-day window began 10 days before).
    pub fn deletion_date(&self, now: EpochMs) -> Option<EpochMs> {
        (self.state() == "PendingDeletion").then_some(now + 20 * DAY)
    }

    fn description(&self) -> &'static str {
        match self.kind {
            KeyKind::Customer => "",
            KeyKind::Special(SpecialKey::AwsManaged) => {
                "Default key that protects my Secrets Manager data when no other key is defined"
            }
            KeyKind::Special(SpecialKey::KeyAdminOnly) => {
                "Rotation secrets (key administrators only)"
            }
            KeyKind::Special(SpecialKey::Disabled) => "Retired team key",
            KeyKind::Special(SpecialKey::PendingDeletion) => "Old rotation key",
        }
    }

    /// Its key policy (`default`).
    pub fn policy(&self) -> String {
        let (account, region) = (&self.account, &self.region);
        let doc = match self.kind {
            KeyKind::Special(SpecialKey::AwsManaged) => {
                let via = format!("secretsmanager.{region}.amazonaws.com");
                let sid = "Allow access through AWS Secrets Manager for all principals in the \
                           account that are authorized to use AWS Secrets Manager";
                json!({
                    "Version": "2012-10-17",
                    "Id": "auto-secretsmanager-2",
                    "Statement": [
                        {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": "*"},
                         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:CreateGrant", "kms:DescribeKey"],
                         "Resource": "*",
                         "Condition": {"StringEquals": {"kms:CallerAccount": account, "kms:ViaService": via}}},
                        {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": "*"},
                         "Action": "kms:GenerateDataKey*", "Resource": "*",
                         "Condition": {"StringEquals": {"kms:CallerAccount": account},
                                       "StringLike": {"kms:ViaService": via}}},
                        {"Sid": "Allow direct access to key metadata to the account", "Effect": "Allow",
                         "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
                         "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
                         "Resource": "*"}
                    ]
                })
            }
            KeyKind::Special(SpecialKey::KeyAdminOnly) => json!({
                "Version": "2012-10-17",
                "Id": "key-consolepolicy-3",
                "Statement": [{
                    "Sid": "Allow access for Key Administrators",
                    "Effect": "Allow",
                    "Principal": {"AWS": role_arn(account, KEY_ADMIN_ROLE)},
                    "Action": "kms:*",
                    "Resource": "*"
                }]
            }),
            _ => root_delegation(account),
        };
        doc.to_string()
    }

    /// Its grants: (grant id, grantee, operations).
    pub fn grants(&self) -> Vec<(String, String, Vec<&'static str>)> {
        match self.kind {
            KeyKind::Special(SpecialKey::KeyAdminOnly) => vec![(
                format!(
                    "{:016x}{:016x}",
                    fnv(&self.arn),
                    fnv(&format!("{}#g", self.arn))
                ),
                role_arn(&self.account, BACKUP_ROLE),
                vec!["Decrypt", "DescribeKey"],
            )],
            _ => Vec::new(),
        }
    }

    /// True when the role `role` (session `session`), whose IAM policies
    /// allow `kms:Decrypt` when `iam_allows`, may decrypt with this key: the
    /// key policy names it or delegates to the account, or a grant names it.
    /// The AWS managed key lets every principal of the account decrypt
    /// through Secrets Manager.
    pub fn lets_decrypt(&self, role: &str, session: &str, iam_allows: bool) -> bool {
        if self.aws_managed() {
            return true;
        }
        let by_policy = policy::statements(&self.policy()).iter().any(|s| {
            !s.deny
                && !s.opaque_condition
                && s.covers_action("kms:Decrypt")
                && (s.names(role)
                    || s.names(session)
                    || (iam_allows && s.delegates_to(&self.account)))
        });
        by_policy
            || self
                .grants()
                .iter()
                .any(|(_, g, ops)| (g == role || g == session) && ops.contains(&"Decrypt"))
    }

    fn metadata(&self, now: EpochMs) -> Value {
        let created = now - 800 * DAY - (fnv(&self.arn) % (300 * DAY) as u64) as i64;
        let mut o = Obj::new();
        o.set("AWSAccountId", self.account.clone())
            .set("KeyId", self.id.clone())
            .set("Arn", self.arn.clone())
            .set("CreationDate", ts(created / 1000 * 1000))
            .set("Enabled", self.state() == "Enabled")
            .set("Description", self.description())
            .set("KeyUsage", "ENCRYPT_DECRYPT")
            .set("KeyState", self.state())
            .set("Origin", "AWS_KMS")
            .set(
                "KeyManager",
                if self.aws_managed() {
                    "AWS"
                } else {
                    "CUSTOMER"
                },
            )
            .set("CustomerMasterKeySpec", "SYMMETRIC_DEFAULT")
            .set("KeySpec", "SYMMETRIC_DEFAULT")
            .set("EncryptionAlgorithms", json!(["SYMMETRIC_DEFAULT"]))
            .set("MultiRegion", false)
            .ts("DeletionDate", self.deletion_date(now));
        if self.state() == "PendingDeletion" {
            o.set("PendingDeletionWindowInDays", 30);
        }
        o.done()
    }
}

impl Infra {
    /// The key `key_ref` names (key id, key ARN, and with `aliases` an alias
    /// name or alias ARN), a bare id or alias being `account` × `region`'s.
    pub(crate) fn key(
        &self,
        account: &str,
        region: &str,
        key_ref: &str,
        aliases: bool,
    ) -> Option<Key> {
        let (acct, reg, rest) = match parse_arn(key_ref) {
            Some(a) if a.service == "kms" => (a.account, a.region, a.resource),
            Some(_) => return None,
            None => (account, region, key_ref),
        };
        if let Some(alias) = rest.strip_prefix("alias/") {
            return SpecialKey::ALL
                .into_iter()
                .filter(|_| aliases)
                .find(|k| k.alias() == alias)
                .map(|k| Key::special(k, acct, reg));
        }
        let id = rest.strip_prefix("key/").unwrap_or(rest);
        if let Some(k) = SpecialKey::ALL
            .into_iter()
            .find(|k| k.key_id(acct, reg) == id)
        {
            return Some(Key::special(k, acct, reg));
        }
        self.keys
            .contains(&(acct.to_string(), reg.to_string(), id.to_string()))
            .then(|| Key {
                id: id.to_string(),
                arn: format!("arn:aws:kms:{reg}:{acct}:key/{id}"),
                account: acct.to_string(),
                region: reg.to_string(),
                kind: KeyKind::Customer,
            })
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct KeyReq {
    key_id: Option<String>,
    policy_name: Option<String>,
    grant_id: Option<String>,
    grantee_principal: Option<String>,
}

fn not_found(account: &str, region: &str, key_ref: &str) -> ApiError {
    let message = match key_ref.strip_prefix("alias/") {
        Some(alias) => {
            format!("Alias 'arn:aws:kms:{region}:{account}:alias/{alias}' is not found.")
        }
        None if key_ref.starts_with("arn:") => format!("Key '{key_ref}' does not exist"),
        None => format!("Key 'arn:aws:kms:{region}:{account}:key/{key_ref}' does not exist"),
    };
    ApiError::client("NotFoundException", message)
}

/// One KMS request of `caller` in `account` × `region`.
pub(crate) fn dispatch(
    infra: &Infra,
    (account, region, caller): (&str, &str, &str),
    op: &str,
    body: &[u8],
) -> Result<Value, ApiError> {
    if !matches!(op, "DescribeKey" | "GetKeyPolicy" | "ListGrants") {
        return Err(ApiError::client(
            "UnknownOperationException",
            format!("The operation {op} is not supported by the secretscope demo endpoint."),
        ));
    }
    let req: KeyReq = parse(body)?;
    let Some(key_ref) = req.key_id.filter(|k| !k.is_empty()) else {
        return Err(ApiError::missing("KeyId"));
    };
    let key = infra
        .key(account, region, &key_ref, op == "DescribeKey")
        .filter(|k| k.account == account && k.region == region);
    let action = format!("kms:{op}");
    if infra.denied(account, &action) {
        let resource = key.as_ref().map_or_else(
            || format!("arn:aws:kms:{region}:{account}:key/{key_ref}"),
            |k| k.arn.clone(),
        );
        return Err(ApiError::client(
            "AccessDeniedException",
            not_authorized(caller, &action, Some(&resource)),
        ));
    }
    let key = key.ok_or_else(|| not_found(account, region, &key_ref))?;
    match op {
        "DescribeKey" => Ok(json!({"KeyMetadata": key.metadata(infra.now())})),
        "GetKeyPolicy" => {
            let name = req.policy_name.unwrap_or_else(|| "default".into());
            if name != "default" {
                return Err(ApiError::client(
                    "NotFoundException",
                    format!("Policy '{name}' does not exist"),
                ));
            }
            Ok(json!({"Policy": key.policy(), "PolicyName": "default"}))
        }
        _ => {
            let grants: Vec<Value> = key
                .grants()
                .into_iter()
                .filter(|(id, _, _)| req.grant_id.as_ref().is_none_or(|g| g == id))
                .filter(|(_, who, _)| req.grantee_principal.as_ref().is_none_or(|g| g == who))
                .map(|(id, who, ops)| {
                    json!({
                        "KeyId": key.arn,
                        "GrantId": id,
                        "Name": "",
                        "CreationDate": ts(infra.now() / 1000 * 1000 - 200 * DAY),
                        "GranteePrincipal": who,
                        "IssuingAccount": format!("arn:aws:iam::{account}:root"),
                        "Operations": ops,
                    })
                })
                .collect();
            Ok(json!({"Grants": grants, "Truncated": false}))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "123456789012";
    const R: &str = "us-east-1";

    #[test]
    fn keys_by_id_arn_and_alias() {
        let infra = Infra::new(1_760_000_000_000);
        let by_alias = infra.key(A, R, "alias/aws/secretsmanager", true).unwrap();
        assert!(by_alias.aws_managed());
        assert_eq!(by_alias.id, SpecialKey::AwsManaged.key_id(A, R));
        assert!(infra.key(A, R, "alias/aws/secretsmanager", false).is_none());
        let disabled = infra
            .key(A, R, &SpecialKey::Disabled.arn(A, R), false)
            .unwrap();
        assert_eq!(disabled.state(), "Disabled");
        let pending = infra
            .key(A, R, "alias/rotation-pending-deletion", true)
            .unwrap();
        assert_eq!(pending.deletion_date(0), Some(20 * DAY));
        assert!(infra
            .key(A, R, "0b2c6c4e-0000-4000-8000-000000000000", false)
            .is_none());
        let admin = infra
            .key(A, R, &SpecialKey::KeyAdminOnly.key_id(A, R), false)
            .unwrap();
        let role = format!("arn:aws:iam::{A}:role/SecretsManagerRotation-payments");
        let session = format!("arn:aws:sts::{A}:assumed-role/SecretsManagerRotation-payments/f");
        assert!(!admin.lets_decrypt(&role, &session, true));
        assert!(admin.lets_decrypt(&role_arn(A, KEY_ADMIN_ROLE), &session, false));
        assert!(admin.lets_decrypt(&role_arn(A, BACKUP_ROLE), &session, false));
        assert!(
            disabled.lets_decrypt(&role, &session, true),
            "the policy delegates"
        );
        assert!(!disabled.lets_decrypt(&role, &session, false));
    }
}

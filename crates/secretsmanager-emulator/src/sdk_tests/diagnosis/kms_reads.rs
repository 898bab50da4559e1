//! KMS DescribeKey, GetKeyPolicy and ListGrants through `aws-sdk-kms`.

use super::*;
use crate::infra::names::SpecialKey;
use kms::types::{KeyManagerType, KeyState};

fn policy_of(out: &kms::operation::get_key_policy::GetKeyPolicyOutput) -> serde_json::Value {
    serde_json::from_str(out.policy().unwrap()).unwrap()
}

/// "Provides detailed information about a KMS key." (DescribeKey, KMS API
/// reference); KeyId may be "Key ID", "Key ARN", "Alias name" or "Alias
/// ARN". The AWS managed `aws/secretsmanager` key is KeyManager AWS; the
/// seed's customer managed keys are CUSTOMER, Enabled, and their policy
/// ("Gets a key policy attached to the specified KMS key." — GetKeyPolicy)
/// delegates to the account root.
#[tokio::test]
async fn describe_key_answers_the_default_and_the_customer_keys() {
    let ep = start(300).await;
    let c = clients(&ep).await;
    let plan = ep.endpoint.plan();
    let default = c
        .kms
        .describe_key()
        .key_id("alias/aws/secretsmanager")
        .send()
        .await
        .unwrap();
    let m = default.key_metadata().unwrap();
    assert_eq!(m.key_manager(), Some(&KeyManagerType::Aws));
    assert_eq!(m.key_state(), Some(&KeyState::Enabled));
    assert!(m.enabled());
    let alias_arn = format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/secretsmanager");
    let same = c.kms.describe_key().key_id(alias_arn).send().await.unwrap();
    assert_eq!(same.key_metadata().unwrap().key_id(), m.key_id());
    let by_id = c
        .kms
        .describe_key()
        .key_id(m.key_id())
        .send()
        .await
        .unwrap();
    assert_eq!(by_id.key_metadata().unwrap().arn(), m.arn());

    let healthy = pick(&plan, |p| {
        p.lambda_behaviour == Some(LambdaBehaviour::Ok) && !p.kms_default
    });
    let key = ep
        .endpoint
        .secret_data(&healthy.name)
        .unwrap()
        .kms_key_id
        .unwrap();
    let out = c.kms.describe_key().key_id(&key).send().await.unwrap();
    let m = out.key_metadata().unwrap();
    assert_eq!(m.arn(), Some(key.as_str()));
    assert_eq!(m.key_manager(), Some(&KeyManagerType::Customer));
    assert_eq!(m.key_state(), Some(&KeyState::Enabled));
    assert!(m.deletion_date().is_none());
    let p = policy_of(&c.kms.get_key_policy().key_id(&key).send().await.unwrap());
    assert_eq!(
        p["Statement"][0]["Principal"]["AWS"],
        format!("arn:aws:iam::{ACCOUNT}:root")
    );
    assert_eq!(p["Statement"][0]["Action"], "kms:*");
    let grants = c.kms.list_grants().key_id(&key).send().await.unwrap();
    assert!(grants.grants().is_empty());
    assert!(!grants.truncated());
}

/// The causes' keys: `keydisabled`'s is Disabled; `keypending`'s is
/// PendingDeletion with a DeletionDate ("The date and time after which KMS
/// deletes this KMS key. This value is present only when the KeyState of
/// the KMS key is PendingDeletion." — KeyMetadata); `nokmsaccess`'s policy
/// names only role/KeyAdmin and its one grant ("Gets a list of all grants
/// for the specified KMS key." — ListGrants) is not the rotation role's.
#[tokio::test]
async fn the_misconfigured_keys_show_their_cause() {
    let ep = start(300).await;
    let c = clients(&ep).await;
    let plan = ep.endpoint.plan();
    let key_of = |b: LambdaBehaviour| {
        let p = with_lambda(&plan, b);
        ep.endpoint
            .secret_data(&p.name)
            .unwrap()
            .kms_key_id
            .unwrap()
    };
    let disabled = key_of(LambdaBehaviour::KeyDisabled);
    assert_eq!(disabled, SpecialKey::Disabled.arn(ACCOUNT, REGION));
    let out = c.kms.describe_key().key_id(&disabled).send().await.unwrap();
    let m = out.key_metadata().unwrap();
    assert_eq!(
        (m.key_state(), m.enabled()),
        (Some(&KeyState::Disabled), false)
    );

    let pending = key_of(LambdaBehaviour::KeyPending);
    let out = c.kms.describe_key().key_id(&pending).send().await.unwrap();
    let m = out.key_metadata().unwrap();
    assert_eq!(m.key_state(), Some(&KeyState::PendingDeletion));
    assert!(m.deletion_date().unwrap().secs() > NOW);
    let by_alias = c
        .kms
        .describe_key()
        .key_id("alias/rotation-pending-deletion")
        .send()
        .await
        .unwrap();
    assert_eq!(
        by_alias.key_metadata().unwrap().arn(),
        Some(pending.as_str())
    );

    let admin_only = key_of(LambdaBehaviour::NoKmsAccess);
    let out = c
        .kms
        .describe_key()
        .key_id(&admin_only)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.key_metadata().unwrap().key_state(),
        Some(&KeyState::Enabled)
    );
    let p = policy_of(
        &c.kms
            .get_key_policy()
            .key_id(&admin_only)
            .policy_name("default")
            .send()
            .await
            .unwrap(),
    );
    let principals: Vec<&serde_json::Value> = p["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["Principal"]["AWS"])
        .collect();
    assert_eq!(
        principals,
        [&serde_json::json!(format!(
            "arn:aws:iam::{ACCOUNT}:role/KeyAdmin"
        ))]
    );
    let grants = c
        .kms
        .list_grants()
        .key_id(&admin_only)
        .send()
        .await
        .unwrap();
    let grantees: Vec<_> = grants
        .grants()
        .iter()
        .filter_map(|g| g.grantee_principal())
        .collect();
    assert_eq!(
        grantees,
        [format!("arn:aws:iam::{ACCOUNT}:role/backup-restore")]
    );
    assert!(grants.grants()[0]
        .operations()
        .iter()
        .any(|o| o.as_str() == "Decrypt"));
}

/// NotFoundException: "The request was rejected because the specified
/// entity or resource could not be found." (DescribeKey, Errors).
#[tokio::test]
async fn unknown_keys_are_not_found() {
    let ep = start(40).await;
    let c = clients(&ep).await;
    let unknown =
        format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/0b2c6c4e-1111-4222-8333-444455556666");
    let err = c
        .kms
        .describe_key()
        .key_id(&unknown)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_not_found_exception()),
        "{err:?}"
    );
    assert_eq!(
        err.message(),
        Some(format!("Key '{unknown}' does not exist").as_str())
    );
    let err = c
        .kms
        .describe_key()
        .key_id("alias/nope")
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .is_some_and(|e| e.is_not_found_exception()));
    let err = c
        .kms
        .get_key_policy()
        .key_id(&unknown)
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .is_some_and(|e| e.is_not_found_exception()));
    let err = c
        .kms
        .list_grants()
        .key_id(&unknown)
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .is_some_and(|e| e.is_not_found_exception()));
}

/// A caller refused kms:GetKeyPolicy gets AccessDeniedException naming the
/// action and the key; DescribeKey still answers.
#[tokio::test]
async fn denied_kms_reads_are_access_denied() {
    let ep = start(40).await;
    let c = clients(&ep).await;
    ep.endpoint
        .set_denied_actions(None, &["kms:GetKeyPolicy".to_string()]);
    let key = SpecialKey::Disabled.arn(ACCOUNT, REGION);
    c.kms.describe_key().key_id(&key).send().await.unwrap();
    let (code, status, message) = code_and_status(c.kms.get_key_policy().key_id(&key).send().await);
    assert_eq!((code.as_str(), status), ("AccessDeniedException", 400));
    assert_eq!(
        message,
        format!(
            "User: arn:aws:iam::{ACCOUNT}:user/secretscope-demo is not authorized to perform: \
             kms:GetKeyPolicy on resource: {key} because no identity-based policy allows the \
             kms:GetKeyPolicy action"
        )
    );
}

//! The KMS checks: the secret's key is enabled and not pending deletion;
//! for a customer managed key, its policy or grants let the rotation
//! function's role decrypt and generate data keys; readers in other
//! accounts need a customer managed key.

use super::checks::{
    allows, check, covers, failed, principals, skipped, statements, strings, unread, Ctx,
};
use super::facts::*;
use super::{CauseId, Check, CheckId, Status};

pub(super) fn key_checks(cx: &Ctx) -> Vec<Check> {
    let key_name = cx
        .secret
        .kms_key_id
        .as_deref()
        .unwrap_or("aws/secretsmanager");
    let k = match &cx.facts.key {
        Read::Found(k) => k,
        Read::NotFound => {
            return vec![
                failed(
                    CheckId::KeyState,
                    CauseId::KmsKey,
                    key_name,
                    format!("DescribeKey: no key {key_name}"),
                    "The secret's key is gone: its value cannot be decrypted. Restore the key \
                     if it is still pending deletion, or re-encrypt the secret with another key."
                        .into(),
                ),
                skipped(CheckId::KeyAccess, "needs the key"),
                skipped(CheckId::KeyCrossAccount, "needs the key"),
            ]
        }
        other => {
            let c = unread(CheckId::KeyState, other, "the secret's KMS key").expect("unread");
            return vec![
                c,
                skipped(CheckId::KeyAccess, "needs the key"),
                skipped(CheckId::KeyCrossAccount, "needs the key"),
            ];
        }
    };
    vec![key_state(k), key_access(cx, k), cross_account(cx, k)]
}

fn key_state(k: &KeyFacts) -> Check {
    match k.state.as_str() {
        "Enabled" => check(
            CheckId::KeyState,
            Status::Passed,
            format!("{} is Enabled", k.arn),
        ),
        "PendingDeletion" => failed(
            CheckId::KeyState,
            CauseId::KmsKey,
            &k.arn,
            format!(
                "{} is pending deletion{}: Secrets Manager cannot encrypt or decrypt with it",
                k.arn,
                k.deletion_date
                    .map(|d| format!(" (deleted on {})", d.display()))
                    .unwrap_or_default()
            ),
            format!(
                "Cancel the deletion (aws kms cancel-key-deletion --key-id {0}), then enable it \
                 (aws kms enable-key --key-id {0}) and retry the rotation.",
                k.arn
            ),
        ),
        state => failed(
            CheckId::KeyState,
            CauseId::KmsKey,
            &k.arn,
            format!(
                "{} is {state}: Secrets Manager cannot encrypt or decrypt with it",
                k.arn
            ),
            format!(
                "Enable the key (aws kms enable-key --key-id {}) and retry the rotation.",
                k.arn
            ),
        ),
    }
}

/// True when a key policy statement lets `role` (by name, or everyone)
/// use the key for `action`; `Some(false)`-like delegation to the account
/// root is reported separately.
fn key_policy_grants(json: &str, role: &str, action: &str) -> (bool, bool) {
    let (mut direct, mut root) = (false, false);
    for st in statements(json).iter().filter(|s| allows(s)) {
        if !covers(&strings(st.get("Action")), action) {
            continue;
        }
        for p in principals(st, "AWS") {
            if p == role || p == "*" {
                direct = true;
            } else if p.ends_with(":root") || p.chars().all(|c| c.is_ascii_digit()) {
                root = true;
            }
        }
    }
    (direct, root)
}

fn key_access(cx: &Ctx, k: &KeyFacts) -> Check {
    if k.managed_by_aws {
        return check(
            CheckId::KeyAccess,
            Status::Passed,
            "AWS managed key aws/secretsmanager: any principal of the account that IAM lets use \
             the secret may use it through Secrets Manager",
        );
    }
    let Some(role) = cx.lambda.and_then(|l| l.role.as_deref()) else {
        return skipped(CheckId::KeyAccess, "needs the function's role");
    };
    let json = match &k.policy {
        Read::Found(j) => j.as_str(),
        other => {
            return unread(CheckId::KeyAccess, other, "the key policy")
                .unwrap_or_else(|| skipped(CheckId::KeyAccess, "the key has no policy"))
        }
    };
    // Some(true): granted; Some(false): refused; None: left to IAM, which
    // was not asked (or refused to answer) about this action.
    let granted = |action: &str| -> Option<bool> {
        let (direct, root) = key_policy_grants(json, role, action);
        let by_grant = k.grants.found().is_some_and(|gs| {
            let op = action.trim_start_matches("kms:");
            gs.iter()
                .any(|g| g.grantee == role && g.operations.iter().any(|o| o == op))
        });
        if direct || by_grant {
            return Some(true);
        }
        if !root {
            return Some(false);
        }
        let simulated = cx.facts.role.found()?.iter().find(|(a, _)| a == action)?;
        Some(simulated.1 == Decision::Allowed)
    };
    let answers: Vec<(&str, Option<bool>)> = KEY_ACTIONS.iter().map(|a| (*a, granted(a))).collect();
    let missing: Vec<&str> = answers
        .iter()
        .filter(|(_, g)| *g == Some(false))
        .map(|(a, _)| *a)
        .collect();
    if missing.is_empty() && answers.iter().any(|(_, g)| g.is_none()) {
        let permission = match &cx.facts.role {
            Read::Denied { permission } => Some(permission.clone()),
            _ => None,
        };
        return check(
            CheckId::KeyAccess,
            Status::Unknown { permission },
            format!(
                "the key policy of {} leaves kms:Decrypt and kms:GenerateDataKey to IAM, and IAM's \
                 answer for {role} is not known",
                k.arn
            ),
        );
    }
    if missing.is_empty() {
        return check(
            CheckId::KeyAccess,
            Status::Passed,
            format!("the key policy or grants let {role} use kms:Decrypt and kms:GenerateDataKey"),
        );
    }
    failed(
        CheckId::KeyAccess,
        CauseId::KmsAccess,
        &k.arn,
        format!(
            "neither the key policy of {} nor its grants let {role} call {}: GetSecretValue and \
             PutSecretValue fail with \"Access to KMS is not allowed\"",
            k.arn,
            missing.join(", ")
        ),
        format!(
            "Add a statement to the key policy allowing {role} kms:Decrypt and kms:GenerateDataKey \
             (or aws kms create-grant --key-id {} --grantee-principal {role} --operations Decrypt \
             GenerateDataKey).",
            k.arn
        ),
    )
}

fn cross_account(cx: &Ctx, k: &KeyFacts) -> Check {
    let json = match &cx.facts.resource_policy {
        Read::Found(j) => j,
        Read::NotFound => {
            return check(
                CheckId::KeyCrossAccount,
                Status::NotApplicable,
                "no resource policy: no readers in other accounts",
            )
        }
        other => {
            return unread(
                CheckId::KeyCrossAccount,
                other,
                "the secret's resource policy",
            )
            .expect("unread")
        }
    };
    let own = &*cx.secret.account;
    let others: Vec<String> = statements(json)
        .iter()
        .filter(|s| allows(s))
        .flat_map(|s| principals(s, "AWS"))
        .filter(|p| {
            let account = if p.starts_with("arn:") {
                p.split(':').nth(4).unwrap_or("")
            } else {
                p.as_str()
            };
            !account.is_empty() && account.bytes().all(|c| c.is_ascii_digit()) && account != own
        })
        .collect();
    if others.is_empty() {
        return check(
            CheckId::KeyCrossAccount,
            Status::NotApplicable,
            "no readers in other accounts",
        );
    }
    if !k.managed_by_aws {
        return check(
            CheckId::KeyCrossAccount,
            Status::Passed,
            format!(
                "readers in other accounts ({}) and a customer managed key",
                others.join(", ")
            ),
        );
    }
    failed(
        CheckId::KeyCrossAccount,
        CauseId::KmsCrossAccount,
        &k.arn,
        format!(
            "the resource policy lets {} read, but the secret uses the AWS managed key, which \
             other accounts cannot use",
            others.join(", ")
        ),
        "Re-encrypt the secret with a customer managed key whose policy lets those principals \
         call kms:Decrypt (user guide: cross-account access needs a customer managed key)."
            .into(),
    )
}

//! IAM (query protocol, Version 2010-05-08, global: routed by account
//! only): SimulatePrincipalPolicy for the roles of each account.
//!
//! The roles: `SecretsManagerRotation-{team}` (what the AWS rotation
//! templates' execution role may do: the four Secrets Manager actions on the
//! secret, GetRandomPassword, `kms:Decrypt` / `kms:GenerateDataKey` for a
//! customer managed key, the VPC network-interface actions and the logs),
//! its `-nostage` sibling without `secretsmanager:UpdateSecretVersionStage`
//! (the `failfinish` Lambdas'), `KeyAdmin` (`kms:*`), `backup-restore` and
//! `secretscope-read` (the dashboard's reads).

use super::names::KEY_ADMIN_ROLE;
use super::{not_authorized, policy, Infra};
use crate::query::{request_id, xml, xml_escape, Query};
use axum::http::StatusCode;
use axum::response::Response;

pub(crate) const XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// What the AWS rotation templates' execution role is allowed (user guide,
/// "Lambda rotation function execution role permissions").
const ROTATION: [&str; 14] = [
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
    "secretsmanager:GetRandomPassword",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DetachNetworkInterface",
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
];

const READER: [&str; 10] = [
    "secretsmanager:List*",
    "secretsmanager:Describe*",
    "secretsmanager:GetResourcePolicy",
    "cloudtrail:LookupEvents",
    "lambda:GetFunction",
    "lambda:GetPolicy",
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:ListGrants",
    "ec2:Describe*",
];

/// One role of an account and what its identity-based policies allow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Role {
    pub name: String,
    pub arn: String,
    allowed: Vec<&'static str>,
}

impl Role {
    pub fn allows(&self, action: &str) -> bool {
        self.allowed.iter().any(|p| policy::glob(p, action))
    }
}

/// The role `arn` names, if `account` has it.
pub(crate) fn role(account: &str, arn: &str) -> Option<Role> {
    let a = super::names::parse_arn(arn)?;
    let path = a.resource.strip_prefix("role/")?;
    if a.service != "iam" || a.account != account {
        return None;
    }
    let name = path.rsplit('/').next()?;
    let allowed: Vec<&'static str> =
        if let Some(rest) = name.strip_prefix("SecretsManagerRotation-") {
            let nostage = rest.ends_with("-nostage");
            ROTATION
                .into_iter()
                .filter(|a| !(nostage && *a == "secretsmanager:UpdateSecretVersionStage"))
                .collect()
        } else if name == KEY_ADMIN_ROLE {
            vec!["kms:*"]
        } else if name == super::names::BACKUP_ROLE {
            vec![
                "kms:Decrypt",
                "kms:DescribeKey",
                "secretsmanager:GetSecretValue",
            ]
        } else if name == "secretscope-read" {
            READER.to_vec()
        } else {
            return None;
        };
    Some(Role {
        name: name.to_string(),
        arn: arn.to_string(),
        allowed,
    })
}

/// IAM's error document.
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let kind = if status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    xml(
        status,
        format!(
            "<ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>{kind}</Type><Code>{code}</Code>\
             <Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            xml_escape(message),
            request_id()
        ),
    )
}

fn missing(member: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "ValidationError",
        &format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: \
             Member must not be null"
        ),
    )
}

/// One IAM request of `caller` in `account`.
pub(crate) fn dispatch(infra: &Infra, account: &str, caller: &str, body: &[u8]) -> Response {
    let q = Query::new(body);
    match q.get("Action") {
        Some("SimulatePrincipalPolicy") => simulate(infra, account, caller, &q),
        Some(other) => error(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            &format!("The action {other} is not valid for this web service."),
        ),
        None => error(
            StatusCode::BAD_REQUEST,
            "MissingAction",
            "Action is required.",
        ),
    }
}

fn simulate(infra: &Infra, account: &str, caller: &str, q: &Query) -> Response {
    let Some(source) = q.get("PolicySourceArn") else {
        return missing("policySourceArn");
    };
    let action = "iam:SimulatePrincipalPolicy";
    if infra.denied(account, action) {
        return error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            &not_authorized(caller, action, Some(source)),
        );
    }
    let actions = q.list("ActionNames.member");
    if actions.is_empty() {
        return missing("actionNames");
    }
    if super::names::parse_arn(source).is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            &format!("Invalid ARN: {source}"),
        );
    }
    let Some(role) = role(account, source) else {
        let name = source.rsplit('/').next().unwrap_or(source);
        return error(
            StatusCode::NOT_FOUND,
            "NoSuchEntity",
            &format!("The role with name {name} cannot be found."),
        );
    };
    let mut resources = q.list("ResourceArns.member");
    if resources.is_empty() {
        resources.push("*".into());
    }
    let resource_policy = q.get("ResourcePolicy");
    let mut members = String::new();
    for a in &actions {
        for r in &resources {
            let denied =
                resource_policy.is_some_and(|p| policy::explicitly_denies(p, &role.arn, a, r));
            let (decision, matched) = if denied {
                ("explicitDeny", "<member><SourcePolicyId>ResourcePolicy</SourcePolicyId><SourcePolicyType>resource</SourcePolicyType></member>")
            } else if role.allows(a) {
                ("allowed", "<member><SourcePolicyId>RotationPolicy</SourcePolicyId><SourcePolicyType>role</SourcePolicyType></member>")
            } else {
                ("implicitDeny", "")
            };
            members.push_str(&format!(
                "<member><MatchedStatements>{matched}</MatchedStatements><MissingContextValues/>\
                 <EvalResourceName>{}</EvalResourceName><EvalDecision>{decision}</EvalDecision>\
                 <EvalActionName>{}</EvalActionName></member>",
                xml_escape(r),
                xml_escape(a)
            ));
        }
    }
    xml(
        StatusCode::OK,
        format!(
            "<SimulatePrincipalPolicyResponse xmlns=\"{XMLNS}\"><SimulatePrincipalPolicyResult>\
             <IsTruncated>false</IsTruncated><EvaluationResults>{members}</EvaluationResults>\
             </SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>{}</RequestId>\
             </ResponseMetadata></SimulatePrincipalPolicyResponse>",
            request_id()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_what_they_allow() {
        let a = "123456789012";
        let r = role(
            a,
            &format!("arn:aws:iam::{a}:role/SecretsManagerRotation-payments"),
        )
        .unwrap();
        assert!(r.allows("secretsmanager:UpdateSecretVersionStage"));
        assert!(r.allows("KMS:Decrypt"));
        assert!(!r.allows("secretsmanager:DeleteSecret"));
        let n = role(
            a,
            &format!("arn:aws:iam::{a}:role/SecretsManagerRotation-payments-nostage"),
        )
        .unwrap();
        assert!(!n.allows("secretsmanager:UpdateSecretVersionStage"));
        assert!(n.allows("secretsmanager:PutSecretValue"));
        assert!(role(a, &format!("arn:aws:iam::{a}:role/service/KeyAdmin"))
            .unwrap()
            .allows("kms:ScheduleKeyDeletion"));
        assert!(role(a, "arn:aws:iam::210987654321:role/KeyAdmin").is_none());
        assert!(role(a, &format!("arn:aws:iam::{a}:role/nobody")).is_none());
        assert!(role(a, &format!("arn:aws:iam::{a}:user/KeyAdmin")).is_none());
    }
}

//! The checks: [`Facts`] in, a [`Diagnosis`] out, each check passed,
//! failed (with its evidence and the fix), a warning, or could not be
//! checked (naming the permission the dashboard lacked).

use super::facts::*;
use super::network::{self, Path};
use super::strategy::strategy;
use super::{CauseId, Check, CheckId, Diagnosis, Status};
use crate::domain::{arn, Secret, Timestamp};
use serde_json::Value;

/// Deprecated Lambda runtimes and the day each was deprecated (Lambda
/// developer guide, "Lambda runtimes", deprecated runtimes table, as of
/// December 2026). Lambda keeps invoking them ("Lambda does not block
/// invocations of functions that use deprecated runtimes"), but patches
/// stop and updates are blocked: a warning, not a cause by itself.
pub const DEPRECATED_RUNTIMES: &[(&str, &str)] = &[
    ("python2.7", "2021-07-15"),
    ("python3.6", "2022-07-18"),
    ("python3.7", "2023-12-04"),
    ("python3.8", "2024-10-14"),
    ("python3.9", "2025-12-15"),
    ("nodejs10.x", "2021-07-30"),
    ("nodejs12.x", "2023-03-31"),
    ("nodejs14.x", "2023-12-04"),
    ("nodejs16.x", "2024-06-12"),
    ("nodejs18.x", "2025-09-01"),
    ("java8", "2024-01-08"),
    ("go1.x", "2024-01-08"),
    ("provided", "2024-01-08"),
    ("ruby2.7", "2023-12-07"),
    ("dotnetcore3.1", "2023-04-03"),
    ("dotnet6", "2024-12-20"),
];

/// The rotation templates' timeout; below it the four steps may not fit.
pub const TEMPLATE_TIMEOUT: u32 = 30;

/// For a secret never rotated successfully: how long before its failure a
/// change to the function counts as suspect. With a last success, any
/// change between it and the failure does.
const CHANGED_WINDOW: i64 = 7 * 86_400;

pub(super) fn check(id: CheckId, status: Status, evidence: impl Into<String>) -> Check {
    Check {
        id,
        status,
        evidence: evidence.into(),
        fix: None,
        cause: None,
        subject: None,
    }
}

pub(super) fn failed(
    id: CheckId,
    cause: CauseId,
    subject: &str,
    evidence: String,
    fix: String,
) -> Check {
    Check {
        fix: Some(fix),
        cause: Some(cause),
        subject: Some(subject.to_string()),
        ..check(id, Status::Failed, evidence)
    }
}

/// A check that could not be made because `read` did not answer.
pub(super) fn unread<T>(id: CheckId, read: &Read<T>, what: &str) -> Option<Check> {
    match read {
        Read::Denied { permission } => Some(check(
            id,
            Status::Unknown {
                permission: Some(permission.clone()),
            },
            format!("the dashboard may not call {permission} to read {what}"),
        )),
        Read::Failed { message } => Some(check(
            id,
            Status::Unknown { permission: None },
            format!("{what} could not be read: {message}"),
        )),
        Read::Found(_) | Read::NotFound => None,
    }
}

pub(super) fn skipped(id: CheckId, why: &str) -> Check {
    check(id, Status::Unknown { permission: None }, why)
}

/// The statements of a policy document, each as JSON.
pub(crate) fn statements(json: &str) -> Vec<Value> {
    let doc: Value = serde_json::from_str(json).unwrap_or(Value::Null);
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        _ => Vec::new(),
    }
}

/// A string-or-list field's strings.
pub(crate) fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

/// The principals a statement names, of `kind` (`AWS`, `Service`); `*` for everyone.
pub(super) fn principals(st: &Value, kind: &str) -> Vec<String> {
    match st.get("Principal") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(p) => strings(p.get(kind)),
        None => Vec::new(),
    }
}

/// True when one of `actions` (globs like `lambda:*`) covers `action`.
pub(super) fn covers(actions: &[String], action: &str) -> bool {
    actions
        .iter()
        .any(|a| crate::domain::glob::glob(action, &a.to_ascii_lowercase()))
}

pub(super) fn allows(st: &Value) -> bool {
    st.get("Effect").and_then(Value::as_str) == Some("Allow")
}

/// Everything the checks read, for one secret.
pub(super) struct Ctx<'a> {
    pub(super) secret: &'a Secret,
    pub(super) facts: &'a Facts,
    now: Timestamp,
    lambda_arn: &'a str,
    function: &'a str,
    pub(super) lambda: Option<&'a LambdaFacts>,
}

/// The diagnosis of `secret`'s rotation from `facts` at `now`; no checks
/// when the secret has no rotation function (managed rotation, or none).
pub fn diagnose(secret: &Secret, facts: &Facts, now: Timestamp) -> Diagnosis {
    let lambda = facts.lambda.found();
    let strategy = strategy(secret, lambda);
    let Some(lambda_arn) = secret.rotation_lambda_arn.as_deref() else {
        return Diagnosis {
            secret_arn: secret.arn.to_string(),
            checks: Vec::new(),
            strategy,
        };
    };
    let cx = Ctx {
        secret,
        facts,
        now,
        lambda_arn,
        function: arn::function_name(lambda_arn),
        lambda,
    };
    let mut checks = lambda_checks(&cx);
    checks.extend(network_checks(&cx));
    checks.extend(super::kms::key_checks(&cx));
    checks.push(role_check(&cx));
    checks.push(resource_policy_check(&cx));
    checks.extend(function_health(&cx));
    Diagnosis {
        secret_arn: secret.arn.to_string(),
        checks,
        strategy,
    }
}

fn lambda_checks(cx: &Ctx) -> Vec<Check> {
    let (f, account) = (cx.function, &*cx.secret.account);
    let mut out = vec![match &cx.facts.lambda {
        Read::Found(l) => check(
            CheckId::LambdaExists,
            Status::Passed,
            format!(
                "{f}: {}, timeout {} s, role {}",
                l.runtime.as_deref().unwrap_or("container image"),
                l.timeout.map_or("?".into(), |t| t.to_string()),
                l.role.as_deref().unwrap_or("unknown")
            ),
        ),
        Read::NotFound => failed(
            CheckId::LambdaExists,
            CauseId::LambdaMissing,
            cx.lambda_arn,
            format!("GetFunction: no function {}", cx.lambda_arn),
            "Deploy the rotation function again (from the AWS rotation template it came from), \
             or set the secret's rotation to an existing function; then retry the rotation."
                .into(),
        ),
        other => unread(CheckId::LambdaExists, other, "the rotation function").expect("unread"),
    }];
    let lambda_region = arn::account_region(cx.lambda_arn).map(|(_, r)| r);
    out.push(match lambda_region {
        Some(r) if r != &*cx.secret.region => failed(
            CheckId::LambdaRegion,
            CauseId::LambdaRegion,
            cx.lambda_arn,
            format!("the function is in {r}, the secret in {}", cx.secret.region),
            format!(
                "Secrets Manager invokes a rotation function in the secret's own region: deploy \
                 {f} in {} and point the secret's rotation at that copy.",
                cx.secret.region
            ),
        ),
        Some(r) => check(
            CheckId::LambdaRegion,
            Status::Passed,
            format!("both in {r}"),
        ),
        None => skipped(
            CheckId::LambdaRegion,
            "the rotation function's ARN names no region",
        ),
    });
    out.extend(invoke_checks(cx, f, account));
    out
}

fn invoke_checks(cx: &Ctx, f: &str, account: &str) -> Vec<Check> {
    let Some(l) = cx.lambda else {
        return vec![
            skipped(CheckId::LambdaInvokePolicy, "needs the function"),
            skipped(CheckId::LambdaSourceAccount, "needs the function"),
        ];
    };
    let add_permission = format!(
        "aws lambda add-permission --function-name {f} --statement-id SecretsManagerAccess \
         --action lambda:InvokeFunction --principal secretsmanager.amazonaws.com \
         --source-account {account}"
    );
    let json = match &l.policy {
        Read::Found(j) => j.as_str(),
        Read::NotFound => "{}",
        other => {
            let c = unread(CheckId::LambdaInvokePolicy, other, "the function's policy");
            return vec![
                c.expect("unread"),
                skipped(CheckId::LambdaSourceAccount, "needs the function's policy"),
            ];
        }
    };
    let grant = statements(json).into_iter().find(|st| {
        allows(st)
            && principals(st, "Service")
                .iter()
                .any(|p| p == "secretsmanager.amazonaws.com" || p == "*")
            && covers(&strings(st.get("Action")), "lambda:InvokeFunction")
    });
    let Some(grant) = grant else {
        return vec![
            failed(
                CheckId::LambdaInvokePolicy,
                CauseId::LambdaPermission,
                cx.lambda_arn,
                format!(
                    "{f}'s resource policy has no statement letting secretsmanager.amazonaws.com \
                     call lambda:InvokeFunction, so RotateSecret is refused with \"Secrets Manager \
                     cannot invoke the specified Lambda function\""
                ),
                format!("Grant the invoke permission: {add_permission}"),
            ),
            check(
                CheckId::LambdaSourceAccount,
                Status::NotApplicable,
                "no invoke statement",
            ),
        ];
    };
    let sid = grant
        .get("Sid")
        .and_then(Value::as_str)
        .unwrap_or("(no Sid)");
    let conditioned = grant.get("Condition").is_some_and(|c| {
        let text = c.to_string().to_ascii_lowercase();
        text.contains("aws:sourceaccount") || text.contains("aws:sourcearn")
    });
    vec![
        check(
            CheckId::LambdaInvokePolicy,
            Status::Passed,
            format!("statement {sid} lets secretsmanager.amazonaws.com invoke {f}"),
        ),
        if conditioned {
            check(
                CheckId::LambdaSourceAccount,
                Status::Passed,
                format!("statement {sid} carries aws:SourceAccount or aws:SourceArn"),
            )
        } else {
            Check {
                fix: Some(format!(
                    "Replace statement {sid} with one limited to this account: {add_permission}"
                )),
                ..check(
                    CheckId::LambdaSourceAccount,
                    Status::Warning,
                    format!(
                        "statement {sid} has no aws:SourceAccount condition: Secrets Manager \
                         acting for any account could invoke {f} (confused deputy)"
                    ),
                )
            }
        },
    ]
}

fn network_checks(cx: &Ctx) -> Vec<Check> {
    let Some(l) = cx.lambda else {
        return vec![
            skipped(CheckId::Network, "needs the function"),
            skipped(CheckId::EndpointVariable, "needs the function"),
        ];
    };
    let region = arn::account_region(cx.lambda_arn).map_or(&*cx.secret.region, |(_, r)| r);
    let (net, path) = match (&l.vpc, &cx.facts.network) {
        (None, _) => (
            check(
                CheckId::Network,
                Status::NotApplicable,
                "the function runs outside a VPC: Lambda's own network reaches Secrets Manager",
            ),
            None,
        ),
        (Some(_), None) => (skipped(CheckId::Network, "the VPC was not read"), None),
        (Some(vpc), Some(nf)) => {
            let p = network::path(vpc, nf);
            (network_check(cx, vpc, region, &p), Some(p))
        }
    };
    let var = match &l.secrets_manager_endpoint {
        None => check(
            CheckId::EndpointVariable,
            Status::NotApplicable,
            "SECRETS_MANAGER_ENDPOINT is not set: the SDK uses the regional name",
        ),
        Some(url) => {
            match network::endpoint_variable(
                url,
                region,
                l.vpc.as_ref(),
                cx.facts.network.as_ref(),
                path.as_ref(),
            ) {
                Some(Ok(how)) => check(CheckId::EndpointVariable, Status::Passed, how),
                Some(Err(why)) => failed(
                    CheckId::EndpointVariable,
                    CauseId::Network,
                    l.vpc.as_ref().map_or(cx.lambda_arn, |v| v.vpc_id.as_str()),
                    format!("SECRETS_MANAGER_ENDPOINT={url}: {why}"),
                    format!(
                        "Point SECRETS_MANAGER_ENDPOINT of {} at an endpoint reachable from its \
                         subnets (the VPC endpoint's DNS name), or remove it once the VPC has an \
                         endpoint with private DNS.",
                        cx.function
                    ),
                ),
                None => check(
                    CheckId::EndpointVariable,
                    Status::Unknown { permission: None },
                    format!("SECRETS_MANAGER_ENDPOINT={url}: not a name the dashboard can judge"),
                ),
            }
        }
    };
    vec![net, var]
}

fn network_check(cx: &Ctx, vpc: &VpcConfig, region: &str, p: &Path) -> Check {
    match p {
        Path::Endpoint(id) => check(
            CheckId::Network,
            Status::Passed,
            format!("{} reaches Secrets Manager through endpoint {id} (private DNS)", vpc.vpc_id),
        ),
        Path::Nat(nat) => check(
            CheckId::Network,
            Status::Passed,
            format!("{} reaches Secrets Manager through NAT gateway {nat}", vpc.vpc_id),
        ),
        Path::None(why) => failed(
            CheckId::Network,
            CauseId::Network,
            &vpc.vpc_id,
            format!(
                "{} runs in {}: {why}. Every call to Secrets Manager times out (\"Task timed out\").",
                cx.function, vpc.vpc_id
            ),
            format!(
                "Create an interface VPC endpoint for com.amazonaws.{region}.secretsmanager in {} \
                 with private DNS enabled, in the function's subnets, with a security group that \
                 allows HTTPS (443) from the function's security groups ({}); or route the \
                 subnets' 0.0.0.0/0 to a NAT gateway.",
                vpc.vpc_id,
                vpc.security_group_ids.join(", ")
            ),
        ),
        Path::Unknown(permission, why) => check(
            CheckId::Network,
            Status::Unknown {
                permission: permission.clone(),
            },
            format!("{} could not be read: {why}", vpc.vpc_id),
        ),
    }
}

fn role_check(cx: &Ctx) -> Check {
    let Some(role) = cx.lambda.and_then(|l| l.role.as_deref()) else {
        return skipped(CheckId::RolePermissions, "needs the function's role");
    };
    let results = match &cx.facts.role {
        Read::Found(r) => r,
        Read::NotFound => {
            return failed(
                CheckId::RolePermissions,
                CauseId::RolePermission,
                role,
                format!("the function's role {role} does not exist"),
                format!("Give {} an execution role that exists.", cx.function),
            )
        }
        other => {
            return unread(CheckId::RolePermissions, other, "the role's permissions")
                .expect("unread")
        }
    };
    let denied: Vec<String> = ROLE_ACTIONS
        .iter()
        .filter_map(|a| match results.iter().find(|(x, _)| x == a) {
            Some((_, Decision::Allowed)) => None,
            Some((_, Decision::ExplicitDeny)) => Some(format!("{a} (explicit deny)")),
            Some((_, Decision::ImplicitDeny)) | None => Some(a.to_string()),
        })
        .collect();
    if denied.is_empty() {
        return check(
            CheckId::RolePermissions,
            Status::Passed,
            format!("IAM policy simulation: {role} may call all four actions on this secret"),
        );
    }
    failed(
        CheckId::RolePermissions,
        CauseId::RolePermission,
        role,
        format!(
            "IAM policy simulation: {role} may not call {} on this secret",
            denied.join(", ")
        ),
        format!(
            "Attach a policy to {role} allowing {} on {} (the AWS rotation templates' policy).",
            ROLE_ACTIONS.join(", "),
            cx.secret.arn
        ),
    )
}

fn resource_policy_check(cx: &Ctx) -> Check {
    let json = match &cx.facts.resource_policy {
        Read::Found(j) => j,
        Read::NotFound => {
            return check(
                CheckId::ResourcePolicy,
                Status::Passed,
                "the secret has no resource policy",
            )
        }
        other => {
            return unread(
                CheckId::ResourcePolicy,
                other,
                "the secret's resource policy",
            )
            .expect("unread")
        }
    };
    let role = cx.lambda.and_then(|l| l.role.as_deref());
    let account_root = format!("arn:aws:iam::{}:root", cx.secret.account);
    let denies = statements(json).into_iter().find(|st| {
        st.get("Effect").and_then(Value::as_str) == Some("Deny")
            && ROLE_ACTIONS
                .iter()
                .any(|a| covers(&strings(st.get("Action")), a))
            && principals(st, "AWS").iter().any(|p| {
                p == "*"
                    || Some(p.as_str()) == role
                    || *p == account_root
                    || *p == *cx.secret.account
            })
            && st.get("Condition").is_none()
    });
    match denies {
        Some(st) => failed(
            CheckId::ResourcePolicy,
            CauseId::ResourcePolicy,
            &cx.secret.arn,
            format!(
                "statement {} denies {} to {}: an explicit deny overrides every allow",
                st.get("Sid").and_then(Value::as_str).unwrap_or("(no Sid)"),
                strings(st.get("Action")).join(", "),
                principals(&st, "AWS").join(", ")
            ),
            format!(
                "Remove the statement, or exclude the rotation role {} from it (a \
                 Condition on aws:PrincipalArn), in the secret's resource policy.",
                role.unwrap_or("(the function's role)")
            ),
        ),
        None => check(
            CheckId::ResourcePolicy,
            Status::Passed,
            "no statement of the resource policy denies the function's role",
        ),
    }
}

/// Timeout, runtime and recent changes: what the function itself says.
fn function_health(cx: &Ctx) -> Vec<Check> {
    let Some(l) = cx.lambda else {
        return [
            CheckId::LambdaTimeout,
            CheckId::LambdaRuntime,
            CheckId::LambdaChanged,
        ]
        .map(|id| skipped(id, "needs the function"))
        .into();
    };
    vec![
        timeout_check(cx, l),
        runtime_check(cx, l),
        changed_check(cx, l),
    ]
}

fn timeout_check(cx: &Ctx, l: &LambdaFacts) -> Check {
    let Some(t) = l.timeout else {
        return skipped(CheckId::LambdaTimeout, "the function's timeout is unknown");
    };
    if t >= TEMPLATE_TIMEOUT {
        return check(
            CheckId::LambdaTimeout,
            Status::Passed,
            format!("timeout {t} s"),
        );
    }
    // A rotation failing now: a failure seen, or AWSPENDING left behind.
    let failing = cx.secret.seen_failure().is_some() || cx.secret.pending_version().is_some();
    let said_timeout = cx
        .secret
        .seen_failure()
        .and_then(|f| f.message.as_deref())
        .is_some_and(|m| m.contains("Task timed out"));
    let timed_out = said_timeout || failing;
    let fix = format!(
        "Raise the timeout of {} to at least {TEMPLATE_TIMEOUT} s (aws lambda \
         update-function-configuration --function-name {} --timeout {TEMPLATE_TIMEOUT}).",
        cx.function, cx.function
    );
    if timed_out {
        failed(
            CheckId::LambdaTimeout,
            CauseId::LambdaTimeout,
            cx.lambda_arn,
            if said_timeout {
                format!(
                    "timeout {t} s, below the rotation templates' {TEMPLATE_TIMEOUT} s, and the \
                     last failure says \"Task timed out\""
                )
            } else {
                format!(
                    "timeout {t} s, below the rotation templates' {TEMPLATE_TIMEOUT} s, and its \
                     rotation is failing: four steps rarely fit"
                )
            },
            fix,
        )
    } else {
        Check {
            fix: Some(fix),
            cause: Some(CauseId::LambdaTimeout),
            subject: Some(cx.lambda_arn.to_string()),
            ..check(
                CheckId::LambdaTimeout,
                Status::Warning,
                format!("timeout {t} s, below the rotation templates' {TEMPLATE_TIMEOUT} s"),
            )
        }
    }
}

fn runtime_check(cx: &Ctx, l: &LambdaFacts) -> Check {
    let Some(rt) = l.runtime.as_deref() else {
        return check(
            CheckId::LambdaRuntime,
            Status::NotApplicable,
            "a container image: its owner picks the runtime",
        );
    };
    match DEPRECATED_RUNTIMES.iter().find(|(r, _)| *r == rt) {
        Some((_, since)) => Check {
            fix: Some(format!(
                "Move {} to a supported runtime (redeploy it from the current AWS rotation \
                 template). Lambda still invokes it, but applies no patches and blocks updates.",
                cx.function
            )),
            cause: Some(CauseId::LambdaRuntime),
            subject: Some(cx.lambda_arn.to_string()),
            ..check(
                CheckId::LambdaRuntime,
                Status::Warning,
                format!("{rt} is deprecated since {since}"),
            )
        },
        None => check(
            CheckId::LambdaRuntime,
            Status::Passed,
            format!("{rt} is supported"),
        ),
    }
}

fn changed_check(cx: &Ctx, l: &LambdaFacts) -> Check {
    let Some(modified) = l.last_modified else {
        return skipped(
            CheckId::LambdaChanged,
            "the function's last change is unknown",
        );
    };
    // When it failed: the failure seen, else when the stuck rotation began
    // (its version's date, or without version dates the secret's last
    // change, which made that version).
    let failure = cx.secret.seen_failure().map(|f| f.at).or_else(|| {
        let pending = cx.secret.pending_version()?;
        pending.created.or(cx.secret.last_changed)
    });
    let since_success = cx.secret.last_rotated.is_none_or(|r| modified > r);
    let before_failure = failure.is_some_and(|f| {
        modified <= f
            && (cx.secret.last_rotated.is_some() || f.secs() - modified.secs() <= CHANGED_WINDOW)
    });
    if since_success && before_failure {
        let gap = failure.map_or(0, |f| f.secs() - modified.secs());
        return failed(
            CheckId::LambdaChanged,
            CauseId::LambdaChanged,
            cx.lambda_arn,
            format!(
                "{} was changed on {}, {} before the failure and after the last successful \
                 rotation",
                cx.function,
                modified.display(),
                crate::domain::time::span(gap)
            ),
            format!(
                "Look at what changed in {} on {} (code, environment, layers): roll it back to \
                 the version that rotated, then retry the rotation.",
                cx.function,
                modified.display()
            ),
        );
    }
    check(
        CheckId::LambdaChanged,
        Status::Passed,
        format!(
            "last changed {} ({})",
            modified.display(),
            modified.relative(cx.now)
        ),
    )
}

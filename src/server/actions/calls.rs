//! The Secrets Manager calls an action makes, and their errors as
//! sentences a person can act on.

use crate::domain::actions::{rollback_pair, ActionKind, Request};
use crate::domain::Secret;
use crate::server::auth::{Act, Can};
use crate::server::error::{AppError, ErrorKind};
use crate::server::AppState;

/// One Secrets Manager call an action makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Call {
    /// RotateSecret. `configure`: set the Lambda and schedule the secret
    /// keeps (turning rotation back on).
    Rotate {
        token: String,
        immediately: bool,
        configure: bool,
    },
    Cancel,
    /// UpdateSecretVersionStage: AWSCURRENT from one version to another.
    MoveCurrent {
        from: String,
        to: String,
    },
    /// UpdateSecretVersionStage: AWSPENDING off a version.
    RemovePending {
        from: String,
    },
    Restore,
}

impl Call {
    /// For the audit trail: the operation and its arguments.
    pub(super) fn describe(&self) -> String {
        match self {
            Call::Rotate {
                immediately,
                configure,
                ..
            } => format!(
                "RotateSecret (RotateImmediately={immediately}{})",
                if *configure {
                    ", with the kept Lambda and schedule"
                } else {
                    ""
                }
            ),
            Call::Cancel => "CancelRotateSecret".to_string(),
            Call::MoveCurrent { from, to } => {
                format!("UpdateSecretVersionStage (AWSCURRENT from version {from} to {to})")
            }
            Call::RemovePending { from } => {
                format!("UpdateSecretVersionStage (AWSPENDING removed from version {from})")
            }
            Call::Restore => "RestoreSecret".to_string(),
        }
    }
}

/// The calls `req` makes on `s`, in order.
pub(super) fn calls(
    s: &Secret,
    kind: ActionKind,
    req: &Request,
    token: &str,
) -> Result<Vec<Call>, String> {
    let rotate = |immediately, configure| Call::Rotate {
        token: token.to_string(),
        immediately,
        configure,
    };
    let pending = || {
        s.pending_version()
            .map(|p| p.id.to_string())
            .ok_or_else(|| format!("No version of {} holds AWSPENDING.", s.name))
    };
    Ok(match kind {
        ActionKind::Rotate => vec![rotate(true, false)],
        ActionKind::RetryRotation => vec![
            Call::RemovePending { from: pending()? },
            rotate(true, false),
        ],
        ActionKind::ClearPending => vec![Call::RemovePending { from: pending()? }],
        ActionKind::EnableRotation => vec![rotate(req.immediately, true)],
        ActionKind::CancelRotation => vec![Call::Cancel],
        ActionKind::Rollback => {
            let (from, to) = rollback_pair(s, req.to_version.as_deref())?;
            vec![Call::MoveCurrent {
                from: from.to_string(),
                to: to.to_string(),
            }]
        }
        ActionKind::Restore => vec![Call::Restore],
    })
}

/// Makes one Secrets Manager call; a rotation's new version id.
pub(super) async fn call(
    state: &AppState,
    _can: &Can<Act>,
    s: &Secret,
    c: &Call,
) -> Result<Option<String>, AppError> {
    let source = state.source_of(s)?;
    let (client, endpoint) = (&source.client, &source.endpoint);
    let (arn, name) = (&*s.arn, &*s.name);
    let stage = |label: &str| {
        client
            .update_secret_version_stage()
            .secret_id(arn)
            .version_stage(label)
    };
    let staged = |r: Result<_, _>| {
        r.map(|_| None)
            .map_err(|e| AppError::from_sdk("UpdateSecretVersionStage", name, endpoint, e))
    };
    match c {
        Call::Rotate {
            token,
            immediately,
            configure,
        } => {
            let mut r = client
                .rotate_secret()
                .secret_id(arn)
                .client_request_token(token)
                .rotate_immediately(*immediately);
            if *configure {
                r = r.set_rotation_lambda_arn(s.rotation_lambda_arn.as_deref().map(str::to_string));
                if let Some(rules) = s.rotation_rules.as_deref() {
                    r = r.rotation_rules(
                        aws_sdk_secretsmanager::types::RotationRulesType::builder()
                            .set_automatically_after_days(
                                // AWS rejects both at once; the expression wins.
                                rules
                                    .automatically_after_days
                                    .filter(|_| rules.schedule_expression.is_none()),
                            )
                            .set_schedule_expression(rules.schedule_expression.clone())
                            .set_duration(rules.duration.clone())
                            .build(),
                    );
                }
            }
            r.send()
                .await
                .map(|o| o.version_id().map(str::to_string))
                .map_err(|e| AppError::from_sdk("RotateSecret", name, endpoint, e))
        }
        Call::Cancel => client
            .cancel_rotate_secret()
            .secret_id(arn)
            .send()
            .await
            .map(|_| None)
            .map_err(|e| AppError::from_sdk("CancelRotateSecret", name, endpoint, e)),
        Call::MoveCurrent { from, to } => staged(
            stage("AWSCURRENT")
                .move_to_version_id(to)
                .remove_from_version_id(from)
                .send()
                .await,
        ),
        Call::RemovePending { from } => staged(
            stage("AWSPENDING")
                .remove_from_version_id(from)
                .send()
                .await,
        ),
        Call::Restore => client
            .restore_secret()
            .secret_id(arn)
            .send()
            .await
            .map(|_| None)
            .map_err(|e| AppError::from_sdk("RestoreSecret", name, endpoint, e)),
    }
}

/// An AWS error from an action as a sentence the person can act on. `s`
/// is the secret as last read (it names the version holding AWSPENDING).
pub(super) fn explain(kind: ActionKind, s: &Secret, e: AppError) -> AppError {
    let name = &*s.name;
    let detail = e.detail.to_lowercase();
    let user = if detail.contains("previous rotation isn't complete")
        || detail.contains("rotation is already in progress")
    {
        match s.pending_version() {
            Some(p) => format!(
                "{} Nothing was changed.",
                crate::domain::actions::previous_not_complete(s, &p.id.to_string())
            ),
            None => format!(
                "A previous rotation of {name} isn't complete: a version other than AWSCURRENT's holds AWSPENDING, \
                 and Secrets Manager refuses to start another rotation while it does. Reload the page to see which; \
                 then Retry rotation removes AWSPENDING from it and starts again. Nothing was changed."
            ),
        }
    } else if detail.contains("lambda") && e.kind == ErrorKind::AccessDenied {
        format!(
            "Secrets Manager could not invoke the rotation Lambda of {name}: the function is missing, or its resource policy \
             does not allow secretsmanager.amazonaws.com to invoke it. Fix the function or its policy, then rotate again."
        )
    } else if detail.contains("no lambda rotation function") {
        format!(
            "Rotation is not configured for {name}: give it a rotation Lambda and a schedule, then rotate it here."
        )
    } else if detail.contains("replica") && e.kind != ErrorKind::AccessDenied {
        format!(
            "{name} in {} is a replica: Secrets Manager accepts these actions only on the primary secret. Act on it in its primary Region.",
            s.region
        )
    } else {
        match e.kind {
            ErrorKind::AccessDenied => format!(
                "The dashboard's AWS role may not {} {name}. Add the action to its IAM policy (README: \"IAM policy: actions\") and try again.",
                match kind {
                    ActionKind::Rotate | ActionKind::EnableRotation => "rotate (secretsmanager:RotateSecret)",
                    ActionKind::RetryRotation => "move labels of, or rotate (secretsmanager:UpdateSecretVersionStage, secretsmanager:RotateSecret)",
                    ActionKind::CancelRotation => "cancel rotations of (secretsmanager:CancelRotateSecret)",
                    ActionKind::Rollback | ActionKind::ClearPending => "move labels of (secretsmanager:UpdateSecretVersionStage)",
                    ActionKind::Restore => "restore (secretsmanager:RestoreSecret)",
                }
            ),
            ErrorKind::NotFound => format!(
                "{name} no longer exists in Secrets Manager (deleted for good, or renamed), or the version it names is gone. Reload the page; nothing was done."
            ),
            ErrorKind::Throttled => format!(
                "AWS is throttling Secrets Manager calls right now, so {name} was not changed. Try again in a minute."
            ),
            _ => return e,
        }
    };
    AppError::new(e.kind, user, e.detail)
}

use crate::domain::actions::{ActionKind, Plan, RotationProgress, Seen};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the confirmation dialog shows, and what it sends back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionPreview {
    pub plan: Plan,
    /// The secret as Secrets Manager has it now (JSON of [`Seen`], sent back
    /// with the action so the server can tell whether it changed).
    pub seen: String,
    /// The idempotency token for this dialog: a double click sends it twice
    /// and the action happens once.
    pub token: String,
    /// For a roll back of a secret rotated with a single user: why
    /// AWSPREVIOUS no longer works, and what to do instead.
    #[serde(default)]
    pub warning: Option<String>,
}

/// What an action did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionOutcome {
    pub kind: ActionKind,
    pub secret: String,
    pub message: String,
    pub after: Seen,
    /// A rotation's new version.
    pub version: Option<String>,
}

/// The plan of `kind` (`rotate`, `retry-rotation`, `cancel-rotation`,
/// `clear-pending`, `enable-rotation`, `rollback`, `restore`)
/// on the secret `id`, read fresh; 403 without the operator role on it.
#[server(endpoint = "preview_action")]
pub async fn preview_action(
    id: String,
    kind: String,
    to_version: String,
) -> Result<ActionPreview, ServerFnError> {
    let (state, who) = super::signed_in_reading_aws("preview_action").await?;
    let kind = parse_kind(&kind)?;
    let to = Some(to_version.trim()).filter(|v| !v.is_empty());
    let (plan, seen) = crate::server::actions::preview(&state, &who, &id, kind, to).await?;
    let warning = if kind == ActionKind::Rollback {
        super::build::diagnosis::strategy_of(&state, &who, &id)
            .await
            .and_then(|s| s.rollback_warning().map(str::to_string))
    } else {
        None
    };
    Ok(ActionPreview {
        plan,
        seen: serde_json::to_string(&seen).unwrap_or_default(),
        token: uuid::Uuid::new_v4().to_string(),
        warning,
    })
}

#[cfg(feature = "ssr")]
fn parse_kind(kind: &str) -> Result<ActionKind, ServerFnError> {
    ActionKind::ALL
        .into_iter()
        .find(|k| k.as_str() == kind)
        .ok_or_else(|| {
            crate::server::error::AppError::new(
                crate::server::error::ErrorKind::InvalidInput,
                format!("There is no action {kind:?}."),
                format!("unknown action {kind:?}"),
            )
            .into()
        })
}

/// An action's arguments beyond the secret, the view and the confirmation.
#[cfg(feature = "ssr")]
#[derive(Default)]
struct Extra {
    to_version: Option<String>,
    immediately: bool,
}

#[cfg(feature = "ssr")]
async fn act(
    what: &str,
    kind: ActionKind,
    id: String,
    extra: Extra,
    seen: String,
    typed_name: String,
    token: String,
) -> Result<ActionOutcome, ServerFnError> {
    use crate::server::error::{AppError, ErrorKind};
    let (state, who) = super::signed_in(what).await?;
    // Role and scope first: a refused caller learns nothing else.
    let secret = crate::server::actions::guarded(&state, &who, &id, kind).await?;
    let seen: Seen = serde_json::from_str(&seen).map_err(|e| {
        AppError::new(
            ErrorKind::InvalidInput,
            "The page sent an unreadable view of the secret. Reload it and try again; nothing was done.",
            format!("seen: {e}"),
        )
    })?;
    let req = crate::domain::actions::Request {
        kind,
        to_version: extra.to_version.filter(|v| !v.trim().is_empty()),
        seen,
        typed_name,
        token,
        immediately: extra.immediately,
    };
    let done = crate::server::actions::run_on(&state, &who, &secret, req).await?;
    Ok(ActionOutcome {
        kind: done.kind,
        secret: done.secret,
        message: done.message,
        after: done.after,
        version: done.version,
    })
}

/// The actions that take nothing beyond the secret, the view the person
/// saw, the typed name and the dialog's token: each its own endpoint (the
/// permission matrix lists them one by one), one body.
macro_rules! plain_action {
    ($(#[$doc:meta])* $name:ident, $endpoint:literal, $kind:ident) => {
        $(#[$doc])*
        #[server(endpoint = $endpoint)]
        pub async fn $name(
            id: String,
            seen: String,
            typed_name: String,
            token: String,
        ) -> Result<ActionOutcome, ServerFnError> {
            act($endpoint, ActionKind::$kind, id, Extra::default(), seen, typed_name, token).await
        }
    };
}

plain_action!(
    /// RotateSecret now, with the dialog's token.
    rotate_secret,
    "rotate_secret",
    Rotate
);

plain_action!(
    /// Removes AWSPENDING from a failed or stuck rotation's version
    /// (UpdateSecretVersionStage), then RotateSecret with the dialog's token.
    retry_rotation,
    "retry_rotation",
    RetryRotation
);

plain_action!(
    /// Removes AWSPENDING from a failed or cancelled rotation's version.
    clear_pending,
    "clear_pending",
    ClearPending
);

plain_action!(
    /// CancelRotateSecret.
    cancel_rotation,
    "cancel_rotation",
    CancelRotation
);

plain_action!(
    /// RestoreSecret.
    restore_secret,
    "restore_secret",
    Restore
);

/// RotateSecret with the Lambda and schedule the secret kept, rotating at
/// once when `immediately`.
#[server(endpoint = "enable_rotation")]
pub async fn enable_rotation(
    id: String,
    immediately: bool,
    seen: String,
    typed_name: String,
    token: String,
) -> Result<ActionOutcome, ServerFnError> {
    act(
        "enable_rotation",
        ActionKind::EnableRotation,
        id,
        Extra {
            to_version: None,
            immediately,
        },
        seen,
        typed_name,
        token,
    )
    .await
}

/// AWSCURRENT back to AWSPREVIOUS's version, or to `to_version`.
#[server(endpoint = "rollback_secret")]
pub async fn rollback_secret(
    id: String,
    to_version: String,
    seen: String,
    typed_name: String,
    token: String,
) -> Result<ActionOutcome, ServerFnError> {
    act(
        "rollback_secret",
        ActionKind::Rollback,
        id,
        Extra {
            to_version: Some(to_version),
            immediately: false,
        },
        seen,
        typed_name,
        token,
    )
    .await
}

/// Any of the actions above, by `kind` (its `as_str`): the dashboard's
/// dialogs send this one, so the browser carries one client instead of
/// seven. The same guard, checks and audit as the action's own endpoint,
/// under that endpoint's name; nothing comes back but success or the error.
#[server(endpoint = "perform_action")]
#[allow(clippy::too_many_arguments)]
pub async fn perform_action(
    kind: String,
    id: String,
    to_version: String,
    immediately: bool,
    seen: String,
    typed_name: String,
    token: String,
) -> Result<(), ServerFnError> {
    let kind = match parse_kind(&kind) {
        Ok(k) => k,
        Err(e) => {
            // Nobody learns which actions exist before signing in.
            super::signed_in("perform_action").await?;
            return Err(e);
        }
    };
    let what = match kind {
        ActionKind::Rotate => "rotate_secret",
        ActionKind::RetryRotation => "retry_rotation",
        ActionKind::CancelRotation => "cancel_rotation",
        ActionKind::ClearPending => "clear_pending",
        ActionKind::EnableRotation => "enable_rotation",
        ActionKind::Rollback => "rollback_secret",
        ActionKind::Restore => "restore_secret",
    };
    // Only the actions that take them get these (as their own endpoints do).
    let extra = Extra {
        to_version: (kind == ActionKind::Rollback).then_some(to_version),
        immediately: kind == ActionKind::EnableRotation && immediately,
    };
    act(what, kind, id, extra, seen, typed_name, token).await?;
    Ok(())
}

/// How far the latest rotation of `id` started from secretscope has got
/// (none when no rotation was started here since the server started).
/// Anyone who may see the secret may follow it.
#[server(endpoint = "rotation_progress")]
pub async fn follow_rotation(id: String) -> Result<Option<RotationProgress>, ServerFnError> {
    let (state, who) = super::signed_in("rotation_progress").await?;
    crate::server::actions::progress(&state, &who, &id)
        .await
        .map_err(ServerFnError::from)
}

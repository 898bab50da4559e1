//! The secret page's data: the snapshot's metadata, the live read kept by
//! [`crate::server::detail`], CloudTrail's history, the health findings, the
//! actions this user may take and the access panel.

use crate::api::{
    AccessInfo, ActionOffer, FindingView, LiveDetail, SecretDetail, TagLink, TrailNote, VersionRow,
};
use crate::domain::health::{self, ReplicaState};
use crate::domain::owner::owner_of;
use crate::domain::policy::summarize;
use crate::domain::query::toggle_tag_term;
use crate::domain::replica::Replica;
use crate::domain::state::PENDING_GRACE_SECS;
use crate::domain::{Label, Secret, State, Timestamp, Version};
use crate::server::auth::Principal;
use crate::server::detail::{open, Live, Opened};
use crate::server::error::AppError;
use crate::server::AppState;

/// The actions the detail page offers `who` on `s`: none without the
/// operator role on it. Rotate is always listed (with how to configure
/// rotation when it is not, or why a leftover AWSPENDING blocks it); retry,
/// cancel and clear pending where a version other than AWSCURRENT's holds
/// AWSPENDING; turn rotation back on where it is off and a Lambda is kept;
/// roll back where an earlier version exists; restore where the secret is
/// scheduled for deletion.
pub fn offers(who: &Principal, s: &Secret) -> Vec<ActionOffer> {
    use crate::domain::access::Role;
    use crate::domain::actions::{unavailable, ActionKind};
    if who.role_on(s).is_none_or(|r| r < Role::Operator) {
        return Vec::new();
    }
    let live = s.deleted.is_none();
    let pending = s.pending_version().is_some();
    let shown = |k: ActionKind| match k {
        ActionKind::Rotate => live,
        ActionKind::RetryRotation | ActionKind::ClearPending | ActionKind::CancelRotation => {
            live && pending
        }
        ActionKind::EnableRotation => {
            live && !s.rotation_enabled && s.rotation_lambda_arn.is_some()
        }
        ActionKind::Rollback => {
            s.deleted.is_none() && !crate::domain::actions::rollback_choices(s).is_empty()
        }
        ActionKind::Restore => s.deleted.is_some(),
    };
    ActionKind::ALL
        .into_iter()
        .filter(|k| shown(*k))
        .map(|kind| ActionOffer {
            kind,
            unavailable: unavailable(
                kind,
                s,
                (kind == ActionKind::Rollback)
                    .then(|| crate::domain::actions::rollback_default(s))
                    .flatten()
                    .as_deref(),
            ),
        })
        .collect()
}

pub async fn detail(
    state: &AppState,
    who: &Principal,
    id: &str,
    deprecated: bool,
    refresh: bool,
) -> Result<SecretDetail, AppError> {
    let Opened {
        secret,
        live,
        live_error,
        history,
        at,
    } = open(state, who, id, refresh).await?;
    let mut out = build(&secret, live.as_deref(), live_error, deprecated, at);
    out.history = history;
    out.failure = secret.seen_failure().cloned();
    out.actions = offers(who, &secret);
    let snapshot = state.inventory.snapshot();
    out.primary_link = snapshot
        .primary_of(&secret)
        .filter(|p| who.sees(p))
        .map(|p| p.arn.to_string());
    out.replica_links = snapshot
        .replicas_of(&secret.arn)
        .iter()
        .filter(|r| who.sees(r))
        .map(|r| (r.region.to_string(), r.arn.to_string()))
        .collect();
    out.source = state.source_of(&secret).ok().map(|s| s.id());
    out.owner = crate::domain::owner::owner_with_tag(&secret, &state.config.requests.owner_tag);
    out.access = Box::pin(access_info(state, &secret)).await?;
    let replicas: Option<Vec<ReplicaState>> = live
        .as_deref()
        .map(|l| l.replicas.iter().map(Replica::state).collect());
    let trail = trail_note(&out, &secret);
    out.findings = health::evaluate(&secret, replicas.as_deref(), &state.health.cfg, at)
        .into_iter()
        .map(|f| FindingView {
            fix: f.info().fix_for(&secret, replicas.as_deref()),
            trail: explained_by_failure(f.rule)
                .then(|| trail.clone())
                .flatten(),
            ..FindingView::from(f)
        })
        .collect();
    let why = crate::server::readers::why_not_evaluated(state);
    out.not_evaluated = health::not_evaluated(&secret, &state.health.cfg)
        .into_iter()
        .map(|rule| crate::api::NotEvaluatedView {
            rule: rule.as_str().to_string(),
            title: rule.info().title.to_string(),
            why: why.clone(),
        })
        .collect();
    Ok(out)
}

/// The findings a failed rotation explains: it is why the rotation is
/// stuck, late, or has not happened for long.
fn explained_by_failure(rule: health::RuleId) -> bool {
    use health::RuleId::*;
    matches!(rule, RotationFailed | RotationOverdue | NotRotatedRecently)
}

/// CloudTrail's word on the rotation that has not finished: the failure
/// seen for the pending version, else the newest failed rotation since the
/// last one that worked.
fn trail_note(d: &SecretDetail, s: &Secret) -> Option<TrailNote> {
    use crate::domain::rotation_failure::RotationFailure;
    use crate::domain::rotation_history::RotationEventKind;
    if let Some(f) = &d.failure {
        return f.message.clone().map(|message| TrailNote {
            at: f.at,
            headline: f.headline(),
            message,
        });
    }
    let events = d.history.as_ref()?.as_ref().ok()?;
    let e = events
        .iter()
        .filter(|e| e.kind == RotationEventKind::Failed && e.message.is_some())
        .filter(|e| s.last_rotated.is_none_or(|t| e.at > t))
        .max_by_key(|e| e.at)?;
    let f = RotationFailure::from_event(e, 1);
    Some(TrailNote {
        at: e.at,
        headline: f.headline(),
        message: e.message.clone()?,
    })
}

/// The policy indented for reading, keys in the order AWS sent them; as
/// sent if it is not JSON.
fn pretty_json(raw: &str) -> String {
    if serde_json::from_str::<serde_json::Value>(raw).is_err() {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len() * 2);
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                // Empty objects and arrays stay on one line.
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('}' | ']')) {
                    out.push(chars.next().unwrap_or(' '));
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

fn schedule(s: &Secret) -> (Option<String>, Option<i64>, Option<String>) {
    match s.rotation_rules.as_deref() {
        Some(r) => (
            r.schedule_expression.clone(),
            r.automatically_after_days,
            r.duration.clone(),
        ),
        None => (None, None, None),
    }
}

fn version_row(v: &Version, s: &Secret, now: Timestamp) -> VersionRow {
    let pending = v.labels.contains(&Label::Pending) && !v.labels.contains(&Label::Current);
    let started = v.created.or(s.last_changed);
    VersionRow {
        id: v.id.to_string(),
        labels: v.labels.iter().map(|l| l.as_str().to_string()).collect(),
        created: v.created,
        last_accessed: v.last_accessed,
        deprecated: v.labels.is_empty(),
        stuck_pending: pending
            && started.is_some_and(|t| now.secs() - t.secs() > PENDING_GRACE_SECS),
    }
}

fn build(
    s: &Secret,
    live: Option<&Live>,
    live_error: Option<String>,
    deprecated: bool,
    now: Timestamp,
) -> SecretDetail {
    let all: Vec<VersionRow> = match live {
        Some(l) => l.versions.iter().map(|v| version_row(v, s, now)).collect(),
        None => {
            let mut v: Vec<VersionRow> =
                s.versions.iter().map(|v| version_row(v, s, now)).collect();
            v.sort_by_key(|v| std::cmp::Reverse(v.created));
            v
        }
    };
    let deprecated_count = all.iter().filter(|v| v.deprecated).count();
    let versions = all
        .into_iter()
        .filter(|v| deprecated || !v.deprecated)
        .collect();
    let (rotation_schedule, rotation_days, rotation_window) = schedule(s);
    SecretDetail {
        now,
        name: s.name.to_string(),
        arn: s.arn.to_string(),
        account: s.account.to_string(),
        region: s.region.to_string(),
        description: s.description.as_deref().map(str::to_string),
        owner: owner_of(s),
        kms_key: s.kms_key_id.as_deref().map(str::to_string),
        kms_default: s.uses_default_kms_key(),
        rotation_enabled: s.rotation_enabled,
        rotation_lambda: s.rotation_lambda_arn.as_deref().map(str::to_string),
        rotation_schedule,
        rotation_days,
        rotation_window,
        created: s.created,
        last_changed: s.last_changed,
        last_rotated: s.last_rotated,
        next_rotation: s.next_rotation,
        last_accessed: s.last_accessed,
        deleted: s.deleted,
        primary_region: s.primary_region.as_deref().map(str::to_string),
        primary_link: None,
        replica_links: Vec::new(),
        source: None,
        owning_service: s.owning_service.as_deref().map(str::to_string),
        tags: s
            .tags
            .iter()
            .map(|t| TagLink {
                key: t.key.to_string(),
                value: t.value.to_string(),
                search: toggle_tag_term("", &t.key, Some(&t.value)),
            })
            .collect(),
        state: State::of(s, now),
        versions,
        deprecated_hidden: if deprecated { 0 } else { deprecated_count },
        live: live.map(|l| LiveDetail {
            fetched_at: l.fetched_at,
            replicas: l.replicas.clone(),
            policy_summary: match &l.policy {
                Ok(None) => Ok(Vec::new()),
                Ok(Some(p)) => summarize(p),
                Err(e) => Err(e.clone()),
            },
            policy: l.policy.clone().ok().flatten().map(|p| pretty_json(&p)),
        }),
        live_error,
        findings: Vec::new(),
        not_evaluated: Vec::new(),
        history: None,
        failure: None,
        actions: Vec::new(),
        access: Default::default(),
        seen_at: s.versions_fetched,
    }
}

/// Who decides access to `s`, and its open requests.
async fn access_info(state: &AppState, s: &Secret) -> Result<AccessInfo, AppError> {
    use crate::domain::requests::{duration_text, RequestStatus};
    let (_, users) = crate::server::requests::approvers(state, s).await?;
    let open = state
        .auth
        .store
        .access_requests(
            &crate::server::store::RequestFilter {
                secret_arn: Some(s.arn.to_string()),
                statuses: vec![
                    RequestStatus::Pending,
                    RequestStatus::Approved,
                    RequestStatus::Active,
                ],
                ..Default::default()
            },
            50,
        )
        .await
        .map_err(crate::server::auth::store_error)?;
    Ok(AccessInfo {
        deciders: if users.is_empty() {
            "the admins".to_string()
        } else {
            format!("{} (or an admin)", users.join(", "))
        },
        max_duration: duration_text(state.config.requests.max_duration_secs),
        open,
    })
}

#[cfg(test)]
mod tests {
    use super::{build, pretty_json, trail_note};
    use crate::domain::rotation_failure::RotationFailure;
    use crate::domain::rotation_history::{RotationEvent, RotationEventKind};
    use crate::domain::secret::fixtures::secret;
    use crate::domain::Timestamp;

    fn failed(at: i64, message: &str) -> RotationEvent {
        RotationEvent {
            event_id: format!("e{at}"),
            at: Timestamp::new(at),
            kind: RotationEventKind::Failed,
            secret_arn: "arn".into(),
            secret_name: None,
            version_id: None,
            message: Some(message.into()),
            actor: None,
        }
    }

    #[test]
    fn the_trail_note_is_the_failure_seen_else_the_newest_since_the_last_rotation() {
        let mut s = secret("app/db");
        s.last_rotated = Some(Timestamp::new(1_000));
        let now = Timestamp::new(10_000);
        let mut d = build(&s, None, None, false, now);
        assert_eq!(trail_note(&d, &s), None, "no CloudTrail, no note");
        d.history = Some(Ok(vec![
            failed(500, "before the last rotation: fixed since"),
            failed(2_000, "createSecret failed: old"),
            failed(3_000, "setSecret failed: Task timed out"),
        ]));
        let note = trail_note(&d, &s).unwrap();
        assert_eq!(note.at, Timestamp::new(3_000));
        assert_eq!(note.message, "setSecret failed: Task timed out");
        assert_eq!(note.headline, "Rotation failed at setSecret");
        d.failure = Some(RotationFailure {
            at: Timestamp::new(2_500),
            step: None,
            attempt: 2,
            message: Some("the failure seen for the pending version".into()),
        });
        let note = trail_note(&d, &s).unwrap();
        assert_eq!(note.message, "the failure seen for the pending version");
        assert_eq!(note.headline, "Retry failed, attempt 2");
        d.failure = None;
        d.history = Some(Ok(vec![failed(500, "before the last rotation")]));
        assert_eq!(
            trail_note(&d, &s),
            None,
            "a failure a rotation since fixed explains nothing"
        );
    }

    #[test]
    fn policies_are_indented_in_their_own_order() {
        let raw = r#"{"Version":"2012-10-17","Statement":[{"Sid":"a, \"b\": {c}","Effect":"Allow","Principal":{"AWS":["x","y"]},"Condition":{}}]}"#;
        let want = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "a, \"b\": {c}",
      "Effect": "Allow",
      "Principal": {
        "AWS": [
          "x",
          "y"
        ]
      },
      "Condition": {}
    }
  ]
}"#;
        assert_eq!(pretty_json(raw), want);
        let again: serde_json::Value = serde_json::from_str(&pretty_json(raw)).unwrap();
        assert_eq!(
            again,
            serde_json::from_str::<serde_json::Value>(raw).unwrap()
        );
        assert_eq!(pretty_json("not json {"), "not json {");
    }
}

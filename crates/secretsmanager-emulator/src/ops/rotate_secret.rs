//! RotateSecret: configures rotation and starts a simulated one.

use crate::infra::verdict::Verdict;
use crate::protocol::{ApiError, RotateReq, RulesReq};
use crate::rotation::{RotationOutcome, RotationRecord, RotationStep, StepRecord};
use crate::seed::{EpochMs, RotationRules, VersionData, AWSCURRENT, AWSPENDING, DAY};
use crate::store::checks::{
    check_len, check_version_id, next_rotation, parse_rate, validate_rules,
};
use crate::store::{has_label, new_uuid, push_history, Secret, Store};
use serde_json::{json, Value};

/// RotateSecret's answer while a rotation is running or a version other than
/// AWSCURRENT's holds AWSPENDING (the product matches on this text).
pub(crate) const PREVIOUS_NOT_COMPLETE: &str =
    "A previous rotation isn't complete. That rotation will be reattempted.";

/// True when a version that does not hold AWSCURRENT holds AWSPENDING: a
/// previous rotation is, to Secrets Manager, still in progress.
pub(crate) fn pending_elsewhere(versions: &[VersionData]) -> bool {
    versions
        .iter()
        .any(|v| has_label(v, AWSPENDING) && !has_label(v, AWSCURRENT))
}

impl Store {
    /// RotateSecret. Returns the response and, when a rotation task must run,
    /// `(secret, rotation id)`.
    pub(crate) fn rotate(
        &mut self,
        req: RotateReq,
        now: EpochMs,
    ) -> Result<(Value, Option<(u32, u64)>), ApiError> {
        check_version_id("clientRequestToken", req.client_request_token.as_deref())?;
        check_len(
            "rotationLambdaARN",
            req.rotation_lambda_arn.as_deref(),
            0,
            2048,
        )?;
        if let Some(r) = &req.rotation_rules {
            validate_rules(r)?;
        }
        let rotation_id = self.next_rotation_id;
        let infra = self.infra.clone();
        let (seq, s) = self.live_mut(req.secret_id)?;
        let response = |s: &Secret, version: &str| json!({"ARN": s.data.arn, "Name": s.data.name, "VersionId": version});

        // The same token again: the same answer, and no second rotation.
        if let Some(t) = &req.client_request_token {
            let seen = s.data.versions.iter().any(|v| &v.id == t)
                || s.history
                    .iter()
                    .any(|r| r.client_request_token.as_ref() == Some(t));
            if seen {
                return Ok((response(s, t), None));
            }
        }
        // "If the AWSPENDING staging label is present but not attached to
        // the same version as AWSCURRENT, then any later invocation of
        // RotateSecret assumes that a previous rotation request is still in
        // progress and returns an error." (RotateSecret, API reference)
        if s.running.is_some() || pending_elsewhere(&s.data.versions) {
            return Err(ApiError::invalid_request(PREVIOUS_NOT_COMPLETE));
        }
        let lambda = req
            .rotation_lambda_arn
            .clone()
            .or_else(|| s.data.rotation_lambda_arn.clone());
        if lambda.is_none() && s.data.owning_service.is_none() {
            return Err(ApiError::invalid_request(
                "No Lambda rotation function ARN is associated with this secret.",
            ));
        }
        // "When you add a Lambda rotation function Amazon Resource Name
        // (ARN) to your secret, Secrets Manager checks the permissions of the
        // function." (user guide, troubleshoot_rotation): a function it
        // cannot invoke (gone, its policy, another Region) is refused before
        // anything changes.
        let fail_at = match infra.verdict(&s.data, lambda.as_deref(), s.attempts + 1) {
            Verdict::Refused(why) => return Err(ApiError::client("AccessDeniedException", why)),
            Verdict::Runs(fail_at) => fail_at,
        };

        configure(s, req.rotation_lambda_arn.clone(), req.rotation_rules, now);

        let version_id = req.client_request_token.clone().unwrap_or_else(new_uuid);
        let immediate = req.rotate_immediately.unwrap_or(true);
        let mut record = RotationRecord {
            client_request_token: req.client_request_token,
            immediate,
            ..RotationRecord::new(rotation_id, version_id.clone(), lambda, now)
        };
        let out = response(s, &version_id);
        if !immediate {
            // Only testSecret runs, against a temporary AWSPENDING version
            // that is removed again; labels end as they were.
            record.steps.push(StepRecord {
                step: RotationStep::TestSecret,
                at: now,
                ok: true,
                message: None,
            });
            record.outcome = RotationOutcome::Succeeded;
            record.finished = Some(now);
            push_history(s, record);
            self.next_rotation_id += 1;
            self.touch(seq);
            return Ok((out, None));
        }

        s.attempts += 1;
        record.fail_at = fail_at;
        // AWSPENDING can only be on AWSCURRENT's version here (anywhere else
        // refuses the call above): it moves to the new version, as a
        // rotation's createSecret moves it.
        for v in &mut s.data.versions {
            v.stages.retain(|l| l != AWSPENDING);
        }
        s.data.versions.push(VersionData {
            id: version_id,
            stages: vec![AWSPENDING.to_string()],
            created: now,
            last_accessed: None,
        });
        s.running = Some(rotation_id);
        push_history(s, record);
        self.next_rotation_id += 1;
        self.touch(seq);
        Ok((out, Some((seq, rotation_id))))
    }
}

/// Configures rotation as RotateSecret's parameters say: the Lambda given
/// (if any), the rules given or else the secret's (30 days when it had
/// none), rotation on, and the next rotation from `now`.
fn configure(s: &mut Secret, lambda: Option<String>, rules: Option<RulesReq>, now: EpochMs) {
    if lambda.is_some() {
        s.data.rotation_lambda_arn = lambda;
    }
    if let Some(r) = rules {
        s.data.rotation_rules = Some(RotationRules {
            automatically_after_days: r.automatically_after_days.or_else(|| {
                r.schedule_expression
                    .as_deref()
                    .and_then(parse_rate)
                    .filter(|ms| ms % DAY == 0)
                    .map(|ms| ms / DAY)
            }),
            duration: r.duration,
            schedule_expression: r.schedule_expression,
        });
    } else if s.data.rotation_rules.is_none() {
        s.data.rotation_rules = Some(RotationRules {
            automatically_after_days: Some(30),
            ..RotationRules::default()
        });
    }
    s.data.rotation_enabled = true;
    s.data.last_changed = Some(now);
    s.data.next_rotation = next_rotation(s.data.rotation_rules.as_ref(), now);
}

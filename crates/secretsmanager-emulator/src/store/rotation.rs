//! The store's side of a simulated rotation: one step at a time, its
//! outcome, and Secrets Manager's own retry of a failed rotation (the task
//! that paces them is `crate::rotation::run`).

use crate::infra::verdict::Verdict;
use crate::rotation::{RotationOutcome, RotationRecord, RotationStep, StepRecord};
use crate::seed::{EpochMs, AWSCURRENT, AWSPENDING, AWSPREVIOUS};
use crate::store::checks::next_rotation;
use crate::store::{has_label, push_history, Store};

impl Store {
    /// Runs one step of a rotation; false when the rotation is over.
    pub(crate) fn rotation_step(
        &mut self,
        seq: u32,
        rotation_id: u64,
        step: RotationStep,
        now: EpochMs,
    ) -> bool {
        let Some(Some(s)) = self.secrets.get_mut(seq as usize) else {
            return false;
        };
        if s.running != Some(rotation_id) {
            if let Some(r) = s.history.iter_mut().find(|r| r.id == rotation_id) {
                if r.outcome == RotationOutcome::InProgress {
                    r.outcome = RotationOutcome::Cancelled;
                    r.finished = Some(now);
                }
            }
            return false;
        }
        let Some(r) = s.history.iter_mut().find(|r| r.id == rotation_id) else {
            s.running = None;
            return false;
        };
        if let Some((_, msg)) = r.fail_at.clone().filter(|(at, _)| *at == step) {
            r.steps.push(StepRecord {
                step,
                at: now,
                ok: false,
                message: Some(msg.clone()),
            });
            r.outcome = RotationOutcome::Failed;
            r.finished = Some(now);
            r.message = Some(msg);
            s.running = None;
            self.touch(seq);
            return false;
        }
        r.steps.push(StepRecord {
            step,
            at: now,
            ok: true,
            message: None,
        });
        if step != RotationStep::FinishSecret {
            return true;
        }
        r.outcome = RotationOutcome::Succeeded;
        r.finished = Some(now);
        let new_id = r.version_id.clone();
        let versions = &mut s.data.versions;
        if let Some(new_idx) = versions.iter().position(|v| v.id == new_id) {
            let old = versions.iter().position(|v| has_label(v, AWSCURRENT));
            if old != Some(new_idx) {
                for v in versions.iter_mut() {
                    v.stages.retain(|l| l != AWSPREVIOUS);
                }
                if let Some(old) = old {
                    versions[old].stages.retain(|l| l != AWSCURRENT);
                    versions[old].stages.push(AWSPREVIOUS.to_string());
                }
                versions[new_idx].stages.push(AWSCURRENT.to_string());
            }
            versions[new_idx].stages.retain(|l| l != AWSPENDING);
        }
        s.data.last_rotated = Some(now);
        s.data.last_changed = Some(now);
        s.data.next_rotation = if s.data.rotation_enabled {
            next_rotation(s.data.rotation_rules.as_ref(), now)
        } else {
            None
        };
        s.running = None;
        self.touch(seq);
        false
    }

    /// How rotation `rotation_id` of secret `seq` stands (None once the
    /// secret or the record is gone).
    pub(crate) fn outcome(&self, seq: u32, rotation_id: u64) -> Option<RotationOutcome> {
        let s = self.secrets.get(seq as usize)?.as_ref()?;
        s.history
            .iter()
            .find(|r| r.id == rotation_id)
            .map(|r| r.outcome)
    }

    /// Secrets Manager's own retry of the failed rotation `failed_id`: "If
    /// any rotation step fails, Secrets Manager retries the entire rotation
    /// process multiple times." (user guide, rotating-secrets). The same
    /// rotation runs again, for the same version, only while nothing has
    /// happened since it failed: it is still the secret's newest rotation,
    /// its version still holds AWSPENDING (not AWSCURRENT), nothing is
    /// running, rotation is still on (CancelRotateSecret turns it off) and
    /// the secret is not scheduled for deletion. Returns the new rotation's
    /// id; there is no RotateSecret call behind it.
    pub(crate) fn service_retry(&mut self, seq: u32, failed_id: u64, now: EpochMs) -> Option<u64> {
        let rotation_id = self.next_rotation_id;
        let s = self.secrets.get_mut(seq as usize)?.as_mut()?;
        let last = s.history.last()?;
        let unchanged = last.id == failed_id
            && last.outcome == RotationOutcome::Failed
            && last.immediate
            && s.running.is_none()
            && s.data.rotation_enabled
            && s.data.deleted.is_none()
            && s.data.versions.iter().any(|v| {
                v.id == last.version_id && has_label(v, AWSPENDING) && !has_label(v, AWSCURRENT)
            });
        if !unchanged {
            return None;
        }
        let lambda = s
            .data
            .rotation_lambda_arn
            .clone()
            .or_else(|| last.lambda_arn.clone());
        let version_id = last.version_id.clone();
        let fail_at = match self
            .infra
            .verdict(&s.data, lambda.as_deref(), s.attempts + 1)
        {
            Verdict::Refused(_) => return None,
            Verdict::Runs(fail_at) => fail_at,
        };
        s.attempts += 1;
        let record = RotationRecord {
            service_retry: true,
            fail_at,
            ..RotationRecord::new(rotation_id, version_id, lambda, now)
        };
        s.running = Some(rotation_id);
        push_history(s, record);
        self.next_rotation_id += 1;
        self.touch(seq);
        Some(rotation_id)
    }
}

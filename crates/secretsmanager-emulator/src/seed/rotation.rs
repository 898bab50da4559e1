//! The rotation configuration and state a scenario gives a seeded secret.

use super::*;
use rand::seq::SliceRandom;
use rand::Rng;

/// The rotation configuration and state a scenario gives a secret.
#[derive(Default)]
pub(super) struct RotationState {
    pub(super) enabled: bool,
    pub(super) lambda_arn: Option<String>,
    pub(super) rules: Option<RotationRules>,
    pub(super) last_rotated: Option<EpochMs>,
    pub(super) next_rotation: Option<EpochMs>,
    pub(super) behaviour: Option<LambdaBehaviour>,
    /// A failed rotation's AWSPENDING version, made then.
    pub(super) stuck_pending_at: Option<EpochMs>,
    pub(super) deleted: Option<EpochMs>,
    pub(super) deletion_date: Option<EpochMs>,
    pub(super) accessed_after_deletion: bool,
}

impl Gen {
    /// Rotation rules of `days`: now and then with a schedule expression
    /// (and a window), as the console writes them.
    pub(super) fn rules(&mut self, days: i64) -> RotationRules {
        if self.rng.gen_bool(0.3) {
            RotationRules {
                automatically_after_days: Some(days),
                duration: if self.rng.gen_bool(0.5) {
                    Some("3h".to_string())
                } else {
                    None
                },
                schedule_expression: Some(format!("rate({days} days)")),
            }
        } else {
            RotationRules {
                automatically_after_days: Some(days),
                duration: None,
                schedule_expression: None,
            }
        }
    }

    pub(super) fn lambda(&self, b: LambdaBehaviour, suffix: &str) -> Option<String> {
        Some(lambda_arn(&self.region, &self.account, b, suffix))
    }

    /// The suffix of the one `b` function several secrets share: the first
    /// asker's own (`suffix`), then that.
    fn shared_suffix(&mut self, b: LambdaBehaviour, suffix: &str) -> String {
        self.shared
            .entry(b)
            .or_insert_with(|| suffix.to_string())
            .clone()
    }

    /// The Lambda of the next rotating Healthy secret: now and then the
    /// shared `deprecated` or `nat` one (no draw: dealt by count).
    fn healthy_lambda(&mut self, s: &Shape<'_>) -> (LambdaBehaviour, String) {
        self.healthy_dealt += 1;
        let b = match self.healthy_dealt % HEALTHY_VARIANT_EVERY {
            10 => LambdaBehaviour::Deprecated,
            30 => LambdaBehaviour::Nat,
            _ => return (LambdaBehaviour::Ok, s.lambda_suffix.to_string()),
        };
        (b, self.shared_suffix(b, s.lambda_suffix))
    }

    /// A healthy rotation: rotated within the interval, next one ahead.
    pub(super) fn healthy_rotation(
        &mut self,
        interval: i64,
        created: EpochMs,
    ) -> (EpochMs, EpochMs) {
        let max_age = (interval * DAY - HOUR)
            .min(self.now - created - DAY)
            .max(HOUR);
        let lr = self.between(self.now - max_age, self.now - HOUR);
        (lr, lr + interval * DAY)
    }

    /// The rotation configuration and state the scenario gives the secret
    /// (and the deletion, for ScheduledForDeletion).
    pub(super) fn rotation(
        &mut self,
        s: &Shape<'_>,
        owning_service: Option<&str>,
    ) -> RotationState {
        let (now, created, interval) = (self.now, s.created, s.interval);
        let mut r = RotationState::default();
        match s.scenario {
            Scenario::Healthy
            | Scenario::Replicated
            | Scenario::ReplicaFailed
            | Scenario::Unused => {
                let rotate = match s.scenario {
                    Scenario::Healthy => true,
                    Scenario::Unused => self.rng.gen_bool(0.5),
                    _ => self.rng.gen_bool(0.6),
                };
                if rotate {
                    let (lr, next) = self.healthy_rotation(interval, created);
                    if s.scenario == Scenario::Healthy {
                        let (b, suffix) = self.healthy_lambda(s);
                        self.rotating_with(&mut r, s, b, &suffix);
                    } else {
                        self.rotating(&mut r, s, LambdaBehaviour::Ok);
                    }
                    r.last_rotated = Some(lr);
                    r.next_rotation = Some(next);
                }
            }
            Scenario::RotationFailed | Scenario::RotationFlaky => self.failed(&mut r, s),
            Scenario::Overdue => {
                let late = self.rng.gen_range(3..=60) * DAY + self.between(0, DAY);
                let lr = (now - interval * DAY - late).max(created + HOUR);
                self.rotating(&mut r, s, LambdaBehaviour::Ok);
                r.last_rotated = Some(lr);
                r.next_rotation = Some(lr + interval * DAY);
            }
            Scenario::NeverRotated => {}
            Scenario::DisabledWithRules => {
                self.rotating(&mut r, s, LambdaBehaviour::Ok);
                r.enabled = false;
                let lr = self.between(created + HOUR, (now - 20 * DAY).max(created + 2 * HOUR));
                r.last_rotated = Some(lr);
            }
            Scenario::ScheduledForDeletion => self.scheduled_for_deletion(&mut r, s),
            Scenario::ManagedByService => self.managed_rotation(&mut r, created, owning_service),
            Scenario::LambdaMissing => {
                let suffix = self.shared_suffix(LambdaBehaviour::Missing, s.lambda_suffix);
                self.rotating_with(&mut r, s, LambdaBehaviour::Missing, &suffix);
                let configured = self.between(
                    created + HOUR,
                    (now - interval * DAY - DAY).max(created + 2 * HOUR),
                );
                r.next_rotation = Some(configured + interval * DAY);
            }
        }
        r
    }

    /// Rotation on with the secret's own Lambda of behaviour `b` and rules
    /// of the interval.
    pub(super) fn rotating(&mut self, r: &mut RotationState, s: &Shape<'_>, b: LambdaBehaviour) {
        self.rotating_with(r, s, b, s.lambda_suffix);
    }

    /// Rotation on with the Lambda `SecretsManagerRotation-{b}-{suffix}`.
    fn rotating_with(
        &mut self,
        r: &mut RotationState,
        s: &Shape<'_>,
        b: LambdaBehaviour,
        suffix: &str,
    ) {
        r.enabled = true;
        r.lambda_arn = self.lambda(b, suffix);
        r.behaviour = Some(b);
        r.rules = Some(self.rules(s.interval));
    }

    /// A rotation that failed between 10 days and 2 hours ago and left its
    /// AWSPENDING version behind; the failure causes are dealt in turn, each
    /// cause's function shared from the second round on (flaky ones: every
    /// second one has been fixed since).
    pub(super) fn failed(&mut self, r: &mut RotationState, s: &Shape<'_>) {
        let mut suffix = s.lambda_suffix.to_string();
        let b = if s.scenario == Scenario::RotationFailed {
            self.failed_dealt += 1;
            let b = FAILING_IN_TURN[(self.failed_dealt - 1) % FAILING_IN_TURN.len()];
            suffix = self.shared_suffix(b, s.lambda_suffix);
            b
        } else {
            self.flaky_dealt += 1;
            if self.flaky_dealt.is_multiple_of(2) {
                LambdaBehaviour::Ok
            } else {
                LambdaBehaviour::Flaky
            }
        };
        let failed_at = self.between(self.now - 10 * DAY, self.now - 2 * HOUR);
        self.rotating_with(r, s, b, &suffix);
        let lr = (failed_at - s.interval * DAY).max(s.created + HOUR);
        r.last_rotated = Some(lr);
        r.next_rotation = Some(lr + s.interval * DAY);
        r.stuck_pending_at = Some(failed_at);
    }

    /// Deleted within its recovery window (some of them read since, which
    /// only a deleted secret's caller can explain); now and then it had
    /// rotation configured (and off) before.
    pub(super) fn scheduled_for_deletion(&mut self, r: &mut RotationState, s: &Shape<'_>) {
        let (now, created) = (self.now, s.created);
        if self.rng.gen_bool(0.3) {
            r.lambda_arn = self.lambda(LambdaBehaviour::Ok, s.lambda_suffix);
            r.behaviour = Some(LambdaBehaviour::Ok);
            r.rules = Some(self.rules(s.interval));
            r.last_rotated =
                Some(self.between(created + HOUR, (now - 30 * DAY).max(created + 2 * HOUR)));
        }
        let window = *[7i64, 14, 30, 30, 30]
            .choose(&mut self.rng)
            .expect("windows");
        r.accessed_after_deletion = self.rng.gen_bool(0.4);
        let min_days = if r.accessed_after_deletion { 2 } else { 0 };
        let days = self
            .rng
            .gen_range(min_days..window.min(min_days + 20).max(min_days + 1));
        let at = now - days * DAY - self.between(0, 6 * HOUR) - HOUR;
        r.deleted = Some(at);
        r.deletion_date = Some(at + window * DAY);
    }

    /// A service's managed rotation (no Lambda): RDS and the others every
    /// 7 days, ECS Service Connect every 5, AppFlow none.
    pub(super) fn managed_rotation(
        &mut self,
        r: &mut RotationState,
        created: EpochMs,
        owning_service: Option<&str>,
    ) {
        if owning_service == Some("appflow") {
            return;
        }
        let days = if owning_service == Some("ecs-sc") {
            5
        } else {
            7
        };
        let lr = self.between(self.now - days * DAY + HOUR, self.now - HOUR);
        r.enabled = true;
        r.rules = Some(RotationRules {
            automatically_after_days: Some(days),
            duration: None,
            schedule_expression: Some(format!("rate({days} days)")),
        });
        r.last_rotated = Some(lr.max(created + HOUR));
        r.next_rotation = Some(lr.max(created + HOUR) + days * DAY);
    }
}

//! Health's tests, by topic.

use super::*;
use crate::domain::secret::fixtures::secret;
use crate::domain::secret::VersionId;
use crate::domain::time::span;
use crate::domain::{Label, Tag};
use proptest::prelude::*;
use std::sync::Arc;

mod catalogue;
mod engine;
mod posture;
mod properties;
mod reads;
mod rotation;

const NOW: Timestamp = Timestamp::new(1_795_000_000);

fn at(offset: i64) -> Timestamp {
    Timestamp::new(NOW.secs() + offset)
}

fn cfg() -> HealthConfig {
    HealthConfig::default()
}

fn run(s: &Secret) -> Vec<Finding> {
    evaluate(s, None, &cfg(), NOW)
}

fn fired(s: &Secret, id: RuleId) -> Option<Finding> {
    run(s).into_iter().find(|f| f.rule == id)
}

fn fires_at(s: &Secret, id: RuleId, now: Timestamp) -> bool {
    evaluate(s, None, &cfg(), now).iter().any(|f| f.rule == id)
}

fn tag(s: &mut Secret, k: &str, v: &str) {
    s.tags.push(Tag::new(k, v));
}

/// A secret no rule fires for at NOW.
fn healthy() -> Secret {
    let mut s = secret("prod/payments/db");
    s.description = Some("Payments database".into());
    s.kms_key_id = Some(Arc::from("arn:aws:kms:us-east-1:123456789012:key/1234abcd"));
    s.rotation_enabled = true;
    s.rotation_lambda_arn = Some(Arc::from(
        "arn:aws:lambda:us-east-1:123456789012:function:rotate-db",
    ));
    s.rotation_rules = Some(Arc::new(RotationRules {
        automatically_after_days: Some(30),
        duration: None,
        schedule_expression: None,
    }));
    s.created = Some(at(-400 * DAY));
    s.last_rotated = Some(at(-10 * DAY));
    s.last_changed = Some(at(-10 * DAY));
    s.next_rotation = Some(at(20 * DAY));
    s.last_accessed = Some(at(-DAY));
    tag(&mut s, "owner", "payments-team");
    s
}

fn pending(s: &mut Secret, created: Option<Timestamp>) {
    s.versions.push(Version {
        id: VersionId::parse("0a1b2c3d-4e5f-6789-abcd-ef0123456789"),
        labels: [Label::Pending].into_iter().collect(),
        created,
        last_accessed: None,
    });
}

fn rules(days: Option<i64>, duration: Option<&str>, expr: Option<&str>) -> Arc<RotationRules> {
    Arc::new(RotationRules {
        automatically_after_days: days,
        duration: duration.map(str::to_string),
        schedule_expression: expr.map(str::to_string),
    })
}

fn replica(region: &str, status: &str, message: Option<&str>) -> ReplicaState {
    ReplicaState {
        region: region.into(),
        status: status.into(),
        message: message.map(Into::into),
        last_accessed: None,
    }
}

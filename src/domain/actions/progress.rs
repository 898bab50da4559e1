//! Following a rotation started here: [`RotationProgress`].

use super::*;

/// Where a rotation started from secretscope has got to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RotationStage {
    /// The new version holds AWSPENDING; the Lambda is running.
    Pending,
    /// The new version holds AWSCURRENT.
    Promoted,
    /// CloudTrail recorded a RotationFailed for it.
    Failed,
    /// AWSPENDING left the version without AWSCURRENT (cancelled, replaced).
    Ended,
    /// Still pending when following gave up.
    Stuck,
}

/// A rotation started here, as it was followed: each state it reached, with
/// when, in sentences for the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationProgress {
    pub secret: String,
    pub version: String,
    pub by: String,
    pub stage: RotationStage,
    pub steps: Vec<(Timestamp, String)>,
}

impl RotationProgress {
    pub fn new(secret: &str, version: &str, by: &str, at: Timestamp) -> RotationProgress {
        RotationProgress {
            secret: secret.to_string(),
            version: version.to_string(),
            by: by.to_string(),
            stage: RotationStage::Pending,
            steps: vec![(
                at,
                format!(
                    "Version {version} created with AWSPENDING; the rotation Lambda runs createSecret, \
                     setSecret, testSecret and finishSecret."
                ),
            )],
        }
    }

    pub fn finished(&self) -> bool {
        self.stage != RotationStage::Pending
    }

    /// Following stopped without a look at the end (Secrets Manager could
    /// not be read): stuck, with why.
    pub fn give_up(&mut self, why: &str, at: Timestamp) {
        if !self.finished() {
            self.stage = RotationStage::Stuck;
            self.steps.push((
                at,
                format!(
                    "Stopped following version {}: {why}. Look at the secret's page to see where it got to.",
                    self.version
                ),
            ));
        }
    }

    /// One look at the rotation: the labels its version holds now, the
    /// failure CloudTrail recorded since it started (if any), and whether
    /// the time to follow it is up. Returns true when this ended it.
    pub fn observe(
        &mut self,
        labels: &[String],
        failure: Option<&str>,
        timed_out: bool,
        at: Timestamp,
    ) -> bool {
        if self.finished() {
            return false;
        }
        let v = &self.version;
        let has = |l: &str| labels.iter().any(|x| x == l);
        let (stage, text) = if has("AWSCURRENT") {
            (
                RotationStage::Promoted,
                format!(
                    "Promoted: version {v} holds AWSCURRENT, and applications read the new value."
                ),
            )
        } else if let Some(why) = failure {
            (RotationStage::Failed, {
                let step = crate::domain::rotation_failure::RotationStep::in_message(why)
                    .map(|s| format!(" {s} {}. {}", s.does(), s.guidance()))
                    .unwrap_or_default();
                format!(
                        "The rotation failed: {why}. AWSCURRENT did not move; version {v} keeps AWSPENDING.{step} \
                         When the cause is fixed, Retry rotation clears AWSPENDING and starts again; or cancel \
                         the rotation and look at the Lambda's logs."
                    )
            })
        } else if !has("AWSPENDING") {
            (
                RotationStage::Ended,
                format!(
                    "Version {v} lost AWSPENDING without becoming AWSCURRENT: the rotation was cancelled \
                     or replaced. AWSCURRENT did not move."
                ),
            )
        } else if timed_out {
            (
                RotationStage::Stuck,
                format!(
                    "Still not finished: version {v} holds AWSPENDING. The Lambda may be stuck or failing \
                     without CloudTrail saying so yet; look at its logs, then retry or cancel the rotation."
                ),
            )
        } else {
            return false;
        };
        self.stage = stage;
        self.steps.push((at, text));
        true
    }
}

//! A secret's metadata as the dashboard knows it. Never a value.

use super::Timestamp;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A staging label. The three AWS labels are variants so that the snapshot
/// does not hold millions of copies of the same strings.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Label {
    Current,
    Previous,
    Pending,
    Custom(Arc<str>),
}

impl Label {
    pub fn parse(s: &str) -> Label {
        match s {
            "AWSCURRENT" => Label::Current,
            "AWSPREVIOUS" => Label::Previous,
            "AWSPENDING" => Label::Pending,
            other => Label::Custom(Arc::from(other)),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Label::Current => "AWSCURRENT",
            Label::Previous => "AWSPREVIOUS",
            Label::Pending => "AWSPENDING",
            Label::Custom(s) => s,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: Arc<str>,
    pub value: Arc<str>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    pub id: Arc<str>,
    pub labels: Vec<Label>,
    /// Known only after ListSecretVersionIds; ListSecrets gives labels alone.
    pub created: Option<Timestamp>,
    pub last_accessed: Option<Timestamp>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationRules {
    pub automatically_after_days: Option<i64>,
    pub duration: Option<String>,
    pub schedule_expression: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secret {
    pub arn: Arc<str>,
    pub name: Arc<str>,
    pub account: Arc<str>,
    pub region: Arc<str>,
    pub description: Option<String>,
    /// `None` means the AWS managed key `aws/secretsmanager`.
    pub kms_key_id: Option<String>,
    pub rotation_enabled: bool,
    pub rotation_lambda_arn: Option<String>,
    pub rotation_rules: Option<RotationRules>,
    pub created: Option<Timestamp>,
    pub last_changed: Option<Timestamp>,
    pub last_rotated: Option<Timestamp>,
    pub last_accessed: Option<Timestamp>,
    pub next_rotation: Option<Timestamp>,
    pub deleted: Option<Timestamp>,
    pub owning_service: Option<String>,
    pub primary_region: Option<String>,
    pub tags: Vec<Tag>,
    /// Versions that hold at least one label, newest first once dates are known.
    pub versions: Vec<Version>,
}

impl Secret {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.iter().find(|t| &*t.key == key).map(|t| &*t.value)
    }

    pub fn version_with(&self, label: &Label) -> Option<&Version> {
        self.versions.iter().find(|v| v.labels.contains(label))
    }

    /// True when the secret is encrypted with the AWS managed key.
    pub fn uses_default_kms_key(&self) -> bool {
        match &self.kms_key_id {
            None => true,
            Some(k) => k == "alias/aws/secretsmanager" || k.ends_with(":alias/aws/secretsmanager"),
        }
    }

    /// AWSPENDING on a version other than AWSCURRENT's: a rotation started and
    /// has not finished (or failed and was left behind).
    pub fn pending_version(&self) -> Option<&Version> {
        self.versions
            .iter()
            .find(|v| v.labels.contains(&Label::Pending) && !v.labels.contains(&Label::Current))
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    pub fn secret(name: &str) -> Secret {
        Secret {
            arn: Arc::from(format!(
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-AbCdEf"
            )),
            name: Arc::from(name),
            account: Arc::from("123456789012"),
            region: Arc::from("us-east-1"),
            description: None,
            kms_key_id: None,
            rotation_enabled: false,
            rotation_lambda_arn: None,
            rotation_rules: None,
            created: Some(Timestamp(1_700_000_000)),
            last_changed: None,
            last_rotated: None,
            last_accessed: None,
            next_rotation: None,
            deleted: None,
            owning_service: None,
            primary_region: None,
            tags: vec![],
            versions: vec![Version {
                id: Arc::from("v1"),
                labels: vec![Label::Current],
                created: None,
                last_accessed: None,
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip() {
        for s in ["AWSCURRENT", "AWSPREVIOUS", "AWSPENDING", "blue"] {
            assert_eq!(Label::parse(s).as_str(), s);
        }
        assert_eq!(Label::parse("blue"), Label::Custom(Arc::from("blue")));
    }

    #[test]
    fn default_key_detection() {
        let mut s = fixtures::secret("a");
        assert!(s.uses_default_kms_key());
        s.kms_key_id = Some("alias/aws/secretsmanager".into());
        assert!(s.uses_default_kms_key());
        s.kms_key_id = Some("arn:aws:kms:us-east-1:123456789012:key/1234".into());
        assert!(!s.uses_default_kms_key());
    }

    #[test]
    fn pending_only_when_not_current() {
        let mut s = fixtures::secret("a");
        assert!(s.pending_version().is_none());
        s.versions[0].labels.push(Label::Pending);
        assert!(
            s.pending_version().is_none(),
            "AWSPENDING on AWSCURRENT is not a pending rotation"
        );
        s.versions.push(Version {
            id: Arc::from("v2"),
            labels: vec![Label::Pending],
            created: None,
            last_accessed: None,
        });
        assert_eq!(&*s.pending_version().unwrap().id, "v2");
    }
}

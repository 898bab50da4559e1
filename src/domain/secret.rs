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

/// A tag. Secrets hold their tags as shared `Arc<Tag>`s: the same pairs
/// (`env=prod`, `team=payments`) recur across an inventory, so the sync
/// interns each pair once (8 bytes a tag in a secret, not 32).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tag {
    pub key: Arc<str>,
    pub value: Arc<str>,
}

impl Tag {
    /// A tag of its own (not interned): for tests and one-off secrets.
    pub fn new(key: &str, value: &str) -> Arc<Tag> {
        Arc::new(Tag {
            key: Arc::from(key),
            value: Arc::from(value),
        })
    }
}

/// The labels one version holds. The three AWS labels are bits; custom labels
/// are rare, so they cost nothing when absent. An inventory of 100,000
/// secrets holds a few hundred thousand of these.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Labels {
    aws: u8,
    /// Boxed twice so that the pointer is thin: a `Labels` is 16 bytes and
    /// a `Version` 56, not 24 and 64.
    #[allow(clippy::redundant_allocation)]
    custom: Option<Box<Box<[Arc<str>]>>>,
}

impl Labels {
    const CURRENT: u8 = 1;
    const PREVIOUS: u8 = 2;
    const PENDING: u8 = 4;

    pub fn contains(&self, label: &Label) -> bool {
        match label {
            Label::Current => self.aws & Self::CURRENT != 0,
            Label::Previous => self.aws & Self::PREVIOUS != 0,
            Label::Pending => self.aws & Self::PENDING != 0,
            Label::Custom(c) => self.customs().any(|x| x == c),
        }
    }

    fn customs(&self) -> impl Iterator<Item = &Arc<str>> {
        self.custom.iter().flat_map(|c| c.iter())
    }

    pub fn is_empty(&self) -> bool {
        self.aws == 0 && self.custom.is_none()
    }

    pub fn len(&self) -> usize {
        self.aws.count_ones() as usize + self.custom.as_ref().map_or(0, |c| c.len())
    }

    /// AWS labels first (AWSCURRENT, AWSPENDING, AWSPREVIOUS), then custom ones.
    pub fn iter(&self) -> impl Iterator<Item = Label> + '_ {
        [
            (Self::CURRENT, Label::Current),
            (Self::PENDING, Label::Pending),
            (Self::PREVIOUS, Label::Previous),
        ]
        .into_iter()
        .filter(|(bit, _)| self.aws & bit != 0)
        .map(|(_, l)| l)
        .chain(self.customs().map(|c| Label::Custom(c.clone())))
    }
}

impl FromIterator<Label> for Labels {
    fn from_iter<I: IntoIterator<Item = Label>>(iter: I) -> Self {
        let mut aws = 0;
        let mut custom = Vec::new();
        for l in iter {
            match l {
                Label::Current => aws |= Self::CURRENT,
                Label::Previous => aws |= Self::PREVIOUS,
                Label::Pending => aws |= Self::PENDING,
                Label::Custom(c) => {
                    if !custom.contains(&c) {
                        custom.push(c)
                    }
                }
            }
        }
        Labels {
            aws,
            custom: (!custom.is_empty()).then(|| Box::new(custom.into_boxed_slice())),
        }
    }
}

impl Serialize for Labels {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<Label>::deserialize(d)?.into_iter().collect())
    }
}

/// A version id. Secrets Manager uses the ClientRequestToken, almost always a
/// UUID: those are kept as 16 bytes instead of a 36-character string.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VersionId {
    /// Big-endian bytes (byte-aligned, so a `Version` stays small).
    Uuid([u8; 16]),
    Text(Arc<str>),
}

impl VersionId {
    pub fn parse(s: &str) -> VersionId {
        parse_uuid(s)
            .map(|v| VersionId::Uuid(v.to_be_bytes()))
            .unwrap_or_else(|| VersionId::Text(Arc::from(s)))
    }
}

/// Lower-case hyphenated UUIDs only, so that printing gives back the input.
fn parse_uuid(s: &str) -> Option<u128> {
    let b = s.as_bytes();
    if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
        return None;
    }
    let mut v: u128 = 0;
    for (i, &c) in b.iter().enumerate() {
        if [8, 13, 18, 23].contains(&i) {
            continue;
        }
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        v = (v << 4) | d as u128;
    }
    Some(v)
}

impl std::fmt::Display for VersionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VersionId::Text(t) => f.write_str(t),
            VersionId::Uuid(v) => {
                let h = format!("{:032x}", u128::from_be_bytes(*v));
                write!(
                    f,
                    "{}-{}-{}-{}-{}",
                    &h[0..8],
                    &h[8..12],
                    &h[12..16],
                    &h[16..20],
                    &h[20..32]
                )
            }
        }
    }
}

impl Serialize for VersionId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for VersionId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(VersionId::parse(&String::deserialize(d)?))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    pub id: VersionId,
    pub labels: Labels,
    /// Known only after ListSecretVersionIds; ListSecrets gives labels alone.
    pub created: Option<Timestamp>,
    pub last_accessed: Option<Timestamp>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RotationRules {
    pub automatically_after_days: Option<i64>,
    pub duration: Option<String>,
    pub schedule_expression: Option<String>,
}

/// Many fields repeat across an inventory (KMS keys, Lambdas, rules,
/// regions): they are shared `Arc`s, interned by the sync.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secret {
    pub arn: Arc<str>,
    pub name: Arc<str>,
    pub account: Arc<str>,
    pub region: Arc<str>,
    /// Shared: descriptions repeat across an inventory ("Managed by
    /// Terraform"), so the sync interns them like tags.
    pub description: Option<Arc<str>>,
    /// `None` means the AWS managed key `aws/secretsmanager`.
    pub kms_key_id: Option<Arc<str>>,
    pub rotation_enabled: bool,
    pub rotation_lambda_arn: Option<Arc<str>>,
    pub rotation_rules: Option<Arc<RotationRules>>,
    pub created: Option<Timestamp>,
    pub last_changed: Option<Timestamp>,
    pub last_rotated: Option<Timestamp>,
    pub last_accessed: Option<Timestamp>,
    pub next_rotation: Option<Timestamp>,
    pub deleted: Option<Timestamp>,
    pub owning_service: Option<Arc<str>>,
    pub primary_region: Option<Arc<str>>,
    pub tags: Vec<Arc<Tag>>,
    /// Versions that hold at least one label: AWSCURRENT first.
    pub versions: Vec<Version>,
    /// When version dates were last fetched (ListSecretVersionIds); `None`
    /// until the background pass has reached this secret.
    pub versions_fetched: Option<Timestamp>,
    /// A failure seen (CloudTrail's RotationFailed, or a rotation followed
    /// here) for the rotation pending now; see
    /// [`RotationFailure::applies_to`](super::rotation_failure::RotationFailure::applies_to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Arc<super::rotation_failure::RotationFailure>>,
    /// What the last diagnosis of its rotation found wrong (its failed and
    /// warning checks' causes; see [`super::diagnosis`]); `None` until one
    /// was made. `cause:` searches it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causes: Option<Arc<[super::diagnosis::CauseId]>>,
    /// Who read it, from CloudTrail's GetSecretValue events (see
    /// [`super::reads`]); `None` until they were looked up (or without
    /// CloudTrail). The read rules and `reader:` use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reads: Option<Arc<super::reads::Readers>>,
    /// It matches the configured high-value search (`[readers]
    /// high_value`): `new-reader` watches it, and the background pass reads
    /// it first.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub high_value: bool,
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
        match self.kms_key_id.as_deref() {
            None => true,
            Some(k) => k == "alias/aws/secretsmanager" || k.ends_with(":alias/aws/secretsmanager"),
        }
    }

    /// The failure seen for the rotation pending now, if any: a rotation
    /// that has failed, however young its AWSPENDING version.
    pub fn seen_failure(&self) -> Option<&super::rotation_failure::RotationFailure> {
        self.failure.as_deref().filter(|f| f.applies_to(self))
    }

    /// AWSPENDING on a version other than AWSCURRENT's: a rotation started and
    /// has not finished (or failed and was left behind).
    pub fn pending_version(&self) -> Option<&Version> {
        self.versions
            .iter()
            .find(|v| v.labels.contains(&Label::Pending) && !v.labels.contains(&Label::Current))
    }
}

use super::arn::account_region as arn_account_region;

/// "123456789012 · eu-west-1" for a secret's ARN, or "" when it has no such parts.
pub fn place_of(arn: &str) -> String {
    arn_account_region(arn).map_or_else(String::new, |(a, r)| format!("{a} · {r}"))
}

#[cfg(test)]
mod arn_tests {
    use super::*;

    #[test]
    fn account_and_region_come_from_the_arn() {
        let arn = "arn:aws:secretsmanager:eu-west-1:210987654321:secret:prod/x:y-AbCdEf";
        assert_eq!(arn_account_region(arn), Some(("210987654321", "eu-west-1")));
        assert_eq!(place_of(arn), "210987654321 · eu-west-1");
        assert_eq!(arn_account_region("arn:aws:iam::123456789012:root"), None);
        assert_eq!(arn_account_region("prod/payments/db"), None);
        assert_eq!(place_of("nonsense"), "");
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
            created: Some(Timestamp::new(1_700_000_000)),
            last_changed: None,
            last_rotated: None,
            last_accessed: None,
            next_rotation: None,
            deleted: None,
            owning_service: None,
            primary_region: None,
            tags: vec![],
            versions: vec![Version {
                id: VersionId::parse("v1"),
                labels: [Label::Current].into_iter().collect(),
                created: None,
                last_accessed: None,
            }],
            versions_fetched: None,
            failure: None,
            causes: None,
            reads: None,
            high_value: false,
        }
    }

    /// A secret named `name` with exactly these tags.
    pub fn tagged(name: &str, tags: &[(&str, &str)]) -> Secret {
        let mut s = secret(name);
        s.tags = tags.iter().map(|(k, v)| Tag::new(k, v)).collect();
        s
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
    fn label_sets() {
        let l: Labels = [
            Label::Previous,
            Label::Custom(Arc::from("blue")),
            Label::Current,
            Label::Current,
        ]
        .into_iter()
        .collect();
        assert_eq!(l.len(), 3);
        assert!(l.contains(&Label::Current) && l.contains(&Label::Custom(Arc::from("blue"))));
        assert!(!l.contains(&Label::Pending) && !l.contains(&Label::Custom(Arc::from("green"))));
        let order: Vec<String> = l.iter().map(|x| x.as_str().to_string()).collect();
        assert_eq!(order, ["AWSCURRENT", "AWSPREVIOUS", "blue"]);
        let json = serde_json::to_string(&l).unwrap();
        assert_eq!(serde_json::from_str::<Labels>(&json).unwrap(), l);
        assert!(Labels::default().is_empty());
    }

    /// An inventory holds a few hundred thousand versions: a custom label
    /// must not cost every version a wide pointer.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn versions_stay_small() {
        assert_eq!(std::mem::size_of::<Labels>(), 16);
        assert_eq!(std::mem::size_of::<Version>(), 56);
    }

    #[test]
    fn version_ids_round_trip() {
        for s in [
            "11111111-1111-4111-8111-111111111111",
            "0a1b2c3d-4e5f-6789-abcd-ef0123456789",
            "ABCDEF01-1111-4111-8111-111111111111",
            "v1",
            "not-a-uuid-but-36-characters-long-xx",
        ] {
            assert_eq!(VersionId::parse(s).to_string(), s);
        }
        assert!(matches!(
            VersionId::parse("0a1b2c3d-4e5f-6789-abcd-ef0123456789"),
            VersionId::Uuid(_)
        ));
        assert!(matches!(
            VersionId::parse("ABCDEF01-1111-4111-8111-111111111111"),
            VersionId::Text(_)
        ));
    }

    #[test]
    fn default_key_detection() {
        let mut s = fixtures::secret("a");
        assert!(s.uses_default_kms_key());
        s.kms_key_id = Some(Arc::from("alias/aws/secretsmanager"));
        assert!(s.uses_default_kms_key());
        s.kms_key_id = Some(Arc::from("arn:aws:kms:us-east-1:123456789012:key/1234"));
        assert!(!s.uses_default_kms_key());
    }

    #[test]
    fn pending_only_when_not_current() {
        let mut s = fixtures::secret("a");
        assert!(s.pending_version().is_none());
        s.versions[0].labels = [Label::Current, Label::Pending].into_iter().collect();
        assert!(
            s.pending_version().is_none(),
            "AWSPENDING on AWSCURRENT is not a pending rotation"
        );
        s.versions.push(Version {
            id: VersionId::parse("v2"),
            labels: [Label::Pending].into_iter().collect(),
            created: None,
            last_accessed: None,
        });
        assert_eq!(s.pending_version().unwrap().id.to_string(), "v2");
    }
}

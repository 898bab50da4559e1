//! Who reads a seeded secret: [`PlannedReader`], one principal reading at a
//! steady cadence, and the arithmetic of its read times.
//!
//! A reader reads at `from`, `from + every`, `from + 2·every`, … while
//! before `until` (when it has one) and not after the endpoint's clock.
//! Nothing is stored per read: CloudTrail's `GetSecretValue` events are
//! computed from these few numbers on each LookupEvents call (see
//! [`crate::cloudtrail`]), so a reader of 10,000 reads costs what one of
//! ten does. The mix the seed plans is in `seed/mix.rs`.

use super::{EpochMs, SeedSecret, SECOND};
use serde::{Deserialize, Serialize};

/// What a reader was planned as (the dashboard's readers view tells these
/// apart from the events alone; tests compare it with this).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReaderKind {
    /// An application reading AWSCURRENT at its cadence.
    Steady,
    /// Keeps asking `VersionStage=AWSPREVIOUS` for days after the last rotation.
    Previous,
    /// Reads of a secret scheduled for deletion, after its DeletedDate: each
    /// fails with InvalidRequestException ("marked for deletion").
    AfterDeletion,
    /// A principal never seen before, first reading within the last 3 days
    /// (on a `data-classification=restricted` secret).
    Newcomer,
    /// Refused: AccessDenied (no identity-based policy allows the read).
    Denied,
    /// Refused: DecryptionFailure (the secret's KMS key is disabled or
    /// pending deletion).
    DecryptFailed,
}

/// One principal reading one secret at a steady cadence, as CloudTrail
/// records it (one `GetSecretValue` event per read; with `batch`, one
/// `BatchGetSecretValue` event and one `GetSecretValue` event per read).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PlannedReader {
    /// The IAM ARN the dashboard should report: `arn:aws:iam::ACCOUNT:role/NAME`
    /// or `arn:aws:iam::ACCOUNT:user/NAME`.
    pub principal: String,
    /// The account the principal lives in (the secret's own, another
    /// account of the organisation, or [`FOREIGN_ACCOUNT`]).
    pub account: String,
    /// What the events' `Username` shows: a role's session name (in the
    /// recorded `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`), or a
    /// user's name.
    pub session: String,
    /// The `VersionStage` asked for (`AWSPREVIOUS`); None with no
    /// `version_id`: AWSCURRENT, as no stage and no id mean.
    pub stage: Option<String>,
    /// The `VersionId` asked for, if any.
    #[serde(default)]
    pub version_id: Option<String>,
    /// None: the reads succeed; else each fails with (errorCode, errorMessage).
    pub error: Option<(String, String)>,
    /// Reads made through BatchGetSecretValue.
    #[serde(default)]
    pub batch: bool,
    /// The first read.
    pub from: EpochMs,
    /// Reads stop before this (None: they go on with the endpoint's clock).
    pub until: Option<EpochMs>,
    /// Time between two reads, at least a second.
    pub every: EpochMs,
    pub kind: ReaderKind,
}

/// The account of readers that are not the organisation's.
pub const FOREIGN_ACCOUNT: &str = "999988887777";

/// InvalidRequestException's message for a secret scheduled for deletion.
pub const MARKED_FOR_DELETION: &str =
    "You can't perform this operation on the secret because it was marked for deletion.";

/// Whether the principal is a role or a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalType {
    Role,
    User,
}

impl PlannedReader {
    fn step(&self) -> i128 {
        i128::from(self.every.max(1))
    }

    /// The last instant a read may happen (`until` is exclusive).
    fn last_allowed(&self, end: EpochMs) -> EpochMs {
        self.until.map_or(end, |u| end.min(u.saturating_sub(1)))
    }

    /// The first read at or after `start`, if it is at or before `end`.
    fn first_in(&self, start: EpochMs, end: EpochMs) -> Option<EpochMs> {
        let hi = self.last_allowed(end);
        let from = i128::from(self.from);
        let lo = i128::from(start).max(from);
        let k = (lo - from + self.step() - 1).div_euclid(self.step());
        let t = from + k * self.step();
        (t <= i128::from(hi)).then_some(t as EpochMs)
    }

    /// The read times in `[start, end]`, oldest first (`end` inclusive; give
    /// the endpoint's `now` for "so far").
    pub fn times(&self, start: EpochMs, end: EpochMs) -> impl Iterator<Item = EpochMs> {
        let hi = self.last_allowed(end);
        let every = self.every.max(1);
        let first = self.first_in(start, end);
        std::iter::successors(first, move |t| {
            t.checked_add(every).filter(|next| *next <= hi)
        })
    }

    /// How many reads fall in `[start, end]`.
    pub fn count(&self, start: EpochMs, end: EpochMs) -> u64 {
        match (self.first_in(start, end), self.latest(start, end)) {
            (Some(a), Some(b)) => ((i128::from(b) - i128::from(a)) / self.step() + 1) as u64,
            _ => 0,
        }
    }

    /// The newest read in `[start, end]`.
    pub fn latest(&self, start: EpochMs, end: EpochMs) -> Option<EpochMs> {
        let hi = i128::from(self.last_allowed(end));
        let from = i128::from(self.from);
        if hi < from {
            return None;
        }
        let t = from + ((hi - from) / self.step()) * self.step();
        (t >= i128::from(start)).then_some(t as EpochMs)
    }

    /// The read before `t` (newest first), if it is at or after `start`.
    pub(crate) fn before(&self, t: EpochMs, start: EpochMs) -> Option<EpochMs> {
        let prev = t.checked_sub(self.every.max(1))?;
        (prev >= self.from && prev >= start).then_some(prev)
    }

    /// Role or user, and its name (the last part of the ARN's path).
    pub fn principal_type(&self) -> Option<(PrincipalType, &str)> {
        let (_, resource) = principal_parts(&self.principal)?;
        if let Some(r) = resource.strip_prefix("role/") {
            Some((PrincipalType::Role, r.rsplit('/').next()?))
        } else if let Some(u) = resource.strip_prefix("user/") {
            Some((PrincipalType::User, u.rsplit('/').next()?))
        } else {
            None
        }
    }

    /// The access key its calls are signed with: `ASIA…` (a role's
    /// temporary credentials) or `AKIA…` (a user's long-term key).
    pub fn access_key_id(&self) -> String {
        match self.principal_type() {
            Some((PrincipalType::User, _)) => {
                format!("AKIA{}", key_chars(&[&self.principal], 16))
            }
            _ => format!("ASIA{}", key_chars(&[&self.principal, &self.session], 16)),
        }
    }

    /// The unique id IAM gives the role (`AROA…`) or user (`AIDA…`).
    pub fn principal_id(&self) -> String {
        match self.principal_type() {
            Some((PrincipalType::User, _)) => format!("AIDA{}", key_chars(&[&self.principal], 17)),
            _ => format!("AROA{}", key_chars(&[&self.principal], 17)),
        }
    }

    /// Why this reader cannot be recorded as given, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        let Some((account, _)) = principal_parts(&self.principal) else {
            return Err(format!(
                "principal {:?} is not arn:aws:iam::ACCOUNT:role/NAME or arn:aws:iam::ACCOUNT:user/NAME",
                self.principal
            ));
        };
        let Some((kind, name)) = self.principal_type().filter(|(_, n)| valid_name(n)) else {
            return Err(format!(
                "principal {:?} names no role or user",
                self.principal
            ));
        };
        if account != self.account {
            return Err(format!(
                "account {:?} is not the principal's ({account})",
                self.account
            ));
        }
        let session_ok = self.session.len() >= 2
            && self.session.len() <= 64
            && self
                .session
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
        if kind == PrincipalType::Role && !session_ok {
            return Err(format!(
                "session {:?} is not a role session name (2 to 64 of A-Z a-z 0-9 _+=,.@-)",
                self.session
            ));
        }
        if kind == PrincipalType::User && self.session != name {
            return Err(format!(
                "a user's session is its name ({name:?}), not {:?}",
                self.session
            ));
        }
        if self.every < SECOND {
            return Err(format!(
                "every is {} ms: at least 1000 (a second)",
                self.every
            ));
        }
        if self.until.is_some_and(|u| u <= self.from) {
            return Err("until must be after from".to_string());
        }
        if self.stage.is_some() && self.version_id.is_some() {
            return Err("ask for a stage or a version id, not both".to_string());
        }
        self.check_texts()
    }

    fn check_texts(&self) -> Result<(), String> {
        let long = |s: &str, max: usize| s.is_empty() || s.chars().count() > max;
        if self.stage.as_deref().is_some_and(|s| long(s, 256)) {
            return Err("stage must be 1 to 256 characters".to_string());
        }
        if self.version_id.as_deref().is_some_and(|s| long(s, 64)) {
            return Err("version_id must be 1 to 64 characters".to_string());
        }
        if let Some((code, message)) = &self.error {
            if long(code, 128) || message.chars().count() > 2048 {
                return Err(
                    "an error is a code of 1 to 128 characters and a message of at most 2048"
                        .to_string(),
                );
            }
        }
        Ok(())
    }
}

/// (account, resource) of an IAM ARN.
fn principal_parts(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
        .then_some((account, resource))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// FNV-1a of the parts (platform-independent, unlike `DefaultHasher`).
pub(crate) fn fnv(parts: &[&str]) -> u64 {
    parts.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, p| {
        p.bytes().chain(std::iter::once(0xff)).fold(h, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    })
}

/// `n` characters of IAM's key alphabet (A–Z, 2–7), from the parts.
fn key_chars(parts: &[&str], n: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut h = fnv(parts);
    (0..n)
        .map(|i| {
            if i % 12 == 0 && i > 0 {
                h = fnv(&[&h.to_string()]);
            }
            let c = CHARS[(h & 31) as usize] as char;
            h >>= 5;
            c
        })
        .collect()
}

/// In an organisation: two in three of the seed's readers from another
/// account become readers from one of `others` (the organisation's other
/// accounts); the rest stay [`FOREIGN_ACCOUNT`]'s, "not one of ours".
/// Which ones is a hash of the reader, so the same every run.
pub fn place_in_org(seeds: &mut [SeedSecret], others: &[String]) {
    if others.is_empty() {
        return;
    }
    for s in seeds {
        for r in &mut s.plan.readers {
            if r.account != FOREIGN_ACCOUNT {
                continue;
            }
            let h = fnv(&[&r.principal, &r.session, &s.plan.arn]);
            if h.is_multiple_of(3) {
                continue;
            }
            let to = &others[(h / 3) as usize % others.len()];
            r.principal = r.principal.replacen(FOREIGN_ACCOUNT, to, 1);
            r.account = to.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(from: EpochMs, until: Option<EpochMs>, every: EpochMs) -> PlannedReader {
        PlannedReader {
            principal: "arn:aws:iam::123456789012:role/payments-api".into(),
            account: "123456789012".into(),
            session: "payments-api-7f9c".into(),
            stage: None,
            version_id: None,
            error: None,
            batch: false,
            from,
            until,
            every,
            kind: ReaderKind::Steady,
        }
    }

    #[test]
    fn times_and_count_agree_on_every_window() {
        let r = reader(1_000, Some(10_000), 1_000);
        // Reads at 1000, 2000, …, 9000 (until is exclusive).
        assert_eq!(r.times(0, i64::MAX - 1).count(), 9);
        assert_eq!(r.count(0, i64::MAX - 1), 9);
        for (a, b) in [
            (0, 0),
            (1_000, 1_000),
            (1_500, 4_000),
            (9_000, 20_000),
            (10_000, 20_000),
            (3_001, 3_999),
        ] {
            let listed: Vec<_> = r.times(a, b).collect();
            assert_eq!(listed.len() as u64, r.count(a, b), "[{a}, {b}]");
            assert!(listed.iter().all(|t| *t >= a && *t <= b));
            assert_eq!(r.latest(a, b), listed.last().copied(), "[{a}, {b}]");
        }
        let open = reader(0, None, 7);
        assert_eq!(open.count(0, 70), 11);
        assert_eq!(open.latest(0, 69), Some(63));
        assert_eq!(open.before(63, 0), Some(56));
        assert_eq!(open.before(3, 0), None);
    }

    #[test]
    fn identities_are_stable_and_shaped_like_iams() {
        let r = reader(0, None, 1_000);
        assert_eq!(
            r.principal_type(),
            Some((PrincipalType::Role, "payments-api"))
        );
        let key = r.access_key_id();
        assert!(key.starts_with("ASIA") && key.len() == 20, "{key}");
        assert_eq!(key, r.access_key_id());
        assert!(r.principal_id().starts_with("AROA"));
        let mut u = r.clone();
        u.principal = "arn:aws:iam::123456789012:user/ci-deployer".into();
        u.session = "ci-deployer".into();
        assert!(u.access_key_id().starts_with("AKIA"));
        assert!(u.check().is_ok());
        u.session = "other".into();
        assert!(u.check().is_err());
        let mut bad = r.clone();
        bad.account = "210987654321".into();
        assert!(bad.check().unwrap_err().contains("not the principal's"));
        bad = r.clone();
        bad.every = 999;
        assert!(bad.check().is_err());
        bad = r;
        bad.principal = "arn:aws:iam::123456789012:group/devs".into();
        assert!(bad.check().is_err());
    }
}

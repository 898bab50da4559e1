//! Whether one secret matches: the tree walked term by term.

use super::*;
use crate::domain::diagnosis::CauseId;
use crate::domain::health::Summary;
use crate::domain::rotation_failure::RotationStep;
use crate::domain::{Secret, Timestamp};

impl Term {
    /// The field name (`"name"`, `"tag"`, …), or `None` for free text.
    pub fn field(&self) -> Option<&'static str> {
        Some(match self {
            Term::Text(_) => return None,
            Term::Name(_) => "name",
            Term::Tag { .. } => "tag",
            Term::Region(_) => "region",
            Term::Account(_) => "account",
            Term::Kms(_) => "kms",
            Term::Rotation(_) => "rotation",
            Term::Deleted(_) => "deleted",
            Term::Service(_) => "service",
            Term::Health { .. } => "health",
            Term::Rule(_) => "rule",
            Term::Suppressed(_) => "suppressed",
            Term::Rotated(_) => "rotated",
            Term::Next(_) => "next",
            Term::Step(_) => "step",
            Term::Cause(_) => "cause",
            Term::Reader(_) => "reader",
            Term::Readers(_) => "readers",
            Term::Owner(_) => "owner",
        })
    }

    /// Whether the term reads [`Facts`] rather than the secret alone.
    pub fn needs_facts(&self) -> bool {
        matches!(
            self,
            Term::Health { .. }
                | Term::Rule(_)
                | Term::Suppressed(_)
                | Term::Rotated(_)
                | Term::Next(_)
        )
    }

    pub fn matches(&self, s: &Secret) -> bool {
        self.matches_with(s, None)
    }

    pub fn matches_with(&self, s: &Secret, facts: Option<&SecretFacts>) -> bool {
        if self.needs_facts() {
            return facts.is_some_and(|f| self.matches_facts(s, f.now, f.health));
        }
        match self {
            Term::Text(v) => {
                v.is_in(&s.name)
                    || s.description.as_deref().is_some_and(|d| v.is_in(d))
                    || s.tags.iter().any(|t| v.is_in(&t.value))
            }
            Term::Name(v) => v.prefix_or_glob(&s.name),
            Term::Tag { key, value: None } => s.tags.iter().any(|t| key.exact(&t.key)),
            Term::Tag {
                key,
                value: Some(value),
            } => s
                .tags
                .iter()
                .any(|t| key.exact(&t.key) && value.exact_or_glob(&t.value)),
            Term::Region(v) => v.exact_or_glob(&s.region),
            Term::Account(v) => v.exact_or_glob(&s.account),
            Term::Kms(Kms::Default) => s.uses_default_kms_key(),
            Term::Kms(Kms::Customer) => !s.uses_default_kms_key(),
            Term::Kms(Kms::Contains(v)) => {
                v.is_in(s.kms_key_id.as_deref().unwrap_or(AWS_MANAGED_KEY))
            }
            Term::Rotation(on) => s.rotation_enabled == *on,
            Term::Deleted(yes) => s.deleted.is_some() == *yes,
            Term::Service(Service::Unmanaged) => s.owning_service.is_none(),
            Term::Service(Service::Prefix(v)) => s
                .owning_service
                .as_deref()
                .is_some_and(|o| v.prefix_or_glob(o)),
            Term::Step(want) => step_matches(*want, failed_step(s)),
            Term::Cause(want) => s
                .causes
                .as_deref()
                .is_some_and(|got| want.map_or(!got.is_empty(), |w| got.contains(&w))),
            Term::Reader(v) => s.reads.as_deref().is_some_and(|r| {
                r.readers.iter().any(|r| {
                    v.exact_or_glob(&r.principal.arn) || v.exact_or_glob(r.principal.name())
                })
            }),
            Term::Readers(want) => want.matches(s.reads.as_deref().map(|r| r.readers.len())),
            Term::Owner(want) => {
                let owners = crate::domain::owner::owners_of(s);
                match want {
                    OwnerTerm::None => owners.owner().is_none(),
                    OwnerTerm::Known => owners.owner().is_some(),
                    OwnerTerm::Conflict => owners.conflict(),
                    OwnerTerm::Name(v) => [&owners.tag, &owners.description]
                        .into_iter()
                        .flatten()
                        .any(|o| v.exact_or_glob(&o.name)),
                }
            }
            Term::Health { .. }
            | Term::Rule(_)
            | Term::Suppressed(_)
            | Term::Rotated(_)
            | Term::Next(_) => false,
        }
    }

    /// The health and date terms; false for the others.
    pub(super) fn matches_facts(&self, s: &Secret, now: Timestamp, health: Summary) -> bool {
        match self {
            Term::Health {
                worst: None,
                or_worse: _,
            } => health.worst.is_none(),
            Term::Health {
                worst: Some(want),
                or_worse,
            } => match health.worst {
                Some(w) if *or_worse => w >= *want,
                Some(w) => w == *want,
                None => false,
            },
            Term::Rule(id) => health.active().contains(*id),
            Term::Suppressed(yes) => health.suppressed.is_empty() != *yes,
            Term::Rotated(when) => when.matches(s.last_rotated, now, false),
            Term::Next(when) => when.matches(s.next_rotation, now, true),
            _ => false,
        }
    }
}

/// The step the rotation pending on `s` failed at, when a failure is seen
/// for it and names its step: what `step:` reads (and [`SearchIndex`] keeps).
pub(super) fn failed_step(s: &Secret) -> Option<RotationStep> {
    s.seen_failure().and_then(|f| f.step)
}

/// `step:` (`want`; `None` for any) against a secret's failed step.
pub(super) fn step_matches(want: Option<RotationStep>, got: Option<RotationStep>) -> bool {
    got.is_some_and(|got| want.is_none_or(|w| w == got))
}

/// A secret's causes as a bit set, bit `c as u32` for cause `c`: what
/// [`SearchIndex`] keeps for `cause:`, one word per row instead of a
/// pointer to a slice. No diagnosis and a diagnosis that found nothing are
/// both 0.
pub(super) fn cause_bits(s: &Secret) -> u32 {
    s.causes
        .as_deref()
        .unwrap_or_default()
        .iter()
        .fold(0, |bits, c| bits | cause_bit(*c))
}

/// `cause:` (`want`; `None` for any) against a row's [`cause_bits`].
pub(super) fn cause_bits_match(want: Option<CauseId>, bits: u32) -> bool {
    match want {
        Some(c) => bits & cause_bit(c) != 0,
        None => bits != 0,
    }
}

fn cause_bit(c: CauseId) -> u32 {
    1 << c as u32
}

// Every cause has a bit of its own in a u32 (a 33rd cause would need u64).
const _: () = {
    let mut i = 0;
    while i < CauseId::ALL.len() {
        assert!((CauseId::ALL[i] as u32) < u32::BITS);
        i += 1;
    }
};

impl ReaderCount {
    /// Against a secret's number of readers (`None`: not looked up).
    pub fn matches(self, readers: Option<usize>) -> bool {
        match (self, readers) {
            (ReaderCount::Unknown, got) => got.is_none(),
            (ReaderCount::Is(_, _), None) => false,
            (ReaderCount::Is(cmp, n), Some(got)) => {
                // A count beyond u32 is more than any N: compare as u64.
                let (got, n) = (got as u64, u64::from(n));
                match cmp {
                    Cmp::Eq => got == n,
                    Cmp::Lt => got < n,
                    Cmp::Le => got <= n,
                    Cmp::Gt => got > n,
                    Cmp::Ge => got >= n,
                }
            }
        }
    }
}

impl When {
    /// `future`: N days ahead of `now` (for `next:`) rather than behind.
    fn matches(self, date: Option<Timestamp>, now: Timestamp, future: bool) -> bool {
        let Some(d) = date else {
            return self == When::Never;
        };
        // How far the date is from now, in the direction of the field.
        let distance = if future {
            d.secs() - now.secs()
        } else {
            now.secs() - d.secs()
        };
        match self {
            When::Never => false,
            When::Within(days) => distance < i64::from(days) * DAY,
            When::Beyond(days) => distance >= i64::from(days) * DAY,
            When::Day(start) => (start..start + DAY).contains(&d.secs()),
        }
    }

    pub(super) fn parse(lower: &str) -> Option<When> {
        if lower == "never" {
            return Some(When::Never);
        }
        let days = |rest: &str| rest.strip_suffix('d').and_then(|n| n.parse::<u32>().ok());
        if let Some(rest) = lower.strip_prefix('<') {
            return days(rest).map(When::Within);
        }
        if let Some(rest) = lower.strip_prefix('>') {
            return days(rest).map(When::Beyond);
        }
        let day = chrono::NaiveDate::parse_from_str(lower, "%Y-%m-%d").ok()?;
        Some(When::Day(day.and_hms_opt(0, 0, 0)?.and_utc().timestamp()))
    }
}

//! The readers the seed plans for a secret: a realistic mix, drawn from a
//! stream of its own (derived from the secret's seed), after every other
//! draw, so that no name, date or id of the inventory moves.
//!
//! - Every secret but an Unused one: 1 to 3 steady readers (application
//!   roles named after its service or team, now and then a CI user), each
//!   every 3 to 12 hours (at most 8 reads a day in all), from 20 to 80 days
//!   before the last read (never before 90 days ago, never before the
//!   secret was made). Unused secrets: none (nothing in 90 days).
//! - One reader in 8 lives in another account ([`FOREIGN_ACCOUNT`]; in an
//!   organisation most become its other accounts, see [`place_in_org`]).
//! - LastAccessedDate bounds the successful reads: none after the end of
//!   the secret's LastAccessedDate day, and its first reader reads exactly
//!   then (so the last read's day is the LastAccessedDate). Each version's
//!   LastAccessedDate is raised to its last successful read
//!   ([`align_versions`]); the secret's is never changed.
//! - Rotated within 30 days (rotation on): one in three gets a reader that
//!   keeps asking for AWSPREVIOUS for 2 to 10 days after the rotation.
//! - ScheduledForDeletion with `accessed_after_deletion`: the first reader
//!   reads until DeletedDate, then on the same cadence fails with
//!   InvalidRequestException "marked for deletion" ([`MARKED_FOR_DELETION`]);
//!   without the flag, reads stop on its LastAccessedDate, before the deletion.
//! - `data-classification=restricted` and read in the last 2 days: one in
//!   four gets a newcomer, first reading within the last 3 days.
//! - prod secrets: one in twenty gets a developer role refused (AccessDenied)
//!   for 1 to 5 days within the last month.
//! - The secrets whose KMS key is disabled or pending deletion (the
//!   `keydisabled` and `keypending` rotation causes): every reader fails with
//!   DecryptionFailure from the failed rotation on.
//! - One successful own-account steady reader in forty reads through
//!   BatchGetSecretValue.
//!
//! [`place_in_org`]: super::reads::place_in_org

use super::reads::{PlannedReader, ReaderKind, FOREIGN_ACCOUNT, MARKED_FOR_DELETION};
use super::{
    EpochMs, Scenario, SecretData, SplitMix64, VersionData, AWSCURRENT, AWSPREVIOUS, DAY, HOUR,
    SECOND,
};
use rand::seq::SliceRandom;
use rand::Rng;

const MINUTE: EpochMs = 60 * SECOND;

/// The other accounts' roles that read a secret (one per steady reader, so
/// no two readers of a secret are one principal).
const FOREIGN_ROLES: [&str; 3] = ["analytics-etl", "data-platform-reader", "partner-sync"];
/// The users that read a secret (one per steady reader, for the same reason).
const USERS: [&str; 3] = ["ci-deployer", "jenkins", "terraform-ci"];

/// What a secret's readers are planned from.
pub(super) struct ReadContext<'a> {
    pub now: EpochMs,
    pub account: &'a str,
    pub scenario: Scenario,
    pub data: &'a SecretData,
    pub team: &'a str,
    pub app: Option<&'a str>,
    pub env: Option<&'a str>,
    pub accessed_after_deletion: bool,
    /// Since when its KMS key refuses to decrypt, and AWS's message.
    pub broken_key: Option<(EpochMs, String)>,
}

/// The readers' stream: a SplitMix64 seeded from the secret's own seed,
/// apart from the stream its other aspects are drawn from.
pub(super) fn stream(secret_seed: u64) -> SplitMix64 {
    let mut s = SplitMix64(secret_seed ^ 0x7265_6164_6572_7321);
    SplitMix64(rand::RngCore::next_u64(&mut s))
}

fn floor_sec(t: EpochMs) -> EpochMs {
    t.div_euclid(SECOND) * SECOND
}

fn day_end(t: EpochMs) -> EpochMs {
    t.div_euclid(DAY) * DAY + DAY
}

/// The first instant at or after `lo` that is `anchor` plus a multiple of `every`.
fn in_phase(anchor: EpochMs, every: EpochMs, lo: EpochMs) -> EpochMs {
    anchor + (lo - anchor + every - 1).div_euclid(every) * every
}

fn hex(rng: &mut SplitMix64, n: usize) -> String {
    (0..n)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

struct Who {
    principal: String,
    account: String,
    session: String,
}

impl ReadContext<'_> {
    fn base(&self) -> &str {
        self.app.unwrap_or(self.team)
    }

    /// The reads that succeed end before this.
    fn ok_end(&self, last: EpochMs) -> EpochMs {
        let end = match self.data.deleted {
            Some(d) if self.accessed_after_deletion => d,
            Some(d) => day_end(last).min(d),
            None => day_end(last),
        };
        self.broken_key.as_ref().map_or(end, |(at, _)| end.min(*at))
    }

    /// Role `name`, or one time in eight (when it has one) role `foreign`
    /// of another account; and its session.
    fn role(&self, rng: &mut SplitMix64, name: &str, foreign: Option<&str>) -> Who {
        let (account, name) = match foreign {
            Some(f) if rng.gen_ratio(1, 8) => (FOREIGN_ACCOUNT, f),
            _ => (self.account, name),
        };
        let mut session = if rng.gen_bool(0.5) {
            format!("i-0{}", hex(rng, 16))
        } else {
            format!("{name}-{}", hex(rng, 4))
        };
        session.truncate(64);
        Who {
            principal: format!("arn:aws:iam::{account}:role/{name}"),
            account: account.to_string(),
            session,
        }
    }

    fn user(&self, name: &str) -> Who {
        Who {
            principal: format!("arn:aws:iam::{}:user/{name}", self.account),
            account: self.account.to_string(),
            session: name.to_string(),
        }
    }

    fn reader(&self, who: &Who, kind: ReaderKind, from: EpochMs, every: EpochMs) -> PlannedReader {
        PlannedReader {
            principal: who.principal.clone(),
            account: who.account.clone(),
            session: who.session.clone(),
            stage: None,
            version_id: None,
            error: None,
            batch: false,
            from,
            until: None,
            every,
            kind,
        }
    }

    /// The steady readers: the first reads at `last` (the LastAccessedDate)
    /// on its cadence; each reads from 20 to 80 days before `ok_end` up to it.
    fn steady(&self, rng: &mut SplitMix64, last: EpochMs) -> Vec<PlannedReader> {
        let n = match rng.gen_range(0..20) {
            0..=9 => 1,
            10..=16 => 2,
            _ => 3,
        };
        let base = self.base().to_string();
        let mut names = vec![
            format!("{base}-api"),
            format!("{base}-worker"),
            match self.app {
                Some(app) => format!("{}-{app}-task", self.team),
                None => format!("{}-task", self.team),
            },
            format!("{base}-batch"),
            format!("{base}-consumer"),
        ];
        names.shuffle(rng);
        let ok_end = self.ok_end(last);
        let min_every = [3, 6, 9][n - 1] * HOUR;
        let mut out = Vec::new();
        for (i, name) in names.into_iter().take(n).enumerate() {
            let every = floor_sec(rng.gen_range(min_every..=12 * HOUR));
            let span = rng.gen_range(20..=80) * DAY;
            let who = if rng.gen_ratio(1, 12) {
                self.user(USERS[i])
            } else {
                self.role(rng, &name, Some(FOREIGN_ROLES[i]))
            };
            let anchor = if i == 0 {
                floor_sec(last)
            } else {
                floor_sec(ok_end - rng.gen_range(SECOND..every))
            };
            let start = (self.data.created + HOUR)
                .max(self.now - 90 * DAY)
                .max(ok_end - span);
            let from = in_phase(anchor, every, start);
            let batch = who.account == self.account && rng.gen_ratio(1, 40);
            let mut r = self.reader(&who, ReaderKind::Steady, from, every);
            r.until = Some(ok_end);
            r.batch = batch && self.failing(i == 0).is_none();
            let failing = self.failing_half(&r, i == 0);
            if from < ok_end {
                out.push(r);
            }
            out.extend(failing);
        }
        out
    }

    /// How reads fail after they stop succeeding, if they go on: after the
    /// deletion (the first reader of a secret read after it), or for a
    /// broken key (every reader).
    fn failing(&self, first: bool) -> Option<(EpochMs, ReaderKind, (String, String))> {
        if let Some((at, message)) = &self.broken_key {
            let e = ("DecryptionFailure".to_string(), message.clone());
            return Some((*at, ReaderKind::DecryptFailed, e));
        }
        match self.data.deleted {
            Some(d) if first && self.accessed_after_deletion => {
                let e = (
                    "InvalidRequestException".to_string(),
                    MARKED_FOR_DELETION.to_string(),
                );
                Some((d, ReaderKind::AfterDeletion, e))
            }
            _ => None,
        }
    }

    /// The failing continuation of steady reader `r` (same principal, same
    /// cadence), from its first read at or after the cut, on and on.
    fn failing_half(&self, r: &PlannedReader, first: bool) -> Option<PlannedReader> {
        let (cut, kind, error) = self.failing(first)?;
        let from = in_phase(r.from, r.every, cut.max(r.from));
        if from > self.now {
            return None;
        }
        let mut f = r.clone();
        f.from = from;
        f.until = None;
        f.kind = kind;
        f.error = Some(error);
        f.batch = false;
        Some(f)
    }

    /// Rotated within 30 days: a job that keeps asking for AWSPREVIOUS.
    fn previous(&self, rng: &mut SplitMix64, last: EpochMs) -> Option<PlannedReader> {
        let d = self.data;
        let rotated = d
            .last_rotated
            .filter(|t| *t >= self.now - 30 * DAY && *t < self.now)?;
        let eligible = d.rotation_enabled
            && d.deleted.is_none()
            && self.broken_key.is_none()
            && d.versions.iter().any(|v| has(v, AWSPREVIOUS));
        if !(eligible && rng.gen_ratio(1, 3)) {
            return None;
        }
        let from = floor_sec(rotated + rng.gen_range(10 * MINUTE..6 * HOUR));
        let every = floor_sec(rng.gen_range(2 * HOUR..=6 * HOUR));
        let until = (from + rng.gen_range(2..=10) * DAY).min(self.ok_end(last));
        let name = format!(
            "{}-{}",
            self.base(),
            ["legacy-worker", "reporting", "sidecar"].choose(rng)?
        );
        let who = self.role(rng, &name, Some("reporting-replica"));
        let mut r = self.reader(&who, ReaderKind::Previous, from, every);
        r.stage = Some(AWSPREVIOUS.to_string());
        r.until = Some(until);
        (from < until).then_some(r)
    }

    /// Restricted and read lately: a principal never seen before, first
    /// reading within the last 3 days.
    fn newcomer(&self, rng: &mut SplitMix64, last: EpochMs) -> Option<PlannedReader> {
        let d = self.data;
        let eligible = d.tag("data-classification") == Some("restricted")
            && d.deleted.is_none()
            && self.broken_key.is_none()
            && last >= self.now - 2 * DAY;
        if !(eligible && rng.gen_ratio(1, 4)) {
            return None;
        }
        let ok_end = self.ok_end(last);
        let lo = self.now - 3 * DAY + HOUR;
        let hi = ok_end.min(self.now) - 30 * MINUTE;
        if hi <= lo {
            return None;
        }
        let from = floor_sec(rng.gen_range(lo..hi));
        let every = floor_sec(rng.gen_range(2 * HOUR..=8 * HOUR));
        let pool = [
            "contractor-analytics",
            "temp-data-export",
            "ml-experiments",
            "support-tooling",
        ];
        let name = *pool.choose(rng)?;
        let who = self.role(rng, name, Some("vendor-onboarding"));
        let mut r = self.reader(&who, ReaderKind::Newcomer, from, every);
        r.until = Some(ok_end);
        Some(r)
    }

    /// prod: now and then a developer's role, refused for a few days.
    fn denied(&self, rng: &mut SplitMix64, secret_arn: &str) -> Option<PlannedReader> {
        if !(self.env == Some("prod") && self.data.deleted.is_none() && rng.gen_ratio(1, 20)) {
            return None;
        }
        let from = floor_sec(self.now - rng.gen_range(DAY..30 * DAY));
        let every = floor_sec(rng.gen_range(2 * HOUR..=12 * HOUR));
        let until = from + rng.gen_range(1..=5) * DAY;
        let name = format!(
            "{}-{}",
            self.team,
            ["developer", "dev-admin", "oncall-dev"].choose(rng)?
        );
        let who = self.role(rng, &name, None);
        let message = format!(
            "User: arn:aws:sts::{}:assumed-role/{name}/{} is not authorized to perform: \
             secretsmanager:GetSecretValue on resource: {secret_arn} because no \
             identity-based policy allows the secretsmanager:GetSecretValue action",
            who.account, who.session
        );
        let mut r = self.reader(&who, ReaderKind::Denied, from, every);
        r.until = Some(until);
        r.error = Some(("AccessDenied".to_string(), message));
        Some(r)
    }
}

/// The readers of one secret (none for an Unused one).
pub(super) fn plan_reads(ctx: &ReadContext<'_>, rng: &mut SplitMix64) -> Vec<PlannedReader> {
    if ctx.scenario == Scenario::Unused {
        return Vec::new();
    }
    let Some(last) = ctx.data.last_accessed else {
        return Vec::new();
    };
    let mut out = ctx.steady(rng, last);
    out.extend(ctx.previous(rng, last));
    out.extend(ctx.newcomer(rng, last));
    out.extend(ctx.denied(rng, &ctx.data.arn));
    // A reader made of two halves never asks twice for the same instant.
    out.retain(|r| r.until.is_none_or(|u| u > r.from));
    out
}

fn has(v: &VersionData, label: &str) -> bool {
    v.stages.iter().any(|l| l == label)
}

/// Raises each version's LastAccessedDate to its last successful read up
/// to `now` (never lowers it): a read of AWSCURRENT at `t` read the
/// version that was current then; a read of a stage, the version holding
/// it; a read of an id, that version. With `secret`, the secret's own
/// LastAccessedDate too (the seed leaves it as drawn: its reads end on it).
pub(crate) fn align_versions(
    d: &mut SecretData,
    readers: &[PlannedReader],
    now: EpochMs,
    secret: bool,
) {
    let Some(cur) = d.versions.iter().position(|v| has(v, AWSCURRENT)) else {
        return;
    };
    let mut newest: Vec<Option<EpochMs>> = vec![None; d.versions.len()];
    let created: Vec<EpochMs> = d.versions.iter().map(|v| v.created).collect();
    let raise = |slot: &mut Option<EpochMs>, t: Option<EpochMs>| {
        if let Some(t) = t {
            *slot = Some(slot.map_or(t, |s: EpochMs| s.max(t)));
        }
    };
    for r in readers.iter().filter(|r| r.error.is_none()) {
        match (&r.stage, &r.version_id) {
            (None, None) => {
                // Version k was current from its creation to the next one's.
                for (k, slot) in newest.iter_mut().enumerate().take(cur + 1) {
                    let start = created[k];
                    let end = if k < cur { created[k + 1] - 1 } else { now };
                    raise(slot, r.latest(start, end.min(now)));
                }
            }
            (Some(label), _) => {
                if let Some(k) = d.versions.iter().position(|v| has(v, label)) {
                    raise(&mut newest[k], r.latest(EpochMs::MIN, now));
                }
            }
            (None, Some(id)) => {
                if let Some(k) = d.versions.iter().position(|v| v.id == *id) {
                    raise(&mut newest[k], r.latest(EpochMs::MIN, now));
                }
            }
        }
    }
    for (v, t) in d.versions.iter_mut().zip(&newest) {
        raise(&mut v.last_accessed, *t);
    }
    if secret {
        let all = newest.iter().flatten().copied().max();
        raise(&mut d.last_accessed, all);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_line_up() {
        assert_eq!(in_phase(100, 10, 100), 100);
        assert_eq!(in_phase(100, 10, 101), 110);
        assert_eq!(in_phase(100, 10, 35), 40);
        assert_eq!(in_phase(100, 10, 30), 30);
        assert_eq!(in_phase(100, 10, 31), 40);
        assert_eq!(day_end(DAY + 5), 2 * DAY);
        assert_eq!(floor_sec(1_999), 1_000);
    }
}

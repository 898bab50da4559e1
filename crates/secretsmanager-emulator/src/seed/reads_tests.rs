//! The read plan's invariants, on the default demo seed and a larger one:
//! LookupEvents records exactly these readers, so what they promise is
//! what the dashboard can be checked against.

use super::reads::{PlannedReader, ReaderKind, FOREIGN_ACCOUNT, MARKED_FOR_DELETION};
use super::*;

const NOW: i64 = 1_760_000_000;
const NOW_MS: EpochMs = NOW * SECOND;
const ACCOUNT: &str = "123456789012";

fn default_seed() -> Vec<SeedSecret> {
    generate(300, 42, NOW, ACCOUNT, "us-east-1")
}

/// The default demo seed and a larger one of another seed.
fn both() -> Vec<SeedSecret> {
    let mut all = default_seed();
    all.extend(generate(1000, 7, NOW, ACCOUNT, "us-east-1"));
    all
}

/// The reads CloudTrail keeps (the last 90 days) up to the seed's clock.
fn kept(r: &PlannedReader) -> Vec<EpochMs> {
    r.times(NOW_MS - 90 * DAY, NOW_MS).collect()
}

fn ok(r: &PlannedReader) -> bool {
    r.error.is_none()
}

/// DescribeSecret, API reference, DeletedDate: "If a secret is scheduled
/// for deletion, then its details, including the encrypted secret value,
/// is not accessible. To cancel a scheduled deletion and restore access to
/// the secret, use RestoreSecret." GetSecretValue's errors:
/// "InvalidRequestException … Possible causes: The secret is scheduled for
/// deletion." So a secret's reads succeed until its DeletedDate and fail
/// after it — on exactly the secrets `accessed_after_deletion` flags; the
/// others' readers stopped before the deletion.
#[test]
fn deleted_secrets_fail_their_reads_only_after_deletion() {
    let mut flagged = 0;
    for s in both().iter().filter(|s| s.plan.deleted) {
        let d = s.data.deleted.unwrap();
        let after: Vec<_> = s
            .plan
            .readers
            .iter()
            .filter(|r| r.kind == ReaderKind::AfterDeletion)
            .collect();
        assert_eq!(
            !after.is_empty(),
            s.plan.accessed_after_deletion,
            "{}",
            s.plan.name
        );
        for r in &after {
            let times = kept(r);
            assert!(!times.is_empty(), "{}", s.plan.name);
            assert!(times.iter().all(|t| *t >= d), "{}", s.plan.name);
            let (code, message) = r.error.clone().unwrap();
            assert_eq!(
                (code.as_str(), message.as_str()),
                ("InvalidRequestException", MARKED_FOR_DELETION)
            );
            // The same principal read it successfully until the deletion.
            let before = s
                .plan
                .readers
                .iter()
                .find(|b| ok(b) && b.principal == r.principal && b.session == r.session)
                .expect("its successful reads");
            assert!(!kept(before).is_empty() && kept(before).iter().all(|t| *t < d));
            assert_eq!(before.every, r.every, "one cadence");
            flagged += 1;
        }
        for r in s.plan.readers.iter().filter(|r| ok(r)) {
            assert!(kept(r).iter().all(|t| *t < d), "{}", s.plan.name);
        }
    }
    assert!(flagged >= 4, "{flagged}");
}

/// GetSecretValue, API reference, VersionStage: "If you don't specify
/// either a VersionStage or VersionId, Secrets Manager returns the
/// AWSCURRENT version." A Previous reader names AWSPREVIOUS, and only
/// after the last rotation (LastRotatedDate within 30 days, rotation on).
#[test]
fn previous_readers_ask_for_awsprevious_after_the_last_rotation() {
    let seeds = both();
    let mut seen = 0;
    for s in &seeds {
        for r in s.plan.readers.iter().filter(|r| r.stage.is_some()) {
            assert_eq!(r.kind, ReaderKind::Previous);
            assert_eq!(r.stage.as_deref(), Some(AWSPREVIOUS));
            let rotated = s.data.last_rotated.unwrap();
            assert!(s.data.rotation_enabled && rotated >= NOW_MS - 30 * DAY);
            assert!(r.from > rotated, "{}", s.plan.name);
            assert!(!kept(r).is_empty());
            seen += 1;
        }
        for r in s
            .plan
            .readers
            .iter()
            .filter(|r| r.kind == ReaderKind::Previous)
        {
            assert!(r.stage.is_some());
        }
    }
    assert!(seen >= 10, "{seen}");
}

/// A newcomer reads a `data-classification=restricted` secret, first
/// within the last 3 days, and is no other reader of it.
#[test]
fn newcomers_on_restricted_secrets_start_within_3_days() {
    let default = default_seed();
    let count = |seeds: &[SeedSecret]| {
        seeds
            .iter()
            .flat_map(|s| &s.plan.readers)
            .filter(|r| r.kind == ReaderKind::Newcomer)
            .count()
    };
    assert!(count(&default) >= 2, "{}", count(&default));
    for s in both() {
        for r in s
            .plan
            .readers
            .iter()
            .filter(|r| r.kind == ReaderKind::Newcomer)
        {
            assert_eq!(s.data.tag("data-classification"), Some("restricted"));
            let first = r.times(EpochMs::MIN, NOW_MS).next().expect("a read by now");
            assert!(
                (NOW_MS - 3 * DAY..=NOW_MS).contains(&first),
                "{}",
                s.plan.name
            );
            let others = s.plan.readers.iter().filter(|o| o.principal == r.principal);
            assert_eq!(others.count(), 1, "never seen before: {}", s.plan.name);
        }
    }
}

/// Unused secrets: no read in the 90 days CloudTrail keeps, as their
/// LastAccessedDate says (90 to 400 days ago, or never).
#[test]
fn unused_secrets_have_no_reads_in_90_days() {
    for s in both()
        .iter()
        .filter(|s| s.plan.scenario == Scenario::Unused)
    {
        let reads: usize = s.plan.readers.iter().map(|r| kept(r).len()).sum();
        assert_eq!(reads, 0, "{}", s.plan.name);
    }
}

/// SecretVersionsListEntry, API reference: LastAccessedDate is "The date
/// that this version of the secret was last accessed. Note that the
/// resolution of this field is at the date level and does not include the
/// time." Each successful read at `t` read a version whose LastAccessedDate
/// is on or after `t`'s day, and so is the secret's; where the secret's
/// reads all succeed, its LastAccessedDate is the day of its last read.
#[test]
fn successful_reads_agree_with_last_accessed_dates() {
    let day = |t: EpochMs| t.div_euclid(DAY);
    for s in both() {
        let d = &s.data;
        let accessed = d.last_accessed.map(day);
        let current = d.versions.iter().position(|v| has_label(v, AWSCURRENT));
        let mut newest: Option<EpochMs> = None;
        for r in s.plan.readers.iter().filter(|r| ok(r)) {
            for t in kept(r) {
                assert!(accessed >= Some(day(t)), "{}: read at {t}", d.name);
                let version = match r.stage.as_deref() {
                    Some(label) => d.versions.iter().position(|v| has_label(v, label)),
                    // AWSCURRENT then: the newest version made by `t`.
                    None => (0..=current.unwrap())
                        .rev()
                        .find(|k| d.versions[*k].created <= t),
                };
                if let Some(k) = version {
                    let v = d.versions[k].last_accessed.map(day);
                    assert!(v >= Some(day(t)), "{}: version {k}, read at {t}", d.name);
                }
                newest = newest.max(Some(t));
            }
        }
        let all_succeed = s.plan.readers.iter().all(ok) && !s.plan.deleted;
        if let (true, Some(t)) = (all_succeed, newest) {
            assert_eq!(accessed, Some(day(t)), "{}", d.name);
        }
    }
}

fn has_label(v: &VersionData, label: &str) -> bool {
    v.stages.iter().any(|l| l == label)
}

/// The mix of the default demo seed: active secrets have 1 to 3 steady
/// readers (distinct principals), a reader every 2 to 12 hours, at most
/// 1000 events a secret in 90 days (so a ResourceName lookup of 20 pages
/// still reaches its rotation events), one reader in about 8 from another
/// account, a few users, batch readers, refusals of each kind.
#[test]
fn the_default_seed_deals_a_realistic_mix() {
    let seeds = default_seed();
    let readers: Vec<&PlannedReader> = seeds.iter().flat_map(|s| &s.plan.readers).collect();
    let kind = |k: ReaderKind| readers.iter().filter(|r| r.kind == k).count();
    assert!(kind(ReaderKind::Denied) >= 1);
    assert!(kind(ReaderKind::DecryptFailed) >= 1);
    assert!(readers.iter().filter(|r| r.batch).count() >= 3);
    assert!(
        readers
            .iter()
            .filter(|r| r.principal.contains(":user/"))
            .count()
            >= 3
    );
    let cross = readers.iter().filter(|r| r.account != ACCOUNT).count();
    assert!(
        cross * 6 >= readers.len() / 2 && cross * 6 <= readers.len() * 2,
        "{cross} of {}",
        readers.len()
    );
    assert!(readers.iter().any(|r| r.account == FOREIGN_ACCOUNT));
    for r in &readers {
        assert!(r.check().is_ok(), "{r:?}");
        assert!((2 * HOUR..=12 * HOUR).contains(&r.every), "{r:?}");
    }
    for s in &seeds {
        let events: u64 = s
            .plan
            .readers
            .iter()
            .map(|r| r.count(NOW_MS - 90 * DAY, NOW_MS) * if r.batch { 2 } else { 1 })
            .sum();
        assert!(events <= 1000, "{}: {events}", s.plan.name);
        let active = !matches!(
            s.plan.scenario,
            Scenario::Unused | Scenario::ScheduledForDeletion
        );
        if active {
            let steady: std::collections::BTreeSet<_> = s
                .plan
                .readers
                .iter()
                .filter(|r| r.kind == ReaderKind::Steady)
                .map(|r| &r.principal)
                .collect();
            assert!(
                (1..=3).contains(&steady.len()),
                "{}: {steady:?}",
                s.plan.name
            );
        }
    }
}

/// In an organisation, two in three readers from another account are the
/// organisation's; the rest stay foreign. Principal and account agree.
#[test]
fn readers_from_other_accounts_are_placed_in_the_organisation() {
    let mut seeds = default_seed();
    let foreign = |seeds: &[SeedSecret]| {
        seeds
            .iter()
            .flat_map(|s| &s.plan.readers)
            .filter(|r| r.account == FOREIGN_ACCOUNT)
            .count()
    };
    let before = foreign(&seeds);
    let others = ["210987654321".to_string(), "999999999999".to_string()];
    place_in_org(&mut seeds, &others);
    let after = foreign(&seeds);
    assert!(after > 0 && after < before, "{before} -> {after}");
    for r in seeds.iter().flat_map(|s| &s.plan.readers) {
        assert!(r
            .principal
            .starts_with(&format!("arn:aws:iam::{}:", r.account)));
        assert!(r.check().is_ok());
    }
    for o in &others {
        assert!(seeds
            .iter()
            .flat_map(|s| &s.plan.readers)
            .any(|r| &r.account == o));
    }
}

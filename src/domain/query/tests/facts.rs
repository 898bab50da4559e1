use super::*;
use crate::domain::health::{self, HealthConfig, RuleSet};

const NOW: i64 = 1_800_000_000;

fn summary(worst: Option<Severity>, active: &[RuleId], suppressed: &[RuleId]) -> Summary {
    let mut fired: RuleSet = active.iter().copied().collect();
    for id in suppressed {
        fired.insert(*id);
    }
    Summary {
        fired,
        suppressed: suppressed.iter().copied().collect(),
        worst,
    }
}

fn at(input: &str, s: &Secret, health: Summary) -> bool {
    let facts = SecretFacts {
        now: Timestamp::new(NOW),
        health,
    };
    q(input).matches_with(s, Some(&facts))
}

#[test]
fn parse_print_and_errors() {
    for input in [
        "health:ok",
        "health:critical",
        "health:high+",
        "rule:rotation-failed",
        "suppressed:yes",
        "rotated:<30d",
        "rotated:>90d",
        "rotated:never",
        "next:2026-12-01",
        "-rule:unused health:low+",
    ] {
        assert_eq!(q(input).to_string(), input, "round trip");
        assert!(q(input).needs_facts(), "{input}");
    }
    assert_eq!(
        q("HEALTH:High+ RULE:Unused").to_string(),
        "health:high+ rule:unused"
    );
    assert!(!q("name:prod rotation:on").needs_facts());
    assert_err(
        "health:hihg",
        7,
        "unknown value \"hihg\" for health (did you mean high?)",
        expected_for("health"),
    );
    assert_eq!(
        err("health:ok+").position,
        7,
        "ok has nothing worse-or-equal form"
    );
    let e = err("rule:rotaton-failed");
    assert_eq!(
        e.message,
        "unknown rule \"rotaton-failed\" (did you mean rotation-failed?)"
    );
    assert_eq!(e.expected.len(), RuleId::ALL.len(), "lists every rule id");
    for bad in [
        "rotated:30d",
        "rotated:<30",
        "next:<xd",
        "next:2026-13-01",
        "rotated:soon",
    ] {
        let e = err(bad);
        assert!(e.message.contains("date condition"), "{bad}: {e}");
        assert_eq!(e.expected, expected_for(bad.split(':').next().unwrap()));
    }
}

#[test]
fn health_terms() {
    let s = secret("a");
    let crit = summary(
        Some(Severity::Critical),
        &[RuleId::RotationFailed, RuleId::Unused],
        &[RuleId::NoDescription],
    );
    assert!(at("health:critical", &s, crit));
    assert!(at("health:high+", &s, crit));
    assert!(at("health:critical+", &s, crit));
    assert!(!at("health:high", &s, crit), "exact severity");
    assert!(!at("health:ok", &s, crit));
    assert!(at("rule:unused rule:rotation-failed", &s, crit));
    assert!(
        !at("rule:no-description", &s, crit),
        "suppressed is not active"
    );
    assert!(at("suppressed:yes", &s, crit));
    let ok = summary(None, &[], &[RuleId::Unused]);
    assert!(at("health:ok", &s, ok));
    assert!(!at("health:info+", &s, ok));
    assert!(at("suppressed:yes -rule:unused", &s, ok));
    assert!(at("suppressed:no", &s, Summary::default()));
    let low = summary(Some(Severity::Low), &[RuleId::Unused], &[]);
    assert!(at("health:low", &s, low) && at("health:info+", &s, low));
    assert!(!at("health:medium+", &s, low));
    // Without facts, these terms match nothing (and their negation everything).
    assert!(!q("health:ok").matches(&s));
    assert!(q("-health:ok").matches(&s));
}

#[test]
fn date_terms_at_their_boundaries() {
    let mut s = secret("a");
    let ago = |days: i64, extra: i64| Some(Timestamp::new(NOW - days * DAY + extra));
    let none = Summary::default();
    assert!(at("rotated:never", &s, none));
    assert!(!at("rotated:<30d", &s, none) && !at("rotated:>30d", &s, none));
    s.last_rotated = ago(30, 1);
    assert!(at("rotated:<30d", &s, none), "a second under 30 days");
    assert!(!at("rotated:>30d", &s, none));
    s.last_rotated = ago(30, 0);
    assert!(
        !at("rotated:<30d", &s, none) && at("rotated:>30d", &s, none),
        "exactly 30 days is beyond"
    );
    s.last_rotated = ago(30, -1);
    assert!(at("rotated:>30d", &s, none));
    assert!(!at("rotated:never", &s, none));

    let day = chrono::NaiveDate::from_ymd_opt(2027, 1, 15).unwrap();
    let start = day.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();
    s.last_rotated = Some(Timestamp::new(start));
    assert!(at("rotated:2027-01-15", &s, none));
    s.last_rotated = Some(Timestamp::new(start + DAY - 1));
    assert!(at("rotated:2027-01-15", &s, none));
    s.last_rotated = Some(Timestamp::new(start + DAY));
    assert!(!at("rotated:2027-01-15", &s, none), "next day");

    assert!(at("next:never", &s, none));
    s.next_rotation = Some(Timestamp::new(NOW + 7 * DAY - 1));
    assert!(at("next:<7d", &s, none) && !at("next:>7d", &s, none));
    s.next_rotation = Some(Timestamp::new(NOW - DAY));
    assert!(at("next:<7d", &s, none), "already due counts as within");
    s.next_rotation = Some(Timestamp::new(NOW + 7 * DAY));
    assert!(at("next:>7d", &s, none) && !at("next:<7d", &s, none));
}

struct Rows<'a> {
    secrets: &'a [Secret],
    health: Vec<Summary>,
}

impl Facts for Rows<'_> {
    fn now(&self) -> Timestamp {
        Timestamp::new(NOW)
    }
    fn health(&self, row: usize) -> Summary {
        self.health[row]
    }
    fn secret(&self, row: usize) -> &Secret {
        &self.secrets[row]
    }
}

#[test]
fn select_with_agrees_with_matches_with() {
    let cfg = HealthConfig::default();
    let now = Timestamp::new(NOW);
    let mut secrets = Vec::new();
    for i in 0..40i64 {
        let mut s = tagged(
            &format!("team{}/s{i}", i % 3),
            &[("owner", "x")][..(i % 2) as usize],
        );
        s.rotation_enabled = i % 4 == 0;
        s.last_rotated = (i % 5 != 0).then(|| Timestamp::new(NOW - i * 7 * DAY));
        s.next_rotation = s
            .rotation_enabled
            .then(|| Timestamp::new(NOW + (i - 10) * DAY));
        s.description = (i % 3 == 0).then(|| "d".into());
        if i % 7 == 0 {
            s.tags.push(Tag::new("secretscope:suppress", "*: accepted"));
        }
        secrets.push(s);
    }
    let health: Vec<Summary> = secrets
        .iter()
        .map(|s| health::summarize(s, None, &cfg, now))
        .collect();
    let index = SearchIndex::new(secrets.iter());
    let rows = Rows {
        secrets: &secrets,
        health,
    };
    for input in [
        "health:ok",
        "health:medium",
        "health:low+",
        "rule:not-rotated-recently",
        "rule:missing-required-tags -rule:rotation-disabled",
        "suppressed:yes",
        "rotated:<60d OR rotated:never",
        "rotated:>100d name:team1",
        "next:<5d",
        "next:never rotation:off",
        "-next:>3d team2",
    ] {
        let query = q(input);
        let want: Vec<usize> = (0..secrets.len())
            .filter(|&i| {
                let f = SecretFacts {
                    now,
                    health: rows.health[i],
                };
                query.matches_with(&secrets[i], Some(&f))
            })
            .collect();
        let got = query.select_with(&index, Some(&rows));
        assert_eq!(got, want, "{input}");
        assert!(
            !want.is_empty() && want.len() < secrets.len(),
            "{input} should split the fixture: {want:?}"
        );
    }
}

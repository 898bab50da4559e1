//! Builds the overview and the on-call queue from the current
//! [`HealthView`]. Every count is paired with the search that lists the
//! same secrets, built from the query language's own terms so that the
//! link and the number cannot disagree.

use crate::api::{
    Bucket, Count, Day, GroupCount, HealthCount, Oncall, OncallFacets, OncallRow, Overview,
    RuleCount,
};
use crate::domain::health::{self, RuleId, Severity, Summary};
use crate::domain::oncall::{Entry, OncallFilter, Order, NO_OWNER};
use crate::domain::owner::owner_of;
use crate::domain::query::{Expr, Term, Value};
use crate::domain::rotation_failure::{failed_attempts, RotationFailure};
use crate::domain::rotation_history::{failure_since, RotationEvent};
use crate::domain::{Secret, Timestamp};
use crate::server::failures::trail_failures;
use crate::server::health::{Alarm, HealthView};
use crate::server::AppState;
use std::collections::HashMap;
use std::sync::Arc;

const DAY: i64 = 86_400;
/// Top-level folders shown at most.
const MAX_PATHS: usize = 12;
/// Worst first, then none.
const WORST_ORDER: [Option<Severity>; 6] = [
    Some(Severity::Critical),
    Some(Severity::High),
    Some(Severity::Medium),
    Some(Severity::Low),
    Some(Severity::Info),
    None,
];

fn health_term(worst: Option<Severity>) -> String {
    Expr::Term(Term::Health {
        worst,
        or_worse: false,
    })
    .to_string()
}

/// `a b` without empty parts.
fn join(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

fn count(count: usize, q: impl Into<String>, path: &str) -> Count {
    Count {
        count,
        q: q.into(),
        path: path.to_string(),
    }
}

/// Counts by worst severity, in [`WORST_ORDER`].
type ByWorst = [usize; 6];

fn slot(worst: Option<Severity>) -> usize {
    WORST_ORDER.iter().position(|w| *w == worst).unwrap_or(5)
}

fn group(label: String, q: &str, path: &str, by: &ByWorst) -> GroupCount {
    GroupCount {
        label,
        total: count(by.iter().sum(), q, path),
        by_worst: WORST_ORDER
            .iter()
            .zip(by)
            .map(|(w, n)| HealthCount {
                worst: *w,
                secrets: count(*n, join(&[q, &health_term(*w)]), path),
            })
            .collect(),
    }
}

/// Rotation age buckets: (label, lower bound in days, upper bound).
const AGES: [(&str, Option<u32>, Option<u32>); 5] = [
    ("under 30 days", None, Some(30)),
    ("30–90 days", Some(30), Some(90)),
    ("90–180 days", Some(90), Some(180)),
    ("180–365 days", Some(180), Some(365)),
    ("over a year", Some(365), None),
];

pub fn overview(state: &AppState, view: &HealthView) -> Overview {
    build_overview(view, &state.health.cfg)
}

/// The top-level folders, most secrets at high or worse first, and how
/// many were left out.
fn folder_groups(view: &HealthView) -> Folders {
    let tree = view.snapshot.tree();
    let mut paths: Vec<(ByWorst, &str)> = tree
        .children(tree.root())
        .map(|f| {
            let mut by = ByWorst::default();
            for s in view
                .summaries
                .get(view.snapshot.folder_range(&f.path))
                .unwrap_or(&[])
            {
                by[slot(s.worst)] += 1;
            }
            (by, f.path.as_str())
        })
        .collect();
    // Most secrets at high or worse first, then the biggest.
    paths.sort_by(|(a, pa), (b, pb)| {
        (b[0] + b[1], b.iter().sum::<usize>(), *pa).cmp(&(a[0] + a[1], a.iter().sum(), *pb))
    });
    let more_paths = paths.len().saturating_sub(MAX_PATHS);
    let mut rest_by = ByWorst::default();
    for (by, _) in paths.iter().skip(MAX_PATHS) {
        for (r, n) in rest_by.iter_mut().zip(by) {
            *r += n;
        }
    }
    let rest =
        (more_paths > 0).then(|| group(format!("{more_paths} more folders"), "", "", &rest_by));
    let paths = paths
        .into_iter()
        .take(MAX_PATHS)
        .map(|(by, p)| group(p.to_string(), "", p, &by))
        .collect();
    // Names without a `/`: in no folder.
    let mut outside_by = ByWorst::default();
    for (s, sum) in view.snapshot.secrets().iter().zip(&view.summaries) {
        if !s.name.contains('/') {
            outside_by[slot(sum.worst)] += 1;
        }
    }
    let outside = (outside_by.iter().sum::<usize>() > 0).then(|| {
        group(
            "outside any folder".into(),
            crate::api::OUTSIDE_FOLDERS,
            "",
            &outside_by,
        )
    });
    Folders {
        paths,
        more_paths,
        rest,
        outside,
    }
}

/// The folder table's rows.
struct Folders {
    paths: Vec<GroupCount>,
    more_paths: usize,
    rest: Option<GroupCount>,
    outside: Option<GroupCount>,
}

/// Each rule's count, worst severity first.
fn rule_counts(view: &HealthView, cfg: &health::HealthConfig) -> Vec<RuleCount> {
    let mut rules: Vec<RuleCount> = RuleId::ALL
        .iter()
        .map(|&id| RuleCount {
            rule: id,
            title: id.info().title.to_string(),
            severity: cfg.severity_of(id),
            enabled: cfg.is_enabled(id),
            active: count(
                view.counts.active[id as usize],
                Expr::Term(Term::Rule(id)).to_string(),
                "",
            ),
            suppressed: view.counts.suppressed[id as usize],
        })
        .collect();
    rules.sort_by_key(|r| std::cmp::Reverse(r.severity));
    rules
}

/// The next 30 days from `today`, with the rotations due on each.
fn calendar(upcoming: &[usize; 30], today: i64) -> Vec<Day> {
    upcoming
        .iter()
        .enumerate()
        .map(|(d, n)| {
            let day = Timestamp::new(today + d as i64 * DAY);
            let label = day
                .to_datetime()
                .map(|t| t.format("%a %-d").to_string())
                .unwrap_or_default();
            Day {
                date: day.date(),
                label,
                secrets: count(*n, format!("next:{}", day.date()), ""),
            }
        })
        .collect()
}

pub fn build_overview(view: &HealthView, cfg: &health::HealthConfig) -> Overview {
    let at = view.at;
    let today = at.secs() - at.secs().rem_euclid(DAY);
    let mut places: HashMap<(Arc<str>, Arc<str>), ByWorst> = HashMap::new();
    let mut ages = [0usize; AGES.len() + 1];
    let mut upcoming = [0usize; 30];
    let mut due_now = 0;
    let mut deleting = 0;
    let mut overlap = crate::api::DueOverlap::default();
    for (s, sum) in view.snapshot.secrets().iter().zip(&view.summaries) {
        let active = sum.active();
        let (failed, overdue) = (
            active.contains(RuleId::RotationFailed),
            active.contains(RuleId::RotationOverdue),
        );
        let due = s.rotation_enabled && s.next_rotation.is_some_and(|n| n.secs() < at.secs());
        overlap.due_failed += usize::from(due && failed);
        overlap.due_overdue += usize::from(due && overdue);
        overlap.failed_and_overdue += usize::from(failed && overdue);
        deleting += usize::from(s.deleted.is_some());
        places
            .entry((s.account.clone(), s.region.clone()))
            .or_default()[slot(sum.worst)] += 1;
        if s.deleted.is_none() {
            ages[age_bucket(s.last_rotated, at)] += 1;
        }
        if let Some(next) = s.next_rotation {
            let d = (next.secs() - today).div_euclid(DAY);
            if (0..30).contains(&d) {
                upcoming[d as usize] += 1;
            }
            if s.rotation_enabled && next.secs() < at.secs() {
                due_now += 1;
            }
        }
    }

    let mut places: Vec<GroupCount> = places
        .into_iter()
        .map(|((account, region), by)| {
            let q = join(&[
                &Expr::Term(Term::Account(Value::new(&*account))).to_string(),
                &Expr::Term(Term::Region(Value::new(&*region))).to_string(),
            ]);
            group(format!("{account} · {region}"), &q, "", &by)
        })
        .collect();
    places.sort_by(|a, b| a.label.cmp(&b.label));

    let folders = folder_groups(view);

    let mut age_buckets: Vec<Bucket> = AGES
        .iter()
        .zip(ages)
        .map(|((label, from, to), n)| {
            let from = from.map(|d| format!("rotated:>{d}d"));
            let to = to.map(|d| format!("rotated:<{d}d"));
            let q = join(&[
                "deleted:no",
                from.as_deref().unwrap_or(""),
                to.as_deref().unwrap_or(""),
            ]);
            Bucket {
                label: label.to_string(),
                secrets: count(n, q, ""),
            }
        })
        .collect();
    age_buckets.push(Bucket {
        label: "never rotated".into(),
        secrets: count(ages[AGES.len()], "deleted:no rotated:never", ""),
    });

    Overview {
        now: at,
        ready: view.snapshot.taken_at.is_some(),
        total: view.counts.secrets,
        by_worst: WORST_ORDER
            .iter()
            .map(|w| HealthCount {
                worst: *w,
                secrets: count(view.counts.with_worst(*w), health_term(*w), ""),
            })
            .collect(),
        rules: rule_counts(view, cfg),
        places,
        paths: folders.paths,
        more_paths: folders.more_paths,
        rest: folders.rest,
        outside: folders.outside,
        deleting,
        replicas: view.snapshot.all_secrets().count() - view.snapshot.secrets().len(),
        unread_sources: Vec::new(),
        overlap,
        ages: age_buckets,
        upcoming: calendar(&upcoming, today),
        due_now: count(due_now, "rotation:on next:<0d", ""),
        evaluated_ms: view.took.as_secs_f64() * 1e3,
    }
}

/// Which of [`AGES`] (or the last slot: never) a last rotation falls in,
/// with the arithmetic of the `rotated:` term.
fn age_bucket(last: Option<Timestamp>, now: Timestamp) -> usize {
    let Some(t) = last else {
        return AGES.len();
    };
    let age = now.secs() - t.secs();
    AGES.iter()
        .position(|(_, from, to)| {
            from.is_none_or(|d| age >= i64::from(d) * DAY)
                && to.is_none_or(|d| age < i64::from(d) * DAY)
        })
        .unwrap_or(AGES.len())
}

/// The on-call queue of `view`. `scoped`: the view is a user's part of
/// the inventory, and only the trails of the accounts and regions it holds
/// secrets in are read (a scoped user hears nothing of the others).
pub async fn oncall(state: &AppState, view: &HealthView, scoped: bool) -> Oncall {
    let mut out = build_oncall(view, &state.health.cfg);
    if let Some((events, refused)) = trail_failures(state, view, scoped).await {
        attach_failures(&mut out.rows, &events);
        out.cloudtrail = Some(refused.map_or(Ok(()), Err));
    }
    out
}

/// Adds to each row the CloudTrail RotationFailed that explains it: for a
/// failed rotation, the newest failure since the rotation started; for an
/// overdue one, the newest since the last success.
pub fn attach_failures(rows: &mut [OncallRow], events: &[RotationEvent]) {
    let mut by_arn: HashMap<&str, Vec<RotationEvent>> = HashMap::new();
    for e in events {
        by_arn.entry(&e.secret_arn).or_default().push(e.clone());
    }
    for row in rows {
        let Some(evs) = by_arn.get(row.arn.as_str()) else {
            continue;
        };
        let since = if row.problem == RuleId::RotationFailed {
            row.pending_created.or(row.since)
        } else {
            row.last_success
        }
        .unwrap_or(Timestamp::new(0));
        if let Some(e) = failure_since(evs, since) {
            let attempt = failed_attempts(evs, &row.arn, row.last_success);
            row.failure = Some(RotationFailure::from_event(e, attempt));
        }
    }
}

pub fn build_oncall(view: &HealthView, cfg: &health::HealthConfig) -> Oncall {
    let mut rows = Vec::new();
    let mut suppressed = 0;
    for (s, sum) in view.snapshot.secrets().iter().zip(&view.summaries) {
        match Alarm::of(sum) {
            Some(alarm) => {
                if let Some(mut row) = oncall_row(s, alarm, view.at, cfg) {
                    if !view.snapshot.name_is_unique(s) {
                        row.link = row.arn.clone();
                    }
                    rows.push(row);
                }
            }
            None if alarm_suppressed(sum) => suppressed += 1,
            None => {}
        }
    }
    // Failed before overdue; the longest broken first; unknown starts last.
    rows.sort_by(|a, b| {
        (a.problem != RuleId::RotationFailed)
            .cmp(&(b.problem != RuleId::RotationFailed))
            .then_with(|| {
                let k = |r: &OncallRow| r.since.map_or(i64::MAX, |t| t.secs());
                k(a).cmp(&k(b))
            })
            .then_with(|| a.name.cmp(&b.name))
    });
    let failed = rows
        .iter()
        .filter(|r| r.problem == RuleId::RotationFailed)
        .count();
    Oncall {
        now: view.at,
        ready: view.snapshot.taken_at.is_some(),
        overdue: rows.len() - failed,
        failed,
        rows,
        suppressed,
        cloudtrail: None,
        incidents: Vec::new(),
        undiagnosed: 0,
        view: OncallFilter {
            order: Order::Oldest,
            ..Default::default()
        },
        facets: OncallFacets::default(),
    }
}

/// Each filter's values in `rows`, with their counts, most first.
fn facets(rows: &[OncallRow]) -> OncallFacets {
    fn counted<'a>(values: impl Iterator<Item = &'a str>) -> Vec<(String, usize)> {
        let mut n: HashMap<&str, usize> = HashMap::new();
        for v in values {
            *n.entry(v).or_default() += 1;
        }
        let mut out: Vec<(String, usize)> =
            n.into_iter().map(|(k, c)| (k.to_string(), c)).collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }
    OncallFacets {
        envs: counted(rows.iter().filter_map(|r| r.env.as_deref())),
        accounts: counted(rows.iter().map(|r| r.account.as_str())),
        owners: counted(rows.iter().map(|r| r.owner.as_deref().unwrap_or(NO_OWNER))),
    }
}

/// Narrows and orders `queue` to `view` (the counts and facets stay the
/// whole queue's).
pub fn apply_view(queue: &mut Oncall, view: OncallFilter) {
    queue.facets = facets(&queue.rows);
    fn entry(r: &OncallRow) -> Entry<'_> {
        Entry {
            name: &r.name,
            link: &r.link,
            arn: &r.arn,
            env: r.env.as_deref(),
            account: &r.account,
            owner: r.owner.as_deref(),
            failed: r.problem == RuleId::RotationFailed,
            severity: r.severity,
            since: r.since.map(|t| t.secs()),
        }
    }
    queue.rows.retain(|r| view.matches(&entry(r)));
    queue
        .rows
        .sort_by(|a, b| view.compare(&entry(a), &entry(b)));
    queue.view = view;
}

fn alarm_suppressed(sum: &Summary) -> bool {
    [RuleId::RotationFailed, RuleId::RotationOverdue]
        .iter()
        .any(|r| sum.suppressed.contains(*r))
}

fn oncall_row(
    s: &Secret,
    alarm: Alarm,
    now: Timestamp,
    cfg: &health::HealthConfig,
) -> Option<OncallRow> {
    let finding = health::evaluate(s, None, cfg, now)
        .into_iter()
        .find(|f| f.rule == alarm.rule() && f.is_active())?;
    let pending = s.pending_version();
    let lambda_arn = s.rotation_lambda_arn.as_deref().map(str::to_string);
    Some(OncallRow {
        link: s.name.to_string(),
        name: s.name.to_string(),
        arn: s.arn.to_string(),
        account: s.account.to_string(),
        region: s.region.to_string(),
        env: crate::domain::oncall::env_of(&s.name, s.tag("env").or(s.tag("environment")))
            .map(str::to_string),
        problem: alarm.rule(),
        severity: finding.severity,
        since: finding.since,
        detail: finding.detail,
        owner: owner_of(s).map(|o| o.name),
        lambda: lambda_arn
            .as_deref()
            .map(|a| crate::domain::arn::function_name(a).to_string()),
        lambda_arn,
        pending_version: pending.map(|v| v.id.to_string()),
        pending_created: pending.and_then(|v| v.created),
        last_success: s.last_rotated,
        failure: s.seen_failure().cloned(),
        actions: Vec::new(),
        cause: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::health::HealthConfig;
    use crate::domain::query::Query;
    use crate::domain::secret::fixtures::{secret, tagged};
    use crate::domain::{Label, Version, VersionId};
    use crate::server::inventory::Snapshot;

    const NOW: i64 = 1_800_000_000 - 1_800_000_000 % DAY + 10 * 3600;

    fn fixture() -> Vec<Arc<Secret>> {
        let mut out = Vec::new();
        for i in 0..60i64 {
            let mut s = tagged(
                &format!("{}/app{i}/db", ["prod", "dev", "shared"][i as usize % 3]),
                &[("owner", "team-a")][..(i % 2) as usize],
            );
            s.region = Arc::from(["us-east-1", "eu-west-1"][i as usize % 2]);
            s.rotation_enabled = i % 4 != 0;
            s.rotation_lambda_arn = Some("arn:aws:lambda:us-east-1:1:function:rotate-db".into());
            s.last_rotated = (i % 5 != 0).then(|| Timestamp::new(NOW - i * 9 * DAY));
            s.next_rotation = s
                .rotation_enabled
                .then(|| Timestamp::new(NOW + (i - 8) * DAY / 2));
            if i % 6 == 1 {
                s.versions.push(Version {
                    id: VersionId::parse(&format!("pending-{i}")),
                    labels: [Label::Pending].into_iter().collect(),
                    created: Some(Timestamp::new(NOW - i * 3600)),
                    last_accessed: None,
                });
            }
            if i == 13 {
                s.tags.push(crate::domain::Tag::new(
                    "secretscope:suppress",
                    "rotation-failed: vendor fixes it on Monday",
                ));
            }
            if i % 10 == 9 {
                s.deleted = Some(Timestamp::new(NOW - DAY));
            }
            out.push(Arc::new(s));
        }
        out.push(Arc::new(secret("loose")));
        out
    }

    fn view() -> HealthView {
        let snap = Snapshot::new(fixture(), Some(Timestamp::new(NOW)));
        HealthView::compute(
            Arc::new(snap),
            &HealthConfig::default(),
            Timestamp::new(NOW),
            &Default::default(),
        )
    }

    /// Follows a count's link the way the list does.
    fn listed(view: &HealthView, c: &Count) -> usize {
        let q = Query::parse(&c.q).unwrap_or_else(|e| panic!("{}: {e}", c.q));
        let range = view.snapshot.folder_range(&c.path);
        q.select_with(view.snapshot.index(), Some(view))
            .into_iter()
            .filter(|i| range.contains(i))
            .count()
    }

    #[test]
    fn every_overview_number_is_what_its_link_lists() {
        let v = view();
        let o = build_overview(&v, &HealthConfig::default());
        assert_eq!(o.total, 61);
        let mut all: Vec<&Count> = Vec::new();
        all.extend(o.by_worst.iter().map(|h| &h.secrets));
        all.extend(o.rules.iter().map(|r| &r.active));
        for g in o.places.iter().chain(&o.paths).chain(&o.outside) {
            all.push(&g.total);
            all.extend(g.by_worst.iter().map(|h| &h.secrets));
        }
        all.extend(o.ages.iter().map(|b| &b.secrets));
        all.extend(o.upcoming.iter().map(|d| &d.secrets));
        all.push(&o.due_now);
        for c in &all {
            assert_eq!(listed(&v, c), c.count, "q={} path={}", c.q, c.path);
        }
        // The fixture exercises the numbers: most are not zero.
        let nonzero = all.iter().filter(|c| c.count > 0).count();
        assert!(nonzero * 2 > all.len(), "{nonzero} of {}", all.len());
        assert_eq!(
            o.by_worst.iter().map(|h| h.secrets.count).sum::<usize>(),
            61
        );
        assert_eq!(o.places.len(), 2);
        assert_eq!(
            o.paths.len(),
            3,
            "prod, dev, shared; `loose` is in no folder"
        );
        // The folder rows and "outside any folder" add up to the total.
        let outside = o.outside.as_ref().expect("loose is outside any folder");
        assert_eq!(
            (outside.total.count, outside.total.q.as_str()),
            (1, crate::api::OUTSIDE_FOLDERS)
        );
        assert!(o.rest.is_none());
        assert_eq!(
            o.paths.iter().map(|g| g.total.count).sum::<usize>() + outside.total.count,
            o.total
        );
        assert_eq!(o.deleting, 6);
        // Failed and overdue never overlap; the due ones include some of each.
        assert_eq!(o.overlap.failed_and_overdue, 0);
        assert!(o.overlap.due_failed + o.overlap.due_overdue <= o.due_now.count);
        assert_eq!(
            o.ages.iter().map(|b| b.secrets.count).sum::<usize>(),
            61 - 6,
            "deleted secrets have no age"
        );
        assert_eq!(o.upcoming.len(), 30);
        assert_eq!(o.upcoming[0].date, Timestamp::new(NOW).date());
        assert!(o.due_now.count > 0);
    }

    #[test]
    fn oncall_lists_failed_then_overdue_longest_first() {
        let v = view();
        let o = build_oncall(&v, &HealthConfig::default());
        assert!(o.failed > 0 && o.overdue > 0, "{} {}", o.failed, o.overdue);
        assert_eq!(o.rows.len(), o.failed + o.overdue);
        assert_eq!(
            o.failed,
            v.counts.active[RuleId::RotationFailed as usize],
            "every failed rotation is listed"
        );
        assert_eq!(
            o.suppressed, 1,
            "app13's suppression is counted, not listed"
        );
        assert!(o.rows.iter().all(|r| r.name != "prod/app13/db"));
        let kinds: Vec<RuleId> = o.rows.iter().map(|r| r.problem).collect();
        assert!(kinds.is_sorted_by_key(|k| *k != RuleId::RotationFailed));
        for pair in o.rows.windows(2) {
            if pair[0].problem == pair[1].problem {
                assert!(pair[0].since.map(|t| t.secs()) <= pair[1].since.map(|t| t.secs()));
            }
        }
        let first = &o.rows[0];
        assert_eq!(first.problem, RuleId::RotationFailed);
        assert_eq!(first.lambda.as_deref(), Some("rotate-db"));
        assert!(first
            .pending_version
            .as_deref()
            .unwrap()
            .starts_with("pending-"));
        assert_eq!(first.since, first.pending_created);
        assert!(first.detail.contains("rotate-db"), "{}", first.detail);
    }

    #[test]
    fn the_queue_view_orders_and_filters_and_keeps_the_whole_counts() {
        let v = view();
        let whole = build_oncall(&v, &HealthConfig::default());
        let mut q = whole.clone();
        apply_view(&mut q, OncallFilter::default());
        assert_eq!(q.rows.len(), whole.rows.len());
        // Newest failure first, then the overdue ones, newest first.
        let failed: Vec<_> = q.rows.iter().take(q.failed).collect();
        assert!(failed.iter().all(|r| r.problem == RuleId::RotationFailed));
        for pair in q.rows.windows(2) {
            if pair[0].problem == pair[1].problem {
                if let (Some(a), Some(b)) = (pair[0].since, pair[1].since) {
                    assert!(a.secs() >= b.secs(), "{} {}", pair[0].name, pair[1].name);
                }
            }
        }
        // Facets count the whole queue; each value's count is what its filter lists.
        let total = whole.rows.len();
        assert_eq!(
            q.facets.accounts.iter().map(|(_, n)| n).sum::<usize>(),
            total
        );
        assert_eq!(q.facets.owners.iter().map(|(_, n)| n).sum::<usize>(), total);
        assert!(q.facets.owners.iter().any(|(o, _)| o == NO_OWNER));
        for (env, n) in &q.facets.envs {
            let mut f = whole.clone();
            apply_view(
                &mut f,
                OncallFilter {
                    env: Some(env.clone()),
                    ..Default::default()
                },
            );
            assert_eq!(f.rows.len(), *n, "env {env}");
            assert!(f
                .rows
                .iter()
                .all(|r| r.name.starts_with(&format!("{env}/"))));
            assert_eq!((f.failed, f.overdue), (whole.failed, whole.overdue));
        }
        let mut one = whole.clone();
        let name = whole.rows[3].name.clone();
        apply_view(
            &mut one,
            OncallFilter::from_query(|k| (k == "incident").then(|| name.clone())),
        );
        assert_eq!(one.rows.len(), 1);
        assert_eq!(one.rows[0].name, name);
    }

    #[test]
    fn folder_rows_past_the_first_twelve_are_counted_together() {
        let secrets: Vec<Arc<Secret>> = (0..20)
            .map(|i| Arc::new(secret(&format!("team{i:02}/db"))))
            .chain([Arc::new(secret("root-a")), Arc::new(secret("root-b"))])
            .collect();
        let snap = Snapshot::new(secrets, Some(Timestamp::new(NOW)));
        let v = HealthView::compute(
            Arc::new(snap),
            &HealthConfig::default(),
            Timestamp::new(NOW),
            &Default::default(),
        );
        let o = build_overview(&v, &HealthConfig::default());
        assert_eq!((o.paths.len(), o.more_paths), (12, 8));
        let rest = o.rest.as_ref().expect("8 more folders");
        assert_eq!(rest.total.count, 8);
        assert_eq!(rest.label, "8 more folders");
        let outside = o.outside.as_ref().unwrap();
        assert_eq!(outside.total.count, 2);
        assert_eq!(listed(&v, &outside.total), 2, "its link lists them");
        let rows: usize = o.paths.iter().map(|g| g.total.count).sum();
        assert_eq!(rows + rest.total.count + outside.total.count, o.total);
    }

    #[test]
    fn cloudtrail_failures_attach_to_their_rotation() {
        use crate::domain::rotation_history::RotationEventKind;
        let v = view();
        let mut o = build_oncall(&v, &HealthConfig::default());
        let failed = o.rows[0].clone();
        let event = |arn: &str, at: i64, msg: &str| RotationEvent {
            event_id: format!("{arn}{at}"),
            at: Timestamp::new(at),
            kind: RotationEventKind::Failed,
            secret_arn: arn.to_string(),
            secret_name: None,
            version_id: None,
            message: Some(msg.to_string()),
            actor: None,
        };
        let start = failed.pending_created.unwrap().secs();
        let events = vec![
            event(&failed.arn, start + 60, "this rotation's failure"),
            event(&failed.arn, start - 86_400, "an older rotation"),
            event("arn:other", start + 60, "someone else's"),
        ];
        attach_failures(&mut o.rows, &events);
        let f = o.rows[0].failure.as_ref().expect("attached");
        assert_eq!(f.message.as_deref(), Some("this rotation's failure"));
        assert_eq!(f.at.secs(), start + 60);
        assert!(o.rows[1..].iter().all(|r| r.failure.is_none()));
        // Only an older failure: nothing belongs to the current rotation.
        let mut fresh = build_oncall(&v, &HealthConfig::default());
        attach_failures(&mut fresh.rows, &events[1..]);
        assert!(fresh.rows[0].failure.is_none());
        // The step and the attempts since the last success come with it.
        let f = o.rows[0].failure.as_ref().unwrap();
        assert_eq!((f.step, f.attempt >= 1), (None, true));
    }

    #[test]
    fn age_buckets_meet_without_gaps() {
        let now = Timestamp::new(NOW);
        let at = |days: i64, extra: i64| Some(Timestamp::new(NOW - days * DAY + extra));
        assert_eq!(age_bucket(at(30, 1), now), 0);
        assert_eq!(age_bucket(at(30, 0), now), 1);
        assert_eq!(age_bucket(at(365, 0), now), 4);
        assert_eq!(
            age_bucket(at(-2, 0), now),
            0,
            "a date ahead of the clock is recent"
        );
        assert_eq!(age_bucket(None, now), 5);
    }
}

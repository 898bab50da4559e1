//! The inventory's filters, folders, sorts, facets and the detail page's
//! live read, over the seeded demo inventory read through the SDK: every
//! answer is checked against what the seed planted.

use super::{planned, source_for};
use crate::api::build::inventory::facets;
use crate::api::build::secret::detail;
use crate::api::SortKey;
use crate::domain::owner::owner_of;
use crate::domain::{Secret, Timestamp};
use crate::server::health::HealthView;
use crate::server::inventory::{Inventory, Snapshot};
use crate::server::selection::select;
use secretsmanager_emulator::{self as local, PlannedSecret, Scenario};
use std::collections::BTreeSet;
use std::sync::Arc;

const NOW: i64 = 1_795_000_000;

/// The seeded inventory as the pages see it: a snapshot with its health.
async fn seeded(n: usize) -> (local::RunningEndpoint, HealthView, Vec<PlannedSecret>) {
    let seeded = super::seeded(n, 11, NOW).await;
    let snapshot = Snapshot::new(
        seeded.secrets.into_iter().map(Arc::new).collect(),
        Some(Timestamp::new(NOW)),
    );
    let view = HealthView::compute(
        Arc::new(snapshot),
        &Default::default(),
        Timestamp::new(NOW),
        &Default::default(),
    );
    (seeded.ep, view, seeded.plan)
}

fn names<'a>(it: impl IntoIterator<Item = &'a Secret>) -> BTreeSet<String> {
    it.into_iter().map(|s| s.name.to_string()).collect()
}

/// Tags are checked against the listed secrets themselves: the seed plans an
/// environment even for secrets it leaves untagged.
fn tagged(snap: &Snapshot, f: impl Fn(&Secret) -> bool) -> BTreeSet<String> {
    names(snap.secrets().iter().map(|s| &**s).filter(|s| f(s)))
}

#[tokio::test]
async fn each_filter_selects_what_the_seed_planted() {
    let (_ep, snap, plan) = seeded(400).await;
    let q = |q: &str| {
        let sel = select(&snap, q, "", "");
        assert!(sel.error.is_none(), "{q}: {:?}", sel.error);
        names(sel.matched)
    };
    let cases: Vec<(&str, BTreeSet<String>)> = vec![
        ("kms:default", planned(&plan, |p| p.kms_default)),
        ("kms:cmk", planned(&plan, |p| !p.kms_default)),
        ("-tag:owner", planned(&plan, |p| !p.has_owner_tag)),
        ("tag:owner", planned(&plan, |p| p.has_owner_tag)),
        ("deleted:yes", planned(&plan, |p| p.deleted)),
        ("deleted:no", planned(&plan, |p| !p.deleted)),
        (
            "service:rds",
            planned(&plan, |p| {
                p.owning_service
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case("rds"))
            }),
        ),
        (
            "tag:env=prod",
            tagged(&snap, |s| s.tag("env") == Some("prod")),
        ),
        (
            "tag:env=prod OR tag:env=staging",
            tagged(&snap, |s| matches!(s.tag("env"), Some("prod" | "staging"))),
        ),
        ("tag:env", tagged(&snap, |s| s.tag("env").is_some())),
        (
            "name:prod/*",
            planned(&plan, |p| p.name.starts_with("prod/")),
        ),
        (
            "name:prod/* -tag:owner",
            planned(&plan, |p| p.name.starts_with("prod/") && !p.has_owner_tag),
        ),
        ("region:us-east-1", planned(&plan, |_| true)),
        ("region:eu-west-1", BTreeSet::new()),
    ];
    for (query, want) in cases {
        assert_eq!(q(query), want, "{query}");
    }
    // Non-trivial: the cases above are not all empty or everything.
    assert!(!q("kms:default").is_empty() && !q("kms:cmk").is_empty());
    assert!(!q("deleted:yes").is_empty());

    // rotation:on / off split the inventory by the flag AWS reports.
    let on = q("rotation:on");
    let off = q("rotation:off");
    assert!(on.is_disjoint(&off));
    assert_eq!(on.len() + off.len(), plan.len());
    for s in snap.secrets() {
        assert_eq!(on.contains(&*s.name), s.rotation_enabled, "{}", s.name);
    }
    assert!(
        planned(&plan, |p| p.scenario == Scenario::NeverRotated).is_subset(&off)
            || planned(&plan, |p| p.scenario == Scenario::NeverRotated).is_empty()
    );

    // The index answers exactly as the one-by-one matcher, folder included.
    for query in [
        "payments",
        "db -tag:owner",
        "name:prod/* OR kms:cmk",
        "\"api key\"",
    ] {
        let parsed = crate::domain::query::Query::parse(query).unwrap();
        for path in ["", "prod", "prod/payments"] {
            let want: Vec<&str> = snap
                .secrets()
                .iter()
                .filter(|s| crate::domain::tree::in_folder(&s.name, path) && parsed.matches(s))
                .map(|s| &*s.name)
                .collect();
            let got: Vec<&str> = select(&snap, query, path, "")
                .matched
                .iter()
                .map(|s| &*s.name)
                .collect();
            assert_eq!(got, want, "{query} in {path:?}");
        }
    }

    // A syntax error filters nothing and says where.
    let sel = select(&snap, "tag:env=prod AND (", "", "");
    assert!(sel.error.is_some());
    assert_eq!(sel.matched.len(), plan.len());
}

#[tokio::test]
async fn folders_and_sorts_over_the_seed() {
    let (_ep, snap, plan) = seeded(400).await;

    // A folder holds exactly the names below it; an unknown folder falls
    // back to the deepest that exists.
    let sel = select(&snap, "", "prod/payments", "");
    assert_eq!(sel.path, "prod/payments");
    assert_eq!(
        names(sel.matched.iter().copied()),
        planned(&plan, |p| p.name.starts_with("prod/payments/"))
    );
    let sel = select(&snap, "", "prod/no-such-team/x", "");
    assert_eq!(sel.path, "prod");
    assert_eq!(
        sel.matched.len(),
        planned(&plan, |p| p.name.starts_with("prod/")).len()
    );
    assert_eq!(
        snap.tree().folder("prod").unwrap().secrets,
        sel.matched.len(),
        "the tree's count is the list's count"
    );

    // Every sort key, both ways: dates in order, unknown dates last, ties by name.
    let key_of = |s: &Secret, k: SortKey| crate::server::selection::sort_value(s, k);
    for key in SortKey::ALL {
        for desc in [false, true] {
            let param = crate::api::sort_param(key, desc);
            let sel = select(&snap, "", "", &param);
            assert_eq!((sel.sort, sel.desc), (key, desc));
            assert_eq!(sel.matched.len(), plan.len());
            for w in sel.matched.windows(2) {
                let (a, b) = (w[0], w[1]);
                if key == SortKey::Name {
                    assert_eq!(a.name < b.name, !desc, "{param}: {} / {}", a.name, b.name);
                    continue;
                }
                match (key_of(a, key), key_of(b, key)) {
                    (Some(x), Some(y)) if x == y => {
                        assert!(a.name <= b.name, "{param}: tie by name")
                    }
                    (Some(x), Some(y)) => {
                        assert_eq!(x < y, !desc, "{param}: {} / {}", a.name, b.name)
                    }
                    (Some(_), None) | (None, None) => {}
                    (None, Some(_)) => panic!("{param}: an unknown date sorted before a known one"),
                }
            }
            if key != SortKey::Name {
                assert!(
                    sel.matched.iter().any(|s| key_of(s, key).is_some()),
                    "{param}: the seed has dates for this key"
                );
            }
        }
    }
}

#[tokio::test]
async fn facets_count_the_current_result() {
    let (_ep, snap, _plan) = seeded(300).await;
    let sel = select(&snap, "name:prod/*", "", "");
    let f = facets(&snap, &sel.positions, "name:prod/*");
    let env = f.iter().find(|f| f.key == "env").expect("env facet");
    // Every value's count is the number of listed secrets carrying it.
    for facet in &f {
        for v in &facet.values {
            let want = sel
                .matched
                .iter()
                .filter(|s| match &v.value {
                    Some(value) => s.tags.iter().any(|t| {
                        t.key.eq_ignore_ascii_case(&facet.key)
                            && t.value.eq_ignore_ascii_case(value)
                    }),
                    None => !s
                        .tags
                        .iter()
                        .any(|t| t.key.eq_ignore_ascii_case(&facet.key)),
                })
                .count();
            assert_eq!(v.count, want, "{}={:?}", facet.key, v.value);
        }
    }
    let values: Vec<Option<&str>> = env.values.iter().map(|v| v.value.as_deref()).collect();
    assert_eq!(
        values,
        [Some("prod"), None],
        "only prod (or no env tag) in prod/*"
    );
    let owner = f.iter().find(|f| f.key == "owner").expect("owner facet");
    let missing = owner
        .values
        .iter()
        .find(|v| v.value.is_none())
        .expect("missing");
    let without = sel
        .matched
        .iter()
        .filter(|s| s.tag("owner").is_none())
        .count();
    assert_eq!(missing.count, without);
    assert_eq!(missing.toggled, "name:prod/* -tag:owner");
    assert!(!missing.active);
    // Following the facet gives exactly the count it promised.
    let after = select(&snap, &missing.toggled, "", "");
    assert_eq!(after.matched.len(), missing.count);
    let again = facets(&snap, &after.positions, &missing.toggled);
    let team = &again.iter().find(|f| f.key == "team").unwrap().values[0];
    let narrowed = select(&snap, &team.toggled, "", "");
    assert_eq!(narrowed.matched.len(), team.count);
    let f3 = facets(&snap, &narrowed.positions, &team.toggled);
    let active = f3
        .iter()
        .find(|f| f.key == "team")
        .unwrap()
        .values
        .iter()
        .find(|v| v.active)
        .expect("the chosen value shows as active");
    assert_eq!(
        active.toggled, missing.toggled,
        "clicking it again removes it"
    );
}

#[tokio::test]
async fn detail_reads_replicas_policy_versions_and_refreshes_the_snapshot() {
    let (ep, snap, plan) = seeded(400).await;
    let source = source_for(&ep.url(), 3).await;
    let inventory = Arc::new(Inventory::new());
    inventory.publish_list(
        snap.secrets().to_vec(),
        Default::default(),
        Timestamp::new(NOW),
        snap.secrets().len(),
    );
    // Not served: the detail functions are called directly.
    let unserved = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let state = super::test_state(unserved, inventory.clone(), Default::default(), source).await;
    let viewer = crate::server::auth::Principal {
        id: 0,
        name: "test".into(),
        grants: vec![crate::domain::access::Grant::new(
            crate::domain::access::Role::Viewer,
            crate::domain::access::Scope::All,
        )],
    };

    // Replicas with their status, by name.
    let replicated = plan
        .iter()
        .find(|p| p.scenario == Scenario::ReplicaFailed && !p.hostile)
        .expect("seed has a failed replica");
    let d = detail(&state, &viewer, &replicated.name, false, false)
        .await
        .unwrap();
    let live = d.live.as_ref().expect("live read");
    let regions: BTreeSet<&str> = live.replicas.iter().map(|r| r.region.as_str()).collect();
    let want: BTreeSet<&str> = replicated
        .replica_regions
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(regions, want);
    assert!(live
        .replicas
        .iter()
        .any(|r| r.status == "Failed" && r.message.is_some()));

    // A policy is summarised; deprecated versions only on request; by ARN.
    let with_policy = plan
        .iter()
        .find(|p| p.has_resource_policy && p.deprecated_versions > 0 && !p.hostile)
        .or_else(|| plan.iter().find(|p| p.has_resource_policy && !p.hostile))
        .expect("seed has a resource policy");
    let d = detail(&state, &viewer, &with_policy.arn, false, false)
        .await
        .unwrap();
    assert_eq!(d.name, with_policy.name);
    let live = d.live.as_ref().unwrap();
    assert!(
        live.policy
            .as_deref()
            .unwrap()
            .contains("\n  \"Statement\": ["),
        "the raw policy is indented for reading"
    );
    let statements = live.policy_summary.as_ref().expect("summary");
    assert!(!statements.is_empty());
    assert_eq!(d.versions.len() + d.deprecated_hidden, with_policy.versions);
    assert_eq!(d.deprecated_hidden, with_policy.deprecated_versions);
    assert!(d
        .versions
        .iter()
        .all(|v| !v.deprecated && v.created.is_some()));
    let all = detail(&state, &viewer, &with_policy.name, true, false)
        .await
        .unwrap();
    assert_eq!(all.versions.len(), with_policy.versions);
    assert!(
        all.versions
            .windows(2)
            .all(|w| w[0].created >= w[1].created),
        "newest first"
    );

    // A failed rotation's pending version is stuck; the live read also put
    // version dates into the snapshot.
    let failed = plan
        .iter()
        .find(|p| p.scenario == Scenario::RotationFailed && !p.hostile)
        .unwrap();
    let d = detail(&state, &viewer, &failed.name, false, true)
        .await
        .unwrap();
    let pending: Vec<_> = d
        .versions
        .iter()
        .filter(|v| v.labels.iter().any(|l| l == "AWSPENDING"))
        .collect();
    assert_eq!(pending.len(), 1);
    assert!(pending[0].stuck_pending);
    let in_snapshot = inventory.snapshot();
    let s = in_snapshot.by_name(&failed.name).unwrap();
    assert!(s.versions_fetched.is_some());
    assert!(s.versions.iter().all(|v| v.created.is_some()));
    assert_eq!(owner_of(s).map(|o| o.name), d.owner.map(|o| o.name));

    // Unknown secrets are a clear not-found, not an AWS call.
    let err = detail(&state, &viewer, "no/such/secret", false, false)
        .await
        .unwrap_err();
    assert!(
        err.user.contains("No secret named “no/such/secret”"),
        "{}",
        err.user
    );

    // The endpoint down: the page still renders from the snapshot, and says why.
    ep.endpoint.set_down(true);
    let d = detail(&state, &viewer, &failed.name, false, true).await;
    assert!(d.is_err(), "an explicit refresh reports the failure");
    let d = detail(&state, &viewer, &replicated.name, false, false)
        .await
        .unwrap();
    assert!(d.live.is_some(), "a fresh read is reused for a few minutes");
    let other = plan
        .iter()
        .find(|p| {
            p.name != replicated.name
                && p.name != failed.name
                && p.name != with_policy.name
                && !p.deleted
        })
        .unwrap();
    let d = detail(&state, &viewer, &other.name, false, false)
        .await
        .unwrap();
    assert!(d.live.is_none());
    assert!(
        d.live_error
            .as_deref()
            .unwrap_or("")
            .contains("DescribeSecret"),
        "{:?}",
        d.live_error
    );
    assert_eq!(
        d.name, other.name,
        "the rest of the page comes from the snapshot"
    );
}

/// Issue 24: with a search, every folder counts the secrets it matched
/// (folders with none are left out), the root level has its own count, and
/// the rotation, KMS, health and owner facets count the current result.
#[tokio::test]
async fn folder_counts_and_quick_facets_follow_the_search() {
    use crate::api::build::inventory::inventory_page;
    let (_ep, view, _plan) = seeded(400).await;
    let all = inventory_page(&view, "", "", "", 1);
    assert!(!all.searching);
    assert_eq!(all.tree.secrets, all.total);
    let flat = view
        .snapshot
        .secrets()
        .iter()
        .filter(|s| !s.name.contains('/'))
        .count();
    assert!(flat > 0, "the seed has root-level secrets");
    assert_eq!(all.rootless, flat);
    assert_eq!(all.rootless_toggled, "-name:*/*");

    let q = "rotation:off kms:default";
    let page = inventory_page(&view, q, "", "", 1);
    let matched = names(select(&view, q, "", "").matched);
    assert!(page.searching);
    assert_eq!(
        page.tree.secrets,
        matched.len(),
        "All secrets: the matched total"
    );
    assert_eq!(page.tree.all, all.total);
    let children = page.tree.children.clone().unwrap();
    assert!(!children.is_empty());
    for f in &children {
        let want = matched
            .iter()
            .filter(|n| n.starts_with(&format!("{}/", f.path)))
            .count();
        assert_eq!(f.secrets, want, "{}", f.path);
        assert!(want > 0, "folders without a match are left out: {}", f.path);
    }
    assert_eq!(
        page.rootless,
        matched.iter().filter(|n| !n.contains('/')).count()
    );
    // The root-level link selects exactly those.
    let only_root = names(select(&view, &page.rootless_toggled, "", "").matched);
    assert_eq!(only_root.len(), page.rootless);
    assert!(only_root.iter().all(|n| !n.contains('/')));

    // In prod/, the counts follow the search too (and the folder stays open).
    let prod = inventory_page(&view, q, "prod", "", 1);
    let prod_node = prod
        .tree
        .children
        .unwrap()
        .into_iter()
        .find(|f| f.path == "prod")
        .unwrap();
    assert_eq!(prod_node.secrets, prod.matched);

    // Facets: every value's count is what its toggled search selects.
    let facet = |key: &str| page.quick.iter().find(|f| f.key == key).unwrap().clone();
    let rotation = facet("rotation");
    let off = rotation
        .values
        .iter()
        .find(|v| v.value.as_deref() == Some("off"))
        .unwrap();
    assert!(off.active, "rotation:off is in the search");
    assert_eq!(off.count, matched.len());
    assert_eq!(off.toggled, "kms:default");
    for key in ["kms", "health", "owner"] {
        for v in facet(key).values {
            if v.active {
                continue;
            }
            let got = select(&view, &v.toggled, "", "").matched.len();
            assert_eq!(v.count, got, "{key} {:?}: {}", v.value, v.toggled);
        }
    }
    // owner:none is narrower than "no owner tag": descriptions name owners.
    let untagged = select(&view, "-tag:owner", "", "").matched.len();
    let ownerless = select(&view, "owner:none", "", "").matched.len();
    assert!(ownerless < untagged, "{ownerless} < {untagged}");
    assert!(
        !select(&view, "owner:conflict", "", "").matched.is_empty(),
        "the seed has conflicts"
    );
}

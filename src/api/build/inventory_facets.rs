//! The inventory's facets that are search terms rather than tags: rotation,
//! KMS key, health and owner, counted over the current result, so the
//! security team's questions take clicks, not syntax.

use crate::api::{Facet, FacetValue};
use crate::domain::health::{RuleId, Severity};
use crate::domain::query::{toggle_term_text, OwnerState};
use crate::server::health::HealthView;
use crate::server::inventory::Snapshot;

/// One facet value: what it shows, and the term a click toggles.
struct Choice {
    label: &'static str,
    term: &'static str,
}

const fn choice(label: &'static str, term: &'static str) -> Choice {
    Choice { label, term }
}

const ROTATION: [Choice; 3] = [
    choice("on", "rotation:on"),
    choice("off", "rotation:off"),
    choice("failing", "rule:rotation-failed"),
];
const KMS: [Choice; 2] = [
    choice("default", "kms:default"),
    choice("customer-managed", "kms:cmk"),
];
const HEALTH: [Choice; 6] = [
    choice("critical", "health:critical"),
    choice("high", "health:high"),
    choice("medium", "health:medium"),
    choice("low", "health:low"),
    choice("info", "health:info"),
    choice("ok", "health:ok"),
];
const OWNER: [Choice; 3] = [
    choice("known", "owner:known"),
    choice("none", "owner:none"),
    choice("conflict", "owner:conflict"),
];

/// Rotation (on / off / failing), KMS key (default / customer-managed),
/// health (worst active finding) and owner (known / none / conflict), each
/// value with its count among `positions` and the search `q` with its term
/// toggled. A value with no secret is left out unless its term is active
/// (so it can be removed).
pub fn quick_facets(view: &HealthView, positions: &[usize], q: &str) -> Vec<Facet> {
    let index = view.snapshot.index();
    let mut rotation = [0usize; 3];
    let mut kms = [0usize; 2];
    let mut health = [0usize; 6];
    let mut owner = [0usize; 3];
    for &i in positions {
        let summary = view.summary(i);
        rotation[usize::from(!index.rotation_on(i))] += 1;
        if summary.active().contains(RuleId::RotationFailed) {
            rotation[2] += 1;
        }
        kms[usize::from(!index.default_kms(i))] += 1;
        let h = match summary.worst {
            Some(s) => Severity::ALL.iter().position(|w| *w == s).unwrap_or(4),
            None => 5,
        };
        health[h] += 1;
        match index.owner_state(i) {
            OwnerState::Known => owner[0] += 1,
            OwnerState::None => owner[1] += 1,
            OwnerState::Conflict => {
                owner[0] += 1;
                owner[2] += 1;
            }
        }
    }
    [
        ("rotation", &ROTATION[..], &rotation[..]),
        ("kms", &KMS[..], &kms[..]),
        ("health", &HEALTH[..], &health[..]),
        ("owner", &OWNER[..], &owner[..]),
    ]
    .into_iter()
    .map(|(key, choices, counts)| Facet {
        key: key.to_string(),
        values: choices
            .iter()
            .zip(counts)
            .map(|(c, &count)| {
                let toggled = toggle_term_text(q, c.term);
                FacetValue {
                    value: Some(c.label.to_string()),
                    count,
                    active: toggled.len() < q.trim().len(),
                    toggled,
                }
            })
            .filter(|v| v.count > 0 || v.active)
            .collect(),
        more: 0,
    })
    .filter(|f| !f.values.is_empty())
    .collect()
}

/// The secrets outside any folder (no `/` in the name): among `hits` when
/// a search applies, else all of them.
pub fn rootless(snapshot: &Snapshot, hits: Option<&[usize]>) -> usize {
    match hits {
        None => snapshot.tree().root().direct,
        Some(hits) => {
            let index = snapshot.index();
            hits.iter().filter(|&&i| index.rootless(i)).count()
        }
    }
}

//! Running the rules: findings, summaries, their order, and suppression tags.

use super::*;

// ---------------------------------------------------------------------------
// Findings

/// A rule that fired for one secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: RuleId,
    /// After configuration overrides.
    pub severity: Severity,
    /// When the problem started, where that can be known.
    pub since: Option<Timestamp>,
    /// A sentence naming the specifics (Lambda, version, deadline, tags…).
    pub detail: String,
    /// The reason, when a suppression tag covers this finding.
    pub suppressed: Option<String>,
}

impl Finding {
    pub fn info(&self) -> &'static RuleInfo {
        info(self.rule)
    }

    pub fn is_active(&self) -> bool {
        self.suppressed.is_none()
    }
}

/// One replica's status, from DescribeSecret's ReplicationStatus (ListSecrets
/// does not return it, so it is not part of [`Secret`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaState {
    pub region: String,
    /// `InSync`, `Failed` or `InProgress`.
    pub status: String,
    pub message: Option<String>,
    pub last_accessed: Option<Timestamp>,
}

/// Runs every enabled rule, handing each hit to `sink`; then the
/// suppression, if the secret carries a valid one.
pub(super) fn run<'a>(
    input: &Input<'a>,
    mut sink: impl FnMut(RuleId, Hit),
) -> Option<Suppression<'a>> {
    let cfg = input.cfg;
    let mut any = false;
    for rule in &RULES {
        let id = rule.info.id;
        if !cfg.is_enabled(id) {
            continue;
        }
        if let Some(hit) = (rule.check)(input) {
            any = true;
            sink(id, hit);
        }
    }
    if !any {
        return None;
    }
    input
        .secret
        .tag(&cfg.suppression_tag)
        .and_then(parse_suppression)
}

/// Runs every enabled rule over `s` at `now`. `replicas` is the replica
/// status when it was fetched; the replica rule runs only then. Findings are
/// sorted: active before suppressed, then worst first, then rule order.
pub fn evaluate(
    s: &Secret,
    replicas: Option<&[ReplicaState]>,
    cfg: &HealthConfig,
    now: Timestamp,
) -> Vec<Finding> {
    let input = Input {
        secret: s,
        replicas,
        cfg,
        now,
        details: true,
    };
    let mut out: Vec<Finding> = Vec::new();
    let sup = run(&input, |id, hit| {
        out.push(Finding {
            rule: id,
            severity: cfg.severity_of(id),
            since: hit.since,
            detail: hit.detail,
            suppressed: None,
        })
    });
    if let Some(sup) = sup {
        for f in &mut out {
            if sup.covers(f.rule) {
                f.suppressed = Some(sup.reason.to_string());
            }
        }
    }
    if out.len() > 1 {
        out.sort_by(order);
    }
    out
}

/// A set of rules, as bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RuleSet(u16);

impl RuleSet {
    pub fn contains(self, id: RuleId) -> bool {
        self.0 & (1 << id as u16) != 0
    }

    pub fn insert(&mut self, id: RuleId) {
        self.0 |= 1 << id as u16;
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// In the order of [`RuleId::ALL`].
    pub fn iter(self) -> impl Iterator<Item = RuleId> {
        RuleId::ALL.into_iter().filter(move |id| self.contains(*id))
    }
}

impl FromIterator<RuleId> for RuleSet {
    fn from_iter<I: IntoIterator<Item = RuleId>>(iter: I) -> Self {
        let mut set = RuleSet::default();
        for id in iter {
            set.insert(id);
        }
        set
    }
}

/// What [`evaluate`] finds, without the words: for counting a whole
/// inventory (overview, metrics) without allocating.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Every rule that fired, suppressed or not.
    pub fired: RuleSet,
    /// The fired rules a suppression tag covers.
    pub suppressed: RuleSet,
    /// The worst severity among active findings, as [`worst`].
    pub worst: Option<Severity>,
}

impl Summary {
    /// Fired and not suppressed.
    pub fn active(&self) -> RuleSet {
        RuleSet(self.fired.0 & !self.suppressed.0)
    }
}

/// [`evaluate`] without detail strings: same rules, same configuration, no
/// allocation.
pub fn summarize(
    s: &Secret,
    replicas: Option<&[ReplicaState]>,
    cfg: &HealthConfig,
    now: Timestamp,
) -> Summary {
    let input = Input {
        secret: s,
        replicas,
        cfg,
        now,
        details: false,
    };
    let mut fired = RuleSet::default();
    let sup = run(&input, |id, _| fired.insert(id));
    let suppressed: RuleSet = match sup {
        Some(sup) => fired.iter().filter(|id| sup.covers(*id)).collect(),
        None => RuleSet::default(),
    };
    let worst = RuleSet(fired.0 & !suppressed.0)
        .iter()
        .map(|id| cfg.severity_of(id))
        .max();
    Summary {
        fired,
        suppressed,
        worst,
    }
}

pub(super) fn order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    a.suppressed
        .is_some()
        .cmp(&b.suppressed.is_some())
        .then(b.severity.cmp(&a.severity))
        .then(a.rule.cmp(&b.rule))
}

/// The worst severity among active (not suppressed) findings.
pub fn worst(findings: &[Finding]) -> Option<Severity> {
    findings
        .iter()
        .filter(|f| f.is_active())
        .map(|f| f.severity)
        .max()
}

// ---------------------------------------------------------------------------
// Suppression

/// A parsed suppression tag value: `rule-id[,rule-id…]: reason` or `*: reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suppression<'a> {
    rules: &'a str,
    pub reason: &'a str,
}

/// `None` when the value has no colon, no rule list or no reason.
pub fn parse_suppression(value: &str) -> Option<Suppression<'_>> {
    let (rules, reason) = value.split_once(':')?;
    let (rules, reason) = (rules.trim(), reason.trim());
    (!rules.is_empty() && !reason.is_empty()).then_some(Suppression { rules, reason })
}

impl Suppression<'_> {
    pub fn covers(&self, id: RuleId) -> bool {
        self.rules
            .split(',')
            .map(str::trim)
            .any(|r| r == "*" || r.eq_ignore_ascii_case(id.as_str()))
    }
}

//! Health of the whole inventory: the rules of `domain::health` run over
//! every secret of a snapshot, kept as a [`HealthView`] that pages, the
//! metrics and the alerts read.
//!
//! The rules depend on the clock (a grace period ends, a rotation becomes
//! overdue) as well as on the data, so a view is recomputed when the snapshot
//! changes and at least every `alerts.evaluate_every_secs`, by a background
//! task ([`HealthMonitor::spawn`]). A request that finds the view behind the
//! current snapshot recomputes it itself rather than show stale health.
//! Evaluation runs on every core: the rules are independent per secret.

use super::inventory::{Inventory, Snapshot};
use crate::domain::health::{self, HealthConfig, ReplicaState, RuleId, Severity, Summary};
use crate::domain::query::Facts;
use crate::domain::{Secret, Timestamp};
use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The rules' verdict on one snapshot at one time.
pub struct HealthView {
    pub snapshot: Arc<Snapshot>,
    pub at: Timestamp,
    /// By snapshot position.
    pub summaries: Vec<Summary>,
    pub counts: Counts,
    /// How long the evaluation took.
    pub took: Duration,
}

/// Whole-inventory counts, for the overview and the metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub secrets: usize,
    /// Secrets by worst active severity: index 0 is "ok" (none), then
    /// `Severity as usize + 1` (info … critical).
    pub by_worst: [usize; 6],
    /// Secrets with an active finding of each rule, by `RuleId as usize`.
    pub active: [usize; RuleId::ALL.len()],
    /// Secrets with a suppressed finding of each rule.
    pub suppressed: [usize; RuleId::ALL.len()],
}

impl Counts {
    fn add(&mut self, s: &Summary) {
        self.secrets += 1;
        self.by_worst[worst_slot(s.worst)] += 1;
        for id in s.active().iter() {
            self.active[id as usize] += 1;
        }
        for id in s.suppressed.iter() {
            self.suppressed[id as usize] += 1;
        }
    }

    fn merge(&mut self, o: &Counts) {
        self.secrets += o.secrets;
        for (a, b) in self.by_worst.iter_mut().zip(o.by_worst) {
            *a += b;
        }
        for (a, b) in self.active.iter_mut().zip(o.active) {
            *a += b;
        }
        for (a, b) in self.suppressed.iter_mut().zip(o.suppressed) {
            *a += b;
        }
    }

    pub fn with_worst(&self, worst: Option<Severity>) -> usize {
        self.by_worst[worst_slot(worst)]
    }
}

fn worst_slot(worst: Option<Severity>) -> usize {
    worst.map_or(0, |s| s as usize + 1)
}

impl HealthView {
    /// Runs the rules over `snapshot` at `now`, splitting the secrets over
    /// the available cores. `replicas` holds the replica status of the
    /// secrets whose status was read (by ARN); the replica rule runs for
    /// those only.
    pub fn compute(
        snapshot: Arc<Snapshot>,
        cfg: &HealthConfig,
        now: Timestamp,
        replicas: &Replicas,
    ) -> HealthView {
        let started = Instant::now();
        let secrets = snapshot.secrets();
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(8);
        // Below a few thousand secrets a thread costs more than it saves.
        let chunk = secrets.len().div_ceil(threads).max(4096);
        let mut summaries = vec![Summary::default(); secrets.len()];
        let mut counts = Counts::default();
        let run = |secrets: &[Arc<Secret>], out: &mut [Summary]| {
            let mut c = Counts::default();
            for (i, (s, slot)) in secrets.iter().zip(out.iter_mut()).enumerate() {
                if let Some(far) = secrets.get(i + AHEAD) {
                    prefetch_struct(far);
                }
                if let Some(near) = secrets.get(i + AHEAD / 2) {
                    prefetch_heap(near);
                }
                let r = if replicas.is_empty() {
                    None
                } else {
                    replicas.get(&s.arn).map(|v| v.as_slice())
                };
                *slot = health::summarize(s, r, cfg, now);
                c.add(slot);
            }
            c
        };
        if secrets.len() <= chunk {
            counts = run(secrets, &mut summaries);
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = secrets
                    .chunks(chunk)
                    .zip(summaries.chunks_mut(chunk))
                    .map(|(s, out)| scope.spawn(move || run(s, out)))
                    .collect();
                for h in handles {
                    // A panic in a rule is a bug; surface it where it happened.
                    match h.join() {
                        Ok(c) => counts.merge(&c),
                        Err(p) => std::panic::resume_unwind(p),
                    }
                }
            });
        }
        HealthView {
            snapshot,
            at: now,
            summaries,
            counts,
            took: started.elapsed(),
        }
    }

    /// The part of this view `keep` allows: a snapshot of those secrets
    /// (with its own index and tree, so lists, folders, facets, counts and
    /// exports show nothing else) and their summaries, not recomputed.
    /// For users whose grants do not cover everything.
    pub fn restrict(&self, keep: impl Fn(&Secret) -> bool) -> HealthView {
        let mut secrets = Vec::new();
        let mut summaries = Vec::new();
        let mut counts = Counts::default();
        for (s, sum) in self.snapshot.secrets().iter().zip(&self.summaries) {
            if keep(s) {
                secrets.push(s.clone());
                summaries.push(*sum);
                counts.add(sum);
            }
        }
        HealthView {
            snapshot: Arc::new(Snapshot::new(secrets, self.snapshot.taken_at)),
            at: self.at,
            summaries,
            counts,
            // The rules ran once, over the whole inventory, in this long.
            took: self.took,
        }
    }

    pub fn empty() -> HealthView {
        HealthView {
            snapshot: Arc::new(Snapshot::default()),
            at: Timestamp::new(0),
            summaries: Vec::new(),
            counts: Counts::default(),
            took: Duration::ZERO,
        }
    }

    pub fn summary(&self, position: usize) -> Summary {
        self.summaries.get(position).copied().unwrap_or_default()
    }

    /// The worst active severity among the secrets at `range` (a folder).
    pub fn worst_in(&self, range: std::ops::Range<usize>) -> Option<Severity> {
        self.summaries
            .get(range)
            .unwrap_or(&[])
            .iter()
            .filter_map(|s| s.worst)
            .max()
    }
}

/// How many secrets ahead [`HealthView::compute`] asks for memory: the rules
/// read little from each secret, so waiting for its cache lines one by one
/// is most of their cost (measured in bench/RESULTS.md).
const AHEAD: usize = 16;

/// Starts loading the cache lines of `s` itself.
#[inline(always)]
fn prefetch_struct(s: &Secret) {
    let p = std::ptr::from_ref(s).cast::<u8>();
    for line in (0..std::mem::size_of::<Secret>()).step_by(64) {
        prefetch(p.wrapping_add(line));
    }
}

/// Starts loading what the rules read behind `s`'s pointers (its struct
/// should be cached by now): versions, tags, description.
#[inline(always)]
fn prefetch_heap(s: &Secret) {
    prefetch(s.versions.as_ptr().cast());
    prefetch(s.tags.as_ptr().cast());
    if let Some(d) = s.description.as_deref() {
        prefetch(d.as_ptr());
    }
}

#[inline(always)]
fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it never faults and reads nothing into
    // the program, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

impl std::ops::Deref for HealthView {
    type Target = Snapshot;

    fn deref(&self) -> &Snapshot {
        &self.snapshot
    }
}

impl Facts for HealthView {
    fn now(&self) -> Timestamp {
        self.at
    }

    fn health(&self, row: usize) -> Summary {
        self.summary(row)
    }

    fn secret(&self, row: usize) -> &Secret {
        &self.snapshot.secrets()[row]
    }
}

/// What on-call is alerted about, per secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alarm {
    RotationFailed,
    RotationOverdue,
}

impl Alarm {
    /// Failed wins over overdue (the rules already keep them apart).
    pub fn of(s: &Summary) -> Option<Alarm> {
        let active = s.active();
        if active.contains(RuleId::RotationFailed) {
            Some(Alarm::RotationFailed)
        } else if active.contains(RuleId::RotationOverdue) {
            Some(Alarm::RotationOverdue)
        } else {
            None
        }
    }

    pub fn rule(self) -> RuleId {
        match self {
            Alarm::RotationFailed => RuleId::RotationFailed,
            Alarm::RotationOverdue => RuleId::RotationOverdue,
        }
    }
}

/// A change of one secret's alarm between two evaluations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub arn: Arc<str>,
    pub name: Arc<str>,
    pub from: Option<Alarm>,
    pub to: Option<Alarm>,
}

/// The alarms of a view, by ARN.
fn alarms(view: &HealthView) -> HashMap<Arc<str>, Alarm> {
    view.snapshot
        .secrets()
        .iter()
        .zip(&view.summaries)
        .filter_map(|(s, sum)| Alarm::of(sum).map(|a| (s.arn.clone(), a)))
        .collect()
}

/// Secrets whose alarm changed from `before` to `after`, by name.
pub fn transitions(
    before: &HashMap<Arc<str>, Alarm>,
    after: &HashMap<Arc<str>, Alarm>,
    snapshot: &Snapshot,
) -> Vec<Transition> {
    let name_of = |arn: &Arc<str>| -> Arc<str> {
        snapshot
            .by_arn(arn)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| arn.clone())
    };
    let mut out: Vec<Transition> = after
        .iter()
        .filter(|(arn, a)| before.get(*arn) != Some(a))
        .map(|(arn, a)| Transition {
            arn: arn.clone(),
            name: name_of(arn),
            from: before.get(arn).copied(),
            to: Some(*a),
        })
        .collect();
    // Recovered, or gone from the inventory (deleted for good): the alarm
    // is over either way.
    out.extend(
        before
            .iter()
            .filter(|(arn, _)| !after.contains_key(*arn))
            .map(|(arn, a)| Transition {
                arn: arn.clone(),
                name: name_of(arn),
                from: Some(*a),
                to: None,
            }),
    );
    out.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.arn.cmp(&b.arn)));
    out
}

/// Where transitions go (the webhook), decoupled for tests.
pub trait AlertSink: Send + Sync {
    /// The first evaluation: what is already broken when secretscope starts.
    fn baseline(&self, view: &HealthView, alarms: usize);
    fn transitions(&self, view: &HealthView, changes: Vec<Transition>);
}

/// Keeps the current [`HealthView`] and turns changes into alerts.
pub struct HealthMonitor {
    pub cfg: HealthConfig,
    inventory: Arc<Inventory>,
    view: ArcSwap<HealthView>,
    /// Serialises evaluations, and holds the alarms of the last one
    /// (`None` before the first).
    state: Mutex<Option<HashMap<Arc<str>, Alarm>>>,
    every: Duration,
    sink: Option<Arc<dyn AlertSink>>,
    replicas: Arc<ReplicaFeed>,
}

/// Replica status by ARN, as known at a time.
pub type Replicas = HashMap<Arc<str>, Vec<ReplicaState>>;
type ReplicaFeed = dyn Fn(Timestamp) -> Replicas + Send + Sync;

impl HealthMonitor {
    pub fn new(
        cfg: HealthConfig,
        inventory: Arc<Inventory>,
        every: Duration,
        sink: Option<Arc<dyn AlertSink>>,
    ) -> HealthMonitor {
        HealthMonitor {
            cfg,
            inventory,
            view: ArcSwap::from_pointee(HealthView::empty()),
            state: Mutex::new(None),
            every: every.max(Duration::from_secs(1)),
            sink,
            replicas: Arc::new(|_| HashMap::new()),
        }
    }

    /// Where replica status comes from (the detail cache).
    pub fn with_replicas(
        mut self,
        f: impl Fn(Timestamp) -> Replicas + Send + Sync + 'static,
    ) -> Self {
        self.replicas = Arc::new(f);
        self
    }

    /// The view of the current snapshot: the kept one when it is of this
    /// snapshot and recent, else a new evaluation.
    pub fn current(&self, now: Timestamp) -> Arc<HealthView> {
        let view = self.view.load_full();
        if self.is_fresh(&view, now) {
            return view;
        }
        self.evaluate(now)
    }

    fn is_fresh(&self, view: &HealthView, now: Timestamp) -> bool {
        Arc::ptr_eq(&view.snapshot, &self.inventory.snapshot())
            && view.at.secs() <= now.secs()
            && ((now.secs() - view.at.secs()) as u64) < self.every.as_secs()
    }

    /// Evaluates the current snapshot at `now`, publishes the view and
    /// hands alarm changes to the sink.
    pub fn evaluate(&self, now: Timestamp) -> Arc<HealthView> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        // Someone else may have just done it while this one waited.
        let kept = self.view.load_full();
        if self.is_fresh(&kept, now) && state.is_some() {
            return kept;
        }
        let snapshot = self.inventory.snapshot();
        let replicas = (self.replicas)(now);
        let view = Arc::new(HealthView::compute(snapshot, &self.cfg, now, &replicas));
        tracing::debug!(
            secrets = view.counts.secrets,
            ms = view.took.as_secs_f64() * 1e3,
            "health evaluated"
        );
        let after = alarms(&view);
        // Before the first list pass the inventory is empty, not healthy:
        // start comparing from the first real snapshot.
        if view.snapshot.taken_at.is_some() {
            match state.as_ref() {
                None => {
                    if let Some(sink) = &self.sink {
                        sink.baseline(&view, after.len());
                    }
                }
                Some(before) => {
                    let changes = transitions(before, &after, &view.snapshot);
                    if !changes.is_empty() {
                        if let Some(sink) = &self.sink {
                            sink.transitions(&view, changes);
                        }
                    }
                }
            }
            *state = Some(after);
        }
        self.view.store(view.clone());
        view
    }

    /// Re-evaluates whenever the snapshot changes and at least every
    /// `every`, so alerts go out with nobody looking at a page.
    pub fn spawn(self: Arc<Self>, now: fn() -> Timestamp) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let t = now();
                if !self.is_fresh(&self.view.load_full(), t) {
                    let me = self.clone();
                    // The rules are CPU work: keep them off the async workers.
                    let _ = tokio::task::spawn_blocking(move || me.evaluate(t)).await;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secret::fixtures::secret;
    use crate::domain::{Label, Version, VersionId};
    use crate::server::inventory::ListStats;

    const NOW: i64 = 1_800_000_000;

    /// A secret with a rotation stuck for `stuck` seconds (0: healthy).
    fn rotating(name: &str, stuck: i64) -> Arc<Secret> {
        let mut s = secret(name);
        s.rotation_enabled = true;
        s.rotation_lambda_arn = Some("arn:aws:lambda:us-east-1:1:function:rot".into());
        s.last_rotated = Some(Timestamp::new(NOW - 86_400));
        s.next_rotation = Some(Timestamp::new(NOW + 86_400));
        s.description = Some("d".into());
        s.tags = crate::domain::secret::fixtures::tagged("x", &[("owner", "o")]).tags;
        s.kms_key_id = Some("arn:aws:kms:us-east-1:1:key/k".into());
        s.last_accessed = Some(Timestamp::new(NOW - 86_400));
        if stuck > 0 {
            s.versions.push(Version {
                id: VersionId::parse("pending"),
                labels: [Label::Pending].into_iter().collect(),
                created: Some(Timestamp::new(NOW - stuck)),
                last_accessed: None,
            });
        }
        Arc::new(s)
    }

    #[derive(Default)]
    struct Recorder {
        baseline: Mutex<Vec<usize>>,
        seen: Mutex<Vec<Transition>>,
    }

    impl AlertSink for Recorder {
        fn baseline(&self, _: &HealthView, alarms: usize) {
            self.baseline.lock().unwrap().push(alarms);
        }
        fn transitions(&self, _: &HealthView, changes: Vec<Transition>) {
            self.seen.lock().unwrap().extend(changes);
        }
    }

    #[test]
    fn counts_match_summaries_and_threads_agree() {
        let cfg = HealthConfig::default();
        let secrets: Vec<Arc<Secret>> = (0..10_000)
            .map(|i| {
                if i % 3 == 0 {
                    rotating(&format!("s{i:05}"), 4 * 3600)
                } else {
                    Arc::new(secret(&format!("s{i:05}")))
                }
            })
            .collect();
        let snap = Arc::new(Snapshot::new(secrets, Some(Timestamp::new(NOW))));
        let view = HealthView::compute(snap.clone(), &cfg, Timestamp::new(NOW), &HashMap::new());
        let mut want = Counts::default();
        for s in snap.secrets() {
            want.add(&health::summarize(s, None, &cfg, Timestamp::new(NOW)));
        }
        assert_eq!(view.counts, want);
        assert_eq!(view.counts.active[RuleId::RotationFailed as usize], 3334);
        assert_eq!(view.counts.with_worst(Some(Severity::Critical)), 3334);
        assert_eq!(view.counts.by_worst.iter().sum::<usize>(), 10_000);
        for (i, s) in snap.secrets().iter().enumerate() {
            assert_eq!(
                view.summaries[i],
                health::summarize(s, None, &cfg, Timestamp::new(NOW))
            );
        }
        assert_eq!(view.worst_in(0..3), Some(Severity::Critical));
    }

    #[test]
    fn replica_status_reaches_the_replica_rule() {
        let cfg = HealthConfig::default();
        let s = rotating("r", 0);
        let snap = Arc::new(Snapshot::new(vec![s.clone()], Some(Timestamp::new(NOW))));
        let mut replicas = HashMap::new();
        let at = Timestamp::new(NOW);
        let v = HealthView::compute(snap.clone(), &cfg, at, &replicas);
        assert!(!v.summaries[0].fired.contains(RuleId::ReplicaFailed));
        replicas.insert(
            s.arn.clone(),
            vec![ReplicaState {
                region: "eu-west-1".into(),
                status: "Failed".into(),
                message: Some("name clash".into()),
                last_accessed: None,
            }],
        );
        let v = HealthView::compute(snap, &cfg, at, &replicas);
        assert!(v.summaries[0].fired.contains(RuleId::ReplicaFailed));
    }

    #[test]
    fn alarms_change_once_per_transition() {
        let inv = Arc::new(Inventory::new());
        let rec = Arc::new(Recorder::default());
        let cfg = HealthConfig {
            pending_grace_secs: 3600,
            ..Default::default()
        };
        let mon = HealthMonitor::new(cfg, inv.clone(), Duration::from_secs(30), Some(rec.clone()));
        let at = |d: i64| Timestamp::new(NOW + d);
        // Nothing synced yet: no baseline.
        mon.evaluate(at(0));
        assert!(rec.baseline.lock().unwrap().is_empty());

        let publish = |secrets: Vec<Arc<Secret>>| {
            inv.publish_list(secrets, ListStats::default(), Timestamp::new(NOW), 0)
        };
        publish(vec![
            rotating("a", 2 * 3600),
            rotating("b", 600),
            rotating("c", 0),
        ]);
        mon.evaluate(at(0));
        assert_eq!(*rec.baseline.lock().unwrap(), [1], "a is already failed");
        // Same data, later: b passes its grace.
        mon.evaluate(at(3000 + 1));
        let seen = std::mem::take(&mut *rec.seen.lock().unwrap());
        assert_eq!(seen.len(), 1);
        assert_eq!(
            (&*seen[0].name, seen[0].from, seen[0].to),
            ("b", None, Some(Alarm::RotationFailed))
        );
        // Nothing changes: nothing sent, even when evaluated again.
        mon.evaluate(at(3100));
        assert!(rec.seen.lock().unwrap().is_empty());
        // a recovers (its pending version is gone); c disappears: nothing to say about c.
        publish(vec![rotating("a", 0), rotating("b", 3700)]);
        mon.evaluate(at(3200));
        let seen = std::mem::take(&mut *rec.seen.lock().unwrap());
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(
            (&*seen[0].name, seen[0].from, seen[0].to),
            ("a", Some(Alarm::RotationFailed), None)
        );
    }

    #[test]
    fn current_reuses_a_fresh_view_and_follows_the_snapshot() {
        let inv = Arc::new(Inventory::new());
        let mon = HealthMonitor::new(
            HealthConfig::default(),
            inv.clone(),
            Duration::from_secs(30),
            None,
        );
        inv.publish_list(
            vec![rotating("a", 0)],
            ListStats::default(),
            Timestamp::new(NOW),
            0,
        );
        let v1 = mon.current(Timestamp::new(NOW));
        let v2 = mon.current(Timestamp::new(NOW + 29));
        assert!(Arc::ptr_eq(&v1, &v2), "fresh view reused");
        let v3 = mon.current(Timestamp::new(NOW + 30));
        assert!(!Arc::ptr_eq(&v1, &v3), "too old");
        inv.publish_list(
            vec![rotating("b", 0)],
            ListStats::default(),
            Timestamp::new(NOW),
            0,
        );
        let v4 = mon.current(Timestamp::new(NOW + 31));
        assert_eq!(
            &*v4.snapshot.secrets()[0].name,
            "b",
            "follows a new snapshot at once"
        );
    }
}

//! The demo endpoint's state: the secrets of one account and region, their
//! rotation records, and the lookups every operation shares.
//!
//! Every operation (one file each in `ops/`) is a plain synchronous method
//! on [`Store`]: the HTTP layer parses the request, takes the lock, calls one
//! method and serialises what it returns. Sorted orders for ListSecrets are
//! cached per sort key and dropped on every mutation, so paging a
//! 100,000-secret store costs a binary search and a page.

pub(crate) mod checks;
mod rotation;

use crate::infra::verdict::Verdict;
use crate::infra::Infra;
use crate::ops::list_secrets::SortBy;
use crate::protocol::ApiError;
use crate::rotation::{RotationOutcome, RotationRecord, RotationStep, StepRecord};
use crate::seed::{
    EpochMs, PlannedReader, ReplicaStatus, SecretData, SeedSecret, VersionData, AWSCURRENT,
    AWSPENDING, SECOND,
};
use crate::store::checks::secret_id;
use rand::Rng;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Keep at most this many rotation records per secret.
pub(crate) const HISTORY_LIMIT: usize = 20;

pub(crate) struct Secret {
    pub data: SecretData,
    /// The rotation whose task is running, if any.
    pub running: Option<u64>,
    /// Immediate rotations started on this endpoint (a `flaky` Lambda fails the first).
    pub attempts: u32,
    pub history: Vec<RotationRecord>,
    /// CancelRotateSecret calls, oldest first (at most `HISTORY_LIMIT`): a
    /// cancel need not stop a running rotation, so records alone miss some.
    pub cancels: Vec<CancelCall>,
    /// Who reads it (the seed's readers, then those added), in the order
    /// added: a reader's place is part of its events' ids.
    pub readers: Vec<PlannedReader>,
}

impl Secret {
    /// A secret with nothing running and `history` behind it.
    pub(crate) fn new(data: SecretData, history: Vec<RotationRecord>) -> Secret {
        Secret {
            data,
            running: None,
            attempts: 0,
            history,
            cancels: Vec::new(),
            readers: Vec::new(),
        }
    }
}

/// One CancelRotateSecret call, for the CloudTrail events the endpoint serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CancelCall {
    pub at: EpochMs,
    /// The version holding AWSPENDING when it was called (the response's VersionId).
    pub version_id: Option<String>,
}

/// What the CloudTrail side of the endpoint reads of one secret.
pub(crate) struct TrailSource<'a> {
    pub data: &'a SecretData,
    pub history: &'a [RotationRecord],
    pub cancels: &'a [CancelCall],
    pub readers: &'a [PlannedReader],
}

pub(crate) struct Store {
    pub(crate) secrets: Vec<Option<Secret>>,
    pub(crate) by_name: HashMap<String, u32>,
    pub(crate) by_arn: HashMap<String, u32>,
    pub(crate) next_rotation_id: u64,
    pub(crate) orders: Mutex<HashMap<SortBy, Arc<Vec<u32>>>>,
    pub(crate) account: String,
    pub(crate) region: String,
    /// The Lambdas, keys, VPCs and roles rotations meet (shared by every
    /// account and region of an organisation).
    pub(crate) infra: Arc<Infra>,
    /// The write calls CloudTrail recorded, oldest first (see
    /// `cloudtrail/writes.rs`).
    pub(crate) writes: std::collections::VecDeque<crate::cloudtrail::writes::WriteEvent>,
}

pub(crate) fn push_history(s: &mut Secret, r: RotationRecord) {
    s.history.push(r);
    if s.history.len() > HISTORY_LIMIT {
        let extra = s.history.len() - HISTORY_LIMIT;
        s.history.drain(..extra);
    }
}

pub(crate) fn has_label(v: &VersionData, label: &str) -> bool {
    v.stages.iter().any(|l| l == label)
}

pub(crate) fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub(crate) fn random_suffix() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..6)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

/// The step and message of a seeded failed rotation, from what its next
/// rotation would meet: the step it fails at; for a Lambda Secrets Manager
/// cannot invoke, createSecret (the first invocation) refused; for one that
/// works now (fixed since), a setSecret timeout, as a flaky one's.
fn seeded_failure(verdict: &Verdict, lambda: Option<&str>) -> (RotationStep, String) {
    let f = lambda
        .map(crate::arn::function_name)
        .unwrap_or("managed rotation");
    match verdict {
        Verdict::Runs(Some((step, msg))) => (*step, msg.clone()),
        Verdict::Refused(why) => (
            RotationStep::CreateSecret,
            format!("{f} failed at createSecret: {why}"),
        ),
        Verdict::Runs(None) => (
            RotationStep::SetSecret,
            format!("{f} failed at setSecret: Task timed out after 30.03 seconds"),
        ),
    }
}

impl Store {
    pub(crate) fn from_seed(
        seeds: Vec<SeedSecret>,
        account: &str,
        region: &str,
        now: EpochMs,
        infra: Arc<Infra>,
    ) -> Store {
        let mut store = Store {
            secrets: Vec::with_capacity(seeds.len()),
            by_name: HashMap::with_capacity(seeds.len()),
            by_arn: HashMap::with_capacity(seeds.len()),
            next_rotation_id: 1,
            orders: Mutex::new(HashMap::new()),
            account: account.to_string(),
            region: region.to_string(),
            infra,
            writes: Default::default(),
        };
        for seed in seeds {
            let history = store.seeded_history(&seed.data, now);
            let mut secret = Secret::new(seed.data, history);
            secret.readers = seed.plan.readers;
            store.insert(secret);
        }
        store
    }

    /// The rotation history a real account would show for the seeded state:
    /// its last rotation, the failed rotation that left AWSPENDING behind
    /// (failing as its configuration makes it, see `crate::infra::verdict`),
    /// and, when Secrets Manager cannot invoke the Lambda and a rotation was
    /// due with nothing pending, that refused rotation.
    pub(crate) fn seeded_history(&mut self, d: &SecretData, now: EpochMs) -> Vec<RotationRecord> {
        let mut out = Vec::new();
        let lambda = d.rotation_lambda_arn.clone();
        let verdict = self.infra.verdict(d, lambda.as_deref(), 1);
        let record = |id: u64, version_id: String, started: EpochMs| RotationRecord {
            outcome: RotationOutcome::Succeeded,
            seeded: true,
            ..RotationRecord::new(id, version_id, lambda.clone(), started)
        };
        if let Some(at) = d.last_rotated {
            if let Some(cur) = d.versions.iter().find(|v| has_label(v, AWSCURRENT)) {
                let mut r = record(self.next_rotation_id, cur.id.clone(), at - 3 * SECOND);
                self.next_rotation_id += 1;
                for (k, step) in RotationStep::ALL.into_iter().enumerate() {
                    r.steps.push(StepRecord {
                        step,
                        at: at - (3 - k as i64) * SECOND,
                        ok: true,
                        message: None,
                    });
                }
                r.finished = Some(at);
                out.push(r);
            }
        }
        let pending = d
            .versions
            .iter()
            .find(|v| has_label(v, AWSPENDING) && !has_label(v, AWSCURRENT));
        if let Some(p) = pending {
            let mut r = record(self.next_rotation_id, p.id.clone(), p.created);
            self.next_rotation_id += 1;
            let (failed, msg) = seeded_failure(&verdict, lambda.as_deref());
            let mut at = p.created;
            for step in RotationStep::ALL {
                let ok = step != failed;
                r.steps.push(StepRecord {
                    step,
                    at,
                    ok,
                    message: (!ok).then(|| msg.clone()),
                });
                if !ok {
                    break;
                }
                at += SECOND;
            }
            r.finished = Some(at);
            r.outcome = RotationOutcome::Failed;
            r.message = Some(msg);
            out.push(r);
        }
        // A replica is rotated with its primary, in the primary's region.
        let rotated_here = d.rotation_enabled && !self.is_replica(d);
        if let (Verdict::Refused(msg), None, true) = (&verdict, pending, rotated_here) {
            if let Some(due) = d.next_rotation.filter(|t| *t < now) {
                let mut r = record(self.next_rotation_id, String::new(), due);
                self.next_rotation_id += 1;
                r.finished = Some(due);
                r.outcome = RotationOutcome::Failed;
                r.message = Some(msg.clone());
                out.push(r);
            }
        }
        out
    }

    pub(crate) fn insert(&mut self, s: Secret) -> u32 {
        let seq = self.secrets.len() as u32;
        self.by_name.insert(s.data.name.clone(), seq);
        self.by_arn.insert(s.data.arn.clone(), seq);
        self.secrets.push(Some(s));
        seq
    }

    /// Secrets held, including those scheduled for deletion.
    pub(crate) fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Keep the cached orders right after secret `seq` changed: call after every mutation.
    ///
    /// Cached orders are kept, not dropped: `seq` is taken out of each and put
    /// back where its new sort key belongs (or left out if it was deleted).
    pub(crate) fn touch(&mut self, seq: u32) {
        let orders = std::mem::take(self.orders.get_mut().unwrap_or_else(|e| e.into_inner()));
        let mut kept = HashMap::with_capacity(orders.len());
        let alive = self.secrets.get(seq as usize).is_some_and(Option::is_some);
        for (by, mut order) in orders {
            let v = Arc::make_mut(&mut order);
            if let Some(pos) = v.iter().position(|&x| x == seq) {
                v.remove(pos);
            }
            if alive {
                let key = self.sort_key(seq, by);
                let pos = v.partition_point(|&x| self.sort_key(x, by) < key);
                v.insert(pos, seq);
            }
            kept.insert(by, order);
        }
        *self.orders.get_mut().unwrap_or_else(|e| e.into_inner()) = kept;
    }

    /// Compute every sorted order now, so that the first page is as fast as the next.
    pub(crate) fn warm(&self) {
        for by in [
            SortBy::CreatedDate,
            SortBy::Name,
            SortBy::LastChangedDate,
            SortBy::LastAccessedDate,
        ] {
            self.order(by);
        }
    }

    /// Find a secret by name, full ARN or partial ARN (without the random suffix).
    pub(crate) fn lookup(&self, id: &str) -> Result<u32, ApiError> {
        if let Some(&seq) = self.by_arn.get(id) {
            return Ok(seq);
        }
        if id.starts_with("arn:") {
            let prefix = format!(
                "arn:aws:secretsmanager:{}:{}:secret:",
                self.region, self.account
            );
            return id
                .strip_prefix(&prefix)
                .and_then(|name| self.by_name.get(name).copied())
                .ok_or_else(ApiError::secret_not_found);
        }
        self.by_name
            .get(id)
            .copied()
            .ok_or_else(ApiError::secret_not_found)
    }

    pub(crate) fn get(&self, seq: u32) -> &Secret {
        self.secrets[seq as usize]
            .as_ref()
            .expect("looked-up secrets exist")
    }

    pub(crate) fn get_mut(&mut self, seq: u32) -> &mut Secret {
        self.secrets[seq as usize]
            .as_mut()
            .expect("looked-up secrets exist")
    }

    /// True when `d` is a replica here of a secret whose primary is in another region.
    pub(crate) fn is_replica(&self, d: &SecretData) -> bool {
        d.primary_region
            .as_deref()
            .is_some_and(|p| p != self.region)
    }

    /// A secret that may be changed here (scheduled for deletion or not):
    /// it exists and is not a replica of a secret in another region.
    pub(crate) fn changeable(&mut self, id: Option<String>) -> Result<u32, ApiError> {
        let id = secret_id(id)?;
        let seq = self.lookup(&id)?;
        if self.is_replica(&self.get(seq).data) {
            return Err(ApiError::replica());
        }
        Ok(seq)
    }

    /// A secret that may be changed: it exists, is no replica, and is not
    /// scheduled for deletion.
    pub(crate) fn live_mut(&mut self, id: Option<String>) -> Result<(u32, &mut Secret), ApiError> {
        let seq = self.changeable(id)?;
        let s = self.get_mut(seq);
        if s.data.deleted.is_some() {
            return Err(ApiError::marked_for_deletion());
        }
        Ok((seq, s))
    }

    /// The account and region every ARN of this store is in.
    pub(crate) fn account_region(&self) -> (&str, &str) {
        (&self.account, &self.region)
    }

    /// What CloudTrail would have recorded about one secret (by name, full
    /// or partial ARN), or about every secret, deleted ones included.
    /// Secrets deleted without recovery are gone, and so are their events.
    pub(crate) fn trail_sources(&self, id: Option<&str>) -> Vec<TrailSource<'_>> {
        fn source(s: &Secret) -> TrailSource<'_> {
            TrailSource {
                data: &s.data,
                history: &s.history,
                cancels: &s.cancels,
                readers: &s.readers,
            }
        }
        match id {
            Some(id) => self
                .lookup(id)
                .ok()
                .map(|seq| vec![source(self.get(seq))])
                .unwrap_or_default(),
            None => self.secrets.iter().flatten().map(source).collect(),
        }
    }

    /// The metadata of a secret (by name, full or partial ARN).
    pub(crate) fn data(&self, id: &str) -> Option<&SecretData> {
        self.lookup(id).ok().map(|seq| &self.get(seq).data)
    }

    /// Holds a replica of a secret of another region; false (and nothing
    /// changes) when a secret of that name is already here.
    pub(crate) fn add_replica(&mut self, data: SecretData) -> bool {
        if self.by_name.contains_key(&data.name) {
            return false;
        }
        let seq = self.insert(Secret::new(data, Vec::new()));
        self.touch(seq);
        true
    }

    /// The replica of secret `id` in `region` could not be made.
    pub(crate) fn replica_failed(&mut self, id: &str, region: &str, message: &str) {
        let Ok(seq) = self.lookup(id) else { return };
        if let Some(r) = self
            .get_mut(seq)
            .data
            .replication
            .iter_mut()
            .find(|r| r.region == region)
        {
            r.status = ReplicaStatus::Failed;
            r.status_message = Some(message.to_string());
        }
    }

    /// Adds `reader` to secret `seq`, and raises its LastAccessedDate (and
    /// its versions') to the reader's last successful read up to `now`.
    pub(crate) fn add_reader(&mut self, seq: u32, reader: PlannedReader, now: EpochMs) {
        let s = self.get_mut(seq);
        crate::seed::align_versions(&mut s.data, std::slice::from_ref(&reader), now, true);
        s.readers.push(reader);
        self.touch(seq);
    }

    /// The readers of a secret (by name, full or partial ARN).
    pub(crate) fn readers(&self, id: &str) -> Option<Vec<PlannedReader>> {
        self.lookup(id)
            .ok()
            .map(|seq| self.get(seq).readers.clone())
    }

    pub(crate) fn history(&self, id: &str) -> Option<Vec<RotationRecord>> {
        self.lookup(id)
            .ok()
            .map(|seq| self.get(seq).history.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seeded failed rotation is on record as failed at its Lambda's step,
    /// every step before it done, with that step's message.
    #[test]
    fn seeded_failures_carry_their_step() {
        use crate::seed::{self, Scenario};
        let seeds = seed::generate(300, 42, 1_760_000_000, "123456789012", "us-east-1");
        let planned: Vec<_> = seeds.iter().map(|s| s.plan.clone()).collect();
        let mut infra = Infra::new(1_760_000_000_000);
        infra.register("123456789012", "us-east-1", &seeds);
        let store = Store::from_seed(
            seeds,
            "123456789012",
            "us-east-1",
            1_760_000_000_000,
            Arc::new(infra),
        );
        let mut steps = std::collections::BTreeSet::new();
        for p in planned.iter().filter(|p| {
            matches!(
                p.scenario,
                Scenario::RotationFailed | Scenario::RotationFlaky
            )
        }) {
            let failed = store.history(&p.arn).unwrap().pop().unwrap();
            // A Lambda fixed since (`ok`) failed at setSecret, as a flaky
            // one; one Secrets Manager cannot invoke, at its first step.
            let b = p.lambda_behaviour.unwrap();
            let step = if b.refused() {
                RotationStep::CreateSecret
            } else {
                b.fails_at(1).unwrap_or(RotationStep::SetSecret)
            };
            assert_eq!(failed.outcome, RotationOutcome::Failed);
            let last = failed.steps.last().unwrap();
            assert_eq!((last.step, last.ok), (step, false), "{}", p.name);
            assert!(failed.steps[..failed.steps.len() - 1].iter().all(|s| s.ok));
            let message = failed.message.unwrap();
            assert!(
                message.contains(&format!(" failed at {}: ", step.as_str())),
                "{message}"
            );
            assert_eq!(last.message.as_deref(), Some(message.as_str()));
            if b.refused() {
                assert!(
                    message.contains("Lambda does not exist")
                        || message.contains("cannot invoke the specified Lambda function"),
                    "{message}"
                );
            }
            steps.insert(step.as_str());
        }
        assert_eq!(steps.len(), 4, "{steps:?}");
    }
}

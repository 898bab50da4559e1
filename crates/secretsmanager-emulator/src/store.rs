//! The demo endpoint's state and the Secrets Manager operations on it.
//!
//! Every operation is a plain synchronous method: the HTTP layer parses the
//! request, takes the lock, calls one method and serialises what it returns.
//! Sorted orders for ListSecrets are cached per sort key and dropped on every
//! mutation, so paging a 100,000-secret store costs a binary search and a page.

use super::filters;
use super::protocol::{
    ts, ApiError, CreateReq, DeleteReq, ListSecretsReq, ListVersionsReq, Obj, PutPolicyReq,
    PutValueReq, RotateReq, RulesReq, SecretIdReq, TagReq, TagResourceReq, UntagResourceReq,
    UpdateStageReq,
};
use super::rotation::{
    failure_message, LambdaBehaviour, RotationOutcome, RotationRecord, RotationStep, StepRecord,
};
use super::seed::{
    EpochMs, Replica, ReplicaStatus, RotationRules, SecretData, SeedSecret, Tag, VersionData,
    AWSCURRENT, AWSPENDING, AWSPREVIOUS, DAY, HOUR, SECOND,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Keep at most this many rotation records per secret.
const HISTORY_LIMIT: usize = 20;

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
}

impl Secret {
    /// A secret with nothing running and `history` behind it.
    fn new(data: SecretData, history: Vec<RotationRecord>) -> Secret {
        Secret {
            data,
            running: None,
            attempts: 0,
            history,
            cancels: Vec::new(),
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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum SortBy {
    CreatedDate,
    LastAccessedDate,
    LastChangedDate,
    Name,
}

impl SortBy {
    fn parse(s: Option<&str>) -> Result<SortBy, ApiError> {
        Ok(match s {
            None | Some("created-date") => SortBy::CreatedDate,
            Some("last-accessed-date") => SortBy::LastAccessedDate,
            Some("last-changed-date") => SortBy::LastChangedDate,
            Some("name") => SortBy::Name,
            Some(other) => {
                return Err(ApiError::validation(format!(
                    "Value '{other}' at 'sortBy' failed to satisfy constraint: Member must satisfy enum value set: [created-date, last-accessed-date, last-changed-date, name]"
                )))
            }
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            SortBy::CreatedDate => "created-date",
            SortBy::LastAccessedDate => "last-accessed-date",
            SortBy::LastChangedDate => "last-changed-date",
            SortBy::Name => "name",
        }
    }
}

/// Where a ListSecrets page ended: the sort key of its last entry.
#[derive(Serialize, Deserialize)]
struct PageToken {
    b: String,
    o: String,
    k: i64,
    s: String,
    q: u32,
}

#[derive(Serialize, Deserialize)]
struct VersionToken {
    v: String,
    o: usize,
}

fn encode_token<T: Serialize>(t: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(t).expect("token serialises"))
}

fn decode_token<T: for<'de> Deserialize<'de>>(s: &str) -> Result<T, ApiError> {
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| {
            ApiError::client(
                "InvalidNextTokenException",
                "The NextToken value is invalid.",
            )
        })
}

fn max_results(v: Option<i64>) -> Result<usize, ApiError> {
    match v {
        None => Ok(100),
        Some(n) if n < 1 => Err(ApiError::validation(format!(
            "Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"
        ))),
        Some(n) if n > 100 => Err(ApiError::validation(format!(
            "Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100"
        ))),
        Some(n) => Ok(n as usize),
    }
}

fn required(v: Option<String>, field: &str) -> Result<String, ApiError> {
    v.ok_or_else(|| ApiError::missing(field))
}

/// A string member within the length range of the service model
/// (`field` as the model names it: `moveToVersionId`), when present.
fn check_len(field: &str, v: Option<&str>, min: usize, max: usize) -> Result<(), ApiError> {
    match v.and_then(|v| ApiError::length(field, v.chars().count(), min, max)) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// A version id or ClientRequestToken (the model's SecretVersionIdType and
/// ClientRequestTokenType): 32 to 64 characters.
fn check_version_id(field: &str, v: Option<&str>) -> Result<(), ApiError> {
    check_len(field, v, 32, 64)
}

/// SecretId: required, 1 to 2048 characters (SecretIdType).
fn secret_id(v: Option<String>) -> Result<String, ApiError> {
    let id = required(v, "SecretId")?;
    check_len("secretId", Some(&id), 1, 2048)?;
    Ok(id)
}

fn has_label(v: &VersionData, label: &str) -> bool {
    v.stages.iter().any(|l| l == label)
}

fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn random_suffix() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..6)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

/// `rate(N days)` / `rate(N hours)` in milliseconds.
fn parse_rate(expr: &str) -> Option<EpochMs> {
    let inner = expr.trim().strip_prefix("rate(")?.strip_suffix(')')?;
    let (n, unit) = inner.trim().split_once(' ')?;
    let n: i64 = n.parse().ok()?;
    match unit.trim() {
        "day" | "days" => Some(n * DAY),
        "hour" | "hours" => Some(n * HOUR),
        _ => None,
    }
}

/// When the next scheduled rotation is due, counted from `from`.
fn next_rotation(rules: Option<&RotationRules>, from: EpochMs) -> Option<EpochMs> {
    let r = rules?;
    if let Some(expr) = &r.schedule_expression {
        if let Some(every) = parse_rate(expr) {
            return Some(from + every);
        }
        if expr.starts_with("cron(") {
            // An approximation: the next day at 00:00 UTC.
            return Some(from.div_euclid(DAY) * DAY + DAY);
        }
    }
    r.automatically_after_days.map(|d| from + d * DAY)
}

fn validate_rules(r: &RulesReq) -> Result<(), ApiError> {
    if let Some(d) = r.automatically_after_days {
        if !(1..=1000).contains(&d) {
            return Err(ApiError::validation(format!(
                "Value '{d}' at 'rotationRules.automaticallyAfterDays' failed to satisfy constraint: Member must have value {}",
                if d < 1 { "greater than or equal to 1" } else { "less than or equal to 1000" }
            )));
        }
    }
    if let Some(e) = &r.schedule_expression {
        let ok = parse_rate(e).is_some_and(|ms| (4 * HOUR..=1000 * DAY).contains(&ms))
            || (e.starts_with("cron(") && e.ends_with(')'));
        if !ok {
            return Err(ApiError::invalid_parameter(format!(
                "The schedule expression {e} is invalid. Use a rate expression such as rate(10 days) or a cron expression."
            )));
        }
    }
    if let Some(d) = &r.duration {
        let hours = d.strip_suffix('h').and_then(|n| n.parse::<i64>().ok());
        if !hours.is_some_and(|h| (1..=24).contains(&h)) {
            return Err(ApiError::invalid_parameter(format!(
                "The rotation window duration {d} is invalid. Use a duration in hours from 1h to 24h."
            )));
        }
    }
    if r.automatically_after_days.is_none() && r.schedule_expression.is_none() {
        return Err(ApiError::invalid_parameter(
            "You must specify AutomaticallyAfterDays or ScheduleExpression in RotationRules.",
        ));
    }
    Ok(())
}

fn validate_tags(tags: &[TagReq]) -> Result<Vec<Tag>, ApiError> {
    let mut out = Vec::with_capacity(tags.len());
    for t in tags {
        let key = t
            .key
            .clone()
            .ok_or_else(|| ApiError::missing("Tags.member.Key"))?;
        let value = t.value.clone().unwrap_or_default();
        if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
            return Err(ApiError::invalid_parameter(
                "A tag key must be 1 to 128 characters and a tag value at most 256 characters.",
            ));
        }
        if key.starts_with("aws:") {
            return Err(ApiError::invalid_parameter(format!(
                "The tag key {key} uses the aws: prefix, which is reserved for AWS use."
            )));
        }
        out.push(Tag { key, value });
    }
    Ok(out)
}

fn name_allowed(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 512
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c))
}

/// A policy statement that allows everyone (`"*"` as principal).
fn is_public(policy: &Value) -> bool {
    let statements: Vec<&Value> = match policy.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    };
    let star = |v: &Value| match v {
        Value::String(s) => s == "*",
        Value::Array(a) => a.iter().any(|x| x.as_str() == Some("*")),
        _ => false,
    };
    statements.iter().any(|s| {
        s.get("Effect").and_then(Value::as_str) == Some("Allow")
            && match s.get("Principal") {
                Some(p @ Value::String(_)) => star(p),
                Some(Value::Object(m)) => m.values().any(star),
                _ => false,
            }
    })
}

pub(crate) struct Store {
    secrets: Vec<Option<Secret>>,
    by_name: HashMap<String, u32>,
    by_arn: HashMap<String, u32>,
    next_rotation_id: u64,
    orders: Mutex<HashMap<SortBy, Arc<Vec<u32>>>>,
    account: String,
    region: String,
}

type SortKey<'a> = (i64, &'a str, u32);

impl Store {
    pub fn from_seed(seeds: Vec<SeedSecret>, account: &str, region: &str, now: EpochMs) -> Store {
        let mut store = Store {
            secrets: Vec::with_capacity(seeds.len()),
            by_name: HashMap::with_capacity(seeds.len()),
            by_arn: HashMap::with_capacity(seeds.len()),
            next_rotation_id: 1,
            orders: Mutex::new(HashMap::new()),
            account: account.to_string(),
            region: region.to_string(),
        };
        for seed in seeds {
            let history = store.seeded_history(&seed.data, now);
            store.insert(Secret::new(seed.data, history));
        }
        store
    }

    /// The rotation history a real account would show for the seeded state.
    fn seeded_history(&mut self, d: &SecretData, now: EpochMs) -> Vec<RotationRecord> {
        let mut out = Vec::new();
        let lambda = d.rotation_lambda_arn.clone();
        let behaviour = lambda
            .as_deref()
            .map(LambdaBehaviour::of_lambda)
            .unwrap_or(LambdaBehaviour::Ok);
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
        if let Some(p) = d
            .versions
            .iter()
            .find(|v| has_label(v, AWSPENDING) && !has_label(v, AWSCURRENT))
        {
            let mut r = record(self.next_rotation_id, p.id.clone(), p.created);
            self.next_rotation_id += 1;
            // The step the seed's Lambda fails at (its first invocation's,
            // for a flaky one); every step before it succeeded.
            let failed = behaviour.fails_at(1).unwrap_or(RotationStep::SetSecret);
            let msg = failure_message(lambda.as_deref(), behaviour, failed, &d.arn);
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
        if behaviour == LambdaBehaviour::Missing && d.rotation_enabled {
            if let Some(due) = d.next_rotation.filter(|t| *t < now) {
                let mut r = record(self.next_rotation_id, String::new(), due);
                self.next_rotation_id += 1;
                r.finished = Some(due);
                r.outcome = RotationOutcome::Failed;
                r.message = Some(ACCESS_DENIED_LAMBDA.to_string());
                out.push(r);
            }
        }
        out
    }

    fn insert(&mut self, s: Secret) -> u32 {
        let seq = self.secrets.len() as u32;
        self.by_name.insert(s.data.name.clone(), seq);
        self.by_arn.insert(s.data.arn.clone(), seq);
        self.secrets.push(Some(s));
        seq
    }

    /// Secrets held, including those scheduled for deletion.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Keep the cached orders right after secret `seq` changed: call after every mutation.
    ///
    /// Cached orders are kept, not dropped: `seq` is taken out of each and put
    /// back where its new sort key belongs (or left out if it was deleted).
    fn touch(&mut self, seq: u32) {
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
    pub fn warm(&self) {
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
    pub fn lookup(&self, id: &str) -> Result<u32, ApiError> {
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

    fn get(&self, seq: u32) -> &Secret {
        self.secrets[seq as usize]
            .as_ref()
            .expect("looked-up secrets exist")
    }

    fn get_mut(&mut self, seq: u32) -> &mut Secret {
        self.secrets[seq as usize]
            .as_mut()
            .expect("looked-up secrets exist")
    }

    /// True when `d` is a replica here of a secret whose primary is in another region.
    fn is_replica(&self, d: &SecretData) -> bool {
        d.primary_region
            .as_deref()
            .is_some_and(|p| p != self.region)
    }

    /// A secret that may be changed here (scheduled for deletion or not):
    /// it exists and is not a replica of a secret in another region.
    fn changeable(&mut self, id: Option<String>) -> Result<u32, ApiError> {
        let id = secret_id(id)?;
        let seq = self.lookup(&id)?;
        if self.is_replica(&self.get(seq).data) {
            return Err(ApiError::replica());
        }
        Ok(seq)
    }

    /// A secret that may be changed: it exists, is no replica, and is not
    /// scheduled for deletion.
    fn live_mut(&mut self, id: Option<String>) -> Result<(u32, &mut Secret), ApiError> {
        let seq = self.changeable(id)?;
        let s = self.get_mut(seq);
        if s.data.deleted.is_some() {
            return Err(ApiError::marked_for_deletion());
        }
        Ok((seq, s))
    }

    /// The account and region every ARN of this store is in.
    pub fn account_region(&self) -> (&str, &str) {
        (&self.account, &self.region)
    }

    /// What CloudTrail would have recorded about one secret (by name, full
    /// or partial ARN), or about every secret, deleted ones included.
    /// Secrets deleted without recovery are gone, and so are their events.
    pub fn trail_sources(&self, id: Option<&str>) -> Vec<TrailSource<'_>> {
        fn source(s: &Secret) -> TrailSource<'_> {
            TrailSource {
                data: &s.data,
                history: &s.history,
                cancels: &s.cancels,
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
    pub fn data(&self, id: &str) -> Option<&SecretData> {
        self.lookup(id).ok().map(|seq| &self.get(seq).data)
    }

    /// Holds a replica of a secret of another region; false (and nothing
    /// changes) when a secret of that name is already here.
    pub fn add_replica(&mut self, data: SecretData) -> bool {
        if self.by_name.contains_key(&data.name) {
            return false;
        }
        let seq = self.insert(Secret::new(data, Vec::new()));
        self.touch(seq);
        true
    }

    /// The replica of secret `id` in `region` could not be made.
    pub fn replica_failed(&mut self, id: &str, region: &str, message: &str) {
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

    pub fn history(&self, id: &str) -> Option<Vec<RotationRecord>> {
        self.lookup(id)
            .ok()
            .map(|seq| self.get(seq).history.clone())
    }

    fn sort_key(&self, seq: u32, by: SortBy) -> SortKey<'_> {
        let d = &self.get(seq).data;
        match by {
            SortBy::Name => (0, d.name.as_str(), seq),
            SortBy::CreatedDate => (d.created, "", seq),
            SortBy::LastChangedDate => (d.last_changed.unwrap_or(i64::MIN), "", seq),
            SortBy::LastAccessedDate => (
                d.last_accessed
                    .map(super::protocol::day)
                    .unwrap_or(i64::MIN),
                "",
                seq,
            ),
        }
    }

    /// All secrets in ascending order of `by`, cached until the next mutation.
    fn order(&self, by: SortBy) -> Arc<Vec<u32>> {
        let mut cache = self.orders.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(o) = cache.get(&by) {
            return o.clone();
        }
        let mut keyed: Vec<SortKey<'_>> = self
            .secrets
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_some())
            .map(|(i, _)| self.sort_key(i as u32, by))
            .collect();
        keyed.sort_unstable();
        let o = Arc::new(keyed.into_iter().map(|k| k.2).collect::<Vec<u32>>());
        cache.insert(by, o.clone());
        o
    }

    // ---- read operations ---------------------------------------------------

    pub fn list_secrets(&self, req: ListSecretsReq) -> Result<Value, ApiError> {
        let max = max_results(req.max_results)?;
        let desc = match req.sort_order.as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(ApiError::validation(format!(
                    "Value '{other}' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [asc, desc]"
                )))
            }
        };
        let by = SortBy::parse(req.sort_by.as_deref())?;
        let filters = filters::parse(req.filters.as_deref().unwrap_or(&[]))?;
        let include_deleted = req.include_planned_deletion.unwrap_or(false);
        let order_name = if desc { "desc" } else { "asc" };
        let order = self.order(by);

        // Positions still to visit, in visiting order.
        let (start, end) = match req.next_token.as_deref() {
            None => (0, order.len()),
            Some(t) => {
                let t: PageToken = decode_token(t)?;
                if t.b != by.as_str() || t.o != order_name {
                    return Err(ApiError::client(
                        "InvalidNextTokenException",
                        "The NextToken value is invalid for these SortBy and SortOrder values.",
                    ));
                }
                let last = (t.k, t.s.as_str(), t.q);
                if desc {
                    (0, order.partition_point(|&i| self.sort_key(i, by) < last))
                } else {
                    (
                        order.partition_point(|&i| self.sort_key(i, by) <= last),
                        order.len(),
                    )
                }
            }
        };
        let visible = |seq: u32| {
            let d = &self.get(seq).data;
            (include_deleted || d.deleted.is_none()) && filters::matches_all(&filters, d)
        };
        let mut page = Vec::with_capacity(max);
        let mut more = false;
        let range = &order[start..end];
        let mut visit = |seq: u32| -> bool {
            if !visible(seq) {
                return true;
            }
            if page.len() == max {
                more = true;
                return false;
            }
            page.push(seq);
            true
        };
        if desc {
            for &seq in range.iter().rev() {
                if !visit(seq) {
                    break;
                }
            }
        } else {
            for &seq in range {
                if !visit(seq) {
                    break;
                }
            }
        }
        let mut out = Obj::new();
        out.set(
            "SecretList",
            Value::Array(page.iter().map(|&seq| self.entry(seq, false)).collect()),
        );
        if more {
            let last = *page.last().expect("a full page");
            let (k, s, q) = self.sort_key(last, by);
            out.set(
                "NextToken",
                encode_token(&PageToken {
                    b: by.as_str().to_string(),
                    o: order_name.to_string(),
                    k,
                    s: s.to_string(),
                    q,
                }),
            );
        }
        Ok(out.done())
    }

    /// A SecretListEntry (ListSecrets) or a DescribeSecret response.
    fn entry(&self, seq: u32, describe: bool) -> Value {
        let d = &self.get(seq).data;
        let mut o = Obj::new();
        o.set("ARN", d.arn.clone()).set("Name", d.name.clone());
        o.opt("Description", d.description.clone());
        o.opt("KmsKeyId", d.kms_key_id.clone());
        o.set("RotationEnabled", d.rotation_enabled);
        o.opt("RotationLambdaARN", d.rotation_lambda_arn.clone());
        if let Some(r) = &d.rotation_rules {
            let mut rules = Obj::new();
            rules.opt("AutomaticallyAfterDays", r.automatically_after_days);
            rules.opt("Duration", r.duration.clone());
            rules.opt("ScheduleExpression", r.schedule_expression.clone());
            o.set("RotationRules", rules.done());
        }
        o.ts("LastRotatedDate", d.last_rotated);
        o.ts("LastChangedDate", d.last_changed);
        o.ts(
            "LastAccessedDate",
            d.last_accessed.map(super::protocol::day),
        );
        o.ts("DeletedDate", d.deleted);
        o.ts("NextRotationDate", d.next_rotation);
        if !d.tags.is_empty() {
            o.set(
                "Tags",
                Value::Array(
                    d.tags
                        .iter()
                        .map(|t| json!({"Key": t.key, "Value": t.value}))
                        .collect(),
                ),
            );
        }
        let stages: serde_json::Map<String, Value> = d
            .versions
            .iter()
            .filter(|v| !v.stages.is_empty())
            .map(|v| (v.id.clone(), json!(v.stages)))
            .collect();
        o.set(
            if describe {
                "VersionIdsToStages"
            } else {
                "SecretVersionsToStages"
            },
            Value::Object(stages),
        );
        o.opt("OwningService", d.owning_service.clone());
        o.ts("CreatedDate", Some(d.created));
        o.opt("PrimaryRegion", d.primary_region.clone());
        if describe && !d.replication.is_empty() {
            let replicas: Vec<Value> = d
                .replication
                .iter()
                .map(|r| {
                    let mut ro = Obj::new();
                    ro.set("Region", r.region.clone());
                    ro.opt("KmsKeyId", r.kms_key_id.clone());
                    ro.set("Status", r.status.as_str());
                    ro.opt("StatusMessage", r.status_message.clone());
                    ro.ts(
                        "LastAccessedDate",
                        r.last_accessed.map(super::protocol::day),
                    );
                    ro.done()
                })
                .collect();
            o.set("ReplicationStatus", Value::Array(replicas));
        }
        o.done()
    }

    pub fn describe(&self, req: SecretIdReq) -> Result<Value, ApiError> {
        let id = secret_id(req.secret_id)?;
        let seq = self.lookup(&id)?;
        Ok(self.entry(seq, true))
    }

    pub fn list_versions(&self, req: ListVersionsReq) -> Result<Value, ApiError> {
        let max = max_results(req.max_results)?;
        let id = secret_id(req.secret_id)?;
        let seq = self.lookup(&id)?;
        let s = self.get(seq);
        let d = &s.data;
        let include_deprecated = req.include_deprecated.unwrap_or(false);
        let mut versions: Vec<(usize, &VersionData)> = d
            .versions
            .iter()
            .enumerate()
            .filter(|(_, v)| include_deprecated || !v.stages.is_empty())
            .collect();
        // Newest first.
        versions.sort_by_key(|(i, v)| std::cmp::Reverse((v.created, *i)));
        let offset = match req.next_token.as_deref() {
            None => 0,
            Some(t) => {
                let t: VersionToken = decode_token(t)?;
                if t.v != d.arn {
                    return Err(ApiError::client(
                        "InvalidNextTokenException",
                        "The NextToken value is invalid.",
                    ));
                }
                t.o
            }
        };
        let kms = d
            .kms_key_id
            .clone()
            .unwrap_or_else(|| "DefaultEncryptionKey".to_string());
        let page: Vec<Value> = versions
            .iter()
            .skip(offset)
            .take(max)
            .map(|(_, v)| {
                let mut o = Obj::new();
                o.set("VersionId", v.id.clone());
                if !v.stages.is_empty() {
                    o.set("VersionStages", json!(v.stages));
                }
                o.ts("CreatedDate", Some(v.created));
                o.ts(
                    "LastAccessedDate",
                    v.last_accessed.map(super::protocol::day),
                );
                o.set("KmsKeyIds", json!([kms]));
                o.done()
            })
            .collect();
        let mut out = Obj::new();
        out.set("Versions", Value::Array(page));
        if offset + max < versions.len() {
            out.set(
                "NextToken",
                encode_token(&VersionToken {
                    v: d.arn.clone(),
                    o: offset + max,
                }),
            );
        }
        out.set("ARN", d.arn.clone()).set("Name", d.name.clone());
        Ok(out.done())
    }

    pub fn get_policy(&self, req: SecretIdReq) -> Result<Value, ApiError> {
        let id = secret_id(req.secret_id)?;
        let s = self.get(self.lookup(&id)?);
        if s.data.deleted.is_some() {
            return Err(ApiError::marked_for_deletion());
        }
        let mut o = Obj::new();
        o.set("ARN", s.data.arn.clone())
            .set("Name", s.data.name.clone());
        o.opt("ResourcePolicy", s.data.resource_policy.clone());
        Ok(o.done())
    }

    // ---- mutations -----------------------------------------------------------

    /// The checks PutResourcePolicy makes (and ValidateResourcePolicy reports).
    fn check_policy(text: &str, block_public: bool) -> Result<(), ApiError> {
        let policy: Value = serde_json::from_str(text).map_err(|_| {
            ApiError::client(
                "MalformedPolicyDocumentException",
                "This resource policy contains a syntax error.",
            )
        })?;
        let statements_ok = match policy.get("Statement") {
            Some(Value::Array(a)) => !a.is_empty() && a.iter().all(Value::is_object),
            Some(Value::Object(_)) => true,
            _ => false,
        };
        if !policy.is_object() || !statements_ok {
            return Err(ApiError::client(
                "MalformedPolicyDocumentException",
                "This resource policy contains an unsupported or malformed Statement.",
            ));
        }
        if block_public && is_public(&policy) {
            return Err(ApiError::client(
                "PublicPolicyException",
                "The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.",
            ));
        }
        Ok(())
    }

    pub fn put_policy(&mut self, req: PutPolicyReq) -> Result<Value, ApiError> {
        let policy_text = required(req.resource_policy, "ResourcePolicy")?;
        check_len("resourcePolicy", Some(&policy_text), 1, 20480)?;
        Self::check_policy(&policy_text, req.block_public_policy == Some(true))?;
        let (_, s) = self.live_mut(req.secret_id)?;
        s.data.resource_policy = Some(policy_text);
        let out = json!({"ARN": s.data.arn, "Name": s.data.name});
        Ok(out)
    }

    /// ValidateResourcePolicy: the same checks as PutResourcePolicy, with
    /// broad access reported as a failed check (as Zelkova's verdict is).
    pub fn validate_policy(&self, req: PutPolicyReq) -> Result<Value, ApiError> {
        let text = required(req.resource_policy, "ResourcePolicy")?;
        check_len("resourcePolicy", Some(&text), 1, 20480)?;
        if let Some(id) = req.secret_id {
            check_len("secretId", Some(&id), 1, 2048)?;
            self.lookup(&id)?;
        }
        Ok(match Self::check_policy(&text, true) {
            Ok(()) => json!({"PolicyValidationPassed": true, "ValidationErrors": []}),
            Err(e) if e.code == "PublicPolicyException" => json!({
                "PolicyValidationPassed": false,
                "ValidationErrors": [{"CheckName": "BLOCK_PUBLIC_POLICY", "ErrorMessage": e.message}],
            }),
            Err(e) => return Err(e),
        })
    }

    pub fn delete_policy(&mut self, req: SecretIdReq) -> Result<Value, ApiError> {
        let (_, s) = self.live_mut(req.secret_id)?;
        s.data.resource_policy = None;
        let out = json!({"ARN": s.data.arn, "Name": s.data.name});
        Ok(out)
    }

    /// RotateSecret. Returns the response and, when a rotation task must run,
    /// `(secret, rotation id)`.
    pub fn rotate(
        &mut self,
        req: RotateReq,
        now: EpochMs,
    ) -> Result<(Value, Option<(u32, u64)>), ApiError> {
        check_version_id("clientRequestToken", req.client_request_token.as_deref())?;
        check_len(
            "rotationLambdaARN",
            req.rotation_lambda_arn.as_deref(),
            0,
            2048,
        )?;
        if let Some(r) = &req.rotation_rules {
            validate_rules(r)?;
        }
        let rotation_id = self.next_rotation_id;
        let (seq, s) = self.live_mut(req.secret_id)?;
        let response = |s: &Secret, version: &str| json!({"ARN": s.data.arn, "Name": s.data.name, "VersionId": version});

        // The same token again: the same answer, and no second rotation.
        if let Some(t) = &req.client_request_token {
            let seen = s.data.versions.iter().any(|v| &v.id == t)
                || s.history
                    .iter()
                    .any(|r| r.client_request_token.as_ref() == Some(t));
            if seen {
                return Ok((response(s, t), None));
            }
        }
        // "If the AWSPENDING staging label is present but not attached to
        // the same version as AWSCURRENT, then any later invocation of
        // RotateSecret assumes that a previous rotation request is still in
        // progress and returns an error." (RotateSecret, API reference)
        if s.running.is_some() || pending_elsewhere(&s.data.versions) {
            return Err(ApiError::invalid_request(PREVIOUS_NOT_COMPLETE));
        }
        let lambda = req
            .rotation_lambda_arn
            .clone()
            .or_else(|| s.data.rotation_lambda_arn.clone());
        if lambda.is_none() && s.data.owning_service.is_none() {
            return Err(ApiError::invalid_request(
                "No Lambda rotation function ARN is associated with this secret.",
            ));
        }
        let behaviour = lambda
            .as_deref()
            .map(LambdaBehaviour::of_lambda)
            .unwrap_or(LambdaBehaviour::Ok);
        if behaviour == LambdaBehaviour::Missing {
            return Err(ApiError::client(
                "AccessDeniedException",
                ACCESS_DENIED_LAMBDA,
            ));
        }

        // Configure rotation.
        if req.rotation_lambda_arn.is_some() {
            s.data.rotation_lambda_arn = lambda.clone();
        }
        if let Some(r) = req.rotation_rules {
            s.data.rotation_rules = Some(RotationRules {
                automatically_after_days: r.automatically_after_days.or_else(|| {
                    r.schedule_expression
                        .as_deref()
                        .and_then(parse_rate)
                        .filter(|ms| ms % DAY == 0)
                        .map(|ms| ms / DAY)
                }),
                duration: r.duration,
                schedule_expression: r.schedule_expression,
            });
        } else if s.data.rotation_rules.is_none() {
            s.data.rotation_rules = Some(RotationRules {
                automatically_after_days: Some(30),
                ..RotationRules::default()
            });
        }
        s.data.rotation_enabled = true;
        s.data.last_changed = Some(now);
        s.data.next_rotation = next_rotation(s.data.rotation_rules.as_ref(), now);

        let version_id = req.client_request_token.clone().unwrap_or_else(new_uuid);
        let immediate = req.rotate_immediately.unwrap_or(true);
        let mut record = RotationRecord {
            client_request_token: req.client_request_token,
            immediate,
            ..RotationRecord::new(rotation_id, version_id.clone(), lambda, now)
        };
        let out = response(s, &version_id);
        if !immediate {
            // Only testSecret runs, against a temporary AWSPENDING version
            // that is removed again; labels end as they were.
            record.steps.push(StepRecord {
                step: RotationStep::TestSecret,
                at: now,
                ok: true,
                message: None,
            });
            record.outcome = RotationOutcome::Succeeded;
            record.finished = Some(now);
            push_history(s, record);
            self.next_rotation_id += 1;
            self.touch(seq);
            return Ok((out, None));
        }

        s.attempts += 1;
        record.fail_at = behaviour.fails_at(s.attempts);
        // AWSPENDING can only be on AWSCURRENT's version here (anywhere else
        // refuses the call above): it moves to the new version, as a
        // rotation's createSecret moves it.
        for v in &mut s.data.versions {
            v.stages.retain(|l| l != AWSPENDING);
        }
        s.data.versions.push(VersionData {
            id: version_id,
            stages: vec![AWSPENDING.to_string()],
            created: now,
            last_accessed: None,
        });
        s.running = Some(rotation_id);
        push_history(s, record);
        self.next_rotation_id += 1;
        self.touch(seq);
        Ok((out, Some((seq, rotation_id))))
    }

    /// Runs one step of a rotation; false when the rotation is over.
    pub fn rotation_step(
        &mut self,
        seq: u32,
        rotation_id: u64,
        step: RotationStep,
        now: EpochMs,
    ) -> bool {
        let Some(Some(s)) = self.secrets.get_mut(seq as usize) else {
            return false;
        };
        if s.running != Some(rotation_id) {
            if let Some(r) = s.history.iter_mut().find(|r| r.id == rotation_id) {
                if r.outcome == RotationOutcome::InProgress {
                    r.outcome = RotationOutcome::Cancelled;
                    r.finished = Some(now);
                }
            }
            return false;
        }
        let Some(r) = s.history.iter_mut().find(|r| r.id == rotation_id) else {
            s.running = None;
            return false;
        };
        if r.fail_at == Some(step) {
            let behaviour = r
                .lambda_arn
                .as_deref()
                .map(LambdaBehaviour::of_lambda)
                .unwrap_or(LambdaBehaviour::Ok);
            let msg = failure_message(r.lambda_arn.as_deref(), behaviour, step, &s.data.arn);
            r.steps.push(StepRecord {
                step,
                at: now,
                ok: false,
                message: Some(msg.clone()),
            });
            r.outcome = RotationOutcome::Failed;
            r.finished = Some(now);
            r.message = Some(msg);
            s.running = None;
            self.touch(seq);
            return false;
        }
        r.steps.push(StepRecord {
            step,
            at: now,
            ok: true,
            message: None,
        });
        if step != RotationStep::FinishSecret {
            return true;
        }
        r.outcome = RotationOutcome::Succeeded;
        r.finished = Some(now);
        let new_id = r.version_id.clone();
        let versions = &mut s.data.versions;
        if let Some(new_idx) = versions.iter().position(|v| v.id == new_id) {
            let old = versions.iter().position(|v| has_label(v, AWSCURRENT));
            if old != Some(new_idx) {
                for v in versions.iter_mut() {
                    v.stages.retain(|l| l != AWSPREVIOUS);
                }
                if let Some(old) = old {
                    versions[old].stages.retain(|l| l != AWSCURRENT);
                    versions[old].stages.push(AWSPREVIOUS.to_string());
                }
                versions[new_idx].stages.push(AWSCURRENT.to_string());
            }
            versions[new_idx].stages.retain(|l| l != AWSPENDING);
        }
        s.data.last_rotated = Some(now);
        s.data.last_changed = Some(now);
        s.data.next_rotation = if s.data.rotation_enabled {
            next_rotation(s.data.rotation_rules.as_ref(), now)
        } else {
            None
        };
        s.running = None;
        self.touch(seq);
        false
    }

    /// How rotation `rotation_id` of secret `seq` stands (None once the
    /// secret or the record is gone).
    pub fn outcome(&self, seq: u32, rotation_id: u64) -> Option<RotationOutcome> {
        let s = self.secrets.get(seq as usize)?.as_ref()?;
        s.history
            .iter()
            .find(|r| r.id == rotation_id)
            .map(|r| r.outcome)
    }

    /// Secrets Manager's own retry of the failed rotation `failed_id`: "If
    /// any rotation step fails, Secrets Manager retries the entire rotation
    /// process multiple times." (user guide, rotating-secrets). The same
    /// rotation runs again, for the same version, only while nothing has
    /// happened since it failed: it is still the secret's newest rotation,
    /// its version still holds AWSPENDING (not AWSCURRENT), nothing is
    /// running, rotation is still on (CancelRotateSecret turns it off) and
    /// the secret is not scheduled for deletion. Returns the new rotation's
    /// id; there is no RotateSecret call behind it.
    pub fn service_retry(&mut self, seq: u32, failed_id: u64, now: EpochMs) -> Option<u64> {
        let rotation_id = self.next_rotation_id;
        let s = self.secrets.get_mut(seq as usize)?.as_mut()?;
        let last = s.history.last()?;
        let unchanged = last.id == failed_id
            && last.outcome == RotationOutcome::Failed
            && last.immediate
            && s.running.is_none()
            && s.data.rotation_enabled
            && s.data.deleted.is_none()
            && s.data.versions.iter().any(|v| {
                v.id == last.version_id && has_label(v, AWSPENDING) && !has_label(v, AWSCURRENT)
            });
        if !unchanged {
            return None;
        }
        let lambda = s
            .data
            .rotation_lambda_arn
            .clone()
            .or_else(|| last.lambda_arn.clone());
        let behaviour = lambda
            .as_deref()
            .map(LambdaBehaviour::of_lambda)
            .unwrap_or(LambdaBehaviour::Ok);
        if behaviour == LambdaBehaviour::Missing {
            return None;
        }
        let version_id = last.version_id.clone();
        s.attempts += 1;
        let record = RotationRecord {
            service_retry: true,
            fail_at: behaviour.fails_at(s.attempts),
            ..RotationRecord::new(rotation_id, version_id, lambda, now)
        };
        s.running = Some(rotation_id);
        push_history(s, record);
        self.next_rotation_id += 1;
        self.touch(seq);
        Some(rotation_id)
    }

    pub fn cancel_rotate(&mut self, req: SecretIdReq, now: EpochMs) -> Result<Value, ApiError> {
        let (seq, s) = self.live_mut(req.secret_id)?;
        if let Some(id) = s.running.take() {
            if let Some(r) = s.history.iter_mut().find(|r| r.id == id) {
                r.outcome = RotationOutcome::Cancelled;
                r.finished = Some(now);
            }
        }
        s.data.rotation_enabled = false;
        s.data.next_rotation = None;
        s.data.last_changed = Some(now);
        let pending = s
            .data
            .versions
            .iter()
            .find(|v| has_label(v, AWSPENDING))
            .map(|v| v.id.clone());
        s.cancels.push(CancelCall {
            at: now,
            version_id: pending.clone(),
        });
        if s.cancels.len() > HISTORY_LIMIT {
            s.cancels.remove(0);
        }
        let mut o = Obj::new();
        o.set("ARN", s.data.arn.clone())
            .set("Name", s.data.name.clone());
        o.opt("VersionId", pending);
        self.touch(seq);
        Ok(o.done())
    }

    pub fn delete(&mut self, req: DeleteReq, now: EpochMs) -> Result<Value, ApiError> {
        let force = req.force_delete_without_recovery.unwrap_or(false);
        if force && req.recovery_window_in_days.is_some() {
            return Err(ApiError::invalid_parameter(
                "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
            ));
        }
        let window = req.recovery_window_in_days.unwrap_or(30);
        if !(7..=30).contains(&window) {
            return Err(ApiError::invalid_parameter(
                "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
            ));
        }
        let id = secret_id(req.secret_id)?;
        let seq = match self.lookup(&id) {
            Ok(seq) => seq,
            // A forced delete of a secret that is not there is not an error.
            Err(_) if force => return Ok(json!({"Name": id, "DeletionDate": ts(now)})),
            Err(e) => return Err(e),
        };
        if self.is_replica(&self.get(seq).data) {
            return Err(ApiError::replica());
        }
        let s = self.get_mut(seq);
        if let Some(service) = &s.data.owning_service {
            return Err(ApiError::invalid_request(format!(
                "You can't delete secret {} because it's managed by {service}. Use {service} to delete it.",
                s.data.name
            )));
        }
        if !s.data.replication.is_empty() {
            return Err(ApiError::invalid_request(format!(
                "You can't delete secret {} because it's replicated to other Regions. Remove its replicas with RemoveRegionsFromReplication first.",
                s.data.name
            )));
        }
        if s.data.deleted.is_some() && !force {
            return Err(ApiError::marked_for_deletion());
        }
        if let Some(rid) = s.running.take() {
            if let Some(r) = s.history.iter_mut().find(|r| r.id == rid) {
                r.outcome = RotationOutcome::Cancelled;
                r.finished = Some(now);
            }
        }
        let (arn, name) = (s.data.arn.clone(), s.data.name.clone());
        let deletion_date = if force {
            self.secrets[seq as usize] = None;
            self.by_name.remove(&name);
            self.by_arn.remove(&arn);
            now
        } else {
            s.data.deleted = Some(now);
            s.data.deletion_date = Some(now + window * DAY);
            now + window * DAY
        };
        self.touch(seq);
        Ok(json!({"ARN": arn, "Name": name, "DeletionDate": ts(deletion_date)}))
    }

    pub fn restore(&mut self, req: SecretIdReq, now: EpochMs) -> Result<Value, ApiError> {
        let seq = self.changeable(req.secret_id)?;
        let s = self.get_mut(seq);
        if s.data.deleted.is_none() {
            return Err(ApiError::invalid_request(
                "You can't restore the secret because it isn't scheduled for deletion.",
            ));
        }
        s.data.deleted = None;
        s.data.deletion_date = None;
        s.data.last_changed = Some(now);
        let out = json!({"ARN": s.data.arn, "Name": s.data.name});
        self.touch(seq);
        Ok(out)
    }

    pub fn update_stage(&mut self, req: UpdateStageReq, now: EpochMs) -> Result<Value, ApiError> {
        let stage = required(req.version_stage, "VersionStage")?;
        check_len("versionStage", Some(&stage), 1, 256)?;
        // The model's SecretVersionIdType (32 to 64 characters), checked
        // before the secret is looked up, as every model constraint is.
        check_version_id("moveToVersionId", req.move_to_version_id.as_deref())?;
        check_version_id("removeFromVersionId", req.remove_from_version_id.as_deref())?;
        let (seq, s) = self.live_mut(req.secret_id)?;
        let versions = &mut s.data.versions;
        let find = |versions: &[VersionData], id: &str| versions.iter().position(|v| v.id == id);
        let holder = versions.iter().position(|v| has_label(v, &stage));
        match (
            req.move_to_version_id.as_deref(),
            req.remove_from_version_id.as_deref(),
        ) {
            (None, None) => {
                return Err(ApiError::invalid_parameter(
                    "You must specify MoveToVersionId, RemoveFromVersionId, or both.",
                ))
            }
            (Some(to), remove_from) => {
                let to_idx = find(versions, to).ok_or_else(ApiError::version_not_found)?;
                if let Some(rf) = remove_from {
                    let rf_idx = find(versions, rf).ok_or_else(ApiError::version_not_found)?;
                    if holder != Some(rf_idx) {
                        return Err(ApiError::invalid_parameter(format!(
                            "The staging label {stage} isn't attached to the version {rf} that you specified in RemoveFromVersionId."
                        )));
                    }
                }
                if holder != Some(to_idx) {
                    if let Some(h) = holder {
                        if remove_from.is_none() {
                            return Err(ApiError::invalid_parameter(format!(
                                "The parameter RemoveFromVersionId can't be empty. Staging label {stage} is currently attached to version {}, so you must explicitly reference that version in RemoveFromVersionId.",
                                versions[h].id
                            )));
                        }
                        versions[h].stages.retain(|l| *l != stage);
                    }
                    versions[to_idx].stages.push(stage.clone());
                    if stage == AWSCURRENT {
                        if let Some(h) = holder {
                            for v in versions.iter_mut() {
                                v.stages.retain(|l| l != AWSPREVIOUS);
                            }
                            versions[h].stages.push(AWSPREVIOUS.to_string());
                        }
                    }
                }
            }
            (None, Some(rf)) => {
                let rf_idx = find(versions, rf).ok_or_else(ApiError::version_not_found)?;
                if holder != Some(rf_idx) {
                    return Err(ApiError::invalid_parameter(format!(
                        "The staging label {stage} isn't attached to the version {rf} that you specified in RemoveFromVersionId."
                    )));
                }
                if stage == AWSCURRENT {
                    return Err(ApiError::invalid_parameter(
                        "You can't remove the staging label AWSCURRENT from a version. Move it to another version with MoveToVersionId instead.",
                    ));
                }
                versions[rf_idx].stages.retain(|l| *l != stage);
            }
        }
        s.data.last_changed = Some(now);
        let out = json!({"ARN": s.data.arn, "Name": s.data.name});
        self.touch(seq);
        Ok(out)
    }

    /// PutSecretValue, for the metadata only: the value is dropped, the
    /// version and its labels are kept. "If you don't include VersionStages,
    /// then Secrets Manager automatically moves the staging label AWSCURRENT
    /// to this version." (PutSecretValue, API reference)
    pub fn put_value(&mut self, req: PutValueReq, now: EpochMs) -> Result<Value, ApiError> {
        check_version_id("clientRequestToken", req.client_request_token.as_deref())?;
        let stages = req
            .version_stages
            .unwrap_or_else(|| vec![AWSCURRENT.to_string()]);
        if stages.is_empty() || stages.len() > 20 {
            return Err(ApiError::validation(format!(
                "Value at 'versionStages' failed to satisfy constraint: Member must have length {}",
                if stages.is_empty() {
                    "greater than or equal to 1"
                } else {
                    "less than or equal to 20"
                }
            )));
        }
        for stage in &stages {
            check_len("versionStages.member", Some(stage), 1, 256)?;
        }
        let (seq, s) = self.live_mut(req.secret_id)?;
        let id = req.client_request_token.unwrap_or_else(new_uuid);
        let response = |d: &SecretData, stages: &[String]| json!({"ARN": d.arn, "Name": d.name, "VersionId": id, "VersionStages": stages});
        if let Some(v) = s.data.versions.iter().find(|v| v.id == id) {
            // The same token again is the same request (there is no value
            // here to compare).
            return Ok(response(&s.data, &v.stages));
        }
        let versions = &mut s.data.versions;
        let old_current = versions.iter().position(|v| has_label(v, AWSCURRENT));
        for v in versions.iter_mut() {
            v.stages.retain(|l| !stages.contains(l));
        }
        if let Some(old) = old_current.filter(|_| stages.iter().any(|l| l == AWSCURRENT)) {
            for v in versions.iter_mut() {
                v.stages.retain(|l| l != AWSPREVIOUS);
            }
            versions[old].stages.push(AWSPREVIOUS.to_string());
        }
        versions.push(VersionData {
            id: id.clone(),
            stages: stages.clone(),
            created: now,
            last_accessed: None,
        });
        s.data.last_changed = Some(now);
        let out = response(&s.data, &stages);
        self.touch(seq);
        Ok(out)
    }

    pub fn tag(&mut self, req: TagResourceReq, now: EpochMs) -> Result<Value, ApiError> {
        let tags = validate_tags(&required_list(req.tags, "Tags")?)?;
        let (seq, s) = self.live_mut(req.secret_id)?;
        let mut merged = s.data.tags.clone();
        for t in tags {
            match merged.iter_mut().find(|m| m.key == t.key) {
                Some(m) => m.value = t.value,
                None => merged.push(t),
            }
        }
        if merged.len() > 50 {
            return Err(ApiError::invalid_parameter(
                "A secret can have at most 50 tags.",
            ));
        }
        s.data.tags = merged;
        s.data.last_changed = Some(now);
        self.touch(seq);
        Ok(json!({}))
    }

    pub fn untag(&mut self, req: UntagResourceReq, now: EpochMs) -> Result<Value, ApiError> {
        let keys = required_list(req.tag_keys, "TagKeys")?;
        let (seq, s) = self.live_mut(req.secret_id)?;
        s.data.tags.retain(|t| !keys.contains(&t.key));
        s.data.last_changed = Some(now);
        self.touch(seq);
        Ok(json!({}))
    }

    pub fn create(&mut self, req: CreateReq, now: EpochMs) -> Result<Value, ApiError> {
        let name = required(req.name, "Name")?;
        if !name_allowed(&name) {
            return Err(ApiError::invalid_parameter(
                "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!",
            ));
        }
        if req
            .description
            .as_ref()
            .is_some_and(|d| d.chars().count() > 2048)
        {
            return Err(ApiError::validation(
                "Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 2048",
            ));
        }
        check_version_id("clientRequestToken", req.client_request_token.as_deref())?;
        let tags = validate_tags(req.tags.as_deref().unwrap_or(&[]))?;
        if tags.len() > 50 {
            return Err(ApiError::invalid_parameter(
                "A secret can have at most 50 tags.",
            ));
        }
        if let Some(&seq) = self.by_name.get(&name) {
            let s = self.get(seq);
            if s.data.deleted.is_some() {
                return Err(ApiError::invalid_request(
                    "You can't create this secret because a secret with this name is already scheduled for deletion.",
                ));
            }
            if let Some(t) = &req.client_request_token {
                if s.data.versions.iter().any(|v| &v.id == t) {
                    return Ok(json!({"ARN": s.data.arn, "Name": s.data.name, "VersionId": t}));
                }
            }
            return Err(ApiError::client(
                "ResourceExistsException",
                format!("The operation failed because the secret {name} already exists."),
            ));
        }
        let kms_key_id = req
            .kms_key_id
            .filter(|k| k != "alias/aws/secretsmanager" && !k.is_empty());
        let arn = format!(
            "arn:aws:secretsmanager:{}:{}:secret:{name}-{}",
            self.region,
            self.account,
            random_suffix()
        );
        let version_id =
            if req.client_request_token.is_some() || req.secret_string || req.secret_binary {
                Some(req.client_request_token.unwrap_or_else(new_uuid))
            } else {
                None
            };
        let mut replication = Vec::new();
        for r in req.add_replica_regions.unwrap_or_default() {
            let region = r
                .region
                .ok_or_else(|| ApiError::missing("AddReplicaRegions.member.Region"))?;
            replication.push(Replica {
                region,
                kms_key_id: Some(
                    r.kms_key_id
                        .unwrap_or_else(|| "alias/aws/secretsmanager".to_string()),
                ),
                status: ReplicaStatus::InSync,
                status_message: Some("Replication succeeded".to_string()),
                last_accessed: None,
            });
        }
        let data = SecretData {
            name: name.clone(),
            arn: arn.clone(),
            description: req.description,
            kms_key_id,
            rotation_enabled: false,
            rotation_lambda_arn: None,
            rotation_rules: None,
            last_rotated: None,
            last_changed: Some(now),
            last_accessed: None,
            deleted: None,
            deletion_date: None,
            next_rotation: None,
            tags,
            versions: version_id
                .iter()
                .map(|id| VersionData {
                    id: id.clone(),
                    stages: vec![AWSCURRENT.to_string()],
                    created: now,
                    last_accessed: None,
                })
                .collect(),
            owning_service: None,
            created: now,
            primary_region: Some(self.region.clone()),
            replication,
            resource_policy: None,
        };
        let mut out = Obj::new();
        out.set("ARN", arn).set("Name", name);
        out.opt("VersionId", version_id);
        if !data.replication.is_empty() {
            out.set(
                "ReplicationStatus",
                Value::Array(
                    data.replication
                        .iter()
                        .map(|r| json!({"Region": r.region, "KmsKeyId": r.kms_key_id, "Status": r.status.as_str()}))
                        .collect(),
                ),
            );
        }
        let seq = self.insert(Secret::new(data, Vec::new()));
        self.touch(seq);
        Ok(out.done())
    }
}

/// RotateSecret's answer while a rotation is running or a version other than
/// AWSCURRENT's holds AWSPENDING (the product matches on this text).
pub(crate) const PREVIOUS_NOT_COMPLETE: &str =
    "A previous rotation isn't complete. That rotation will be reattempted.";

/// True when a version that does not hold AWSCURRENT holds AWSPENDING: a
/// previous rotation is, to Secrets Manager, still in progress.
fn pending_elsewhere(versions: &[VersionData]) -> bool {
    versions
        .iter()
        .any(|v| has_label(v, AWSPENDING) && !has_label(v, AWSCURRENT))
}

pub(crate) const ACCESS_DENIED_LAMBDA: &str = "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.";

fn required_list<T>(v: Option<Vec<T>>, field: &str) -> Result<Vec<T>, ApiError> {
    v.ok_or_else(|| ApiError::missing(field))
}

fn push_history(s: &mut Secret, r: RotationRecord) {
    s.history.push(r);
    if s.history.len() > HISTORY_LIMIT {
        let extra = s.history.len() - HISTORY_LIMIT;
        s.history.drain(..extra);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(parse_rate("rate(30 days)"), Some(30 * DAY));
        assert_eq!(parse_rate("rate(4 hours)"), Some(4 * HOUR));
        assert_eq!(parse_rate("cron(0 4 * * ? *)"), None);
        assert_eq!(
            next_rotation(
                Some(&RotationRules {
                    automatically_after_days: Some(7),
                    ..RotationRules::default()
                }),
                0
            ),
            Some(7 * DAY)
        );
    }

    /// A seeded failed rotation is on record as failed at its Lambda's step,
    /// every step before it done, with that step's message.
    #[test]
    fn seeded_failures_carry_their_step() {
        use crate::seed::{self, Scenario};
        let seeds = seed::generate(300, 42, 1_760_000_000, "123456789012", "us-east-1");
        let planned: Vec<_> = seeds.iter().map(|s| s.plan.clone()).collect();
        let store = Store::from_seed(seeds, "123456789012", "us-east-1", 1_760_000_000_000);
        let mut steps = std::collections::BTreeSet::new();
        for p in planned.iter().filter(|p| {
            matches!(
                p.scenario,
                Scenario::RotationFailed | Scenario::RotationFlaky
            )
        }) {
            let failed = store.history(&p.arn).unwrap().pop().unwrap();
            // A Lambda fixed since (`ok`) failed at setSecret, as a flaky one.
            let step = p
                .lambda_behaviour
                .unwrap()
                .fails_at(1)
                .unwrap_or(RotationStep::SetSecret);
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
            steps.insert(step.as_str());
        }
        assert_eq!(steps.len(), 4, "{steps:?}");
    }

    #[test]
    fn public_policies() {
        let p = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        assert!(is_public(&p(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*"}]}"#
        )));
        assert!(is_public(&p(
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":["*"]}}}"#
        )));
        assert!(!is_public(&p(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:role/x"}}]}"#
        )));
        assert!(!is_public(&p(
            r#"{"Statement":[{"Effect":"Deny","Principal":"*"}]}"#
        )));
    }
}

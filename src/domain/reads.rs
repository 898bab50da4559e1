//! Who reads a secret: its GetSecretValue events as CloudTrail records them
//! (principal, time, the version asked for, the error), summed up per
//! principal.
//!
//! Secrets Manager records a `GetSecretValue` event for every read, and
//! BatchGetSecretValue adds one per secret ("Secrets Manager generates
//! CloudTrail GetSecretValue log entries for each secret you request when
//! you call this action", API Reference, BatchGetSecretValue): so the
//! `GetSecretValue` events alone count every read once, and a
//! `BatchGetSecretValue` event is not counted again. No event carries a
//! value. The events arrive from `server/readers/`; everything here is pure.

use super::arn::Arn;
use super::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// What kind of identity read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrincipalKind {
    Role,
    User,
    /// The account's root user.
    Root,
    /// An AWS service (`invokedBy`).
    Service,
    Other,
}

/// An IAM principal as a reader: a role (every session of it is the same
/// reader), a user, a root user or a service.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Principal {
    /// `arn:aws:iam::ACCOUNT:role/NAME` for any session of a role (the
    /// session's `arn:aws:sts::…:assumed-role/NAME/SESSION` is folded into
    /// it), the user's ARN, or the service's name.
    pub arn: Arc<str>,
    /// The account it lives in, when CloudTrail says.
    pub account: Option<Arc<str>>,
    pub kind: PrincipalKind,
}

impl Principal {
    /// The reader of a CloudTrail `userIdentity`: `issuer` is
    /// `sessionContext.sessionIssuer.arn` (set for a role's session),
    /// `invoked_by` the service that called. `None` when nothing names it.
    pub fn from_identity(
        identity_type: Option<&str>,
        arn: Option<&str>,
        account: Option<&str>,
        issuer: Option<&str>,
        invoked_by: Option<&str>,
    ) -> Option<Principal> {
        let account = account.filter(|a| !a.is_empty()).map(Arc::from);
        let with = |arn: &str, kind| {
            Some(Principal {
                arn: arn.into(),
                account: account
                    .clone()
                    .or_else(|| Arn::parse(arn).map(|a| Arc::from(a.account))),
                kind,
            })
        };
        if let Some(issuer) = issuer.filter(|i| i.contains(":role/")) {
            return with(issuer, PrincipalKind::Role);
        }
        if let Some(arn) = arn.filter(|a| !a.is_empty()) {
            if let Some(role) = role_of_session(arn) {
                return with(&role, PrincipalKind::Role);
            }
            let kind = match identity_type {
                Some("Root") => PrincipalKind::Root,
                _ if arn.ends_with(":root") => PrincipalKind::Root,
                Some("IAMUser") => PrincipalKind::User,
                _ if arn.contains(":user/") => PrincipalKind::User,
                _ if arn.contains(":role/") => PrincipalKind::Role,
                _ => PrincipalKind::Other,
            };
            return with(arn, kind);
        }
        let service = invoked_by.filter(|s| !s.is_empty())?;
        Some(Principal {
            arn: service.into(),
            account,
            kind: PrincipalKind::Service,
        })
    }

    /// The role's or user's name (the last part of the ARN's path), or the
    /// whole ARN for anything else.
    pub fn name(&self) -> &str {
        match self.kind {
            PrincipalKind::Role | PrincipalKind::User => {
                self.arn.rsplit('/').next().unwrap_or(&self.arn)
            }
            _ => &self.arn,
        }
    }
}

/// `arn:aws:sts::A:assumed-role/NAME/SESSION` → `arn:aws:iam::A:role/NAME`
/// (a role with a path loses it here: the session ARN does not carry it).
fn role_of_session(arn: &str) -> Option<String> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let (partition, service, _region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if service != "sts" {
        return None;
    }
    let name = resource.strip_prefix("assumed-role/")?.split('/').next()?;
    (!name.is_empty()).then(|| format!("arn:{partition}:iam::{account}:role/{name}"))
}

/// Why a read failed, from CloudTrail's `errorCode` and `errorMessage`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReadError {
    /// `AccessDenied` / `AccessDeniedException`: IAM or the resource policy
    /// refused it.
    AccessDenied,
    /// `DecryptionFailure`: KMS would not decrypt (key disabled, no
    /// `kms:Decrypt`).
    DecryptionFailure,
    /// `InvalidRequestException` "…because it was marked for deletion":
    /// the secret is scheduled for deletion, and "You can't perform this
    /// operation on the secret because it was marked for deletion."
    MarkedForDeletion,
    /// `ResourceNotFoundException`: no such secret, or no version with that
    /// stage or id.
    NotFound,
    /// Any other error code.
    Other(Box<str>),
}

impl ReadError {
    /// `None` when the event has no error code: the read succeeded.
    pub fn parse(code: Option<&str>, message: Option<&str>) -> Option<ReadError> {
        let code = code.filter(|c| !c.is_empty())?;
        let message = message.unwrap_or_default().to_ascii_lowercase();
        Some(match code {
            "AccessDenied" | "AccessDeniedException" => ReadError::AccessDenied,
            "DecryptionFailure" | "DecryptionFailureException" => ReadError::DecryptionFailure,
            "ResourceNotFoundException" => ReadError::NotFound,
            "InvalidRequestException" if message.contains("marked for deletion") => {
                ReadError::MarkedForDeletion
            }
            other => ReadError::Other(other.into()),
        })
    }

    /// The words a person reads.
    pub fn label(&self) -> &str {
        match self {
            ReadError::AccessDenied => "access denied",
            ReadError::DecryptionFailure => "decryption failed",
            ReadError::MarkedForDeletion => "marked for deletion",
            ReadError::NotFound => "not found",
            ReadError::Other(code) => code,
        }
    }
}

/// Which version a read asked for (`requestParameters`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Asked {
    /// No VersionStage and no VersionId: "If you don't specify either a
    /// VersionStage or VersionId, then Secrets Manager returns the
    /// AWSCURRENT version" (API Reference, GetSecretValue).
    Default,
    Stage(Box<str>),
    Version(Box<str>),
    /// CloudTrail did not record the request's parameters.
    Unknown,
}

impl Asked {
    pub fn from_request(stage: Option<&str>, version: Option<&str>) -> Asked {
        match (
            stage.filter(|s| !s.is_empty()),
            version.filter(|v| !v.is_empty()),
        ) {
            (Some(s), _) => Asked::Stage(s.into()),
            (None, Some(v)) => Asked::Version(v.into()),
            (None, None) => Asked::Default,
        }
    }

    /// The words a person reads: `AWSCURRENT (default)`, the label, or
    /// `version 1a2b…`.
    pub fn label(&self) -> String {
        match self {
            Asked::Default => "AWSCURRENT (default)".to_string(),
            Asked::Stage(s) => s.to_string(),
            Asked::Version(v) => format!("version {v}"),
            Asked::Unknown => "not recorded".to_string(),
        }
    }

    pub fn is_previous(&self) -> bool {
        matches!(self, Asked::Stage(s) if &**s == "AWSPREVIOUS")
    }
}

/// How far a lookup that is still paging in has got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadProgress {
    /// LookupEvents pages read so far (50 events a page at most).
    pub pages: u32,
    /// GetSecretValue events read so far.
    pub events: u32,
    /// The oldest event time reached so far: the lookup goes from now back
    /// to the start of the window.
    pub reached: Option<Timestamp>,
    /// The start of the window it reads back to.
    pub window_start: Timestamp,
}

/// One GetSecretValue event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadEvent {
    pub event_id: Box<str>,
    pub at: Timestamp,
    pub principal: Principal,
    pub asked: Asked,
    /// `None`: the read succeeded.
    pub error: Option<ReadError>,
}

/// Failed reads of one kind by one principal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failures {
    pub error: ReadError,
    pub count: u32,
    pub first: Timestamp,
    pub last: Timestamp,
}

/// Reads of one version (stage, id or the default) by one principal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AskedCount {
    pub asked: Asked,
    /// Successful reads.
    pub count: u32,
    pub last: Timestamp,
}

/// One principal's reads of one secret in the window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reader {
    pub principal: Principal,
    /// Its account is one of the dashboard's sources (set by the server).
    pub ours: bool,
    /// First and last event, failed or not.
    pub first: Timestamp,
    pub last: Timestamp,
    /// Successful reads.
    pub reads: u32,
    pub first_ok: Option<Timestamp>,
    pub last_ok: Option<Timestamp>,
    /// By error, most first.
    pub failures: Vec<Failures>,
    /// Successful reads by the version asked for, most first.
    pub asked: Vec<AskedCount>,
}

impl Reader {
    pub fn failed(&self) -> u32 {
        self.failures.iter().map(|f| f.count).sum()
    }

    /// Its successful AWSPREVIOUS reads, if any.
    pub fn previous_reads(&self) -> Option<&AskedCount> {
        self.asked.iter().find(|a| a.asked.is_previous())
    }
}

/// The readers of one secret over a window of CloudTrail, and how much of
/// the window was read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Readers {
    /// The start of the window asked for.
    pub since: Timestamp,
    /// When it was last read up to.
    pub until: Timestamp,
    /// `Some(t)`: the lookup stopped (too many events) and nothing before
    /// `t` was read; the window is cut short.
    pub cut_short_at: Option<Timestamp>,
    /// GetSecretValue events summed up.
    pub events: u32,
    /// Most recent reader first.
    pub readers: Vec<Reader>,
}

impl Readers {
    /// Sums up `events` (any order; duplicate event ids count once) read
    /// over `since..=until`, cut short at `cut_short_at` when the lookup
    /// stopped early.
    pub fn from_events<'a>(
        events: impl IntoIterator<Item = &'a ReadEvent>,
        since: Timestamp,
        until: Timestamp,
        cut_short_at: Option<Timestamp>,
    ) -> Readers {
        let mut seen = std::collections::HashSet::new();
        let mut by: HashMap<&Principal, Reader> = HashMap::new();
        let mut count = 0u32;
        for e in events {
            if !seen.insert(&*e.event_id) {
                continue;
            }
            count += 1;
            let r = by.entry(&e.principal).or_insert_with(|| Reader {
                principal: e.principal.clone(),
                ours: false,
                first: e.at,
                last: e.at,
                reads: 0,
                first_ok: None,
                last_ok: None,
                failures: Vec::new(),
                asked: Vec::new(),
            });
            add(r, e);
        }
        let mut readers: Vec<Reader> = by.into_values().collect();
        for r in &mut readers {
            r.failures
                .sort_by(|a, b| b.count.cmp(&a.count).then(a.error.cmp(&b.error)));
            r.asked
                .sort_by(|a, b| b.count.cmp(&a.count).then(a.asked.cmp(&b.asked)));
        }
        readers.sort_by(|a, b| {
            b.last
                .cmp(&a.last)
                .then_with(|| a.principal.arn.cmp(&b.principal.arn))
        });
        Readers {
            since,
            until,
            cut_short_at,
            events: count,
            readers,
        }
    }

    /// The oldest time the window covers: `since`, or where it was cut.
    pub fn covered_since(&self) -> Timestamp {
        self.cut_short_at.map_or(self.since, |c| c.max(self.since))
    }

    /// Principals that read (or tried to) at or after `t`.
    pub fn active_since(&self, t: Timestamp) -> impl Iterator<Item = &Reader> {
        self.readers.iter().filter(move |r| r.last >= t)
    }

    /// The reader that is `principal` (a role or user ARN, or an assumed
    /// role session's ARN, which names its role).
    pub fn find(&self, principal: &str) -> Option<&Reader> {
        let role = role_of_session(principal);
        let want = role.as_deref().unwrap_or(principal);
        self.readers
            .iter()
            .find(|r| r.principal.arn.eq_ignore_ascii_case(want))
    }

    /// Readers whose reads failed at or after `t`, with those failures.
    pub fn failed_since(&self, t: Timestamp) -> Vec<(&Reader, Vec<&Failures>)> {
        self.readers
            .iter()
            .filter_map(|r| {
                let f: Vec<&Failures> = r.failures.iter().filter(|f| f.last >= t).collect();
                (!f.is_empty()).then_some((r, f))
            })
            .collect()
    }

    /// The last successful read by anyone.
    pub fn last_ok(&self) -> Option<Timestamp> {
        self.readers.iter().filter_map(|r| r.last_ok).max()
    }

    /// Readers with at least one successful read.
    pub fn successful(&self) -> usize {
        self.readers.iter().filter(|r| r.reads > 0).count()
    }

    /// Adds `newer`, read after this (from `self.until` on, none of the same
    /// events: the caller drops those it already counted): counts add up,
    /// first and last widen, and the window runs to `newer.until`.
    pub fn absorb(&mut self, newer: &Readers) {
        for n in &newer.readers {
            match self.readers.iter_mut().find(|r| r.principal == n.principal) {
                Some(r) => merge(r, n),
                None => self.readers.push(n.clone()),
            }
        }
        self.events += newer.events;
        self.until = self.until.max(newer.until);
        self.readers.sort_by(|a, b| {
            b.last
                .cmp(&a.last)
                .then_with(|| a.principal.arn.cmp(&b.principal.arn))
        });
    }
}

fn merge(r: &mut Reader, n: &Reader) {
    let min = |a: Option<Timestamp>, b: Option<Timestamp>| a.into_iter().chain(b).min();
    let max = |a: Option<Timestamp>, b: Option<Timestamp>| a.into_iter().chain(b).max();
    r.first = r.first.min(n.first);
    r.last = r.last.max(n.last);
    r.reads += n.reads;
    r.first_ok = min(r.first_ok, n.first_ok);
    r.last_ok = max(r.last_ok, n.last_ok);
    r.ours |= n.ours;
    for f in &n.failures {
        match r.failures.iter_mut().find(|x| x.error == f.error) {
            Some(x) => {
                x.count += f.count;
                x.first = x.first.min(f.first);
                x.last = x.last.max(f.last);
            }
            None => r.failures.push(f.clone()),
        }
    }
    for a in &n.asked {
        match r.asked.iter_mut().find(|x| x.asked == a.asked) {
            Some(x) => {
                x.count += a.count;
                x.last = x.last.max(a.last);
            }
            None => r.asked.push(a.clone()),
        }
    }
    r.failures
        .sort_by(|a, b| b.count.cmp(&a.count).then(a.error.cmp(&b.error)));
    r.asked
        .sort_by(|a, b| b.count.cmp(&a.count).then(a.asked.cmp(&b.asked)));
}

fn add(r: &mut Reader, e: &ReadEvent) {
    r.first = r.first.min(e.at);
    r.last = r.last.max(e.at);
    match &e.error {
        Some(err) => match r.failures.iter_mut().find(|f| &f.error == err) {
            Some(f) => {
                f.count += 1;
                f.first = f.first.min(e.at);
                f.last = f.last.max(e.at);
            }
            None => r.failures.push(Failures {
                error: err.clone(),
                count: 1,
                first: e.at,
                last: e.at,
            }),
        },
        None => {
            r.reads += 1;
            r.first_ok = Some(r.first_ok.map_or(e.at, |t| t.min(e.at)));
            r.last_ok = Some(r.last_ok.map_or(e.at, |t| t.max(e.at)));
            match r.asked.iter_mut().find(|a| a.asked == e.asked) {
                Some(a) => {
                    a.count += 1;
                    a.last = a.last.max(e.at);
                }
                None => r.asked.push(AskedCount {
                    asked: e.asked.clone(),
                    count: 1,
                    last: e.at,
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLE: &str = "arn:aws:iam::111122223333:role/payments-api";

    fn t(s: i64) -> Timestamp {
        Timestamp::new(s)
    }

    fn ev(id: &str, at: i64, who: &str, asked: Asked, error: Option<ReadError>) -> ReadEvent {
        ReadEvent {
            event_id: id.into(),
            at: t(at),
            principal: Principal::from_identity(Some("AssumedRole"), Some(who), None, None, None)
                .unwrap(),
            asked,
            error,
        }
    }

    #[test]
    fn sessions_of_a_role_are_one_reader_and_users_keep_their_arn() {
        let s1 = "arn:aws:sts::111122223333:assumed-role/payments-api/i-0abc";
        let p = Principal::from_identity(Some("AssumedRole"), Some(s1), None, None, None).unwrap();
        assert_eq!(
            (&*p.arn, p.account.as_deref(), p.kind),
            (ROLE, Some("111122223333"), PrincipalKind::Role)
        );
        assert_eq!(p.name(), "payments-api");
        // The session issuer wins when CloudTrail gives it (it keeps a path).
        let issuer = "arn:aws:iam::111122223333:role/apps/payments-api";
        let p = Principal::from_identity(
            Some("AssumedRole"),
            Some(s1),
            Some("111122223333"),
            Some(issuer),
            None,
        )
        .unwrap();
        assert_eq!(&*p.arn, issuer);
        let u = "arn:aws:iam::444455556666:user/ci";
        let p = Principal::from_identity(Some("IAMUser"), Some(u), None, None, None).unwrap();
        assert_eq!(
            (&*p.arn, p.account.as_deref(), p.kind, p.name()),
            (u, Some("444455556666"), PrincipalKind::User, "ci")
        );
        let s = Principal::from_identity(
            Some("AWSService"),
            None,
            None,
            None,
            Some("lambda.amazonaws.com"),
        )
        .unwrap();
        assert_eq!(s.kind, PrincipalKind::Service);
        assert!(Principal::from_identity(None, None, None, None, None).is_none());
        assert!(Principal::from_identity(None, Some(""), None, None, Some("")).is_none());
    }

    #[test]
    fn errors_and_stages_from_cloudtrail_words() {
        assert_eq!(ReadError::parse(None, None), None);
        assert_eq!(ReadError::parse(Some(""), None), None);
        assert_eq!(
            ReadError::parse(Some("AccessDenied"), None),
            Some(ReadError::AccessDenied)
        );
        // API Reference, GetSecretValue, Errors: InvalidRequestException
        // "The secret is scheduled for deletion."; the message as AWS words it.
        assert_eq!(
            ReadError::parse(
                Some("InvalidRequestException"),
                Some("You can't perform this operation on the secret because it was marked for deletion.")
            ),
            Some(ReadError::MarkedForDeletion)
        );
        assert_eq!(
            ReadError::parse(Some("InvalidRequestException"), Some("other")),
            Some(ReadError::Other("InvalidRequestException".into()))
        );
        assert_eq!(Asked::from_request(None, None), Asked::Default);
        assert!(Asked::from_request(Some("AWSPREVIOUS"), Some("v")).is_previous());
        assert_eq!(
            Asked::from_request(Some(""), Some("v1")),
            Asked::Version("v1".into())
        );
    }

    #[test]
    fn readers_sum_up_per_principal_once_per_event() {
        let other = "arn:aws:sts::999988887777:assumed-role/etl/x";
        let events = vec![
            ev("1", 100, ROLE, Asked::Default, None),
            ev("2", 200, ROLE, Asked::Stage("AWSPREVIOUS".into()), None),
            ev("2", 200, ROLE, Asked::Stage("AWSPREVIOUS".into()), None),
            ev("3", 300, ROLE, Asked::Default, None),
            ev(
                "4",
                150,
                other,
                Asked::Default,
                Some(ReadError::AccessDenied),
            ),
            ev(
                "5",
                50,
                other,
                Asked::Default,
                Some(ReadError::AccessDenied),
            ),
            ev(
                "6",
                400,
                other,
                Asked::Default,
                Some(ReadError::MarkedForDeletion),
            ),
        ];
        let r = Readers::from_events(&events, t(0), t(500), None);
        assert_eq!(r.events, 6, "the repeated event id counts once");
        assert_eq!(r.readers.len(), 2);
        let etl = &r.readers[0];
        assert_eq!(&*etl.principal.arn, "arn:aws:iam::999988887777:role/etl");
        assert_eq!(
            (etl.first, etl.last, etl.reads, etl.failed()),
            (t(50), t(400), 0, 3)
        );
        assert_eq!(etl.failures[0].error, ReadError::AccessDenied);
        assert_eq!(etl.failures[0].count, 2);
        let app = &r.readers[1];
        assert_eq!(
            (app.reads, app.first_ok, app.last_ok),
            (3, Some(t(100)), Some(t(300)))
        );
        assert_eq!(app.asked[0].asked, Asked::Default);
        assert_eq!(app.asked[0].count, 2);
        assert_eq!(app.previous_reads().unwrap().last, t(200));
        assert_eq!(r.last_ok(), Some(t(300)));
        assert_eq!(r.successful(), 1);
        assert_eq!(r.active_since(t(350)).count(), 1);
        assert_eq!(r.failed_since(t(300)).len(), 1);
        assert!(r
            .find("arn:aws:sts::111122223333:assumed-role/payments-api/other")
            .is_some());
        assert!(r.find("arn:aws:iam::111122223333:role/nobody").is_none());
        assert_eq!(r.covered_since(), t(0));
        let cut = Readers::from_events(&events, t(0), t(500), Some(t(120)));
        assert_eq!(cut.covered_since(), t(120));
    }

    #[test]
    fn absorbing_a_later_window_equals_reading_both_at_once() {
        let other = "arn:aws:sts::999988887777:assumed-role/etl/x";
        let all = vec![
            ev("1", 100, ROLE, Asked::Default, None),
            ev("2", 200, ROLE, Asked::Stage("AWSPREVIOUS".into()), None),
            ev(
                "3",
                300,
                other,
                Asked::Default,
                Some(ReadError::AccessDenied),
            ),
            ev("4", 600, ROLE, Asked::Default, None),
            ev(
                "5",
                700,
                other,
                Asked::Default,
                Some(ReadError::AccessDenied),
            ),
            ev(
                "6",
                800,
                "arn:aws:iam::111122223333:user/ci",
                Asked::Default,
                None,
            ),
        ];
        let whole = Readers::from_events(&all, t(0), t(900), None);
        let mut early = Readers::from_events(&all[..3], t(0), t(500), None);
        early.absorb(&Readers::from_events(&all[3..], t(500), t(900), None));
        assert_eq!(early, whole);
    }
}

//! What was learned about secrets beyond the list pass, kept by ARN and
//! attached to them in every snapshot: rotation failures, the causes the
//! last rotation diagnosis found, and who reads them (CloudTrail).

use super::Inventory;
use crate::domain::diagnosis::{CauseId, Diagnosis};
use crate::domain::query::Query;
use crate::domain::reads::Readers;
use crate::domain::rotation_failure::RotationFailure;
use crate::domain::{Secret, Timestamp};
use std::collections::HashMap;
use std::sync::Arc;

/// What was learned about secrets beyond the list pass, by ARN, and
/// attached to them in every snapshot: rotation failures and the causes
/// the last rotation diagnosis found.
#[derive(Default)]
pub(super) struct Learned {
    failures: HashMap<Arc<str>, Arc<RotationFailure>>,
    /// The last diagnosis of each secret's rotation, and the causes it found.
    diagnoses: HashMap<Arc<str>, Diagnosed>,
    /// Who read each secret, as far as CloudTrail was read.
    reads: HashMap<Arc<str>, Arc<Readers>>,
    /// The high-value search (`[readers] high_value`).
    high_value: Option<Arc<Query>>,
}

/// A diagnosis, the causes it found, and when it was made.
type Diagnosed = (Arc<Diagnosis>, Arc<[CauseId]>, Timestamp);

/// Failures kept at most (the oldest go first).
const KEEP_FAILURES: usize = 100_000;

impl Inventory {
    /// Records failures seen for secrets' pending rotations and attaches
    /// each to its secret while it applies. Returns true when a secret in
    /// the snapshot changed.
    pub fn note_failures(&self, seen: Vec<(Arc<str>, RotationFailure)>) -> bool {
        {
            let mut book = self.failures.lock().unwrap_or_else(|p| p.into_inner());
            let mut learned = false;
            for (arn, f) in seen {
                if book.failures.get(&arn).is_none_or(|old| **old != f) {
                    book.failures.insert(arn, Arc::new(f));
                    learned = true;
                }
            }
            // Nothing new: the snapshot already carries what the book holds
            // (every publish and update attaches it), so no pass over it.
            if !learned {
                return false;
            }
            if book.failures.len() > KEEP_FAILURES {
                let mut by_age: Vec<_> = book
                    .failures
                    .iter()
                    .map(|(k, v)| (v.at, k.clone()))
                    .collect();
                by_age.sort();
                for (_, k) in by_age.into_iter().take(book.failures.len() - KEEP_FAILURES) {
                    book.failures.remove(&k);
                }
            }
        }
        let before = self.snapshot.load_full();
        self.update_secrets(|_| None);
        !Arc::ptr_eq(&before, &self.snapshot.load_full())
    }

    /// Records diagnoses of secrets' rotations and attaches the causes each
    /// found to its secret (`cause:` searches them). True when the
    /// snapshot changed.
    pub fn note_diagnoses(&self, made: Vec<Arc<Diagnosis>>, at: Timestamp) -> bool {
        {
            let mut book = self.failures.lock().unwrap_or_else(|p| p.into_inner());
            for d in made {
                let causes: Arc<[CauseId]> = d.found().into();
                book.diagnoses
                    .insert(Arc::from(d.secret_arn.as_str()), (d, causes, at));
            }
            if book.diagnoses.len() > KEEP_FAILURES {
                // Past the bound, keep the secrets something is wrong with.
                book.diagnoses.retain(|_, (_, c, _)| !c.is_empty());
            }
        }
        let before = self.snapshot.load_full();
        self.update_secrets(|_| None);
        !Arc::ptr_eq(&before, &self.snapshot.load_full())
    }

    /// The last diagnosis made of `arn`'s rotation, and when, if any.
    pub fn diagnosis_of(&self, arn: &str) -> Option<(Arc<Diagnosis>, Timestamp)> {
        let book = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        book.diagnoses.get(arn).map(|(d, _, at)| (d.clone(), *at))
    }

    /// Records who read `arn` and attaches it to the secret (the read
    /// rules and `reader:` use it). True when the snapshot changed.
    pub fn note_reads(&self, arn: Arc<str>, readers: Arc<Readers>) -> bool {
        {
            let mut book = self.failures.lock().unwrap_or_else(|p| p.into_inner());
            book.reads.insert(arn, readers);
        }
        let before = self.snapshot.load_full();
        self.update_secrets(|_| None);
        !Arc::ptr_eq(&before, &self.snapshot.load_full())
    }

    /// Who read `arn`, as last looked up.
    pub fn reads_of(&self, arn: &str) -> Option<Arc<Readers>> {
        let book = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        book.reads.get(arn).cloned()
    }

    /// Sets the high-value search: each secret matching it is marked
    /// [`Secret::high_value`] in every snapshot from now on.
    pub fn set_high_value(&self, query: Option<Query>) {
        {
            let mut book = self.failures.lock().unwrap_or_else(|p| p.into_inner());
            book.high_value = query.filter(|q| !q.is_empty()).map(Arc::new);
        }
        self.update_secrets(|_| None);
    }

    /// `s` with the failure the book holds for it (if it applies), its
    /// diagnosed causes, its readers and whether it is high value, when that
    /// differs from what it carries.
    pub(super) fn with_failure(book: &Learned, s: &Secret) -> Option<Secret> {
        learned_for(book, s).map(|l| {
            let mut s = s.clone();
            l.apply(&mut s);
            s
        })
    }

    /// Makes `s` carry what the book holds for it, in place when nothing
    /// else holds `s` (a secret the list pass just built): no copy.
    pub(super) fn attach_learned(book: &Learned, s: &mut Arc<Secret>) {
        if let Some(l) = learned_for(book, s) {
            l.apply(Arc::make_mut(s));
        }
    }

    /// [`Self::attach_learned`] for a secret not yet shared.
    pub(super) fn attach_learned_owned(book: &Learned, s: &mut Secret) {
        if let Some(l) = learned_for(book, s) {
            l.apply(s);
        }
    }
}

/// What the book holds for one secret beyond the list pass.
struct LearnedFields {
    failure: Option<Arc<RotationFailure>>,
    causes: Option<Arc<[CauseId]>>,
    reads: Option<Arc<Readers>>,
    high_value: bool,
}

impl LearnedFields {
    fn apply(self, s: &mut Secret) {
        s.failure = self.failure;
        s.causes = self.causes;
        s.reads = self.reads;
        s.high_value = self.high_value;
    }
}

/// What `s` should carry by the book (the failure seen for it, if it
/// applies; its diagnosed causes; its readers; whether it is high value),
/// when that differs from what it carries.
fn learned_for(book: &Learned, s: &Secret) -> Option<LearnedFields> {
    let high_value = book.high_value.as_ref().is_some_and(|q| q.matches(s));
    if book.failures.is_empty()
        && book.diagnoses.is_empty()
        && book.reads.is_empty()
        && s.failure.is_none()
        && s.causes.is_none()
        && s.reads.is_none()
        && high_value == s.high_value
    {
        return None;
    }
    let failure = book
        .failures
        .get(&s.arn)
        .filter(|f| f.applies_to(s))
        .cloned();
    let causes = book.diagnoses.get(&s.arn).map(|(_, c, _)| c.clone());
    let reads = book.reads.get(&s.arn).cloned();
    let same_reads = match (&reads, &s.reads) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    };
    (failure != s.failure || causes != s.causes || !same_reads || high_value != s.high_value)
        .then_some(LearnedFields {
            failure,
            causes,
            reads,
            high_value,
        })
}

//! [`SearchIndex`]: the inventory as columns, and [`Query::select`] over it.

use super::*;
use crate::domain::rotation_failure::RotationStep;
use crate::domain::{glob, Secret};

// ---------------------------------------------------------------------------
// Index

/// A compact, lowercased copy of what queries look at, built once per
/// inventory snapshot, for [`Query::select`].
///
/// [`Query::matches`] follows a dozen pointers per secret (name, description,
/// each tag's key and value are separate allocations), so over 100,000
/// secrets it waits on memory far more than it compares text. The index
/// stores each field as a column: names back to back in one buffer, and the
/// fields whose values repeat (descriptions, regions, accounts, key ids,
/// services, tag keys and values) as numbers into a dictionary of their
/// distinct values, so that a query tests each distinct value once and
/// reads the columns front to back.
#[derive(Clone, Debug, Default)]
pub struct SearchIndex {
    names: Strings,
    descriptions: Strings,
    description: Vec<u32>,
    regions: Strings,
    region: Vec<u32>,
    accounts: Strings,
    account: Vec<u32>,
    /// The key id, or `alias/aws/secretsmanager` when there is none.
    kms_keys: Strings,
    kms: Vec<u32>,
    services: Strings,
    service: Vec<u32>,
    tag_keys: Strings,
    tag_values: Strings,
    /// (key, value) for all secrets, in order; `tag_ends[i]` ends secret i's.
    tags: Vec<(u32, u32)>,
    tag_ends: Vec<u32>,
    flags: Vec<u8>,
    /// The step the pending rotation failed at ([`failed_step`]), for `step:`.
    steps: Vec<Option<RotationStep>>,
    /// The causes the last diagnosis found ([`cause_bits`]), for `cause:`.
    causes: Vec<u32>,
    /// Readers' principal ARNs and role or user names, for `reader:`.
    reader_arns: Strings,
    reader_names: Strings,
    /// (ARN, name) of each reader of all secrets, in order;
    /// `reader_ends[i]` ends secret i's.
    readers: Vec<(u32, u32)>,
    reader_ends: Vec<u32>,
    /// How many readers each secret has (`NONE`: not looked up), for `readers:`.
    reader_counts: Vec<u32>,
    /// Owner names (lowercased), and each secret's owner by its `owner` tag
    /// and by its description (`NONE`: not named there), for `owner:`.
    owners: Strings,
    owner_tag: Vec<u32>,
    owner_description: Vec<u32>,
}

/// No value (a secret without a description or an owning service).
const NONE: u32 = u32::MAX;

const ROTATION: u8 = 1;
const DELETED: u8 = 2;
const DEFAULT_KMS: u8 = 4;
/// The tag or the description names an owner.
const OWNER_KNOWN: u8 = 8;
/// Both do, and not the same one.
const OWNER_CONFLICT: u8 = 16;
/// The name has no `/`: the secret is outside every folder.
const ROOTLESS: u8 = 32;

/// Who owns a row, as the index knows it: for the owner facets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerState {
    None,
    Known,
    /// Known, and the tag and the description disagree.
    Conflict,
}

/// Lowercased strings back to back, each followed by `\0`, numbered from 0.
#[derive(Clone, Debug, Default)]
struct Strings {
    text: String,
    /// Where each string ends (at its `\0`).
    /// (u32: an inventory's text is far below 4 GiB, and half the size.)
    ends: Vec<u32>,
}

impl Strings {
    fn push(&mut self, s: &str) -> u32 {
        if s.is_ascii() {
            self.text
                .extend(s.bytes().map(|b| char::from(b.to_ascii_lowercase())));
        } else {
            self.text.push_str(&s.to_lowercase());
        }
        self.ends.push(self.text.len() as u32);
        self.text.push('\0');
        // Four billion distinct strings would not fit in memory first.
        (self.ends.len() - 1) as u32
    }

    fn start(&self, id: usize) -> usize {
        if id == 0 {
            0
        } else {
            self.ends[id - 1] as usize + 1
        }
    }

    fn get(&self, id: usize) -> Option<&str> {
        let end = *self.ends.get(id)? as usize;
        self.text.get(self.start(id)..end)
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Which strings contain `needle` (lower case), found with one pass over
    /// all the text rather than one search per string.
    fn containing(&self, needle: &str) -> Vec<bool> {
        if needle.is_empty() || needle.contains('\0') {
            // The empty needle is in every string; one holding the separator
            // could match across two, so look string by string.
            return (0..self.len())
                .map(|id| self.get(id).is_some_and(|s| s.contains(needle)))
                .collect();
        }
        let mut hit = vec![false; self.len()];
        let mut id = 0;
        // memchr's vectorised search reads the text several times faster
        // than `str::match_indices`.
        for at in memchr::memmem::find_iter(self.text.as_bytes(), needle.as_bytes()) {
            // The first string ending at or after the match holds all of it:
            // the match cannot cross a separator.
            while id < self.len() && (self.ends[id] as usize) < at + needle.len() {
                id += 1;
            }
            if id < self.len() && self.start(id) <= at {
                hit[id] = true;
            }
        }
        hit
    }

    fn shrink(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}

/// Builds a dictionary column: each distinct lowercased value once.
///
/// The strings are looked up by their hash alone (12 bytes an entry rather
/// than a second copy of every string while the index is built: at 100,000
/// mostly distinct descriptions that copy was most of the build's peak).
/// Two strings with the same hash are told apart by comparing the text; the
/// second one of such a pair is simply stored again.
#[derive(Default)]
struct Interner {
    strings: Strings,
    ids: std::collections::HashMap<u64, u32>,
    hasher: std::hash::RandomState,
    buffer: String,
}

impl Interner {
    fn intern(&mut self, s: &str) -> u32 {
        use std::hash::BuildHasher;
        self.buffer.clear();
        if s.is_ascii() {
            self.buffer
                .extend(s.bytes().map(|b| char::from(b.to_ascii_lowercase())));
        } else {
            self.buffer.push_str(&s.to_lowercase());
        }
        let hash = self.hasher.hash_one(self.buffer.as_str());
        match self.ids.get(&hash) {
            Some(&id) if self.strings.get(id as usize) == Some(self.buffer.as_str()) => id,
            Some(_) => self.strings.push(&self.buffer),
            None => {
                let id = self.strings.push(&self.buffer);
                self.ids.insert(hash, id);
                id
            }
        }
    }

    fn intern_opt(&mut self, s: Option<&str>) -> u32 {
        s.map_or(NONE, |s| self.intern(s))
    }

    fn finish(mut self) -> Strings {
        self.strings.shrink();
        self.strings
    }
}

/// A term's answer for each distinct value of a dictionary, worked out the
/// first time a secret holds that value.
struct Memo<'a> {
    strings: &'a Strings,
    known: Vec<u8>,
}

impl<'a> Memo<'a> {
    pub(super) fn new(strings: &'a Strings) -> Memo<'a> {
        Memo {
            strings,
            known: vec![0; strings.len()],
        }
    }

    /// False for `NONE`.
    fn test(&mut self, id: u32, f: impl FnOnce(&str) -> bool) -> bool {
        let Some(slot) = self.known.get_mut(id as usize) else {
            return false;
        };
        match *slot {
            1 => false,
            2 => true,
            _ => {
                let yes = self.strings.get(id as usize).is_some_and(f);
                *slot = if yes { 2 } else { 1 };
                yes
            }
        }
    }
}

impl SearchIndex {
    /// Indexes `secrets`; [`Query::select`] answers with their positions in
    /// this order.
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a Secret>) -> SearchIndex {
        let secrets = secrets.into_iter();
        let mut ix = SearchIndex::default();
        // One row per secret: sized once, with no slack left behind.
        let rows = secrets.size_hint().0;
        ix.names.ends.reserve_exact(rows);
        for column in [
            &mut ix.description,
            &mut ix.region,
            &mut ix.account,
            &mut ix.kms,
            &mut ix.service,
            &mut ix.tag_ends,
            &mut ix.causes,
            &mut ix.reader_counts,
            &mut ix.reader_ends,
            &mut ix.owner_tag,
            &mut ix.owner_description,
        ] {
            column.reserve_exact(rows);
        }
        ix.flags.reserve_exact(rows);
        ix.steps.reserve_exact(rows);
        let mut descriptions = Interner::default();
        let mut regions = Interner::default();
        let mut accounts = Interner::default();
        let mut kms_keys = Interner::default();
        let mut services = Interner::default();
        let mut tag_keys = Interner::default();
        let mut tag_values = Interner::default();
        let mut reader_arns = Interner::default();
        let mut reader_names = Interner::default();
        let mut owners = Interner::default();
        for s in secrets {
            ix.names.push(&s.name);
            ix.description
                .push(descriptions.intern_opt(s.description.as_deref()));
            ix.region.push(regions.intern(&s.region));
            ix.account.push(accounts.intern(&s.account));
            let key_id = s.kms_key_id.as_deref().unwrap_or(AWS_MANAGED_KEY);
            ix.kms.push(kms_keys.intern(key_id));
            ix.service
                .push(services.intern_opt(s.owning_service.as_deref()));
            for t in &s.tags {
                ix.tags
                    .push((tag_keys.intern(&t.key), tag_values.intern(&t.value)));
            }
            ix.tag_ends.push(ix.tags.len() as u32);
            let named = crate::domain::owner::owners_of(s);
            ix.owner_tag
                .push(owners.intern_opt(named.tag.as_ref().map(|o| o.name.as_str())));
            ix.owner_description
                .push(owners.intern_opt(named.description.as_ref().map(|o| o.name.as_str())));
            let mut flags = 0;
            for (on, bit) in [
                (s.rotation_enabled, ROTATION),
                (s.deleted.is_some(), DELETED),
                (s.uses_default_kms_key(), DEFAULT_KMS),
                (named.owner().is_some(), OWNER_KNOWN),
                (named.conflict(), OWNER_CONFLICT),
                (!s.name.contains('/'), ROOTLESS),
            ] {
                if on {
                    flags |= bit;
                }
            }
            ix.flags.push(flags);
            ix.steps.push(failed_step(s));
            ix.causes.push(cause_bits(s));
            let count = s.reads.as_deref().map(|r| {
                for r in &r.readers {
                    let p = &r.principal;
                    ix.readers
                        .push((reader_arns.intern(&p.arn), reader_names.intern(p.name())));
                }
                // NONE stands for "not looked up": no count reaches it.
                u32::try_from(r.readers.len()).map_or(NONE - 1, |n| n.min(NONE - 1))
            });
            ix.reader_counts.push(count.unwrap_or(NONE));
            ix.reader_ends.push(ix.readers.len() as u32);
        }
        ix.names.shrink();
        ix.descriptions = descriptions.finish();
        ix.regions = regions.finish();
        ix.accounts = accounts.finish();
        ix.kms_keys = kms_keys.finish();
        ix.services = services.finish();
        ix.tag_keys = tag_keys.finish();
        ix.tag_values = tag_values.finish();
        ix.tags.shrink_to_fit();
        ix.reader_arns = reader_arns.finish();
        ix.reader_names = reader_names.finish();
        ix.readers.shrink_to_fit();
        ix.owners = owners.finish();
        ix
    }

    /// Whether row `i` has rotation turned on.
    pub fn rotation_on(&self, i: usize) -> bool {
        self.flags[i] & ROTATION != 0
    }

    /// Whether row `i`'s name has no `/` (it is outside every folder). Read
    /// here rather than from the secret, whose name is two pointers away:
    /// counting the rootless among 87,000 hits that way cost the list page
    /// 13 ms of cache misses.
    pub fn rootless(&self, i: usize) -> bool {
        self.flags[i] & ROOTLESS != 0
    }

    /// Whether row `i` is encrypted with the AWS managed key.
    pub fn default_kms(&self, i: usize) -> bool {
        self.flags[i] & DEFAULT_KMS != 0
    }

    /// Who owns row `i`: what `owner:none`, `owner:known` and
    /// `owner:conflict` read.
    pub fn owner_state(&self, i: usize) -> OwnerState {
        let f = self.flags[i];
        if f & OWNER_CONFLICT != 0 {
            OwnerState::Conflict
        } else if f & OWNER_KNOWN != 0 {
            OwnerState::Known
        } else {
            OwnerState::None
        }
    }

    /// Distinct tag keys (ignoring case).
    pub fn tag_key_count(&self) -> usize {
        self.tag_keys.len()
    }

    /// How many secrets are indexed.
    pub fn len(&self) -> usize {
        self.flags.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }

    /// Row `i`'s tags as (key id, value id), in the secret's own tag order;
    /// ids are positions in the (lowercased) key and value dictionaries.
    pub fn row_tags(&self, i: usize) -> &[(u32, u32)] {
        row_of(&self.tags, &self.tag_ends, i)
    }

    /// Row `i`'s readers as (ARN id, name id), in the secret's own order.
    fn row_readers(&self, i: usize) -> &[(u32, u32)] {
        row_of(&self.readers, &self.reader_ends, i)
    }

    fn name(&self, i: usize) -> &str {
        self.names.get(i).unwrap_or("")
    }

    fn eval_term(&self, t: &Term, mask: &Bits, facts: Option<&dyn Facts>) -> Bits {
        if t.needs_facts() {
            let Some(facts) = facts else {
                return Bits::empty(mask.len);
            };
            let now = facts.now();
            return mask.filter(|i| t.matches_facts(facts.secret(i), now, facts.health(i)));
        }
        let flag = |bit: u8, want: bool| mask.filter(|i| (self.flags[i] & bit != 0) == want);
        match t {
            // Few rows left to look at: test them one by one.
            Term::Text(v) if mask.count() < self.len() / 8 => {
                let n = v.lower.as_str();
                let mut descriptions = Memo::new(&self.descriptions);
                let mut values = Memo::new(&self.tag_values);
                mask.filter(|i| {
                    self.name(i).contains(n)
                        || descriptions.test(self.description[i], |d| d.contains(n))
                        || self
                            .row_tags(i)
                            .iter()
                            .any(|&(_, value)| values.test(value, |s| s.contains(n)))
                })
            }
            // Many: one pass over each column's text beats a search per row.
            Term::Text(v) => {
                let names = self.names.containing(&v.lower);
                let descriptions = self.descriptions.containing(&v.lower);
                let values = self.tag_values.containing(&v.lower);
                let has = |hits: &[bool], id: u32| hits.get(id as usize).copied().unwrap_or(false);
                mask.filter(|i| {
                    names[i]
                        || has(&descriptions, self.description[i])
                        || self
                            .row_tags(i)
                            .iter()
                            .any(|&(_, value)| has(&values, value))
                })
            }
            Term::Name(v) if v.wildcards && mask.count() >= self.len() / 8 => {
                // Only names holding the glob's longest literal part can match it.
                let literal = v
                    .lower
                    .split(['*', '?'])
                    .max_by_key(|part| part.len())
                    .unwrap_or("");
                let candidates = self.names.containing(literal);
                mask.filter(|i| candidates[i] && glob::glob_lowered(self.name(i), &v.lower))
            }
            Term::Name(v) => mask.filter(|i| v.prefix_or_glob_lowered(self.name(i))),
            Term::Tag { key, value } => {
                // Keys are compared exactly, so at most one dictionary entry is it.
                let Some(k) = (0..self.tag_keys.len())
                    .find(|&id| self.tag_keys.get(id) == Some(key.lower.as_str()))
                else {
                    return Bits::empty(mask.len);
                };
                let k = k as u32;
                let mut values = Memo::new(&self.tag_values);
                mask.filter(|i| {
                    self.row_tags(i).iter().any(|&(key, val)| {
                        key == k
                            && value
                                .as_ref()
                                .is_none_or(|v| values.test(val, |s| v.exact_or_glob_lowered(s)))
                    })
                })
            }
            Term::Region(v) => {
                let mut memo = Memo::new(&self.regions);
                mask.filter(|i| memo.test(self.region[i], |s| v.exact_or_glob_lowered(s)))
            }
            Term::Account(v) => {
                let mut memo = Memo::new(&self.accounts);
                mask.filter(|i| memo.test(self.account[i], |s| v.exact_or_glob_lowered(s)))
            }
            Term::Kms(Kms::Default) => flag(DEFAULT_KMS, true),
            Term::Kms(Kms::Customer) => flag(DEFAULT_KMS, false),
            Term::Kms(Kms::Contains(v)) => {
                let mut memo = Memo::new(&self.kms_keys);
                mask.filter(|i| memo.test(self.kms[i], |s| s.contains(&v.lower)))
            }
            Term::Rotation(on) => flag(ROTATION, *on),
            Term::Deleted(yes) => flag(DELETED, *yes),
            Term::Service(Service::Unmanaged) => mask.filter(|i| self.service[i] == NONE),
            Term::Service(Service::Prefix(v)) => {
                let mut memo = Memo::new(&self.services);
                mask.filter(|i| memo.test(self.service[i], |s| v.prefix_or_glob_lowered(s)))
            }
            Term::Step(want) => mask.filter(|i| step_matches(*want, self.steps[i])),
            Term::Cause(want) => mask.filter(|i| cause_bits_match(*want, self.causes[i])),
            Term::Reader(v) => {
                let mut arns = Memo::new(&self.reader_arns);
                let mut names = Memo::new(&self.reader_names);
                let glob = |s: &str| v.exact_or_glob_lowered(s);
                mask.filter(|i| {
                    self.row_readers(i)
                        .iter()
                        .any(|&(arn, name)| arns.test(arn, glob) || names.test(name, glob))
                })
            }
            Term::Owner(want) => self.eval_owner(want, mask),
            Term::Readers(want) => mask.filter(|i| {
                let n = self.reader_counts[i];
                want.matches((n != NONE).then_some(n as usize))
            }),
            Term::Health { .. }
            | Term::Rule(_)
            | Term::Suppressed(_)
            | Term::Rotated(_)
            | Term::Next(_) => unreachable!("handled above"),
        }
    }

    /// `owner:` over the rows of `mask`: flags for the keywords, the owner
    /// dictionary (each distinct name tested once) for a name.
    fn eval_owner(&self, want: &OwnerTerm, mask: &Bits) -> Bits {
        let flag = |bit: u8, on: bool| mask.filter(|i| (self.flags[i] & bit != 0) == on);
        match want {
            OwnerTerm::None => flag(OWNER_KNOWN, false),
            OwnerTerm::Known => flag(OWNER_KNOWN, true),
            OwnerTerm::Conflict => flag(OWNER_CONFLICT, true),
            OwnerTerm::Name(v) => {
                let mut memo = Memo::new(&self.owners);
                let glob = |s: &str| v.exact_or_glob_lowered(s);
                mask.filter(|i| {
                    memo.test(self.owner_tag[i], glob) || memo.test(self.owner_description[i], glob)
                })
            }
        }
    }

    /// The rows of `mask` that match `e`. AND and OR pass on only the rows
    /// still undecided, so each term looks at as few rows as it can, and
    /// their children run cheapest first.
    fn eval(&self, e: &Expr, mask: &Bits, facts: Option<&dyn Facts>) -> Bits {
        match e {
            Expr::Term(t) => self.eval_term(t, mask, facts),
            Expr::Not(inner) => {
                let mut out = mask.clone();
                out.remove(&self.eval(inner, mask, facts));
                out
            }
            Expr::And(items) => {
                let mut left = mask.clone();
                for e in by_cost(items) {
                    if left.is_empty() {
                        break;
                    }
                    left = self.eval(e, &left, facts);
                }
                left
            }
            Expr::Or(items) => {
                let mut undecided = mask.clone();
                let mut out = Bits::empty(mask.len);
                for e in by_cost(items) {
                    if undecided.is_empty() {
                        break;
                    }
                    let hit = self.eval(e, &undecided, facts);
                    undecided.remove(&hit);
                    out.add(&hit);
                }
                out
            }
        }
    }
}

impl Query {
    /// The positions (in the order given to [`SearchIndex::new`]) of the
    /// secrets this query matches: the same answer as [`Query::matches`] on
    /// each, many times faster over a large inventory.
    pub fn select(&self, index: &SearchIndex) -> Vec<usize> {
        self.select_with(index, None)
    }

    /// [`Query::select`] with the facts the health and date terms read.
    pub fn select_with(&self, index: &SearchIndex, facts: Option<&dyn Facts>) -> Vec<usize> {
        let all = Bits::full(index.len());
        match &self.root {
            None => all.ones().collect(),
            Some(e) => index.eval(e, &all, facts).ones().collect(),
        }
    }
}

/// Terms that read only flags first, then dictionary columns, then text.
fn by_cost(items: &[Expr]) -> Vec<&Expr> {
    fn cost(e: &Expr) -> u8 {
        match e {
            Expr::Term(Term::Rotation(_) | Term::Deleted(_))
            | Expr::Term(Term::Kms(Kms::Default | Kms::Customer))
            | Expr::Term(Term::Service(Service::Unmanaged) | Term::Step(_) | Term::Cause(_))
            | Expr::Term(Term::Readers(_))
            | Expr::Term(Term::Owner(OwnerTerm::None | OwnerTerm::Known | OwnerTerm::Conflict))
            | Expr::Term(Term::Health { .. } | Term::Rule(_) | Term::Suppressed(_)) => 0,
            Expr::Term(Term::Text(_) | Term::Name(_) | Term::Rotated(_) | Term::Next(_)) => 2,
            Expr::Term(_) => 1,
            Expr::Not(e) => cost(e),
            Expr::And(items) | Expr::Or(items) => items.iter().map(cost).max().unwrap_or(0),
        }
    }
    let mut sorted: Vec<&Expr> = items.iter().collect();
    sorted.sort_by_key(|e| cost(e));
    sorted
}

/// Row `i`'s slice of a column of lists kept back to back, `ends[i]`
/// ending row i's.
fn row_of<'a, T>(items: &'a [T], ends: &[u32], i: usize) -> &'a [T] {
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    items.get(start..ends[i] as usize).unwrap_or(&[])
}

/// A set of row numbers below `len`.
#[derive(Clone)]
pub(super) struct Bits {
    words: Vec<u64>,
    len: usize,
}

impl Bits {
    pub(super) fn empty(len: usize) -> Bits {
        Bits {
            words: vec![0; len.div_ceil(64)],
            len,
        }
    }

    pub(super) fn full(len: usize) -> Bits {
        let mut b = Bits {
            words: vec![u64::MAX; len.div_ceil(64)],
            len,
        };
        if let (Some(last), rem @ 1..) = (b.words.last_mut(), len % 64) {
            *last = (1u64 << rem) - 1;
        }
        b
    }

    /// The members for which `keep` is true.
    fn filter(&self, mut keep: impl FnMut(usize) -> bool) -> Bits {
        let mut out = Bits::empty(self.len);
        for (w, (&word, slot)) in self.words.iter().zip(out.words.iter_mut()).enumerate() {
            let mut rest = word;
            while rest != 0 {
                let bit = rest.trailing_zeros();
                rest &= rest - 1;
                if keep(w * 64 + bit as usize) {
                    *slot |= 1 << bit;
                }
            }
        }
        out
    }

    fn add(&mut self, other: &Bits) {
        for (w, o) in self.words.iter_mut().zip(&other.words) {
            *w |= o;
        }
    }

    fn remove(&mut self, other: &Bits) {
        for (w, o) in self.words.iter_mut().zip(&other.words) {
            *w &= !o;
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }

    fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub(super) fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                (w != 0).then(|| {
                    let bit = w.trailing_zeros() as usize;
                    w &= w - 1;
                    i * 64 + bit
                })
            })
        })
    }
}

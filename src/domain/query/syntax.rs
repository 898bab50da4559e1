//! The syntax tree: queries, expressions, terms and values, and how to build them.

use super::*;
use crate::domain::diagnosis::CauseId;
use crate::domain::glob;
use crate::domain::health::{RuleId, Severity, Summary};
use crate::domain::rotation_failure::RotationStep;
use crate::domain::{Secret, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A parsed query. The default (and the parse of a blank input) matches
/// every secret.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    pub(super) root: Option<Expr>,
}

/// The syntax tree. `And` and `Or` hold at least two children, and the
/// parser never puts an `And` directly in an `And` nor an `Or` in an `Or`
/// (grouping them changes nothing); [`Expr::and`] and [`Expr::or`] keep that
/// shape for trees built by hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Term(Term),
}

/// One condition on a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Term {
    /// A free word or quoted phrase: a substring of the name, the
    /// description or any tag value.
    Text(Value),
    /// `name:` a prefix of the name, or a glob over the whole name.
    Name(Value),
    /// `tag:key` (the key is present) or `tag:key=value` (exact or glob).
    Tag {
        key: Value,
        value: Option<Value>,
    },
    /// `region:` exact or glob.
    Region(Value),
    /// `account:` exact or glob.
    Account(Value),
    Kms(Kms),
    /// `rotation:on` / `rotation:off`.
    Rotation(bool),
    /// `deleted:yes` (scheduled for deletion) / `deleted:no`.
    Deleted(bool),
    Service(Service),
    /// `health:<severity>` (`None`: `health:ok`), `health:<severity>+`
    /// when `or_worse`.
    Health {
        worst: Option<Severity>,
        or_worse: bool,
    },
    /// `rule:<id>`: an active finding of that rule.
    Rule(RuleId),
    /// `suppressed:yes|no`.
    Suppressed(bool),
    /// `rotated:` LastRotatedDate.
    Rotated(When),
    /// `next:` NextRotationDate.
    Next(When),
    /// `step:<step>`: the failure seen for the rotation pending now
    /// ([`Secret::seen_failure`]) happened at that step of the rotation
    /// Lambda; `None` (`step:any`): at any step it names.
    Step(Option<RotationStep>),
    /// `cause:<slug>`: the last diagnosis of the secret's rotation
    /// ([`Secret::causes`]) found that cause; `None` (`cause:any`): it
    /// found at least one.
    Cause(Option<CauseId>),
    /// `reader:<glob>`: a principal that read the secret or tried to (any
    /// of [`Secret::reads`]' readers, failed reads included) has that ARN
    /// or that role or user name ([`Principal::name`]), exactly or as a
    /// glob. A secret whose readers were not looked up has none.
    ///
    /// [`Principal::name`]: crate::domain::reads::Principal::name
    Reader(Value),
    /// `readers:<count>`: how many distinct principals read the secret or
    /// tried to, or whether that was looked up at all.
    Readers(ReaderCount),
    /// `owner:`: who owns the secret, by the `owner` tag and the
    /// description ([`crate::domain::owner::owners_of`]).
    Owner(OwnerTerm),
}

/// A condition of `owner:` on the owners a secret's `owner` tag and
/// description name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnerTerm {
    /// `none`: neither the tag nor the description names an owner.
    None,
    /// `known`: one of them does.
    Known,
    /// `conflict`: both do, and not the same owner
    /// ([`crate::domain::owner::same_owner`]).
    Conflict,
    /// `owner:<glob>`: the tag's or the description's owner is that name,
    /// exactly (any case) or as a glob.
    Name(Value),
}

/// A condition of `readers:` on [`Secret::reads`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReaderCount {
    /// `unknown`: the readers were not looked up (`reads` is `None`).
    Unknown,
    /// `N`, `>N`, `>=N`, `<N`, `<=N`; `none` is `= 0`: looked up, and the
    /// number of readers compares so with N. Never true when the readers
    /// were not looked up.
    Is(Cmp, u32),
}

/// How a number of `readers:` compares with the one written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A date condition of `rotated:` and `next:`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// `never`: the date is absent.
    Never,
    /// `<Nd`: less than N days from now (before for `rotated:`, after for
    /// `next:`, where a date already past counts as within).
    Within(u32),
    /// `>Nd`: N days or more from now (so `<Nd` and `>Nd` split the dated
    /// secrets in two, with nothing between).
    Beyond(u32),
    /// `YYYY-MM-DD`: on that UTC day; the day's first second, as epoch seconds.
    Day(i64),
}

/// What the health and date terms read besides the secret, for
/// [`Query::select_with`]: rows are positions in the [`SearchIndex`].
pub trait Facts {
    fn now(&self) -> Timestamp;
    fn health(&self, row: usize) -> Summary;
    fn secret(&self, row: usize) -> &Secret;
}

/// The facts about one secret, for [`Query::matches_with`].
#[derive(Clone, Copy, Debug)]
pub struct SecretFacts {
    pub now: Timestamp,
    pub health: Summary,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kms {
    /// `kms:default`: the AWS managed key `aws/secretsmanager`.
    Default,
    /// `kms:cmk`: a customer managed key.
    Customer,
    /// `kms:<text>`: part of the key id, key ARN or alias (a secret without a
    /// key id counts as `alias/aws/secretsmanager`).
    Contains(Value),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Service {
    /// `service:none`: not managed by another AWS service.
    Unmanaged,
    /// `service:rds`: the owning service starts with it (or matches the glob).
    Prefix(Value),
}

/// A value as written (for display) and lowercased (for matching).
#[derive(Clone, PartialEq, Eq)]
pub struct Value {
    pub(super) raw: String,
    pub(super) lower: String,
    pub(super) wildcards: bool,
}

/// A syntax error: where, what, and what would have been accepted there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseError {
    /// Offset into the input, in characters (not bytes).
    pub position: usize,
    /// A sentence: what was wrong.
    pub message: String,
    /// What would have been accepted at `position`.
    pub expected: Vec<String>,
}

// ---------------------------------------------------------------------------
// Construction and inspection

impl Query {
    /// Parses `input`; an empty or blank input matches everything.
    pub fn parse(input: &str) -> Result<Query, ParseError> {
        // Counting stops past the limit: the cost is bounded whatever comes.
        if input.chars().take(MAX_QUERY_CHARS + 1).count() > MAX_QUERY_CHARS {
            return Err(error(
                MAX_QUERY_CHARS,
                format!("the search is too long: at most {MAX_QUERY_CHARS} characters; narrow it with fewer, more specific terms"),
                &[],
            ));
        }
        Parser::new(input).parse_query()
    }

    /// True when the query has no terms (it matches every secret).
    pub fn is_empty(&self) -> bool {
        self.root.is_none()
    }

    /// The syntax tree, or `None` for the empty query.
    pub fn root(&self) -> Option<&Expr> {
        self.root.as_ref()
    }

    /// Whether `s` matches. For a whole inventory, [`Query::select`] over a
    /// [`SearchIndex`] gives the same answer much faster.
    pub fn matches(&self, s: &Secret) -> bool {
        self.matches_with(s, None)
    }

    /// [`Query::matches`] with the facts the health and date terms need.
    pub fn matches_with(&self, s: &Secret, facts: Option<&SecretFacts>) -> bool {
        self.root.as_ref().is_none_or(|e| e.matches_with(s, facts))
    }

    /// True when a term needs [`Facts`] (health, rule, suppressed, rotated, next).
    pub fn needs_facts(&self) -> bool {
        fn walk(e: &Expr) -> bool {
            match e {
                Expr::And(items) | Expr::Or(items) => items.iter().any(walk),
                Expr::Not(e) => walk(e),
                Expr::Term(t) => t.needs_facts(),
            }
        }
        self.root.as_ref().is_some_and(walk)
    }
}

impl From<Expr> for Query {
    fn from(e: Expr) -> Query {
        Query { root: Some(e) }
    }
}

impl From<Option<Expr>> for Query {
    fn from(root: Option<Expr>) -> Query {
        Query { root }
    }
}

impl Expr {
    /// All of `items`, flattening nested `And`s; one item is returned as is.
    /// `None` when `items` is empty.
    pub fn and(items: impl IntoIterator<Item = Expr>) -> Option<Expr> {
        Self::join(items, true)
    }

    /// Any of `items`, flattening nested `Or`s; one item is returned as is.
    /// `None` when `items` is empty.
    pub fn or(items: impl IntoIterator<Item = Expr>) -> Option<Expr> {
        Self::join(items, false)
    }

    fn join(items: impl IntoIterator<Item = Expr>, and: bool) -> Option<Expr> {
        let mut out = Vec::new();
        for e in items {
            match e {
                Expr::And(children) if and => out.extend(children),
                Expr::Or(children) if !and => out.extend(children),
                other => out.push(other),
            }
        }
        match out.len() {
            0 => None,
            1 => out.pop(),
            _ if and => Some(Expr::And(out)),
            _ => Some(Expr::Or(out)),
        }
    }

    pub fn matches(&self, s: &Secret) -> bool {
        self.matches_with(s, None)
    }

    pub fn matches_with(&self, s: &Secret, facts: Option<&SecretFacts>) -> bool {
        match self {
            Expr::And(items) => items.iter().all(|e| e.matches_with(s, facts)),
            Expr::Or(items) => items.iter().any(|e| e.matches_with(s, facts)),
            Expr::Not(e) => !e.matches_with(s, facts),
            Expr::Term(t) => t.matches_with(s, facts),
        }
    }
}

/// `!e` is `Expr::Not(Box::new(e))`.
impl std::ops::Not for Expr {
    type Output = Expr;

    fn not(self) -> Expr {
        Expr::Not(Box::new(self))
    }
}

impl Value {
    pub fn new(raw: impl Into<String>) -> Value {
        let raw = raw.into();
        Value {
            lower: raw.to_lowercase(),
            wildcards: glob::has_wildcards(&raw),
            raw,
        }
    }

    /// As written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Lower case, as matched.
    pub fn lower(&self) -> &str {
        &self.lower
    }

    /// Holds `*` or `?` (meaningful for name, tag values, region, account, service).
    pub fn is_glob(&self) -> bool {
        self.wildcards
    }

    pub(super) fn is_in(&self, haystack: &str) -> bool {
        glob::contains(haystack, &self.lower)
    }

    pub(super) fn exact(&self, haystack: &str) -> bool {
        glob::equals(haystack, &self.lower)
    }

    pub(super) fn exact_or_glob(&self, haystack: &str) -> bool {
        if self.wildcards {
            glob::glob(haystack, &self.lower)
        } else {
            glob::equals(haystack, &self.lower)
        }
    }

    /// For the already lowercased text of a [`SearchIndex`].
    pub(super) fn exact_or_glob_lowered(&self, lowered: &str) -> bool {
        if self.wildcards {
            glob::glob_lowered(lowered, &self.lower)
        } else {
            lowered == self.lower
        }
    }

    pub(super) fn prefix_or_glob_lowered(&self, lowered: &str) -> bool {
        if self.wildcards {
            glob::glob_lowered(lowered, &self.lower)
        } else {
            lowered.starts_with(&self.lower)
        }
    }

    pub(super) fn prefix_or_glob(&self, haystack: &str) -> bool {
        if self.wildcards {
            glob::glob(haystack, &self.lower)
        } else {
            glob::starts_with(haystack, &self.lower)
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Value({:?})", self.raw)
    }
}

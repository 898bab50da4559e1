//! Searching the inventory: the query language of `/secrets?q=…`.
//!
//! ```text
//! query   = [ or ]                          empty or blank: every secret
//! or      = and { "OR" and }                OR binds looser than AND
//! and     = unary { unary }                 terms side by side: all must match
//! unary   = ("-" | "!") unary | primary     negation, written right against its term
//! primary = "(" or ")" | "\"phrase\"" | field ":" value | word
//! field   = name | tag | region | account | kms | rotation | deleted | service
//!         | health | rule | suppressed | rotated | next | step
//! ```
//!
//! | term | matches |
//! | --- | --- |
//! | `word`, `"a phrase"` | substring of the name, the description or any tag value |
//! | `name:prod/payments` | names starting with it; with `*` or `?` a glob over the whole name |
//! | `tag:env` | secrets with the tag key `env` |
//! | `tag:owner=alice` | that key with that value (exactly, or a glob); `tag:owner=""` an empty value |
//! | `region:eu-west-1`, `account:1234…` | exactly, or a glob |
//! | `kms:default`, `kms:cmk`, `kms:alias/x` | AWS managed key, customer managed key, or part of the key id/ARN/alias |
//! | `rotation:on\|off`, `deleted:yes\|no` | rotation enabled; scheduled for deletion |
//! | `service:rds`, `service:none` | owning service prefix (or glob); not managed by a service |
//! | `health:critical` … `health:info`, `health:ok` | worst active (not suppressed) finding is exactly that severity; `ok`: none |
//! | `health:high+` | worst active finding is that severity or worse |
//! | `rule:rotation-failed` | an active finding of that rule (ids in `domain::health`) |
//! | `suppressed:yes\|no` | some finding is suppressed by a tag |
//! | `rotated:<30d`, `rotated:>90d`, `rotated:never`, `rotated:2026-11-02` | last rotated less than / at least N days ago, never, on that UTC day |
//! | `next:<30d`, `next:>30d`, `next:never`, `next:2026-12-01` | next scheduled rotation within N days from now (past dates included), further out, none, on that day |
//! | `step:setSecret`, `step:set`, `step:any` | the rotation pending now failed at that step of the Lambda (`createSecret`, `setSecret`, `testSecret`, `finishSecret`, any case, `Secret` optional); `any` (or `*`): at a known step |
//!
//! Matching ignores case everywhere (field names, tag keys and values). Values
//! end at white space or a parenthesis; quote them otherwise
//! (`tag:owner="Alice Smith"`, with `\"` and `\\` inside quotes). A quoted
//! value is never a keyword: `service:"none"` looks for a service named
//! "none…", `kms:"default"` for a key id containing "default". `OR` is a
//! keyword only in upper case; quote it (`"OR"`) to search for the word.
//!
//! Parsing never panics: every mistake is a [`ParseError`] that says where
//! (in characters), what was wrong and what would have been accepted.
//!
//! The health and date terms need facts a secret does not carry (its rule
//! summary and the current time): [`Query::select_with`] and
//! [`Query::matches_with`] take them; without facts those terms match
//! nothing.
//!
//! Values are lowercased once, at parse time, so that [`Query::matches`]
//! allocates nothing for ASCII text (see [`super::glob`]). To filter a whole
//! inventory, build a [`SearchIndex`] with each snapshot and call
//! [`Query::select`]: same answers, and over 100,000 secrets about 1–5 ms
//! instead of 20–90 ms, because `matches` spends its time following the
//! pointers from each `Secret` to its strings, not comparing them.

use super::glob;
use super::health::{RuleId, Severity, Summary};
use super::rotation_failure::RotationStep;
use super::{Secret, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt::{self, Write as _};

/// The field names, in the order error messages list them.
pub const FIELDS: [&str; 14] = [
    "name",
    "tag",
    "region",
    "account",
    "kms",
    "rotation",
    "deleted",
    "service",
    "health",
    "rule",
    "suppressed",
    "rotated",
    "next",
    "step",
];

const DAY: i64 = 86_400;

/// Parentheses and negations nested deeper than this are refused, so that
/// parsing, printing and matching never exhaust the stack.
pub const MAX_DEPTH: usize = 64;

/// The longest search accepted, in characters: a search box line, with room.
/// Longer input is refused with a sentence before it is parsed, so no one
/// search can hold the server (or make every facet link repeat megabytes).
pub const MAX_QUERY_CHARS: usize = 2_000;

/// The most terms one search may have (each text, field or quoted term).
pub const MAX_TERMS: usize = 64;

/// The key id a secret without one is encrypted with, for `kms:<text>`.
const AWS_MANAGED_KEY: &str = "alias/aws/secretsmanager";

/// A parsed query. The default (and the parse of a blank input) matches
/// every secret.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    root: Option<Expr>,
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
    raw: String,
    lower: String,
    wildcards: bool,
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

impl Term {
    /// The field name (`"name"`, `"tag"`, …), or `None` for free text.
    pub fn field(&self) -> Option<&'static str> {
        Some(match self {
            Term::Text(_) => return None,
            Term::Name(_) => "name",
            Term::Tag { .. } => "tag",
            Term::Region(_) => "region",
            Term::Account(_) => "account",
            Term::Kms(_) => "kms",
            Term::Rotation(_) => "rotation",
            Term::Deleted(_) => "deleted",
            Term::Service(_) => "service",
            Term::Health { .. } => "health",
            Term::Rule(_) => "rule",
            Term::Suppressed(_) => "suppressed",
            Term::Rotated(_) => "rotated",
            Term::Next(_) => "next",
            Term::Step(_) => "step",
        })
    }

    /// Whether the term reads [`Facts`] rather than the secret alone.
    pub fn needs_facts(&self) -> bool {
        matches!(
            self,
            Term::Health { .. }
                | Term::Rule(_)
                | Term::Suppressed(_)
                | Term::Rotated(_)
                | Term::Next(_)
        )
    }

    pub fn matches(&self, s: &Secret) -> bool {
        self.matches_with(s, None)
    }

    pub fn matches_with(&self, s: &Secret, facts: Option<&SecretFacts>) -> bool {
        if self.needs_facts() {
            return facts.is_some_and(|f| self.matches_facts(s, f.now, f.health));
        }
        match self {
            Term::Text(v) => {
                v.is_in(&s.name)
                    || s.description.as_deref().is_some_and(|d| v.is_in(d))
                    || s.tags.iter().any(|t| v.is_in(&t.value))
            }
            Term::Name(v) => v.prefix_or_glob(&s.name),
            Term::Tag { key, value: None } => s.tags.iter().any(|t| key.exact(&t.key)),
            Term::Tag {
                key,
                value: Some(value),
            } => s
                .tags
                .iter()
                .any(|t| key.exact(&t.key) && value.exact_or_glob(&t.value)),
            Term::Region(v) => v.exact_or_glob(&s.region),
            Term::Account(v) => v.exact_or_glob(&s.account),
            Term::Kms(Kms::Default) => s.uses_default_kms_key(),
            Term::Kms(Kms::Customer) => !s.uses_default_kms_key(),
            Term::Kms(Kms::Contains(v)) => {
                v.is_in(s.kms_key_id.as_deref().unwrap_or(AWS_MANAGED_KEY))
            }
            Term::Rotation(on) => s.rotation_enabled == *on,
            Term::Deleted(yes) => s.deleted.is_some() == *yes,
            Term::Service(Service::Unmanaged) => s.owning_service.is_none(),
            Term::Service(Service::Prefix(v)) => s
                .owning_service
                .as_deref()
                .is_some_and(|o| v.prefix_or_glob(o)),
            Term::Step(want) => step_matches(*want, failed_step(s)),
            Term::Health { .. }
            | Term::Rule(_)
            | Term::Suppressed(_)
            | Term::Rotated(_)
            | Term::Next(_) => false,
        }
    }

    /// The health and date terms; false for the others.
    fn matches_facts(&self, s: &Secret, now: Timestamp, health: Summary) -> bool {
        match self {
            Term::Health {
                worst: None,
                or_worse: _,
            } => health.worst.is_none(),
            Term::Health {
                worst: Some(want),
                or_worse,
            } => match health.worst {
                Some(w) if *or_worse => w >= *want,
                Some(w) => w == *want,
                None => false,
            },
            Term::Rule(id) => health.active().contains(*id),
            Term::Suppressed(yes) => health.suppressed.is_empty() != *yes,
            Term::Rotated(when) => when.matches(s.last_rotated, now, false),
            Term::Next(when) => when.matches(s.next_rotation, now, true),
            _ => false,
        }
    }
}

/// The step the rotation pending on `s` failed at, when a failure is seen
/// for it and names its step: what `step:` reads (and [`SearchIndex`] keeps).
fn failed_step(s: &Secret) -> Option<RotationStep> {
    s.seen_failure().and_then(|f| f.step)
}

/// `step:` (`want`; `None` for any) against a secret's failed step.
fn step_matches(want: Option<RotationStep>, got: Option<RotationStep>) -> bool {
    got.is_some_and(|got| want.is_none_or(|w| w == got))
}

impl When {
    /// `future`: N days ahead of `now` (for `next:`) rather than behind.
    fn matches(self, date: Option<Timestamp>, now: Timestamp, future: bool) -> bool {
        let Some(d) = date else {
            return self == When::Never;
        };
        // How far the date is from now, in the direction of the field.
        let distance = if future {
            d.secs() - now.secs()
        } else {
            now.secs() - d.secs()
        };
        match self {
            When::Never => false,
            When::Within(days) => distance < i64::from(days) * DAY,
            When::Beyond(days) => distance >= i64::from(days) * DAY,
            When::Day(start) => (start..start + DAY).contains(&d.secs()),
        }
    }

    fn parse(lower: &str) -> Option<When> {
        if lower == "never" {
            return Some(When::Never);
        }
        let days = |rest: &str| rest.strip_suffix('d').and_then(|n| n.parse::<u32>().ok());
        if let Some(rest) = lower.strip_prefix('<') {
            return days(rest).map(When::Within);
        }
        if let Some(rest) = lower.strip_prefix('>') {
            return days(rest).map(When::Beyond);
        }
        let day = chrono::NaiveDate::parse_from_str(lower, "%Y-%m-%d").ok()?;
        Some(When::Day(day.and_hms_opt(0, 0, 0)?.and_utc().timestamp()))
    }
}

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            When::Never => f.write_str("never"),
            When::Within(d) => write!(f, "<{d}d"),
            When::Beyond(d) => write!(f, ">{d}d"),
            When::Day(start) => f.write_str(&Timestamp::new(*start).date()),
        }
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

    fn is_in(&self, haystack: &str) -> bool {
        glob::contains(haystack, &self.lower)
    }

    fn exact(&self, haystack: &str) -> bool {
        glob::equals(haystack, &self.lower)
    }

    fn exact_or_glob(&self, haystack: &str) -> bool {
        if self.wildcards {
            glob::glob(haystack, &self.lower)
        } else {
            glob::equals(haystack, &self.lower)
        }
    }

    /// For the already lowercased text of a [`SearchIndex`].
    fn exact_or_glob_lowered(&self, lowered: &str) -> bool {
        if self.wildcards {
            glob::glob_lowered(lowered, &self.lower)
        } else {
            lowered == self.lower
        }
    }

    fn prefix_or_glob_lowered(&self, lowered: &str) -> bool {
        if self.wildcards {
            glob::glob_lowered(lowered, &self.lower)
        } else {
            lowered.starts_with(&self.lower)
        }
    }

    fn prefix_or_glob(&self, haystack: &str) -> bool {
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

impl std::error::Error for ParseError {}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {}: {}", self.position, self.message)?;
        match self.expected.as_slice() {
            [] => Ok(()),
            [one] => write!(f, "; expected {one}"),
            many => write!(f, "; expected one of {}", many.join(", ")),
        }
    }
}

// ---------------------------------------------------------------------------
// Canonical text

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.root {
            None => Ok(()),
            Some(e) => e.fmt(f),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::And(items) => {
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_char(' ')?;
                    }
                    match e {
                        Expr::And(_) | Expr::Or(_) => write!(f, "({e})")?,
                        _ => e.fmt(f)?,
                    }
                }
                Ok(())
            }
            Expr::Or(items) => {
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" OR ")?;
                    }
                    match e {
                        Expr::Or(_) => write!(f, "({e})")?,
                        _ => e.fmt(f)?,
                    }
                }
                Ok(())
            }
            Expr::Not(e) => match &**e {
                Expr::And(_) | Expr::Or(_) => write!(f, "-({e})"),
                _ => write!(f, "-{e}"),
            },
            Expr::Term(t) => t.fmt(f),
        }
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(field) = self.field() {
            write!(f, "{field}:")?;
        }
        match self {
            Term::Text(v) => {
                let r = &v.raw;
                let quote = r.starts_with(['-', '!']) || r == "OR" || r.contains(':');
                write_value(f, r, quote)
            }
            Term::Name(v) | Term::Region(v) | Term::Account(v) => write_value(f, &v.raw, false),
            Term::Tag { key, value } => {
                write_value(f, &key.raw, key.raw.contains('='))?;
                match value {
                    None => Ok(()),
                    Some(v) => {
                        f.write_char('=')?;
                        // An empty tag value is written `""`, which write_value does.
                        write_value(f, &v.raw, false)
                    }
                }
            }
            Term::Kms(Kms::Default) => f.write_str("default"),
            Term::Kms(Kms::Customer) => f.write_str("cmk"),
            Term::Kms(Kms::Contains(v)) => {
                let keyword = kms_keyword(&v.lower).is_some() || kms_typo(&v.raw);
                write_value(f, &v.raw, keyword)
            }
            Term::Rotation(on) => f.write_str(if *on { "on" } else { "off" }),
            Term::Deleted(yes) => f.write_str(if *yes { "yes" } else { "no" }),
            Term::Service(Service::Unmanaged) => f.write_str("none"),
            Term::Service(Service::Prefix(v)) => write_value(f, &v.raw, v.lower == "none"),
            Term::Health { worst, or_worse } => {
                f.write_str(worst.map_or("ok", |s| s.as_str()))?;
                if *or_worse && worst.is_some() {
                    f.write_char('+')?;
                }
                Ok(())
            }
            Term::Rule(id) => f.write_str(id.as_str()),
            Term::Suppressed(yes) => f.write_str(if *yes { "yes" } else { "no" }),
            Term::Rotated(w) | Term::Next(w) => w.fmt(f),
            Term::Step(step) => f.write_str(step.map_or(STEP_ANY, RotationStep::as_str)),
        }
    }
}

/// Writes `raw` bare when the parser would read it back unchanged, else quoted.
fn write_value(f: &mut fmt::Formatter<'_>, raw: &str, force_quotes: bool) -> fmt::Result {
    if !force_quotes && !raw.is_empty() && !raw.chars().any(ends_bare) {
        return f.write_str(raw);
    }
    f.write_char('"')?;
    for c in raw.chars() {
        if c == '"' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

/// Characters that end an unquoted word or value.
fn ends_bare(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"')
}

fn kms_keyword(lower: &str) -> Option<Kms> {
    match lower {
        "default" => Some(Kms::Default),
        "cmk" => Some(Kms::Customer),
        _ => None,
    }
}

/// An unquoted `kms:` value that is probably a misspelt `default` (letters
/// only, within two edits): refused rather than silently searched for.
fn kms_typo(raw: &str) -> bool {
    let lower = raw.to_lowercase();
    raw.chars().all(|c| c.is_ascii_alphabetic())
        && lower != "default"
        && edit_distance(&lower, "default") <= 2
}

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
}

/// No value (a secret without a description or an owning service).
const NONE: u32 = u32::MAX;

const ROTATION: u8 = 1;
const DELETED: u8 = 2;
const DEFAULT_KMS: u8 = 4;

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
#[derive(Default)]
struct Interner {
    strings: Strings,
    ids: std::collections::HashMap<String, u32>,
    buffer: String,
}

impl Interner {
    fn intern(&mut self, s: &str) -> u32 {
        self.buffer.clear();
        if s.is_ascii() {
            self.buffer
                .extend(s.bytes().map(|b| char::from(b.to_ascii_lowercase())));
        } else {
            self.buffer.push_str(&s.to_lowercase());
        }
        if let Some(&id) = self.ids.get(self.buffer.as_str()) {
            return id;
        }
        let id = self.strings.push(&self.buffer);
        self.ids.insert(self.buffer.clone(), id);
        id
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
    fn new(strings: &'a Strings) -> Memo<'a> {
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
        let mut ix = SearchIndex::default();
        let mut descriptions = Interner::default();
        let mut regions = Interner::default();
        let mut accounts = Interner::default();
        let mut kms_keys = Interner::default();
        let mut services = Interner::default();
        let mut tag_keys = Interner::default();
        let mut tag_values = Interner::default();
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
            let mut flags = 0;
            for (on, bit) in [
                (s.rotation_enabled, ROTATION),
                (s.deleted.is_some(), DELETED),
                (s.uses_default_kms_key(), DEFAULT_KMS),
            ] {
                if on {
                    flags |= bit;
                }
            }
            ix.flags.push(flags);
            ix.steps.push(failed_step(s));
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
        ix
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
        let start = if i == 0 {
            0
        } else {
            self.tag_ends[i - 1] as usize
        };
        self.tags
            .get(start..self.tag_ends[i] as usize)
            .unwrap_or(&[])
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
            Term::Health { .. }
            | Term::Rule(_)
            | Term::Suppressed(_)
            | Term::Rotated(_)
            | Term::Next(_) => unreachable!("handled above"),
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
            | Expr::Term(Term::Service(Service::Unmanaged) | Term::Step(_))
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

/// A set of row numbers below `len`.
#[derive(Clone)]
struct Bits {
    words: Vec<u64>,
    len: usize,
}

impl Bits {
    fn empty(len: usize) -> Bits {
        Bits {
            words: vec![0; len.div_ceil(64)],
            len,
        }
    }

    fn full(len: usize) -> Bits {
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

    fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }

    fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    fn ones(&self) -> impl Iterator<Item = usize> + '_ {
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

// ---------------------------------------------------------------------------
// Facets

/// Adds or removes one term for tag facets: returns the query text with
/// `tag:KEY=VALUE` (or `-tag:KEY` for "missing", when `value` is `None`)
/// added, or removed if present among the top-level terms (compared without
/// regard to case). The rest of the query keeps its text; only the spacing
/// between top-level terms is normalised when a term is removed.
pub fn toggle_tag_term(input: &str, key: &str, value: Option<&str>) -> String {
    let tag = Expr::Term(Term::Tag {
        key: Value::new(key),
        value: value.map(Value::new),
    });
    let term = if value.is_some() { tag } else { !tag };
    let (key_lower, value_lower) = (key.to_lowercase(), value.map(str::to_lowercase));
    let is_target = |e: &Expr| match (e, &value_lower) {
        (
            Expr::Term(Term::Tag {
                key,
                value: Some(v),
            }),
            Some(want),
        ) => key.lower == key_lower && v.lower == *want,
        (Expr::Not(inner), None) => matches!(
            &**inner,
            Expr::Term(Term::Tag { key, value: None }) if key.lower == key_lower
        ),
        _ => false,
    };
    toggle_term(input, term, is_target)
}

/// Adds or removes `account:VALUE` (`region` false) or `region:VALUE`
/// (`region` true), as [`toggle_tag_term`] does for tags.
pub fn toggle_place_term(input: &str, region: bool, value: &str) -> String {
    let v = Value::new(value);
    let lower = v.lower.clone();
    let term = Expr::Term(if region {
        Term::Region(v)
    } else {
        Term::Account(v)
    });
    let is_target = |e: &Expr| match e {
        Expr::Term(Term::Region(v)) if region => v.lower == lower,
        Expr::Term(Term::Account(v)) if !region => v.lower == lower,
        _ => false,
    };
    toggle_term(input, term, is_target)
}

/// `term` added to the top-level terms of `input`, or every top-level term
/// `is_target` accepts removed when there is one.
fn toggle_term(input: &str, term: Expr, is_target: impl Fn(&Expr) -> bool) -> String {
    let term_text = term.to_string();
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return term_text;
    }

    if Query::parse(input).is_err() {
        // Keep the user's text as it is: drop the term if it is there word
        // for word, add it otherwise.
        let words: Vec<&str> = input.split_whitespace().collect();
        if words.contains(&term_text.as_str()) {
            let kept: Vec<&str> = words.into_iter().filter(|w| *w != term_text).collect();
            return kept.join(" ");
        }
        return format!("{trimmed} {term_text}");
    }

    let mut p = Parser::new(input);
    let Ok(items) = p.parse_and_items(None) else {
        return format!("{trimmed} {term_text}");
    };
    p.skip_ws();
    if !p.eof() {
        // A top-level OR: the new term applies to all of it.
        return format!("({trimmed}) {term_text}");
    }
    if items.iter().any(|it| is_target(&it.expr)) {
        let kept: Vec<String> = items
            .iter()
            .filter(|it| !is_target(&it.expr))
            .map(|it| p.chars[it.start..it.end].iter().collect())
            .collect();
        kept.join(" ")
    } else {
        format!("{trimmed} {term_text}")
    }
}

// ---------------------------------------------------------------------------
// Parser

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
    /// Terms read so far (at most [`MAX_TERMS`]).
    terms: usize,
}

/// A top-level term with its character span, for `toggle_tag_term`.
struct Item {
    expr: Expr,
    start: usize,
    end: usize,
}

fn error(position: usize, message: impl Into<String>, expected: &[&str]) -> ParseError {
    ParseError {
        position,
        message: message.into(),
        expected: expected.iter().map(|s| s.to_string()).collect(),
    }
}

const A_TERM: &[&str] = &["a term"];

impl Parser {
    fn new(input: &str) -> Parser {
        Parser {
            chars: input.chars().collect(),
            pos: 0,
            depth: 0,
            terms: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn eof(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// At the keyword `OR` (upper case, standing alone).
    fn at_or(&self) -> bool {
        self.chars.get(self.pos) == Some(&'O')
            && self.chars.get(self.pos + 1) == Some(&'R')
            && self.chars.get(self.pos + 2).is_none_or(|&c| ends_bare(c))
    }

    fn enter(&mut self, at: usize) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(error(
                at,
                format!("too deeply nested: at most {MAX_DEPTH} parentheses and negations inside one another"),
                &[],
            ));
        }
        Ok(())
    }

    fn parse_query(&mut self) -> Result<Query, ParseError> {
        self.skip_ws();
        if self.eof() {
            return Ok(Query::default());
        }
        let root = self.parse_or(None)?;
        self.skip_ws();
        if !self.eof() {
            // parse_or stops only at the end or at a ')' it did not open.
            return Err(self.unmatched_close());
        }
        Ok(Query { root: Some(root) })
    }

    fn unmatched_close(&self) -> ParseError {
        error(
            self.pos,
            "unmatched \")\": there is no \"(\" before it to close",
            &["a term", "OR", "the end of the query"],
        )
    }

    /// `open`: where the enclosing `(` is, if any.
    fn parse_or(&mut self, open: Option<usize>) -> Result<Expr, ParseError> {
        let mut branches = vec![self.parse_and(open)?];
        loop {
            self.skip_ws();
            if !self.at_or() {
                break;
            }
            let or_pos = self.pos;
            self.pos += 2;
            self.skip_ws();
            if self.eof() || self.peek() == Some(')') || self.at_or() {
                return Err(error(or_pos, "\"OR\" needs a term after it", A_TERM));
            }
            branches.push(self.parse_and(open)?);
        }
        Expr::or(branches).ok_or_else(|| error(self.pos, "expected a term", A_TERM))
    }

    fn parse_and(&mut self, open: Option<usize>) -> Result<Expr, ParseError> {
        let items = self.parse_and_items(open)?;
        Expr::and(items.into_iter().map(|it| it.expr))
            .ok_or_else(|| error(self.pos, "expected a term", A_TERM))
    }

    /// Terms up to the end, a `)` or an `OR`. Never empty when it succeeds,
    /// except for an input with nothing left outside any parenthesis.
    fn parse_and_items(&mut self, open: Option<usize>) -> Result<Vec<Item>, ParseError> {
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            if self.eof() || self.peek() == Some(')') || self.at_or() {
                break;
            }
            let start = self.pos;
            let expr = self.parse_unary()?;
            items.push(Item {
                expr,
                start,
                end: self.pos,
            });
        }
        if items.is_empty() {
            if self.at_or() {
                return Err(error(self.pos, "\"OR\" needs a term before it", A_TERM));
            }
            match (open, self.peek()) {
                (Some(open), Some(')')) => {
                    return Err(error(open, "empty parentheses: put a term inside", A_TERM))
                }
                (None, Some(')')) => return Err(self.unmatched_close()),
                (Some(open), None) => return Err(self.unclosed(open)),
                // At the end of the input outside any parenthesis: nothing to
                // parse, which callers handle (the loop stops nowhere else).
                _ => {}
            }
        }
        Ok(items)
    }

    fn unclosed(&self, open: usize) -> ParseError {
        error(
            open,
            "unclosed \"(\": add a \")\" to close it",
            &["a closing parenthesis"],
        )
    }

    fn parse_unary(&mut self) -> Result<Expr, ParseError> {
        match self.peek() {
            Some(c @ ('-' | '!')) => {
                let at = self.pos;
                self.pos += 1;
                if self.peek().is_none_or(|c| c.is_whitespace() || c == ')') || self.at_or() {
                    return Err(error(
                        at,
                        format!("nothing to negate: write \"{c}\" right before a term, as in {c}tag:owner"),
                        A_TERM,
                    ));
                }
                self.enter(at)?;
                let inner = self.parse_unary()?;
                self.depth -= 1;
                Ok(!inner)
            }
            _ => self.parse_primary(),
        }
    }

    fn parse_primary(&mut self) -> Result<Expr, ParseError> {
        if self.peek() != Some('(') {
            self.terms += 1;
            if self.terms > MAX_TERMS {
                return Err(error(
                    self.pos,
                    format!("too many terms: a search has at most {MAX_TERMS}; narrow it with fewer, more specific terms"),
                    &[],
                ));
            }
        }
        match self.peek() {
            Some('(') => {
                let open = self.pos;
                self.pos += 1;
                self.enter(open)?;
                let e = self.parse_or(Some(open))?;
                self.skip_ws();
                if self.peek() != Some(')') {
                    return Err(self.unclosed(open));
                }
                self.pos += 1;
                self.depth -= 1;
                Ok(e)
            }
            Some('"') => {
                let at = self.pos;
                let text = self.quoted()?;
                if text.is_empty() {
                    return Err(error(
                        at,
                        "empty quotes: put the text to search for between them",
                        &["text between the quotes"],
                    ));
                }
                Ok(Expr::Term(Term::Text(Value::new(text))))
            }
            _ => match self.field_name_end() {
                Some(end) => self.parse_field(end).map(Expr::Term),
                None => {
                    let at = self.pos;
                    let word = self.bare(false);
                    if word.is_empty() {
                        return Err(error(at, "expected a term", A_TERM));
                    }
                    Ok(Expr::Term(Term::Text(Value::new(word))))
                }
            },
        }
    }

    /// If the input here is `identifier:`, the index of the `:`.
    fn field_name_end(&self) -> Option<usize> {
        let first = self.peek()?;
        if !(first.is_ascii_alphabetic() || first == '_') {
            return None;
        }
        let mut i = self.pos + 1;
        while self
            .chars
            .get(i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
        {
            i += 1;
        }
        (self.chars.get(i) == Some(&':')).then_some(i)
    }

    /// Characters up to white space, a parenthesis, a quote (or `=`).
    fn bare(&mut self, stop_at_equals: bool) -> String {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| !(ends_bare(c) || (stop_at_equals && c == '=')))
        {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    /// A `"…"` string with `\"` and `\\` escapes; the parser is at its `"`.
    fn quoted(&mut self) -> Result<String, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(error(
                        open,
                        "unterminated quote: add a closing \" (write \\\" for a quote inside)",
                        &["a closing quote"],
                    ))
                }
                Some('"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('\\') => match self.chars.get(self.pos + 1) {
                    Some(&c @ ('"' | '\\')) => {
                        out.push(c);
                        self.pos += 2;
                    }
                    _ => {
                        out.push('\\');
                        self.pos += 1;
                    }
                },
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// A quoted or bare value: (text, was it quoted).
    fn value(&mut self, stop_at_equals: bool) -> Result<(String, bool), ParseError> {
        if self.peek() == Some('"') {
            Ok((self.quoted()?, true))
        } else {
            Ok((self.bare(stop_at_equals), false))
        }
    }

    fn parse_field(&mut self, colon: usize) -> Result<Term, ParseError> {
        let name_at = self.pos;
        let written: String = self.chars[name_at..colon].iter().collect();
        let name = written.to_ascii_lowercase();
        let Some(&field) = FIELDS.iter().find(|f| **f == name) else {
            let message = match closest(&name, &FIELDS) {
                Some(s) => format!("unknown field \"{written}\" (did you mean {s}?)"),
                None => format!(
                    "unknown field \"{written}\" (to search for text with a colon, quote it: \"{written}:…\")"
                ),
            };
            return Err(error(name_at, message, &FIELDS));
        };
        self.pos = colon + 1;
        if field == "tag" {
            return self.parse_tag();
        }
        let value_at = self.pos;
        let (raw, quoted) = self.value(false)?;
        if raw.is_empty() {
            return Err(error(
                value_at,
                format!("empty value after \"{field}:\""),
                expected_for(field),
            ));
        }
        let lower = raw.to_lowercase();
        let keyword = |accepted: &[&str]| -> Result<bool, ParseError> {
            match accepted.iter().position(|a| *a == lower) {
                Some(i) => Ok(i == 0),
                None => {
                    let mut message = format!("unknown value \"{raw}\" for {field}");
                    if let Some(s) = closest(&lower, accepted) {
                        write!(message, " (did you mean {s}?)").ok();
                    }
                    Err(error(value_at, message, accepted))
                }
            }
        };
        Ok(match field {
            "name" => Term::Name(Value::new(raw)),
            "region" => Term::Region(Value::new(raw)),
            "account" => Term::Account(Value::new(raw)),
            "rotation" => Term::Rotation(keyword(&["on", "off"])?),
            "deleted" => Term::Deleted(keyword(&["yes", "no"])?),
            "suppressed" => Term::Suppressed(keyword(&["yes", "no"])?),
            "health" => {
                let (word, or_worse) = match lower.strip_suffix('+') {
                    Some(w) => (w, true),
                    None => (lower.as_str(), false),
                };
                let worst = match word {
                    "ok" if !or_worse => None,
                    _ => match Severity::parse(word) {
                        Some(s) => Some(s),
                        None => {
                            let mut message = format!("unknown value \"{raw}\" for health");
                            if let Some(s) = closest(word, HEALTH_WORDS) {
                                write!(message, " (did you mean {s}?)").ok();
                            }
                            return Err(error(value_at, message, expected_for("health")));
                        }
                    },
                };
                Term::Health { worst, or_worse }
            }
            "rule" => match RuleId::parse(&lower) {
                Some(id) => Term::Rule(id),
                None => {
                    let ids: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
                    let mut message = format!("unknown rule \"{raw}\"");
                    if let Some(s) = closest(&lower, &ids) {
                        write!(message, " (did you mean {s}?)").ok();
                    }
                    return Err(error(value_at, message, &ids));
                }
            },
            "rotated" | "next" => match When::parse(&lower) {
                Some(w) if field == "rotated" => Term::Rotated(w),
                Some(w) => Term::Next(w),
                None => {
                    return Err(error(
                        value_at,
                        format!("cannot read \"{raw}\" as a date condition for {field}"),
                        expected_for(field),
                    ))
                }
            },
            "step" => match lower.as_str() {
                STEP_ANY | "*" => Term::Step(None),
                _ => match RotationStep::parse(&lower) {
                    Some(step) => Term::Step(Some(step)),
                    None => {
                        let mut message = format!("unknown rotation step \"{raw}\"");
                        if let Some(s) = closest_step(&lower) {
                            write!(message, " (did you mean {s}?)").ok();
                        }
                        return Err(error(value_at, message, expected_for("step")));
                    }
                },
            },
            "service" if !quoted && lower == "none" => Term::Service(Service::Unmanaged),
            "service" => Term::Service(Service::Prefix(Value::new(raw))),
            _kms if quoted => Term::Kms(Kms::Contains(Value::new(raw))),
            _kms => match kms_keyword(&lower) {
                Some(k) => Term::Kms(k),
                None if kms_typo(&raw) => {
                    return Err(error(
                        value_at,
                        format!(
                            "unknown kms keyword \"{raw}\" (did you mean default?); \
                             to search key ids for this text, quote it: kms:\"{raw}\""
                        ),
                        expected_for("kms"),
                    ))
                }
                None => Term::Kms(Kms::Contains(Value::new(raw))),
            },
        })
    }

    fn parse_tag(&mut self) -> Result<Term, ParseError> {
        let key_at = self.pos;
        let (key, _) = self.value(true)?;
        if key.is_empty() {
            return Err(error(
                key_at,
                "empty tag key after \"tag:\"",
                expected_for("tag"),
            ));
        }
        if self.peek() != Some('=') {
            return Ok(Term::Tag {
                key: Value::new(key),
                value: None,
            });
        }
        self.pos += 1;
        let value_at = self.pos;
        let (value, quoted) = self.value(false)?;
        if value.is_empty() && !quoted {
            let k = Expr::Term(Term::Tag {
                key: Value::new(key),
                value: None,
            });
            return Err(error(
                value_at,
                format!(
                    "missing value after \"{k}=\": write -{k} for secrets without this tag, \
                     {k} for any value, or {k}=\"\" for an empty value"
                ),
                &["a tag value or glob"],
            ));
        }
        Ok(Term::Tag {
            key: Value::new(key),
            value: Some(Value::new(value)),
        })
    }
}

const HEALTH_WORDS: &[&str] = &["ok", "critical", "high", "medium", "low", "info"];

/// `step:any`: a failure at a step the message names.
const STEP_ANY: &str = "any";

/// The step (as written canonically) or `any` nearest a misspelt `step:`
/// value, compared with the full and the short names (`setsecret`, `set`).
fn closest_step(lower: &str) -> Option<&'static str> {
    let mut names = vec![STEP_ANY];
    for step in RotationStep::ALL {
        let full = step.as_str();
        names.push(full);
        names.push(full.strip_suffix("Secret").unwrap_or(full));
    }
    let lowered: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
    let candidates: Vec<&str> = lowered.iter().map(String::as_str).collect();
    let near = closest(lower, &candidates)?;
    if near == STEP_ANY {
        return Some(STEP_ANY);
    }
    RotationStep::parse(near).map(RotationStep::as_str)
}

fn expected_for(field: &str) -> &'static [&'static str] {
    match field {
        "name" => &["a name, a name prefix or a glob like prod/*"],
        "tag" => &["a tag key"],
        "region" => &["a region like eu-west-1"],
        "account" => &["an account id"],
        "kms" => &["default", "cmk", "part of a key id, ARN or alias"],
        "rotation" => &["on", "off"],
        "deleted" | "suppressed" => &["yes", "no"],
        "health" => &[
            "ok",
            "critical",
            "high",
            "medium",
            "low",
            "info",
            "a severity followed by + (or worse)",
        ],
        "rule" => &["a rule id like rotation-failed"],
        "rotated" | "next" => &["<30d", ">90d", "never", "a day like 2026-12-01"],
        "step" => &[
            "createSecret",
            "setSecret",
            "testSecret",
            "finishSecret",
            "any",
        ],
        _service => &["none", "a service name prefix like rds"],
    }
}

/// The candidate nearest to `word` within two edits (and fewer edits than
/// its length, so that two-letter words are not "near" everything).
fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= 2 && *d < c.chars().count())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = substitution.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secret::fixtures::secret;
    use crate::domain::{Tag, Timestamp};
    use proptest::prelude::*;
    use std::sync::Arc;

    fn q(input: &str) -> Query {
        Query::parse(input).unwrap_or_else(|e| panic!("{input:?} should parse: {e}"))
    }

    fn m(input: &str, s: &Secret) -> bool {
        q(input).matches(s)
    }

    fn err(input: &str) -> ParseError {
        match Query::parse(input) {
            Ok(parsed) => panic!("{input:?} should not parse, got {parsed:?}"),
            Err(e) => e,
        }
    }

    /// Asserts an error's position, message and expected list together.
    fn assert_err(input: &str, position: usize, message: &str, expected: &[&str]) {
        let e = err(input);
        assert_eq!(
            (e.position, e.message.as_str(), e.expected.clone()),
            (
                position,
                message,
                expected.iter().map(|s| s.to_string()).collect::<Vec<_>>()
            ),
            "for {input:?}"
        );
    }

    fn tagged(name: &str, tags: &[(&str, &str)]) -> Secret {
        crate::domain::secret::fixtures::tagged(name, tags)
    }

    /// When the failures of [`failing`] are recorded.
    const FAILED_AT: i64 = 1_800_000_000;

    /// `s` with an AWSPENDING version (created ten minutes before
    /// [`FAILED_AT`]) and a failure at `step`; `for_pending`: the failure
    /// is about that version (recorded at `FAILED_AT`), else it is older
    /// than the version, so it does not apply to the rotation pending now.
    fn failing(mut s: Secret, step: Option<RotationStep>, for_pending: bool) -> Secret {
        s.versions.push(crate::domain::Version {
            id: crate::domain::VersionId::parse("v2"),
            labels: [crate::domain::Label::Pending].into_iter().collect(),
            created: Some(Timestamp::new(FAILED_AT - 600)),
            last_accessed: None,
        });
        let at = if for_pending {
            FAILED_AT
        } else {
            FAILED_AT - 1_200
        };
        s.failure = Some(Arc::new(crate::domain::rotation_failure::RotationFailure {
            at: Timestamp::new(at),
            step,
            attempt: 1,
            message: step.map(|st| format!("failed at {st}: boom")),
        }));
        s
    }

    mod steps {
        use super::*;

        const SET: Option<RotationStep> = Some(RotationStep::SetSecret);

        #[test]
        fn step_terms_parse_print_and_round_trip() {
            for (input, canonical) in [
                ("step:setSecret", "step:setSecret"),
                ("step:setsecret", "step:setSecret"),
                ("STEP:SETSECRET", "step:setSecret"),
                ("step:set", "step:setSecret"),
                ("step:Create", "step:createSecret"),
                ("step:test", "step:testSecret"),
                ("step:finishSecret", "step:finishSecret"),
                ("step:\"set\"", "step:setSecret"),
                ("step:any", "step:any"),
                ("step:ANY", "step:any"),
                ("step:*", "step:any"),
                ("-step:setSecret", "-step:setSecret"),
                ("!step:any", "-step:any"),
                (
                    "step:set OR step:test name:prod/*",
                    "step:setSecret OR step:testSecret name:prod/*",
                ),
            ] {
                let parsed = q(input);
                assert_eq!(parsed.to_string(), canonical, "for {input:?}");
                assert_eq!(q(canonical), parsed, "{canonical:?} reads back the same");
                assert!(!parsed.needs_facts(), "the secret carries its failure");
            }
            for step in RotationStep::ALL {
                let term = Expr::Term(Term::Step(Some(step)));
                assert_eq!(term.to_string(), format!("step:{step}"));
                assert_eq!(q(&term.to_string()).root(), Some(&term));
            }
            assert_eq!(q("step:set").root(), Some(&Expr::Term(Term::Step(SET))));
            assert_eq!(q("step:any").root(), Some(&Expr::Term(Term::Step(None))));
            let Some(Expr::Term(t)) = q("step:any").root().cloned() else {
                unreachable!()
            };
            assert_eq!(t.field(), Some("step"));
        }

        #[test]
        fn step_matches_the_failure_seen_for_the_pending_rotation() {
            let s = failing(secret("prod/db"), SET, true);
            assert_eq!(
                s.seen_failure().and_then(|f| f.step),
                SET,
                "the fixture applies"
            );
            for yes in [
                "step:setSecret",
                "step:setsecret",
                "step:SetSecret",
                "step:set",
                "step:any",
                "step:*",
                "-step:testSecret",
                "step:set name:prod/*",
                "step:create OR step:set",
            ] {
                assert!(m(yes, &s), "{yes} should match");
            }
            for no in [
                "step:testSecret",
                "step:create",
                "step:finish",
                "-step:setSecret",
                "!step:set",
                "-step:any",
                "step:set name:dev/*",
            ] {
                assert!(!m(no, &s), "{no} should not match");
            }
        }

        #[test]
        fn step_needs_a_seen_failure_with_a_known_step() {
            let plain = secret("prod/db");
            let unnamed = failing(secret("prod/db"), None, true);
            assert!(unnamed.seen_failure().is_some());
            // A failure older than the pending version is about another rotation.
            let stale = failing(secret("prod/db"), SET, false);
            assert!(stale.failure.is_some() && stale.seen_failure().is_none());
            // Once AWSPENDING is gone (cleared, or the rotation finished), the
            // failure no longer applies either.
            let mut cleared = failing(secret("prod/db"), SET, true);
            cleared.versions.pop();
            assert!(cleared.seen_failure().is_none());
            for s in [&plain, &unnamed, &stale, &cleared] {
                assert!(!m("step:any", s) && !m("step:set", s), "{s:?}");
                assert!(m("-step:any", s) && m("-step:set", s), "{s:?}");
            }
        }

        #[test]
        fn unknown_steps_are_refused_with_the_four_names() {
            let steps = expected_for("step");
            assert_eq!(
                steps,
                [
                    "createSecret",
                    "setSecret",
                    "testSecret",
                    "finishSecret",
                    "any"
                ]
            );
            assert_err(
                "step:sett",
                5,
                "unknown rotation step \"sett\" (did you mean setSecret?)",
                steps,
            );
            assert_err(
                "prod step:tesSecret",
                10,
                "unknown rotation step \"tesSecret\" (did you mean testSecret?)",
                steps,
            );
            assert_err(
                "step:finsh",
                5,
                "unknown rotation step \"finsh\" (did you mean finishSecret?)",
                steps,
            );
            assert_err(
                "step:an",
                5,
                "unknown rotation step \"an\" (did you mean any?)",
                steps,
            );
            assert_err("step:rotate", 5, "unknown rotation step \"rotate\"", steps);
            // No globs: the steps are few, and `any` (or `*`) covers them all.
            assert_err(
                "step:set*",
                5,
                "unknown rotation step \"set*\" (did you mean setSecret?)",
                steps,
            );
            assert_err("step:", 5, "empty value after \"step:\"", steps);
            assert_eq!(
                err("step:lambda").to_string(),
                "at 5: unknown rotation step \"lambda\"; expected one of \
                 createSecret, setSecret, testSecret, finishSecret, any"
            );
            assert_err(
                "stpe:set",
                0,
                "unknown field \"stpe\" (did you mean step?)",
                &FIELDS,
            );
        }

        #[test]
        fn index_selects_by_step_as_matches_does() {
            let secrets = [
                failing(secret("prod/a"), SET, true),
                failing(secret("prod/b"), Some(RotationStep::TestSecret), true),
                failing(secret("prod/c"), None, true),
                failing(secret("prod/d"), SET, false),
                secret("prod/e"),
                failing(tagged("dev/f", &[("owner", "alice")]), SET, true),
            ];
            let index = SearchIndex::new(&secrets);
            for (input, want) in [
                ("step:setSecret", vec![0, 5]),
                ("step:set tag:owner", vec![5]),
                ("step:test", vec![1]),
                ("step:any", vec![0, 1, 5]),
                ("-step:any", vec![2, 3, 4]),
                ("-step:set", vec![1, 2, 3, 4]),
                ("step:create OR step:finish", vec![]),
                ("step:test OR name:prod/e", vec![1, 4]),
            ] {
                assert_eq!(q(input).select(&index), want, "select, for {input:?}");
                let by_matches: Vec<usize> = (0..secrets.len())
                    .filter(|i| q(input).matches(&secrets[*i]))
                    .collect();
                assert_eq!(by_matches, want, "matches, for {input:?}");
            }
        }
    }

    mod facts {
        use super::*;
        use crate::domain::health::{self, HealthConfig, RuleSet};

        const NOW: i64 = 1_800_000_000;

        fn summary(worst: Option<Severity>, active: &[RuleId], suppressed: &[RuleId]) -> Summary {
            let mut fired: RuleSet = active.iter().copied().collect();
            for id in suppressed {
                fired.insert(*id);
            }
            Summary {
                fired,
                suppressed: suppressed.iter().copied().collect(),
                worst,
            }
        }

        fn at(input: &str, s: &Secret, health: Summary) -> bool {
            let facts = SecretFacts {
                now: Timestamp::new(NOW),
                health,
            };
            q(input).matches_with(s, Some(&facts))
        }

        #[test]
        fn parse_print_and_errors() {
            for input in [
                "health:ok",
                "health:critical",
                "health:high+",
                "rule:rotation-failed",
                "suppressed:yes",
                "rotated:<30d",
                "rotated:>90d",
                "rotated:never",
                "next:2026-12-01",
                "-rule:unused health:low+",
            ] {
                assert_eq!(q(input).to_string(), input, "round trip");
                assert!(q(input).needs_facts(), "{input}");
            }
            assert_eq!(
                q("HEALTH:High+ RULE:Unused").to_string(),
                "health:high+ rule:unused"
            );
            assert!(!q("name:prod rotation:on").needs_facts());
            assert_err(
                "health:hihg",
                7,
                "unknown value \"hihg\" for health (did you mean high?)",
                expected_for("health"),
            );
            assert_eq!(
                err("health:ok+").position,
                7,
                "ok has nothing worse-or-equal form"
            );
            let e = err("rule:rotaton-failed");
            assert_eq!(
                e.message,
                "unknown rule \"rotaton-failed\" (did you mean rotation-failed?)"
            );
            assert_eq!(e.expected.len(), RuleId::ALL.len(), "lists every rule id");
            for bad in [
                "rotated:30d",
                "rotated:<30",
                "next:<xd",
                "next:2026-13-01",
                "rotated:soon",
            ] {
                let e = err(bad);
                assert!(e.message.contains("date condition"), "{bad}: {e}");
                assert_eq!(e.expected, expected_for(bad.split(':').next().unwrap()));
            }
        }

        #[test]
        fn health_terms() {
            let s = secret("a");
            let crit = summary(
                Some(Severity::Critical),
                &[RuleId::RotationFailed, RuleId::Unused],
                &[RuleId::NoDescription],
            );
            assert!(at("health:critical", &s, crit));
            assert!(at("health:high+", &s, crit));
            assert!(at("health:critical+", &s, crit));
            assert!(!at("health:high", &s, crit), "exact severity");
            assert!(!at("health:ok", &s, crit));
            assert!(at("rule:unused rule:rotation-failed", &s, crit));
            assert!(
                !at("rule:no-description", &s, crit),
                "suppressed is not active"
            );
            assert!(at("suppressed:yes", &s, crit));
            let ok = summary(None, &[], &[RuleId::Unused]);
            assert!(at("health:ok", &s, ok));
            assert!(!at("health:info+", &s, ok));
            assert!(at("suppressed:yes -rule:unused", &s, ok));
            assert!(at("suppressed:no", &s, Summary::default()));
            let low = summary(Some(Severity::Low), &[RuleId::Unused], &[]);
            assert!(at("health:low", &s, low) && at("health:info+", &s, low));
            assert!(!at("health:medium+", &s, low));
            // Without facts, these terms match nothing (and their negation everything).
            assert!(!q("health:ok").matches(&s));
            assert!(q("-health:ok").matches(&s));
        }

        #[test]
        fn date_terms_at_their_boundaries() {
            let mut s = secret("a");
            let ago = |days: i64, extra: i64| Some(Timestamp::new(NOW - days * DAY + extra));
            let none = Summary::default();
            assert!(at("rotated:never", &s, none));
            assert!(!at("rotated:<30d", &s, none) && !at("rotated:>30d", &s, none));
            s.last_rotated = ago(30, 1);
            assert!(at("rotated:<30d", &s, none), "a second under 30 days");
            assert!(!at("rotated:>30d", &s, none));
            s.last_rotated = ago(30, 0);
            assert!(
                !at("rotated:<30d", &s, none) && at("rotated:>30d", &s, none),
                "exactly 30 days is beyond"
            );
            s.last_rotated = ago(30, -1);
            assert!(at("rotated:>30d", &s, none));
            assert!(!at("rotated:never", &s, none));

            let day = chrono::NaiveDate::from_ymd_opt(2027, 1, 15).unwrap();
            let start = day.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();
            s.last_rotated = Some(Timestamp::new(start));
            assert!(at("rotated:2027-01-15", &s, none));
            s.last_rotated = Some(Timestamp::new(start + DAY - 1));
            assert!(at("rotated:2027-01-15", &s, none));
            s.last_rotated = Some(Timestamp::new(start + DAY));
            assert!(!at("rotated:2027-01-15", &s, none), "next day");

            assert!(at("next:never", &s, none));
            s.next_rotation = Some(Timestamp::new(NOW + 7 * DAY - 1));
            assert!(at("next:<7d", &s, none) && !at("next:>7d", &s, none));
            s.next_rotation = Some(Timestamp::new(NOW - DAY));
            assert!(at("next:<7d", &s, none), "already due counts as within");
            s.next_rotation = Some(Timestamp::new(NOW + 7 * DAY));
            assert!(at("next:>7d", &s, none) && !at("next:<7d", &s, none));
        }

        struct Rows<'a> {
            secrets: &'a [Secret],
            health: Vec<Summary>,
        }

        impl Facts for Rows<'_> {
            fn now(&self) -> Timestamp {
                Timestamp::new(NOW)
            }
            fn health(&self, row: usize) -> Summary {
                self.health[row]
            }
            fn secret(&self, row: usize) -> &Secret {
                &self.secrets[row]
            }
        }

        #[test]
        fn select_with_agrees_with_matches_with() {
            let cfg = HealthConfig::default();
            let now = Timestamp::new(NOW);
            let mut secrets = Vec::new();
            for i in 0..40i64 {
                let mut s = tagged(
                    &format!("team{}/s{i}", i % 3),
                    &[("owner", "x")][..(i % 2) as usize],
                );
                s.rotation_enabled = i % 4 == 0;
                s.last_rotated = (i % 5 != 0).then(|| Timestamp::new(NOW - i * 7 * DAY));
                s.next_rotation = s
                    .rotation_enabled
                    .then(|| Timestamp::new(NOW + (i - 10) * DAY));
                s.description = (i % 3 == 0).then(|| "d".into());
                if i % 7 == 0 {
                    s.tags.push(Tag {
                        key: Arc::from("secretscope:suppress"),
                        value: Arc::from("*: accepted"),
                    });
                }
                secrets.push(s);
            }
            let health: Vec<Summary> = secrets
                .iter()
                .map(|s| health::summarize(s, None, &cfg, now))
                .collect();
            let index = SearchIndex::new(secrets.iter());
            let rows = Rows {
                secrets: &secrets,
                health,
            };
            for input in [
                "health:ok",
                "health:medium",
                "health:low+",
                "rule:not-rotated-recently",
                "rule:missing-required-tags -rule:rotation-disabled",
                "suppressed:yes",
                "rotated:<60d OR rotated:never",
                "rotated:>100d name:team1",
                "next:<5d",
                "next:never rotation:off",
                "-next:>3d team2",
            ] {
                let query = q(input);
                let want: Vec<usize> = (0..secrets.len())
                    .filter(|&i| {
                        let f = SecretFacts {
                            now,
                            health: rows.health[i],
                        };
                        query.matches_with(&secrets[i], Some(&f))
                    })
                    .collect();
                let got = query.select_with(&index, Some(&rows));
                assert_eq!(got, want, "{input}");
                assert!(
                    !want.is_empty() && want.len() < secrets.len(),
                    "{input} should split the fixture: {want:?}"
                );
            }
        }
    }

    fn payments() -> Secret {
        let mut s = tagged(
            "prod/payments/db",
            &[("owner", "Alice Smith"), ("env", "prod"), ("note", "")],
        );
        s.description = Some("Primary Postgres database".into());
        s
    }

    // -- free text -----------------------------------------------------------

    #[test]
    fn blank_queries_match_everything() {
        for input in ["", "   ", "\t\n"] {
            let query = q(input);
            assert!(query.is_empty());
            assert!(query.matches(&payments()));
            assert_eq!(query.to_string(), "");
        }
        assert!(!q("x").is_empty());
    }

    #[test]
    fn words_match_name_description_and_tag_values() {
        let mut s = payments();
        assert!(m("PAYMENTS", &s), "name");
        assert!(m("postgres", &s), "description");
        assert!(m("alice", &s), "tag value");
        assert!(m("postgres alice", &s), "all words, any field");
        assert!(!m("postgres bob", &s), "every word must match");
        assert!(!m("owner", &s), "tag keys are not free text");
        assert!(!m("us-east-1", &s), "region is not free text");
        s.description = Some("Überprüfung".into());
        assert!(m("überPRÜF", &s), "non-ASCII case folding");
        assert!(m("ÜBERPRÜF", &s));
    }

    #[test]
    fn phrases_keep_spaces_and_escapes() {
        let mut s = payments();
        assert!(m("\"primary postgres\"", &s));
        assert!(!m("\"primary database\"", &s), "a phrase is one substring");
        assert!(m("\"Alice Smith\"", &s));
        s.description = Some(r#"say "hi" to C:\temp"#.into());
        assert!(m(r#""say \"hi\"""#, &s));
        assert!(m(r#""c:\\temp""#, &s), "\\\\ is one backslash");
        assert!(m(r#""c:\temp""#, &s), "a lone backslash stays");
        assert!(
            m("\"OR\"", &tagged("a", &[("x", "OR")])),
            "quoted OR is a word"
        );
        assert!(
            m("or", &tagged("a", &[("x", "OR")])),
            "lower-case or is a word"
        );
        assert!(
            m("\"-east\"", &secret("us-east-db")),
            "quoted leading dash is text"
        );
        assert!(m("\"arn:aws\"", &tagged("a", &[("x", "arn:aws:x")])));
        assert!(
            m("12:30", &tagged("a", &[("x", "at 12:30")])),
            "not a field name"
        );
    }

    // -- fields --------------------------------------------------------------

    #[test]
    fn name_prefix_and_glob() {
        let s = payments();
        assert!(m("name:prod/payments", &s), "prefix");
        assert!(m("name:PROD/", &s));
        assert!(!m("name:payments", &s), "a prefix, not a substring");
        assert!(m("name:prod/*", &s), "* crosses /");
        assert!(m("name:*/db", &s));
        assert!(!m("name:*/d", &s), "a glob covers the whole name");
        assert!(m("name:prod/payments/d?", &s));
        assert!(!m("name:prod/payments/?", &s));
        assert!(m("name:\"prod/payments/db\"", &s));
        assert!(m("Name:prod", &s), "field names ignore case");
    }

    #[test]
    fn tag_presence_value_glob_and_empty_value() {
        let s = payments();
        assert!(m("tag:owner", &s));
        assert!(m("tag:OWNER", &s), "keys ignore case");
        assert!(!m("tag:own", &s), "keys match exactly");
        assert!(!m("tag:team", &s));
        assert!(m("tag:owner=\"alice smith\"", &s), "values ignore case");
        assert!(
            !m("tag:owner=alice", &s),
            "values match exactly without a glob"
        );
        assert!(m("tag:owner=alice*", &s));
        assert!(m("tag:owner=*SMITH", &s));
        assert!(m("tag:env=pro?", &s));
        assert!(
            !m("tag:env=alice*", &s),
            "the value belongs to the same tag"
        );
        assert!(
            m("tag:note=\"\"", &s),
            "quoted empty value matches an empty value"
        );
        assert!(!m("tag:env=\"\"", &s));
        let cfn = tagged("a", &[("aws:cloudformation:stack-name", "web")]);
        assert!(m("tag:aws:cloudformation:stack-name=web", &cfn));
        let spaced = tagged("a", &[("cost center", "R&D")]);
        assert!(m("tag:\"Cost Center\"=r&d", &spaced));
        let eq = tagged("a", &[("a=b", "c=d")]);
        assert!(
            m("tag:\"a=b\"=c=d", &eq),
            "= in a quoted key, and in a value"
        );
    }

    #[test]
    fn region_and_account_exact_or_glob() {
        let mut s = payments();
        s.region = Arc::from("eu-west-1");
        assert!(m("region:eu-west-1", &s));
        assert!(m("region:EU-WEST-1", &s));
        assert!(!m("region:eu-west", &s), "exact without a glob");
        assert!(m("region:eu-*", &s));
        assert!(m("account:123456789012", &s));
        assert!(!m("account:12345678901", &s));
        assert!(m("account:1234*", &s));
    }

    #[test]
    fn kms_default_customer_and_substring() {
        let mut s = payments();
        assert!(m("kms:default", &s), "no key id is the AWS managed key");
        assert!(!m("kms:cmk", &s));
        assert!(m("kms:aws/secretsmanager", &s), "searched as its alias");
        s.kms_key_id = Some("arn:aws:kms:us-east-1:123456789012:alias/aws/secretsmanager".into());
        assert!(m("kms:DEFAULT", &s));
        s.kms_key_id = Some("arn:aws:kms:us-east-1:123456789012:key/AbCd-1234".into());
        assert!(m("kms:cmk", &s));
        assert!(!m("kms:default", &s));
        assert!(m("kms:abcd-12", &s), "part of the key ARN");
        assert!(!m("kms:alias/payments", &s));
        s.kms_key_id = Some("alias/default-payments".into());
        assert!(
            m("kms:\"default\"", &s),
            "quoted: a substring, not the keyword"
        );
        assert!(!m("kms:default", &s));
    }

    #[test]
    fn rotation_and_deleted() {
        let mut s = payments();
        assert!(m("rotation:off", &s) && !m("rotation:on", &s));
        assert!(m("deleted:no", &s) && !m("deleted:yes", &s));
        s.rotation_enabled = true;
        s.deleted = Some(Timestamp::new(1_800_000_000));
        assert!(m("rotation:ON", &s) && !m("rotation:off", &s));
        assert!(m("deleted:Yes", &s) && !m("deleted:no", &s));
        assert!(
            m("rotation:\"on\"", &s),
            "quoting a keyword value changes nothing"
        );
    }

    #[test]
    fn service_prefix_and_none() {
        let mut s = payments();
        assert!(m("service:none", &s));
        assert!(!m("service:rds", &s));
        s.owning_service = Some("RDS".into());
        assert!(m("service:rds", &s));
        assert!(m("service:r", &s), "a prefix");
        assert!(!m("service:ds", &s));
        assert!(m("service:*D?", &s), "or a glob");
        assert!(!m("service:none", &s));
        assert!(!m("service:NONE", &s));
        s.owning_service = Some("none-such".into());
        assert!(
            m("service:\"none\"", &s),
            "quoted: a prefix, not the keyword"
        );
        assert!(!m("service:none", &s));
    }

    // -- operators -----------------------------------------------------------

    #[test]
    fn negation_of_terms_words_and_groups() {
        let s = payments();
        assert!(!m("-payments", &s));
        assert!(m("-staging", &s));
        assert!(!m("!tag:owner", &s));
        assert!(m("-tag:team", &s), "missing tag");
        assert!(m("-\"primary mysql\"", &s));
        assert!(!m("-(payments OR staging)", &s));
        assert!(m("-(payments staging)", &s));
        assert!(
            m("--payments", &s) && m("!-payments", &s),
            "double negation"
        );
        assert!(
            m("a-b", &tagged("a-b", &[])),
            "a dash inside a word is text"
        );
    }

    #[test]
    fn and_or_precedence_and_parentheses() {
        let s = payments();
        assert!(m("payments OR staging", &s));
        assert!(m("staging OR payments", &s));
        assert!(!m("staging OR mysql", &s));
        // AND binds tighter: (staging mysql) OR (payments postgres)
        assert!(m("staging mysql OR payments postgres", &s));
        assert!(!m("payments (staging OR mysql)", &s));
        assert!(m("payments (staging OR postgres)", &s));
        assert!(
            m("(staging OR payments)(mysql OR postgres)", &s),
            "no space needed"
        );
        assert_eq!(
            q("a b OR c d").root(),
            Some(&Expr::Or(vec![
                Expr::And(vec![text("a"), text("b")]),
                Expr::And(vec![text("c"), text("d")]),
            ]))
        );
        assert_eq!(q("a (b c)"), q("a b c"), "groups of AND flatten");
        assert_eq!(q("(a OR b) OR c"), q("a OR b OR c"), "groups of OR flatten");
        assert_eq!(q("((a))"), q("a"));
    }

    fn text(s: &str) -> Expr {
        Expr::Term(Term::Text(Value::new(s)))
    }

    #[test]
    fn ast_is_walkable() {
        let query = q("name:prod/* -tag:owner kms:cmk service:none rotation:off");
        let Some(Expr::And(items)) = query.root() else {
            panic!("an AND at the top");
        };
        let fields: Vec<_> = items
            .iter()
            .map(|e| match e {
                Expr::Term(t) => t.field(),
                Expr::Not(inner) => match &**inner {
                    Expr::Term(t) => t.field(),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        assert_eq!(
            fields,
            [
                Some("name"),
                Some("tag"),
                Some("kms"),
                Some("service"),
                Some("rotation")
            ]
        );
        assert_eq!(items[0], Expr::Term(Term::Name(Value::new("prod/*"))));
        let Expr::Term(Term::Name(v)) = &items[0] else {
            unreachable!()
        };
        assert!(v.is_glob());
        assert_eq!((v.as_str(), v.lower()), ("prod/*", "prod/*"));
        assert_eq!(items[2], Expr::Term(Term::Kms(Kms::Customer)));
        assert_eq!(items[3], Expr::Term(Term::Service(Service::Unmanaged)));
        assert_eq!(items[4], Expr::Term(Term::Rotation(false)));
        assert_eq!(Value::new("ÄB").lower(), "äb");
    }

    // -- errors --------------------------------------------------------------

    #[test]
    fn unknown_field_suggests_the_closest_name() {
        assert_err(
            "prod regoin:eu-west-1",
            5,
            "unknown field \"regoin\" (did you mean region?)",
            &FIELDS,
        );
        assert_eq!(
            err("prod regoin:eu-west-1").to_string(),
            "at 5: unknown field \"regoin\" (did you mean region?); \
             expected one of name, tag, region, account, kms, rotation, deleted, service, health, rule, suppressed, rotated, next, step"
        );
        assert_err(
            "-Tags:x",
            1,
            "unknown field \"Tags\" (did you mean tag?)",
            &FIELDS,
        );
        assert_err(
            "arn:aws:x",
            0,
            "unknown field \"arn\" (to search for text with a colon, quote it: \"arn:…\")",
            &FIELDS,
        );
        // Positions count characters, not bytes.
        assert_eq!(err("ünïcode rotaton:on").position, 8);
        assert_eq!(
            err("ünïcode rotaton:on").message,
            "unknown field \"rotaton\" (did you mean rotation?)"
        );
    }

    #[test]
    fn empty_values_after_a_field() {
        assert_err(
            "name:",
            5,
            "empty value after \"name:\"",
            &["a name, a name prefix or a glob like prod/*"],
        );
        assert_err(
            "a region: b",
            9,
            "empty value after \"region:\"",
            &["a region like eu-west-1"],
        );
        assert_err(
            "account:)",
            8,
            "empty value after \"account:\"",
            &["an account id"],
        );
        assert_err(
            "kms:\"\"",
            4,
            "empty value after \"kms:\"",
            &["default", "cmk", "part of a key id, ARN or alias"],
        );
        assert_err(
            "rotation:",
            9,
            "empty value after \"rotation:\"",
            &["on", "off"],
        );
        assert_err(
            "DELETED: x",
            8,
            "empty value after \"deleted:\"",
            &["yes", "no"],
        );
        assert_err(
            "(service:)",
            9,
            "empty value after \"service:\"",
            &["none", "a service name prefix like rds"],
        );
        assert_err("tag:", 4, "empty tag key after \"tag:\"", &["a tag key"]);
        assert_err(
            "tag:=alice",
            4,
            "empty tag key after \"tag:\"",
            &["a tag key"],
        );
        assert_err(
            "tag:\"\"",
            4,
            "empty tag key after \"tag:\"",
            &["a tag key"],
        );
    }

    #[test]
    fn empty_tag_value_suggests_the_missing_tag_form() {
        let message = "missing value after \"tag:owner=\": write -tag:owner for secrets without \
                       this tag, tag:owner for any value, or tag:owner=\"\" for an empty value";
        assert_err("tag:owner=", 10, message, &["a tag value or glob"]);
        assert_err("tag:owner= prod", 10, message, &["a tag value or glob"]);
        assert_err("(tag:owner=)", 11, message, &["a tag value or glob"]);
        assert!(err("tag:\"cost center\"=")
            .message
            .contains("-tag:\"cost center\" for secrets without this tag"));
    }

    #[test]
    fn bad_values_for_enumerated_fields() {
        assert_err(
            "rotation:maybe",
            9,
            "unknown value \"maybe\" for rotation",
            &["on", "off"],
        );
        assert_err(
            "rotation:onn",
            9,
            "unknown value \"onn\" for rotation (did you mean on?)",
            &["on", "off"],
        );
        assert_err(
            "deleted:true",
            8,
            "unknown value \"true\" for deleted",
            &["yes", "no"],
        );
        assert_err(
            "x deleted:yess",
            10,
            "unknown value \"yess\" for deleted (did you mean yes?)",
            &["yes", "no"],
        );
        assert_err(
            "kms:defualt",
            4,
            "unknown kms keyword \"defualt\" (did you mean default?); to search key ids for \
             this text, quote it: kms:\"defualt\"",
            &["default", "cmk", "part of a key id, ARN or alias"],
        );
        assert!(
            Query::parse("kms:\"defualt\"").is_ok(),
            "quoting searches for it"
        );
        assert!(
            Query::parse("kms:alias/default-2").is_ok(),
            "not just letters"
        );
    }

    #[test]
    fn unterminated_quotes() {
        let message = "unterminated quote: add a closing \" (write \\\" for a quote inside)";
        assert_err("owner \"Alice", 6, message, &["a closing quote"]);
        assert_err("tag:owner=\"Alice", 10, message, &["a closing quote"]);
        assert_err("tag:\"own", 4, message, &["a closing quote"]);
        assert_err("name:\"prod", 5, message, &["a closing quote"]);
        assert_err(r#""abc\""#, 0, message, &["a closing quote"]);
        assert_err(r#""abc\"#, 0, message, &["a closing quote"]);
    }

    #[test]
    fn unbalanced_parentheses() {
        let unclosed = "unclosed \"(\": add a \")\" to close it";
        assert_err("(a b", 0, unclosed, &["a closing parenthesis"]);
        assert_err("a (b OR (c)", 2, unclosed, &["a closing parenthesis"]);
        assert_err("(", 0, unclosed, &["a closing parenthesis"]);
        let unmatched = "unmatched \")\": there is no \"(\" before it to close";
        let after = ["a term", "OR", "the end of the query"];
        assert_err("a b)", 3, unmatched, &after);
        assert_err(")", 0, unmatched, &after);
        assert_err("(a)) b", 3, unmatched, &after);
    }

    #[test]
    fn leading_and_dangling_or() {
        let before = "\"OR\" needs a term before it";
        let after = "\"OR\" needs a term after it";
        assert_err("OR a", 0, before, &["a term"]);
        assert_err("  OR", 2, before, &["a term"]);
        assert_err("x (OR a)", 3, before, &["a term"]);
        assert_err("a OR", 2, after, &["a term"]);
        assert_err("a OR   ", 2, after, &["a term"]);
        assert_err("(a OR ) b", 3, after, &["a term"]);
        assert_err("a OR OR b", 2, after, &["a term"]);
    }

    #[test]
    fn empty_groups_and_quotes() {
        assert_err("()", 0, "empty parentheses: put a term inside", &["a term"]);
        assert_err(
            "a ( )",
            2,
            "empty parentheses: put a term inside",
            &["a term"],
        );
        assert_err(
            "a \"\"",
            2,
            "empty quotes: put the text to search for between them",
            &["text between the quotes"],
        );
    }

    #[test]
    fn negation_needs_a_term_right_after_it() {
        let dash = "nothing to negate: write \"-\" right before a term, as in -tag:owner";
        let bang = "nothing to negate: write \"!\" right before a term, as in !tag:owner";
        assert_err("-", 0, dash, &["a term"]);
        assert_err("a - b", 2, dash, &["a term"]);
        assert_err("a ! b", 2, bang, &["a term"]);
        assert_err("(a -)", 3, dash, &["a term"]);
        assert_err("-OR b", 0, dash, &["a term"]);
        assert_err("--", 1, dash, &["a term"]);
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = format!("{}a{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(Query::parse(&ok).is_ok());
        let deep = format!(
            "{}a{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        let message = "too deeply nested: at most 64 parentheses and negations inside one another";
        assert_err(&deep, MAX_DEPTH, message, &[]);
        assert_err(&format!("{}a", "-".repeat(1_000)), MAX_DEPTH, message, &[]);
        assert_eq!(err(&deep).to_string(), format!("at 64: {message}"));
        // Wide is fine up to the term limit: no recursion across terms.
        assert!(Query::parse(&"a ".repeat(MAX_TERMS)).is_ok());
    }

    #[test]
    fn error_display_lists_one_or_many_expectations() {
        assert_eq!(
            err("(a").to_string(),
            "at 0: unclosed \"(\": add a \")\" to close it; expected a closing parenthesis"
        );
        assert_eq!(
            err("rotation:x").to_string(),
            "at 9: unknown value \"x\" for rotation; expected one of on, off"
        );
    }

    // -- canonical text ------------------------------------------------------

    const HAND_WRITTEN: &[&str] = &[
        "prod",
        "PROD db",
        "\"primary database\"",
        "name:prod/*",
        "name:prod/payments",
        "NAME:\"with space\"",
        "tag:owner=alice",
        "tag:env",
        "-tag:owner",
        "!tag:owner",
        "tag:owner=\"Alice Smith\"",
        "tag:\"cost center\"=\"R&D\"",
        "tag:\"a=b\"=c=d",
        "tag:owner=\"\"",
        "tag:aws:cloudformation:stack-name=web",
        "region:eu-west-1",
        "account:123456789012",
        "kms:default",
        "kms:CMK",
        "kms:alias/payments",
        "kms:\"default\"",
        "kms:\"defualt\"",
        "rotation:on",
        "rotation:OFF",
        "deleted:yes",
        "deleted:no",
        "service:rds",
        "service:none",
        "service:\"None\"",
        "step:setSecret",
        "step:set",
        "-step:any",
        "step:test OR step:FINISH",
        "a OR b",
        "a b OR c d",
        "(a OR b) c",
        "-(a OR b)",
        "-(a b)",
        "--a",
        "((a))",
        "a (b c)",
        r#""say \"hi\" \\ bye""#,
        "\"OR\"",
        "or",
        "\"-x\"",
        "\"!x\"",
        "\"a:b\"",
        "12:30",
        "x OR (y OR z)",
        "name:\"with space\" OR -rotation:on (tag:env=prod* OR tag:env=dev)",
        "ünïcode ÜBER",
        "   spaced    out   ",
        "(a)(b)\"c\"d",
    ];

    #[test]
    fn hand_written_queries_round_trip() {
        for input in HAND_WRITTEN {
            let parsed = q(input);
            let shown = parsed.to_string();
            assert_eq!(
                Query::parse(&shown),
                Ok(parsed.clone()),
                "{input:?} shown as {shown:?}"
            );
            assert_eq!(q(&shown).to_string(), shown, "display is a fixed point");
        }
    }

    #[test]
    fn canonical_forms() {
        for (input, canonical) in [
            ("!tag:owner", "-tag:owner"),
            ("a   b", "a b"),
            ("((a))", "a"),
            ("(a b) c", "a b c"),
            ("x OR (y OR z)", "x OR y OR z"),
            ("(a OR b) c", "(a OR b) c"),
            ("a b OR c", "a b OR c"),
            ("-(a)", "-a"),
            ("!(a b)", "-(a b)"),
            ("NAME:Prod/*", "name:Prod/*"),
            ("Rotation:ON deleted:No", "rotation:on deleted:no"),
            ("kms:DEFAULT kms:\"default\"", "kms:default kms:\"default\""),
            (
                "service:NONE service:\"none\"",
                "service:none service:\"none\"",
            ),
            ("\"prod\"", "prod"),
            ("\"a:b\" \"OR\" \"-x\"", "\"a:b\" \"OR\" \"-x\""),
            ("tag:\"owner\"=\"alice\"", "tag:owner=alice"),
            ("tag:owner=\"Alice Smith\"", "tag:owner=\"Alice Smith\""),
            ("tag:\"a=b\"=\"\"", "tag:\"a=b\"=\"\""),
            (r#""a\b""#, r"a\b"),
            (r#""a\"b""#, r#""a\"b""#),
        ] {
            assert_eq!(q(input).to_string(), canonical, "for {input:?}");
        }
    }

    // -- facets --------------------------------------------------------------

    #[test]
    fn place_toggles_add_then_remove() {
        let added = toggle_place_term("prod", false, "210987654321");
        assert_eq!(added, "prod account:210987654321");
        assert_eq!(toggle_place_term(&added, false, "210987654321"), "prod");
        let both = toggle_place_term(&added, true, "eu-west-1");
        assert_eq!(both, "prod account:210987654321 region:eu-west-1");
        assert_eq!(
            toggle_place_term(&both, true, "EU-WEST-1"),
            "prod account:210987654321",
            "regions compare without case"
        );
        assert_eq!(
            toggle_place_term(&both, false, "123456789012"),
            "prod account:210987654321 region:eu-west-1 account:123456789012",
            "another account's term is added, not swapped"
        );
        let s = crate::domain::secret::fixtures::secret("prod/x");
        assert!(Query::parse(&toggle_place_term("", true, "us-east-1"))
            .unwrap()
            .matches(&s));
    }

    #[test]
    fn toggle_adds_then_removes() {
        let added = toggle_tag_term("prod", "owner", Some("alice"));
        assert_eq!(added, "prod tag:owner=alice");
        assert_eq!(toggle_tag_term(&added, "owner", Some("alice")), "prod");
        assert_eq!(
            toggle_tag_term("", "owner", Some("alice")),
            "tag:owner=alice"
        );
        assert_eq!(
            toggle_tag_term("  ", "owner", Some("alice")),
            "tag:owner=alice"
        );
        assert_eq!(
            toggle_tag_term("tag:owner=alice", "owner", Some("alice")),
            ""
        );
    }

    #[test]
    fn toggle_missing_tag() {
        assert_eq!(toggle_tag_term("prod", "owner", None), "prod -tag:owner");
        assert_eq!(toggle_tag_term("prod -tag:owner", "owner", None), "prod");
        assert_eq!(toggle_tag_term("!tag:OWNER prod", "owner", None), "prod");
        assert_eq!(
            toggle_tag_term("prod tag:owner", "owner", None),
            "prod tag:owner -tag:owner",
            "tag:owner is not the missing-tag term"
        );
    }

    #[test]
    fn toggle_keeps_the_rest_of_the_query() {
        assert_eq!(
            toggle_tag_term(
                "name:\"a b\"  tag:OWNER=Alice   !rotation:on",
                "owner",
                Some("alice")
            ),
            "name:\"a b\" !rotation:on",
            "removal ignores case and keeps the other terms as written"
        );
        assert_eq!(
            toggle_tag_term("tag:owner=bob", "owner", Some("alice")),
            "tag:owner=bob tag:owner=alice"
        );
        assert_eq!(
            toggle_tag_term("(tag:env=prod) (a OR b)", "env", Some("prod")),
            "(a OR b)"
        );
        assert_eq!(
            toggle_tag_term("a OR b", "env", Some("prod")),
            "(a OR b) tag:env=prod",
            "a top-level OR is grouped"
        );
        assert_eq!(
            toggle_tag_term("a OR tag:env=prod", "env", Some("prod")),
            "(a OR tag:env=prod) tag:env=prod",
            "only top-level terms are removed"
        );
        let quoted = toggle_tag_term("x", "cost center", Some("R&D dept"));
        assert_eq!(quoted, "x tag:\"cost center\"=\"R&D dept\"");
        assert!(q(&quoted).matches(&tagged("x", &[("Cost Center", "r&d DEPT")])));
        assert_eq!(
            toggle_tag_term(&quoted, "cost center", Some("R&D dept")),
            "x"
        );
        assert_eq!(toggle_tag_term("x", "note", Some("")), "x tag:note=\"\"");
    }

    #[test]
    fn toggle_on_a_query_with_an_error_works_on_words() {
        assert_eq!(
            toggle_tag_term("name: (", "owner", Some("alice")),
            "name: ( tag:owner=alice"
        );
        assert_eq!(
            toggle_tag_term("name: ( tag:owner=alice", "owner", Some("alice")),
            "name: ("
        );
    }

    // -- index ---------------------------------------------------------------

    #[test]
    fn index_selects_what_matches_selects() {
        let mut deleted = tagged("old/db", &[("owner", "Bob")]);
        deleted.deleted = Some(Timestamp::new(1_800_000_000));
        deleted.owning_service = Some("RDS".into());
        let mut unicode = tagged("Übung/ä", &[("Team", "ÄRGER")]);
        unicode.kms_key_id = Some("alias/Café".into());
        let secrets = [payments(), deleted, unicode, secret("dev/app")];
        let index = SearchIndex::new(&secrets);
        assert_eq!((index.len(), index.is_empty()), (4, false));
        for (input, want) in [
            ("", vec![0, 1, 2, 3]),
            ("prod", vec![0]),
            ("postgres OR bob", vec![0, 1]),
            ("-tag:owner", vec![2, 3]),
            ("tag:team=ärger", vec![2]),
            ("name:übung/?", vec![2]),
            ("kms:CAFÉ", vec![2]),
            ("kms:default -deleted:yes", vec![0, 3]),
            ("service:rds", vec![1]),
            (
                "service:none rotation:off (app OR tag:env=prod)",
                vec![0, 3],
            ),
            ("\"db\u{0}alice\"", vec![]),
        ] {
            assert_eq!(q(input).select(&index), want, "for {input:?}");
            let by_matches: Vec<usize> = (0..secrets.len())
                .filter(|i| q(input).matches(&secrets[*i]))
                .collect();
            assert_eq!(by_matches, want, "matches, for {input:?}");
        }
        assert!(q("x").select(&SearchIndex::new([])).is_empty());
    }

    #[test]
    fn index_agrees_whether_it_scans_columns_or_rows() {
        // 1 secret in 20 is in "payments": after it, the next terms see few
        // rows and test them one by one; alone, they scan whole columns.
        let secrets: Vec<Secret> = (0..400)
            .map(|i| {
                let team = if i % 20 == 0 { "payments" } else { "search" };
                let mut s = tagged(
                    &format!("prod/{team}/db-{i}"),
                    &[("owner", ["alice", "Bob"][i % 2])],
                );
                s.description = (i % 3 == 0).then(|| format!("Ticket {}", i % 7).into());
                s
            })
            .collect();
        let index = SearchIndex::new(&secrets);
        for input in [
            "payments ticket",
            "ticket payments",
            "payments name:*/db-1?",
            "name:*/db-1? payments",
            "payments bob",
            "payments -\"ticket 3\"",
            "name:prod/search/db-3*",
            "name:*db* -name:*search*",
        ] {
            let query = q(input);
            let want: Vec<usize> = (0..secrets.len())
                .filter(|i| query.matches(&secrets[*i]))
                .collect();
            assert_eq!(query.select(&index), want, "for {input:?}");
        }
    }

    #[test]
    fn bitsets_cover_exactly_their_length() {
        for len in [0, 1, 63, 64, 65, 130] {
            assert_eq!(Bits::full(len).ones().count(), len);
            assert!(Bits::empty(len).is_empty());
        }
    }

    // -- properties ----------------------------------------------------------

    fn tricky_value() -> impl Strategy<Value = super::Value> {
        prop_oneof![
            prop::sample::select(vec![
                "prod",
                "Alice",
                "OR",
                "or",
                "none",
                "None",
                "default",
                "DEFAULT",
                "cmk",
                "defualt",
                "-x",
                "!y",
                "a:b",
                "*",
                "?",
                "prod/*",
                "Ünï",
                "a\"b",
                "back\\slash",
                "with space",
                "(x)",
                "k=v",
                " ",
                "\\",
                "\"",
            ])
            .prop_map(super::Value::new),
            "[a-zA-Z0-9 _:/=*?\"\\\\()!\\-éÜ\t]{1,8}".prop_map(super::Value::new),
        ]
    }

    fn any_term() -> impl Strategy<Value = Term> {
        prop_oneof![
            tricky_value().prop_map(Term::Text),
            tricky_value().prop_map(Term::Name),
            (
                tricky_value(),
                prop::option::of(prop_oneof![Just(super::Value::new("")), tricky_value()])
            )
                .prop_map(|(key, value)| Term::Tag { key, value }),
            tricky_value().prop_map(Term::Region),
            tricky_value().prop_map(Term::Account),
            prop_oneof![
                Just(Kms::Default),
                Just(Kms::Customer),
                tricky_value().prop_map(Kms::Contains)
            ]
            .prop_map(Term::Kms),
            any::<bool>().prop_map(Term::Rotation),
            any::<bool>().prop_map(Term::Deleted),
            prop_oneof![
                Just(Service::Unmanaged),
                tricky_value().prop_map(Service::Prefix)
            ]
            .prop_map(Term::Service),
            prop::option::of(prop::sample::select(RotationStep::ALL.to_vec())).prop_map(Term::Step),
        ]
    }

    fn tree(leaf: impl Strategy<Value = Term> + 'static) -> impl Strategy<Value = Expr> {
        leaf.prop_map(Expr::Term)
            .prop_recursive(4, 24, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 2..4).prop_filter_map("and", Expr::and),
                    prop::collection::vec(inner.clone(), 2..4).prop_filter_map("or", Expr::or),
                    inner.prop_map(|e| !e),
                ]
            })
            // Two trees joined must stay within the parser's term limit.
            .prop_filter("at most half of MAX_TERMS terms", |e| {
                leaves(e) <= MAX_TERMS / 2
            })
    }

    fn leaves(e: &Expr) -> usize {
        match e {
            Expr::And(v) | Expr::Or(v) => v.iter().map(leaves).sum(),
            Expr::Not(inner) => leaves(inner),
            Expr::Term(_) => 1,
        }
    }

    #[test]
    fn a_search_is_bounded_in_length_and_terms() {
        let ok = "a ".repeat(MAX_TERMS);
        assert!(Query::parse(&ok).is_ok());
        let e = Query::parse(&"a ".repeat(MAX_TERMS + 1)).unwrap_err();
        assert!(
            e.message
                .starts_with("too many terms: a search has at most 64"),
            "{e:?}"
        );
        // Parentheses are no way around it.
        let e = Query::parse(&format!("({})", "-zzq ".repeat(MAX_TERMS + 1))).unwrap_err();
        assert!(e.message.starts_with("too many terms"), "{e:?}");
        let long = "x".repeat(MAX_QUERY_CHARS + 1);
        let e = Query::parse(&long).unwrap_err();
        assert!(e.message.contains("at most 2000 characters"), "{e:?}");
        assert!(e.position <= long.chars().count());
        assert!(Query::parse(&"x".repeat(MAX_QUERY_CHARS)).is_ok());
        // The reviewer's 1.9 MB of -zzq terms is refused before parsing.
        assert!(Query::parse(&"-zzq ".repeat(400_000)).is_err());
    }

    fn pick(words: &'static [&'static str]) -> impl Strategy<Value = super::Value> {
        prop::sample::select(words).prop_map(super::Value::new)
    }

    /// Terms drawn from the same words as `any_secret`, so that they match
    /// about as often as not.
    fn related_term() -> impl Strategy<Value = Term> {
        prop_oneof![
            pick(&["prod", "alice", "DB", "ünï", "smith", "x", "über"]).prop_map(Term::Text),
            pick(&["prod", "prod/*", "*db", "dev/a??", "PROD/web", "staging/ü*"])
                .prop_map(Term::Name),
            (
                pick(&["owner", "OWNER", "env", "missing"]),
                prop::option::of(pick(&["alice", "alice*", "*smith", "", "ünï", "prod"]))
            )
                .prop_map(|(key, value)| Term::Tag { key, value }),
            pick(&["us-east-1", "eu-*", "EU-WEST-2"]).prop_map(Term::Region),
            pick(&["123456789012", "21*"]).prop_map(Term::Account),
            prop_oneof![
                Just(Kms::Default),
                Just(Kms::Customer),
                pick(&["alias", "payments", "ABCD", "aws/secrets"]).prop_map(Kms::Contains)
            ]
            .prop_map(Term::Kms),
            any::<bool>().prop_map(Term::Rotation),
            any::<bool>().prop_map(Term::Deleted),
            prop_oneof![
                Just(Service::Unmanaged),
                pick(&["rds", "RDS*", "lambda", "ü"]).prop_map(Service::Prefix)
            ]
            .prop_map(Term::Service),
            prop::option::of(prop::sample::select(vec![
                RotationStep::SetSecret,
                RotationStep::TestSecret
            ]))
            .prop_map(Term::Step),
        ]
    }

    fn any_secret() -> impl Strategy<Value = Secret> {
        let tag = (
            prop::sample::select(vec!["owner", "Owner", "env", "team"]),
            prop::sample::select(vec!["alice", "Alice Smith", "prod", "", "ÜNÏ"]),
        );
        (
            prop::sample::select(vec![
                "prod/payments/db",
                "Prod/Web",
                "dev/app",
                "staging/ünï/key",
                "x",
            ]),
            prop::option::of(prop::sample::select(vec![
                "Primary database",
                "ÜBER db",
                "owned by Alice",
                "",
            ])),
            prop::collection::vec(tag, 0..4),
            prop::sample::select(vec!["us-east-1", "eu-west-1", "EU-west-2"]),
            prop::sample::select(vec!["123456789012", "210987654321"]),
            prop::option::of(prop::sample::select(vec![
                "alias/aws/secretsmanager",
                "arn:aws:kms:us-east-1:123456789012:key/abcd-1234",
                "alias/payments",
            ])),
            any::<bool>(),
            any::<bool>(),
            prop::option::of(prop::sample::select(vec![
                "rds",
                "RDS-cluster",
                "lambda",
                "ünï",
            ])),
            // A failure: its step, and whether it is about the pending rotation.
            prop::option::of((
                prop::option::of(prop::sample::select(vec![
                    RotationStep::SetSecret,
                    RotationStep::TestSecret,
                ])),
                any::<bool>(),
            )),
        )
            .prop_map(
                |(
                    name,
                    description,
                    tags,
                    region,
                    account,
                    kms,
                    rotation,
                    deleted,
                    service,
                    failure,
                )| {
                    let mut s = secret(name);
                    s.description = description.map(Box::from);
                    s.tags = tags
                        .into_iter()
                        .map(|(k, v)| Tag {
                            key: Arc::from(k),
                            value: Arc::from(v),
                        })
                        .collect();
                    s.region = Arc::from(region);
                    s.account = Arc::from(account);
                    s.kms_key_id = kms.map(Arc::from);
                    s.rotation_enabled = rotation;
                    s.deleted = deleted.then_some(Timestamp::new(1_800_000_000));
                    s.owning_service = service.map(Arc::from);
                    match failure {
                        Some((step, for_pending)) => failing(s, step, for_pending),
                        None => s,
                    }
                },
            )
    }

    /// Strings made of the language's own pieces, joined in any order.
    fn syntax_soup() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(vec![
                "name:",
                "tag:",
                "kms:",
                "rotation:",
                "service:",
                "step:",
                "set",
                "regoin:",
                "owner",
                "=",
                "\"",
                "\\",
                "(",
                ")",
                "-",
                "!",
                "OR",
                " ",
                "on",
                "*",
                "?",
                "é",
                "ü",
                "\t",
                ":",
                "",
            ]),
            0..16,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn generated_trees_round_trip(e in tree(any_term())) {
            let query = Query::from(e);
            let shown = query.to_string();
            prop_assert_eq!(Query::parse(&shown), Ok(query), "shown as {}", shown);
        }

        #[test]
        fn any_input_parses_or_fails_in_range(
            input in prop_oneof![any::<String>(), syntax_soup(), "[a-z:=\"\\\\()!\\- Ré\t*?]{0,30}"]
        ) {
            match Query::parse(&input) {
                Ok(query) => {
                    let shown = query.to_string();
                    prop_assert_eq!(Query::parse(&shown), Ok(query), "shown as {}", shown);
                }
                Err(e) => {
                    prop_assert!(e.position <= input.chars().count(), "{:?} for {:?}", e, input);
                    prop_assert!(!e.message.is_empty());
                }
            }
        }

        /// Long and hostile input: never a panic, and whatever parses is
        /// within the limits (so what a page builds from it is bounded).
        #[test]
        fn adversarial_input_stays_within_the_limits(
            input in prop_oneof![
                prop::collection::vec(syntax_soup(), 0..600).prop_map(|v| v.concat()),
                "[-!() a\"z:]{0,4000}",
                "(\\(|-){0,300}a",
            ]
        ) {
            match Query::parse(&input) {
                Ok(query) => {
                    prop_assert!(input.chars().count() <= MAX_QUERY_CHARS);
                    prop_assert!(query.root().map_or(0, leaves) <= MAX_TERMS);
                    let toggled = toggle_tag_term(&input, "owner", Some("alice"));
                    prop_assert!(toggled.chars().count() <= input.chars().count() + 64, "{}", toggled);
                }
                Err(e) => prop_assert!(e.position <= input.chars().count(), "{:?}", e),
            }
        }

        #[test]
        fn not_or_and_follow_logic(
            a in tree(related_term()),
            b in tree(related_term()),
            s in any_secret(),
        ) {
            let (ma, mb) = (Query::from(a.clone()).matches(&s), Query::from(b.clone()).matches(&s));
            prop_assert_eq!(q(&a.to_string()).matches(&s), ma, "through text: {}", a);
            prop_assert_eq!(q(&format!("-({a})")).matches(&s), !ma);
            prop_assert_eq!(q(&format!("!({a})")).matches(&s), !ma);
            prop_assert_eq!(q(&format!("({a}) OR ({b})")).matches(&s), ma || mb);
            prop_assert_eq!(q(&format!("({a}) ({b})")).matches(&s), ma && mb);
        }

        #[test]
        fn index_agrees_with_matches(
            e in tree(related_term()),
            secrets in prop::collection::vec(any_secret(), 0..70),
        ) {
            let query = Query::from(e);
            let want: Vec<usize> = (0..secrets.len()).filter(|i| query.matches(&secrets[*i])).collect();
            prop_assert_eq!(query.select(&SearchIndex::new(&secrets)), want, "for {}", query);
        }

        #[test]
        fn single_terms_negate(t in related_term(), s in any_secret()) {
            let shown = Expr::Term(t.clone()).to_string();
            prop_assert_eq!(q(&format!("-{shown}")).matches(&s), !t.matches(&s));
        }

        #[test]
        fn toggling_twice_restores_the_query(
            a in tree(related_term()),
            value in prop::option::of(pick(&["alice", "Alice Smith", "", "a\"b"])),
        ) {
            let input = a.to_string();
            let value = value.as_ref().map(super::Value::as_str);
            let once = toggle_tag_term(&input, "zz key", value);
            let once_parsed = q(&once);
            let twice = toggle_tag_term(&once, "zz key", value);
            prop_assert_eq!(q(&twice), q(&input), "{} -> {} -> {}", input, once, twice);
            // A secret that meets the new term: the rest decides.
            let s = match value {
                Some(v) => tagged("x", &[("ZZ Key", v)]),
                None => tagged("x", &[]),
            };
            prop_assert_eq!(once_parsed.matches(&s), q(&input).matches(&s));
        }
    }
}

//! Searching the inventory: the query language of `/secrets?q=…`.
//!
//! ```text
//! query   = [ or ]                          empty or blank: every secret
//! or      = and { "OR" and }                OR binds looser than AND
//! and     = unary { unary }                 terms side by side: all must match
//! unary   = ("-" | "!") unary | primary     negation, written right against its term
//! primary = "(" or ")" | "\"phrase\"" | field ":" value | word
//! field   = name | tag | region | account | kms | rotation | deleted | service
//!         | health | rule | suppressed | rotated | next | step | cause
//!         | reader | readers | owner
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
//! | `cause:lambda-permission`, `cause:network`, `cause:any` | the last diagnosis of the secret's rotation found that cause (a slug of `domain::diagnosis::CauseId`, any case); `any` (or `*`): at least one cause |
//! | `reader:payments-*`, `reader:arn:aws:iam::111122223333:role/etl`, `reader:*:999988887777:*` | a principal that read the secret or tried to (CloudTrail `GetSecretValue`, failed reads included) has that ARN or that role or user name, exactly or as a glob |
//! | `owner:zoe@example.com`, `owner:zoe*`, `owner:none`, `owner:known`, `owner:conflict` | the owner the `owner` tag or the description names (`domain::owner`) is that name (any case, or a glob); `none`: neither names one; `known`: one does; `conflict`: both do, and not the same (case and a leading `@` aside) |
//! | `readers:3`, `readers:>0`, `readers:>=2`, `readers:<5`, `readers:<=1`, `readers:none`, `readers:unknown` | how many distinct principals read it or tried to; `none`: looked up and nobody did (`readers:0`); `unknown`: its readers were not looked up |
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
//! Readers come from CloudTrail and are looked up for some secrets only
//! ([`crate::domain::Secret::reads`]); a secret whose readers were not looked
//! up has none: it matches no `reader:` term and no `readers:` count (only
//! `readers:unknown`), so `-reader:x` and `-readers:>0` match it, as any
//! negation matches what its term does not.
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

mod edit;
mod index;
mod matching;
mod parse;
mod print;
mod syntax;
#[cfg(test)]
mod tests;

pub use edit::{toggle_place_term, toggle_tag_term, toggle_term_text};
#[cfg(test)]
use index::*;
pub use index::{OwnerState, SearchIndex};
pub use syntax::{
    Cmp, Expr, Facts, Kms, OwnerTerm, ParseError, Query, ReaderCount, SecretFacts, Service, Term,
    Value, When,
};
use {matching::*, parse::*, print::*};

/// The field names, in the order error messages list them.
pub const FIELDS: [&str; 18] = [
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
    "cause",
    "reader",
    "readers",
    "owner",
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

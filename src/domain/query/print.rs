//! The canonical text of a query: what `Display` prints parses back to the same tree.

use super::*;
use crate::domain::diagnosis::CauseId;
use crate::domain::rotation_failure::RotationStep;
use crate::domain::Timestamp;
use std::fmt::{self, Write as _};

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
            // Slugs are lower-case letters and dashes: never quoted.
            Term::Cause(cause) => f.write_str(cause.map_or(CAUSE_ANY, CauseId::slug)),
            // No keywords: a reader named "none" is written bare.
            Term::Reader(v) => write_value(f, &v.raw, false),
            Term::Readers(count) => count.fmt(f),
            Term::Owner(OwnerTerm::None) => f.write_str(OWNER_NONE),
            Term::Owner(OwnerTerm::Known) => f.write_str(OWNER_KNOWN),
            Term::Owner(OwnerTerm::Conflict) => f.write_str(OWNER_CONFLICT),
            // A name that reads as a keyword (or a misspelt one) is quoted.
            Term::Owner(OwnerTerm::Name(v)) => {
                let keyword = owner_keyword(&v.lower).is_some() || owner_typo(&v.raw).is_some();
                write_value(f, &v.raw, keyword)
            }
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
pub(super) fn ends_bare(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"')
}

pub(super) fn kms_keyword(lower: &str) -> Option<Kms> {
    match lower {
        "default" => Some(Kms::Default),
        "cmk" => Some(Kms::Customer),
        _ => None,
    }
}

pub(super) const OWNER_NONE: &str = "none";
pub(super) const OWNER_KNOWN: &str = "known";
pub(super) const OWNER_CONFLICT: &str = "conflict";

pub(super) fn owner_keyword(lower: &str) -> Option<OwnerTerm> {
    match lower {
        OWNER_NONE => Some(OwnerTerm::None),
        OWNER_KNOWN => Some(OwnerTerm::Known),
        OWNER_CONFLICT => Some(OwnerTerm::Conflict),
        _ => None,
    }
}

/// The keyword an unquoted `owner:` value probably misspells (letters only,
/// at least four, one edit from `none` or `known`, two from `conflict`):
/// refused rather than searched for as a name, so `owner:nnone` is not an
/// empty result. `zoe` or `bob` are names.
pub(super) fn owner_typo(raw: &str) -> Option<&'static str> {
    let lower = raw.to_lowercase();
    if raw.chars().count() < 4
        || !raw.chars().all(|c| c.is_ascii_alphabetic())
        || owner_keyword(&lower).is_some()
    {
        return None;
    }
    [(OWNER_NONE, 1), (OWNER_KNOWN, 1), (OWNER_CONFLICT, 2)]
        .into_iter()
        .find(|(k, d)| edit_distance(&lower, k) <= *d)
        .map(|(k, _)| k)
}

/// An unquoted `kms:` value that is probably a misspelt `default` (letters
/// only, within two edits): refused rather than silently searched for.
pub(super) fn kms_typo(raw: &str) -> bool {
    let lower = raw.to_lowercase();
    raw.chars().all(|c| c.is_ascii_alphabetic())
        && lower != "default"
        && edit_distance(&lower, "default") <= 2
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

impl fmt::Display for ReaderCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (cmp, n) = match self {
            ReaderCount::Unknown => return f.write_str(READERS_UNKNOWN),
            ReaderCount::Is(Cmp::Eq, 0) => return f.write_str(READERS_NONE),
            ReaderCount::Is(cmp, n) => (cmp, n),
        };
        let op = match cmp {
            Cmp::Eq => "",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        };
        write!(f, "{op}{n}")
    }
}

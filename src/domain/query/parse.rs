//! The parser: text to [`Query`], or a [`ParseError`] that says where and what.

use super::*;
use crate::domain::diagnosis::CauseId;
use crate::domain::health::{RuleId, Severity};
use crate::domain::rotation_failure::RotationStep;
use std::fmt::Write as _;

// ---------------------------------------------------------------------------
// Parser

pub(super) struct Parser {
    pub(super) chars: Vec<char>,
    pos: usize,
    depth: usize,
    /// Terms read so far (at most [`MAX_TERMS`]).
    terms: usize,
}

/// A top-level term with its character span, for `toggle_tag_term`.
pub(super) struct Item {
    pub(super) expr: Expr,
    pub(super) start: usize,
    pub(super) end: usize,
}

pub(super) fn error(position: usize, message: impl Into<String>, expected: &[&str]) -> ParseError {
    ParseError {
        position,
        message: message.into(),
        expected: expected.iter().map(|s| s.to_string()).collect(),
    }
}

pub(super) const A_TERM: &[&str] = &["a term"];

impl Parser {
    pub(super) fn new(input: &str) -> Parser {
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

    pub(super) fn eof(&self) -> bool {
        self.pos >= self.chars.len()
    }

    pub(super) fn skip_ws(&mut self) {
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

    pub(super) fn parse_query(&mut self) -> Result<Query, ParseError> {
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
    pub(super) fn parse_and_items(&mut self, open: Option<usize>) -> Result<Vec<Item>, ParseError> {
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
            "step" => step_term(&raw, &lower, value_at)?,
            "cause" => cause_term(&raw, &lower, value_at)?,
            "reader" => Term::Reader(Value::new(raw)),
            "readers" => readers_term(&raw, &lower, value_at)?,
            "owner" => owner_term(&raw, &lower, quoted, value_at)?,
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

pub(super) const HEALTH_WORDS: &[&str] = &["ok", "critical", "high", "medium", "low", "info"];

/// `step:any`: a failure at a step the message names.
pub(super) const STEP_ANY: &str = "any";

/// `step:<raw>` (`lower`: its lower case, `at`: where it starts).
fn step_term(raw: &str, lower: &str, at: usize) -> Result<Term, ParseError> {
    match lower {
        STEP_ANY | "*" => Ok(Term::Step(None)),
        _ => match RotationStep::parse(lower) {
            Some(step) => Ok(Term::Step(Some(step))),
            None => {
                let mut message = format!("unknown rotation step \"{raw}\"");
                if let Some(s) = closest_step(lower) {
                    write!(message, " (did you mean {s}?)").ok();
                }
                Err(error(at, message, expected_for("step")))
            }
        },
    }
}

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

/// `cause:any`: the diagnosis found at least one cause.
pub(super) const CAUSE_ANY: &str = "any";

/// `cause:<raw>` (`lower`: its lower case, `at`: where it starts).
fn cause_term(raw: &str, lower: &str, at: usize) -> Result<Term, ParseError> {
    match lower {
        CAUSE_ANY | "*" => Ok(Term::Cause(None)),
        _ => match CauseId::parse(lower) {
            Some(cause) => Ok(Term::Cause(Some(cause))),
            None => {
                let mut message = format!("unknown cause \"{raw}\"");
                if let Some(s) = closest(lower, cause_words()) {
                    write!(message, " (did you mean {s}?)").ok();
                }
                Err(error(at, message, cause_words()))
            }
        },
    }
}

/// What `cause:` accepts, in the order errors list it: each cause's slug,
/// from [`CauseId::ALL`] (so a cause added there is accepted, listed and
/// suggested at once), then `any`.
pub(super) fn cause_words() -> &'static [&'static str] {
    static WORDS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
        let mut words: Vec<&str> = CauseId::ALL.iter().map(|c| c.slug()).collect();
        words.push(CAUSE_ANY);
        words
    });
    &WORDS
}

/// `owner:<raw>` (`lower`: its lower case, `at`: where it starts): a
/// keyword unless quoted, else an owner name or glob; a misspelt keyword is
/// refused with the one meant.
fn owner_term(raw: &str, lower: &str, quoted: bool, at: usize) -> Result<Term, ParseError> {
    if quoted {
        return Ok(Term::Owner(OwnerTerm::Name(Value::new(raw))));
    }
    match (owner_keyword(lower), owner_typo(raw)) {
        (Some(k), _) => Ok(Term::Owner(k)),
        (None, Some(near)) => Err(error(
            at,
            format!(
                "unknown owner keyword \"{raw}\" (did you mean {near}?); \
                 to search for an owner of that name, quote it: owner:\"{raw}\""
            ),
            expected_for("owner"),
        )),
        (None, None) => Ok(Term::Owner(OwnerTerm::Name(Value::new(raw)))),
    }
}

/// `readers:none`: looked up, and nobody read (or tried to).
pub(super) const READERS_NONE: &str = "none";

/// `readers:unknown`: the readers were not looked up.
pub(super) const READERS_UNKNOWN: &str = "unknown";

/// `readers:<raw>` (`lower`: its lower case, `at`: where it starts): a
/// whole number after `>=`, `<=`, `>`, `<` or nothing, `none` or `unknown`.
fn readers_term(raw: &str, lower: &str, at: usize) -> Result<Term, ParseError> {
    let expected = expected_for("readers");
    match lower {
        READERS_NONE => return Ok(Term::Readers(ReaderCount::Is(Cmp::Eq, 0))),
        READERS_UNKNOWN => return Ok(Term::Readers(ReaderCount::Unknown)),
        _ => {}
    }
    let (cmp, digits) = [
        (">=", Cmp::Ge),
        ("<=", Cmp::Le),
        (">", Cmp::Gt),
        ("<", Cmp::Lt),
    ]
    .into_iter()
    .find_map(|(op, cmp)| lower.strip_prefix(op).map(|rest| (cmp, rest)))
    .unwrap_or((Cmp::Eq, lower));
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        let message = if cmp == Cmp::Eq && lower.starts_with(char::is_alphabetic) {
            let mut message = format!("unknown value \"{raw}\" for readers");
            if let Some(s) = closest(lower, &[READERS_NONE, READERS_UNKNOWN]) {
                write!(message, " (did you mean {s}?)").ok();
            }
            message
        } else {
            format!(
                "cannot read \"{raw}\" as a number of readers: \
                 write a whole number, as in readers:3 or readers:>0"
            )
        };
        return Err(error(at, message, expected));
    }
    let Ok(n) = digits.parse::<u32>() else {
        return Err(error(
            at,
            format!(
                "\"{raw}\" is more readers than can be counted: at most {}",
                u32::MAX
            ),
            expected,
        ));
    };
    if cmp == Cmp::Lt && n == 0 {
        return Err(error(
            at,
            "readers:<0 matches nothing (no secret has fewer than 0 readers); \
             write readers:none for secrets nobody read",
            expected,
        ));
    }
    Ok(Term::Readers(ReaderCount::Is(cmp, n)))
}

pub(super) fn expected_for(field: &str) -> &'static [&'static str] {
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
        "cause" => cause_words(),
        "owner" => &[
            "none",
            "known",
            "conflict",
            "an owner name or a glob like zoe*",
        ],
        "reader" => &["a principal ARN, a role or user name, or a glob like payments-*"],
        "readers" => &[
            "a number like 3",
            ">0",
            ">=2",
            "<5",
            "<=1",
            READERS_NONE,
            READERS_UNKNOWN,
        ],
        _service => &["none", "a service name prefix like rds"],
    }
}

/// The candidate nearest to `word` within two edits (and fewer edits than
/// its length, so that two-letter words are not "near" everything).
pub(super) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= 2 && *d < c.chars().count())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance, in characters.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
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

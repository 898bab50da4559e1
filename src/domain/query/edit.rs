//! Editing a query's text: the facet links that add or remove one term.

use super::*;

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

/// Adds or removes one whole term given as text (`rotation:off`,
/// `kms:default`, `owner:none`, `-name:*/*`…), as [`toggle_tag_term`] does
/// for tags: for the facets whose values are search terms. A term text that
/// does not parse as one term is appended as it is.
pub fn toggle_term_text(input: &str, term: &str) -> String {
    let parsed = match Query::parse(term) {
        Ok(Query { root: Some(e) }) if !matches!(e, Expr::And(_) | Expr::Or(_)) => e,
        _ => return format!("{} {term}", input.trim()).trim().to_string(),
    };
    let target = parsed.clone();
    toggle_term(input, parsed, move |e: &Expr| *e == target)
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

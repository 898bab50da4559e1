//! Case-insensitive text matching for the query language: substring, prefix,
//! equality and globs (`*` any run of characters, including `/`; `?` exactly
//! one character).
//!
//! Every needle and pattern here must already be lower case (made once, with
//! `str::to_lowercase`, when the query is parsed). Haystacks are compared in
//! place when they are ASCII, which is nearly always, so matching a secret
//! allocates nothing; a non-ASCII haystack is lowercased into a new string.

/// True when `s` holds a glob wildcard (`*` or `?`).
pub fn has_wildcards(s: &str) -> bool {
    s.bytes().any(|b| b == b'*' || b == b'?')
}

/// `haystack` contains `needle` (lower case), ignoring case.
pub fn contains(haystack: &str, needle: &str) -> bool {
    if haystack.is_ascii() {
        contains_ascii(haystack.as_bytes(), needle.as_bytes())
    } else {
        haystack.to_lowercase().contains(needle)
    }
}

/// `haystack` starts with `prefix` (lower case), ignoring case.
pub fn starts_with(haystack: &str, prefix: &str) -> bool {
    if haystack.is_ascii() {
        let (h, p) = (haystack.as_bytes(), prefix.as_bytes());
        h.len() >= p.len() && h[..p.len()].eq_ignore_ascii_case(p)
    } else {
        haystack.to_lowercase().starts_with(prefix)
    }
}

/// `haystack` equals `value` (lower case), ignoring case.
pub fn equals(haystack: &str, value: &str) -> bool {
    if haystack.is_ascii() {
        haystack.len() == value.len() && haystack.eq_ignore_ascii_case(value)
    } else {
        haystack.to_lowercase() == value
    }
}

/// The whole of `haystack` matches the glob `pattern` (lower case), ignoring case.
pub fn glob(haystack: &str, pattern: &str) -> bool {
    if haystack.is_ascii() {
        // A non-ASCII pattern character is several bytes, none of which is
        // ASCII, so it can never match here: the byte walk stays correct.
        glob_units(
            haystack.as_bytes(),
            pattern.as_bytes(),
            b'*',
            b'?',
            |h, p| h.to_ascii_lowercase() == p,
        )
    } else {
        let h: Vec<char> = haystack.to_lowercase().chars().collect();
        let p: Vec<char> = pattern.chars().collect();
        glob_units(&h, &p, '*', '?', |h, p| h == p)
    }
}

/// Like [`glob`], for a haystack that is already lower case (a
/// [`super::query::SearchIndex`] stores its text so).
pub fn glob_lowered(haystack: &str, pattern: &str) -> bool {
    if haystack.is_ascii() {
        glob_units(
            haystack.as_bytes(),
            pattern.as_bytes(),
            b'*',
            b'?',
            |h, p| h == p,
        )
    } else {
        let h: Vec<char> = haystack.chars().collect();
        let p: Vec<char> = pattern.chars().collect();
        glob_units(&h, &p, '*', '?', |h, p| h == p)
    }
}

/// Substring search over ASCII bytes; `needle` is lower case.
fn contains_ascii(h: &[u8], n: &[u8]) -> bool {
    let Some((&first, rest)) = n.split_first() else {
        return true;
    };
    if h.len() < n.len() {
        return false;
    }
    let last = h.len() - n.len();
    let upper = first.to_ascii_uppercase();
    let mut i = 0;
    while i <= last {
        match h[i..=last].iter().position(|&b| b == first || b == upper) {
            None => return false,
            Some(offset) => {
                let j = i + offset;
                if h[j + 1..j + n.len()].eq_ignore_ascii_case(rest) {
                    return true;
                }
                i = j + 1;
            }
        }
    }
    false
}

/// Iterative glob with one backtrack point (the last `*`): linear in the
/// common cases, `O(len(h) * len(p))` at worst, and no recursion.
fn glob_units<T: Copy + Eq>(h: &[T], p: &[T], star: T, any: T, eq: impl Fn(T, T) -> bool) -> bool {
    let (mut hi, mut pi) = (0, 0);
    // (pattern index just after the last `*`, haystack index it was tried at)
    let mut backtrack: Option<(usize, usize)> = None;
    while hi < h.len() {
        if pi < p.len() && p[pi] == star {
            pi += 1;
            backtrack = Some((pi, hi));
        } else if pi < p.len() && (p[pi] == any || eq(h[hi], p[pi])) {
            pi += 1;
            hi += 1;
        } else if let Some((bp, bh)) = backtrack {
            // Let the last `*` swallow one more character and try again.
            pi = bp;
            hi = bh + 1;
            backtrack = Some((bp, bh + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == star)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The obvious recursive definition, on lowercased characters.
    fn reference_glob(h: &[char], p: &[char]) -> bool {
        match p.split_first() {
            None => h.is_empty(),
            Some(('*', rest)) => (0..=h.len()).any(|i| reference_glob(&h[i..], rest)),
            Some((&c, rest)) => {
                !h.is_empty() && (c == '?' || h[0] == c) && reference_glob(&h[1..], rest)
            }
        }
    }

    fn lower_chars(s: &str) -> Vec<char> {
        s.to_lowercase().chars().collect()
    }

    #[test]
    fn globs() {
        assert!(glob("prod/payments/db", "prod/*"));
        assert!(glob("PROD/Payments/DB", "prod/*/db"));
        assert!(glob("prod/db", "prod/d?"));
        assert!(!glob("prod/db", "prod/d"));
        assert!(!glob("prod/db", "prod/?"));
        assert!(glob("", "*"));
        assert!(glob("", ""));
        assert!(!glob("a", ""));
        assert!(glob("aXbXc", "*x*x*"));
        assert!(!glob("aXb", "*x*x*"));
        assert!(
            glob("Übung/ä", "übung/?"),
            "non-ASCII haystack, one character"
        );
        assert!(
            !glob("prod/db", "prod/dé"),
            "non-ASCII pattern, ASCII haystack"
        );
    }

    #[test]
    fn substrings_prefixes_and_equality() {
        assert!(contains("Primary Postgres", "postgres"));
        assert!(contains("Primary Postgres", "y p"));
        assert!(contains("abc", ""));
        assert!(!contains("ab", "abc"));
        assert!(!contains("Primary", "é"));
        assert!(contains("Überprüfung", "überprüf"));
        assert!(starts_with("Prod/DB", "prod/"));
        assert!(!starts_with("pro", "prod"));
        assert!(starts_with("Ärger", "ä"));
        assert!(equals("EU-West-1", "eu-west-1"));
        assert!(!equals("eu-west-1a", "eu-west-1"));
        assert!(equals("ÄB", "äb"));
        assert!(has_wildcards("a*") && has_wildcards("?") && !has_wildcards("a/b"));
    }

    proptest! {
        #[test]
        fn glob_agrees_with_reference(h in "[abAB/*?é]{0,8}", p in "[abAB/*?é]{0,6}") {
            let p = p.to_lowercase();
            let expected = reference_glob(&lower_chars(&h), &lower_chars(&p));
            prop_assert_eq!(glob(&h, &p), expected);
            prop_assert_eq!(glob_lowered(&h.to_lowercase(), &p), expected);
        }

        #[test]
        fn substring_agrees_with_lowercase_contains(h in "[abcABCé ]{0,10}", n in "[abcABCé ]{0,4}") {
            let n = n.to_lowercase();
            let lh = h.to_lowercase();
            prop_assert_eq!(contains(&h, &n), lh.contains(&n));
            prop_assert_eq!(starts_with(&h, &n), lh.starts_with(&n));
            prop_assert_eq!(equals(&h, &n), lh == n);
        }
    }
}

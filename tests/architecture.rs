//! The house's structure, checked: layers point one way (app → api →
//! server → domain), the emulator crate knows nothing of the dashboard, and
//! no file or function grows into a god. ARCHITECTURE.md describes the
//! rules; this test keeps them true. It reads the sources as text (after
//! `cargo fmt`), so it needs no features and no build of the dashboard.

use std::fs;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// Lines a source file may have.
const MAX_FILE_LINES: usize = 800;
/// Lines a function may have; `#[test]` functions tell one scenario each and
/// are exempt (they still count towards their file).
const MAX_FN_LINES: usize = 120;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name()
                .is_some_and(|n| n == "target" || n == "node_modules")
            {
                continue;
            }
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn files_under(rel: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    rust_files(&Path::new(ROOT).join(rel), &mut out);
    out.sort();
    out
}

fn rel(p: &Path) -> String {
    p.strip_prefix(ROOT).unwrap_or(p).display().to_string()
}

/// The code of a file: comment lines dropped (a doc comment may name a
/// module above it), string contents kept (paths do not hide in strings).
fn code_lines(p: &Path) -> Vec<(usize, String)> {
    fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect()
}

/// Every place under `dir` that names one of `forbidden` (e.g. `crate::api`).
fn offences(dir: &str, forbidden: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for f in files_under(dir) {
        for (n, line) in code_lines(&f) {
            for word in forbidden {
                if line.contains(word) {
                    out.push(format!("{}:{n}: names `{word}`: {}", rel(&f), line.trim()));
                }
            }
        }
    }
    out
}

#[test]
fn layers_point_one_way() {
    let mut bad = Vec::new();
    // domain is pure and at the bottom.
    bad.extend(offences(
        "src/domain",
        &[
            "crate::api",
            "crate::app",
            "crate::server",
            "crate::web",
            "leptos",
            "tokio",
            "aws_",
        ],
    ));
    // server knows neither the wire types nor the pages.
    bad.extend(offences(
        "src/server",
        &["crate::api", "crate::app", "crate::web"],
    ));
    // api serves pages but does not render them.
    bad.extend(offences("src/api", &["crate::app", "crate::web"]));
    // app renders what api returns; it never reaches into the server.
    bad.extend(offences("src/app", &["crate::server", "crate::web"]));
    assert!(
        bad.is_empty(),
        "imports against the layers:\n{}",
        bad.join("\n")
    );
}

#[test]
fn domain_uses_only_std_serde_chrono_and_small_pure_crates() {
    const ALLOWED: &[&str] = &[
        "std",
        "core",
        "alloc",
        "crate",
        "super",
        "self",
        "serde",
        "serde_json",
        "chrono",
        "memchr",
        "percent_encoding",
        "form_urlencoded",
        // Property tests, in test modules only (a dev-dependency).
        "proptest",
    ];
    // `use secret::X` in domain/mod.rs, `use Severity::*` in a match: local.
    let local: Vec<String> = files_under("src/domain")
        .iter()
        .filter_map(|f| f.file_stem().map(|s| s.to_string_lossy().to_string()))
        .collect();
    let mut bad = Vec::new();
    for f in files_under("src/domain") {
        for (n, line) in code_lines(&f) {
            let t = line.trim_start();
            let Some(rest) = t
                .strip_prefix("use ")
                .or_else(|| t.strip_prefix("pub use "))
            else {
                continue;
            };
            // `use {a::x, b::*};` names several roots.
            let roots: Vec<&str> = match rest.trim_start().strip_prefix('{') {
                Some(list) => list.split(',').collect(),
                None => vec![rest],
            };
            for root in roots {
                let root = root
                    .trim()
                    .trim_start_matches("::")
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or_default();
                let is_local =
                    local.iter().any(|m| m == root) || root.starts_with(char::is_uppercase);
                if !root.is_empty() && !ALLOWED.contains(&root) && !is_local {
                    bad.push(format!("{}:{n}: uses `{root}`", rel(&f)));
                }
            }
        }
    }
    assert!(bad.is_empty(), "domain must stay pure:\n{}", bad.join("\n"));
}

#[test]
fn the_emulator_knows_nothing_of_the_dashboard() {
    let dir = Path::new(ROOT).join("crates/secretsmanager-emulator");
    let manifest = fs::read_to_string(dir.join("Cargo.toml")).expect("the emulator crate exists");
    assert!(
        !manifest.contains("secretscope"),
        "the emulator's Cargo.toml must not depend on the dashboard"
    );
    let bad = offences("crates/secretsmanager-emulator", &["secretscope::"]);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn no_god_files() {
    let mut bad = Vec::new();
    for dir in ["src", "tests", "bench", "crates"] {
        for f in files_under(dir) {
            let n = fs::read_to_string(&f).unwrap_or_default().lines().count();
            if n > MAX_FILE_LINES {
                bad.push(format!("{}: {n} lines", rel(&f)));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "files over {MAX_FILE_LINES} lines (split them by what they do):\n{}",
        bad.join("\n")
    );
}

/// `fn` lines and their lengths, from an opening line to the closing brace
/// at the same indentation (rustfmt's layout).
fn functions(p: &Path) -> Vec<(String, usize, usize, bool)> {
    let text = fs::read_to_string(p).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim_start();
        let indent = &l[..l.len() - t.len()];
        let sig = [
            "pub(crate) ",
            "pub(super) ",
            "pub ",
            "async ",
            "const ",
            "unsafe ",
        ]
        .iter()
        .fold(t, |s, p| s.strip_prefix(p).unwrap_or(s));
        let sig = sig.strip_prefix("async ").unwrap_or(sig);
        let Some(name) = sig.strip_prefix("fn ") else {
            continue;
        };
        if l.trim_end().ends_with(';') {
            continue;
        }
        let name: String = name
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let close = format!("{indent}}}");
        let Some(end) = lines[i + 1..].iter().position(|x| *x == close) else {
            continue;
        };
        // A test: an attribute right above the signature says so.
        let is_test = lines[..i]
            .iter()
            .rev()
            .take_while(|x| x.trim_start().starts_with("#[") || x.trim_start().starts_with("///"))
            .any(|x| x.contains("test]") || x.contains("::test"));
        out.push((name, i + 1, end + 2, is_test));
    }
    out
}

#[test]
fn no_god_functions() {
    let mut bad = Vec::new();
    for dir in ["src", "tests", "bench", "crates"] {
        for f in files_under(dir) {
            for (name, line, len, is_test) in functions(&f) {
                if !is_test && len > MAX_FN_LINES {
                    bad.push(format!("{}:{line}: fn {name} is {len} lines", rel(&f)));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "functions over {MAX_FN_LINES} lines (split them into their steps):\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_checker_sees_what_it_checks() {
    // The scans above would pass on an empty tree: make sure they read ours.
    assert!(files_under("src/server").len() > 20);
    assert!(files_under("src/domain").len() > 10);
    let f = Path::new(ROOT).join("tests/architecture.rs");
    let found = functions(&f);
    assert!(found
        .iter()
        .any(|(n, _, len, t)| n == "functions" && *len > 10 && !t));
    assert!(found
        .iter()
        .any(|(n, _, _, t)| n == "no_god_functions" && *t));
    assert!(
        !offences("src/api", &["crate::server"]).is_empty(),
        "api does call server"
    );
}

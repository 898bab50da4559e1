//! `secretscope user …` and `secretscope audit export` against a store in a
//! temporary directory: the commands record what they do, and the export
//! reads it back, filtered, as CSV.

mod common;

use common::text;
use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

/// `secretscope ARGS` as `ops` in `dir`, with the store in it, `stdin`
/// piped in.
fn run(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = common::as_ops(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn user_changes_are_audited_and_exported() {
    let dir = tempfile::tempdir().unwrap();
    let add = run(
        dir.path(),
        &[
            "user", "add", "alice", "--role", "viewer", "--scope", "prod/",
        ],
        "a long enough password\n",
    );
    assert!(add.status.success(), "{}", text(&add.stderr));
    let off = run(dir.path(), &["user", "disable", "alice"], "");
    assert!(off.status.success(), "{}", text(&off.stderr));

    let all = run(dir.path(), &["audit", "export"], "");
    assert!(all.status.success(), "{}", text(&all.stderr));
    let csv = text(&all.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "id,time,actor,client,action,target,outcome,detail,request_id"
    );
    // The export is recorded before it runs, so it is its own last line.
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[1].contains(",local:ops,local,user.create,alice,allowed,"));
    assert!(lines[1].ends_with(",created with viewer on prefix:prod/,-"));
    assert!(lines[2].contains(",user.disable,alice,"));
    assert!(lines[3].contains(",audit.export,,allowed,the whole trail,-"));
    assert!(text(&all.stderr).contains("exported 3 audit records"));

    // Filtered, to a file; the first export is on the trail now.
    let out = dir.path().join("exports.csv");
    let filtered = run(
        dir.path(),
        &[
            "audit",
            "export",
            "--action",
            "audit.export",
            "--output",
            out.to_str().unwrap(),
        ],
        "",
    );
    assert!(filtered.status.success(), "{}", text(&filtered.stderr));
    let csv = std::fs::read_to_string(&out).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.contains(",audit.export,,allowed,action=audit.export,"));

    // A filter that does not parse changes nothing and exits 2.
    let bad = run(dir.path(), &["audit", "export", "--outcome", "maybe"], "");
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("allowed, denied or failed"));
    assert!(bad.stdout.is_empty());
    let after = run(
        dir.path(),
        &["audit", "export", "--action", "audit.export"],
        "",
    );
    assert_eq!(
        text(&after.stdout).lines().count(),
        4,
        "three exports so far, not the refused one"
    );
}

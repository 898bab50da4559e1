//! `secretscope user …` and `secretscope audit export` against a store in a
//! temporary directory: the commands record what they do, and the export
//! reads it back, filtered, as CSV.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn run(db: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_secretscope"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("USER", "ops")
        .env("SECRETSCOPE_LOG", "warn")
        .env("SECRETSCOPE_STORE_SQLITE_PATH", db)
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

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn user_changes_are_audited_and_exported() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store/secretscope.db");
    let add = run(
        &db,
        &[
            "user", "add", "alice", "--role", "viewer", "--scope", "prod/",
        ],
        "a long enough password\n",
    );
    assert!(add.status.success(), "{}", text(&add.stderr));
    let off = run(&db, &["user", "disable", "alice"], "");
    assert!(off.status.success(), "{}", text(&off.stderr));

    let all = run(&db, &["audit", "export"], "");
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
        &db,
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
    let bad = run(&db, &["audit", "export", "--outcome", "maybe"], "");
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("allowed, denied or failed"));
    assert!(bad.stdout.is_empty());
    let after = run(&db, &["audit", "export", "--action", "audit.export"], "");
    assert_eq!(
        text(&after.stdout).lines().count(),
        4,
        "three exports so far, not the refused one"
    );
}

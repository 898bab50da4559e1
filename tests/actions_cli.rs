//! `secretscope rotate|cancel-rotation|rollback|restore` as a script or an
//! on-call engineer runs them: the real binary against the demo endpoint
//! running as its own process (`secretscope local-endpoint`), with a store
//! in a temporary directory. What changed is read back from the endpoint
//! through the AWS SDK, and what was recorded through `audit export`.

mod common;

use aws_sdk_secretsmanager::types::SecretListEntry;
use common::{code, text, Endpoint};
use std::process::{Command, Output, Stdio};

/// The version holding `label`.
fn holder(secret: &SecretListEntry, label: &str) -> Option<String> {
    secret
        .secret_versions_to_stages()?
        .iter()
        .find(|(_, stages)| stages.iter().any(|l| l == label))
        .map(|(v, _)| v.clone())
}

/// The default actions.production patterns.
fn production(name: &str) -> bool {
    let n = name.to_lowercase();
    ["prod/", "production/", "prd/"]
        .iter()
        .any(|p| n.starts_with(p))
}

fn deleted(s: &SecretListEntry) -> bool {
    s.deleted_date().is_some()
}

/// A secret AWSCURRENT can move back from: a labelled previous version and
/// no rotation half done.
fn can_roll_back(s: &SecretListEntry) -> bool {
    !deleted(s)
        && holder(s, "AWSPENDING").is_none()
        && matches!(
            (holder(s, "AWSCURRENT"), holder(s, "AWSPREVIOUS")),
            (Some(c), Some(p)) if c != p
        )
}

fn name(s: &SecretListEntry) -> String {
    s.name().unwrap().to_string()
}

struct Env {
    dir: tempfile::TempDir,
    ep: Endpoint,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let ep = Endpoint::start(dir.path());
        Env { dir, ep }
    }

    /// `secretscope ARGS` as `ops`, with the store in the temporary directory
    /// and no configuration, profile or instance metadata from around the test.
    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = common::as_ops(self.dir.path());
        c.args(args).stdin(Stdio::null());
        c
    }

    /// An action on `secret` against the endpoint.
    fn act(&self, action: &str, secret: &str, extra: &[&str]) -> Output {
        let mut args = vec![action, secret, "--endpoint-url", &self.ep.url];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// `rotate NAME --wait`, with CloudTrail read from the endpoint too.
    fn rotate_and_wait(&self, secret: &str) -> Output {
        self.wait_for("rotate", secret)
    }

    /// `cmd SECRET --wait` (`rotate`, `retry-rotation`), with CloudTrail on.
    fn wait_for(&self, cmd: &str, secret: &str) -> Output {
        self.command(&[cmd, secret, "--endpoint-url", &self.ep.url, "--wait"])
            .env("SECRETSCOPE_CLOUDTRAIL_ENABLED", "true")
            .output()
            .unwrap()
    }

    fn audit(&self, action: &str) -> Vec<String> {
        let o = self.run(&["audit", "export", "--action", action]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        text(&o.stdout)
            .lines()
            .skip(1)
            .map(str::to_string)
            .collect()
    }
}

#[test]
fn restore_cancels_a_deletion_once_and_is_audited_as_the_os_user() {
    let env = Env::new();
    let all = env.ep.list();
    let target = all
        .iter()
        .find(|s| deleted(s) && !production(&name(s)))
        .map(name)
        .expect("the demo has secrets scheduled for deletion");

    let o = env.act("restore", &target, &[]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout).trim(),
        format!("{target} is restored: it is no longer scheduled for deletion.")
    );
    assert!(
        !deleted(&env.ep.secret(&target)),
        "restored at the endpoint"
    );

    let again = env.act("restore", &target, &[]);
    assert_ne!(code(&again), 0);
    assert!(again.stdout.is_empty(), "{}", text(&again.stdout));
    let err = text(&again.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("nothing to restore"),
        "{err}"
    );

    // The restore that happened: requested, then done, both as local:ops;
    // the refused one changed nothing and is not on the trail.
    let records = env.audit("secret.restore");
    assert_eq!(records.len(), 2, "{records:#?}");
    for r in &records {
        assert!(
            r.contains(",local:ops,") && r.contains(&format!(",secret.restore,{target},allowed,")),
            "{r}"
        );
    }
    assert!(records[0].contains("requested: The scheduled deletion of"));
    assert!(records[1].contains("done. before:"));
}

#[test]
fn rollback_moves_awscurrent_back_to_the_previous_version() {
    let env = Env::new();
    let s = env
        .ep
        .list()
        .into_iter()
        .find(|s| can_roll_back(s) && !production(&name(s)))
        .expect("the demo has rotated non-production secrets");
    let target = name(&s);
    let (current, previous) = (
        holder(&s, "AWSCURRENT").unwrap(),
        holder(&s, "AWSPREVIOUS").unwrap(),
    );

    let o = env.act("rollback", &target, &[]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout).trim(),
        format!("AWSCURRENT of {target} is now version {previous}.")
    );
    let after = env.ep.secret(&target);
    assert_eq!(holder(&after, "AWSCURRENT"), Some(previous));
    assert_eq!(holder(&after, "AWSPREVIOUS"), Some(current));

    let records = env.audit("secret.rollback");
    assert_eq!(records.len(), 2, "{records:#?}");
    assert!(records.iter().all(|r| r.contains(",local:ops,")));
}

/// A secret rotated by a Lambda with `behaviour` in its name, not
/// production, not deleted (a failing one has a failed rotation's
/// AWSPENDING left: a retry is allowed over it).
fn rotated_by(all: &[SecretListEntry], behaviour: &str) -> SecretListEntry {
    all.iter()
        .find(|s| {
            s.rotation_lambda_arn()
                .is_some_and(|l| l.contains(&format!("-{behaviour}-")))
                && !deleted(s)
                && (behaviour != "ok" || holder(s, "AWSPENDING").is_none())
                && !production(&name(s))
        })
        .cloned()
        .unwrap_or_else(|| panic!("the demo has a secret rotated by a {behaviour} Lambda"))
}

#[test]
fn rotate_wait_follows_the_rotation_to_its_end() {
    let env = Env::new();
    let all = env.ep.list();

    // A working Lambda: each state printed, exit 0, the new version current.
    let ok = name(&rotated_by(&all, "ok"));
    let o = env.rotate_and_wait(&ok);
    let out = text(&o.stdout);
    assert_eq!(code(&o), 0, "{out}{}", text(&o.stderr));
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with(&format!("Rotation of {ok} started: version ")),
        "{out}"
    );
    let version = lines[0]
        .split("version ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert!(
        lines
            .last()
            .unwrap()
            .contains(&format!("Promoted: version {version} holds AWSCURRENT")),
        "{out}"
    );
    assert_eq!(
        holder(&env.ep.secret(&ok), "AWSCURRENT").as_deref(),
        Some(version)
    );

    // A Lambda that fails, and failed before: AWSPENDING is left on the
    // failed attempt's version, so `rotate` is refused as RotateSecret
    // would be (exit 2, nothing done), naming the version and the retry.
    let broken = rotated_by(&all, "broken");
    let before = holder(&broken, "AWSCURRENT");
    let leftover = holder(&broken, "AWSPENDING").expect("the seed left AWSPENDING");
    let o = env.rotate_and_wait(&name(&broken));
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains(&format!("version {leftover} holds AWSPENDING"))
            && text(&o.stderr).contains("retry-rotation"),
        "{}",
        text(&o.stderr)
    );
    // retry-rotation clears it and rotates again: CloudTrail's message,
    // exit 1, AWSCURRENT unmoved.
    let o = env.wait_for("retry-rotation", &name(&broken));
    let out = text(&o.stdout);
    assert_eq!(code(&o), 1, "{out}{}", text(&o.stderr));
    assert!(
        out.contains(&format!("AWSPENDING removed from version {leftover}")),
        "{out}"
    );
    assert!(
        out.lines()
            .last()
            .unwrap()
            .contains("The rotation failed: SecretsManagerRotation-broken-"),
        "{out}"
    );
    assert_eq!(holder(&env.ep.secret(&name(&broken)), "AWSCURRENT"), before);
    let retries = env.audit("secret.retry-rotation");
    for said in [
        format!("called UpdateSecretVersionStage (AWSPENDING removed from version {leftover})"),
        "called RotateSecret (RotateImmediately=true)".to_string(),
        "rotation followed: The rotation failed".to_string(),
    ] {
        assert!(
            retries.iter().any(|r| r.contains(&said)),
            "{said}: {retries:#?}"
        );
    }
    // How each ended is on the audit trail.
    let records = env.audit("secret.rotate");
    assert!(
        records
            .iter()
            .any(|r| r.contains(",allowed,\"rotation followed: Promoted")),
        "{records:#?}"
    );
}

#[test]
fn production_needs_its_name_typed_and_changes_nothing_without() {
    let env = Env::new();
    let s = env
        .ep
        .list()
        .into_iter()
        .find(|s| can_roll_back(s) && name(s).starts_with("prod/"))
        .expect("the demo has rotated prod/ secrets");
    let target = name(&s);
    let stages = s.secret_versions_to_stages().cloned();

    let o = env.act("rollback", &target, &[]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert!(o.stdout.is_empty());
    let err = text(&o.stderr);
    assert!(
        err.contains("production secret") && err.contains(&format!("--confirm {target}")),
        "{err}"
    );

    let typo = format!("{target}x");
    let o = env.act("rollback", &target, &["--confirm", &typo]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("is not the secret's name"));

    assert_eq!(
        env.ep.secret(&target).secret_versions_to_stages().cloned(),
        stages,
        "labels unchanged"
    );
    assert!(env.audit("secret.rollback").is_empty());

    let o = env.act("rollback", &target, &["--confirm", &target]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(
        holder(&env.ep.secret(&target), "AWSCURRENT"),
        holder(&s, "AWSPREVIOUS")
    );
}

#[test]
fn unknown_secrets_and_versions_are_refused() {
    let env = Env::new();
    let o = env.act("rotate", "dev/no-such-secret", &[]);
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("No secret named dev/no-such-secret"),
        "{}",
        text(&o.stderr)
    );

    let s = env
        .ep
        .list()
        .into_iter()
        .find(|s| can_roll_back(s) && !production(&name(s)))
        .unwrap();
    let target = name(&s);
    let o = env.act("rollback", &target, &["--to-version", "no-such-version"]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("has no version no-such-version"));
    assert_eq!(
        env.ep.secret(&target).secret_versions_to_stages(),
        s.secret_versions_to_stages()
    );
}

#[test]
fn help_documents_the_exit_codes() {
    for cmd in ["rotate", "cancel-rotation", "rollback", "restore"] {
        let o = common::help(&[cmd]);
        assert_eq!(code(&o), 0);
        let help = text(&o.stdout);
        for line in [
            "--confirm <NAME>",
            "--endpoint-url <URL>",
            "local:$USER",
            "Exit codes:",
            "  0  done",
            "  1  not done",
            "  2  not done, bad input",
        ] {
            assert!(help.contains(line), "{cmd}: {line} in {help}");
        }
    }
    let rollback = text(&common::help(&["rollback"]).stdout);
    assert!(rollback.contains("--to-version <ID>"), "{rollback}");
}

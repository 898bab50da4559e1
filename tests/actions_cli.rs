//! `secretscope rotate|cancel-rotation|rollback|restore` as a script or an
//! on-call engineer runs them: the real binary against the demo endpoint
//! running as its own process (`secretscope local-endpoint`), with a store
//! in a temporary directory. What changed is read back from the endpoint
//! over the AWS protocol, and what was recorded through `audit export`.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_secretscope");

/// `secretscope local-endpoint` on a free loopback port, killed on drop
/// (also when a test fails half way).
struct Endpoint {
    child: Child,
    /// `127.0.0.1:PORT`.
    addr: String,
    /// `http://127.0.0.1:PORT`.
    url: String,
    /// Kept open: the endpoint prints to it, and a closed pipe would make
    /// that print fail.
    _stdout: BufReader<ChildStdout>,
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Endpoint {
    /// Binds port 0 and reads the address it got from the first line it
    /// prints ("demo Secrets Manager endpoint with N secrets at URL"), which
    /// comes once it listens: no port to guess, no race for a free one.
    fn start(dir: &Path) -> Endpoint {
        let mut child = Command::new(BIN)
            .args(["local-endpoint", "--bind", "127.0.0.1:0"])
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("SECRETSCOPE_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut ep = Endpoint {
            child,
            addr: String::new(),
            url: String::new(),
            _stdout: BufReader::new(stdout),
        };
        let mut line = String::new();
        ep._stdout.read_line(&mut line).unwrap();
        let url = line
            .trim()
            .rsplit(' ')
            .next()
            .filter(|u| u.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no endpoint URL in {line:?}"))
            .to_string();
        ep.addr = url.trim_start_matches("http://").to_string();
        ep.url = url;
        ep
    }

    /// One Secrets Manager call over the AWS JSON 1.1 protocol (the endpoint
    /// takes any credentials, and none).
    fn call(&self, op: &str, body: &Value) -> Value {
        let body = body.to_string();
        let mut s = TcpStream::connect(&self.addr).unwrap();
        write!(
            s,
            "POST / HTTP/1.1\r\nHost: {}\r\nX-Amz-Target: secretsmanager.{op}\r\n\
             Content-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let raw = String::from_utf8(raw).unwrap();
        let (head, payload) = raw.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{op}: {raw}");
        let payload = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(payload)
        } else {
            payload.to_string()
        };
        serde_json::from_str(&payload).unwrap_or_else(|e| panic!("{op}: {e}: {payload}"))
    }

    /// Every secret, those scheduled for deletion included, by name.
    fn list(&self) -> Vec<Value> {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut req = json!({"IncludePlannedDeletion": true, "MaxResults": 100});
            if let Some(t) = token.take() {
                req["NextToken"] = json!(t);
            }
            let page = self.call("ListSecrets", &req);
            all.extend(page["SecretList"].as_array().unwrap().iter().cloned());
            match page["NextToken"].as_str() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        all
    }

    fn secret(&self, name: &str) -> Value {
        self.list()
            .into_iter()
            .find(|s| s["Name"] == name)
            .unwrap_or_else(|| panic!("{name} is gone"))
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").unwrap();
        let n = usize::from_str_radix(size.trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
}

/// The version holding `label`.
fn holder(secret: &Value, label: &str) -> Option<String> {
    secret["SecretVersionsToStages"]
        .as_object()?
        .iter()
        .find(|(_, stages)| {
            stages
                .as_array()
                .is_some_and(|s| s.iter().any(|l| l == label))
        })
        .map(|(v, _)| v.clone())
}

/// The default actions.production patterns.
fn production(name: &str) -> bool {
    let n = name.to_lowercase();
    ["prod/", "production/", "prd/"]
        .iter()
        .any(|p| n.starts_with(p))
}

fn deleted(s: &Value) -> bool {
    !s["DeletedDate"].is_null()
}

/// A secret AWSCURRENT can move back from: a labelled previous version and
/// no rotation half done.
fn can_roll_back(s: &Value) -> bool {
    !deleted(s)
        && holder(s, "AWSPENDING").is_none()
        && matches!(
            (holder(s, "AWSCURRENT"), holder(s, "AWSPREVIOUS")),
            (Some(c), Some(p)) if c != p
        )
}

fn name(s: &Value) -> String {
    s["Name"].as_str().unwrap().to_string()
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

    fn db(&self) -> PathBuf {
        self.dir.path().join("store/secretscope.db")
    }

    /// `secretscope ARGS` as `ops`, with the store in the temporary directory
    /// and no configuration, profile or instance metadata from around the test.
    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("USER", "ops")
            .env("SECRETSCOPE_LOG", "warn")
            .env("SECRETSCOPE_STORE_SQLITE_PATH", self.db())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null());
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

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited, not killed")
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
fn rotated_by(all: &[Value], behaviour: &str) -> Value {
    all.iter()
        .find(|s| {
            s["RotationLambdaARN"]
                .as_str()
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
    let stages = s["SecretVersionsToStages"].clone();

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
        env.ep.secret(&target)["SecretVersionsToStages"],
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
        env.ep.secret(&target)["SecretVersionsToStages"],
        s["SecretVersionsToStages"]
    );
}

fn help(cmd: &str) -> Output {
    Command::new(BIN)
        .args([cmd, "--help"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap()
}

#[test]
fn help_documents_the_exit_codes() {
    for cmd in ["rotate", "cancel-rotation", "rollback", "restore"] {
        let o = help(cmd);
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
    let rollback = text(&help("rollback").stdout);
    assert!(rollback.contains("--to-version <ID>"), "{rollback}");
}

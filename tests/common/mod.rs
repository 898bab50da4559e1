//! What the CLI tests share: the binary run as a script runs it, with
//! nothing from around the test (configuration, AWS profile, instance
//! metadata), and the demo endpoint as its own process, read back through
//! the AWS SDK.

// Each test crate uses a part of this.
#![allow(dead_code)]

use aws_sdk_secretsmanager as sm;
use sm::config::{BehaviorVersion, Credentials, Region};
use sm::types::SecretListEntry;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_secretscope");

/// `secretscope` in `dir` with a clean environment: PATH, quiet logs, no
/// instance metadata; no configuration file unless `dir` has one.
pub fn secretscope(dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("SECRETSCOPE_LOG", "warn")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    c
}

/// `secretscope` in `dir` as the OS user `ops` (audited as `local:ops`),
/// with its store in `dir`.
pub fn as_ops(dir: &Path) -> Command {
    let mut c = secretscope(dir);
    c.env("USER", "ops").env(
        "SECRETSCOPE_STORE_SQLITE_PATH",
        dir.join("store/secretscope.db"),
    );
    c
}

/// `secretscope ARGS --help`.
pub fn help(args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    secretscope(dir.path())
        .args(args)
        .arg("--help")
        .output()
        .unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exited, not killed")
}

/// `secretscope local-endpoint` on a free loopback port, killed on drop
/// (also when a test fails half way), and an SDK client for it.
pub struct Endpoint {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    client: sm::Client,
    runtime: tokio::runtime::Runtime,
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
    pub fn start(dir: &Path) -> Endpoint {
        let mut child = secretscope(dir)
            .args(["local-endpoint", "--bind", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let url = line
            .trim()
            .rsplit(' ')
            .next()
            .filter(|u| u.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no endpoint URL in {line:?}"))
            .to_string();
        // The endpoint takes any credentials.
        let conf = sm::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&url)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "static"))
            .build();
        Endpoint {
            child,
            url,
            client: sm::Client::from_conf(conf),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            _stdout: stdout,
        }
    }

    /// Every secret, those scheduled for deletion included (ListSecrets,
    /// every page).
    pub fn list(&self) -> Vec<SecretListEntry> {
        self.runtime.block_on(async {
            let mut all = Vec::new();
            let mut pages = self
                .client
                .list_secrets()
                .include_planned_deletion(true)
                .max_results(100)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                all.extend(page.expect("ListSecrets").secret_list.unwrap_or_default());
            }
            all
        })
    }

    /// The secret named `name`, as ListSecrets shows it.
    pub fn secret(&self, name: &str) -> SecretListEntry {
        self.list()
            .into_iter()
            .find(|s| s.name() == Some(name))
            .unwrap_or_else(|| panic!("{name} is gone"))
    }
}

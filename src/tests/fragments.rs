//! The parts of pages the server renders for islands to swap in
//! (`app::components::fragment`): text from AWS arrives escaped, never as
//! markup, and a secret out of scope answers exactly as a missing one.

use super::app::TestApp;
use crate::app::components::fragment::Fragment;
use crate::domain::links::query_value;
use crate::server::config::Config;
use secretsmanager_emulator::{LocalOptions, PlannedReader, ReaderKind};

async fn app() -> TestApp {
    let mut c = Config::default();
    c.cloudtrail.enabled = true;
    c.cloudtrail.lookback_days = 90;
    c.readers.background_share = 0.0;
    TestApp::builder()
        .config(c)
        .trails()
        .endpoint(LocalOptions {
            seed_secrets: 60,
            seed: 42,
            ..LocalOptions::default()
        })
        .build()
        .await
}

/// Asks `path` with `body` until the fragment is complete (a refresh only
/// the first time: each one takes a read from the person's AWS budget).
async fn fragment(c: &super::client::Client, path: &str, body: &str) -> Fragment {
    let mut body = body.to_string();
    for _ in 0..600 {
        let res = c.post_form(path, &body).await;
        body = body.replace("refresh=true", "refresh=false");
        assert_eq!(res.status, 200, "{}", res.body);
        let f: Fragment = res.json();
        if !f.more {
            return f;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{path} never finished");
}

#[tokio::test]
async fn text_from_cloudtrail_arrives_escaped_in_the_readers_fragments() {
    let t = app().await;
    let admin = t.signed_in("admin").await;
    let account = t.state.inventory.snapshot().secrets()[0]
        .account
        .to_string();
    // A version stage is any string of up to 256 characters to AWS; an
    // attacker who can call GetSecretValue chooses it, and CloudTrail
    // records it as asked.
    let hostile = "<img src=x onerror=alert(1)>\"'&";
    t.ep.endpoint
        .add_reads(
            &t.in_scope,
            PlannedReader {
                principal: format!("arn:aws:iam::{account}:role/curious-app"),
                account: account.clone(),
                session: "curious-1".into(),
                stage: Some(hostile.into()),
                version_id: None,
                error: None,
                batch: false,
                from: t.ep.endpoint.now_ms() - 3_600_000,
                until: None,
                every: 600_000,
                kind: ReaderKind::Steady,
            },
        )
        .unwrap();
    let id = query_value(&t.in_scope);
    let page = fragment(
        &admin,
        "/api/readers_fragment",
        &format!("id={id}&refresh=true"),
    )
    .await;
    assert!(page.html.contains("curious-app"), "{}", page.html);
    assert!(
        page.html.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{}",
        page.html
    );
    assert!(
        !page.html.contains("<img"),
        "markup from CloudTrail: {}",
        page.html
    );
    let brief = fragment(
        &admin,
        "/api/readers_brief_fragment",
        &format!("id={id}&focus=last-day"),
    )
    .await;
    assert!(brief.html.contains("curious-app"), "{}", brief.html);
    assert!(!brief.html.contains("<img"), "{}", brief.html);
}

#[tokio::test]
async fn out_of_scope_and_missing_fragments_answer_alike() {
    let t = app().await;
    let scoped = t.signed_in("payments").await;
    for (path, rest) in [
        ("/api/readers_fragment", "refresh=false"),
        ("/api/readers_brief_fragment", "focus=last-day"),
        ("/api/rotation_fragment", "kind=rotate&elsewhere=false"),
    ] {
        let out = scoped
            .post_form(path, &format!("id={}&{rest}", query_value(&t.out_of_scope)))
            .await;
        let missing = scoped
            .post_form(path, &format!("id=prod%2Fno%2Fsuch-secret&{rest}"))
            .await;
        assert_eq!(out.status, 403, "{path}");
        assert_eq!(missing.status, 403, "{path}");
        assert_eq!(
            out.body.replace(&t.out_of_scope, "X"),
            missing.body.replace("prod/no/such-secret", "X"),
            "{path}: the answer is no oracle"
        );
        let mine = fragment(
            &scoped,
            path,
            &format!("id={}&{rest}", query_value(&t.in_scope)),
        )
        .await;
        assert!(!mine.html.is_empty(), "{path}: in scope, answered");
    }
}

/// A rotation's follow-up: the failure text (CloudTrail's, chosen by
/// whoever wrote the Lambda) and the name arrive as text; the outcome
/// replaces the "started" banner once the rotation has finished.
#[test]
fn the_rotation_fragment_escapes_and_says_the_outcome() {
    use crate::app::components::rotation_follow::view::fragment as rotation;
    use crate::domain::actions::{RotationProgress, RotationStage};
    use crate::domain::Timestamp;
    let hostile = "<img src=x onerror=alert(1)>\"'&";
    let name = format!("prod/{hostile}");
    let mut p = RotationProgress::new(&name, "v2", "operator", Timestamp::new(1_700_000_000));
    let running = rotation(&name, "Rotation started: …", Some(p.clone()), true);
    assert!(running.more, "a running rotation is asked about again");
    assert!(
        running.html.contains(r#"data-outcome="started""#),
        "{}",
        running.html
    );
    assert!(
        running.html.contains(r#"data-stage="pending""#),
        "{}",
        running.html
    );
    assert!(
        running.html.contains("Rotation started"),
        "{}",
        running.html
    );

    p.stage = RotationStage::Failed;
    p.steps.push((
        Timestamp::new(1_700_000_060),
        format!("failed at setSecret: {hostile}"),
    ));
    let failed = rotation(&name, "Rotation started: …", Some(p), true);
    assert!(!failed.more, "a finished rotation is not asked about again");
    assert!(
        failed.html.contains(r#"data-outcome="failed""#),
        "{}",
        failed.html
    );
    assert!(!failed.html.contains("Rotation started"), "{}", failed.html);
    assert!(
        failed.html.contains("retry, cancel or clear"),
        "{}",
        failed.html
    );
    assert!(!failed.html.contains("<img"), "{}", failed.html);
    assert!(failed.html.contains("&lt;img"), "{}", failed.html);

    let none = rotation(&name, "Rotation started: …", None, false);
    assert!(!none.more);
    assert!(
        none.html.contains("No rotation of this secret was started"),
        "{}",
        none.html
    );
}

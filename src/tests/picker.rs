//! The access request form's secret picker (`api::find_secrets`).

use super::TestApp;

/// The request form's secret picker finds within the caller's scopes only,
/// and refuses an oversized search without searching.
#[tokio::test]
async fn the_secret_picker_finds_only_what_the_caller_may_see() {
    let t = TestApp::builder().build().await;
    let scoped = t.signed_in("payments").await;
    let admin = t.signed_in("admin").await;
    let ask = |c: &super::client::Client, text: &str| {
        let body = format!("text={}", crate::domain::links::query_value(text));
        let c = c.clone();
        async move { c.post_form("/api/find_secrets", &body).await }
    };
    let found = |body: &str| -> Vec<(String, String)> { serde_json::from_str(body).unwrap() };
    let mine = ask(&scoped, &t.in_scope).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert!(found(&mine.body)
        .iter()
        .any(|(_, label)| label.starts_with(&t.in_scope)));
    let theirs = ask(&scoped, &t.out_of_scope).await;
    assert_eq!(theirs.status, 200, "{}", theirs.body);
    assert!(
        !found(&theirs.body)
            .iter()
            .any(|(_, label)| label.starts_with(&format!("{} ", t.out_of_scope))),
        "a secret out of scope was offered: {}",
        theirs.body
    );
    let all = ask(&admin, &t.out_of_scope).await;
    assert!(found(&all.body)
        .iter()
        .any(|(_, label)| label.starts_with(&format!("{} ", t.out_of_scope))));
    let long = ask(&admin, &"x".repeat(crate::api::FIND_TEXT_MAX + 1)).await;
    assert_eq!(long.status, 400, "{}", long.body);
    assert!(
        long.body.contains("at most 256 characters"),
        "{}",
        long.body
    );
}

//! Finding 1 and the CSP: every page's `<head>` holds exactly the shell's
//! elements whatever the path, query and metadata carry, and each response
//! has its own script nonce.

use super::super::TestApp;

/// The `<head>` of an HTML response (or the whole body if it has none),
/// with the contents of its scripts left out: the hydration script's own
/// code is not markup.
fn head_of(res: &str) -> String {
    let start = res.find("<head>").map_or(0, |i| i + "<head>".len());
    let end = res[start..]
        .find("</head>")
        .map_or(res.len(), |i| start + i);
    let mut head = &res[start..end];
    let mut out = String::new();
    while let Some(i) = head.find("<script") {
        let open_end = head[i..].find('>').map_or(head.len(), |j| i + j + 1);
        out.push_str(&head[..open_end]);
        head = match head[open_end..].find("</script>") {
            Some(j) => &head[open_end + j..],
            None => "",
        };
    }
    out.push_str(head);
    out
}

/// The element names that open in `html`, in order (`<title`, `<meta`, …).
fn tags(html: &str) -> Vec<String> {
    html.match_indices('<')
        .filter_map(|(i, _)| {
            let name: String = html[i + 1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            (!name.is_empty()).then(|| name.to_ascii_lowercase())
        })
        .collect()
}

/// Finding 1 (high): a secret's name from the path reached `<title>`
/// unescaped (leptos_meta writes titles as they are), so
/// `/secret/</title><meta http-equiv=refresh …>` redirected the browser.
/// Every page's head must hold exactly the elements the shell writes,
/// whatever the path, the query and the metadata carry.
#[tokio::test]
async fn every_head_is_well_formed_with_hostile_paths_queries_and_metadata() {
    let s = TestApp::builder().build().await;
    let admin = s.signed_in("admin").await;
    let payload = r#"</title><meta http-equiv="refresh" content="0;url=https://evil.example/"><script>alert(1)</script>"#;
    let p = crate::domain::links::path(payload);
    // A secret of the seed whose name is itself a payload.
    let hostile_name = s
        .state
        .inventory
        .snapshot()
        .secrets()
        .iter()
        .map(|x| x.name.to_string())
        .find(|n| n.contains('<'))
        .expect("the seed names a secret with markup");
    let pages = [
        format!("/secret/{p}"),
        format!("/secret/prod/{p}/db"),
        crate::domain::links::secret_href(&hostile_name),
        format!("/secrets?q={p}"),
        format!("/secrets?path={p}&sort={p}&page={p}"),
        format!("/audit?target={p}&actor={p}"),
        format!("/oncall?refresh={p}"),
        format!("/requests?focus={p}"),
        format!("/requests/new?secret={p}"),
        format!("/sources?x={p}"),
        format!("/{p}"),
        format!("/?q={p}"),
    ];
    for path in &pages {
        let res = admin.get(path).await;
        assert!(
            matches!(res.status, 200 | 404),
            "{path}: {} {}",
            res.status,
            &res.body[..res.body.len().min(200)]
        );
        let head = head_of(&res.body);
        let opened = tags(&head);
        assert_eq!(
            opened.iter().filter(|t| *t == "title").count(),
            1,
            "{path}: one <title> in {head}"
        );
        for t in &opened {
            assert!(
                ["meta", "link", "script", "title", "style"].contains(&t.as_str()),
                "{path}: <{t}> in the head: {head}"
            );
        }
        assert!(
            !head.to_ascii_lowercase().contains("<meta http-equiv"),
            "{path}: a meta refresh in the head: {head}"
        );
        // The two metas of the shell (charset, viewport), nothing more.
        assert_eq!(
            opened.iter().filter(|t| *t == "meta").count(),
            2,
            "{path}: {head}"
        );
        let title = &head[head.find("<title>").unwrap() + 7..head.find("</title>").unwrap()];
        assert!(
            !title.contains('<') && !title.contains('>'),
            "{path}: title {title:?}"
        );
    }
    // The anonymous visitor's sign-in page, with a hostile `next`.
    let res = s.client().get(&format!("/login?next={p}")).await;
    let head = head_of(&res.body);
    assert!(
        !head.to_ascii_lowercase().contains("<meta http-equiv"),
        "{head}"
    );
    assert_eq!(
        tags(&head).iter().filter(|t| *t == "title").count(),
        1,
        "{head}"
    );
}

/// Each page carries a fresh Content-Security-Policy nonce, and its script
/// tags carry that nonce and no other.
#[tokio::test]
async fn each_response_has_a_fresh_nonce_matching_its_scripts() {
    let s = TestApp::builder().build().await;
    let admin = s.signed_in("admin").await;
    let mut seen = std::collections::HashSet::new();
    for path in ["/", "/secrets", "/oncall", "/"] {
        let res = admin.get(path).await;
        let csp = res.header("content-security-policy").expect("a CSP header");
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|r| r.split('\'').next())
            .expect("a nonce in the policy")
            .to_string();
        assert!(nonce.len() >= 16, "{nonce}");
        assert!(seen.insert(nonce.clone()), "the nonce {nonce} came twice");
        let res = &res.body;
        let scripts: Vec<&str> = res
            .match_indices("<script")
            .map(|(i, _)| &res[i..i + res[i..].find('>').unwrap()])
            .collect();
        assert!(!scripts.is_empty(), "{path}: no script");
        for tag in scripts {
            assert!(
                tag.contains(&format!("nonce=\"{nonce}\"")),
                "{path}: {tag} without this response's nonce"
            );
        }
    }
}

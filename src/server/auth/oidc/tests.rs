//! Settings, group mapping and claims, without a provider.

use super::*;

fn settings() -> OidcSettings {
    OidcSettings {
        issuer_url: Some("http://127.0.0.1:9/".into()),
        client_id: "secretscope".into(),
        groups: [
            ("secops".to_string(), vec!["admin on *".to_string()]),
            (
                "payments-oncall".to_string(),
                vec![
                    "operator on prefix:prod/payments/".to_string(),
                    "viewer on account:210987654321".to_string(),
                ],
            ),
        ]
        .into_iter()
        .collect(),
        ..OidcSettings::default()
    }
}

#[test]
fn groups_map_to_grants() {
    let s = settings();
    assert!(s.check().is_ok());
    assert_eq!(
        s.grants_for(&["payments-oncall".into(), "unrelated".into()]),
        vec![
            Grant::new(Role::Operator, Scope::Prefix("prod/payments/".into())),
            Grant::new(Role::Viewer, Scope::Account("210987654321".into())),
        ]
    );
    assert_eq!(
        s.grants_for(&["secops".into()]),
        vec![Grant::new(Role::Admin, Scope::All)]
    );
    assert!(s.grants_for(&["everyone".into()]).is_empty());
    assert!(s.grants_for(&[]).is_empty());
}

#[test]
fn bad_settings_name_what_to_fix() {
    let mut s = settings();
    s.issuer_url = Some("http://login.example.com/".into());
    assert!(s.check().unwrap_err().contains("must be https://"));
    let mut s = settings();
    s.client_id = " ".into();
    assert!(s.check().unwrap_err().contains("client_id"));
    let mut s = settings();
    s.groups.insert("x".into(), vec!["root on *".into()]);
    assert!(s.check().unwrap_err().contains("auth.oidc.groups.\"x\""));
    let mut s = settings();
    s.groups.insert("y".into(), vec!["operator".into()]);
    assert!(s.check().unwrap_err().contains("ROLE on SCOPE"));
    assert!(OidcSettings::default().check().is_ok(), "off is fine");
}

#[test]
fn claims_are_read_from_the_payload() {
    use base64::Engine as _;
    let payload = serde_json::json!({"sub": "1", "groups": ["a", "b"], "team": "x"});
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload.to_string());
    let token = format!("h.{b64}.s");
    assert_eq!(groups_of(raw_claim(&token, "groups")), ["a", "b"]);
    assert_eq!(groups_of(raw_claim(&token, "team")), ["x"]);
    assert!(groups_of(raw_claim(&token, "missing")).is_empty());
    assert!(raw_claim("not-a-jwt", "groups").is_none());
}

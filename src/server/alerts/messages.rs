//! The messages: one per alarm change, a digest for a flood, the start
//! summary, as Slack blocks with every piece of other people's text
//! escaped per Slack's rules.

use super::{MAX_DETAIL, MAX_LISTED, MAX_NAME};
use crate::domain::health::{self, HealthConfig};
use crate::domain::{Secret, Timestamp};
use crate::server::health::{Alarm, HealthView, Transition};
use serde_json::{json, Value};

/// Text for Slack's mrkdwn: `&`, `<` and `>` become entities, so hostile
/// input can neither mention (`<!channel>`) nor link (`<https://…|…>`).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters, with an ellipsis when cut.
pub(super) fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

/// A name, clipped and escaped, for mrkdwn.
pub(super) fn name_text(name: &str) -> String {
    escape(&clip(name, MAX_NAME))
}

pub(super) fn alarm_words(a: Alarm) -> &'static str {
    match a {
        Alarm::RotationFailed => "rotation failed",
        Alarm::RotationOverdue => "rotation overdue",
    }
}

pub(super) fn kind(t: &Transition) -> &'static str {
    match t.to {
        Some(Alarm::RotationFailed) => "rotation-failed",
        Some(Alarm::RotationOverdue) => "rotation-overdue",
        None => "recovered",
    }
}

/// A time in the reader's time zone (Slack's date token), with a UTC
/// fallback for clients that do not read it.
pub(super) fn when(t: Timestamp) -> String {
    let fallback = t
        .to_datetime()
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| t.secs().to_string());
    format!(
        "<!date^{}^{{date_short_pretty}} {{time}}|{fallback}>",
        t.secs()
    )
}

/// `<url|label>` to a dashboard path, if a dashboard URL is configured.
pub(super) fn link(dashboard_url: Option<&str>, path: &str, label: &str) -> Option<String> {
    dashboard_url.map(|base| format!("<{}|{}>", escape(&format!("{base}{path}")), label))
}

/// Where an alert about `t` opens: the on-call queue on that incident while
/// it is failed or overdue, the secret's page once it recovered.
pub fn alert_href(t: &Transition) -> String {
    match t.to {
        Some(_) => crate::domain::oncall::incident_href(&t.name),
        None => crate::domain::links::secret_href(&t.name),
    }
}

pub(super) fn field(title: &str, value: &str) -> Value {
    json!({"type": "mrkdwn", "text": format!("*{title}*\n{value}")})
}

/// The message for one alarm change of one secret. `secret` is the
/// secret in the evaluated snapshot (None: it is gone); the detail sentence
/// is the rule's own, evaluated again for this secret at `at`.
pub fn transition_message(
    t: &Transition,
    secret: Option<&Secret>,
    cfg: &HealthConfig,
    at: Timestamp,
    dashboard_url: Option<&str>,
) -> Value {
    let name = name_text(&t.name);
    let finding = match (t.to, secret) {
        (Some(alarm), Some(s)) => health::evaluate(s, None, cfg, at)
            .into_iter()
            .find(|f| f.rule == alarm.rule() && f.is_active()),
        _ => None,
    };
    let was = t
        .from
        .map(|a| format!(" (was: {})", alarm_words(a)))
        .unwrap_or_default();
    let (emoji, headline, fallback) = match (t.to, secret) {
        (Some(Alarm::RotationFailed), _) => (
            ":red_circle:",
            format!("*Rotation failed*{was}: *{name}*"),
            format!("Rotation failed: {name}"),
        ),
        (Some(Alarm::RotationOverdue), _) => (
            ":large_orange_circle:",
            format!("*Rotation overdue*{was}: *{name}*"),
            format!("Rotation overdue: {name}"),
        ),
        (None, Some(_)) => (
            ":white_check_mark:",
            format!(
                "*Recovered*: *{name}* is no longer {}",
                t.from.map_or("alarmed", alarm_words)
            ),
            format!("Recovered: {name}"),
        ),
        (None, None) => (
            ":wastebasket:",
            format!(
                "*Gone from the inventory*: *{name}* ({}) was deleted or is no longer listed",
                t.from.map_or("alarmed", alarm_words)
            ),
            format!("Gone from the inventory: {name}"),
        ),
    };
    let mut text = format!("{emoji} {headline}");
    if let Some(f) = &finding {
        text.push('\n');
        text.push_str(&escape(&clip(&f.detail, MAX_DETAIL)));
    }
    let mut blocks = vec![json!({
        "type": "section",
        "text": {"type": "mrkdwn", "text": text},
    })];

    let mut fields = Vec::new();
    if let Some(s) = secret {
        fields.push(field("Account", &escape(&s.account)));
        fields.push(field("Region", &escape(&s.region)));
    }
    if let Some(f) = &finding {
        fields.push(field("Severity", f.severity.as_str()));
        if let Some(since) = f.since {
            fields.push(field("Since", &when(since)));
        }
    }
    if let Some(s) = secret {
        if let Some(arn) = s.rotation_lambda_arn.as_deref() {
            fields.push(field(
                "Lambda",
                &escape(&clip(crate::domain::arn::function_name(arn), MAX_NAME)),
            ));
        }
        if t.to.is_none() {
            if let Some(last) = s.last_rotated {
                fields.push(field("Last rotated", &when(last)));
            }
        }
    }
    if !fields.is_empty() {
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    let mut context = vec![format!(
        "secretscope · {} · evaluated {}",
        t.to.map_or("recovered", |a| a.rule().as_str()),
        when(at)
    )];
    if secret.is_some() {
        context.extend(link(dashboard_url, &alert_href(t), "Open in secretscope"));
    }
    blocks.push(json!({
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": context.join(" · ")}],
    }));
    json!({"text": fallback, "blocks": blocks})
}

/// The first evaluation's summary: what is already failed or overdue.
/// None when nothing is.
pub fn start_summary(view: &HealthView, dashboard_url: Option<&str>) -> Option<Value> {
    let mut failed = Vec::new();
    let mut overdue = Vec::new();
    for (s, sum) in view.snapshot.secrets().iter().zip(&view.summaries) {
        match Alarm::of(sum) {
            Some(Alarm::RotationFailed) => failed.push(&*s.name),
            Some(Alarm::RotationOverdue) => overdue.push(&*s.name),
            None => {}
        }
    }
    if failed.is_empty() && overdue.is_empty() {
        return None;
    }
    let headline = format!(
        ":rotating_light: secretscope started watching {} secrets: *{} rotations failed*, *{} overdue*.",
        view.counts.secrets,
        failed.len(),
        overdue.len()
    );
    let listed: Vec<(&str, Alarm)> = failed
        .iter()
        .map(|n| (*n, Alarm::RotationFailed))
        .chain(overdue.iter().map(|n| (*n, Alarm::RotationOverdue)))
        .collect();
    Some(list_message(
        &headline,
        &format!(
            "secretscope: {} rotations failed, {} overdue",
            failed.len(),
            overdue.len()
        ),
        &listed,
        view.at,
        dashboard_url,
        "Alerts follow for each secret that fails, becomes overdue or recovers from now on.",
    ))
}

/// One message for many transitions at once.
pub fn digest(view: &HealthView, changes: &[Transition], dashboard_url: Option<&str>) -> Value {
    let n = |f: fn(&Transition) -> bool| changes.iter().filter(|t| f(t)).count();
    let failed = n(|t| t.to == Some(Alarm::RotationFailed));
    let overdue = n(|t| t.to == Some(Alarm::RotationOverdue));
    let recovered = n(|t| t.to.is_none());
    let headline = format!(
        ":rotating_light: {} rotation alarms changed at once: *{failed} entered failed*, *{overdue} entered overdue*, *{recovered} recovered*.",
        changes.len()
    );
    let mut lines = String::new();
    for t in changes.iter().take(MAX_LISTED) {
        let to = t.to.map_or("recovered", alarm_words);
        lines.push_str(&format!("• *{}*: {to}\n", name_text(&t.name)));
    }
    if changes.len() > MAX_LISTED {
        lines.push_str(&format!("…and {} more\n", changes.len() - MAX_LISTED));
    }
    let mut context = vec![format!("secretscope · evaluated {}", when(view.at))];
    context.extend(link(dashboard_url, "/oncall", "Open the on-call view"));
    json!({
        "text": format!("secretscope: {} rotation alarms changed ({failed} failed, {overdue} overdue, {recovered} recovered)", changes.len()),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
            {"type": "section", "text": {"type": "mrkdwn", "text": lines.trim_end()}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context.join(" · ")}]},
        ],
    })
}

pub(super) fn list_message(
    headline: &str,
    fallback: &str,
    listed: &[(&str, Alarm)],
    at: Timestamp,
    dashboard_url: Option<&str>,
    footnote: &str,
) -> Value {
    let mut lines = String::new();
    for (name, alarm) in listed.iter().take(MAX_LISTED) {
        lines.push_str(&format!(
            "• *{}*: {}\n",
            name_text(name),
            alarm_words(*alarm)
        ));
    }
    if listed.len() > MAX_LISTED {
        lines.push_str(&format!("…and {} more\n", listed.len() - MAX_LISTED));
    }
    let mut context = vec![
        format!("secretscope · evaluated {}", when(at)),
        footnote.to_string(),
    ];
    context.extend(link(dashboard_url, "/oncall", "Open the on-call view"));
    json!({
        "text": fallback,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
            {"type": "section", "text": {"type": "mrkdwn", "text": lines.trim_end()}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context.join(" · ")}]},
        ],
    })
}

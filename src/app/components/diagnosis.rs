//! A secret's rotation diagnosis: each check passed, failed (with the
//! evidence and the fix), a warning, or could not be checked (naming the
//! permission the dashboard lacks); and the rotation strategy.

use crate::api::{get_diagnosis, DiagnosisView};
use crate::app::error_text;
use crate::domain::diagnosis::{Check, Status, StrategyKind};
use leptos::prelude::*;

/// The badge word and class of a check's status.
fn badge(s: &Status) -> (&'static str, &'static str) {
    match s {
        Status::Passed => ("passed", "sev-ok"),
        Status::Failed => ("failed", "sev-high"),
        Status::Warning => ("warning", "sev-medium"),
        Status::Unknown { .. } => ("not checked", "sev-info"),
        Status::NotApplicable => ("n/a", "sev-info"),
    }
}

#[component]
fn CheckItem(c: Check) -> impl IntoView {
    let (word, class) = badge(&c.status);
    let missing = match &c.status {
        Status::Unknown {
            permission: Some(p),
        } => Some(p.clone()),
        _ => None,
    };
    view! {
        <li class=format!("check check-{}", c.status.word().replace(' ', "-")) data-check=format!("{:?}", c.id)
            data-status=c.status.word() data-cause=c.cause.map(|x| x.slug()).unwrap_or_default()>
            <span class=format!("badge {class}")>{word}</span>" "
            <strong>{c.id.title()}</strong>
            <p class="evidence">{c.evidence.clone()}</p>
            {missing.map(|p| view! { <p class="muted small">{format!("Needs {p} on the dashboard's role (README, IAM policy).")}</p> })}
            {c.fix.clone().map(|f| view! { <p class="fix"><strong>"Fix: "</strong>{f}</p> })}
        </li>
    }
}

#[component]
fn Checks(v: DiagnosisView, failing: bool) -> impl IntoView {
    let d = v.diagnosis;
    let strategy = d.strategy.clone();
    let failed = d
        .checks
        .iter()
        .filter(|c| c.status == Status::Failed)
        .count();
    let missing = d
        .missing_permissions()
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>();
    let summary = if !v.enabled {
        "Diagnosis is switched off ([diagnosis] enabled = false).".to_string()
    } else if d.checks.is_empty() {
        "No rotation function to check (managed rotation, or none configured).".to_string()
    } else if failed == 0 && failing {
        format!(
            "{} checks, none failed: the cause is not in the configuration. The function's log \
             (and the failure message above) says what its code or its database refused.",
            d.checks.len()
        )
    } else if failed == 0 {
        format!("{} checks, none failed.", d.checks.len())
    } else {
        format!("{} of {} checks failed.", failed, d.checks.len())
    };
    // Failed first, then warnings, then what could not be checked.
    let mut checks = d.checks.clone();
    checks.sort_by_key(|c| match c.status {
        Status::Failed => 0,
        Status::Warning => 1,
        Status::Unknown { .. } => 2,
        Status::Passed => 3,
        Status::NotApplicable => 4,
    });
    view! {
        <p class="strategy" data-testid="strategy" data-strategy=format!("{:?}", strategy.kind)>
            <strong>"Strategy: "</strong>{strategy.words()}
            <span class="muted">{format!(" ({})", strategy.source)}</span>
            {(strategy.kind == StrategyKind::SingleUser).then_some(
                " · A roll back hands applications AWSPREVIOUS's old password, which the database no longer accepts.")}
        </p>
        <p role="status">{summary}</p>
        {(!missing.is_empty()).then(|| view! {
            <p class="muted">{format!("Could not check everything: the dashboard lacks {}.", missing.join(", "))}</p>
        })}
        <ul class="checks">
            {checks.into_iter().map(|c| view! { <CheckItem c/> }).collect_view()}
        </ul>
        <p class="muted small">"Read from metadata only (Lambda, KMS, EC2, IAM): never a secret value. As of "{v.at.display()}"."</p>
    }
}

/// The diagnosis of secret `id`, read from the browser once the page is
/// up: a cold diagnosis reads several AWS services, and the page (its
/// status and its time to first byte) must not wait for it.
#[island]
pub fn Diagnosis(id: String, failing: bool) -> impl IntoView {
    let (data, set_data) = signal(None::<Result<DiagnosisView, String>>);
    // Asked once the island is live in the browser (an Effect never runs on
    // the server), so the page is served without waiting for it.
    Effect::new(move |_| {
        let id = id.clone();
        leptos::task::spawn_local(async move {
            set_data.set(Some(get_diagnosis(id).await.map_err(|e| error_text(&e))));
        });
    });
    view! {
        <section class="facts diagnosis" aria-labelledby="diagnosis-h" data-testid="diagnosis">
            <h2 id="diagnosis-h">{if failing { "Why the rotation fails" } else { "Rotation checks" }}</h2>
            {move || match data.get() {
                None => view! { <p class="muted" aria-busy="true">"Checking the rotation function, its network, key and role…"</p> }.into_any(),
                Some(Ok(v)) => view! { <Checks v failing/> }.into_any(),
                Some(Err(e)) => view! {
                    <p class="error" role="alert">"The diagnosis could not be made: "{e}" Reload the page to try again."</p>
                }.into_any(),
            }}
        </section>
    }
}

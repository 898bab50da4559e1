//! A secret's rotation diagnosis: each check passed, failed (with the
//! evidence and the fix), a warning, or could not be checked (naming the
//! permission the dashboard lacks); and the rotation strategy.

//!
//! The diagnosis is rendered on the server (`fragment` says why); the
//! island only asks for it once the page is up.

#[cfg(feature = "ssr")]
use crate::api::DiagnosisView;
use crate::app::components::fragment::{follow, Fragment};
#[cfg(feature = "ssr")]
use crate::domain::diagnosis::{Check, Status, StrategyKind};
use leptos::prelude::*;

/// The badge word and class of a check's status.
#[cfg(feature = "ssr")]
fn badge(s: &Status) -> (&'static str, &'static str) {
    match s {
        Status::Passed => ("passed", "sev-ok"),
        Status::Failed => ("failed", "sev-high"),
        Status::Warning => ("warning", "sev-medium"),
        Status::Unknown { .. } => ("not checked", "sev-info"),
        Status::NotApplicable => ("n/a", "sev-info"),
    }
}

#[cfg(feature = "ssr")]
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

#[cfg(feature = "ssr")]
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

/// The diagnosis of secret `id`, rendered on the server from
/// `api::get_diagnosis` (which checks the session and the secret's scope).
#[server(endpoint = "diagnosis_fragment")]
pub async fn diagnosis_fragment(id: String, failing: bool) -> Result<Fragment, ServerFnError> {
    let v = crate::api::get_diagnosis(id).await?;
    Ok(Fragment {
        html: super::fragment::render(view! { <Checks v failing/> }),
        ..Fragment::default()
    })
}

/// The diagnosis of secret `id`, read from the browser once the page is
/// up: a cold diagnosis reads several AWS services, and the page (its
/// status and its time to first byte) must not wait for it.
#[island]
pub fn Diagnosis(id: String, failing: bool) -> impl IntoView {
    let (f, _) = follow(move |_| diagnosis_fragment(id.clone(), failing));
    let waiting = move || f.data.with(Option::is_none) && f.error.with(Option::is_none);
    view! {
        <section class="facts diagnosis" aria-labelledby="diagnosis-h" data-testid="diagnosis">
            <h2 id="diagnosis-h">{if failing { "Why the rotation fails" } else { "Rotation checks" }}</h2>
            <p class="muted" aria-busy="true" hidden=move || !waiting()>"Checking the rotation function, its network, key and role…"</p>
            {move || f.error.get().map(|e| view! {
                <p class="error" role="alert">"The diagnosis could not be made: "{e}" Reload the page to try again."</p>
            })}
            <div inner_html=f.html()></div>
        </section>
    }
}

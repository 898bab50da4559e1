//! A rotation started here, followed live after the action: each state it
//! reaches (pending version created, promoted, failed with CloudTrail's
//! message, stuck), as the server follows it with Secrets Manager.
//!
//! The banner and the steps are rendered on the server (`rotation_fragment`,
//! see `fragment` for why); the island asks every second until the
//! rotation has finished, and swaps the answer in when it changed.

use crate::app::components::fragment::{follow, Fragment};
use leptos::either::Either;
use leptos::prelude::*;

/// The follow-up of the rotation of secret `id` started by action `kind`
/// (`rotate`, `retry-rotation`, `enable-rotation`), rendered on the server
/// from `api::follow_rotation` (which checks the session and the secret's
/// scope). `elsewhere`: the page is not the secret's own, so a rotation
/// that did not finish links to it.
#[server(endpoint = "rotation_fragment")]
pub async fn rotation_fragment(
    id: String,
    kind: String,
    elsewhere: bool,
) -> Result<Fragment, ServerFnError> {
    let progress = crate::api::follow_rotation(id.clone()).await?;
    let started = super::actions::done_text(&kind).unwrap_or("Rotation started.");
    Ok(view::fragment(&id, started, progress, elsewhere))
}

/// What the page shows until the first answer.
fn waiting(name: String, started: &'static str) -> impl IntoView {
    view! {
        <p class="notice" role="status" data-testid="action-done" data-outcome="started">{started}</p>
        <section class="rotation-progress" aria-labelledby="rotation-progress-title" aria-live="polite"
            data-testid="rotation-progress" data-stage="unknown">
            <h2 id="rotation-progress-title">{format!("Rotation of {name}")}</h2>
            <p class="muted" aria-busy="true">"Reading the rotation's progress…"</p>
        </section>
    }
}

/// The rotation of secret `name` started by action `kind`, followed every
/// second until it has finished.
#[island]
pub fn RotationFollow(name: String, kind: String) -> impl IntoView {
    let started = super::actions::done_text(&kind).unwrap_or("Rotation started.");
    let first = name.clone();
    let (f, _) = follow(move |_| {
        let elsewhere = window()
            .location()
            .pathname()
            .is_ok_and(|p| !p.starts_with("/secret/"));
        rotation_fragment(name.clone(), kind.clone(), elsewhere)
    });
    // The reload button in the server's markup.
    let reload = move |ev: leptos::ev::MouseEvent| {
        use leptos::wasm_bindgen::JsCast;
        let target = ev
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok());
        if target.is_some_and(|t| t.closest("[data-reload]").ok().flatten().is_some()) {
            let _ = window().location().reload();
        }
    };
    view! {
        <div class="rotation-follow" on:click=reload>
            {move || match f.data.with(Option::is_some) {
                false => Either::Left(waiting(first.clone(), started)),
                true => Either::Right(view! { <div inner_html=f.html()></div> }),
            }}
            {move || f.error.get().map(|e| view! {
                <p class="error" role="alert">{e}" Reload the page to follow the rotation again."</p>
            })}
        </div>
    }
}

/// The server's rendering of a rotation's progress.
#[cfg(feature = "ssr")]
pub mod view {
    use crate::app::components::fragment::{render, Fragment};
    use crate::domain::actions::{RotationProgress, RotationStage};
    use crate::domain::links::secret_href;
    use leptos::either::EitherOf3;
    use leptos::prelude::*;

    pub fn stage_name(s: RotationStage) -> &'static str {
        match s {
            RotationStage::Pending => "pending",
            RotationStage::Promoted => "promoted",
            RotationStage::Failed => "failed",
            RotationStage::Ended => "ended",
            RotationStage::Stuck => "stuck",
        }
    }

    /// The banner (the outcome replaces `started` once there is one) and the
    /// steps; `more` while the rotation runs.
    pub fn fragment(
        name: &str,
        started: &str,
        progress: Option<RotationProgress>,
        elsewhere: bool,
    ) -> Fragment {
        let finished = progress.as_ref().is_none_or(RotationProgress::finished);
        let stage = progress.as_ref().map_or("unknown", |p| stage_name(p.stage));
        let (class, outcome, head, text) = match &progress {
            Some(p) if p.finished() => {
                let last = p.steps.last().map(|(_, t)| t.clone()).unwrap_or_default();
                let (class, head) = match p.stage {
                    RotationStage::Promoted => ("notice success", "Rotation finished. "),
                    RotationStage::Failed => ("error", "Rotation failed. "),
                    _ => ("error", "Rotation did not finish. "),
                };
                (class, stage, head, last)
            }
            _ => ("notice", "started", "", started.to_string()),
        };
        let body = match progress {
            None => EitherOf3::A(view! {
                <p class="muted">"No rotation of this secret was started from secretscope since the server started; the state shown is as last read."</p>
            }),
            Some(p) if !p.finished() => EitherOf3::B(view! {
                {steps(p)}
                <p class="muted" aria-busy="true">"Following it: checking again every second…"</p>
            }),
            Some(p) => {
                // Off the secret's own page, a way to its actions.
                let again = (p.stage != RotationStage::Promoted && elsewhere).then(|| view! {
                    " " <a href=secret_href(name)>{format!("Open {name} to retry, cancel or clear the rotation")}</a>
                });
                EitherOf3::C(view! {
                    {steps(p)}
                    <p class="progress-next">
                        <button type="button" class="secondary" data-reload="">"Reload to see the new state"</button>
                        {again}
                    </p>
                })
            }
        };
        let html = render(view! {
            <p class=class role="status" data-testid="action-done" data-outcome=outcome>
                {(!head.is_empty()).then(|| view! { <strong>{head}</strong> })}{text}
            </p>
            <section class="rotation-progress" aria-labelledby="rotation-progress-title" aria-live="polite"
                data-testid="rotation-progress" data-stage=stage>
                <h2 id="rotation-progress-title">{format!("Rotation of {name}")}</h2>
                {body}
            </section>
        });
        Fragment {
            status: stage.to_string(),
            html,
            more: !finished,
            ..Fragment::default()
        }
    }

    fn steps(p: RotationProgress) -> impl IntoView {
        view! {
            <ol class="progress-steps">
                {p.steps.into_iter().map(|(at, text)| view! {
                    <li><time datetime=at.rfc3339()>{at.display()}</time>" "{text}</li>
                }).collect_view()}
            </ol>
        }
    }
}

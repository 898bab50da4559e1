//! The action buttons of a secret and their confirmation dialog: the plan
//! read fresh from Secrets Manager, the typed name for production paths,
//! the outcome or a sentence saying what went wrong.

use crate::api::{perform_action, preview_action, ActionOffer, ActionPreview, BriefFocus};
use crate::app::components::dialog::{Dialog, DialogButtons};
use crate::app::components::readers::ReadersBrief;
use crate::app::components::rotation_follow::RotationFollow;
use crate::app::error_text;
use crate::domain::actions::ActionKind;
use crate::domain::links::query_value;
use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// What `?done=KIND` on the detail page says after an action succeeded.
pub fn done_text(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "rotate" => "Rotation started: the new version holds AWSPENDING while the rotation Lambda runs; AWSCURRENT moves when it finishes.",
        "retry-rotation" => "AWSPENDING removed from the failed attempt's version, and rotation started again: the new version holds AWSPENDING while the rotation Lambda runs.",
        "cancel-rotation" => "Rotation cancelled and automatic rotation turned off; AWSPENDING stays on its version. Clear the pending version, then turn rotation back on once you know why it failed.",
        "clear-pending" => "AWSPENDING removed: the version it was on is deprecated, and a rotation can start again.",
        "enable-rotation" => "Automatic rotation is on again, with the Lambda and schedule shown below.",
        "rollback" => "Rolled back: AWSCURRENT is on the version shown below.",
        "restore" => "Restored: the secret is no longer scheduled for deletion.",
        _ => return None,
    })
}

/// The banner after an action (`?done=KIND`), followed by the rotation's
/// progress when it was a rotation (`&secret=NAME`).
#[component]
pub fn ActionDone() -> impl IntoView {
    let query = use_query_map();
    move || {
        let q = query.read();
        let kind = q.get("done")?;
        let text = done_text(&kind)?;
        // A rotation's outcome replaces the banner: the follower shows it.
        let follow = q.get("secret").filter(|_| {
            matches!(
                kind.as_str(),
                "rotate" | "retry-rotation" | "enable-rotation"
            )
        });
        Some(match follow {
            Some(name) => view! { <RotationFollow name kind/> }.into_any(),
            None => view! { <p class="notice" role="status" data-testid="action-done">{text}</p> }
                .into_any(),
        })
    }
}

/// Runs the confirmed action `kind` on secret `id` with the plan's view and token.
async fn perform(
    kind: ActionKind,
    id: String,
    p: ActionPreview,
    typed: String,
    at_once: bool,
) -> Result<(), ServerFnError> {
    let to = p.plan.to_version.unwrap_or_default();
    let kind = kind.as_str().to_string();
    perform_action(kind, id, to, at_once, p.seen, typed, p.token).await
}

/// Where the page goes after `kind` succeeded: itself, saying what was done
/// (a rotation started is followed as one).
fn done_href(kind: ActionKind, at_once: bool, name: &str) -> String {
    let path = window().location().pathname().unwrap_or_default();
    let followed = kind.starts_rotation() || (kind == ActionKind::EnableRotation && at_once);
    let done = if followed && kind == ActionKind::EnableRotation {
        "rotate"
    } else {
        kind.as_str()
    };
    // On the queue the page comes back to the same view (order, filters)
    // and on the same incident, not at the top.
    let (keep, fragment) = if path == "/oncall" {
        let search = window().location().search().unwrap_or_default();
        let keep: String = search
            .trim_start_matches('?')
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("done=") && !p.starts_with("secret="))
            .map(|p| format!("&{p}"))
            .collect();
        let id = crate::domain::oncall::incident_id(name);
        (keep, format!("#{}", crate::domain::links::uri_path(&id)))
    } else {
        (String::new(), String::new())
    };
    format!(
        "{path}?done={done}&secret={}{keep}{fragment}",
        query_value(name)
    )
}

/// A button per available action, and (outside `compact` rows) a note per
/// unavailable one saying why.
fn buttons_and_notes(
    offers: &[ActionOffer],
    compact: bool,
    name: &str,
    start: impl Fn(ActionKind) + Copy + Send + Sync + 'static,
) -> (impl IntoView, impl IntoView) {
    let buttons = offers
        .iter()
        .filter(|o| o.unavailable.is_none())
        .map(|o| {
            let kind = o.kind;
            let label = if compact {
                format!("{} ({})", kind.label(), name)
            } else {
                kind.label().to_string()
            };
            view! {
                <button type="button" aria-label=label
                    class=if matches!(kind, ActionKind::Rotate | ActionKind::RetryRotation) { "" } else { "secondary" }
                    on:click=move |_| start(kind) data-action=kind.as_str()>
                    {kind.label()}
                </button>
            }
        })
        .collect_view();
    let notes = offers
        .iter()
        .filter(|_| !compact)
        .filter_map(|o| o.unavailable.clone().map(|why| (o.kind, why)))
        .map(|(kind, why)| view! { <p class="muted action-note"><strong>{format!("{}: ", kind.label())}</strong>{why}</p> })
        .collect_view();

    (buttons, notes)
}

/// Roll back of a single-user secret: why AWSPREVIOUS no longer works.
fn single_user_warning(p: &ActionPreview) -> impl IntoView {
    p.warning.clone().map(|w| {
        view! {
            <p class="warning" role="note" data-testid="rollback-warning"><strong>"Single-user rotation. "</strong>{w}</p>
        }
    })
}

/// A rollback with several earlier versions: which one to put back.
fn rollback_picker(
    p: &ActionPreview,
    picker: NodeRef<leptos::html::Select>,
    pick: impl Fn(String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let picked = p.plan.to_version.clone().unwrap_or_default();
    let choices = p.plan.choices.clone();
    (choices.len() > 1).then(|| view! {
        <label for="rollback-to" class="confirm-label">"Roll back to"</label>
        <select id="rollback-to" node_ref=picker on:change=move |ev| pick(event_target_value(&ev))>
            {choices.into_iter().map(|(id, text)| {
                let selected = id == picked;
                view! { <option value=id selected=selected>{text}</option> }
            }).collect_view()}
        </select>
    })
}

/// What the plan changes in Secrets Manager, and what follows.
fn plan_effects(p: &ActionPreview) -> impl IntoView {
    view! {
        <p>"This will change Secrets Manager:"</p>
        <ol class="effects">
            {p.plan.effects.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view()}
        </ol>
        <p><strong>"Afterwards: "</strong>{p.plan.afterwards.clone()}</p>
    }
}

/// Turning rotation back on: whether to rotate at once.
fn rotate_at_once(on: ReadSignal<bool>, set: WriteSignal<bool>) -> impl IntoView {
    view! {
        <label class="confirm-check">
            <input type="checkbox" id="rotate-at-once"
                prop:checked=move || on.get()
                on:change=move |ev| set.set(event_target_checked(&ev))/>
            " Rotate at once (RotateImmediately): start a rotation now rather than in the next scheduled window"
        </label>
    }
}

/// A production secret's confirmation: its name, typed.
fn typed_name(
    secret: String,
    typed: ReadSignal<String>,
    set_typed: WriteSignal<String>,
) -> impl IntoView {
    view! {
        <label for="confirm-name" class="confirm-label">
            "This is a production secret. Type "<code>{secret}</code>" to confirm:"
        </label>
        <input id="confirm-name" type="text" autocomplete="off" spellcheck="false"
            prop:value=move || typed.get()
            on:input=move |ev| set_typed.set(event_target_value(&ev))/>
    }
}

/// The plan as read: reading it, why it could not be read (and Close), or
/// the roll back's warning and target and what the action changes.
fn plan_part(
    preview: Option<Result<ActionPreview, String>>,
    picker: NodeRef<leptos::html::Select>,
    pick: impl Fn(String) + Copy + Send + Sync + 'static,
    close: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    match preview {
        None => EitherOf3::A(
            view! { <p class="muted" aria-busy="true">"Reading the secret's current state from Secrets Manager…"</p> },
        ),
        Some(Err(e)) => EitherOf3::B(view! {
            <p class="error" role="alert">{e}</p>
            <div class="dialog-buttons">
                <button type="button" class="secondary" on:click=move |_| close()>"Close"</button>
            </div>
        }),
        Some(Ok(p)) => EitherOf3::C(view! {
            {single_user_warning(&p)}{rollback_picker(&p, picker, pick)}
            {plan_effects(&p)}
        }),
    }
}

/// What the dialog of `kind` says about who reads the secret: who read it
/// in the last day before AWSCURRENT moves or a rotation stops, who failed
/// to read it since its deletion before it is restored.
fn readers_focus(kind: ActionKind) -> Option<BriefFocus> {
    match kind {
        ActionKind::Rollback | ActionKind::CancelRotation | ActionKind::RetryRotation => {
            Some(BriefFocus::LastDay)
        }
        ActionKind::Restore => Some(BriefFocus::SinceDeletion),
        ActionKind::Rotate | ActionKind::ClearPending | ActionKind::EnableRotation => None,
    }
}

/// The buttons and dialog; `compact` (a table cell on the on-call page)
/// leaves out the heading and the notes on unavailable actions.
#[island]
pub fn SecretActions(name: String, offers: Vec<ActionOffer>, compact: bool) -> impl IntoView {
    let name = StoredValue::new(name);
    let (open, set_open) = signal(None::<ActionKind>);
    let (preview, set_preview) = signal(None::<Result<ActionPreview, String>>);
    let (typed, set_typed) = signal(String::new());
    let (busy, set_busy) = signal(false);
    let (failed, set_failed) = signal(None::<String>);
    let (immediately, set_immediately) = signal(false);

    // The plan, read fresh; `to_version` is a rollback's picked target.
    // While it is read again for another pick, the old plan stays on show
    // and cannot be confirmed.
    let (reading, set_reading) = signal(false);
    let picker = NodeRef::<leptos::html::Select>::new();
    let (refocus, set_refocus) = signal(false);
    let read_plan = move |kind: ActionKind, to_version: String| {
        set_failed.set(None);
        set_reading.set(true);
        leptos::task::spawn_local(async move {
            let p = preview_action(name.get_value(), kind.as_str().to_string(), to_version)
                .await
                .map_err(|e| error_text(&e));
            set_preview.set(Some(p));
            set_reading.set(false);
        });
    };
    let start = move |kind: ActionKind| {
        set_open.set(Some(kind));
        set_preview.set(None);
        set_typed.set(String::new());
        set_immediately.set(false);
        read_plan(kind, String::new());
    };
    // The picker keeps the keyboard focus across the plan's new reading.
    Effect::new(move |_| {
        preview.track();
        if refocus.get_untracked() {
            if let Some(el) = picker.get() {
                let _ = el.focus();
                set_refocus.set(false);
            }
        }
    });
    let close = move || {
        if !busy.get_untracked() {
            set_open.set(None);
        }
    };
    let confirmed = move || {
        preview.with(|p| match p {
            Some(Ok(p)) => !p.plan.type_name || typed.with(|t| t.trim() == p.plan.secret),
            _ => false,
        })
    };
    let confirm = move || {
        let (Some(kind), Some(Ok(p))) = (open.get_untracked(), preview.get_untracked()) else {
            return;
        };
        if busy.get_untracked() {
            return;
        }
        set_busy.set(true);
        set_failed.set(None);
        let typed = typed.get_untracked();
        let at_once = immediately.get_untracked();
        leptos::task::spawn_local(async move {
            let result = perform(kind, name.get_value(), p, typed, at_once).await;
            match result {
                Ok(()) => {
                    // The page shows the outcome, read fresh.
                    let _ =
                        window()
                            .location()
                            .set_href(&done_href(kind, at_once, &name.get_value()));
                }
                Err(e) => {
                    set_failed.set(Some(error_text(&e)));
                    set_busy.set(false);
                }
            }
        });
    };

    let (buttons, notes) = buttons_and_notes(&offers, compact, &name.get_value(), start);

    view! {
        <div class=if compact { "actions compact" } else { "actions" }>
            {(!compact).then(|| view! { <h2>"Actions"</h2> })}
            <div class="action-buttons">{buttons}</div>
            {notes}
            {move || open.get().map(|kind| {
                let ready = Memo::new(move |_| preview.with(|p| matches!(p, Some(Ok(_)))));
                view! {
                    <Dialog title_id="dialog-title" heading=format!("{} {}", kind.label(), name.get_value()) on_close=move |_| close()>
                        {move || plan_part(preview.get(), picker, move |to: String| { set_refocus.set(true); read_plan(kind, to) }, close)}
                        // Who the action affects; kept across a new reading of the plan.
                        {move || ready.get().then(|| readers_focus(kind).map(|focus| view! { <ReadersBrief id=name.get_value() focus/> }))}
                        {move || preview.get().and_then(|p| p.ok()).map(|p| view! {
                            {(kind == ActionKind::EnableRotation).then(|| rotate_at_once(immediately, set_immediately))}
                            {p.plan.type_name.then(|| typed_name(p.plan.secret.clone(), typed, set_typed))}
                            {move || failed.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                            <DialogButtons label=kind.label().to_string()
                                blocked=Signal::derive(move || !confirmed() || reading.get())
                                busy=busy on_confirm=move |_| confirm() on_close=move |_| close()/>
                        })}
                    </Dialog>
                }
            })}
        </div>
    }
}

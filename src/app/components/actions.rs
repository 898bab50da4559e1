//! The action buttons of a secret and their confirmation dialog: the plan
//! read fresh from Secrets Manager, the typed name for production paths,
//! the outcome or a sentence saying what went wrong.

use crate::api::{
    cancel_rotation, preview_action, restore_secret, rollback_secret, rotate_secret, ActionOffer,
    ActionPreview,
};
use crate::app::error_text;
use crate::domain::actions::ActionKind;
use leptos::prelude::*;

/// What `?done=KIND` on the detail page says after an action succeeded.
pub fn done_text(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "rotate" => "Rotation started: the new version holds AWSPENDING while the rotation Lambda runs. Refresh from AWS to follow it; AWSCURRENT moves when it finishes.",
        "cancel-rotation" => "Rotation cancelled and automatic rotation turned off. Find out why it got stuck before turning it back on.",
        "rollback" => "Rolled back: AWSCURRENT is on the version shown below.",
        "restore" => "Restored: the secret is no longer scheduled for deletion.",
        _ => return None,
    })
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
    let title = NodeRef::<leptos::html::H2>::new();

    let start = move |kind: ActionKind| {
        set_open.set(Some(kind));
        set_preview.set(None);
        set_failed.set(None);
        set_typed.set(String::new());
        leptos::task::spawn_local(async move {
            let p = preview_action(name.get_value(), kind.as_str().to_string(), String::new())
                .await
                .map_err(|e| error_text(&e));
            set_preview.set(Some(p));
        });
    };
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
        leptos::task::spawn_local(async move {
            let id = name.get_value();
            let (seen, token) = (p.seen, p.token);
            let result = match kind {
                ActionKind::Rotate => rotate_secret(id, seen, typed, token).await,
                ActionKind::CancelRotation => cancel_rotation(id, seen, typed, token).await,
                ActionKind::Rollback => {
                    rollback_secret(id, String::new(), seen, typed, token).await
                }
                ActionKind::Restore => restore_secret(id, seen, typed, token).await,
            };
            match result {
                Ok(_) => {
                    // The page shows the outcome, read fresh.
                    let path = window().location().pathname().unwrap_or_default();
                    let _ = window()
                        .location()
                        .set_href(&format!("{path}?done={}", kind.as_str()));
                }
                Err(e) => {
                    set_failed.set(Some(error_text(&e)));
                    set_busy.set(false);
                }
            }
        });
    };
    // Focus moves to the dialog's title when it opens.
    Effect::new(move |_| {
        if open.get().is_some() {
            if let Some(h) = title.get() {
                let _ = h.focus();
            }
        }
    });

    let buttons = offers
        .iter()
        .filter(|o| o.unavailable.is_none())
        .map(|o| {
            let kind = o.kind;
            let label = if compact {
                format!("{} ({})", kind.label(), name.get_value())
            } else {
                kind.label().to_string()
            };
            view! {
                <button type="button" aria-label=label class=if kind == ActionKind::Rotate { "" } else { "secondary" }
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

    view! {
        <div class=if compact { "actions compact" } else { "actions" }>
            {(!compact).then(|| view! { <h2>"Actions"</h2> })}
            <div class="action-buttons">{buttons}</div>
            {notes}
            {move || open.get().map(|kind| view! {
                <div class="dialog-backdrop">
                    <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="dialog-title"
                        on:keydown=move |ev| if ev.key() == "Escape" { close() }>
                        <h2 id="dialog-title" tabindex="-1" node_ref=title>{format!("{} {}", kind.label(), name.get_value())}</h2>
                        {move || match preview.get() {
                            None => view! { <p class="muted" aria-busy="true">"Reading the secret's current state from Secrets Manager…"</p> }.into_any(),
                            Some(Err(e)) => view! {
                                <p class="error" role="alert">{e}</p>
                                <div class="dialog-buttons">
                                    <button type="button" class="secondary" on:click=move |_| close()>"Close"</button>
                                </div>
                            }.into_any(),
                            Some(Ok(p)) => {
                                let secret = p.plan.secret.clone();
                                view! {
                                    <p>"This will change Secrets Manager:"</p>
                                    <ol class="effects">
                                        {p.plan.effects.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view()}
                                    </ol>
                                    <p><strong>"Afterwards: "</strong>{p.plan.afterwards.clone()}</p>
                                    {p.plan.type_name.then(|| view! {
                                        <label for="confirm-name" class="confirm-label">
                                            "This is a production secret. Type "<code>{secret.clone()}</code>" to confirm:"
                                        </label>
                                        <input id="confirm-name" type="text" autocomplete="off" spellcheck="false"
                                            prop:value=move || typed.get()
                                            on:input=move |ev| set_typed.set(event_target_value(&ev))/>
                                    })}
                                    {move || failed.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                                    <div class="dialog-buttons">
                                        <button type="button" class="danger"
                                            disabled=move || !confirmed() || busy.get()
                                            on:click=move |_| confirm()>
                                            {move || if busy.get() { "Working…".to_string() } else { kind.label().to_string() }}
                                        </button>
                                        <button type="button" class="secondary" on:click=move |_| close() disabled=move || busy.get()>"Cancel"</button>
                                    </div>
                                }.into_any()
                            }
                        }}
                    </div>
                </div>
            })}
        </div>
    }
}

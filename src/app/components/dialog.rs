//! The one modal dialog: a backdrop, `role="dialog"` labelled by its
//! heading, focus on the heading when it opens, Escape to close, and the
//! confirm/cancel row. The action and access-request dialogs fill its body.

use leptos::prelude::*;

#[component]
pub fn Dialog(
    /// The heading's id, which labels the dialog.
    title_id: &'static str,
    heading: String,
    #[prop(into)] on_close: Callback<()>,
    children: Children,
) -> impl IntoView {
    let title = NodeRef::<leptos::html::H2>::new();
    // Focus moves to the dialog's title when it opens.
    Effect::new(move |_| {
        if let Some(h) = title.get() {
            let _ = h.focus();
        }
    });
    view! {
        <div class="dialog-backdrop">
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby=title_id
                on:keydown=move |ev| if ev.key() == "Escape" { on_close.run(()) }>
                <h2 id=title_id tabindex="-1" node_ref=title>{heading}</h2>
                {children()}
            </div>
        </div>
    }
}

/// The dialog's last row: the action (shown as "Working…" while `busy`)
/// and Cancel, both idle while the action runs.
#[component]
pub fn DialogButtons(
    #[prop(into)] label: Signal<String>,
    /// True while the action may not run yet (the plan is being read, the
    /// typed name does not match, a required comment is empty).
    #[prop(into)]
    blocked: Signal<bool>,
    #[prop(into)] busy: Signal<bool>,
    #[prop(into)] on_confirm: Callback<()>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    view! {
        <div class="dialog-buttons">
            <button type="button" class="danger"
                disabled=move || blocked.get() || busy.get()
                on:click=move |_| on_confirm.run(())>
                {move || if busy.get() { "Working…".to_string() } else { label.get() }}
            </button>
            <button type="button" class="secondary" on:click=move |_| on_close.run(()) disabled=move || busy.get()>"Cancel"</button>
        </div>
    }
}

//! The one modal dialog: a native `<dialog>` opened with `showModal()` (the
//! page behind it is inert), labelled by its heading; focus moves into it
//! (its first field, else its heading), Tab and Shift+Tab wrap inside it,
//! Escape closes it from anywhere in it, and focus goes back to the button
//! that opened it. The action and access-request dialogs fill its body.

use leptos::__reexports::send_wrapper::SendWrapper;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys::{Element, HtmlDialogElement, HtmlElement, KeyboardEvent};
use std::cell::RefCell;
use std::rc::Rc;

/// What Tab may stop on inside a dialog.
const FOCUSABLE: &str = "a[href], button:not([disabled]), input:not([disabled]), \
     select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex=\"-1\"])";

/// What focus goes to when the dialog opens: a field to fill or choose.
const FIRST_FIELD: &str = "input:not([disabled]), select:not([disabled]), textarea:not([disabled])";

/// The body keeps its type in the browser (`TypedChildren`, then
/// `app::part`): erased children are an `AnyView`, which compiles a second,
/// asynchronous hydration of every dialog's whole body into the wasm
/// bundle. On the server it is erased (deep render futures overflow a debug
/// build's stack).
#[component]
pub fn Dialog<C: IntoView + 'static>(
    /// The heading's id, which labels the dialog.
    title_id: &'static str,
    heading: String,
    #[prop(into)] on_close: Callback<()>,
    children: TypedChildren<C>,
) -> impl IntoView {
    let children = children.into_inner();
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let title = NodeRef::<leptos::html::H2>::new();
    // The element that had focus when it opened (it gets focus back), and
    // the open dialog (closed first: while it is modal, the page is inert).
    let held = Rc::new(RefCell::new((None::<Element>, None::<HtmlDialogElement>)));
    let back = SendWrapper::new(held.clone());
    let shown = held.clone();
    Effect::new(move |_| {
        let Some(d) = dialog.get() else { return };
        let mut h = held.borrow_mut();
        if h.1.is_some() {
            return;
        }
        h.0 = document().active_element();
        h.1 = Some(d.clone());
        if !d.open() {
            let _ = d.show_modal();
        }
        let field = d.query_selector(FIRST_FIELD).ok().flatten();
        match field.and_then(|f| f.dyn_into::<HtmlElement>().ok()) {
            Some(f) => {
                let _ = f.focus();
            }
            None => {
                if let Some(h) = title.get_untracked() {
                    let _ = h.focus();
                }
            }
        }
    });
    on_cleanup(move || {
        let (opener, open) = std::mem::take(&mut *back.borrow_mut());
        if let Some(d) = open {
            d.close();
        }
        if let Some(el) = opener.and_then(|e| e.dyn_into::<HtmlElement>().ok()) {
            let _ = el.focus();
        }
    });
    let keydown = move |ev: KeyboardEvent| match ev.key().as_str() {
        "Escape" => {
            // Ours, not the browser's: the state that shows the dialog closes it.
            ev.prevent_default();
            on_close.run(());
        }
        "Tab" => {
            if let Some(d) = dialog.get_untracked() {
                wrap_tab(&d, &ev);
            }
        }
        _ => {}
    };
    view! {
        <dialog class="dialog" aria-labelledby=title_id node_ref=dialog
            on:keydown=keydown
            // Closed by the browser rather than by us: the state follows.
            on:close=move |_| if shown.borrow().1.is_some() { on_close.run(()) }>
            <h2 id=title_id tabindex="-1" node_ref=title>{heading}</h2>
            {crate::app::part(children())}
        </dialog>
    }
}

/// Tab on the last stop goes to the first, Shift+Tab on the first (or on
/// the heading) to the last: the keyboard never leaves the dialog.
fn wrap_tab(d: &HtmlDialogElement, ev: &KeyboardEvent) {
    let all = d.get_elements_by_tag_name("*");
    let stops: Vec<HtmlElement> = (0..all.length())
        .filter_map(|i| all.item(i))
        .filter(|e| e.matches(FOCUSABLE).unwrap_or(false))
        .filter_map(|e| e.dyn_into::<HtmlElement>().ok())
        .filter(|e| e.offset_parent().is_some())
        .collect();
    let (Some(first), Some(last)) = (stops.first(), stops.last()) else {
        ev.prevent_default();
        return;
    };
    let active = document().active_element();
    let at = |e: &HtmlElement| {
        active
            .as_ref()
            .is_some_and(|a| a == e.unchecked_ref::<Element>())
    };
    let inside = stops.iter().any(at);
    let target = if ev.shift_key() && (at(first) || !inside) {
        last
    } else if !ev.shift_key() && (at(last) || !inside) {
        first
    } else {
        return;
    };
    ev.prevent_default();
    let _ = target.focus();
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

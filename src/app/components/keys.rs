//! Keyboard shortcuts on every page: `/` focuses the search, `j` / `k` move
//! through the rows of the page's list, `Enter` opens the row (its first link
//! has the focus, so the browser follows it), `?` shows the list of
//! shortcuts. They never fire while a person types in a field, nor with
//! Ctrl, Alt or Meta held (those belong to the browser).
//!
//! One small island; everything it touches is found in the server-rendered
//! page by selectors, so pages mark their rows with `data-row` (or are table
//! body rows / on-call incidents) and nothing else has to know about it.

use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys;

/// The rows `j` and `k` move through, in page order.
pub const ROWS: &str = "main [data-row], main .incident, main tbody tr:has(a[href])";

/// The shortcuts, as the help lists them.
const KEYS: [(&str, &str); 5] = [
    ("/", "Focus the search (on pages that have one)"),
    ("j", "Next row"),
    ("k", "Previous row"),
    ("Enter", "Open the selected row"),
    ("?", "Show or hide this list"),
];

thread_local! {
    /// The element that had the focus when the list opened, to return to
    /// (browser only: a thread-local, as a DOM node must not be dropped on
    /// another thread of the server).
    static BACK: std::cell::RefCell<Option<web_sys::HtmlElement>> = const { std::cell::RefCell::new(None) };
}

#[island]
pub fn Shortcuts() -> impl IntoView {
    let open = RwSignal::new(false);
    let panel = NodeRef::<leptos::html::Section>::new();
    let close = move || {
        open.set(false);
        if let Some(p) = panel.get_untracked() {
            p.set_hidden(true);
        }
        if let Some(el) = BACK.with_borrow_mut(Option::take) {
            let _ = el.focus();
        }
    };
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.ctrl_key() || ev.alt_key() || ev.meta_key() || ev.default_prevented() {
            return;
        }
        let key = ev.key();
        if key == "Escape" && open.get_untracked() {
            ev.prevent_default();
            close();
            return;
        }
        if typing(&ev) {
            return;
        }
        let done = match key.as_str() {
            "/" => focus_search(),
            "j" => move_row(1),
            "k" => move_row(-1),
            "?" => {
                if open.get_untracked() {
                    close();
                } else {
                    BACK.set(focused());
                    open.set(true);
                    // Shown now (the signal's own update comes later), so
                    // that it can take the focus.
                    if let Some(p) = panel.get_untracked() {
                        p.set_hidden(false);
                        let _ = p.focus();
                    }
                }
                true
            }
            _ => false,
        };
        if done {
            ev.prevent_default();
        }
    });
    on_cleanup(move || handle.remove());
    view! {
        <section class="shortcuts" aria-labelledby="shortcuts-h" tabindex="-1" node_ref=panel
            hidden=move || !open.get()>
            <h2 id="shortcuts-h">"Keyboard shortcuts"</h2>
            <dl>
                {KEYS.iter().map(|(k, what)| view! { <dt><kbd>{*k}</kbd></dt><dd>{*what}</dd> }).collect_view()}
            </dl>
            <p class="muted small">"Shortcuts do nothing while you type in a field. Escape closes this list."</p>
            <button type="button" class="secondary" on:click=move |_| close()>"Close"</button>
        </section>
    }
}

/// Whether the key went to a field the person is typing in.
fn typing(ev: &web_sys::KeyboardEvent) -> bool {
    let Some(el) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
    else {
        return false;
    };
    matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || el.is_content_editable()
}

fn focused() -> Option<web_sys::HtmlElement> {
    document()
        .active_element()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
}

fn focus_search() -> bool {
    let search = document()
        .query_selector("main input[type=search], main input[name=q]")
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok());
    match search {
        Some(input) => {
            let _ = input.focus();
            input.select();
            true
        }
        None => false,
    }
}

/// Moves the selection `by` rows (1 down, -1 up) from the row holding the
/// focus, or to the first row; the row's first link takes the focus.
fn move_row(by: i32) -> bool {
    let Ok(list) = document().query_selector_all(ROWS) else {
        return false;
    };
    let rows: Vec<web_sys::Element> = (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::Element>().ok())
        .collect();
    if rows.is_empty() {
        return false;
    }
    let current = focused().and_then(|f| rows.iter().position(|r| r.contains(Some(&f))));
    let next = match current {
        None if by > 0 => 0,
        None => rows.len() - 1,
        Some(i) => (i as i32 + by).clamp(0, rows.len() as i32 - 1) as usize,
    };
    let row = &rows[next];
    for r in &rows {
        let _ = r.class_list().remove_1("kbd-current");
    }
    let _ = row.class_list().add_1("kbd-current");
    let link = row
        .query_selector("a[href]")
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(link) = link {
        // Focusing scrolls the row into view (CSS keeps it clear of the sticky header).
        let _ = link.focus();
    }
    true
}

//! Parts of a page that the browser fetches after the page is up (who reads
//! a secret, its rotation diagnosis) come as HTML the server renders with
//! the same view code as the pages, not as data the browser renders.
//!
//! Why: every view an island renders is compiled into the wasm bundle, with
//! the code to decode its data. Rendering these parts on the server keeps
//! the islands to what must run in the browser (asking, polling, buttons),
//! and the bundle small (bench/RESULTS.md, the wasm bundle).
//!
//! Safety: the HTML is made by Leptos's server renderer, which escapes every
//! text and attribute value, exactly as for a whole page; no string from AWS
//! or a person is ever concatenated into markup. `src/tests/fragments.rs`
//! keeps a test with hostile names.

use crate::app::error_text;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::future::Future;

/// A part of a page, rendered on the server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Fragment {
    /// The part's heading, where it changes with the answer.
    pub heading: String,
    /// One line for the polite live region: what is happening or was found.
    pub status: String,
    /// The markup (escaped by the server renderer).
    pub html: String,
    /// The answer is still coming in (a long CloudTrail history paging in):
    /// ask again.
    pub more: bool,
}

/// Renders a view on the server to its HTML.
#[cfg(feature = "ssr")]
pub fn render(view: impl IntoView) -> String {
    use leptos::tachys::view::RenderHtml;
    Owner::new().with(|| view.into_view().to_html())
}

/// How often an answer still coming in is asked about again.
const POLL_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// A fragment followed from the browser: the last answer, the last error,
/// whether a request is in flight.
#[derive(Clone, Copy)]
pub struct Follow {
    pub data: RwSignal<Option<Fragment>>,
    pub error: RwSignal<Option<String>>,
    pub asking: RwSignal<bool>,
}

impl Follow {
    /// The markup to show (empty before the first answer).
    pub fn html(self) -> impl Fn() -> String + Copy {
        move || {
            self.data
                .with(|d| d.as_ref().map(|f| f.html.clone()).unwrap_or_default())
        }
    }

    /// Still coming in (or not asked yet).
    pub fn loading(self) -> impl Fn() -> bool + Copy {
        move || self.data.with(|d| d.as_ref().is_none_or(|f| f.more))
    }

    /// Neither asking nor following a lookup: a refresh may start.
    pub fn idle(self) -> impl Fn() -> bool + Copy {
        move || !self.asking.get() && self.data.with(|d| d.as_ref().is_some_and(|f| !f.more))
    }
}

/// Asks `fetch` once the island is live in the browser, then every second
/// while the answer says `more`. Returns the follower and a way to ask again
/// (`true`: read AWS again).
pub fn follow<F, Fut>(fetch: F) -> (Follow, impl Fn(bool) + Copy)
where
    F: Fn(bool) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Fragment, ServerFnError>> + 'static,
{
    let f = Follow {
        data: RwSignal::new(None),
        error: RwSignal::new(None),
        asking: RwSignal::new(false),
    };
    let fetch = StoredValue::new(fetch);
    let ask = move |refresh: bool| {
        if f.asking.try_get_untracked() != Some(false) {
            return;
        }
        let Some(answer) = fetch.try_with_value(|fetch| fetch(refresh)) else {
            return;
        };
        f.asking.set(true);
        leptos::task::spawn_local(async move {
            match answer.await {
                Ok(v) => {
                    // Swapped in only when it changed: a live region is
                    // not announced again, nor a focused link replaced.
                    if f.data.with_untracked(|d| d.as_ref() != Some(&v)) {
                        f.data.set(Some(v));
                    }
                    f.error.set(None);
                }
                Err(e) => f.error.set(Some(error_text(&e))),
            }
            f.asking.set(false);
        });
    };
    // Asked once live in the browser (an Effect never runs on the server).
    Effect::new(move |_| {
        ask(false);
        let handle = set_interval_with_handle(
            move || {
                let more = f
                    .data
                    .try_with_untracked(|d| d.as_ref().is_some_and(|x| x.more))
                    .unwrap_or(false);
                if more {
                    ask(false);
                }
            },
            POLL_EVERY,
        );
        if let Ok(h) = handle {
            on_cleanup(move || h.clear());
        }
    });
    (f, ask)
}

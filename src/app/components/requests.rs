//! Access requests in the browser: the form that asks (on a secret's page
//! and on `/requests/new`), and the list where owners decide and anyone
//! with a grant sees it and can give it up.

use crate::api::{
    approve_request, deny_request, preview_approval, request_access, revoke_request,
    ApprovalPreview, BriefFocus, RequestMade, RequestRow, RequestsPage,
};
use crate::app::components::dialog::{Dialog, DialogButtons};
use crate::app::components::readers::ReadersBrief;
use crate::app::error_text;
use crate::app::part;
use crate::domain::requests::{duration_text, AccessRequest, RequestStatus};
use crate::domain::Timestamp;
use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;

/// The durations offered; the server bounds them by its maximum.
const DURATIONS: [(&str, &str); 6] = [
    ("1h", "1 hour"),
    ("4h", "4 hours"),
    ("8h", "8 hours"),
    ("1d", "1 day"),
    ("3d", "3 days"),
    ("7d", "7 days"),
];

/// A duration picker: the quick picks, then "other" (a number of hours or
/// days). `on_pick` gets what to send, as [`crate::domain::requests::parse_duration`]
/// reads it ("" for `first`, the as-asked choice). The server checks it.
fn duration_picker(
    id: &'static str,
    first: Option<String>,
    picks: Vec<(&'static str, &'static str)>,
    initial: &'static str,
    on_pick: impl Fn(String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let (choice, set_choice) = signal(initial.to_string());
    let (count, set_count) = signal(String::new());
    let (unit, set_unit) = signal("days".to_string());
    let send = move || {
        let c = choice.get_untracked();
        on_pick(if c == "other" {
            format!("{} {}", count.get_untracked().trim(), unit.get_untracked())
        } else {
            c
        });
    };
    let other = move || choice.get() == "other";
    part(view! {
        <select id=id on:change=move |ev| { set_choice.set(event_target_value(&ev)); send() }>
            {first.map(|text| view! { <option value="">{text}</option> })}
            {picks.into_iter().map(|(v, text)| view! {
                <option value=v selected=v == initial>{text}</option>
            }).collect_view()}
            <option value="other">"Other…"</option>
        </select>
        <Show when=other>
            <div class="duration-other">
                <label for=format!("{id}-n")>"How many"</label>
                <input id=format!("{id}-n") type="number" min="1" max="9999" step="1" required inputmode="numeric"
                    prop:value=move || count.get()
                    on:input=move |ev| { set_count.set(event_target_value(&ev)); send() }/>
                <label for=format!("{id}-unit")>"Unit"</label>
                <select id=format!("{id}-unit") on:change=move |ev| { set_unit.set(event_target_value(&ev)); send() }>
                    <option value="hours">"hours"</option>
                    <option value="days" selected>"days"</option>
                </select>
            </div>
        </Show>
    })
}

/// What became of the request just sent.
fn request_outcome(o: Result<RequestMade, String>) -> impl IntoView {
    match o {
        Ok(r) => Either::Left(view! {
            <p class="notice" role="status" data-testid="request-made">
                {if r.merged {
                    format!("Added to the open request {} for this principal: its owner sees your reason too.", r.id)
                } else {
                    format!("Request {} sent; it is decided by {}.", r.id, if r.approvers.is_empty() { "the admins".to_string() } else { r.approvers.join(", ") })
                }}
                " " <a href="/requests">"See your requests"</a>
            </p>
        }),
        Err(e) => Either::Right(view! { <p class="error" role="alert">{e}</p> }),
    }
}

/// Asks for read access. `secret` empty: the form asks which secret too.
#[island]
pub fn RequestAccessForm(secret: String, deciders: String, max_duration: String) -> impl IntoView {
    let fixed = !secret.is_empty();
    let (name, set_name) = signal(secret);
    let (principal, set_principal) = signal(String::new());
    let (duration, set_duration) = signal("8h".to_string());
    let (why, set_why) = signal(String::new());
    let (busy, set_busy) = signal(false);
    let (outcome, set_outcome) = signal(None::<Result<RequestMade, String>>);
    // Secret search for the free form: secrets matching what is typed, each
    // offered by its ARN (a name can exist in several accounts and regions).
    let (found, set_found) = signal(Vec::<(String, String)>::new());
    let search = move |text: String| {
        set_name.set(text.clone());
        if text.trim().chars().count() < 2 {
            set_found.set(Vec::new());
            return;
        }
        leptos::task::spawn_local(async move {
            // A small answer of its own: the inventory's page would bring
            // its whole shape (folders, facets, rows) into the wasm bundle.
            if let Ok(found) = crate::api::find_secrets(text).await {
                set_found.set(found);
            }
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        set_busy.set(true);
        set_outcome.set(None);
        leptos::task::spawn_local(async move {
            let r = request_access(
                name.get_untracked(),
                principal.get_untracked(),
                why.get_untracked(),
                duration.get_untracked(),
            )
            .await
            .map_err(|e| error_text(&e));
            // What was typed stays after an error, so nothing is lost.
            if r.is_ok() {
                set_why.set(String::new());
            }
            set_outcome.set(Some(r));
            set_busy.set(false);
        });
    };
    // Built in parts (each type-erased): one static view of the whole form
    // makes a future too deep for a debug build's stack when rendered.
    let secret_field = (!fixed).then(|| {
        part(view! {
            <label for="req-secret">"Secret (name or ARN)"</label>
            <input id="req-secret" type="text" required autocomplete="off" spellcheck="false"
                placeholder="prod/payments/db" list="req-secrets" aria-describedby="req-secret-help"
                prop:value=move || name.get() on:input=move |ev| search(event_target_value(&ev))/>
            <datalist id="req-secrets">
                {move || found.get().into_iter().map(|(arn, label)| view! { <option value=arn>{label}</option> }).collect_view()}
            </datalist>
            <p class="muted help" id="req-secret-help">"Type part of its name to search the secrets you can see; picking one fills in its ARN, which names its account and region."</p>
        })
    });
    let principal_field = part(view! {
        <label for="req-principal">"IAM principal that needs to read it"</label>
        <input id="req-principal" type="text" required autocomplete="off" spellcheck="false"
            placeholder="arn:aws:iam::123456789012:role/app-reader" aria-describedby="req-principal-help"
            prop:value=move || principal.get() on:input=move |ev| set_principal.set(event_target_value(&ev))/>
        <p class="muted help" id="req-principal-help">
            "A role or user ARN (or an account's root). It gets secretsmanager:GetSecretValue and DescribeSecret on this secret; "
            "if the secret uses a customer managed KMS key, the principal also needs kms:Decrypt on that key, which this grant cannot give."
        </p>
    });
    let duration_field = part(view! {
        <label for="req-duration">"For how long"</label>
        {duration_picker("req-duration", None, DURATIONS.to_vec(), "8h", move |v| set_duration.set(v))}
        <p class="muted help">{format!("At most {max_duration}. Access ends by itself; it can be revoked earlier.")}</p>
    });
    let why_field = part(view! {
        <label for="req-why">"Why (the owner reads this)"</label>
        <textarea id="req-why" required rows="3" placeholder="Debugging INC-1234: the payments worker cannot connect"
            prop:value=move || why.get() on:input=move |ev| set_why.set(event_target_value(&ev))></textarea>
        <p class="muted help">{format!("Decided by {deciders}.")}</p>
    });
    let result = move || outcome.get().map(request_outcome);
    view! {
        <form class="request-form" on:submit=submit data-testid="request-form">
            {secret_field}
            {principal_field}
            {duration_field}
            {why_field}
            <button type="submit" disabled=move || busy.get()>
                {move || if busy.get() { "Sending…" } else { "Request access" }}
            </button>
            {result}
        </form>
    }
}

/// A request's status in words.
pub fn status_text(r: &AccessRequest, now: Timestamp) -> String {
    match r.status {
        RequestStatus::Pending => "waiting for a decision".to_string(),
        RequestStatus::Approved => match r.expires_at {
            Some(t) => format!("approved until {} (to be granted by hand)", t.display()),
            None => "approved".to_string(),
        },
        RequestStatus::Active => match r.expires_at {
            Some(t) if t > now => format!(
                "active: ends {} (in {})",
                t.display(),
                duration_text(t.secs() - now.secs())
            ),
            Some(t) => format!("active: ended {}; being removed", t.display()),
            None => "active".to_string(),
        },
        RequestStatus::Denied => "denied".to_string(),
        RequestStatus::Expired => "expired".to_string(),
        RequestStatus::Revoked => "revoked".to_string(),
        RequestStatus::Failed => "approved, but the grant failed".to_string(),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Decision {
    Approve,
    Deny,
    Revoke,
}

/// The request a decision button belongs to, as its server-rendered row
/// carries it (`data-*` attributes): the browser needs no request type.
#[derive(Clone)]
struct Asked {
    id: i64,
    secret: String,
    arn: String,
    principal: String,
    why: String,
    askers: String,
    secs: i64,
}

/// One list of requests, with the buttons this user may press on each
/// (rendered on the server; [`RequestsBoard`] answers their clicks).
fn requests_table(
    rows: Vec<RequestRow>,
    caption: &'static str,
    testid: &'static str,
    empty: &'static str,
    now: Timestamp,
) -> impl IntoView {
    if rows.is_empty() {
        return Either::Left(view! { <p class="muted" data-testid=testid>{empty}</p> });
    }
    Either::Right(view! {
        <div class="table-wrap" tabindex="0" role="region" aria-label=caption>
        <table class="requests" data-testid=testid>
            <caption class="visually-hidden">{caption}</caption>
            <thead><tr>
                <th scope="col">"#"</th><th scope="col">"Secret"</th><th scope="col">"Principal"</th>
                <th scope="col">"Asked by"</th><th scope="col">"For"</th><th scope="col">"Why"</th>
                <th scope="col">"Status"</th><th scope="col">"Actions"</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|row| request_row(row, now)).collect_view()}
            </tbody>
        </table>
        </div>
    })
}

fn request_row(row: RequestRow, now: Timestamp) -> impl IntoView {
    let r = row.request;
    let button = |d: &'static str, class: &'static str, label: &'static str, what: &str| {
        view! {
            <button type="button" class=class data-decide=d aria-label=format!("{what} request {}", r.id)>{label}</button>
        }
    };
    let actions = (
        row.can_decide.then(|| {
            (
                button("approve", "", "Approve", "Approve"),
                button("deny", "secondary", "Deny", "Deny"),
            )
        }),
        row.can_revoke
            .then(|| button("revoke", "secondary", "Revoke now", "Revoke")),
    );
    view! {
        <tr data-status=r.status.as_str() data-id=r.id data-secret=r.secret.clone() data-arn=r.secret_arn.clone()
            data-principal=r.principal.clone() data-why=r.justification.clone() data-askers=r.askers_text()
            data-secs=r.duration_secs>
            <td>{r.id}</td>
            <th scope="row"><a href=crate::domain::links::secret_href(&r.secret_arn)>{r.secret.clone()}</a>
                <br/><span class="muted place">{crate::domain::secret::place_of(&r.secret_arn)}</span></th>
            <td><code>{r.principal.clone()}</code></td>
            <td>{r.requested_by.clone()}<br/><span class="muted">{r.requested_at.display()}</span></td>
            <td>{duration_text(r.duration_secs)}</td>
            <td class="why">{r.justification.clone()}
                {r.comment.clone().map(|c| view! { <br/><span class="muted">{format!("{}: {c}", r.decided_by.clone().unwrap_or_else(|| "note".into()))}</span> })}
            </td>
            <td>{status_text(&r, now)}</td>
            <td class="row-actions">{actions}</td>
        </tr>
    }
}

/// The request from the row of the decision button clicked (`ev`'s
/// target or an ancestor of it), and the decision.
fn clicked(ev: &leptos::ev::MouseEvent) -> Option<(Decision, Asked)> {
    use leptos::wasm_bindgen::JsCast;
    let target = ev.target()?.dyn_into::<leptos::web_sys::Element>().ok()?;
    let button = target.closest("button[data-decide]").ok()??;
    let row = button.closest("tr[data-id]").ok()??;
    let d = match button.get_attribute("data-decide")?.as_str() {
        "approve" => Decision::Approve,
        "deny" => Decision::Deny,
        "revoke" => Decision::Revoke,
        _ => return None,
    };
    let attr = |n: &str| row.get_attribute(n).unwrap_or_default();
    Some((
        d,
        Asked {
            id: attr("data-id").parse().ok()?,
            secret: attr("data-secret"),
            arn: attr("data-arn"),
            principal: attr("data-principal"),
            why: attr("data-why"),
            askers: attr("data-askers"),
            secs: attr("data-secs").parse().ok()?,
        },
    ))
}

/// What is being decided: the secret, the principal, why, and a warning
/// when the principal is a whole account.
fn request_facts(r: &Asked) -> impl IntoView {
    view! {
        <dl class="request-facts" data-testid="request-facts">
            <dt>"Secret"</dt><dd><code class="arn">{r.arn.clone()}</code>
                <span class="muted">{format!(" (account · region: {})", crate::domain::secret::place_of(&r.arn))}</span></dd>
            <dt>"Principal"</dt><dd><code class="arn">{r.principal.clone()}</code></dd>
            <dt>"Why"</dt><dd class="why" data-testid="request-why">{r.why.clone()}</dd>
        </dl>
        {crate::domain::requests::whole_account(&r.principal).map(|account| view! {
            <p class="warning" role="note" data-testid="root-warning">{format!(
                "This principal is a whole account ({account}): every role and user in it that its own IAM policies allow could read this secret, not one application."
            )}</p>
        })}
    }
}

/// The approval's effect: when access ends and the policy change, or why
/// it could not be read.
fn approval_preview(preview: Option<Result<ApprovalPreview, String>>) -> impl IntoView {
    match preview {
        None => EitherOf3::A(
            view! { <p class="muted" aria-busy="true">"Reading the secret's resource policy…"</p> },
        ),
        Some(Err(e)) => EitherOf3::B(view! { <p class="error" role="alert">{e}</p> }),
        Some(Ok(p)) => EitherOf3::C(view! {
            <p>{format!("Access ends {} ({}).", p.ends, p.duration)}</p>
            {if p.grants {
                Either::Left(view! {
                    <p>"The secret's resource policy changes like this (Block Public Policy stays on):"</p>
                    <pre class="policy-diff" data-testid="policy-diff" tabindex="0" aria-label="Resource policy change">
                        {p.diff.into_iter().map(|l| {
                            let class = if l.starts_with('+') { "add" } else if l.starts_with('-') { "del" } else { "" };
                            view! { <span class=class>{l}"\n"</span> }
                        }).collect_view()}
                    </pre>
                })
            } else {
                Either::Right(view! { <p class="muted">"Grants are off: nothing in AWS changes; add the access by hand."</p> })
            }}
        }),
    }
}

/// Approving: whether the principal already reads the secret (and who
/// else does), how long to grant for, and what the grant changes.
fn approve_fields(
    r: &Asked,
    pick: impl Fn(String) + Copy + Send + Sync + 'static,
    preview: ReadSignal<Option<Result<ApprovalPreview, String>>>,
) -> impl IntoView {
    part(view! {
        <ReadersBrief id=r.arn.clone() focus=BriefFocus::Principal(r.principal.clone())/>
        <label for="decision-duration">"Grant for"</label>
        {duration_picker(
            "decision-duration",
            Some(format!("{} (as asked)", duration_text(r.secs))),
            DURATIONS.into_iter().filter(|(v, _)| crate::domain::requests::parse_duration(v, r.secs - 1).is_ok()).collect(),
            "",
            pick,
        )}
        <p class="muted help">"As asked, or shorter: never longer."</p>
        {move || approval_preview(preview.get())}
    })
}

/// Sends decision `d` on request `id`; where the page goes next.
async fn decide(d: Decision, id: i64, dur: String, note: String) -> Result<String, ServerFnError> {
    let done = match d {
        Decision::Approve => approve_request(id, dur, note).await,
        Decision::Deny => deny_request(id, note).await,
        Decision::Revoke => revoke_request(id, note).await,
    }?;
    Ok(format!(
        "/requests?done={}&id={}",
        done.status.as_str(),
        done.id
    ))
}

/// The lists of `/requests`, rendered on the server: what waits for this
/// user's decision and their own requests.
#[component]
pub fn RequestLists(page: RequestsPage) -> impl IntoView {
    let now = page.now;
    view! {
        <section aria-labelledby="inbox-h">
            <h2 id="inbox-h">"Waiting for you"</h2>
            <p class="muted">{if page.grants {
                "Approving adds a statement to the secret's resource policy that ends by itself (IAM enforces the expiry); you see the change before it is made."
            } else {
                "Grants are off here: approving records the decision, and the owner adds the access by hand."
            }}</p>
            {requests_table(page.inbox, "Requests you may decide or revoke", "inbox", "Nothing is waiting for you.", now)}
        </section>
        <section aria-labelledby="mine-h">
            <h2 id="mine-h">"Your requests"</h2>
            {requests_table(page.mine, "Your access requests, newest first", "mine", "You have not asked for access yet. Ask from a secret's page, or with the form.", now)}
        </section>
    }
}

/// Approve, deny and revoke on the server-rendered lists (`children`): a
/// click on a row's button opens the dialog for that row's request.
#[island]
pub fn RequestsBoard(children: Children) -> impl IntoView {
    let (open, set_open) = signal(None::<(Decision, Asked)>);
    let (preview, set_preview) = signal(None::<Result<ApprovalPreview, String>>);
    let (duration, set_duration) = signal(String::new());
    let (comment, set_comment) = signal(String::new());
    let (busy, set_busy) = signal(false);
    let (failed, set_failed) = signal(None::<String>);

    let read_preview = move |id: i64, d: String| {
        set_failed.set(None);
        set_preview.set(None);
        leptos::task::spawn_local(async move {
            let p = preview_approval(id, d.clone())
                .await
                .map_err(|e| error_text(&e));
            // Only the preview of what is picked now (answers may cross).
            if duration.get_untracked() == d {
                set_preview.set(Some(p));
            }
        });
    };
    let start = move |ev: leptos::ev::MouseEvent| {
        let Some((d, r)) = clicked(&ev) else {
            return;
        };
        set_preview.set(None);
        set_failed.set(None);
        set_comment.set(String::new());
        set_duration.set(String::new());
        if d == Decision::Approve {
            read_preview(r.id, String::new());
        }
        set_open.set(Some((d, r)));
    };
    let close = move || {
        if !busy.get_untracked() {
            set_open.set(None);
        }
    };
    let confirm = move || {
        let Some((d, r)) = open.get_untracked() else {
            return;
        };
        if busy.get_untracked() {
            return;
        }
        set_busy.set(true);
        set_failed.set(None);
        let (dur, note) = (duration.get_untracked(), comment.get_untracked());
        leptos::task::spawn_local(async move {
            match decide(d, r.id, dur, note).await {
                Ok(href) => {
                    let _ = window().location().set_href(&href);
                }
                Err(e) => {
                    set_failed.set(Some(error_text(&e)));
                    set_busy.set(false);
                }
            }
        });
    };

    view! {
        <div class="request-board" on:click=start>{children()}</div>
        {move || open.get().map(|(d, r)| {
            let verb = match d {
                Decision::Approve => "Approve",
                Decision::Deny => "Deny",
                Decision::Revoke => "Revoke",
            };
            let heading = format!("{verb} request {} for {}", r.id, r.secret);
            let rid = r.id;
            view! {
                <Dialog title_id="decision-title" heading=heading on_close=move |_| close()>
                        <p>{format!("{} asked for {} to read {} for {}.", r.askers, r.principal, r.secret, duration_text(r.secs))}</p>
                        {request_facts(&r)}
                        {(d == Decision::Approve).then(|| approve_fields(&r, move |v: String| {
                            set_duration.set(v.clone());
                            read_preview(rid, v);
                        }, preview))}
                        <label for="decision-comment">{match d {
                            Decision::Deny => "Why not (required: the requester reads it)",
                            _ => "Comment (optional)",
                        }}</label>
                        <textarea id="decision-comment" rows="2" prop:value=move || comment.get()
                            on:input=move |ev| set_comment.set(event_target_value(&ev))></textarea>
                        {move || failed.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                        <DialogButtons
                            label=if d == Decision::Revoke { "Revoke now" } else { verb }.to_string()
                            blocked=Signal::derive(move || (d == Decision::Approve && !matches!(preview.get(), Some(Ok(_))))
                                || (d == Decision::Deny && comment.with(|c| c.trim().is_empty())))
                            busy=busy on_confirm=move |_| confirm() on_close=move |_| close()/>
                </Dialog>
            }
        })}
    }
}

//! `/secret/<name or ARN>`: everything known about one secret, its versions
//! on a timeline, and a refresh that re-reads it from Secrets Manager.

use crate::api::{get_secret, refresh_secret, FindingView, LiveDetail, SecretDetail};
use crate::app::components::actions::{ActionDone, SecretActions};
use crate::app::components::diagnosis::Diagnosis;
use crate::app::components::health::SeverityBadge;
use crate::app::components::readers::SecretReaders;
use crate::app::components::requests::RequestAccessForm;
use crate::app::components::time::When;
use crate::app::components::timeline::{Mark, Timeline};
use crate::app::error_text;
use crate::domain::links::query_value;
use crate::domain::rotation_history::{RotationEvent, RotationEventKind};
use crate::domain::time::span;
use crate::domain::Timestamp;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// AWS accepts recovery windows of 7 to 30 days and does not report the one
/// chosen; 30 is the default.
const MIN_RECOVERY_DAYS: i64 = 7;
const DEFAULT_RECOVERY_DAYS: i64 = 30;
const DAY: i64 = 86_400;

use crate::domain::links::secret_href;

#[component]
pub fn SecretPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("name").unwrap_or_default();
    let deprecated = move || query.read().get("deprecated").is_some_and(|v| v == "1");
    let data = Resource::new(
        move || (id(), deprecated()),
        |(id, deprecated)| get_secret(id, deprecated),
    );
    view! {
        <Title text=move || id()/>
        <p class="crumbs"><a href="/secrets">"Inventory"</a></p>
        <ActionDone/>
        <Transition fallback=|| view! { <p class="muted" aria-busy="true">"Loading the secret…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(d) => view! { <Detail d=d deprecated=deprecated()/> }.into_any(),
                Err(e) => view! {
                    <h1>{id()}</h1>
                    <p class="error" role="alert">{error_text(&e)}</p>
                    <p><a href="/secrets">"Back to the inventory"</a></p>
                }.into_any(),
            })}
        </Transition>
    }
}

/// Re-reads the secret from Secrets Manager, then reloads the page. Without
/// JavaScript the form posts and the server sends the browser back here.
#[island]
fn RefreshButton(arn: String) -> impl IntoView {
    let (busy, set_busy) = signal(false);
    let (failed, set_failed) = signal(None::<String>);
    let id = StoredValue::new(arn.clone());
    // A plain form (it posts without JavaScript) taken over in the browser:
    // ActionForm would bring its type-erased children's async hydration
    // into the wasm bundle for one button.
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        set_busy.set(true);
        leptos::task::spawn_local(async move {
            match refresh_secret(id.get_value()).await {
                Ok(_) => {
                    let _ = window().location().reload();
                }
                Err(e) => {
                    set_failed.set(Some(error_text(&e)));
                    set_busy.set(false);
                }
            }
        });
    };
    view! {
        <form method="post" action="/api/refresh_secret" class="refresh" on:submit=submit>
            <input type="hidden" name="id" value=arn/>
            <button type="submit" class="secondary" disabled=move || busy.get()>
                {move || if busy.get() { "Refreshing…" } else { "Refresh from AWS" }}
            </button>
        </form>
        {move || failed.get().map(
            |e| view! { <p class="error" role="alert">"The refresh failed: "{e}</p> },
        )}
    }
}

#[component]
fn Detail(d: SecretDetail, deprecated: bool) -> impl IntoView {
    let now = d.now;
    let state = d.state;
    let mut marks = vec![Mark {
        at: now,
        label: "now",
    }];
    if let Some(t) = d.last_rotated {
        marks.push(Mark {
            at: t,
            label: "last rotated",
        });
    }
    if let Some(t) = d.next_rotation {
        marks.push(Mark {
            at: t,
            label: "next rotation",
        });
    }
    if let Some(t) = d.deleted {
        marks.push(Mark {
            at: t,
            label: "deletion requested",
        });
    }
    let (name, arn) = (d.name.clone(), d.arn.clone());
    let versions_link = if deprecated {
        Some(("Hide deprecated versions".to_string(), secret_href(&name)))
    } else if d.deprecated_hidden > 0 {
        Some((
            format!("Show {} deprecated version(s)", d.deprecated_hidden),
            format!("{}?deprecated=1", secret_href(&name)),
        ))
    } else {
        None
    };
    view! {
        <div class="detail-head">
            <h1 class="secret-name">{d.name.clone()}</h1>
            <span class=format!("state {}", state.class()) title=state.explain()>{state.word()}</span>
            <RefreshButton arn=arn.clone()/>
        </div>
        <p class="muted freshness">{freshness(&d)}</p>
        {(!d.actions.is_empty()).then(|| view! { <SecretActions name=name.clone() offers=d.actions.clone() compact=false/> })}
        {d.live_error.clone().map(|e| view! {
            <p class="warning" role="status">"Replica status, the resource policy and deprecated versions could not be read: "{e}" The rest of this page is from the last sync."</p>
        })}
        <Findings findings=d.findings.clone() not_evaluated=d.not_evaluated.clone() now=now/>
        <section class="facts" aria-labelledby="about-h">
            <h2 id="about-h">"About"</h2>
            <dl>
                <dt>"ARN"</dt><dd><code class="arn">{d.arn.clone()}</code></dd>
                <dt>"Account / region"</dt><dd>{format!("{} / {}", d.account, d.region)}
                    {d.source.clone().map(|s| view! { <span class="muted">{format!(" (source {s})")}</span> })}</dd>
                <dt>"Description"</dt><dd>{d.description.clone().unwrap_or_else(|| "none".into())}</dd>
                <dt>"Owner"</dt><dd>{match d.owner.clone() {
                    Some(o) => view! { <strong>{o.name.clone()}</strong><span class="muted">{format!(" (from {})", o.source_text())}</span> }.into_any(),
                    None => view! { <span class="warn-text">"unknown: no owner tag, and the description names nobody"</span> }.into_any(),
                }}</dd>
                <dt>"Encryption key"</dt><dd>{match d.kms_key.clone() {
                    Some(k) if !d.kms_default => view! { <code>{k}</code>" (customer managed)" }.into_any(),
                    _ => view! { <code>"aws/secretsmanager"</code><span class="muted">" (the AWS managed default key)"</span> }.into_any(),
                }}</dd>
                <dt>"Owning service"</dt><dd>{d.owning_service.clone().unwrap_or_else(|| "none (managed directly)".into())}</dd>
                <dt>"Created"</dt><dd><When at=d.created now=now/></dd>
                <dt>"Last changed"</dt><dd><When at=d.last_changed now=now/></dd>
                <dt>"Last accessed"</dt><dd><When at=d.last_accessed now=now absent="never recorded"/><span class="muted">" (AWS records the day only)"</span></dd>
            </dl>
            <h3>"Tags"</h3>
            {if d.tags.is_empty() {
                view! { <p class="muted">"No tags."</p> }.into_any()
            } else {
                view! {
                    <ul class="tags">
                        {d.tags.iter().map(|t| view! {
                            <li><a href=format!("/secrets?q={}", query_value(&t.search)) title="Show every secret with this tag"><span class="k">{t.key.clone()}</span>"="<span class="v">{t.value.clone()}</span></a></li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
        <Rotation d=d.clone()/>
        {d.rotation_lambda.is_some().then(|| view! { <Diagnosis id=d.arn.clone() failing=d.failure.is_some()/> })}
        {d.history.clone().map(|h| view! { <History history=h now=now/> })}
        {d.deleted.map(|t| view! { <Deletion deleted=t now=now/> })}
        <SecretReaders id=d.arn.clone()/>
        <AccessPanel d=d.clone() now=now/>
        <section aria-labelledby="versions-h">
            <h2 id="versions-h">"Versions and labels"</h2>
            <Timeline versions=d.versions.clone() marks=marks now=now/>
            {versions_link.map(|(text, href)| view! { <p><a href=href>{text}</a></p> })}
        </section>
        <Replication d=d.clone()/>
        {d.live.clone().map(|l| view! { <Policy live=l/> })}
    }
}

/// What the health rules say about this secret, with why and how to fix.
#[component]
fn Findings(
    findings: Vec<FindingView>,
    not_evaluated: Vec<crate::api::NotEvaluatedView>,
    now: Timestamp,
) -> impl IntoView {
    let active = findings.iter().filter(|f| f.suppressed.is_none()).count();
    let not_evaluated = (!not_evaluated.is_empty()).then(|| {
        view! {
            <div class="not-evaluated" data-testid="not-evaluated">
                <p class="muted small">"Not evaluated (neither passed nor failed):"</p>
                <ul class="compact">
                    {not_evaluated.into_iter().map(|n| view! {
                        <li data-rule=n.rule.clone()>
                            <span class="badge sev-info">"not evaluated"</span>" "
                            <strong>{n.title}</strong>" "<span class="muted small">{n.why}</span>
                        </li>
                    }).collect_view()}
                </ul>
            </div>
        }
    });
    view! {
        <section class="facts findings" aria-labelledby="health-h" data-testid="findings">
            <h2 id="health-h">"Health"</h2>
            {if findings.is_empty() {
                view! { <p><SeverityBadge worst=None/>" No rule that ran finds anything to fix."</p> }.into_any()
            } else {
                view! {
                    <p class="muted small">{format!("{active} active finding(s), worst first; suppressed ones last.")}</p>
                    <ul class="findings">
                        {findings.into_iter().map(|f| {
                            let suppressed = f.suppressed.clone();
                            let is_suppressed = suppressed.is_some();
                            view! {
                                <li class:suppressed=is_suppressed>
                                    <p>
                                        <SeverityBadge worst=Some(f.severity)/>" "
                                        <strong>{f.title}</strong>
                                        {f.since.map(|t| view! { <span class="muted">" · since "<When at=Some(t) now=now/></span> })}
                                        " "<a class="small" href=format!("/secrets?q={}", query_value(&format!("rule:{}", f.rule.as_str())))>"all secrets with this finding"</a>
                                    </p>
                                    <p>{f.detail}</p>
                                    {f.trail.map(|t| view! {
                                        <p class="trail-note" data-testid="trail-note">
                                            <strong>{format!("CloudTrail: {} ", t.headline)}</strong>
                                            <When at=Some(t.at) now=now/>": "<span class="msg">{t.message}</span>
                                        </p>
                                    })}
                                    {suppressed.map(|r| view! { <p class="muted">"Suppressed by tag: "{r}</p> })}
                                    <details>
                                        <summary>"Why it matters and how to fix it"</summary>
                                        <p>{f.why}</p>
                                        <p class="fix-text"><strong>"Fix: "</strong>{commands(&f.fix)}</p>
                                        <p class="muted small">"Corresponds to: "{f.source}</p>
                                    </details>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {not_evaluated}
        </section>
    }
}

/// A fix text with its `backticked` commands as code, as text (nothing in
/// it is markup); an unmatched backtick stays as written.
fn commands(text: &str) -> impl IntoView {
    let parts: Vec<&str> = text.split('`').collect();
    let closed = parts.len() % 2 == 1;
    let last = parts.len() - 1;
    parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 && (closed || i < last) {
                view! { <code class="cmd">{part.to_string()}</code> }.into_any()
            } else if i % 2 == 1 {
                format!("`{part}").into_any()
            } else {
                part.to_string().into_any()
            }
        })
        .collect_view()
}

/// Rotation outcomes from CloudTrail (when it is on).
#[component]
fn History(history: Result<Vec<RotationEvent>, String>, now: Timestamp) -> impl IntoView {
    view! {
        <section class="facts" aria-labelledby="history-h" data-testid="history">
            <h2 id="history-h">"Rotation history (CloudTrail)"</h2>
            {match history {
                Err(e) => view! { <p class="warning">{format!("CloudTrail could not be read: {e}")}</p> }.into_any(),
                Ok(events) if events.is_empty() => view! {
                    <p class="muted">"No rotation events within the lookback window."</p>
                }.into_any(),
                Ok(events) => view! {
                    <div class="table-wrap" tabindex="0" role="region" aria-label="Rotation history">
                    <table class="plain">
                        <thead><tr><th scope="col">"When"</th><th scope="col">"Event"</th><th scope="col">"Version"</th><th scope="col">"Message"</th><th scope="col">"By"</th></tr></thead>
                        <tbody>
                            {events.into_iter().map(|e| {
                                let failed = e.kind == RotationEventKind::Failed;
                                view! {
                                    <tr class:bad-text=failed>
                                        <td><When at=Some(e.at) now=now/></td>
                                        <td>{e.kind.title()}</td>
                                        <td>{e.version_id.map(|v| view! { <code>{v}</code> })}</td>
                                        <td>{e.message.unwrap_or_default()}</td>
                                        <td>{e.actor.unwrap_or_default()}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                }.into_any(),
            }}
        </section>
    }
}

fn freshness(d: &SecretDetail) -> String {
    match &d.live {
        Some(l) => format!(
            "Read from Secrets Manager {}; refresh to read it again.",
            l.fetched_at.relative(d.now)
        ),
        None => "From the last sync.".to_string(),
    }
}

#[component]
fn Rotation(d: SecretDetail) -> impl IntoView {
    let now = d.now;
    let schedule = match (&d.rotation_schedule, d.rotation_days) {
        (Some(e), _) => format!("schedule {e}"),
        (None, Some(days)) => format!("every {days} days"),
        (None, None) => "no schedule".to_string(),
    };
    view! {
        <section class="facts" aria-labelledby="rotation-h">
            <h2 id="rotation-h">"Rotation"</h2>
            <dl>
                <dt>"Rotation"</dt>
                <dd>{if d.rotation_enabled { "enabled" } else { "disabled" }}
                    {(!d.rotation_enabled && d.rotation_lambda.is_some()).then_some(" (a Lambda is still configured)")}</dd>
                <dt>"Lambda"</dt><dd>{match d.rotation_lambda.clone() {
                    Some(l) => view! { <code class="arn">{l}</code> }.into_any(),
                    None => view! { <span class="muted">"none"</span> }.into_any(),
                }}</dd>
                <dt>"Schedule"</dt><dd>{schedule}</dd>
                <dt>"Window"</dt><dd>{d.rotation_window.clone().unwrap_or_else(|| "AWS default (the last 24 hours of the interval)".into())}</dd>
                <dt>"Last rotated"</dt><dd><When at=d.last_rotated now=now absent="never"/></dd>
                <dt>"Next rotation"</dt><dd><When at=d.next_rotation now=now absent="not scheduled"/></dd>
            </dl>
            {d.failure.clone().map(|f| view! {
                <div class="failure-box" data-testid="rotation-failure"
                    data-step=f.step.map(|s| s.as_str()).unwrap_or_default() data-attempt=f.attempt.to_string()>
                    <h3>{f.headline()}</h3>
                    <p>
                        <When at=Some(f.at) now=now/>
                        {f.message.clone().map(|m| view! { ": " <span class="msg">{m}</span> })}
                    </p>
                    {f.step.map(|s| view! {
                        <p data-testid="step-guidance"><strong>{format!("{s} ")}</strong>{format!("{}. {}", s.does(), s.guidance())}</p>
                    })}
                    <p class="muted">"When the cause is fixed, Retry rotation removes AWSPENDING from the failed attempt's version and starts again."</p>
                </div>
            })}
        </section>
    }
}

#[component]
fn Deletion(deleted: Timestamp, now: Timestamp) -> impl IntoView {
    let earliest = Timestamp::new(deleted.secs() + MIN_RECOVERY_DAYS * DAY);
    let default = Timestamp::new(deleted.secs() + DEFAULT_RECOVERY_DAYS * DAY);
    let left = default.secs() - now.secs();
    view! {
        <section class="deletion" aria-labelledby="deletion-h" role="note">
            <h2 id="deletion-h">"Scheduled for deletion"</h2>
            <p>"Deletion was requested "<When at=Some(deleted) now=now/>". "
                "It can be restored until "<strong>{default.display()}</strong>
                {if left > 0 { format!(" ({} from now)", span(left)) } else { " (passed)".to_string() }}
                " if the default 30-day recovery window was used. AWS does not report the window chosen: with the shortest (7 days) the deadline is "
                {earliest.display()}"."</p>
        </section>
    }
}

#[component]
fn Replication(d: SecretDetail) -> impl IntoView {
    // PrimaryRegion is reported on replicated secrets, primaries included.
    let primary = d.primary_region.clone().filter(|p| *p != d.region);
    let replicas = d.live.as_ref().map(|l| l.replicas.clone());
    let links = d.replica_links.clone();
    view! {
        <section class="facts" aria-labelledby="replication-h">
            <h2 id="replication-h">"Replication"</h2>
            {match (primary, d.primary_link.clone()) {
                (Some(p), Some(link)) => view! {
                    <p data-testid="primary-link">"This is a replica. Its primary is in "<strong>{p}</strong>": "
                        <a href=secret_href(&link)>{format!("open the primary of {}", d.name)}</a>
                        " to rotate it or change it; replicas follow."</p>
                }.into_any(),
                (Some(p), None) => view! { <p>"This is a replica. Its primary is in "<strong>{p}</strong>", which the dashboard does not read."</p> }.into_any(),
                (None, _) => view! { <p>{format!("Primary region: {}.", d.region)}</p> }.into_any(),
            }}
            {match replicas {
                None => view! { <p class="muted">"Replica status is read from Secrets Manager when the secret is opened; it could not be read now."</p> }.into_any(),
                Some(r) if r.is_empty() => view! { <p class="muted">"Not replicated to other regions."</p> }.into_any(),
                Some(r) => view! {
                    <div class="table-wrap" tabindex="0" role="region" aria-label="Replicas">
                    <table class="plain">
                        <caption class="visually-hidden">"Replicas"</caption>
                        <thead><tr><th scope="col">"Region"</th><th scope="col">"Status"</th><th scope="col">"Message"</th><th scope="col">"KMS key"</th></tr></thead>
                        <tbody>
                            {r.into_iter().map(|x| {
                                let class = match x.status.as_str() { "InSync" => "state state-ok", "Failed" => "state state-bad", _ => "state state-warn" };
                                let link = links.iter().find(|(r, _)| *r == x.region).map(|(_, arn)| secret_href(arn));
                                let region = match link {
                                    Some(href) => view! { <a href=href>{x.region.clone()}</a> }.into_any(),
                                    None => view! { <span>{x.region.clone()}</span> }.into_any(),
                                };
                                view! {
                                    <tr>
                                        <th scope="row">{region}</th>
                                        <td><span class=class>{x.status}</span></td>
                                        <td>{x.message.unwrap_or_default()}</td>
                                        <td>{x.kms_key.unwrap_or_else(|| "aws/secretsmanager".into())}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Policy(live: LiveDetail) -> impl IntoView {
    let body = match (&live.policy, live.policy_summary.clone()) {
        (_, Err(e)) => view! { <p class="warning">"The policy could not be read or summarised: "{e}</p> }.into_any(),
        (None, Ok(_)) => view! { <p class="muted">"No resource policy: only IAM policies in the account decide who may read this secret."</p> }.into_any(),
        (Some(_), Ok(statements)) => view! {
            <ul class="policy">
                {statements.into_iter().map(|s| {
                    let public = s.is_public();
                    view! {
                        <li class:deny=s.deny class:public=public>
                            {s.sentence()}
                            {s.sid.clone().map(|sid| view! { <span class="muted">{format!(" (Sid {sid})")}</span> })}
                            {public.then(|| view! { <strong class="bad-text">" — open to everyone"</strong> })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        }.into_any(),
    };
    view! {
        <section class="facts" aria-labelledby="policy-h">
            <h2 id="policy-h">"Resource policy"</h2>
            {body}
            {live.policy.map(|raw| view! {
                <details class="raw">
                    <summary>"Raw policy JSON"</summary>
                    <pre tabindex="0" aria-label="Raw policy JSON"><code>{raw}</code></pre>
                </details>
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_round_trip_odd_names() {
        assert_eq!(secret_href("prod/payments/db"), "/secret/prod/payments/db");
        assert_eq!(secret_href("a b+c"), "/secret/a%20b%2Bc");
        assert_eq!(
            secret_href("x/<img src=x onerror=alert(1)>"),
            "/secret/x/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E"
        );
    }
}

/// Who decides access requests for the secret, the open ones, and the form
/// to ask (not for a secret scheduled for deletion).
#[component]
fn AccessPanel(d: SecretDetail, now: Timestamp) -> impl IntoView {
    view! {
        <section class="facts access" aria-labelledby="access-h" data-testid="access">
            <h2 id="access-h">"Access"</h2>
            <p>"Access requests for this secret are decided by "<strong>{d.access.deciders.clone()}</strong>"."</p>
            {(!d.access.open.is_empty()).then(|| view! {
                <ul class="open-requests">
                    {d.access.open.iter().map(|r| view! {
                        <li>{format!("Request {} by {} for ", r.id, r.requested_by)}<code>{r.principal.clone()}</code>
                            {format!(": {}", crate::app::components::requests::status_text(r, now))}</li>
                    }).collect_view()}
                </ul>
            })}
            {(d.deleted.is_none()).then(|| view! {
                <details>
                    <summary>"Request access"</summary>
                    <RequestAccessForm secret=d.name.clone() deciders=d.access.deciders.clone() max_duration=d.access.max_duration.clone()/>
                </details>
            })}
        </section>
    }
    .into_any()
}

//! The readers of a secret as the server renders them (see
//! `components::fragment`): the "Readers" section of its page and the brief
//! of the dialogs. Names, ARNs and messages come from CloudTrail and are
//! rendered as text only.

use crate::api::{BriefFocus, ReadProgress, ReadersBrief as Brief, ReadersView};
use crate::app::components::fragment::{render, Fragment};
use crate::app::components::time::When;
use crate::domain::reads::{PrincipalKind, Reader, Readers};
use crate::domain::Timestamp;
use leptos::prelude::*;
const DAY: i64 = 86_400;
/// The other readers an approval dialog lists before "and N more".
const BRIEF_OTHERS: usize = 8;

/// `1 read`, `3 reads`.
fn count(n: u32, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `no successful reads`, `1 read`, `3 reads`.
fn reads_words(n: u32) -> String {
    if n == 0 {
        "no successful reads".to_string()
    } else {
        count(n, "read", "reads")
    }
}

/// Whole days from `since` to `at`, at least one.
fn days_between(since: Timestamp, at: Timestamp) -> i64 {
    ((at.secs() - since.secs() + DAY / 2) / DAY).max(1)
}

/// Successful reads by the version asked for, most first:
/// `AWSCURRENT (default) 120`, `AWSPREVIOUS 4`.
pub fn asked_words(r: &Reader) -> Vec<String> {
    r.asked
        .iter()
        .map(|a| format!("{} {}", a.asked.label(), a.count))
        .collect()
}

/// Failed reads by error, most first: `3 marked for deletion`.
pub fn failure_words(r: &Reader) -> Vec<String> {
    r.failures
        .iter()
        .map(|f| format!("{} {}", f.count, f.error.label()))
        .collect()
}

/// Failed reads by error: `3 marked for deletion · 1 access denied`.
pub fn failures_text(r: &Reader) -> String {
    failure_words(r).join(" · ")
}

/// How far a lookup has got: `Reading CloudTrail: 4 pages, 180 reads, back
/// to 2026-11-20 07:13 UTC`.
pub fn progress_text(p: &ReadProgress) -> String {
    let back = match p.reached {
        Some(t) => format!(", back to {}", t.display()),
        None => String::new(),
    };
    format!(
        "Reading CloudTrail: {}, {}{back}",
        count(p.pages, "page", "pages"),
        count(p.events, "read", "reads")
    )
}

/// The share of the window read so far, 0 to 1 (newest first, so the
/// lookup has covered `now` back to `reached`).
fn progress_share(p: &ReadProgress, now: Timestamp) -> f64 {
    let whole = (now.secs() - p.window_start.secs()).max(1) as f64;
    let done = p.reached.map_or(0, |r| now.secs() - r.secs()) as f64;
    (done / whole).clamp(0.0, 1.0)
}

/// The bar of a lookup in flight (the words are in the status line).
fn progress_bar(p: &ReadProgress, now: Timestamp) -> impl IntoView {
    let share = progress_share(p, now);
    view! {
        <progress class="readers-progress" max="1" value=format!("{share:.3}")
            aria-label="How far back CloudTrail has been read"></progress>
    }
}

/// The account a reader lives in, and whether it is one of the
/// dashboard's sources.
fn account_view(r: &Reader) -> impl IntoView {
    let account = r.principal.account.clone();
    let (word, class, title) = match (&account, r.ours) {
        (_, true) => (
            "ours",
            "badge sev-ok",
            "One of the accounts the dashboard reads",
        ),
        (Some(_), false) => (
            "outside",
            "badge sev-medium",
            "Not one of the accounts the dashboard reads",
        ),
        (None, false) => (
            "unknown",
            "badge sev-info",
            "CloudTrail does not say which account",
        ),
    };
    view! {
        <span class="account">{account.map(|a| view! { <span class="mono">{a.to_string()}</span>" " })}
            <span class=class title=title data-ours=r.ours.to_string()>{word}</span></span>
    }
}

/// What the status line says of the page's readers.
fn page_status(v: &ReadersView) -> String {
    if let Some(p) = &v.loading {
        return progress_text(p);
    }
    match &v.readers {
        None => "Readers unknown.".to_string(),
        Some(r) if r.readers.is_empty() => "No readers.".to_string(),
        Some(r) => {
            let reads: u32 = r.readers.iter().map(|x| x.reads).sum();
            let failed: u32 = r.readers.iter().map(|x| x.failed()).sum();
            format!(
                "{}: {}, {}.",
                count(r.readers.len() as u32, "reader", "readers"),
                count(reads, "successful read", "successful reads"),
                count(failed, "failed", "failed")
            )
        }
    }
}

/// Entries as words that each stay on one line, `·` between them.
fn entries(words: Vec<String>) -> impl IntoView {
    let n = words.len();
    words
        .into_iter()
        .enumerate()
        .map(|(i, w)| {
            view! { <span class="nowrap">{w}</span>{(i + 1 < n).then_some(" · ")} }
        })
        .collect_view()
}

/// What kind of identity a reader is, in a word.
fn kind_word(r: &Reader) -> &'static str {
    match r.principal.kind {
        PrincipalKind::Role => "role",
        PrincipalKind::User => "user",
        PrincipalKind::Root => "root",
        PrincipalKind::Service => "service",
        PrincipalKind::Other => "other",
    }
}

/// One row of the readers table, one line where it fits: the full ARN is
/// the name's title (a role's or user's ARN is its account, kind and name,
/// all shown), the exact times the dates' titles.
fn reader_row(r: Reader, now: Timestamp) -> impl IntoView {
    let failed = r.failed();
    let has_failed = failed != 0;
    let failures = failure_words(&r);
    let asked = asked_words(&r);
    let arn = r.principal.arn.to_string();
    let (key, title) = (arn.clone(), arn);
    let name = r.principal.name().to_string();
    let kind = (name != title).then(|| kind_word(&r));
    view! {
        <tr data-principal=key data-reads=r.reads.to_string() data-failed=failed.to_string()>
            <th scope="row" class="reader">
                <span class="reader-name" title=title>{name}</span>
                {kind.map(|k| view! { " "<span class="muted small">{k}</span> })}
            </th>
            <td>{account_view(&r)}</td>
            <td><When at=Some(r.first) now=now/></td>
            <td><When at=Some(r.last) now=now/></td>
            <td class="num">{r.reads}</td>
            <td class="failures" class:bad-text=has_failed>
                {if has_failed { entries(failures).into_any() } else { "none".into_any() }}
            </td>
            <td class="asked">{if asked.is_empty() { "—".into_any() } else { entries(asked).into_any() }}</td>
        </tr>
    }
}

/// The readers table, in a box that scrolls sideways on a narrow screen.
fn readers_table(readers: Vec<Reader>, now: Timestamp) -> impl IntoView {
    view! {
        <div class="table-wrap readers-wrap" data-testid="readers-table-box" tabindex="0"
            role="region" aria-label="Readers, one row per principal">
            <table class="plain readers-table" data-testid="readers-table">
                <thead><tr>
                    <th scope="col">"Reader"</th><th scope="col">"Account"</th>
                    <th scope="col">"First read"</th><th scope="col">"Last read"</th>
                    <th scope="col" class="num">"Reads"</th><th scope="col">"Failed reads"</th>
                    <th scope="col">"Versions asked for"</th>
                </tr></thead>
                <tbody>{readers.into_iter().map(|r| reader_row(r, now)).collect_view()}</tbody>
            </table>
        </div>
    }
}

/// What the section is: the window read.
fn window_line(v: &ReadersView) -> impl IntoView {
    let days = v.lookback_days;
    let since = v
        .readers
        .as_ref()
        .map_or(Timestamp::new(v.at.secs() - i64::from(days) * DAY), |r| {
            r.since
        });
    view! {
        <p class="muted small readers-window">{format!(
            "GetSecretValue events in CloudTrail, the last {days} days (since {}).", since.date())}</p>
    }
}

/// What the page shows of `v`: the unavailable sentence, the cut-short
/// note, the table or the empty state.
fn page_body(v: ReadersView) -> impl IntoView {
    let now = v.at;
    let days = v.lookback_days;
    let loading = v.loading.is_some();
    // While a lookup pages in, its partial answer is cut where it has got
    // to: that is progress, not a cut-short history.
    let cut = v
        .readers
        .as_ref()
        .and_then(|r| r.cut_short_at)
        .filter(|_| !loading);
    let list = v.readers.map(|r: Readers| r.readers);
    view! {
        {v.unavailable.map(|u| view! { <p class="warning" role="note" data-testid="readers-unavailable">{u}</p> })}
        {cut.map(|t| view! {
            <p class="warning" role="note" data-testid="readers-cut-short">
                <strong>"History cut short: "</strong>
                {format!("only reads since {} were read (a lookup stops after [readers] max_events events, \
                    10,000 unless configured otherwise). Readers before then are not shown.", t.display())}
            </p>
        })}
        {match list {
            Some(l) if l.is_empty() && !loading => view! {
                <p class="muted" data-testid="readers-empty">{format!("Nobody read it in the last {days} days.")}</p>
            }.into_any(),
            Some(l) if l.is_empty() => view! { <p class="muted">"No readers found yet."</p> }.into_any(),
            Some(l) => readers_table(l, now).into_any(),
            None => ().into_any(),
        }}
    }
}

/// A reader in a dialog's list: name (full ARN in its title), account.
fn brief_who(r: &Reader) -> impl IntoView {
    view! {
        <strong class="reader-name" title=r.principal.arn.to_string()>{r.principal.name().to_string()}</strong>
        " "{account_view(r)}
    }
}

/// Who read it in the last day (roll back, cancel, retry).
fn last_day(b: &Brief) -> AnyView {
    let now = b.at;
    let days = b.window_start.map_or(1, |w| days_between(w, now));
    if b.readers.is_empty() {
        let text = if b.loading.is_some() {
            "Nobody found yet."
        } else {
            "Nobody read it in the last 24 hours."
        };
        return view! { <p class="muted" data-testid="brief-empty">{text}</p> }.into_any();
    }
    view! {
        <ul class="brief-readers">
            {b.readers.iter().map(|r| {
                let failed = r.failed();
                view! {
                    <li data-principal=r.principal.arn.to_string()>
                        {brief_who(r)}
                        " · last read "<When at=Some(r.last) now=now/>
                        {format!(" · {} in {days} days", reads_words(r.reads))}
                        {(failed > 0).then(|| view! { <span class="bad-text">{format!(" ({})", failures_text(r))}</span> })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// Who failed to read it since its deletion was scheduled (restore).
fn since_deletion(b: &Brief) -> AnyView {
    let now = b.at;
    if b.readers.is_empty() {
        let text = if b.loading.is_some() {
            "No failed reads found yet."
        } else {
            "No failed reads since then."
        };
        return view! { <p class="muted" data-testid="brief-empty">{text}</p> }.into_any();
    }
    view! {
        <ul class="brief-readers">
            {b.readers.iter().map(|r| view! {
                <li data-principal=r.principal.arn.to_string()>
                    {brief_who(r)}": "
                    {r.failures.iter().map(|f| view! {
                        <span class="failure">{format!("{} × {}, last {}", f.count, f.error.label(), f.last.relative(now))}</span>
                    }).collect_view()}
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// Whether the principal of an access request already reads it, and who
/// else does.
fn principal_reads(b: &Brief) -> AnyView {
    let now = b.at;
    let days = b.window_start.map_or(1, |w| days_between(w, now));
    let own = match (&b.principal, b.loading.is_some()) {
        (Some(r), _) if r.reads > 0 => format!(
            "This principal already reads it ({}, last {}).",
            count(r.reads, "read", "reads"),
            r.last_ok.unwrap_or(r.last).display()
        ),
        (Some(r), _) => format!(
            "This principal tried to read it and failed ({}, last {}).",
            failures_text(r),
            r.last.display()
        ),
        (None, true) => "Not among the reads found so far.".to_string(),
        (None, false) => format!("This principal has not read it in the last {days} days."),
    };
    let reads = b.principal.as_ref().is_some_and(|r| r.reads > 0);
    let more = b.readers.len().saturating_sub(BRIEF_OTHERS);
    view! {
        <p data-testid="brief-principal" data-reads=reads.to_string()>{own}</p>
        {if b.readers.is_empty() {
            view! { <p class="muted">{format!("Nobody else read it in the last {days} days.")}</p> }.into_any()
        } else {
            view! {
                <p class="brief-sub">"Also read by:"</p>
                <ul class="brief-readers">
                    {b.readers.iter().take(BRIEF_OTHERS).map(|r| view! {
                        <li data-principal=r.principal.arn.to_string()>
                            {brief_who(r)}
                            {format!(" · {} · last {}", reads_words(r.reads), r.last.relative(now))}
                        </li>
                    }).collect_view()}
                </ul>
                {(more > 0).then(|| view! { <p class="muted small">{format!("and {more} more")}</p> })}
            }.into_any()
        }}
    }
    .into_any()
}

/// The brief's heading.
fn brief_heading(focus: &BriefFocus, b: Option<&Brief>) -> String {
    match focus {
        BriefFocus::LastDay => "Read in the last 24 hours by:".to_string(),
        BriefFocus::SinceDeletion => match b.and_then(|b| b.since) {
            Some(t) => format!(
                "Failed reads since deletion was scheduled ({}):",
                t.display()
            ),
            None => "Failed reads since deletion was scheduled:".to_string(),
        },
        BriefFocus::Principal(_) => "Who reads it".to_string(),
    }
}

/// What a dialog shows of the readers of secret `id` for `focus`.
fn brief_body(focus: &BriefFocus, b: Brief) -> impl IntoView {
    let cut = b.cut_short_at.filter(|_| b.loading.is_none());
    view! {
        {b.unavailable.clone().map(|u| view! { <p class="warning" role="note">{u}</p> })}
        {(b.unavailable.is_none() || b.window_start.is_some()).then(|| match focus {
            BriefFocus::LastDay => last_day(&b),
            BriefFocus::SinceDeletion => since_deletion(&b),
            BriefFocus::Principal(_) => principal_reads(&b),
        })}
        {cut.map(|t| view! {
            <p class="muted small">{format!("History cut short: only reads since {} were read.", t.display())}</p>
        })}
    }
}

/// The "Readers" section's answer: the window read, the progress of a
/// lookup paging in, then the table (or why there is none).
pub fn page(v: ReadersView) -> Fragment {
    let status = page_status(&v);
    let more = v.loading.is_some();
    let bar = v.loading.as_ref().map(|p| progress_bar(p, v.at));
    let window = window_line(&v);
    Fragment {
        heading: "Readers".to_string(),
        status,
        html: render(view! { {window}{bar}{page_body(v)} }),
        more,
    }
}

/// A dialog's brief for `focus`.
pub fn brief(focus: &BriefFocus, b: Brief) -> Fragment {
    let heading = brief_heading(focus, Some(&b));
    let status = b.loading.as_ref().map(progress_text).unwrap_or_default();
    let more = b.loading.is_some();
    let bar = b.loading.as_ref().map(|p| progress_bar(p, b.at));
    Fragment {
        heading,
        status,
        html: render(view! { {bar}{brief_body(focus, b)} }),
        more,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reads::{Asked, AskedCount, Failures, Principal, ReadError};

    fn reader() -> Reader {
        let t = Timestamp::new(1_700_000_000);
        Reader {
            principal: Principal {
                arn: "arn:aws:iam::111122223333:role/payments-api".into(),
                account: Some("111122223333".into()),
                kind: PrincipalKind::Role,
            },
            ours: true,
            first: t,
            last: t,
            reads: 124,
            first_ok: Some(t),
            last_ok: Some(t),
            failures: vec![Failures {
                error: ReadError::MarkedForDeletion,
                count: 3,
                first: t,
                last: t,
            }],
            asked: vec![
                AskedCount {
                    asked: Asked::Default,
                    count: 120,
                    last: t,
                },
                AskedCount {
                    asked: Asked::Stage("AWSPREVIOUS".into()),
                    count: 4,
                    last: t,
                },
            ],
        }
    }

    #[test]
    fn counts_read_as_a_person_writes_them() {
        let r = reader();
        assert_eq!(
            asked_words(&r).join(" · "),
            "AWSCURRENT (default) 120 · AWSPREVIOUS 4"
        );
        assert_eq!(failures_text(&r), "3 marked for deletion");
        let p = ReadProgress {
            pages: 1,
            events: 50,
            reached: None,
            window_start: Timestamp::new(0),
        };
        assert_eq!(progress_text(&p), "Reading CloudTrail: 1 page, 50 reads");
    }

    #[test]
    fn progress_covers_the_window_from_now_back() {
        let now = Timestamp::new(100 * DAY);
        let mut p = ReadProgress {
            pages: 3,
            events: 120,
            reached: None,
            window_start: Timestamp::new(10 * DAY),
        };
        assert_eq!(progress_share(&p, now), 0.0);
        p.reached = Some(Timestamp::new(55 * DAY));
        assert!((progress_share(&p, now) - 0.5).abs() < 1e-9);
        p.reached = Some(Timestamp::new(0));
        assert_eq!(progress_share(&p, now), 1.0);
        assert_eq!(days_between(Timestamp::new(10 * DAY), now), 90);
    }
}

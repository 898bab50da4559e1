//! The home page: the inventory's health at a glance. Every number is a link
//! to the list of exactly those secrets; the charts are SVG drawn on the
//! server, readable without JavaScript.

use crate::api::{get_overview, Bucket, Count, Day, GroupCount, HealthCount, Overview};
use crate::app::components::health::{
    count_href, sev_class, sev_word, CountLink, FirstSync, SeverityBadge,
};
use crate::app::error_text;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn OverviewPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_overview());
    view! {
        <Title text="Overview"/>
        <h1>"Overview"</h1>
        <Suspense fallback=|| view! { <p class="muted" aria-busy="true">"Evaluating the inventory…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(o) => view! { <Body o/> }.into_any(),
                Err(e) => view! {
                    <p class="error" role="alert">"The overview could not be built: " {error_text(&e)}
                        " Reload the page to try again."</p>
                }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn Body(o: Overview) -> impl IntoView {
    if !o.ready {
        return view! { <FirstSync/> }.into_any();
    }
    let failing = o
        .by_worst
        .iter()
        .filter(|h| {
            h.worst
                .is_some_and(|w| w >= crate::domain::health::Severity::High)
        })
        .map(|h| h.secrets.count)
        .sum::<usize>();
    let lead = format!(
        "{} secrets; {failing} with a high or critical finding. Rules evaluated {} ({:.0} ms).",
        o.total,
        o.now.display(),
        o.evaluated_ms
    );
    let note = total_note(&o);
    let defs = view! { <CountDefs o=o.clone()/> };
    let mut folders = o.paths;
    folders.extend(o.outside);
    let rest = o.rest;
    view! {
        <p class="lead">{lead}" "<a href="/oncall">"On-call queue →"</a></p>
        <p class="muted small total-note" data-testid="total-note">{note}</p>
        <div class="overview">
            <section class="card wide" aria-labelledby="by-health-h">
                <h2 id="by-health-h">"Secrets by worst finding"</h2>
                <HealthBar counts=o.by_worst.clone() total=o.total/>
                <ul class="legend" data-testid="by-health">
                    {o.by_worst.into_iter().map(|h| view! {
                        <li><SeverityBadge worst=h.worst/>" "<CountLink count=h.secrets label=sev_word(h.worst).to_string()/></li>
                    }).collect_view()}
                </ul>
            </section>
            <section class="card" aria-labelledby="rules-h">
                <h2 id="rules-h">"Findings by rule"</h2>
                <div class="table-wrap plain-wrap">
                <table class="plain counts" data-testid="by-rule">
                    <thead><tr><th scope="col">"Rule"</th><th scope="col">"Severity"</th><th scope="col" class="num">"Secrets"</th><th scope="col" class="num">"Suppressed"</th></tr></thead>
                    <tbody>
                        {o.rules.into_iter().map(|r| {
                            let title = r.title.clone();
                            view! {
                                <tr class:off=!r.enabled>
                                    <th scope="row">{r.title}{(!r.enabled).then(|| view! { <span class="muted">" (switched off)"</span> })}</th>
                                    <td><SeverityBadge worst=Some(r.severity)/></td>
                                    <td class="num"><CountLink count=r.active label=title/></td>
                                    <td class="num">{r.suppressed}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
            </section>
            <section class="card" aria-labelledby="ages-h">
                <h2 id="ages-h">"Time since the last rotation"</h2>
                <p class="muted small">"Secrets not scheduled for deletion."</p>
                <AgeChart buckets=o.ages/>
            </section>
            {defs}
            <section class="card wide" aria-labelledby="upcoming-h">
                <h2 id="upcoming-h">"Rotations in the next 30 days"</h2>
                <p class="small">"Already due (rotation on, next date past; see above for how it overlaps failed and overdue): " <CountLink count=o.due_now label="already due".to_string()/></p>
                <UpcomingStrip days=o.upcoming/>
            </section>
            <section class="card wide" aria-labelledby="places-h">
                <h2 id="places-h">"By account and region"</h2>
                <GroupTable groups=o.places label="Account · region" testid="by-place"/>
            </section>
            <section class="card wide" aria-labelledby="paths-h">
                <h2 id="paths-h">"By top-level folder"</h2>
                <p class="muted small">"Each top-level folder, then the secrets outside any folder (names without a /): the rows add up to the total."</p>
                <GroupTable groups=folders label="Folder" testid="by-path" rest/>
                {(o.more_paths > 0).then(|| view! { <p class="muted small">{format!("{} more folders with fewer findings are counted together; see the folder tree on the inventory page.", o.more_paths)}</p> })}
            </section>
        </div>
    }
    .into_any()
}

/// One horizontal bar split by worst severity (decorative: the legend
/// below carries the numbers and links).
#[component]
fn HealthBar(counts: Vec<HealthCount>, total: usize) -> impl IntoView {
    const W: f64 = 1000.0;
    let mut x = 0.0;
    let segments = counts
        .iter()
        .filter(|h| h.secrets.count > 0)
        .map(|h| {
            let w = (h.secrets.count as f64 / total.max(1) as f64 * W).max(3.0);
            let seg = view! { <rect x=format!("{x:.1}") y="0" width=format!("{w:.1}") height="24" class=sev_class(h.worst)/> };
            x += w;
            seg
        })
        .collect_view();
    view! {
        <svg class="healthbar" viewBox="0 0 1000 24" preserveAspectRatio="none" aria-hidden="true" focusable="false">
            {segments}
        </svg>
    }
}

/// Vertical bars, one link per bucket.
#[component]
fn AgeChart(buckets: Vec<Bucket>) -> impl IntoView {
    let max = buckets
        .iter()
        .map(|b| b.secrets.count)
        .max()
        .unwrap_or(0)
        .max(1);
    let n = buckets.len().max(1) as f64;
    let (w, h, base) = (600.0, 220.0, 180.0);
    let slot = w / n;
    let bars = buckets
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            let count = b.secrets.count;
            let bh = count as f64 / max as f64 * 140.0;
            let x = i as f64 * slot + slot * 0.15;
            let bw = slot * 0.7;
            let cx = x + bw / 2.0;
            let label = format!("{}: {count} secrets", b.label);
            // The whole column is the link's target, so a short bar is as
            // easy to click as a tall one.
            let bar = view! {
                <rect class="hit" x=format!("{:.1}", i as f64 * slot) y="0" width=format!("{slot:.1}") height=h.to_string()/>
                <rect class="bar" x=format!("{x:.1}") y=format!("{:.1}", base - bh) width=format!("{bw:.1}") height=format!("{bh:.1}")/>
                <text class="n" x=format!("{cx:.1}") y=format!("{:.1}", base - bh - 6.0) text-anchor="middle">{count}</text>
                <text class="lbl" x=format!("{cx:.1}") y="200" text-anchor="middle">{b.label.clone()}</text>
            };
            if count == 0 {
                view! { <g aria-label=label role="img">{bar}</g> }.into_any()
            } else {
                view! { <a href=count_href(&b.secrets) aria-label=label>{bar}</a> }.into_any()
            }
        })
        .collect_view();
    view! {
        <svg class="chart ages" viewBox=format!("0 0 {w} {h}") role="group" aria-label="Secrets by time since the last rotation" data-testid="ages">
            <line class="axis" x1="0" x2=w.to_string() y1=base.to_string() y2=base.to_string()/>
            {bars}
        </svg>
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Thirty day cells, darker with more rotations; each a link to that day.
#[component]
fn UpcomingStrip(days: Vec<Day>) -> impl IntoView {
    let max = days
        .iter()
        .map(|d| d.secrets.count)
        .max()
        .unwrap_or(0)
        .max(1);
    let cell = 34.0;
    let w = cell * days.len() as f64;
    // The month's name over the first day and over each 1st.
    let months = days
        .iter()
        .enumerate()
        .filter(|(i, d)| *i == 0 || d.date.ends_with("-01"))
        .map(|(i, d)| {
            let m = d
                .date
                .get(5..7)
                .and_then(|m| m.parse::<usize>().ok())
                .unwrap_or(0);
            let name = MONTHS.get(m.wrapping_sub(1)).copied().unwrap_or("");
            let x = i as f64 * cell + 2.0;
            view! { <text class="mon" x=format!("{x:.1}") y="11" data-testid="month">{name}</text> }
        })
        .collect_view();
    let cells = days
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let n = d.secrets.count;
            let x = i as f64 * cell;
            // Five steps of intensity; the count is written in the cell.
            let level = if n == 0 { 0 } else { (n * 4).div_ceil(max).min(4) };
            let (wd, num) = d.label.split_once(' ').unwrap_or(("", &d.label));
            let label = format!("{}: {n} rotations scheduled", d.date);
            let n_class = if level >= 3 { "n dark" } else { "n" };
            let body = view! {
                <rect class=format!("day l{level}") x=format!("{:.1}", x + 1.0) y="32" width=format!("{:.1}", cell - 2.0) height="34" rx="3"/>
                <text class="wd" x=format!("{:.1}", x + cell / 2.0) y="26" text-anchor="middle">{wd.chars().next().map(String::from).unwrap_or_default()}</text>
                <text class=n_class x=format!("{:.1}", x + cell / 2.0) y="54" text-anchor="middle">{if n == 0 { String::new() } else { n.to_string() }}</text>
                <text class="dn" x=format!("{:.1}", x + cell / 2.0) y="80" text-anchor="middle">{num.to_string()}</text>
            };
            if n == 0 {
                view! { <g role="img" aria-label=label>{body}</g> }.into_any()
            } else {
                view! { <a href=count_href(&d.secrets) aria-label=label>{body}</a> }.into_any()
            }
        })
        .collect_view();
    view! {
        <div class="strip-wrap">
            <svg class="chart strip" viewBox=format!("0 0 {w} 86") role="group" aria-label="Scheduled rotations per day, today first" data-testid="upcoming">
                {months}
                {cells}
            </svg>
        </div>
    }
}

/// Groups (account · region, or folders) by worst severity, every cell a link.
#[component]
fn GroupTable(
    groups: Vec<GroupCount>,
    label: &'static str,
    testid: &'static str,
    /// Folders counted together, without links.
    #[prop(optional_no_strip)]
    rest: Option<GroupCount>,
) -> impl IntoView {
    let rest = rest.map(|g| {
        view! {
            <tr class="rest">
                <th scope="row">{g.label}</th>
                <td class="num">{g.total.count}</td>
                {g.by_worst.into_iter().map(|h| view! { <td class="num">{h.secrets.count}</td> }).collect_view()}
            </tr>
        }
    });
    let heads = ["critical", "high", "medium", "low", "info", "ok"];
    view! {
        <div class="table-wrap">
            <table class="plain counts" data-testid=testid>
                <thead>
                    <tr>
                        <th scope="col">{label}</th>
                        <th scope="col" class="num">"Secrets"</th>
                        {heads.iter().map(|h| view! { <th scope="col" class="num">{*h}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {groups.into_iter().map(|g| {
                        let name = g.label.clone();
                        let head = if g.total.path.is_empty() {
                            view! { <th scope="row" class:outside=g.total.q == crate::api::OUTSIDE_FOLDERS>{g.label}</th> }.into_any()
                        } else {
                            view! { <th scope="row"><a href=count_href(&Count { count: 0, q: String::new(), path: g.total.path.clone() }) class="mono">{g.label}"/"</a></th> }.into_any()
                        };
                        view! {
                            <tr>
                                {head}
                                <td class="num"><CountLink count=g.total label=name.clone()/></td>
                                {g.by_worst.into_iter().map(|h| {
                                    let l = format!("{name}, {}", sev_word(h.worst));
                                    view! { <td class="num"><CountLink count=h.secrets label=l/></td> }
                                }).collect_view()}
                            </tr>
                        }
                    }).collect_view()}
                    {rest}
                </tbody>
            </table>
        </div>
    }
}

/// What the total counts, and what it leaves out, in words.
fn total_note(o: &Overview) -> String {
    let mut s = format!(
        "The total counts every secret read, {} of them scheduled for deletion (still listed until deleted).",
        o.deleting
    );
    if o.replicas > 0 {
        s.push_str(&format!(
            " {} replicas in other regions are counted once, at their primary (/sources lists them with their region's source).",
            o.replicas
        ));
    }
    if !o.unread_sources.is_empty() {
        s.push_str(&format!(
            " Not counted: the secrets of {}, which could not be read (see Sources).",
            o.unread_sources.join(", ")
        ));
    }
    s
}

/// What "failed", "overdue" and "already due" each count, and how they overlap.
#[component]
fn CountDefs(o: Overview) -> impl IntoView {
    let rule = |id: crate::domain::health::RuleId| {
        o.rules
            .iter()
            .find(|r| r.rule == id)
            .map(|r| r.active.clone())
    };
    let failed = rule(crate::domain::health::RuleId::RotationFailed);
    let overdue = rule(crate::domain::health::RuleId::RotationOverdue);
    let ov = o.overlap.clone();
    let within = o
        .due_now
        .count
        .saturating_sub(ov.due_failed + ov.due_overdue);
    view! {
        <section class="card wide" aria-labelledby="defs-h" data-testid="count-defs">
            <h2 id="defs-h">"What failed, overdue and due count"</h2>
            <dl class="defs">
                <dt>"Failed " {failed.map(|c| view! { <CountLink count=c label="failed".to_string()/> })}</dt>
                <dd>"A rotation started and never finished: AWSPENDING sits on a version that never became AWSCURRENT. First on the on-call queue."</dd>
                <dt>"Overdue " {overdue.map(|c| view! { <CountLink count=c label="overdue".to_string()/> })}</dt>
                <dd>"Rotation is on, but the scheduled rotation did not happen within its window. A secret is counted once: a failed rotation is counted as failed, not overdue."</dd>
                <dt>"Already due " <CountLink count=o.due_now.clone() label="already due".to_string()/></dt>
                <dd data-testid="due-overlap">{format!(
                    "Rotation is on and the next rotation date has passed, whether or not its window has closed. Of these, {} are also failed and {} overdue; the other {within} are still within their window.",
                    ov.due_failed, ov.due_overdue
                )}</dd>
            </dl>
        </section>
    }
}

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
    view! {
        <p class="lead">{lead}" "<a href="/oncall">"On-call queue →"</a></p>
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
            </section>
            <section class="card" aria-labelledby="ages-h">
                <h2 id="ages-h">"Time since the last rotation"</h2>
                <p class="muted small">"Secrets not scheduled for deletion."</p>
                <AgeChart buckets=o.ages/>
            </section>
            <section class="card wide" aria-labelledby="upcoming-h">
                <h2 id="upcoming-h">"Rotations in the next 30 days"</h2>
                <p class="small">"Already due (rotation on, next date past): " <CountLink count=o.due_now label="already due".to_string()/></p>
                <UpcomingStrip days=o.upcoming/>
            </section>
            <section class="card wide" aria-labelledby="places-h">
                <h2 id="places-h">"By account and region"</h2>
                <GroupTable groups=o.places label="Account · region" testid="by-place"/>
            </section>
            <section class="card wide" aria-labelledby="paths-h">
                <h2 id="paths-h">"By top-level folder"</h2>
                <GroupTable groups=o.paths label="Folder" testid="by-path"/>
                {(o.more_paths > 0).then(|| view! { <p class="muted small">{format!("{} more folders with fewer findings: see the folder tree on the inventory page.", o.more_paths)}</p> })}
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
                <rect class=format!("day l{level}") x=format!("{:.1}", x + 1.0) y="18" width=format!("{:.1}", cell - 2.0) height="34" rx="3"/>
                <text class="wd" x=format!("{:.1}", x + cell / 2.0) y="12" text-anchor="middle">{wd.chars().next().map(String::from).unwrap_or_default()}</text>
                <text class=n_class x=format!("{:.1}", x + cell / 2.0) y="40" text-anchor="middle">{if n == 0 { String::new() } else { n.to_string() }}</text>
                <text class="dn" x=format!("{:.1}", x + cell / 2.0) y="66" text-anchor="middle">{num.to_string()}</text>
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
            <svg class="chart strip" viewBox=format!("0 0 {w} 72") role="group" aria-label="Scheduled rotations per day, today first" data-testid="upcoming">
                {cells}
            </svg>
        </div>
    }
}

/// Groups (account · region, or folders) by worst severity, every cell a link.
#[component]
fn GroupTable(groups: Vec<GroupCount>, label: &'static str, testid: &'static str) -> impl IntoView {
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
                            view! { <th scope="row">{g.label}</th> }.into_any()
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
                </tbody>
            </table>
        </div>
    }
}

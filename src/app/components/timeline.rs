//! The version and staging-label timeline: an SVG drawn on the server (so it
//! is there without JavaScript) with a table beside it for screen readers.

use crate::api::VersionRow;
use crate::app::components::time::When;
use crate::domain::Timestamp;
use leptos::prelude::*;

/// Drawing area, in SVG user units.
const WIDTH: f64 = 960.0;
const LEFT: f64 = 130.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 44.0;
const LANE: f64 = 30.0;
/// Width of one bold 11px capital, generously: a pill must hold its text.
const CHAR_W: f64 = 8.0;

/// A vertical marker across every lane: "now", "last rotated", ….
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    pub at: Timestamp,
    pub label: &'static str,
}

/// Where each dated version and mark sits on the axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub t0: i64,
    pub t1: i64,
    /// Index into the versions, lane, x.
    pub points: Vec<(usize, usize, f64)>,
    pub marks: Vec<(Mark, f64)>,
    pub ticks: Vec<(Timestamp, f64)>,
    pub height: f64,
}

pub fn x_of(t: i64, t0: i64, t1: i64) -> f64 {
    let span = (t1 - t0).max(1) as f64;
    LEFT + (t - t0) as f64 / span * (WIDTH - LEFT - RIGHT)
}

/// Versions with a date get a lane each, in the given order (newest first);
/// the axis spans them and the marks, padded by a twentieth on each side.
pub fn layout(versions: &[VersionRow], marks: &[Mark]) -> Option<Layout> {
    let dated: Vec<(usize, i64)> = versions
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.created.map(|c| (i, c.secs())))
        .collect();
    if dated.is_empty() {
        return None;
    }
    let times = dated
        .iter()
        .map(|d| d.1)
        .chain(marks.iter().map(|m| m.at.secs()));
    let (lo, hi) = times.fold((i64::MAX, i64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
    let pad = ((hi - lo) / 20).max(3600);
    let (t0, t1) = (lo - pad, hi + pad);
    let points = dated
        .iter()
        .enumerate()
        .map(|(lane, &(i, t))| (i, lane, x_of(t, t0, t1)))
        .collect();
    let marks = marks
        .iter()
        .map(|m| (m.clone(), x_of(m.at.secs(), t0, t1)))
        .collect();
    let ticks = (0..=4)
        .map(|k| {
            let t = t0 + (t1 - t0) * k / 4;
            (Timestamp::new(t), x_of(t, t0, t1))
        })
        .collect();
    Some(Layout {
        t0,
        t1,
        height: TOP + LANE * dated.len() as f64 + 16.0,
        points,
        marks,
        ticks,
    })
}

/// A caption row (0 or 1) per mark so that close captions do not overlap:
/// each takes the first row whose previous caption ends before it starts.
pub fn caption_rows(marks: &[(Mark, f64)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..marks.len()).collect();
    order.sort_by(|&a, &b| marks[a].1.total_cmp(&marks[b].1));
    let mut row_end = [f64::MIN; 2];
    let mut rows = vec![0; marks.len()];
    for i in order {
        let (m, x) = &marks[i];
        let half = m.label.len() as f64 * 3.3 + 4.0;
        let row = (0..2).find(|&r| row_end[r] < x - half).unwrap_or_else(|| {
            if row_end[0] <= row_end[1] {
                0
            } else {
                1
            }
        });
        row_end[row] = x + half;
        rows[i] = row;
    }
    rows
}

/// The CSS class (colour) of a label; the text always names it too.
pub fn label_class(label: &str, stuck: bool) -> &'static str {
    match label {
        "AWSCURRENT" => "lbl-current",
        "AWSPREVIOUS" => "lbl-previous",
        "AWSPENDING" if stuck => "lbl-stuck",
        "AWSPENDING" => "lbl-pending",
        _ => "lbl-custom",
    }
}

fn short(id: &str) -> String {
    if id.chars().count() > 13 {
        format!("{}…", id.chars().take(12).collect::<String>())
    } else {
        id.to_string()
    }
}

/// One version's lane: its id, its dot at `x` and its labels as pills.
fn lane_view(v: &VersionRow, lane: usize, x: f64) -> impl IntoView {
    let y = TOP + LANE * lane as f64 + LANE / 2.0;
    let dot = if v.deprecated {
        "dot deprecated"
    } else if v.stuck_pending {
        "dot stuck"
    } else if v.labels.iter().any(|l| l == "AWSCURRENT") {
        "dot current"
    } else {
        "dot"
    };
    // Labels go right of the dot, or left of it near the right edge.
    let text_w: f64 = v
        .labels
        .iter()
        .map(|l| l.len() as f64 * CHAR_W + 18.0)
        .sum::<f64>()
        + if v.stuck_pending { 60.0 } else { 0.0 }
        + if v.deprecated { 90.0 } else { 0.0 };
    let right = x + 10.0 + text_w < WIDTH;
    let mut cursor = if right { x + 10.0 } else { x - 10.0 - text_w };
    let mut pills = Vec::new();
    for label in &v.labels {
        let w = label.len() as f64 * CHAR_W + 12.0;
        let class = label_class(label, v.stuck_pending);
        pills.push(view! {
            <g class=format!("pill {class}")>
                <rect x=cursor y=y - 9.0 width=w height=18.0 rx=4.0></rect>
                <text x=cursor + 6.0 y=y + 4.5>{label.clone()}</text>
            </g>
        });
        cursor += w + 6.0;
    }
    let note = if v.stuck_pending {
        Some("stuck")
    } else if v.deprecated {
        Some("no label (deprecated)")
    } else {
        None
    };
    view! {
        <g class="lane">
            <line class="lane-line" x1=LEFT y1=y x2=WIDTH - RIGHT y2=y></line>
            <text class="vid" x=LEFT - 8.0 y=y + 4.0 text-anchor="end">{short(&v.id)}</text>
            <circle class=dot cx=x cy=y r=6.0></circle>
            {pills}
            {note.map(|n| view! { <text class=if v.stuck_pending { "note stuck-text" } else { "note" } x=cursor + 2.0 y=y + 4.5>{n}</text> })}
        </g>
    }
}

#[component]
pub fn Timeline(versions: Vec<VersionRow>, marks: Vec<Mark>, now: Timestamp) -> impl IntoView {
    let undated = versions.iter().filter(|v| v.created.is_none()).count();
    let chart = layout(&versions, &marks).map(|l| {
        let h = l.height;
        let axis_y = TOP - 14.0;
        let lanes = l
            .points
            .iter()
            .map(|&(i, lane, x)| lane_view(&versions[i], lane, x))
            .collect_view();
        let rows = caption_rows(&l.marks);
        let marks = l
            .marks
            .iter()
            .zip(rows)
            .map(|((m, x), row)| {
                let cy = 11.0 + row as f64 * 13.0;
                view! {
                    <g class=format!("mark mark-{}", m.label.replace(' ', "-"))>
                        <line x1=*x y1=TOP - 8.0 x2=*x y2=h - 12.0></line>
                        <text x=*x y=cy text-anchor="middle">{m.label}</text>
                    </g>
                }
            })
            .collect_view();
        let ticks = l
            .ticks
            .iter()
            .enumerate()
            .map(|(k, (t, x))| {
                let anchor = match k {
                    0 => "start",
                    4 => "end",
                    _ => "middle",
                };
                view! { <text class="tick" x=*x y=h - 1.0 text-anchor=anchor>{t.date()}</text> }
            })
            .collect_view();
        let title = format!(
            "Timeline of {} versions by creation date; the table below lists the same.",
            l.points.len()
        );
        view! {
            <svg class="timeline" viewBox=format!("0 0 {WIDTH} {}", h + 4.0) role="img" aria-labelledby="timeline-title"
                preserveAspectRatio="xMinYMin meet" data-testid="timeline">
                <title id="timeline-title">{title}</title>
                <line class="axis" x1=LEFT y1=axis_y x2=WIDTH - RIGHT y2=axis_y></line>
                {ticks}
                {marks}
                {lanes}
            </svg>
        }
    });
    view! {
        <div class="timeline-wrap" tabindex="0" role="region" aria-label="Versions and their labels (scrolls sideways)">
            {chart}
            {(undated > 0).then(|| view! {
                <p class="muted">{format!("{undated} version(s) have no known creation date yet (the background pass has not reached this secret); they are in the table only.")}</p>
            })}
        </div>
        <table class="versions" data-testid="versions">
            <caption>"Versions, newest first"</caption>
            <thead>
                <tr>
                    <th scope="col">"Version"</th>
                    <th scope="col">"Labels"</th>
                    <th scope="col">"Created"</th>
                    <th scope="col">"Last accessed"</th>
                </tr>
            </thead>
            <tbody>
                {versions.into_iter().map(|v| {
                    let stuck = v.stuck_pending;
                    view! {
                        <tr class:stuck=stuck>
                            <th scope="row"><code>{v.id.clone()}</code></th>
                            <td>
                                <ul class="labels">
                                    {v.labels.iter().map(|l| view! { <li class=format!("label {}", label_class(l, stuck))>{l.clone()}</li> }).collect_view()}
                                    {stuck.then(|| view! { <li class="label lbl-stuck">"stuck: never became AWSCURRENT"</li> })}
                                    {v.deprecated.then(|| view! { <li class="muted">"no label (deprecated; AWS removes it eventually)"</li> })}
                                </ul>
                            </td>
                            <td><When at=v.created now=now absent="unknown"/></td>
                            <td><When at=v.last_accessed now=now absent="never recorded"/></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(id: &str, created: Option<i64>, labels: &[&str]) -> VersionRow {
        VersionRow {
            id: id.into(),
            labels: labels.iter().map(|s| s.to_string()).collect(),
            created: created.map(Timestamp::new),
            last_accessed: None,
            deprecated: labels.is_empty(),
            stuck_pending: false,
        }
    }

    #[test]
    fn lanes_follow_dates_and_marks_fit() {
        let versions = [
            v("c", Some(3_000_000), &["AWSPENDING"]),
            v("b", None, &["AWSCURRENT"]),
            v("a", Some(1_000_000), &["AWSPREVIOUS"]),
        ];
        let marks = [Mark {
            at: Timestamp::new(4_000_000),
            label: "now",
        }];
        let l = layout(&versions, &marks).unwrap();
        // Only dated versions get lanes, in order.
        assert_eq!(
            l.points.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(),
            [(0, 0), (2, 1)]
        );
        let (xc, xa, xnow) = (l.points[0].2, l.points[1].2, l.marks[0].1);
        assert!(LEFT < xa && xa < xc && xc < xnow && xnow < WIDTH - RIGHT);
        // Linear: 3,000,000 is two thirds of the way from a to now.
        assert!(((xc - xa) / (xnow - xa) - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(l.ticks.len(), 5);
        assert!(l.ticks.windows(2).all(|w| w[0].1 < w[1].1));
    }

    #[test]
    fn nothing_to_draw_without_dates() {
        assert_eq!(layout(&[v("a", None, &["AWSCURRENT"])], &[]), None);
        // One version alone still gets a usable axis.
        let l = layout(&[v("a", Some(5), &["AWSCURRENT"])], &[]).unwrap();
        assert!(l.t1 > l.t0);
    }

    #[test]
    fn close_captions_take_turns() {
        let m = |label, x| {
            (
                Mark {
                    at: Timestamp::new(0),
                    label,
                },
                x,
            )
        };
        assert_eq!(
            caption_rows(&[
                m("now", 900.0),
                m("next rotation", 880.0),
                m("last rotated", 400.0)
            ]),
            [1, 0, 0]
        );
        assert_eq!(
            caption_rows(&[m("now", 900.0), m("created", 200.0)]),
            [0, 0]
        );
    }

    #[test]
    fn label_colours() {
        assert_eq!(label_class("AWSPENDING", true), "lbl-stuck");
        assert_eq!(label_class("AWSPENDING", false), "lbl-pending");
        assert_eq!(label_class("blue", false), "lbl-custom");
    }
}

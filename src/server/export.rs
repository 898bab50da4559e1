//! CSV and JSON export of exactly what a list view shows (every page of it):
//! the same search, folder and order, metadata only. No AWS calls.

use super::selection::{select, Selection};
use super::AppState;
use crate::domain::health::Summary;
use crate::domain::{Secret, State as Health, Timestamp};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize)]
pub struct ExportParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    path: String,
    #[serde(default)]
    sort: String,
}

/// One exported secret. Field order is the CSV column order.
#[derive(Debug, Serialize)]
pub struct ExportRow<'a> {
    name: &'a str,
    arn: &'a str,
    account: &'a str,
    region: &'a str,
    state: &'static str,
    /// The worst active finding's severity, or `ok`.
    health: &'static str,
    /// Rule ids of the active findings, space-separated.
    findings: String,
    description: &'a str,
    kms_key: &'a str,
    rotation_enabled: bool,
    rotation_lambda: &'a str,
    rotation_schedule: String,
    created: String,
    last_changed: String,
    last_rotated: String,
    next_rotation: String,
    last_accessed: String,
    deleted: String,
    owning_service: &'a str,
    primary_region: &'a str,
    /// `key=value` pairs joined by `; ` in CSV; an object in JSON.
    #[serde(serialize_with = "tags_as_map")]
    tags: Vec<(&'a str, &'a str)>,
}

fn tags_as_map<S: serde::Serializer>(tags: &[(&str, &str)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(tags.iter().copied())
}

const COLUMNS: [&str; 21] = [
    "name",
    "arn",
    "account",
    "region",
    "state",
    "health",
    "findings",
    "description",
    "kms_key",
    "rotation_enabled",
    "rotation_lambda",
    "rotation_schedule",
    "created",
    "last_changed",
    "last_rotated",
    "next_rotation",
    "last_accessed",
    "deleted",
    "owning_service",
    "primary_region",
    "tags",
];

fn date(t: Option<Timestamp>) -> String {
    t.map(Timestamp::rfc3339).unwrap_or_default()
}

pub fn export_row(s: &Secret, health: Summary, now: Timestamp) -> ExportRow<'_> {
    let schedule = s
        .rotation_rules
        .as_deref()
        .map(
            |r| match (&r.schedule_expression, r.automatically_after_days) {
                (Some(e), _) => e.clone(),
                (None, Some(d)) => format!("every {d} days"),
                (None, None) => String::new(),
            },
        )
        .unwrap_or_default();
    ExportRow {
        name: &s.name,
        arn: &s.arn,
        account: &s.account,
        region: &s.region,
        state: Health::of(s, now).word(),
        health: health.worst.map_or("ok", |w| w.as_str()),
        findings: health
            .active()
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        description: s.description.as_deref().unwrap_or_default(),
        kms_key: s.kms_key_id.as_deref().unwrap_or("aws/secretsmanager"),
        rotation_enabled: s.rotation_enabled,
        rotation_lambda: s.rotation_lambda_arn.as_deref().unwrap_or_default(),
        rotation_schedule: schedule,
        created: date(s.created),
        last_changed: date(s.last_changed),
        last_rotated: date(s.last_rotated),
        next_rotation: date(s.next_rotation),
        last_accessed: date(s.last_accessed),
        deleted: date(s.deleted),
        owning_service: s.owning_service.as_deref().unwrap_or_default(),
        primary_region: s.primary_region.as_deref().unwrap_or_default(),
        tags: s.tags.iter().map(|t| (&*t.key, &*t.value)).collect(),
    }
}

/// One CSV field (RFC 4180). A field a spreadsheet would read as a formula
/// (`=`, `+`, `-`, `@`, tab, CR) gets a leading `'`: names and tags are
/// written by anyone who can create a secret. A lone `-` (the audit
/// trail's "none") is no formula and stays as it is.
pub(crate) fn csv_field(out: &mut String, value: &str) {
    let guarded = value != "-" && value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if guarded || value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        if guarded {
            out.push('\'');
        }
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

pub fn to_csv(rows: &[ExportRow]) -> String {
    let mut out = String::with_capacity(rows.len() * 400 + 256);
    out.push_str(&COLUMNS.join(","));
    out.push_str("\r\n");
    for r in rows {
        let tags = r
            .tags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let fields: [&str; 21] = [
            r.name,
            r.arn,
            r.account,
            r.region,
            r.state,
            r.health,
            &r.findings,
            r.description,
            r.kms_key,
            if r.rotation_enabled { "true" } else { "false" },
            r.rotation_lambda,
            &r.rotation_schedule,
            &r.created,
            &r.last_changed,
            &r.last_rotated,
            &r.next_rotation,
            &r.last_accessed,
            &r.deleted,
            r.owning_service,
            r.primary_region,
            &tags,
        ];
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            csv_field(&mut out, f);
        }
        out.push_str("\r\n");
    }
    out
}

#[derive(Clone, Copy)]
pub enum Format {
    Csv,
    Json,
}

pub async fn csv(
    state: State<AppState>,
    session: tower_sessions::Session,
    params: Query<ExportParams>,
) -> Response {
    export(state, session, params, Format::Csv).await
}

pub async fn json(
    state: State<AppState>,
    session: tower_sessions::Session,
    params: Query<ExportParams>,
) -> Response {
    export(state, session, params, Format::Json).await
}

async fn export(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    Query(p): Query<ExportParams>,
    format: Format,
) -> Response {
    let who = match super::auth::principal_of(&state, &session).await {
        Ok(Some(who)) => who,
        Ok(None) => {
            let e = super::auth::unauthenticated();
            return (e.kind.status(), e.user).into_response();
        }
        Err(e) => return (e.kind.status(), e.user).into_response(),
    };
    let now = super::clock::now();
    let view = state.view_for(&who, now);
    if view.snapshot.taken_at.is_none() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "The first sync has not finished, so there is nothing to export yet. Try again in a few seconds.\n",
        )
            .into_response();
    }
    let Selection {
        matched,
        positions,
        error,
        ..
    } = select(&view, &p.q, &p.path, &p.sort);
    // The list shows everything under a broken search and says so; a file
    // cannot say so, so refuse rather than export what was not asked for.
    if let Some(e) = error {
        return (
            StatusCode::BAD_REQUEST,
            format!(
                "The search has an error at character {}: {}. Nothing was exported; fix the search and export again.\n",
                e.position + 1,
                e.message.trim_end_matches('.')
            ),
        )
            .into_response();
    }
    let rows: Vec<ExportRow> = matched
        .iter()
        .zip(&positions)
        .map(|(s, &i)| export_row(s, view.summary(i), now))
        .collect();
    let stamp = now
        .to_datetime()
        .map(|d| d.format("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_default();
    let (body, content_type, ext) = match format {
        Format::Csv => (to_csv(&rows), "text/csv; charset=utf-8", "csv"),
        Format::Json => (
            serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".into()),
            "application/json",
            "json",
        ),
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"secretscope-{stamp}.{ext}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secret::fixtures::secret;
    use crate::domain::Tag;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let mut out = String::new();
        for v in [
            "plain",
            "a,b",
            "say \"hi\"",
            "=HYPERLINK(\"x\")",
            "-1",
            "-",
            "two\nlines",
        ] {
            csv_field(&mut out, v);
            out.push('|');
        }
        assert_eq!(
            out,
            "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"'=HYPERLINK(\"\"x\"\")\"|\"'-1\"|-|\"two\nlines\"|"
        );
    }

    #[test]
    fn csv_has_a_header_and_one_line_per_secret() {
        let mut s = secret("prod/db");
        s.description = Some("<script>alert(1)</script>, owner: ops".into());
        s.tags = vec![Tag::new("owner", "alice"), Tag::new("env", "prod")];
        let t = secret("dev/app");
        let now = Timestamp::new(1_800_000_000);
        let none = Summary::default();
        let cfg = crate::domain::health::HealthConfig::default();
        let t_health = crate::domain::health::summarize(&t, None, &cfg, now);
        let csv = to_csv(&[export_row(&s, none, now), export_row(&t, t_health, now)]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines.len(), 4, "header, two rows, trailing empty: {csv}");
        assert_eq!(lines[0], COLUMNS.join(","));
        assert!(lines[1].starts_with("prod/db,arn:aws:secretsmanager:"));
        assert!(lines[1].contains(",\"<script>alert(1)</script>, owner: ops\","));
        assert!(lines[1].ends_with(",owner=alice; env=prod"));
        assert!(lines[2].contains(",aws/secretsmanager,false,"));
        assert!(lines[1].contains(",ok,,"), "no findings: {}", lines[1]);
        assert!(
            lines[2].contains(",medium,rotation-disabled not-rotated-recently unused default-kms-key missing-required-tags no-description,"),
            "{}",
            lines[2]
        );
        let json = serde_json::to_value([export_row(&s, none, now)]).unwrap();
        assert_eq!(json[0]["tags"]["owner"], "alice");
        assert_eq!(json[0]["created"], Timestamp::new(1_700_000_000).rfc3339());
        assert_eq!(
            json[0].as_object().unwrap().keys().count(),
            COLUMNS.len(),
            "JSON and CSV carry the same fields"
        );
    }
}

//! The checks, one function per rule, and the cheap formatting of their details.

use super::*;
use chrono::{Datelike as _, Timelike as _};

// ---------------------------------------------------------------------------
// The checks

/// AWSPENDING on a non-current version past the grace: the version and when
/// the rotation started (its creation, else the secret's last change).
pub(super) fn stuck_pending<'a>(
    s: &'a Secret,
    cfg: &HealthConfig,
    now: Timestamp,
) -> Option<(&'a Version, Timestamp)> {
    let v = s.pending_version()?;
    let started = v.created.or(s.last_changed)?;
    (now.secs().saturating_sub(started.secs()) > cfg.pending_grace_secs).then_some((v, started))
}

pub(super) fn rotation_failed(i: &Input<'_>) -> Option<Hit> {
    let s = i.secret;
    if s.deleted.is_some() {
        return None;
    }
    // A failure seen for the pending version is a failure now, however
    // young the version: the grace is for rotations nobody saw fail.
    let seen = s.seen_failure();
    let (v, started) = match (stuck_pending(s, i.cfg, i.now), seen) {
        (Some(stuck), _) => stuck,
        (None, Some(f)) => {
            let v = s.pending_version()?;
            (v, v.created.or(s.last_changed).unwrap_or(f.at))
        }
        (None, None) => return None,
    };
    Some(Hit {
        since: Some(started),
        detail: i.text(|| {
            if let Some(f) = seen {
                // The message names the function; the Lambda is shown beside.
                let why = f
                    .message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default();
                return format!(
                    "{} {}{why}. AWSPENDING is on version {}, not AWSCURRENT.",
                    f.headline(),
                    When(f.at),
                    v.id,
                );
            }
            let by = match s.rotation_lambda_arn.as_deref() {
                Some(l) => format!("The rotation by Lambda {l} did not finish"),
                None => "The rotation did not finish (no rotation Lambda configured)".to_string(),
            };
            let (pre, post) = if v.created.is_some() {
                ("", "")
            } else {
                (
                    "at least ",
                    ", the secret's last change: version dates are not fetched yet",
                )
            };
            format!(
                "{by}: AWSPENDING has been on version {}, not AWSCURRENT, for {} (since {pre}{}{post}).",
                v.id,
                Span(i.now.secs().saturating_sub(started.secs())),
                When(started),
            )
        }),
    })
}

pub(super) fn rotation_overdue(i: &Input<'_>) -> Option<Hit> {
    let s = i.secret;
    if !s.rotation_enabled || s.deleted.is_some() {
        return None;
    }
    let next = s.next_rotation?;
    if s.pending_version().is_some() {
        // Running (within its grace), or failed and reported as such.
        let stuck = stuck_pending(s, i.cfg, i.now).is_some() || s.seen_failure().is_some();
        if !stuck || i.cfg.is_enabled(RuleId::RotationFailed) {
            return None;
        }
    }
    let window = rotation_window_secs(s.rotation_rules.as_deref());
    let deadline = next.secs().saturating_add(window);
    if i.now.secs() <= deadline {
        return None;
    }
    Some(Hit {
        since: Some(Timestamp::new(deadline)),
        detail: i.text(|| {
            let mut d = format!(
                "Rotation was due by {} (NextRotationDate {} plus a {} window) and has not happened: {} overdue.",
                When(Timestamp::new(deadline)),
                When(next),
                Span(window),
                Span(i.now.secs().saturating_sub(deadline)),
            );
            if let Some(l) = s.rotation_lambda_arn.as_deref() {
                d.push_str(" Rotation Lambda: ");
                d.push_str(l);
                d.push('.');
            }
            d
        }),
    })
}

pub(super) fn rotation_disabled(i: &Input<'_>) -> Option<Hit> {
    let s = i.secret;
    if s.rotation_enabled || s.deleted.is_some() {
        return None;
    }
    Some(Hit {
        since: None,
        detail: i.text(|| match s.last_rotated {
            Some(t) => format!(
                "Automatic rotation is off; the secret was last rotated on {}.",
                Day(t)
            ),
            None => "Automatic rotation is off and the secret has never been rotated.".to_string(),
        }),
    })
}

pub(super) fn rotation_disabled_with_rules(i: &Input<'_>) -> Option<Hit> {
    let s = i.secret;
    if s.rotation_enabled || s.deleted.is_some() {
        return None;
    }
    let rules = s
        .rotation_rules
        .as_deref()
        .filter(|r| schedule(r).is_some() || r.automatically_after_days.is_some());
    let lambda = s.rotation_lambda_arn.as_deref();
    if lambda.is_none() && rules.is_none() {
        return None;
    }
    Some(Hit {
        since: None,
        detail: i.text(|| {
            let what = match (lambda, rules) {
                (Some(l), None) => format!("the rotation Lambda {l} is"),
                (None, Some(r)) => format!("the rotation schedule ({}) is", ScheduleText(r)),
                (Some(l), Some(r)) => format!(
                    "the rotation Lambda {l} and schedule ({}) are",
                    ScheduleText(r)
                ),
                (None, None) => unreachable!("checked above"),
            };
            format!("Automatic rotation is off, yet {what} still configured.")
        }),
    })
}

/// "rate(30 days)", "every 30 days", with the window when there is one.
pub(super) struct ScheduleText<'a>(&'a RotationRules);

impl fmt::Display for ScheduleText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        match (schedule(r), r.automatically_after_days) {
            (Some(e), _) => f.write_str(e)?,
            (None, Some(d)) => write!(f, "every {d} days")?,
            (None, None) => f.write_str("no schedule")?,
        }
        match r.duration.as_deref() {
            Some(d) => write!(f, ", window {d}"),
            None => Ok(()),
        }
    }
}

pub(super) fn not_rotated_recently(i: &Input<'_>) -> Option<Hit> {
    let s = i.secret;
    if s.deleted.is_some() {
        return None;
    }
    let base = s.last_rotated.or(s.created)?;
    let days = i.cfg.not_rotated_days;
    let deadline = base.secs().saturating_add(days.saturating_mul(DAY));
    if i.now.secs() <= deadline {
        return None;
    }
    Some(Hit {
        since: Some(Timestamp::new(deadline)),
        detail: i.text(|| {
            let what = if s.last_rotated.is_some() {
                "Last rotated on"
            } else {
                "Never rotated since it was created on"
            };
            format!(
                "{what} {} ({} ago), more than {days} days ago.",
                Day(base),
                Span(i.now.secs().saturating_sub(base.secs()))
            )
        }),
    })
}

pub(super) fn rotation_interval_too_long(i: &Input<'_>) -> Option<Hit> {
    let s = i.secret;
    if !s.rotation_enabled || s.deleted.is_some() {
        return None;
    }
    let r = s.rotation_rules.as_deref()?;
    let every = rotation_interval_secs(r)?;
    let max = i.cfg.max_interval_days;
    if every <= max.saturating_mul(DAY) {
        return None;
    }
    Some(Hit {
        since: None,
        detail: i.text(|| {
            let (n, unit) = if every % DAY == 0 {
                (every / DAY, "days")
            } else {
                (every / HOUR, "hours")
            };
            format!("Rotates every {n} {unit}, longer than the allowed {max} days.")
        }),
    })
}

pub(super) fn unused(i: &Input<'_>) -> Option<Hit> {
    let s = i.secret;
    if s.deleted.is_some() {
        return None;
    }
    let n = i.cfg.unused_days;
    let allowed = n.saturating_mul(DAY);
    // CloudTrail's reads, where they were looked up, are exact where
    // LastAccessedDate is a day (and may lag): a recent read is a use.
    let read = s.reads.as_ref().and_then(|r| r.last_ok());
    if read.is_some_and(|t| i.now.secs().saturating_sub(t.secs()) <= allowed) {
        return None;
    }
    match s.last_accessed {
        Some(t) => {
            // The access happened some time on day t: count it until that day's end.
            let day_end = t
                .secs()
                .saturating_sub(t.secs().rem_euclid(DAY))
                .saturating_add(DAY);
            let since = day_end.saturating_add(allowed);
            (i.now.secs() > since).then(|| Hit {
                since: Some(Timestamp::new(since)),
                detail: i.text(|| format!("Last accessed on {}, more than {n} days ago.", Day(t))),
            })
        }
        None => {
            let created = s.created?;
            let since = created.secs().saturating_add(allowed);
            (i.now.secs() > since).then(|| Hit {
                since: Some(Timestamp::new(since)),
                detail: i.text(|| {
                    format!(
                        "Never accessed since it was created on {} ({} ago).",
                        Day(created),
                        Span(i.now.secs().saturating_sub(created.secs()))
                    )
                }),
            })
        }
    }
}

pub(super) fn default_kms_key(i: &Input<'_>) -> Option<Hit> {
    i.secret.uses_default_kms_key().then(|| Hit {
        since: None,
        detail: i.text(|| {
            "Encrypted with the AWS managed key aws/secretsmanager, not a customer managed key."
                .to_string()
        }),
    })
}

pub(super) fn has_tag(s: &Secret, key: &str) -> bool {
    s.tags
        .iter()
        .any(|t| &*t.key == key && !t.value.trim().is_empty())
}

pub(super) fn missing_required_tags(i: &Input<'_>) -> Option<Hit> {
    let s = i.secret;
    let missing = || {
        i.cfg
            .required_tags
            .iter()
            .filter(|k| !k.is_empty() && !has_tag(s, k))
    };
    missing().next()?;
    Some(Hit {
        since: None,
        detail: i.text(|| {
            let mut d = String::from("Missing required tag");
            if missing().nth(1).is_some() {
                d.push('s');
            }
            for (n, k) in missing().enumerate() {
                d.push_str(if n == 0 { ": " } else { ", " });
                d.push_str(k);
            }
            d.push('.');
            d
        }),
    })
}

pub(super) fn no_description(i: &Input<'_>) -> Option<Hit> {
    let blank = i
        .secret
        .description
        .as_deref()
        .is_none_or(|d| d.trim().is_empty());
    blank.then(|| Hit {
        since: None,
        detail: i.text(|| {
            "No description: nothing says what this secret is for or what uses it.".to_string()
        }),
    })
}

/// The longest recovery window AWS allows.
const MAX_RECOVERY_DAYS: i64 = 30;

pub(super) fn scheduled_for_deletion(i: &Input<'_>) -> Option<Hit> {
    let d = i.secret.deleted?;
    Some(Hit {
        since: Some(d),
        detail: i.text(|| {
            let latest = Timestamp::new(d.secs().saturating_add(MAX_RECOVERY_DAYS * DAY));
            format!(
                "Scheduled for deletion on {}; it can be restored until its recovery window (7 to 30 days) ends, at the latest {}.",
                When(d),
                When(latest)
            )
        }),
    })
}

pub(super) fn replica_failed(i: &Input<'_>) -> Option<Hit> {
    let replicas = i.replicas?;
    let s = i.secret;
    let out_of_sync_for = s
        .last_changed
        .map(|c| i.now.secs().saturating_sub(c.secs()))
        .filter(|age| *age > i.cfg.replica_grace_secs);
    let failed = |r: &ReplicaState| r.status.eq_ignore_ascii_case("Failed");
    let lagging = |r: &ReplicaState| {
        !failed(r) && !r.status.eq_ignore_ascii_case("InSync") && out_of_sync_for.is_some()
    };
    if !replicas.iter().any(|r| failed(r) || lagging(r)) {
        return None;
    }
    Some(Hit {
        since: if replicas.iter().any(lagging) {
            s.last_changed
        } else {
            None
        },
        detail: i.text(|| {
            let mut d = String::new();
            for r in replicas {
                let sep = if d.is_empty() { "The" } else { "; the" };
                if failed(r) {
                    d.push_str(&match r.message.as_deref() {
                        Some(m) => format!(
                            "{sep} replica in {} failed: {}",
                            r.region,
                            m.trim().trim_end_matches('.')
                        ),
                        None => format!("{sep} replica in {} failed", r.region),
                    });
                } else if lagging(r) {
                    d.push_str(&format!(
                        "{sep} replica in {} is {} {} after the secret's last change",
                        r.region,
                        r.status,
                        Span(out_of_sync_for.unwrap_or(0))
                    ));
                }
            }
            d.push('.');
            d
        }),
    })
}

// ---------------------------------------------------------------------------
// Cheap formatting (chrono's formatter and `span`'s String cost more than
// the rules).

/// A duration as [`span`](crate::domain::time::span) words it ("45 s", "3 min", "2 h", "5 days"),
/// written straight into the detail.
pub(super) struct Span(pub(super) i64);

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.max(0);
        match secs {
            0..=59 => write!(f, "{secs} s"),
            60..=3599 => write!(f, "{} min", secs / 60),
            3600..=86_399 => write!(f, "{} h", secs / 3600),
            86_400..=172_799 => f.write_str("1 day"),
            _ => write!(f, "{} days", secs / 86_400),
        }
    }
}

/// `2026-11-18`, as [`Timestamp::date`]: chrono's calendar, written
/// straight into the detail.
pub(super) struct Day(pub(super) Timestamp);

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.to_datetime() {
            Some(d) => write!(f, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day()),
            None => write!(f, "@{}", self.0.secs()),
        }
    }
}

/// `2026-11-18 11:06 UTC`, as [`Timestamp::display`].
pub(super) struct When(pub(super) Timestamp);

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.to_datetime() {
            Some(d) => write!(f, "{} {:02}:{:02} UTC", Day(self.0), d.hour(), d.minute()),
            None => write!(f, "@{}", self.0.secs()),
        }
    }
}

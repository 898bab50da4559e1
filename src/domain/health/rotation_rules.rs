//! Reading rotation rules: windows (`Duration`) and `rate(...)` intervals.

use super::*;

// ---------------------------------------------------------------------------
// Rotation schedule parsing

/// A rotation window: `3h`, `10h`, `1h30m`, `90m` (hours then minutes, each
/// optional but not both). Seconds, or `None` when unreadable or zero.
pub fn parse_duration(s: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut num: Option<i64> = None;
    let (mut seen_h, mut seen_m) = (false, false);
    for b in s.trim().bytes() {
        match b {
            b'0'..=b'9' => {
                let n = num.unwrap_or(0).checked_mul(10)?;
                num = Some(n.checked_add(i64::from(b - b'0'))?);
            }
            b'h' | b'H' if !seen_h && !seen_m => {
                total = total.checked_add(num.take()?.checked_mul(HOUR)?)?;
                seen_h = true;
            }
            b'm' | b'M' if !seen_m => {
                total = total.checked_add(num.take()?.checked_mul(60)?)?;
                seen_m = true;
            }
            _ => return None,
        }
    }
    (num.is_none() && (seen_h || seen_m) && total > 0).then_some(total)
}

/// `rate(N days)` / `rate(N hours)` (singular too) in seconds; `None` for
/// anything else, `cron(...)` included.
pub fn parse_rate(expr: &str) -> Option<i64> {
    let inner = expr.trim().strip_prefix("rate(")?.strip_suffix(')')?;
    let mut parts = inner.split_whitespace();
    let n: i64 = parts.next()?.parse().ok()?;
    let unit = parts.next()?;
    if parts.next().is_some() || n <= 0 {
        return None;
    }
    let per = if unit.eq_ignore_ascii_case("day") || unit.eq_ignore_ascii_case("days") {
        DAY
    } else if unit.eq_ignore_ascii_case("hour") || unit.eq_ignore_ascii_case("hours") {
        HOUR
    } else {
        return None;
    };
    n.checked_mul(per)
}

pub(super) fn schedule(r: &RotationRules) -> Option<&str> {
    r.schedule_expression
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
}

/// Seconds between rotations: a `rate()` schedule, else AutomaticallyAfterDays.
/// `None` for a `cron()` (or unreadable) schedule, or without either.
pub fn rotation_interval_secs(r: &RotationRules) -> Option<i64> {
    match schedule(r) {
        Some(expr) => parse_rate(expr),
        None => r
            .automatically_after_days
            .filter(|d| *d > 0)
            .map(|d| d.saturating_mul(DAY)),
    }
}

/// How long after NextRotationDate a rotation may still happen: Duration, or
/// one hour for an hourly `rate()`, or 24 hours (see the module notes).
pub fn rotation_window_secs(r: Option<&RotationRules>) -> i64 {
    let Some(r) = r else { return DAY };
    if let Some(d) = r.duration.as_deref().and_then(parse_duration) {
        return d;
    }
    match schedule(r).and_then(parse_rate) {
        Some(every) if every % DAY != 0 => HOUR,
        _ => DAY,
    }
}

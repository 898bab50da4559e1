//! Timestamps as seconds since the Unix epoch, and their human forms.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Seconds since 1970-01-01T00:00:00Z. Sub-second precision is not needed
/// for anything the dashboard shows, and an `i64` keeps the snapshot small.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const fn secs(self) -> i64 {
        self.0
    }

    pub fn to_datetime(self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp(self.0, 0)
    }

    /// `2026-11-23 07:13 UTC`
    pub fn display(self) -> String {
        self.to_datetime()
            .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| format!("@{}", self.0))
    }

    /// `2026-11-23`
    pub fn date(self) -> String {
        self.to_datetime()
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| format!("@{}", self.0))
    }

    /// RFC 3339, for machine-readable attributes (`<time datetime=…>`, exports).
    pub fn rfc3339(self) -> String {
        self.to_datetime()
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    }

    /// "3 days ago", "in 2 hours", relative to `now`.
    pub fn relative(self, now: Timestamp) -> String {
        let delta = now.0 - self.0;
        if delta >= 0 {
            format!("{} ago", span(delta))
        } else {
            format!("in {}", span(-delta))
        }
    }
}

/// A duration in seconds as a short English phrase: "45 s", "3 min", "2 h", "5 days".
pub fn span(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3599 => format!("{} min", secs / 60),
        3600..=86_399 => format!("{} h", secs / 3600),
        _ => {
            let days = secs / 86_400;
            if days == 1 {
                "1 day".to_string()
            } else {
                format!("{days} days")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_absolute_and_relative() {
        let t = Timestamp(1_795_000_000);
        assert_eq!(t.display(), "2026-11-18 11:06 UTC");
        assert_eq!(t.date(), "2026-11-18");
        assert_eq!(t.rfc3339(), "2026-11-18T11:06:40Z");
        assert_eq!(t.relative(Timestamp(t.0 + 3 * 86_400)), "3 days ago");
        assert_eq!(t.relative(Timestamp(t.0 - 7200)), "in 2 h");
        assert_eq!(t.relative(Timestamp(t.0 + 86_400)), "1 day ago");
        assert_eq!(t.relative(t), "0 s ago");
    }

    #[test]
    fn span_boundaries() {
        assert_eq!(span(-5), "0 s");
        assert_eq!(span(59), "59 s");
        assert_eq!(span(60), "1 min");
        assert_eq!(span(3599), "59 min");
        assert_eq!(span(3600), "1 h");
        assert_eq!(span(86_399), "23 h");
        assert_eq!(span(86_400), "1 day");
        assert_eq!(span(2 * 86_400), "2 days");
    }
}

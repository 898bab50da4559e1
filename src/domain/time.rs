//! Timestamps as seconds since the Unix epoch, and their human forms.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::num::NonZeroI64;

/// Seconds since 1970-01-01T00:00:00Z. Sub-second precision is not needed
/// for anything the dashboard shows.
///
/// Stored as a non-zero number (the seconds with the sign bit flipped) so
/// that `Option<Timestamp>` takes 8 bytes instead of 16: a secret carries
/// seven optional dates and each version two, and at 100,000 secrets the
/// difference is about 10 MB. `i64::MIN` seconds, the one value that cannot
/// be stored, reads back as 0 (the epoch); no AWS date is near either.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timestamp(NonZeroI64);

impl Timestamp {
    pub const fn new(secs: i64) -> Timestamp {
        match NonZeroI64::new(secs ^ i64::MIN) {
            Some(v) => Timestamp(v),
            None => Timestamp(NonZeroI64::MIN),
        }
    }

    pub const fn secs(self) -> i64 {
        self.0.get() ^ i64::MIN
    }

    pub fn to_datetime(self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp(self.secs(), 0)
    }

    /// `2026-11-23 07:13 UTC`
    pub fn display(self) -> String {
        self.to_datetime()
            .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| format!("@{}", self.secs()))
    }

    /// `2026-11-23`
    pub fn date(self) -> String {
        self.to_datetime()
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| format!("@{}", self.secs()))
    }

    /// RFC 3339, for machine-readable attributes (`<time datetime=…>`, exports).
    pub fn rfc3339(self) -> String {
        self.to_datetime()
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    }

    /// "3 days ago", "in 2 hours", relative to `now`.
    pub fn relative(self, now: Timestamp) -> String {
        let delta = now.secs() - self.secs();
        if delta >= 0 {
            format!("{} ago", span(delta))
        } else {
            format!("in {}", span(-delta))
        }
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.secs().cmp(&other.secs())
    }
}

impl std::fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Timestamp({})", self.secs())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.secs())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        i64::deserialize(d).map(Timestamp::new)
    }
}

/// How long to wait before trying again, rounded up (never "0 s"): "42 s",
/// then whole minutes from two minutes on ("10 min").
pub fn wait_text(secs: u64) -> String {
    let secs = secs.max(1);
    if secs < 120 {
        format!("{secs} s")
    } else {
        format!("{} min", secs.div_ceil(60))
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
    #[test]
    fn optional_timestamps_take_eight_bytes_and_keep_order() {
        assert_eq!(std::mem::size_of::<Option<Timestamp>>(), 8);
        for secs in [0, 1, -1, 1_795_000_000, i64::MAX, i64::MIN + 1, -86_400] {
            assert_eq!(Timestamp::new(secs).secs(), secs);
        }
        assert_eq!(Timestamp::new(i64::MIN).secs(), 0);
        let mut v: Vec<Timestamp> = [5, -3, 0, i64::MAX, -7, 2]
            .into_iter()
            .map(Timestamp::new)
            .collect();
        v.sort();
        let secs: Vec<i64> = v.iter().map(|t| t.secs()).collect();
        assert_eq!(secs, [-7, -3, 0, 2, 5, i64::MAX]);
        let json = serde_json::to_string(&Some(Timestamp::new(-5))).unwrap();
        assert_eq!(json, "-5");
        assert_eq!(
            serde_json::from_str::<Timestamp>("1795000000").unwrap(),
            Timestamp::new(1_795_000_000)
        );
    }

    use super::*;

    #[test]
    fn formats_absolute_and_relative() {
        let t = Timestamp::new(1_795_000_000);
        assert_eq!(t.display(), "2026-11-18 11:06 UTC");
        assert_eq!(t.date(), "2026-11-18");
        assert_eq!(t.rfc3339(), "2026-11-18T11:06:40Z");
        assert_eq!(
            t.relative(Timestamp::new(t.secs() + 3 * 86_400)),
            "3 days ago"
        );
        assert_eq!(t.relative(Timestamp::new(t.secs() - 7200)), "in 2 h");
        assert_eq!(t.relative(Timestamp::new(t.secs() + 86_400)), "1 day ago");
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

//! The one clock. Everything below the server takes `now` as an argument
//! (domain rules are pure); the server reads the time here, and only here.

use crate::domain::Timestamp;

/// Seconds since the Unix epoch, now.
pub fn now() -> Timestamp {
    Timestamp::new(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
    )
}

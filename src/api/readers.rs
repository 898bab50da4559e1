//! Who reads a secret: its readers from CloudTrail's GetSecretValue events
//! (principal, account, first and last read, counts, failures, the version
//! asked for), for its page and for the dialogs that change what readers
//! get (roll back, cancel, retry, restore, approve access).

pub use crate::domain::reads::ReadProgress;
use crate::domain::reads::{Reader, Readers};
use crate::domain::Timestamp;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A secret's readers as far as they are known.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReadersView {
    /// What has been read; while `loading`, what the lookup found so far
    /// (or the previous lookup's answer on a refresh). `None` before any.
    pub readers: Option<Readers>,
    /// `Some` while a lookup is paging in: ask again to follow it.
    pub loading: Option<ReadProgress>,
    /// Why readers cannot be read (CloudTrail switched off, or the lookup
    /// failed: the sentence to act on). Readers already known stay shown.
    pub unavailable: Option<String>,
    /// The configured look-back, days.
    pub lookback_days: u32,
    /// When this answer was made.
    pub at: Timestamp,
}

/// What a dialog wants to know about the readers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BriefFocus {
    /// Who read it in the last 24 hours (roll back, cancel, retry).
    LastDay,
    /// Who failed to read it since its deletion was scheduled (restore).
    SinceDeletion,
    /// Whether this principal (a role or user ARN) already reads it, and
    /// who else does (approving an access request).
    Principal(String),
}

/// The readers a dialog shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReadersBrief {
    /// The readers that matter for the focus: read in the last day, failed
    /// since the deletion (with those failures only), or everyone else
    /// for a principal.
    pub readers: Vec<Reader>,
    /// For [`BriefFocus::Principal`]: its own reads, when it has any.
    pub principal: Option<Reader>,
    /// From when the brief counts (a day ago, the deletion date, the
    /// window's start).
    pub since: Option<Timestamp>,
    /// The window the readers were read over.
    pub window_start: Option<Timestamp>,
    /// Where a long history was cut short.
    pub cut_short_at: Option<Timestamp>,
    /// `Some` while the lookup is paging in: ask again.
    pub loading: Option<ReadProgress>,
    pub unavailable: Option<String>,
    pub at: Timestamp,
}

/// The readers of secret `id` (a name or ARN) over the configured
/// look-back; `refresh` reads CloudTrail again. A lookup of a long history
/// answers at once with its progress: ask again until `loading` is `None`.
/// Out of scope and missing answer alike.
#[server(endpoint = "get_readers")]
pub async fn get_readers(id: String, refresh: bool) -> Result<ReadersView, ServerFnError> {
    let (state, who) = super::signed_in("get_readers").await?;
    match super::build::readers::view(&state, &who, &id, refresh).await {
        Ok(v) => Ok(v),
        Err(e) => Err(crate::server::auth::denied(&state, &who, &id, e)
            .await
            .into()),
    }
}

/// The readers a dialog shows for secret `id` and `focus`.
#[server(endpoint = "readers_brief")]
pub async fn get_readers_brief(
    id: String,
    focus: BriefFocus,
) -> Result<ReadersBrief, ServerFnError> {
    let (state, who) = super::signed_in("readers_brief").await?;
    match super::build::readers::brief(&state, &who, &id, focus).await {
        Ok(b) => Ok(b),
        Err(e) => Err(crate::server::auth::denied(&state, &who, &id, e)
            .await
            .into()),
    }
}

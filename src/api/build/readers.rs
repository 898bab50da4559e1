//! The readers of a secret for its page and for the dialogs: what the
//! server's [`crate::server::readers`] knows, shaped for the wire.

use crate::api::{BriefFocus, ReadersBrief, ReadersView};
use crate::domain::Timestamp;
use crate::server::auth::Principal;
use crate::server::error::AppError;
use crate::server::readers::{current, unavailable};
use crate::server::AppState;

/// The readers view of secret `id` for `who` (see [`crate::api::get_readers`]).
pub async fn view(
    state: &AppState,
    who: &Principal,
    id: &str,
    refresh: bool,
) -> Result<ReadersView, AppError> {
    let s = crate::server::detail::reachable(state, who, id)?;
    let at = crate::server::clock::now();
    let lookback_days = state.config.cloudtrail.lookback_days.clamp(1, 90);
    if let Some(why) = unavailable(state, &s) {
        return Ok(ReadersView {
            readers: None,
            loading: None,
            unavailable: Some(why),
            lookback_days,
            at,
        });
    }
    let (readers, loading, error) = current(state, who, &s, refresh, "get_readers")?;
    Ok(ReadersView {
        readers: readers.map(|r| (*r).clone()),
        loading,
        unavailable: error,
        lookback_days,
        at,
    })
}

/// The readers a dialog shows (see [`crate::api::get_readers_brief`]).
pub async fn brief(
    state: &AppState,
    who: &Principal,
    id: &str,
    focus: BriefFocus,
) -> Result<ReadersBrief, AppError> {
    let s = crate::server::detail::reachable(state, who, id)?;
    let at = crate::server::clock::now();
    let mut out = ReadersBrief {
        readers: Vec::new(),
        principal: None,
        since: None,
        window_start: None,
        cut_short_at: None,
        loading: None,
        unavailable: unavailable(state, &s),
        at,
    };
    if let BriefFocus::Principal(p) = &focus {
        if p.len() > 2048 {
            return Err(crate::server::error::AppError::new(
                crate::server::error::ErrorKind::InvalidInput,
                "The principal is longer than an IAM ARN can be (2048 characters).",
                "readers brief: principal too long",
            ));
        }
    }
    if out.unavailable.is_some() {
        return Ok(out);
    }
    let (readers, loading, error) = current(state, who, &s, false, "get_readers_brief")?;
    out.loading = loading;
    out.unavailable = error;
    let Some(r) = readers else {
        return Ok(out);
    };
    out.window_start = Some(r.since);
    out.cut_short_at = r.cut_short_at;
    match focus {
        BriefFocus::LastDay => {
            let since = Timestamp::new(at.secs() - 86_400);
            out.since = Some(since);
            out.readers = r.active_since(since).cloned().collect();
        }
        BriefFocus::SinceDeletion => {
            let Some(d) = s.deleted else { return Ok(out) };
            out.since = Some(d);
            out.readers = r
                .failed_since(d)
                .into_iter()
                .map(|(reader, failures)| {
                    let mut reader = reader.clone();
                    reader.failures = failures.into_iter().cloned().collect();
                    reader
                })
                .collect();
        }
        BriefFocus::Principal(p) => {
            out.since = Some(r.since);
            out.principal = r.find(p.trim()).cloned();
            let own = out.principal.as_ref().map(|x| x.principal.arn.clone());
            out.readers = r
                .readers
                .iter()
                .filter(|x| Some(&x.principal.arn) != own.as_ref())
                .cloned()
                .collect();
        }
    }
    Ok(out)
}

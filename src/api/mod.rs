//! Server functions, one file per resource. Each starts with its guard (from
//! the auth issue on) and returns a DTO; bodies run on the server only.

pub mod actions;
pub mod audit;
#[cfg(feature = "ssr")]
pub mod build;
pub mod diagnosis;
pub mod health;
pub mod inventory;
pub mod readers;
pub mod requests;
pub mod secret;
pub mod status;

pub use actions::*;
pub use audit::*;
pub use diagnosis::*;
pub use health::*;
pub use inventory::*;
pub use readers::*;
pub use requests::*;
pub use secret::*;
pub use status::*;

#[cfg(feature = "ssr")]
use leptos::prelude::ServerFnError;

/// A server function's error: the person's sentence (with the request id
/// for internal and AWS failures), the HTTP status set on the response, and
/// the detail logged. `?` on an `AppError` goes through here.
#[cfg(feature = "ssr")]
impl From<crate::server::error::AppError> for ServerFnError {
    fn from(e: crate::server::error::AppError) -> Self {
        e.to_server_fn_error()
    }
}

#[cfg(feature = "ssr")]
pub(crate) fn state() -> Result<crate::server::AppState, ServerFnError> {
    leptos::prelude::use_context::<crate::server::AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        ServerFnError::new("The server is not ready; try again in a moment.")
    })
}

/// [`signed_in`], for a server function that reads AWS on the caller's
/// behalf: it also takes one call from the caller's budget, and answers
/// 429 with when to retry when it is spent.
#[cfg(feature = "ssr")]
pub(crate) async fn signed_in_reading_aws(
    what: &str,
) -> Result<(crate::server::AppState, crate::server::auth::Principal), ServerFnError> {
    let (state, who) = signed_in(what).await?;
    crate::server::auth::take_aws_read(&state, &who, what, crate::server::auth::ReadBudget::Asked)?;
    Ok((state, who))
}

/// The guard every server function starts with: the state and the signed-in
/// user, or 401 (audited as a denial naming `what`).
#[cfg(feature = "ssr")]
pub(crate) async fn signed_in(
    what: &str,
) -> Result<(crate::server::AppState, crate::server::auth::Principal), ServerFnError> {
    let state = state()?;
    let who = crate::server::auth::guard(&state, what).await?;
    Ok((state, who))
}

//! Why a secret's rotation fails: its diagnosis, read from the metadata of
//! its rotation function, network, KMS key and role (never a value).

use crate::domain::diagnosis::Diagnosis;
use crate::domain::Timestamp;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiagnosisView {
    pub diagnosis: Diagnosis,
    pub at: Timestamp,
    /// False when `[diagnosis] enabled = false`: no checks were made.
    pub enabled: bool,
}

/// The diagnosis of secret `id` (a name or ARN); the same answer for a
/// secret out of the user's scopes as for one that does not exist.
#[server(endpoint = "get_diagnosis")]
pub async fn get_diagnosis(id: String) -> Result<DiagnosisView, ServerFnError> {
    let (state, who) = super::signed_in("get_diagnosis").await?;
    let at = crate::server::clock::now();
    match super::build::diagnosis::secret_diagnosis(&state, &who, &id, at).await {
        Ok(d) => Ok(DiagnosisView {
            diagnosis: (*d).clone(),
            at,
            enabled: state.diagnoser.enabled(),
        }),
        Err(e) => Err(crate::server::auth::denied(&state, &who, &id, e)
            .await
            .into()),
    }
}

//! What tests of a program that talks to this endpoint need (the `testing`
//! feature; always compiled in this crate's own tests).

pub mod moto;

use crate::{LocalEndpoint, RotationOutcome, RotationRecord};
use std::time::Duration;

/// Wait until the newest rotation of `name` is no longer in progress.
pub async fn finished_rotation(ep: &LocalEndpoint, name: &str) -> RotationRecord {
    for _ in 0..1000 {
        if let Some(r) = ep.rotation_history(name).and_then(|h| h.last().cloned()) {
            if r.outcome != RotationOutcome::InProgress {
                return r;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the rotation of {name} never finished");
}

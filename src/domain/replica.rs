//! A replica of a secret in another region, as DescribeSecret reports it.

use crate::domain::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Replica {
    pub region: String,
    pub kms_key: Option<String>,
    pub status: String,
    pub message: Option<String>,
    pub last_accessed: Option<Timestamp>,
}

impl Replica {
    /// What the replica rule reads.
    pub fn state(&self) -> crate::domain::health::ReplicaState {
        crate::domain::health::ReplicaState {
            region: self.region.clone(),
            status: self.status.clone(),
            message: self.message.clone(),
            last_accessed: self.last_accessed,
        }
    }
}
